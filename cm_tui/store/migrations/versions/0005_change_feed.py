"""change feed for live refresh: who else changed follow-ups, clients, contacts, needs

Revision ID: 0005_change_feed
Revises: 0004_pg_name_search
Create Date: 2026-11-25 15:30:00

Every writer (the app, the CLI, an import) is covered, because the database itself
keeps the feed (``cm_tui.store.changes`` reads it):

- SQLite: an insert shows as a higher ``max(id)`` (a rowid look-up), so bulk inserts
  (demo data, imports) pay nothing; UPDATE and DELETE triggers bump a counter row in
  ``meta`` (key ``change_seq.<table>``). Per-row triggers on inserts were measured at
  about 4 µs a row (+4 s on a million demo contacts), hence max(id) for those.
- PostgreSQL: a statement-level trigger does ``pg_notify('cm_tui_changes',
  '<schema>:<table>')``, delivered when the transaction commits. No counter row: a
  row every writer updates would serialise all writers of these tables and could
  deadlock two transactions that touch them in different orders.
"""

from __future__ import annotations

from alembic import op

revision = "0005_change_feed"
down_revision = "0004_pg_name_search"
branch_labels = None
depends_on = None

TOPICS = ("follow_ups", "clients", "contacts", "needs")
PG_FUNCTION = "cm_tui_notify_change"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('cm_tui_changes', TG_TABLE_SCHEMA || ':' || TG_TABLE_NAME);
                RETURN NULL;
            END
            $$
            """
        )
        for table in TOPICS:
            op.execute(
                f"CREATE TRIGGER change_feed_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        return
    for table in TOPICS:
        key = f"change_seq.{table}"
        op.execute(f"INSERT OR IGNORE INTO meta (key, value) VALUES ('{key}', '0')")
        bump = (
            f"UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = '{key}';"
        )
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER change_feed_{table}_{what.lower()} AFTER {what} ON {table} "
                f"BEGIN {bump} END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TOPICS:
            op.execute(f"DROP TRIGGER IF EXISTS change_feed_{table} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
        return
    for table in TOPICS:
        for what in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS change_feed_{table}_{what}")
        op.execute(f"DELETE FROM meta WHERE key = 'change_seq.{table}'")
