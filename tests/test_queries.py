"""Caseload windows, search, filters, scoping and the client brief, on every engine."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cm_tui.services.clients import NotAllowed, view_client
from cm_tui.store import queries as q
from cm_tui.store.access import Viewer
from cm_tui.store.contact_queries import timeline
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent
from tests.factories import (
    add_client,
    add_contact,
    add_followup,
    add_need,
    add_user,
    days_ago,
)

NAMES = [
    ("Ana", "Zapata"),
    ("Bea", "Young"),
    ("Carl", "Xu"),
    ("Dee", "Young"),
    ("Éva", "Ólafsdóttir"),
    ("Li", "Nguyen"),
    ("Sam", "O'Brien"),
    ("Mo", "Young"),
]


@pytest.fixture
def org(any_store: Store) -> dict[str, object]:
    cm = add_user(any_store, "ann")
    other = add_user(any_store, "bob")
    chw = add_user(any_store, "cat", role="chw")
    sup = add_user(any_store, "sue", role="supervisor")
    ids = []
    for i, (given_name, family) in enumerate(NAMES):
        ids.append(
            add_client(
                any_store,
                given_name,
                family,
                cm,
                dob=date(1940 + i * 3, 1 + i, 10) if i != 3 else None,
                risk_tier=("low", "rising", "high")[i % 3],
                program=("CCM", "TCM")[i % 2],
                mrn=f"MRN{i:04d}",
                phone=f"555-01{i:02d}",
                chw_id=chw.id if i < 2 else None,
            )
        )
    add_client(any_store, "Eve", "Elsewhere", other, mrn="MRN9999")
    add_client(any_store, "Gone", "Young", cm, status="discharged")
    add_contact(any_store, ids[0], days_ago(40), cm, outcome="reached")
    add_contact(any_store, ids[0], days_ago(3), cm, outcome="no_answer")
    add_contact(any_store, ids[1], days_ago(2), cm, outcome="reached")
    add_followup(any_store, ids[0], days_ago(1), cm)
    add_followup(any_store, ids[0], days_ago(-5), cm)
    add_followup(any_store, ids[1], days_ago(-2), cm, status="done")
    add_need(any_store, ids[0], "food")
    add_need(any_store, ids[0], "housing", status="resolved")
    return {"cm": cm, "other": other, "chw": chw, "sup": sup, "ids": ids, "store": any_store}


def names(rows: list[q.CaseloadRow]) -> list[str]:
    return [r.display_name for r in rows]


def page_all(store: Store, viewer: Viewer, flt: q.CaseloadFilter, sort: q.SortKey, size: int):
    out: list[q.CaseloadRow] = []
    after = None
    with store.read() as s:
        while True:
            rows = q.caseload_page(s, viewer, flt, sort, after, size)
            out.extend(rows)
            if len(rows) < size:
                return out
            after = rows[-1].cursor


def test_caseload_is_scoped_to_the_viewer(org: dict) -> None:
    store, cm = org["store"], org["cm"]
    with store.read() as s:
        mine = q.caseload_page(s, cm, q.CaseloadFilter())
        assert "Elsewhere, Eve" not in names(mine)
        assert "Young, Gone" not in names(mine)  # discharged hidden by the default filter
        assert len(mine) == len(NAMES) == q.caseload_count(s, cm, q.CaseloadFilter())
        chw = q.caseload_page(s, org["chw"], q.CaseloadFilter())
        assert names(chw) == ["Young, Bea", "Zapata, Ana"]
        sup_all = q.caseload_page(s, org["sup"], q.CaseloadFilter(everyone=True))
        assert "Elsewhere, Eve" in names(sup_all)
        # A supervisor's own list is only who is assigned to them (none here).
        assert q.caseload_page(s, org["sup"], q.CaseloadFilter()) == []
        # A care manager asking for everyone still gets only their own list.
        assert len(q.caseload_page(s, cm, q.CaseloadFilter(everyone=True))) == len(NAMES)


@pytest.mark.parametrize("sort", ["name", "risk", "last_contact", "age"])
@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_windows_concatenate_to_the_whole_list(org: dict, sort: q.SortKey, size: int) -> None:
    store, cm = org["store"], org["cm"]
    with store.read() as s:
        whole = q.caseload_page(s, cm, q.CaseloadFilter(), sort, None, 1000)
    paged = page_all(store, cm, q.CaseloadFilter(), sort, size)
    assert [r.id for r in paged] == [r.id for r in whole]
    assert len({r.id for r in paged}) == len(NAMES)


def test_sort_orders(org: dict) -> None:
    store, cm = org["store"], org["cm"]
    with store.read() as s:
        by_name = names(q.caseload_page(s, cm, q.CaseloadFilter(), "name"))
        assert by_name == sorted(by_name, key=lambda n: n.split(",")[0].encode())
        by_risk = q.caseload_page(s, cm, q.CaseloadFilter(), "risk")
        ranks = [{"high": 0, "rising": 1, "low": 2}[r.risk_tier] for r in by_risk]
        assert ranks == sorted(ranks)
        by_last = q.caseload_page(s, cm, q.CaseloadFilter(), "last_contact")
        assert by_last[-1].display_name == "Young, Bea"  # contacted most recently
        assert by_last[-2].display_name == "Zapata, Ana"
        by_age = q.caseload_page(s, cm, q.CaseloadFilter(), "age")
        assert by_age[0].display_name == "Zapata, Ana"  # born 1940: oldest first
        assert by_age[-1].dob is None  # unknown DOB last


def test_search_by_name_prefix_mrn_and_accents(org: dict) -> None:
    store, cm = org["store"], org["cm"]
    with store.read() as s:

        def search(text: str) -> list[str]:
            return names(q.caseload_page(s, cm, q.CaseloadFilter(search=text)))

        assert search("you") == ["Young, Bea", "Young, Dee", "Young, Mo"]
        assert search("young d") == ["Young, Dee"]
        assert search("ZAP") == ["Zapata, Ana"]
        assert search("MRN0002") == ["Xu, Carl"]
        assert search("nguyen li") == ["Nguyen, Li"]
        assert search("o'brien") == ["O'Brien, Sam"]
        assert search("eve") == []  # not on this caseload
        assert search('"*) OR 1=1 --') == []  # user text is never query syntax
        assert search("   ") == names(q.caseload_page(s, cm, q.CaseloadFilter()))


def test_search_folds_accents_on_sqlite(sqlite_store: Store) -> None:
    """FTS5's unicode61 tokenizer folds diacritics: "olafs" finds "Ólafsdóttir"."""
    cm = add_user(sqlite_store, "ann")
    add_client(sqlite_store, "Éva", "Ólafsdóttir", cm)
    with sqlite_store.read() as s:
        found = q.caseload_page(s, cm, q.CaseloadFilter(search="olafs"))
    assert names(found) == ["Ólafsdóttir, Éva"]


def test_filters(org: dict) -> None:
    store, cm = org["store"], org["cm"]
    with store.read() as s:
        high = q.caseload_page(s, cm, q.CaseloadFilter(risk="high"))
        assert high and all(r.risk_tier == "high" for r in high)
        tcm = q.caseload_page(s, cm, q.CaseloadFilter(program="TCM"))
        assert tcm and all(r.program == "TCM" for r in tcm)
        gone = q.caseload_page(s, cm, q.CaseloadFilter(status="discharged"))
        assert names(gone) == ["Young, Gone"]
        anyone = q.caseload_page(s, cm, q.CaseloadFilter(status=None))
        assert len(anyone) == len(NAMES) + 1
        stale = names(q.caseload_page(s, cm, q.CaseloadFilter(not_reached_days=30)))
        assert "Zapata, Ana" in stale  # reached 40 days ago; the 3-day call was no answer
        assert "Young, Bea" not in stale  # reached 2 days ago
        both = q.CaseloadFilter(risk="high", search="xu")
        assert names(q.caseload_page(s, cm, both)) == ["Xu, Carl"]
        assert q.caseload_count(s, cm, both) == 1


def test_row_details(org: dict) -> None:
    store, cm, ids = org["store"], org["cm"], org["ids"]
    with store.read() as s:
        row = next(r for r in q.caseload_page(s, cm, q.CaseloadFilter()) if r.id == ids[0])
    assert row.open_needs == 1  # the resolved one does not count
    assert row.next_due_at is not None and row.next_due_at < days_ago(0.5)  # earliest open
    assert row.last_contact_at is not None and row.last_reached_at is not None
    assert row.last_contact_at > row.last_reached_at


def test_client_brief_and_view_audit(org: dict) -> None:
    store, cm, ids = org["store"], org["cm"], org["ids"]
    brief = view_client(store, cm, ids[0])
    assert brief.client.family_name == "Zapata"
    assert [f.status for f, _ in brief.open_followups] == ["open", "open"]
    assert [n.domain for n in brief.open_needs] == ["food"]
    assert brief.contact_count == 2
    with store.read() as s:
        from sqlmodel import select

        views = s.exec(select(AuditEvent).where(AuditEvent.action == "view")).all()
    assert [(v.user_id, v.entity, v.entity_id) for v in views] == [(cm.id, "client", ids[0])]


def test_chw_cannot_open_other_records_and_the_attempt_is_audited(org: dict) -> None:
    store, chw, ids = org["store"], org["chw"], org["ids"]
    view_client(store, chw, ids[0])  # assigned
    with pytest.raises(NotAllowed):
        view_client(store, chw, ids[5])
    with store.read() as s:
        from sqlmodel import select

        refused = s.exec(select(AuditEvent).where(AuditEvent.entity_id == ids[5])).one()
    assert refused.detail and "refused" in refused.detail


def test_timeline_windows_newest_first(any_store: Store) -> None:
    cm = add_user(any_store, "ann")
    cid = add_client(any_store, "Ana", "Zapata", cm)
    same = days_ago(1)
    for i in range(7):
        add_contact(any_store, cid, same if i < 3 else days_ago(10 + i), cm, note=f"n{i}")
    seen = []
    before = None
    with any_store.read() as s:
        while True:
            window = timeline(s, cid, None, before, limit=2)
            seen.extend(window)
            if len(window) < 2:
                break
            before = window[-1].cursor
    assert len(seen) == 7 and len({e.contact.id for e in seen}) == 7
    times = [e.contact.occurred_at for e in seen]
    assert times == sorted(times, reverse=True)


def test_find_clients_org_wide(org: dict) -> None:
    store = org["store"]
    with store.read() as s:
        assert [c.given_name for c in q.find_clients(s, org["cm"], "elsewhere")] == ["Eve"]
        assert q.find_clients(s, org["chw"], "elsewhere") == []
        assert q.find_clients(s, org["cm"], "") == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=30))
def test_search_never_fails_on_any_text(sqlite_store: Store, text: str) -> None:
    viewer = Viewer(1, "x", "X", "supervisor")
    with sqlite_store.read() as s:
        q.caseload_page(s, viewer, q.CaseloadFilter(search=text, everyone=True))
        q.find_clients(s, viewer, text)


def test_due_dates_are_aware(org: dict) -> None:
    store, cm = org["store"], org["cm"]
    with store.read() as s:
        rows = q.caseload_page(s, cm, q.CaseloadFilter())
    for r in rows:
        for value in (r.next_due_at, r.last_contact_at):
            assert value is None or value.utcoffset() == timedelta(0)
