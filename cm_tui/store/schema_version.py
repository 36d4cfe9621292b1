"""Schema revisions this cm-tui knows, oldest first; the last is the head.

Kept as plain constants so the start path can tell "up to date" without importing
Alembic. A test checks that these match the migration scripts.
"""

KNOWN_REVISIONS: tuple[str, ...] = (
    "0001_baseline",
    "0002_caseload_indexes",
    "0003_followup_indexes",
    "0004_pg_name_search",
    "0005_change_feed",
    "0006_care_plans",
    "0007_team_counts",
    "0008_pg_search_fold",
)
SCHEMA_HEAD = KNOWN_REVISIONS[-1]


def outside_models(name: str | None) -> bool:
    """Objects the migrations create by hand (name search), unknown to the models."""
    return bool(name) and (
        str(name).startswith("client_fts") or str(name).startswith("ix_clients_lower_")
    )


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic autogenerate filter: leave the hand-made name-search objects alone."""
    return not (reflected and outside_models(name))
