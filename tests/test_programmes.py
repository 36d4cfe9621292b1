"""Programmes: enrolment, TCM follow-ups on business days, and the outreach cadence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from dateutil import tz as dateutil_tz
from sqlmodel import col, select

from cm_tui.services import contacts, followups
from cm_tui.services import programmes as prog
from cm_tui.services.clients import NotAllowed
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, FollowUp, ProgramEnrollment
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_user

LOCAL = dateutil_tz.tzlocal()


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL).astimezone(UTC)


# Monday 2 November 2026, 08:00 local: before the morning slot.
MONDAY = local(date(2026, 11, 2), time(8, 0))


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(MONDAY)
    yield
    freeze_clock(None)


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    ann = add_user(any_store, "ann")
    sup = add_user(any_store, "sue", role="supervisor")
    client = add_client(any_store, "Rosa", "Alvarez", ann, preferred_contact="phone")
    return {"store": any_store, "ann": ann, "sup": sup, "client": client}


def open_followups(store: Store, client_id: int) -> list[FollowUp]:
    with store.read() as s:
        return list(
            s.exec(
                select(FollowUp)
                .where(FollowUp.client_id == client_id, FollowUp.status == "open")
                .order_by(col(FollowUp.due_at))
            ).all()
        )


def get_followup(store: Store, fu_id: int) -> FollowUp:
    with store.read() as s:
        fu = s.get(FollowUp, fu_id)
        assert fu is not None
        return fu


# ---------------------------------------------------------------- business days


def test_us_federal_holidays_with_observance() -> None:
    h = prog.us_federal_holidays(2026)
    assert date(2026, 7, 3) in h  # 4 July 2026 is a Saturday: observed Friday
    assert date(2026, 11, 26) in h  # Thanksgiving
    assert date(2026, 1, 19) in h  # MLK day, third Monday
    assert date(2026, 5, 25) in h  # Memorial Day, last Monday
    assert date(2026, 11, 27) not in h
    assert date(2027, 12, 31) in prog.us_federal_holidays(2027)  # 1 Jan 2028 is a Saturday


def test_calendar_from_settings() -> None:
    cal = prog.calendar_from_settings(
        {"business_days": {"us_federal_holidays": False, "holidays": ["2026-12-24"]}}
    )
    assert not cal.is_business_day(date(2026, 12, 24))
    assert cal.is_business_day(date(2026, 11, 26))  # federal list turned off
    with pytest.raises(ValueError, match="not a date"):
        prog.calendar_from_settings({"business_days": {"holidays": ["soon"]}})


# ---------------------------------------------------------------- TCM


def tcm_followups(org: dict[str, Any], discharge_on: date, complexity: str) -> list[FollowUp]:
    store = org["store"]
    done = prog.enrol(
        store, org["ann"], org["client"], "TCM", discharge_on=discharge_on, complexity=complexity
    )
    assert len(done.followup_ids) == 2
    return [get_followup(store, i) for i in done.followup_ids]


def test_tcm_discharge_thursday_before_weekend(org: dict[str, Any]) -> None:
    freeze_clock(local(date(2026, 11, 6), time(9, 0)))  # Friday
    contact, visit = tcm_followups(org, date(2026, 11, 5), "high")  # discharged Thursday
    # Two business days after Thursday: Friday, then Monday (the weekend does not count).
    assert contact.due_at == local(date(2026, 11, 9), time(17, 0))
    assert contact.kind == "call" and contact.priority == "urgent"
    assert "2 business days" in contact.title
    assert visit.due_at == local(date(2026, 11, 12), time(17, 0))  # within 7 days
    assert visit.kind == "visit" and "7 days" in visit.title
    with org["store"].read() as s:
        e = s.exec(select(ProgramEnrollment)).one()
    assert (e.program, e.discharge_on, e.complexity) == ("TCM", date(2026, 11, 5), "high")
    assert e.outreach_status == "in_progress" and e.outreach_followup_id == contact.id


def test_tcm_over_a_holiday_and_moderate_visit(org: dict[str, Any]) -> None:
    freeze_clock(local(date(2026, 7, 2), time(18, 0)))
    contact, visit = tcm_followups(org, date(2026, 7, 2), "moderate")  # Thursday
    # Friday 3 July is the observed Independence Day: Monday 6, Tuesday 7.
    assert contact.due_at == local(date(2026, 7, 7), time(17, 0))
    assert visit.due_at == local(date(2026, 7, 16), time(17, 0))  # 14 days
    assert "14 days" in visit.title


def test_tcm_over_thanksgiving() -> None:
    contact, _ = prog.tcm_deadlines(date(2026, 11, 25), "high", tz=LOCAL)
    assert contact == local(date(2026, 11, 30), time(17, 0))  # Fri 27, Mon 30


def test_tcm_visit_deadline_on_a_weekend_is_booked_before_it() -> None:
    _, visit = prog.tcm_deadlines(date(2026, 11, 8), "high", tz=LOCAL)  # Sunday + 7 = Sunday
    assert visit == local(date(2026, 11, 13), time(17, 0))  # the Friday before


def test_tcm_needs_a_past_discharge_date(org: dict[str, Any]) -> None:
    with pytest.raises(prog.ProgrammeError, match="discharge date"):
        prog.enrol(org["store"], org["ann"], org["client"], "TCM")
    with pytest.raises(prog.ProgrammeError, match="future"):
        prog.enrol(org["store"], org["ann"], org["client"], "TCM", discharge_on=date(2026, 12, 1))
    assert open_followups(org["store"], org["client"]) == []


# ---------------------------------------------------------------- enrol / discharge


def test_enrol_records_reasons_consent_and_refuses_a_second_open_enrolment(
    org: dict[str, Any],
) -> None:
    store = org["store"]
    done = prog.enrol(
        store,
        org["ann"],
        org["client"],
        "ccm",
        entry_reason="Two or more chronic conditions",
        consent_on=date(2026, 10, 30),
    )
    row = done.enrollment
    assert (row.programme, row.entry_reason, row.consent_on) == (
        "CCM",
        "Two or more chronic conditions",
        date(2026, 10, 30),
    )
    assert done.warnings == []
    with pytest.raises(prog.ProgrammeError, match="already enrolled"):
        prog.enrol(store, org["ann"], org["client"], "CCM")
    ended = prog.discharge(store, org["ann"], row.id, exit_reason="Goals met")
    assert ended.end_on == MONDAY.astimezone(LOCAL).date() and ended.exit_reason == "Goals met"
    assert ended.outreach_status == "stopped"
    assert open_followups(store, org["client"]) == []  # the attempt follow-up was cancelled
    assert [r.id for r in prog.enrollments(store, org["ann"], org["client"])] == [row.id]
    custom = prog.enrol(store, org["ann"], org["client"], "Diabetes prevention")
    assert custom.enrollment.programme == "Diabetes prevention"
    assert custom.enrollment.outreach_planned == 3
    assert (
        "needs the client's consent"
        in prog.enrol(store, org["ann"], org["client"], "complex", start_outreach=False).warnings[0]
    )


# ---------------------------------------------------------------- outreach cadence


def attempt(org: dict[str, Any], outcome: str, at: datetime, **kw: Any) -> contacts.LoggedContact:
    freeze_clock(at)
    return contacts.log_contact(org["store"], org["ann"], org["client"], outcome=outcome, **kw)


def test_three_failed_attempts_flag_unable_to_reach(org: dict[str, Any]) -> None:
    store = org["store"]
    done = prog.enrol(store, org["ann"], org["client"], "CCM", consent_on=date(2026, 11, 1))
    [first] = open_followups(store, org["client"])
    assert first.id == done.enrollment.outreach_followup_id
    assert first.due_at == local(date(2026, 11, 2), time(10, 0))  # day 0, morning
    assert "Outreach 1 of 3" in first.title and "phone" in first.title

    one = attempt(org, "no_answer", local(date(2026, 11, 2), time(10, 5)))
    [step] = one.outreach
    assert (step.status, step.attempts) == ("in_progress", 1)
    assert get_followup(store, first.id).status == "done"
    assert get_followup(store, first.id).completed_contact_id == one.contact_id
    [second] = open_followups(store, org["client"])
    assert second.due_at == local(date(2026, 11, 5), time(15, 0))  # day 3, afternoon
    assert "Outreach 2 of 3" in second.title and "text" in second.title

    two = attempt(org, "left_message", local(date(2026, 11, 5), time(15, 10)))
    assert two.outreach[0].attempts == 2
    [third] = open_followups(store, org["client"])
    assert third.due_at == local(date(2026, 11, 9), time(10, 0))  # day 7, morning
    assert "Outreach 3 of 3" in third.title and "letter" in third.title

    # Nobody on the unable-to-reach list yet.
    assert prog.unable_to_reach(store, org["sup"]) == []

    three = attempt(org, "wrong_number", local(date(2026, 11, 9), time(10, 2)))
    assert three.outreach[0].status == "unable_to_reach"
    assert open_followups(store, org["client"]) == []  # no silent fourth attempt
    assert get_followup(store, third.id).status == "done"
    [flag] = prog.unable_to_reach(store, org["sup"])
    assert (flag.client_id, flag.programme, flag.attempts) == (org["client"], "CCM", 3)
    assert flag.client_name == "Alvarez, Rosa" and flag.care_manager == "Ann"
    assert prog.unable_to_reach_count(store, org["sup"]) == 1
    assert [r.client_id for r in prog.unable_to_reach(store, org["ann"])] == [org["client"]]
    assert (
        prog.unable_to_reach(store, org["sup"], after=(flag.flagged_at, flag.enrollment_id)) == []
    )
    with store.read() as s:
        details = [
            e.detail or ""
            for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "enrollment")).all()
        ]
    assert any("unable to reach after 3 attempts" in d for d in details)

    # A fourth failed call changes nothing: outreach is over until reviewed.
    attempt(org, "no_answer", local(date(2026, 11, 9), time(16, 0)))
    assert open_followups(store, org["client"]) == []

    with pytest.raises(NotAllowed):
        prog.review_unable_to_reach(store, org["ann"], flag.enrollment_id, "restart")
    again = prog.review_unable_to_reach(
        store, org["sup"], flag.enrollment_id, "restart", note="New number from the PCP"
    )
    assert (again.outreach_status, again.outreach_attempts) == ("in_progress", 0)
    assert again.reviewed_at is not None
    assert len(open_followups(store, org["client"])) == 1
    assert prog.unable_to_reach(store, org["sup"]) == []


def test_a_reached_contact_stops_the_cadence(org: dict[str, Any]) -> None:
    store = org["store"]
    prog.enrol(store, org["ann"], org["client"], "complex", consent_on=date(2026, 11, 1))
    attempt(org, "no_answer", local(date(2026, 11, 2), time(10, 5)))
    [second] = open_followups(store, org["client"])
    reached = attempt(org, "reached", local(date(2026, 11, 3), time(11, 0)), party="caregiver")
    assert reached.outreach[0].status == "reached"
    assert get_followup(store, second.id).status == "done"
    assert open_followups(store, org["client"]) == []
    # Later failed calls are ordinary calls now.
    later = attempt(org, "no_answer", local(date(2026, 11, 4), time(11, 0)))
    assert later.outreach == ()
    assert open_followups(store, org["client"]) == []


def test_completing_the_attempt_follow_up_with_a_failed_call(org: dict[str, Any]) -> None:
    """The queue's "complete with a contact" on the attempt itself: no conflict, the
    next attempt is scheduled."""
    store = org["store"]
    prog.enrol(store, org["ann"], org["client"], "CCM", consent_on=date(2026, 11, 1))
    [first] = open_followups(store, org["client"])
    freeze_clock(local(date(2026, 11, 2), time(10, 5)))
    logged, completed = followups.log_contact_and_complete(
        store, org["ann"], first.id, first.version, outcome="no_answer"
    )
    assert completed.contact_id == logged.contact_id
    assert logged.outreach[0].attempts == 1
    [second] = open_followups(store, org["client"])
    assert "Outreach 2 of 3" in second.title


def test_late_attempts_are_scheduled_in_the_future_on_business_days(org: dict[str, Any]) -> None:
    store = org["store"]
    prog.enrol(store, org["ann"], org["client"], "CCM", consent_on=date(2026, 11, 1))
    # The first attempt only happens on Friday 6 Nov at 16:00: day 3 has gone by.
    attempt(org, "no_answer", local(date(2026, 11, 6), time(16, 0)))
    [second] = open_followups(store, org["client"])
    assert second.due_at == local(date(2026, 11, 9), time(15, 0))  # Monday afternoon
