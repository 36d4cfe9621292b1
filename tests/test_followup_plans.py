"""EXPLAIN QUERY PLAN of the follow-up queue and the team view (SQLite): every window,
count and figure comes off an index — no full scan of follow-ups, contacts, clients or
needs, and no queue window sorts rows. And the 0003 migration that adds the indexes.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from cm_tui.store import followup_queries as fq
from cm_tui.store.db import Store, _sqlite_engine, current_revision, open_store
from cm_tui.store.migrate import upgrade
from cm_tui.store.schema_version import SCHEMA_HEAD
from cm_tui.store.types import utcnow
from tests.engine import db_url
from tests.factories import add_client, add_contact, add_followup, add_need, add_user
from tests.test_query_plans import assert_indexed, plans

FULL_SCAN = re.compile(r"^SCAN (clients|contacts|follow_ups|needs)\b")


@pytest.fixture
def org(sqlite_store: Store) -> dict[str, Any]:
    store = sqlite_store
    cm = add_user(store, "cm")
    chw = add_user(store, "chw", role="chw")
    sup = add_user(store, "sup", role="supervisor")
    now = utcnow()
    for i in range(6):
        cid = add_client(store, f"G{i}", f"F{i}", cm, chw_id=chw.id if i % 2 else None)
        add_contact(store, cid, now - timedelta(days=i), cm, outcome="reached", duration_min=5)
        for j, prio in enumerate(("urgent", "high", "normal", "low")):
            add_followup(store, cid, now + timedelta(days=j - 2, hours=i), cm, priority=prio)
        add_need(store, cid, "food")
    return {"store": store, "cm": cm, "chw": chw, "sup": sup}


def _no_scan(found: list[tuple[str, list[str]]]) -> None:
    assert_indexed(found)
    for sql, lines in found:
        scans = [line for line in lines if FULL_SCAN.match(line)]
        assert not scans, f"full scan {scans} in:\n{sql}\nplan: {lines}"


def _no_sort(found: list[tuple[str, list[str]]]) -> None:
    for sql, lines in found:
        if "FROM follow_ups" in sql and "ORDER BY" in sql and "LIMIT" in sql:
            assert "USE TEMP B-TREE FOR ORDER BY" not in lines, f"sorts rows:\n{sql}\n{lines}"


SCOPES = ["mine", "team", "person"]


def _scope(org: dict[str, Any], kind: str) -> tuple[Any, fq.QueueScope]:
    if kind == "mine":
        return org["cm"], fq.QueueScope.mine()
    if kind == "team":
        return org["sup"], fq.QueueScope.team()
    return org["sup"], fq.QueueScope.person(org["cm"].id)


@pytest.mark.parametrize("kind", SCOPES)
@pytest.mark.parametrize("tab", fq.TABS)
def test_queue_windows_come_off_an_index_in_order(
    org: dict[str, Any], kind: str, tab: fq.Tab
) -> None:
    viewer, scope = _scope(org, kind)
    first = plans(
        org["store"], partial(fq.queue_page, viewer=viewer, scope=scope, tab=tab, limit=2)
    )
    _no_scan(first)
    _no_sort(first)
    with org["store"].read() as s:
        rows = fq.queue_page(s, viewer, scope, tab, limit=2)
    if rows:
        later = plans(
            org["store"],
            partial(
                fq.queue_page, viewer=viewer, scope=scope, tab=tab, after=rows[-1].cursor, limit=2
            ),
        )
        _no_scan(later)
        _no_sort(later)


@pytest.mark.parametrize("kind", SCOPES)
def test_tab_counts_are_indexed(org: dict[str, Any], kind: str) -> None:
    viewer, scope = _scope(org, kind)
    _no_scan(plans(org["store"], partial(fq.tab_counts, viewer=viewer, scope=scope)))


def test_team_view_figures_are_indexed(org: dict[str, Any]) -> None:
    store, sup = org["store"], org["sup"]
    _no_scan(plans(store, partial(fq.team_overview, viewer=sup)))
    ids = [org["cm"].id, org["chw"].id, sup.id]
    found = plans(store, partial(fq.contact_stats, user_ids=ids))
    _no_scan(found)
    # The whole hours from the kept counts, the parts of hours from the contacts.
    hours = [lines for sql, lines in found if "FROM hour_ranges JOIN contact_hours" in sql]
    assert hours and all(
        any("SEARCH contact_hours USING PRIMARY KEY (user_id=?" in x for x in lines)
        for lines in hours
    ), found
    for sql, lines in found:
        if "JOIN contacts" in sql:
            assert any("COVERING INDEX ix_contacts_user_at_outcome" in x for x in lines), lines
    # One row a person, kept by the database: no needs or clients read.
    needs = plans(store, fq.open_needs_by_person)
    assert [lines for _, lines in needs] == [["SCAN person_counts"]]
    _no_scan(plans(store, fq.assignable_people))


# ---------------------------------------------------------------- migration 0003


def _indexes(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        con.close()


NEW_0003 = {
    "ix_followups_assignee_open_queue",
    "ix_followups_open_queue",
    "ix_followups_assignee_done",
    "ix_followups_done",
    "ix_followups_assignee_kind_created",
    "ix_needs_status_client",
    "ix_contacts_user_at_outcome",
}


@pytest.mark.sqlite_only  # SQLite migration
def test_0002_database_is_upgraded_to_0003_and_back(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    db.touch(mode=0o600)
    store = Store(engine=_sqlite_engine(db), url=db_url(db), path=db)
    try:
        upgrade(store, backup_first=False, target="0002_caseload_indexes")
    finally:
        store.close()
    assert not NEW_0003 & _indexes(db) and "ix_contacts_user_at" in _indexes(db)
    store = open_store(db_url(db))
    try:
        assert current_revision(store) == SCHEMA_HEAD
    finally:
        store.close()
    assert _indexes(db) >= NEW_0003 and "ix_contacts_user_at" not in _indexes(db)
    store = Store(engine=_sqlite_engine(db), url=db_url(db), path=db)
    try:
        from alembic import command

        from cm_tui.store.migrate import alembic_config

        command.downgrade(alembic_config(store), "0002_caseload_indexes")
    finally:
        store.close()
    assert not NEW_0003 & _indexes(db) and "ix_contacts_user_at" in _indexes(db)
