"""PostgreSQL name search on a pg_trgm index

Revision ID: 0004_pg_name_search
Revises: 0003_followup_indexes
Create Date: 2026-11-25 15:30:00

Search-as-you-type on PostgreSQL matches, for every typed word, a regex
``\\m<word>`` (a word starting with it) against one lower-cased text made of
the client's names, preferred name, MRN and phone. A GIN trigram index
(pg_trgm's gin_trgm_ops, which serves ``~``) on exactly that expression lets
the planner find the few matching clients without reading the table.
cm_tui.store.queries.pg_search_text builds the same expression; the planner
only uses the index when the two match, so change both together.

The baseline's btree indexes on lower(family_name) / lower(given_name)
(text_pattern_ops) served no query (a regex cannot use them; the caseload
sorts on the plain columns) and are dropped.

pg_trgm is a trusted extension (PostgreSQL 13+): a role with CREATE on the
database can install it. Where that is refused, a superuser runs
``CREATE EXTENSION pg_trgm;`` in the database once, then ``cm-tui db upgrade``.

SQLite keeps its FTS5 table (0001); this revision does nothing there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_pg_name_search'
down_revision = '0003_followup_indexes'
branch_labels = None
depends_on = None

INDEX = "ix_clients_lower_search_trgm"  # "ix_clients_lower_": outside the models
# The same expression as cm_tui.store.queries.pg_search_text: change both together.
SEARCH_TEXT = (
    "lower(family_name || ' ' || given_name || ' ' || coalesce(preferred_name, '') "
    "|| ' ' || coalesce(mrn, '') || ' ' || coalesce(phone, ''))"
)
FIND = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"


def _trgm_schema() -> str:
    """Install pg_trgm if it is missing; the schema holding its operator classes.

    Installed in ``public`` when this role may create there (else in the current
    schema), so that it outlives any one schema: an index in one schema that
    depends on an extension in another would go when that schema is dropped.
    """
    bind = op.get_bind()
    found = bind.execute(sa.text(FIND)).scalar()
    if found is not None:
        return str(found)
    public = bind.execute(
        sa.text(
            "SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace "
            "WHERE nspname = 'public'"
        )
    ).scalar()
    where = " SCHEMA public" if public else ""
    try:
        with bind.begin_nested():
            bind.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}"))
    except sa.exc.DBAPIError as exc:
        database = bind.execute(sa.text("SELECT current_database()")).scalar()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise RuntimeError(
            f"name search needs the PostgreSQL extension pg_trgm, and this database role "
            f"may not install it ({reason}). Ask an administrator to run "
            f'CREATE EXTENSION pg_trgm; in database "{database}" '
            f"(psql -d {database} -c 'CREATE EXTENSION pg_trgm'), "
            "then run `cm-tui db upgrade` again"
        ) from exc
    return str(bind.execute(sa.text(FIND)).scalar())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Qualified: the extension may live in a schema that is not on the search path.
    opclass = f"{_trgm_schema()}.gin_trgm_ops"
    op.execute(f"CREATE INDEX {INDEX} ON clients USING gin (({SEARCH_TEXT}) {opclass})")
    op.execute("DROP INDEX IF EXISTS ix_clients_lower_family")
    op.execute("DROP INDEX IF EXISTS ix_clients_lower_given")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute(
        "CREATE INDEX ix_clients_lower_family ON clients (lower(family_name) text_pattern_ops)"
    )
    op.execute("CREATE INDEX ix_clients_lower_given ON clients (lower(given_name) text_pattern_ops)")
    # The extension stays: other databases' objects or an administrator may rely on it.
