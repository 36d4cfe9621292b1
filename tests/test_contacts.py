"""The contact-log services on SQLite and PostgreSQL: one transaction, append-only notes,
drafts, the callback window, the filtered timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from cm_tui.services import contacts, drafts
from cm_tui.services.contacts import ContactError, FollowUpRequest, NotAllowed
from cm_tui.store.audit import verify
from cm_tui.store.contact_queries import TimelineFilter, form_client, timeline, timeline_count
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, Client, Contact, ContactAddendum, Draft, FollowUp
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_contact, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _client(store: Store, viewer: Any = None) -> int:
    return add_client(store, "Rosa", "Alvarez", viewer, preferred_contact="text")


def _get(store: Store, model: Any, id_: int) -> Any:
    with store.read() as s:
        return s.get(model, id_)


# ---------------------------------------------------------------- log_contact


def test_log_contact_writes_contact_followup_times_audit_in_one_go(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    drafts.save_draft(any_store, ann.id, drafts.CONTACT, str(cid), {"note": "half"})
    due = NOW + timedelta(weeks=2)
    logged = contacts.log_contact(
        any_store,
        ann,
        cid,
        duration_min=10,
        note="  Spoke with pt. BP 130/80.\n",
        follow_ups=[FollowUpRequest(due_at=due)],
    )
    contact = _get(any_store, Contact, logged.contact_id)
    assert (contact.outcome, contact.method, contact.party, contact.direction) == (
        "reached",
        "phone",
        "client",
        "outbound",
    )
    assert contact.note == "Spoke with pt. BP 130/80."
    assert contact.duration_min == 10 and contact.user_id == ann.id
    assert contact.occurred_at == NOW
    [fid] = logged.followup_ids
    fu = _get(any_store, FollowUp, fid)
    assert fu.due_at == due and fu.assignee_id == ann.id and fu.created_by_id == ann.id
    assert fu.kind == "call" and fu.title == "Follow-up call" and fu.status == "open"
    client = _get(any_store, Client, cid)
    assert client.last_contact_at == NOW and client.last_reached_at == NOW
    assert logged.last_contact_at == NOW and logged.last_reached_at == NOW
    assert drafts.load_draft(any_store, ann.id, drafts.CONTACT, str(cid)) is None
    with any_store.read() as s:
        events = s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        assert verify(s)[1] is None
    assert [(e.action, e.entity, e.entity_id) for e in events][-2:] == [
        ("create", "contact", logged.contact_id),
        ("create", "follow_up", fid),
    ]
    assert "BP" not in (events[-1].detail or "")  # the note itself stays out of the trail


@pytest.mark.parametrize(
    ("outcome", "party", "reached"),
    [
        ("reached", "client", True),
        ("reached", "caregiver", True),
        ("reached", "pcp", False),
        ("left_message", "client", False),
        ("no_answer", "caregiver", False),
    ],
)
def test_last_reached_follows_the_demo_rule(
    any_store: Store, outcome: str, party: str, reached: bool
) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    contacts.log_contact(any_store, ann, cid, outcome=outcome, party=party)
    client = _get(any_store, Client, cid)
    assert client.last_contact_at == NOW
    assert client.last_reached_at == (NOW if reached else None)


def test_an_older_contact_logged_late_never_moves_last_contact_back(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    contacts.log_contact(any_store, ann, cid)
    contacts.log_contact(
        any_store, ann, cid, occurred_at=NOW - timedelta(days=3), outcome="left_message"
    )
    client = _get(any_store, Client, cid)
    assert client.last_contact_at == NOW and client.last_reached_at == NOW


def test_refuses_bad_values_and_writes_nothing(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    bad: list[dict[str, Any]] = [
        {"outcome": "maybe"},
        {"method": "pigeon"},
        {"party": "neighbour"},
        {"direction": "sideways"},
        {"duration_min": -1},
        {"duration_min": 24 * 60 + 1},
        {"occurred_at": NOW + timedelta(hours=1)},
        {"follow_ups": [FollowUpRequest(due_at=NOW, kind="nap")]},
    ]
    for kwargs in bad:
        with pytest.raises(ContactError):
            contacts.log_contact(any_store, ann, cid, **kwargs)
    with any_store.read() as s:
        assert s.exec(select(Contact)).all() == []
        assert s.exec(select(FollowUp)).all() == []
    assert _get(any_store, Client, cid).last_contact_at is None


def test_a_chw_cannot_log_for_a_client_not_theirs(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    chw = add_user(any_store, "cal", role="chw")
    cid = _client(any_store, ann)
    with pytest.raises(NotAllowed):
        contacts.log_contact(any_store, chw, cid)
    with any_store.read() as s:
        assert s.exec(select(Contact)).all() == []


def test_a_failure_mid_transaction_leaves_nothing(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    drafts.save_draft(any_store, ann.id, drafts.CONTACT, str(cid), {"note": "keep me"})
    # A follow-up assigned to a user that does not exist fails on its foreign key.
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError, whatever the driver
        contacts.log_contact(
            any_store,
            ann,
            cid,
            note="x",
            follow_ups=[FollowUpRequest(due_at=NOW + timedelta(days=1), assignee_id=99_999)],
        )
    with any_store.read() as s:
        assert s.exec(select(Contact)).all() == []
        assert s.exec(select(AuditEvent).where(AuditEvent.entity == "contact")).all() == []
    assert _get(any_store, Client, cid).last_contact_at is None
    draft = drafts.load_draft(any_store, ann.id, drafts.CONTACT, str(cid))
    assert draft is not None and draft.payload == {"note": "keep me"}


def test_followup_defaults_follow_method_and_party(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    due = NOW + timedelta(days=1)
    logged = contacts.log_contact(
        any_store,
        ann,
        cid,
        party="pcp",
        follow_ups=[
            FollowUpRequest(due_at=due),
            FollowUpRequest(due_at=due, title="Ask about the walker", kind="other"),
        ],
    )
    first, second = (_get(any_store, FollowUp, i) for i in logged.followup_ids)
    assert (first.kind, first.title) == ("pcp_coordination", "Follow up with the PCP office")
    assert (second.kind, second.title) == ("other", "Ask about the walker")
    assert contacts.followup_defaults("in_person", "client") == ("visit", "Follow-up visit")


def test_markup_and_escapes_are_stored_exactly(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    note = "[bold]x[/bold] [link=http://a]b[/link] \x1b[31mred\x1b[0m \x1b]8;;http://e\x07l"
    logged = contacts.log_contact(any_store, ann, cid, note=note)
    assert _get(any_store, Contact, logged.contact_id).note == note
    added = contacts.add_addendum(any_store, ann, logged.contact_id, note)
    with any_store.read() as s:
        assert s.get(ContactAddendum, added.addendum_id).text == note


# ---------------------------------------------------------------- addenda


def test_addendum_appends_and_never_rewrites_the_note(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    bob = add_user(any_store, "bob", display_name="Bob Ortiz")
    cid = _client(any_store, ann)
    logged = contacts.log_contact(any_store, ann, cid, note="Refill due Fri.")
    drafts.save_draft(any_store, bob.id, drafts.ADDENDUM, str(logged.contact_id), {"text": "C"})
    freeze_clock(NOW + timedelta(hours=2))
    contacts.add_addendum(any_store, bob, logged.contact_id, "Correction: Thursday.")
    freeze_clock(NOW + timedelta(hours=3))
    contacts.add_addendum(any_store, ann, logged.contact_id, "Pharmacy confirmed.")
    assert _get(any_store, Contact, logged.contact_id).note == "Refill due Fri."
    with any_store.read() as s:
        [entry] = timeline(s, cid)
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "update")).all()
    assert [(a.text, who) for a, who in entry.addenda] == [
        ("Correction: Thursday.", "Bob Ortiz"),
        ("Pharmacy confirmed.", "Ann"),
    ]
    assert entry.addenda[0][0].created_at == NOW + timedelta(hours=2)
    assert [(e.entity, e.entity_id) for e in events] == [("contact", logged.contact_id)] * 2
    assert drafts.load_draft(any_store, bob.id, drafts.ADDENDUM, str(logged.contact_id)) is None


def test_addendum_refusals(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    chw = add_user(any_store, "cal", role="chw")
    cid = _client(any_store, ann)
    logged = contacts.log_contact(any_store, ann, cid, note="n")
    with pytest.raises(ContactError, match="needs some text"):
        contacts.add_addendum(any_store, ann, logged.contact_id, "  \n ")
    with pytest.raises(ContactError, match="no longer exists"):
        contacts.add_addendum(any_store, ann, 424242, "text")
    with pytest.raises(NotAllowed):
        contacts.add_addendum(any_store, chw, logged.contact_id, "text")


# ---------------------------------------------------------------- drafts


def test_drafts_upsert_load_and_delete(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    bob = add_user(any_store, "bob")
    assert drafts.load_draft(any_store, ann.id, "contact", "1") is None
    drafts.save_draft(any_store, ann.id, "contact", "1", {"note": "a"})
    freeze_clock(NOW + timedelta(minutes=1))
    drafts.save_draft(any_store, ann.id, "contact", "1", {"note": "ab", "minutes": "10"})
    drafts.save_draft(any_store, bob.id, "contact", "1", {"note": "bob's"})
    draft = drafts.load_draft(any_store, ann.id, "contact", "1")
    assert draft is not None
    assert draft.payload == {"note": "ab", "minutes": "10"}
    assert draft.updated_at == NOW + timedelta(minutes=1)
    with any_store.read() as s:
        assert len(s.exec(select(Draft)).all()) == 2
    drafts.save_draft(any_store, ann.id, "contact", "1", {})  # empty = nothing to keep
    assert drafts.load_draft(any_store, ann.id, "contact", "1") is None
    bobs = drafts.load_draft(any_store, bob.id, "contact", "1")
    assert bobs is not None and bobs.payload == {"note": "bob's"}
    drafts.delete_draft(any_store, bob.id, "contact", "1")
    drafts.delete_draft(any_store, bob.id, "contact", "1")  # twice is fine
    assert drafts.load_draft(any_store, bob.id, "contact", "1") is None


# ---------------------------------------------------------------- callback window


def ny(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        ("same business day", ny(2026, 11, 25, 10), ny(2026, 11, 25, 17)),  # Wed morning
        ("same business day", ny(2026, 11, 25, 17, 30), ny(2026, 11, 26, 17)),  # after 5
        ("same business day", ny(2026, 11, 27, 18), ny(2026, 11, 30, 17)),  # Fri eve -> Mon
        ("same business day", ny(2026, 11, 28, 9), ny(2026, 11, 30, 17)),  # Saturday
        ("Same-Business-Day", ny(2026, 11, 25, 10), ny(2026, 11, 25, 17)),
        ("next business day", ny(2026, 11, 27, 9), ny(2026, 11, 30, 17)),
        ("+4h", ny(2026, 11, 25, 10), ny(2026, 11, 25, 14)),
        ("tomorrow noon", ny(2026, 11, 25, 10), ny(2026, 11, 26, 12)),
    ],
)
def test_callback_due(window: str, now: datetime, expected: datetime) -> None:
    due = contacts.callback_due(window, now.astimezone(UTC), tz=NY)
    assert due == expected and due.tzinfo is not None and due.utcoffset() == timedelta(0)


def test_callback_window_that_cannot_be_read() -> None:
    with pytest.raises(ValueError, match="callback_window"):
        contacts.callback_due("whenever", NOW, tz=NY)


def test_callback_title() -> None:
    assert contacts.callback_title("\n  Asks about ride to dialysis\nmore") == (
        "Call back: Asks about ride to dialysis"
    )
    assert contacts.callback_title("") == "Call back"
    assert len(contacts.callback_title("x" * 500)) <= 72


def test_inbound_with_callback(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    due = contacts.callback_due("same business day", NOW, tz=NY)
    logged = contacts.log_contact(
        any_store,
        ann,
        cid,
        direction="inbound",
        note="Wants a ride Thursday",
        follow_ups=[
            FollowUpRequest(
                due_at=due,
                title=contacts.callback_title("Wants a ride Thursday"),
                kind="callback",
                source="inbound_call",
            )
        ],
    )
    fu = _get(any_store, FollowUp, logged.followup_ids[0])
    assert (fu.kind, fu.source, fu.due_at) == ("callback", "inbound_call", due)
    assert _get(any_store, Contact, logged.contact_id).direction == "inbound"


# ---------------------------------------------------------------- timeline queries


def test_timeline_filters_and_windows(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cid = _client(any_store, ann)
    other = add_client(any_store, "Walter", "Brooks", ann)
    specs = [
        ("reached", "phone", "client"),
        ("left_message", "phone", "client"),
        ("reached", "phone", "pcp"),
        ("reached", "in_person", "client"),
        ("no_answer", "phone", "caregiver"),
    ]
    for i, (outcome, method, party) in enumerate(specs * 2):
        add_contact(
            any_store,
            cid,
            NOW - timedelta(days=i),
            ann,
            outcome=outcome,
            method=method,
            party=party,
        )
    add_contact(any_store, other, NOW, ann)
    with any_store.read() as s:
        assert timeline_count(s, cid) == 10
        assert timeline_count(s, cid, TimelineFilter(party="pcp")) == 2
        reached_phone = TimelineFilter(method="phone", outcome="reached")
        assert timeline_count(s, cid, reached_phone) == 4
        page = timeline(s, cid, reached_phone, limit=3)
        assert len(page) == 3
        rest = timeline(s, cid, reached_phone, before=page[-1].cursor, limit=3)
        assert len(rest) == 1
        got = [e.contact for e in page + rest]
        assert all(c.method == "phone" and c.outcome == "reached" for c in got)
        assert [c.occurred_at for c in got] == sorted((c.occurred_at for c in got), reverse=True)
        assert {c.party for c in got} == {"client", "pcp"}
        assert TimelineFilter(party="pcp").active and not TimelineFilter().active


def test_form_client_respects_access(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    chw = add_user(any_store, "cal", role="chw")
    cid = add_client(any_store, "Rosa", "Alvarez", ann, preferred_name="Rosie", phone="555")
    with any_store.read() as s:
        fc = form_client(s, ann, cid)
        assert fc is not None and fc.name == "Alvarez, Rosa (Rosie)" and fc.phone == "555"
        assert fc.preferred_contact == "phone"
        assert form_client(s, chw, cid) is None
        assert form_client(s, ann, 9999) is None


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2090, 1, 1),
        timezones=st.just(UTC),
    ),
    st.sampled_from(["same business day", "next business day"]),
)
def test_callback_due_is_a_weekday_at_five_and_never_past(now: datetime, window: str) -> None:
    due = contacts.callback_due(window, now, tz=NY)
    local = due.astimezone(NY)
    assert due.utcoffset() == timedelta(0) and due > now
    assert local.weekday() < 5 and (local.hour, local.minute) == (17, 0)
    assert due - now <= timedelta(days=4)  # Friday evening -> Monday 17:00 at the latest
    if window == "next business day":
        assert local.date() > now.astimezone(NY).date()
