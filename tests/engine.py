"""Which database engine the tests run the app on, and the URL of "the database at PATH".

`make test` runs the suite twice when ``CM_TUI_TEST_DATABASE_URL`` is set:

1. ``CM_TUI_TEST_ENGINE`` unset (SQLite): every test; tests on the ``any_store`` or
   ``pg_url`` fixtures also run on PostgreSQL.
2. ``CM_TUI_TEST_ENGINE=postgresql``: every other test again, with "the database
   at PATH" (``db_url``) being a PostgreSQL schema of its own instead of a file.
   Tests of SQLite itself (file modes, WAL, FTS5 plans, the backup API, a bad
   ``--db`` file) are marked ``sqlite_only`` and are left out of this pass; tests
   on ``any_store``/``pg_url`` are too, as the first pass ran them on both.

So UI, CLI and service tests that name a database by its path run on both engines
without knowing which.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

ENGINE = os.environ.get("CM_TUI_TEST_ENGINE", "sqlite").lower()
PG_URL = os.environ.get("CM_TUI_TEST_DATABASE_URL")

if ENGINE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"CM_TUI_TEST_ENGINE must be sqlite or postgresql, not {ENGINE!r}")
if ENGINE == "postgresql" and not PG_URL:
    raise RuntimeError("CM_TUI_TEST_ENGINE=postgresql needs CM_TUI_TEST_DATABASE_URL")

ON_POSTGRESQL = ENGINE == "postgresql"

_admin: Engine | None = None
_schemas: set[str] = set()


def pg_schema_url(base: str, schema: str) -> str:
    """``base`` with its search_path set to ``schema``."""
    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def admin_engine() -> Engine:
    global _admin
    assert PG_URL, "CM_TUI_TEST_DATABASE_URL is not set"
    if _admin is None:
        _admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    return _admin


def create_schema(schema: str) -> str:
    with admin_engine().connect() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    _schemas.add(schema)
    assert PG_URL
    return pg_schema_url(PG_URL, schema)


def drop_schema(schema: str) -> None:
    with admin_engine().connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    _schemas.discard(schema)


def db_url(path: Path | str) -> str:
    """The URL of the test database "at" ``path`` on the engine under test.

    On SQLite, the file itself. On PostgreSQL, a schema named after the path, so
    every call with the same path (the app, then the test's own checks) reaches the
    same database, and two paths never share one. Schemas are dropped at the end
    of the session (``drop_created_schemas``).
    """
    if not ON_POSTGRESQL:
        return f"sqlite:///{path}"
    digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:16]
    schema = f"p_{digest}"
    if schema not in _schemas:
        # First use in this session: a schema of that name left by a run that was
        # killed before its clean-up (pytest numbers its temporary directories
        # afresh on a new machine) would hand this test another test's data.
        drop_schema(schema)
    return create_schema(schema)


def drop_created_schemas() -> None:
    for schema in list(_schemas):
        drop_schema(schema)
    if _admin is not None:
        _admin.dispose()


def db_args(path: Path | str) -> list[str]:
    """The `cm-tui` options that name the test database "at" ``path`` (see db_url)."""
    if not ON_POSTGRESQL:
        return ["--db", str(path)]
    return ["--database-url", db_url(path)]
