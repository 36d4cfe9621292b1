"""Follow-up services and queue queries, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dateutil import tz as dateutil_tz
from sqlmodel import col, func, select

from cm_tui.services import followups as fs
from cm_tui.services.clients import NotAllowed
from cm_tui.store import followup_queries as fq
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, Contact, FollowUp
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_contact, add_followup, add_need, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
UTCZ = dateutil_tz.UTC


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    store = any_store
    ann = add_user(store, "ann", display_name="Ann Lee")
    bob = add_user(store, "bob", display_name="Bob Ortiz")
    chw = add_user(store, "cat", role="chw", display_name="Cat Wu")
    sue = add_user(store, "sue", role="supervisor", display_name="Sue Park")
    rosa = add_client(store, "Rosa", "Alvarez", ann, chw_id=chw.id)
    walt = add_client(store, "Walter", "Brooks", bob)
    return {"store": store, "ann": ann, "bob": bob, "chw": chw, "sue": sue, "rosa": rosa,
            "walt": walt}  # fmt: skip


def _get(store: Store, fid: int) -> FollowUp:
    with store.read() as s:
        fu = s.get(FollowUp, fid)
        assert fu is not None
        return fu


def _count(store: Store, model: Any) -> int:
    with store.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


# ---------------------------------------------------------------- create


def test_create_on_own_list_and_past_due_warns(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    made = fs.create_followup(
        store, ann, org["rosa"], title="  Call  re BP ", due_at=NOW + timedelta(days=1)
    )
    fu = _get(store, made.id)
    assert (fu.title, fu.assignee_id, fu.created_by_id, fu.status) == (
        "Call re BP",
        ann.id,
        ann.id,
        "open",
    )
    assert made.warnings == []
    late = fs.create_followup(store, ann, org["rosa"], title="x", due_at=NOW - timedelta(days=2))
    assert late.warnings == [fs.PAST_WARNING]
    assert _get(store, late.id).due_at == NOW - timedelta(days=2)


def test_read_due_allows_a_past_date_only_when_asked() -> None:
    with pytest.raises(ValueError, match="in the past"):
        fs.read_due("2026-11-02", NOW, tz=UTCZ)
    got = fs.read_due("2026-11-02", NOW, allow_past=True, tz=UTCZ)
    assert got.due_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC) and got.warning
    today = fs.read_due("today 8am", NOW, allow_past=True, tz=UTCZ)
    assert today.due_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC) and today.warning
    assert fs.read_due("+1d", NOW, allow_past=True, tz=UTCZ).warning is None
    with pytest.raises(ValueError, match="Can't read"):
        fs.read_due("someday soon", NOW, allow_past=True, tz=UTCZ)


def test_bad_input_saves_nothing(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    before = (_count(store, FollowUp), _count(store, AuditEvent))
    with pytest.raises(fs.FollowUpError, match="Can't read"):
        fs.create_followup(
            store, ann, org["rosa"], title="x", due_at=NOW, recurrence="FREQ=FORTNIGHTLY"
        )
    with pytest.raises(fs.FollowUpError, match="at most once a day"):
        fs.create_followup(store, ann, org["rosa"], title="x", due_at=NOW, recurrence="FREQ=HOURLY")
    with pytest.raises(fs.FollowUpError, match="title"):
        fs.create_followup(store, ann, org["rosa"], title="  ", due_at=NOW)
    with pytest.raises(NotAllowed):
        fs.create_followup(
            store, ann, org["rosa"], title="x", due_at=NOW, assignee_id=org["bob"].id
        )
    assert (_count(store, FollowUp), _count(store, AuditEvent)) == before


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("Monthly on the 1st", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("rrule:freq=weekly;byday=mo,th", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("", None),
        ("does not repeat", None),
    ],
)
def test_parse_recurrence(typed: str, stored: str | None) -> None:
    assert fs.parse_recurrence(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["FREQ=WEEKLY;INTERVAL=x", "every fortnight", "FREQ=YEARLY;COUNT=1", "DTSTART:2026\nRRULE:X"],
)
def test_parse_recurrence_refuses(typed: str) -> None:
    with pytest.raises(fs.FollowUpError):
        fs.parse_recurrence(typed)


def test_next_occurrence_keeps_cadence_and_skips_what_is_gone() -> None:
    due = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    monthly = "FREQ=MONTHLY;BYMONTHDAY=1"
    assert fs.next_occurrence(monthly, due, NOW, tz=UTCZ) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    fortnight = "FREQ=WEEKLY;INTERVAL=2"
    assert fs.next_occurrence(fortnight, due, NOW, tz=UTCZ) == datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert fs.next_occurrence("FREQ=WEEKLY;COUNT=1", due, NOW, tz=UTCZ) is None


# ---------------------------------------------------------------- complete


def test_complete_links_the_contact(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    fid = add_followup(store, org["rosa"], NOW - timedelta(days=1), ann)
    cid = add_contact(store, org["rosa"], NOW - timedelta(minutes=5), ann)
    done = fs.complete_followup(store, ann, fid, 1, contact_id=cid)
    fu = _get(store, fid)
    assert (fu.status, fu.completed_contact_id, fu.completed_at, fu.version) == (
        "done",
        cid,
        NOW,
        2,
    )
    assert done.next_id is None
    other = add_contact(store, org["walt"], NOW, org["bob"])
    fid2 = add_followup(store, org["rosa"], NOW, ann)
    with pytest.raises(fs.FollowUpError, match="not with this follow-up's client"):
        fs.complete_followup(store, ann, fid2, 1, contact_id=other)
    assert _get(store, fid2).status == "open"


def test_recurring_completion_creates_the_next_occurrence(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    due = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    fid = add_followup(
        store, org["rosa"], due, ann, title="Weekly BP check", recurrence="FREQ=WEEKLY",
        priority="high",
    )  # fmt: skip
    done = fs.complete_followup(store, ann, fid, 1)
    assert done.next_id is not None and done.next_due_at is not None
    nxt = _get(store, done.next_id)
    assert (nxt.title, nxt.priority, nxt.recurrence, nxt.status, nxt.assignee_id) == (
        "Weekly BP check",
        "high",
        "FREQ=WEEKLY",
        "open",
        ann.id,
    )
    assert (
        nxt.due_at.astimezone(dateutil_tz.tzlocal()).hour
        == due.astimezone(dateutil_tz.tzlocal()).hour
    )
    assert nxt.due_at > NOW and (nxt.due_at - due).days % 7 == 0


def test_log_contact_and_complete_is_one_transaction(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    fid = add_followup(store, org["rosa"], NOW, ann)
    logged, done = fs.log_contact_and_complete(
        store, ann, fid, 1, outcome="reached", note="Spoke with pt", duration_min=5
    )
    assert _get(store, fid).completed_contact_id == logged.contact_id == done.contact_id
    # A stale version: neither the contact nor the completion is saved.
    fid2 = add_followup(store, org["rosa"], NOW, ann)
    contacts_before = _count(store, Contact)
    with pytest.raises(fs.FollowUpConflict):
        fs.log_contact_and_complete(store, ann, fid2, 7, note="late")
    assert _count(store, Contact) == contacts_before
    assert _get(store, fid2).status == "open"


def test_a_concurrent_change_is_never_overwritten(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    fid = add_followup(store, org["rosa"], NOW + timedelta(days=1), ann)
    fs.snooze_followup(store, ann, fid, 1, "+3d", tz=UTCZ)  # someone else, first
    with pytest.raises(fs.FollowUpConflict, match="Someone else changed"):
        fs.complete_followup(store, ann, fid, 1)
    fu = _get(store, fid)
    assert (fu.status, fu.version) == ("open", 2)


# ---------------------------------------------------------------- snooze


def test_snooze_parses_natural_text_and_refuses_nonsense(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    fid = add_followup(store, org["rosa"], NOW - timedelta(days=2), ann)
    changed = fs.snooze_followup(store, ann, fid, 1, "next mon", tz=UTCZ)
    assert changed.due_at == datetime(2026, 11, 30, 9, tzinfo=UTC)
    fu = _get(store, fid)
    assert (fu.due_at, fu.snoozed_until, fu.version) == (changed.due_at, changed.due_at, 2)
    events = _count(store, AuditEvent)
    for bad in ("blah", "2020-01-01", ""):
        with pytest.raises(fs.FollowUpError, match="Not snoozed"):
            fs.snooze_followup(store, ann, fid, 2, bad, tz=UTCZ)
    assert _get(store, fid).version == 2 and _count(store, AuditEvent) == events


# ---------------------------------------------------------------- reassign


def test_care_manager_reassigns_own_takes_unassigned_never_anothers(org: dict[str, Any]) -> None:
    store, ann, bob = org["store"], org["ann"], org["bob"]
    own = add_followup(store, org["rosa"], NOW, ann)
    assert fs.reassign_followup(store, ann, own, 1, bob.id).assignee_id == bob.id
    loose = add_followup(store, org["rosa"], NOW, None)
    with pytest.raises(NotAllowed, match="unassigned"):
        fs.reassign_followup(store, ann, loose, 1, bob.id)
    assert fs.reassign_followup(store, ann, loose, 1, ann.id).assignee_id == ann.id
    bobs = add_followup(store, org["walt"], NOW, bob)
    for target in (ann.id, org["sue"].id):
        with pytest.raises(NotAllowed, match="Bob Ortiz's list"):
            fs.reassign_followup(store, ann, bobs, 1, target)
    assert _get(store, bobs).assignee_id == bob.id
    with pytest.raises(NotAllowed):
        fs.complete_followup(store, ann, bobs, 1)


def test_supervisor_bulk_reassign_is_atomic_with_one_audit_event(org: dict[str, Any]) -> None:
    store, sue, bob, ann = org["store"], org["sue"], org["bob"], org["ann"]
    ids = [add_followup(store, org["walt"], NOW + timedelta(hours=i), bob) for i in range(3)]
    ids.append(add_followup(store, org["rosa"], NOW, ann))
    events = _count(store, AuditEvent)
    stale = [(i, 1) for i in ids[:-1]] + [(ids[-1], 5)]
    with pytest.raises(fs.FollowUpConflict):
        fs.bulk_reassign(store, sue, stale, org["chw"].id)
    assert {_get(store, i).assignee_id for i in ids[:-1]} == {bob.id}
    assert _count(store, AuditEvent) == events
    assert fs.bulk_reassign(store, sue, [(i, 1) for i in ids], org["chw"].id) == 4
    assert {_get(store, i).assignee_id for i in ids} == {org["chw"].id}
    assert _count(store, AuditEvent) == events + 1
    with store.read() as s:
        last = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert last is not None and "bulk reassign of 4" in (last.detail or "")
    with pytest.raises(NotAllowed):  # a care manager cannot bulk-move someone else's
        fs.bulk_reassign(store, ann, [(ids[0], 2)], ann.id)


def test_bulk_reassign_names_what_changed_meanwhile_and_moves_nothing(
    org: dict[str, Any],
) -> None:
    store, sue, bob = org["store"], org["sue"], org["bob"]
    ids = [
        add_followup(store, org["walt"], NOW + timedelta(hours=i), bob, title=f"Call {i}")
        for i in range(5)
    ]
    fs.complete_followup(store, bob, ids[1], 1)  # done by Bob while Sue looked
    fs.snooze_followup(store, bob, ids[3], 1, "in 3 days")
    events = _count(store, AuditEvent)
    with pytest.raises(fs.FollowUpConflict) as caught:
        fs.bulk_reassign(store, sue, [(i, 1) for i in ids], org["chw"].id)
    assert caught.value.changed == (ids[1], ids[3])
    assert str(caught.value) == (
        "Someone else changed 2 of the 5 selected follow-ups a moment ago: “Call 1”, “Call 3”. "
        "Nothing was reassigned."
    )
    assert {_get(store, i).assignee_id for i in ids} == {bob.id}
    assert _count(store, AuditEvent) == events
    # The rest, as they were seen, still move.
    rest = [(i, 1) for i in ids if i not in caught.value.changed]
    assert fs.bulk_reassign(store, sue, rest, org["chw"].id) == 3
    # A care manager learns nothing of someone else's items, changed or not.
    with pytest.raises(NotAllowed):
        fs.bulk_reassign(store, org["ann"], [(ids[1], 1)], org["ann"].id)


def test_cancel_and_undo(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    fid = add_followup(store, org["rosa"], NOW, ann)
    cancelled = fs.cancel_followup(store, ann, fid, 1)
    assert _get(store, fid).status == "cancelled"
    back = fs.undo_cancel(store, ann, fid, cancelled.version)
    fu = _get(store, fid)
    assert (fu.status, fu.version, back.version) == ("open", 3, 3)


# ---------------------------------------------------------------- queries


def test_queue_tabs_scope_and_order(org: dict[str, Any]) -> None:
    store, ann, bob, sue = org["store"], org["ann"], org["bob"], org["sue"]
    rosa = org["rosa"]
    a = add_followup(store, rosa, NOW - timedelta(days=3), ann, title="old normal")
    b = add_followup(store, rosa, NOW - timedelta(days=1), ann, title="urgent", priority="urgent")
    c = add_followup(store, rosa, NOW + timedelta(hours=1), ann, title="today")
    d = add_followup(store, rosa, NOW + timedelta(days=3), ann, title="later", priority="low")
    e = add_followup(store, rosa, NOW + timedelta(days=2), ann, title="later hi", priority="high")
    add_followup(store, org["walt"], NOW - timedelta(days=1), bob, title="bob's")
    done = add_followup(store, rosa, NOW - timedelta(days=4), ann, title="done")
    fs.complete_followup(store, ann, done, 1)
    bounds = fq.Bounds.at(NOW, tz=UTCZ)
    with store.read() as s:
        ids = {
            tab: [r.id for r in fq.queue_page(s, ann, fq.QueueScope.mine(), tab, bounds=bounds)]
            for tab in fq.TABS
        }
        assert ids == {"overdue": [b, a], "today": [c], "upcoming": [e, d], "done": [done]}
        assert fq.tab_counts(s, ann, fq.QueueScope.mine(), bounds) == {
            "overdue": 2, "today": 1, "upcoming": 2, "done": 1,
        }  # fmt: skip
        # keyset windows: two at a time give the same order
        first = fq.queue_page(s, ann, fq.QueueScope.mine(), "upcoming", limit=1, bounds=bounds)
        rest = fq.queue_page(
            s, ann, fq.QueueScope.mine(), "upcoming", after=first[0].cursor, bounds=bounds
        )
        assert [r.id for r in first + rest] == [e, d]
        with pytest.raises(fq.NotAllowedScope):
            fq.queue_page(s, ann, fq.QueueScope.team(), "overdue")
        with pytest.raises(fq.NotAllowedScope):
            fq.tab_counts(s, ann, fq.QueueScope.person(bob.id))
        team = fq.tab_counts(s, sue, fq.QueueScope.team(), bounds)
        assert team["overdue"] == 3
        bobs = fq.queue_page(s, sue, fq.QueueScope.person(bob.id), "overdue", bounds=bounds)
        assert [r.title for r in bobs] == ["bob's"]
        assert bobs[0].client_name == "Brooks, Walter" and bobs[0].assignee_name == "Bob Ortiz"


def test_team_overview_figures(org: dict[str, Any]) -> None:
    store, ann, sue = org["store"], org["ann"], org["sue"]
    rosa = org["rosa"]
    add_followup(store, rosa, NOW - timedelta(days=1), ann)
    add_followup(
        store, rosa, NOW + timedelta(hours=5), ann, kind="callback",
        created_at=NOW - timedelta(hours=3),
    )  # fmt: skip
    add_followup(store, rosa, NOW, None)
    add_need(store, rosa, "food")
    add_need(store, rosa, "housing", status="resolved")
    add_contact(store, rosa, NOW - timedelta(hours=2), ann, outcome="reached", duration_min=10)
    add_contact(store, rosa, NOW - timedelta(hours=1), ann, outcome="no_answer", duration_min=2)
    add_contact(store, rosa, NOW - timedelta(days=20), ann, outcome="reached", duration_min=30)
    bounds = fq.TeamBounds.at(NOW, tz=UTCZ)
    with store.read() as s:
        rows, unassigned = fq.team_overview(s, sue, bounds)
        ids = [r.user_id for r in rows]
        rows = fq.with_activity(rows, fq.contact_stats(s, ids, bounds), fq.open_needs_by_person(s))
        with pytest.raises(fq.NotAllowedScope):
            fq.team_overview(s, ann)
    by = {r.display_name: r for r in rows}
    assert unassigned == 1
    a = by["Ann Lee"]
    assert (a.caseload, a.open_followups, a.overdue, a.open_needs) == (1, 2, 1, 1)
    assert a.oldest_callback_at == NOW - timedelta(hours=3)
    assert (a.contacts_week, a.attempts_week, a.reached_week) == (2, 2, 1)
    assert a.reach_rate == 0.5
    assert a.minutes_month == 12 + 30 * (NOW - timedelta(days=20) >= bounds.month_start)
    assert len(a.per_day) == fq.TREND_DAYS and a.per_day[-1] == 2 and sum(a.per_day) == 3
    assert by["Cat Wu"].caseload == 1 and by["Cat Wu"].open_needs == 1  # as the CHW
    assert by["Bob Ortiz"].contacts_week == 0
