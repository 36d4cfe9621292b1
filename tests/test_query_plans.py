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


# The clients' index statistics of the 100k-client demo (`demo-data` runs ANALYZE),
# under which SQLite plans as it does for a large organisation.
LARGE_CLIENTS = {
    "ix_clients_program": "128152 1001",
    "ix_clients_status_dob": "108528 1001 2 1",
    "ix_clients_status_last": "252928 1001 2 1",
    "ix_clients_status_risk": "113344 1001 1001 4 1 1",
    "ix_clients_status_name": "104400 1001 9 2 1",
    "ix_clients_chw_status_name": "117936 1001 1001 4 2 1",
    "ix_clients_cm_status_dob": "102242 501 251 1 1",
    "ix_clients_cm_status_last": "119527 501 251 1 1",
    "ix_clients_cm_status_risk": "121680 501 251 101 2 1 1",
    "ix_clients_cm_status_name": "104652 501 251 2 1 1",
    "ix_clients_name": "105210 16 2 1",
    "ix_clients_cm_name": "101250 501 2 1 1",
    "ix_clients_chw_name": "100050 1001 4 2 1",
    "sqlite_autoindex_clients_1": "73272 1",
}


def _as_if_large(store: Store) -> None:
    with store.write() as s:
        conn = s.connection()
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'clients'")
        for index, stat in LARGE_CLIENTS.items():
            conn.exec_driver_sql(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('clients', ?, ?)",
                (index, stat),
            )
    store.engine.dispose()  # connections read the statistics as they open


@pytest.mark.parametrize("who", ["cm", "chw"])
def test_a_caseload_search_walks_the_caseload_not_every_match(
    org: dict[str, Any], who: str
) -> None:
    """Counting a one-letter search in a caseload: the caseload's index, each client
    looked up in the matches, not the client row of every match in the organisation
    (15 ms against 3 on the 100k demo, for "c")."""
    store = org["store"]
    _as_if_large(store)
    flt = q.CaseloadFilter(search="y")
    for sql, lines in plans(store, partial(q.caseload_count, viewer=org[who], flt=flt)):
        index = f"ix_clients_{who}_status"
        assert any(line.startswith("SEARCH clients USING") and index in line for line in lines), (
            sql,
            lines,
        )
        assert not any("INTEGER PRIMARY KEY" in line for line in lines), lines
    with org["store"].read() as s:
        assert q.caseload_count(s, org["cm"], flt) == 2  # Bea and Mo Young


def test_timeline_windows_come_off_the_contacts_index(org: dict[str, Any]) -> None:
    client = org["ids"][0]
    first = plans(org["store"], partial(timeline, client_id=client, limit=2))
    assert_indexed(first)
    assert_no_sort(first, "FROM contacts")
    assert any("ix_contacts_client_at" in line for line in first[0][1])
    with org["store"].read() as s:
        cursor = timeline(s, client, None, None, 1)[-1].cursor
    later = plans(org["store"], partial(timeline, client_id=client, before=cursor, limit=2))
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


# ---------------------------------------------------------------- PostgreSQL name search


@pytest.fixture
def pg_org(pg_url: str) -> Any:
    """A PostgreSQL store with a few thousand clients (faker names; statistics gathered),
    and searches that pick out a few of them as a user would type them."""
    from faker import Faker

    from cm_tui.store.db import open_store
    from cm_tui.store.models import Client

    fake = Faker("en_US")
    fake.seed_instance(5)
    rows = [
        Client(
            given_name=fake.first_name(),
            family_name=fake.last_name(),
            mrn=f"MRN{i:06d}",
            phone=fake.numerify("(###) ###-####"),
            # the rest of a real row, so the table has a real size for the planner
            address=fake.address(),
            email=fake.email(),
            pcp_name=fake.name(),
            pcp_practice=fake.company(),
            what_matters=fake.sentence(nb_words=12),
        )
        for i in range(4000)
    ]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.family_name] = counts.get(row.family_name, 0) + 1
    rare = [row for row in rows if counts[row.family_name] <= 3]
    a, b, c = rare[0], rare[1], rare[2]
    searches = [
        a.family_name,
        f"{b.family_name[:4]} {b.given_name[:2]}",
        (c.given_name[:3] + " " + c.family_name).upper(),
        "mrn001234",
        a.phone[-4:] if a.phone else "",
    ]
    store = open_store(pg_url)
    try:
        sup = add_user(store, "sup", role="supervisor")
        with store.write() as s:
            s.add_all(rows)
        # As autovacuum would: statistics, and the GIN pending list merged into the index.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE clients")
        yield {"store": store, "sup": sup, "searches": searches}
    finally:
        store.close()


def pg_plans(store: Store, run: Callable[[Session], Any]) -> list[tuple[str, str]]:
    """Every SELECT ``run`` executes on PostgreSQL, with its EXPLAIN output."""
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
            rows = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
            out.append((sql, "\n".join(str(r[0]) for r in rows)))
    assert out, "the query ran no SELECT"
    return out


TRGM = "ix_clients_lower_search_trgm"


def test_postgresql_search_uses_the_trigram_index(pg_org: dict[str, Any]) -> None:
    store, sup = pg_org["store"], pg_org["sup"]
    for text in pg_org["searches"]:
        flt = q.CaseloadFilter(search=text, everyone=True)
        for run in (
            partial(q.find_clients, viewer=sup, text_=text),
            partial(q.caseload_page, viewer=sup, flt=flt),
            partial(q.caseload_count, viewer=sup, flt=flt),
        ):
            found = pg_plans(store, run)
            assert any("~" in sql for sql, _ in found), found
            for sql, plan in found:
                if "~" not in sql:  # not the search (e.g. the window's detail lookup)
                    continue
                assert TRGM in plan, f"no trigram index for {text!r} in:\n{sql}\n{plan}"
                assert "Seq Scan on clients" not in plan, plan
        with store.read() as s:  # a real search, which finds someone
            assert q.caseload_count(s, sup, flt) > 0, text
