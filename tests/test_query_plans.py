"""EXPLAIN QUERY PLAN of the hot queries (SQLite): every window, count and lookup the
screens run is served by an index, never by a full scan of clients, contacts or
follow-ups, and a caseload window never sorts the whole caseload.

Speed itself is measured by `make bench` (benchmarks/), not here. Without
ANALYZE statistics SQLite plans from the schema alone, so a small database
gets the plan a large one gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from cm_tui.store import queries as q
from cm_tui.store.access import Viewer
from cm_tui.store.contact_queries import timeline
from cm_tui.store.db import Store
from tests.factories import add_client, add_contact, add_followup, add_need, add_user, days_ago

FULL_SCAN = re.compile(r"^SCAN (clients|contacts|follow_ups)\b")
SORTS: tuple[q.SortKey, ...] = ("name", "risk", "last_contact", "age")


@pytest.fixture
def org(sqlite_store: Store) -> dict[str, Any]:
    store = sqlite_store
    cm = add_user(store, "cm")
    chw = add_user(store, "chw", role="chw")
    sup = add_user(store, "sup", role="supervisor")
    ids = []
    for i, (given, family) in enumerate(
        [("Ana", "Zapata"), ("Bea", "Young"), ("Mo", "Young"), ("Li", "Nguyen"), ("Al", "Marsh")]
    ):
        ids.append(
            add_client(
                store,
                given,
                family,
                cm,
                chw_id=chw.id if i % 2 else None,
                risk_tier=("low", "rising", "high")[i % 3],
                program="CCM",
                dob=date(1940 + i, 1, 1) if i != 2 else None,
                mrn=f"M{i:04d}",
            )
        )
    for i, client in enumerate(ids[:3]):
        add_contact(store, client, days_ago(i + 1), cm)
        add_followup(store, client, days_ago(-i), cm)
        add_need(store, client, "food")
    return {"store": store, "cm": cm, "chw": chw, "sup": sup, "ids": ids}


def plans(store: Store, run: Callable[[Session], Any]) -> list[tuple[str, list[str]]]:
    """Every SELECT that ``run`` executes, with its query plan lines."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.read() as session:
            run(session)
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    out = []
    with store.engine.connect() as conn:
        for sql, params in seen:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            out.append((sql, [str(r[3]) for r in rows]))
    assert out, "the query ran no SELECT"
    return out


def assert_indexed(found: list[tuple[str, list[str]]]) -> None:
    for sql, lines in found:
        scans = [line for line in lines if FULL_SCAN.match(line)]
        assert not scans, f"full scan {scans} in:\n{sql}\nplan: {lines}"


def assert_no_sort(found: list[tuple[str, list[str]]], table_sql: str = "FROM clients") -> None:
    for sql, lines in found:
        if table_sql in sql and "ORDER BY" in sql:
            assert "USE TEMP B-TREE FOR ORDER BY" not in lines, f"sorts rows:\n{sql}\n{lines}"


WHO = ["care manager", "supervisor, everyone"]


def scope(org: dict[str, Any], who: str, **kw: Any) -> tuple[Viewer, q.CaseloadFilter]:
    if who == "care manager":
        return org["cm"], q.CaseloadFilter(**kw)
    return org["sup"], q.CaseloadFilter(everyone=True, **kw)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("sort", SORTS)
def test_caseload_windows_come_off_an_index(org: dict[str, Any], who: str, sort: q.SortKey) -> None:
    viewer, flt = scope(org, who)
    first = plans(
        org["store"], partial(q.caseload_page, viewer=viewer, flt=flt, sort=sort, limit=2)
    )
    assert_indexed(first)
    assert_no_sort(first)
    with org["store"].read() as s:
        cursor = q.caseload_page(s, viewer, flt, sort, None, 2)[-1].cursor
    later = plans(
        org["store"],
        partial(q.caseload_page, viewer=viewer, flt=flt, sort=sort, after=cursor, limit=2),
    )
    assert_indexed(later)
    assert_no_sort(later)


@pytest.mark.parametrize("who", ["chw", "sup"])
@pytest.mark.parametrize("sort", SORTS)
def test_chw_and_own_supervisor_lists_never_scan(
    org: dict[str, Any], who: str, sort: q.SortKey
) -> None:
    page = partial(q.caseload_page, viewer=org[who], flt=q.CaseloadFilter(), sort=sort)
    assert_indexed(plans(org["store"], page))


@pytest.mark.parametrize("who", WHO)
def test_caseload_count_is_covered_by_an_index(org: dict[str, Any], who: str) -> None:
    viewer, flt = scope(org, who)
    found = plans(org["store"], partial(q.caseload_count, viewer=viewer, flt=flt))
    assert_indexed(found)
    assert any("COVERING INDEX" in line for _, lines in found for line in lines), found


def test_filters_without_status_still_use_an_index(org: dict[str, Any]) -> None:
    flt = q.CaseloadFilter(status=None, risk="high")
    found = plans(org["store"], partial(q.caseload_page, viewer=org["cm"], flt=flt))
    assert_indexed(found)
    assert_no_sort(found)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("text", ["m", "you", "young b", "M0001"])
def test_search_uses_the_name_index(org: dict[str, Any], who: str, text: str) -> None:
    viewer, flt = scope(org, who, search=text)
    page = plans(org["store"], partial(q.caseload_page, viewer=viewer, flt=flt))
    assert_indexed(page)
    assert any("client_fts" in line for _, lines in page for line in lines)
    assert_indexed(plans(org["store"], partial(q.caseload_count, viewer=viewer, flt=flt)))
    assert_indexed(plans(org["store"], partial(q.find_clients, viewer=viewer, text_=text)))


def test_timeline_windows_come_off_the_contacts_index(org: dict[str, Any]) -> None:
    client = org["ids"][0]
    first = plans(org["store"], partial(timeline, client_id=client, limit=2))
    assert_indexed(first)
    assert_no_sort(first, "FROM contacts")
    assert any("ix_contacts_client_at" in line for line in first[0][1])
    with org["store"].read() as s:
        cursor = timeline(s, client, None, None, 1)[-1].cursor
    later = plans(
        org["store"], partial(timeline, client_id=client, before=cursor, limit=2)
    )
    assert_indexed(later)
    assert_no_sort(later, "FROM contacts")


def test_client_brief_reads_only_that_client(org: dict[str, Any]) -> None:
    client = org["ids"][0]
    assert_indexed(plans(org["store"], partial(q.client_brief, viewer=org["cm"], client_id=client)))


def test_start_up_queries_never_scan(org: dict[str, Any]) -> None:
    [(sql, _)] = plans(org["store"], q.has_clients)
    assert "LIMIT" in sql  # stops at the first row it finds
    found = plans(org["store"], q.programs_in_use)
    assert_indexed(found)
    assert all(any("ix_clients_program" in line for line in lines) for _, lines in found), found
    with org["store"].read() as s:
        assert q.programs_in_use(s) == ["CCM"]
