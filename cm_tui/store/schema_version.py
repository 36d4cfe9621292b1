"""Schema revisions this cm-tui knows, oldest first; the last is the head.

Kept as plain constants so the start path can tell "up to date" without importing
Alembic. A test checks that these match the migration scripts.
"""

KNOWN_REVISIONS: tuple[str, ...] = ("0001_baseline",)
SCHEMA_HEAD = KNOWN_REVISIONS[-1]
