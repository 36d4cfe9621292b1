"""team view figures kept by the database: contacts per person and hour, counts per person

Revision ID: 0007_team_counts
Revises: 0006_care_plans
Create Date: 2026-12-06 19:00:00

The team view (DESIGN §5.6) aggregated its figures on open: every contact of the
team in the last four weeks, every open need and active client of the organisation,
every open follow-up: over 100 ms on a 100,000-client database (issue 8). The
database now keeps them as they change, for every writer (the app, the CLI, imports,
demo data), with row triggers on both engines:

* ``contact_hours`` (user_id, hour_at): the contacts each person logged in each UTC
  hour, those with the client or caregiver, those reached, and their minutes. Hours,
  not days: a "day" is local, and the zone is the reader's; a local day or week of a
  whole-hour zone is a run of whole hours (``contact_stats`` counts the parts of
  hours at either end of a range, the current hour's or a half-hour zone's, from the
  contacts themselves). About ten contacts fold into one row on the demo data.
* ``person_counts`` (user_id): per person, the open needs (``OPEN_NEED_STATUSES``) of
  their active clients as care manager or as CHW (once when both), their active
  clients as care manager and as CHW, and their open follow-ups; kept as needs open,
  close and move, as clients arrive, change hands or status, and as follow-ups are
  assigned, completed or reopened.

Both start from the rows already there. The statuses and parties are written into
the triggers as the vocabulary was at this revision: a change to
``vocab.OPEN_NEED_STATUSES`` or ``REACHED_PARTIES`` needs a migration that rewrites
them (tests/test_team_counts.py holds the triggers to the vocabulary).

A person's counts row is written by every change to their clients, needs and
follow-ups. SQLite has one writer at a time anyway. On PostgreSQL a writer waits
for another open transaction that changed the same person's counts; each statement
writes its rows in user-id order, so single-row changes cannot deadlock (a
transaction changing many rows in another order than a concurrent one can, and
PostgreSQL then cancels one of them, which the app reports as a failed save).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_team_counts"
down_revision = "0006_care_plans"
branch_labels = None
depends_on = None

OPEN = "('identified', 'referred', 'in_progress')"  # vocab.OPEN_NEED_STATUSES
WITH_PERSON = "('client', 'caregiver')"  # followup_queries.REACHED_PARTIES


def _hour(row: str, pg: bool) -> str:
    if pg:
        return f"date_trunc('hour', {row}.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    # UTCDateTime text, 'YYYY-MM-DD HH:MM:SS.ffffff', cut to the hour.
    return f"substr({row}.occurred_at, 1, 13) || ':00:00.000000'"


def _add_contact(row: str, sign: int, pg: bool) -> str:
    """Count (sign +1) or uncount (-1) the contact ``row`` (NEW or OLD) in its hour."""
    s = "" if sign > 0 else "-"
    with_person = f"{row}.party IN {WITH_PERSON}"
    reached = f"({with_person} AND {row}.outcome = 'reached')"
    as_int = (lambda x: f"CAST({x} AS INTEGER)") if pg else (lambda x: f"({x})")
    return (
        "INSERT INTO contact_hours (user_id, hour_at, contacts, with_person, reached, minutes) "
        f"SELECT {row}.user_id, {_hour(row, pg)}, {s}1, {s}{as_int(with_person)}, "
        f"{s}{as_int(reached)}, {s}coalesce({row}.duration_min, 0) "
        f"WHERE {row}.user_id IS NOT NULL "
        "ON CONFLICT (user_id, hour_at) DO UPDATE SET "
        "contacts = contact_hours.contacts + excluded.contacts, "
        "with_person = contact_hours.with_person + excluded.with_person, "
        "reached = contact_hours.reached + excluded.reached, "
        "minutes = contact_hours.minutes + excluded.minutes;"
    )


COUNTS = ("open_needs", "cm_clients", "chw_clients", "open_followups")


def _delta(user: str, where: str, **n: str) -> str:
    """One row of changes to ``user``'s counts (the others 0), when ``where`` holds."""
    figures = ", ".join(f"{n.get(c, '0')} AS {c}" for c in COUNTS)
    return f"SELECT {user} AS user_id, {figures} {where}"


def _apply(*deltas: str) -> str:
    """Add the rows of changes up per person and to their counts, in user-id order."""
    sums = ", ".join(f"sum(d.{c})" for c in COUNTS)
    changed = " OR ".join(f"sum(d.{c}) <> 0" for c in COUNTS)
    add = ", ".join(f"{c} = person_counts.{c} + excluded.{c}" for c in COUNTS)
    return (
        f"INSERT INTO person_counts (user_id, {', '.join(COUNTS)}) "
        f"SELECT d.user_id, {sums} FROM ({' UNION ALL '.join(deltas)}) AS d "
        f"WHERE d.user_id IS NOT NULL GROUP BY d.user_id HAVING {changed} "
        "ORDER BY d.user_id "
        f"ON CONFLICT (user_id) DO UPDATE SET {add};"
    )


def _chw(row: str) -> str:
    """The CHW, unless they are the care manager too (their needs count once)."""
    return f"CASE WHEN {row}.chw_id = {row}.care_manager_id THEN NULL ELSE {row}.chw_id END"


def _need(row: str, sign: int) -> list[str]:
    """The need ``row`` counted (sign) for its active client's care manager and CHW."""
    where = (
        f"FROM clients c WHERE c.id = {row}.client_id AND c.status = 'active' "
        f"AND {row}.status IN {OPEN}"
    )
    return [
        _delta("c.care_manager_id", where, open_needs=str(sign)),
        _delta(_chw("c"), where, open_needs=str(sign)),
    ]


def _client(row: str, sign: int) -> list[str]:
    """The client ``row``, if active, counted (sign) in its care manager's and CHW's
    caseloads, with its open needs."""
    k = f"(SELECT count(*) FROM needs WHERE needs.client_id = {row}.id AND needs.status IN {OPEN})"
    where = f"WHERE {row}.status = 'active'"
    return [
        _delta(f"{row}.care_manager_id", where, open_needs=f"{sign} * {k}", cm_clients=str(sign)),
        _delta(_chw(row), where, open_needs=f"{sign} * {k}"),
        _delta(f"{row}.chw_id", where, chw_clients=str(sign)),
    ]


def _followup(row: str, sign: int) -> list[str]:
    """The follow-up ``row``, if open, counted (sign) for its assignee."""
    return [_delta(f"{row}.assignee_id", f"WHERE {row}.status = 'open'", open_followups=str(sign))]


CONTACT_COLUMNS = "user_id, occurred_at, party, outcome, duration_min"
CLIENT_COLUMNS = "care_manager_id, chw_id, status"
FOLLOWUP_COLUMNS = "assignee_id, status"
# (table, the columns an update is counted on, the row's contribution)
COUNTED = (
    ("needs", "client_id, status", _need),
    ("clients", CLIENT_COLUMNS, _client),
    ("follow_ups", FOLLOWUP_COLUMNS, _followup),
)
PG_FUNCTIONS = {"contacts": "cm_tui_contact_hours"} | {
    table: f"cm_tui_person_counts_{table}" for table, _, _ in COUNTED
}


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "contact_hours",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hour_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("with_person", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "hour_at"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "person_counts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in COUNTS),
        sa.PrimaryKeyConstraint("user_id"),
        sqlite_with_rowid=False,
    )
    # From the rows already there.
    op.execute(
        "INSERT INTO contact_hours (user_id, hour_at, contacts, with_person, reached, minutes) "
        f"SELECT user_id, {_hour('contacts', pg)}, count(*), "
        f"sum(CASE WHEN party IN {WITH_PERSON} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN party IN {WITH_PERSON} AND outcome = 'reached' THEN 1 ELSE 0 END), "
        "sum(coalesce(duration_min, 0)) "
        "FROM contacts WHERE user_id IS NOT NULL GROUP BY 1, 2"
    )
    open_needs = (
        f"FROM needs JOIN clients c ON c.id = needs.client_id "
        f"WHERE needs.status IN {OPEN} AND c.status = 'active'"
    )
    active = "FROM clients WHERE status = 'active'"
    op.execute(
        _apply(
            _delta("c.care_manager_id", f"{open_needs} GROUP BY 1", open_needs="count(*)"),
            _delta(_chw("c"), f"{open_needs} GROUP BY 1", open_needs="count(*)"),
            _delta("care_manager_id", f"{active} GROUP BY 1", cm_clients="count(*)"),
            _delta("chw_id", f"{active} GROUP BY 1", chw_clients="count(*)"),
            _delta(
                "assignee_id",
                "FROM follow_ups WHERE status = 'open' GROUP BY 1",
                open_followups="count(*)",
            ),
        )
    )
    if pg:
        _pg_triggers()
    else:
        _sqlite_triggers()


def _changes(table: str, pg: bool) -> dict[str, list[str]]:
    """The statements a trigger runs on an insert, an update and a delete of ``table``."""
    if table == "contacts":
        return {
            "insert": [_add_contact("NEW", 1, pg)],
            "update": [_add_contact("OLD", -1, pg), _add_contact("NEW", 1, pg)],
            "delete": [_add_contact("OLD", -1, pg)],
        }
    (of,) = [f for t, _, f in COUNTED if t == table]
    return {
        "insert": [_apply(*of("NEW", 1))],
        "update": [_apply(*of("OLD", -1), *of("NEW", 1))],
        "delete": [_apply(*of("OLD", -1))],
    }


def _columns_of(table: str) -> str:
    if table == "contacts":
        return CONTACT_COLUMNS
    return next(c for t, c, _ in COUNTED if t == table)


def _sqlite_triggers() -> None:
    for table in ("contacts", *(t for t, _, _ in COUNTED)):
        for what, body in _changes(table, False).items():
            when = f"UPDATE OF {_columns_of(table)}" if what == "update" else what.upper()
            op.execute(
                f"CREATE TRIGGER counts_{table}_{what} AFTER {when} ON {table} "
                f"FOR EACH ROW BEGIN {' '.join(body)} END"
            )


def _pg_triggers() -> None:
    for table, function in PG_FUNCTIONS.items():
        on = _changes(table, True)
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN {" ".join(on["insert"])}
                ELSIF TG_OP = 'UPDATE' THEN {" ".join(on["update"])}
                ELSE {" ".join(on["delete"])}
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER counts_{table} AFTER INSERT OR UPDATE OF {_columns_of(table)} "
            f"OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, function in PG_FUNCTIONS.items():
            op.execute(f"DROP TRIGGER IF EXISTS counts_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for table in PG_FUNCTIONS:
            for what in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS counts_{table}_{what}")
    op.drop_table("person_counts")
    op.drop_table("contact_hours")
