"""PostgreSQL name search folds accents, as SQLite's does

Revision ID: 0008_pg_search_fold
Revises: 0007_team_counts
Create Date: 2026-12-06 22:30:00

SQLite's FTS5 table (0001, unicode61 remove_diacritics 2) finds "Adán" for "adan"
and "Núñez" for "nunez"; PostgreSQL's search (0004) compared lower-cased text, so
on a shared database a care manager typing a name without its accents found no
one. The trigram index is rebuilt, under the same name, on the same text passed
through ``translate()`` from each accented Latin letter (U+00C0-U+024F, a plain
letter with accents) to its plain lower-case letter. cm_tui.store.queries holds
the same two strings (``FOLD_FROM``, ``FOLD_TO``) and folds the typed words alike;
the planner only uses the index when the expressions match, so change both
together (tests/test_pg_search.py checks the strings, test_query_plans the plan).

Building the index reads every client once (a few seconds for 100,000). SQLite is
unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0008_pg_search_fold"
down_revision = "0007_team_counts"
branch_labels = None
depends_on = None

INDEX = "ix_clients_lower_search_trgm"
# 0004's text, as it indexed it.
LOWER_TEXT = (
    "lower(family_name || ' ' || given_name || ' ' || coalesce(preferred_name, '') "
    "|| ' ' || coalesce(mrn, '') || ' ' || coalesce(phone, ''))"
)
FOLD_FROM = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆć"
    "ĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕ"
    "ŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟ"
    "ǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
)
FOLD_TO = (
    "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaacc"
    "ccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorr"
    "rrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuuuuuuaa"
    "aaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy"
)
FOLDED_TEXT = f"translate({LOWER_TEXT}, '{FOLD_FROM}', '{FOLD_TO}')"
FIND = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"


def _rebuild(expression: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # 0004 installed pg_trgm (or stopped); qualified, as it may be off the search path.
    schema = op.get_bind().exec_driver_sql(FIND).scalar()
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute(f"CREATE INDEX {INDEX} ON clients USING gin (({expression}) {schema}.gin_trgm_ops)")


def upgrade() -> None:
    _rebuild(FOLDED_TEXT)


def downgrade() -> None:
    _rebuild(LOWER_TEXT)
