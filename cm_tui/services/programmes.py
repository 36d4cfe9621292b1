"""Programmes: enrolment, transitional care follow-ups, and the outreach cadence.

Programme definitions are data (:data:`PROGRAMMES`): a title, whether consent is
expected, and the outreach cadence used while a newly enrolled (or unreached)
client is being reached. Any programme name without a definition is a custom
programme and gets :data:`CUSTOM`'s cadence.

**Transitional care (TCM).** Enrolling with a discharge date creates the two
standard follow-ups (DOMAIN.md): an interactive contact within 2 business days of
discharge (due 17:00 local on the 2nd business day after it), and a face-to-face
visit within 7 calendar days (high complexity) or 14 (moderate), due 17:00 on the
last business day on or before that day. The contact follow-up is also the first
outreach attempt.

**Business days** are Monday to Friday except holidays. The default calendar
(:func:`default_calendar`) holds the US federal holidays (computed with dateutil,
with the Saturday → Friday / Sunday → Monday observance rule); an organisation
adds its own days or turns the federal list off with :func:`calendar_from_settings`
(config file table ``[business_days]``: ``us_federal_holidays = true``,
``holidays = ["2026-12-24"]``) and :func:`set_default_calendar`.

**Outreach cadence.** While ``outreach_status`` is ``in_progress`` one open
follow-up carries the next attempt. Each failed outbound attempt (no answer, left
message, wrong number) logged with :func:`cm_tui.services.contacts.log_contact`
completes that follow-up and schedules the next attempt at the cadence's next day
offset from the start of outreach (rolled to a business day), alternating morning
and afternoon, preferred contact method first and then the alternatives. After
the last attempt the enrolment is flagged ``unable_to_reach`` for a supervisor's
review (:func:`unable_to_reach`, :func:`review_unable_to_reach`) — nobody is
silently dropped. A contact that reaches the client (or their caregiver) ends
outreach (``reached``); one they decline ends it as ``declined``.

Every change is one transaction with its audit events; follow-ups are made through
:func:`cm_tui.services.followups.create_followup`.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil import tz as dateutil_tz
from sqlalchemy import event, func
from sqlmodel import Session, col, select

from cm_tui.dates import END_OF_DAY
from cm_tui.services import followups
from cm_tui.services.business_days import (
    BusinessCalendar,
    calendar_from_settings,
    default_calendar,
    set_default_calendar,
    us_federal_holidays,
)
from cm_tui.services.clients import NotAllowed
from cm_tui.services.contacts import REACHED_PARTIES, ContactError, refuse_nul
from cm_tui.services.followups import _InTransaction
from cm_tui.store import audit
from cm_tui.store.access import Viewer, caseload_scope
from cm_tui.store.db import Store
from cm_tui.store.models import Client, FollowUp, ProgramEnrollment, User
from cm_tui.store.queries import open_client
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import FAILED_ATTEMPT_OUTCOMES, TCM_COMPLEXITY, label

__all__ = [
    "CUSTOM",
    "PROGRAMMES",
    "BusinessCalendar",
    "Cadence",
    "Enrolled",
    "EnrollmentRow",
    "NotAllowed",
    "OutreachStep",
    "ProgrammeDefinition",
    "ProgrammeError",
    "UnableToReachRow",
    "calendar_from_settings",
    "default_calendar",
    "definition",
    "discharge",
    "enrol",
    "enrollments",
    "on_contact_logged",
    "review_unable_to_reach",
    "set_default_calendar",
    "start_outreach",
    "tcm_deadlines",
    "unable_to_reach",
    "unable_to_reach_count",
    "us_federal_holidays",
]

REASON_MAX = 500
MORNING = time(10, 0)
AFTERNOON = time(15, 0)
REVIEW_DECISIONS = ("restart", "discharge", "acknowledge")


class ProgrammeError(ValueError):
    """Input the service refuses, worded for the person at the keyboard."""


# ---------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Cadence:
    """Outreach attempts at ``day_offsets`` from the start of outreach (rolled to a
    business day), within ``window_days``; attempt k is at ``slots[k % len]``."""

    day_offsets: tuple[int, ...] = (0, 3, 7)
    window_days: int = 10
    slots: tuple[time, ...] = (MORNING, AFTERNOON)

    @property
    def attempts(self) -> int:
        return len(self.day_offsets)


@dataclass(frozen=True)
class ProgrammeDefinition:
    name: str
    title: str
    cadence: Cadence | None = Cadence()
    outreach_on_enrol: bool = True
    consent_expected: bool = False
    tcm: bool = False


PROGRAMMES: dict[str, ProgrammeDefinition] = {
    d.name: d
    for d in (
        ProgrammeDefinition("CCM", "Chronic care management", consent_expected=True),
        ProgrammeDefinition(
            "TCM",
            "Transitional care after a hospital stay",
            Cadence((0, 1, 2), 3),
            tcm=True,
        ),
        ProgrammeDefinition("complex", "Complex care management", consent_expected=True),
        ProgrammeDefinition("behavioural health", "Behavioural health care management"),
        ProgrammeDefinition("maternity", "Maternity care management", Cadence((0, 2, 5), 7)),
    )
}
CUSTOM = ProgrammeDefinition("custom", "Care management programme")


def definition(programme: str) -> ProgrammeDefinition:
    """The definition of ``programme`` (case-insensitive); a name without one is a
    custom programme with :data:`CUSTOM`'s rules under its own name."""
    for name, found in PROGRAMMES.items():
        if name.lower() == programme.strip().lower():
            return found
    return ProgrammeDefinition(
        programme.strip(),
        CUSTOM.title,
        CUSTOM.cadence,
        CUSTOM.outreach_on_enrol,
        CUSTOM.consent_expected,
    )


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class EnrollmentRow:
    id: int
    client_id: int
    programme: str
    start_on: date
    end_on: date | None
    entry_reason: str | None
    exit_reason: str | None
    consent_on: date | None
    discharge_on: date | None
    complexity: str | None
    outreach_status: str | None
    outreach_attempts: int
    outreach_planned: int  # attempts in the cadence
    outreach_next_at: datetime | None
    outreach_followup_id: int | None
    unable_to_reach_at: datetime | None
    reviewed_at: datetime | None

    @property
    def active(self) -> bool:
        return self.end_on is None


@dataclass(frozen=True)
class Enrolled:
    enrollment: EnrollmentRow
    followup_ids: list[int] = field(default_factory=list)  # TCM and first-attempt follow-ups
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OutreachStep:
    """What a logged contact did to an enrolment's outreach."""

    enrollment_id: int
    status: str  # outreach_status after the contact
    attempts: int
    next_followup_id: int | None = None
    next_due_at: datetime | None = None


@dataclass(frozen=True)
class UnableToReachRow:
    """A row of the supervisor's "unable to reach" list."""

    enrollment_id: int
    client_id: int
    client_name: str
    programme: str
    attempts: int
    flagged_at: datetime
    care_manager: str | None
    phone: str | None
    preferred_contact: str
    reviewed_at: datetime | None


# ---------------------------------------------------------------- helpers


def _reason(text: str | None, what: str) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        refuse_nul(text, what)
    except ContactError as exc:
        raise ProgrammeError(str(exc)) from None
    words = " ".join(text.split())
    if len(words) > REASON_MAX:
        raise ProgrammeError(f"{what} holds at most {REASON_MAX} characters.")
    return words


def _client(session: Session, viewer: Viewer, client_id: int) -> Client:
    client = open_client(session, viewer, client_id)
    if client is None:
        if session.get(Client, client_id) is None:
            raise ProgrammeError("That client record no longer exists.")
        raise NotAllowed("You do not have access to this client's record.")
    return client


def _enrollment(session: Session, viewer: Viewer, enrollment_id: int) -> ProgramEnrollment:
    row = session.get(ProgramEnrollment, enrollment_id)
    if row is None:
        raise ProgrammeError("That enrolment no longer exists.")
    _client(session, viewer, row.client_id)
    return row


def _row(e: ProgramEnrollment) -> EnrollmentRow:
    assert e.id is not None
    cadence = definition(e.program).cadence
    return EnrollmentRow(
        id=e.id,
        client_id=e.client_id,
        programme=e.program,
        start_on=e.start_on,
        end_on=e.end_on,
        entry_reason=e.entry_reason,
        exit_reason=e.exit_reason,
        consent_on=e.consent_on,
        discharge_on=e.discharge_on,
        complexity=e.complexity,
        outreach_status=e.outreach_status,
        outreach_attempts=e.outreach_attempts,
        outreach_planned=cadence.attempts if cadence else 0,
        outreach_next_at=e.outreach_next_at,
        outreach_followup_id=e.outreach_followup_id,
        unable_to_reach_at=e.unable_to_reach_at,
        reviewed_at=e.reviewed_at,
    )


def _at(day: date, moment: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def tcm_deadlines(
    discharge_on: date,
    complexity: str,
    *,
    calendar: BusinessCalendar | None = None,
    tz: tzinfo | None = None,
) -> tuple[datetime, datetime]:
    """(interactive contact due, face-to-face visit due) for a TCM discharge.

    Contact: 17:00 local on the 2nd business day after discharge. Visit: within 7
    calendar days (``high`` complexity) or 14 (``moderate``), due 17:00 on the last
    business day on or before the deadline (so the visit is booked on a working day
    and still in time).
    """
    if complexity not in TCM_COMPLEXITY:
        raise ProgrammeError("TCM complexity is moderate or high.")
    cal = calendar or default_calendar()
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    contact_day = cal.add_business_days(discharge_on, 2)
    visit_day = cal.roll_back(discharge_on + timedelta(days=7 if complexity == "high" else 14))
    return _at(contact_day, END_OF_DAY, zone), _at(visit_day, END_OF_DAY, zone)


def _methods(preferred: str) -> list[str]:
    """Preferred first, then the alternatives (phone, text, letter)."""
    rest = [m for m in ("phone", "text", "letter") if m != preferred]
    return [preferred, *rest]


def _attempt_due(
    started: date,
    k: int,
    cadence: Cadence,
    now: datetime,
    cal: BusinessCalendar,
    zone: tzinfo,
) -> datetime:
    slot = cadence.slots[k % len(cadence.slots)]
    day = cal.roll_forward(started + timedelta(days=cadence.day_offsets[k]))
    due = _at(day, slot, zone)
    if due > now:
        return due
    if k == 0:
        return now  # the first attempt is due at once
    today = now.astimezone(zone).date()
    day = cal.roll_forward(today)
    due = _at(day, slot, zone)
    while due <= now:
        day = cal.add_business_days(day, 1)
        due = _at(day, slot, zone)
    return due


def _attempt_title(programme: str, k: int, cadence: Cadence, method: str, slot: time) -> str:
    part = "morning" if slot < time(12, 0) else "afternoon"
    return f"Outreach {k + 1} of {cadence.attempts} ({programme}): {label(method)}, {part}"


def _schedule_attempt(
    store: Store,
    session: Session,
    viewer: Viewer,
    enrollment: ProgramEnrollment,
    client: Client,
    k: int,
    now: datetime,
    cal: BusinessCalendar,
    zone: tzinfo,
) -> tuple[int, datetime]:
    cadence = definition(enrollment.program).cadence
    assert cadence is not None and enrollment.outreach_started_on is not None
    due = _attempt_due(enrollment.outreach_started_on, k, cadence, now, cal, zone)
    methods = _methods(client.preferred_contact)
    method = methods[k % len(methods)]
    slot = cadence.slots[k % len(cadence.slots)]
    created = followups.create_followup(
        _InTransaction(store, session),
        viewer,
        client.id or 0,
        title=_attempt_title(enrollment.program, k, cadence, method, slot),
        due_at=due,
        kind="visit" if method == "in_person" else "call",
        priority="high" if k == 0 else "normal",
        source="programme",
    )
    return created.id, due


# ---------------------------------------------------------------- enrol / discharge


def enrol(
    store: Store,
    viewer: Viewer,
    client_id: int,
    programme: str,
    *,
    start_on: date | None = None,
    entry_reason: str | None = None,
    consent_on: date | None = None,
    discharge_on: date | None = None,
    complexity: str = "moderate",
    start_outreach: bool | None = None,
    calendar: BusinessCalendar | None = None,
    tz: tzinfo | None = None,
) -> Enrolled:
    """Enrol a client in a programme (one open enrolment per programme).

    TCM needs ``discharge_on`` (not in the future) and creates the contact and visit
    follow-ups (:func:`tcm_deadlines`); the contact follow-up is the first outreach
    attempt. Other programmes start outreach with a first-attempt follow-up when
    ``start_outreach`` (default: the programme's ``outreach_on_enrol``).
    """
    name = " ".join(programme.split())
    if not name:
        raise ProgrammeError("Name the programme.")
    if len(name) > 60:
        raise ProgrammeError("A programme name holds at most 60 characters.")
    spec = definition(name)
    reason = _reason(entry_reason, "The entry reason")
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    cal = calendar or default_calendar()
    now = utcnow()
    today = now.astimezone(zone).date()
    start = start_on or today
    if consent_on is not None and consent_on > today:
        raise ProgrammeError("The consent date can't be in the future.")
    if spec.tcm:
        if discharge_on is None:
            raise ProgrammeError("TCM needs the hospital discharge date.")
        if discharge_on > today:
            raise ProgrammeError("The discharge date can't be in the future.")
        if complexity not in TCM_COMPLEXITY:
            raise ProgrammeError("TCM complexity is moderate or high.")
    warnings: list[str] = []
    if spec.consent_expected and consent_on is None:
        warnings.append(f"{spec.name} needs the client's consent on file; add its date.")
    outreach = spec.cadence is not None and (
        spec.outreach_on_enrol if start_outreach is None else start_outreach
    )
    with store.write() as session:
        client = _client(session, viewer, client_id)
        session.execute(select(Client.id).where(col(Client.id) == client_id).with_for_update())
        open_same = session.exec(
            select(ProgramEnrollment.id).where(
                ProgramEnrollment.client_id == client_id,
                func.lower(ProgramEnrollment.program) == spec.name.lower(),
                col(ProgramEnrollment.end_on).is_(None),
            )
        ).first()
        if open_same is not None:
            raise ProgrammeError(f"This client is already enrolled in {spec.name}.")
        row = ProgramEnrollment(
            client_id=client_id,
            program=spec.name,
            start_on=start,
            entry_reason=reason,
            consent_on=consent_on,
            discharge_on=discharge_on if spec.tcm else None,
            complexity=complexity if spec.tcm else None,
            created_by_id=viewer.id,
            created_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        made: list[int] = []
        if spec.tcm and discharge_on is not None:
            contact_due, visit_due = tcm_deadlines(discharge_on, complexity, calendar=cal, tz=zone)
            days = 7 if complexity == "high" else 14
            first = followups.create_followup(
                _InTransaction(store, session),
                viewer,
                client_id,
                title=f"TCM: interactive contact within 2 business days of discharge "
                f"({discharge_on.isoformat()})",
                due_at=contact_due,
                kind="call",
                priority="urgent",
                source="programme",
            )
            visit = followups.create_followup(
                _InTransaction(store, session),
                viewer,
                client_id,
                title=f"TCM: face-to-face visit within {days} days of discharge",
                due_at=visit_due,
                kind="visit",
                priority="high",
                source="programme",
            )
            made += [first.id, visit.id]
            warnings += [w for w in first.warnings + visit.warnings if w not in warnings]
            if outreach:
                row.outreach_status = "in_progress"
                row.outreach_started_on = today
                row.outreach_followup_id = first.id
                row.outreach_next_at = contact_due
        elif outreach:
            row.outreach_status = "in_progress"
            row.outreach_started_on = today
            fu_id, due = _schedule_attempt(store, session, viewer, row, client, 0, now, cal, zone)
            row.outreach_followup_id, row.outreach_next_at = fu_id, due
            made.append(fu_id)
        session.add(row)
        session.flush()
        detail = (
            f"client {client_id}: enrolled in {spec.name} from {start.isoformat()}"
            + (
                f", discharged {discharge_on.isoformat()} ({complexity})"
                if spec.tcm and discharge_on
                else ""
            )
            + (", outreach started" if row.outreach_status else "")
        )
        audit.record_by(session, viewer, "create", "enrollment", row.id, detail)
        return Enrolled(_row(row), made, warnings)


def discharge(
    store: Store,
    viewer: Viewer,
    enrollment_id: int,
    *,
    exit_reason: str,
    end_on: date | None = None,
) -> EnrollmentRow:
    """End an enrolment (an exit reason is required); outreach in progress stops and
    its open attempt follow-up is cancelled."""
    reason = _reason(exit_reason, "The exit reason")
    if reason is None:
        raise ProgrammeError("Say why the client leaves the programme.")
    with store.write() as session:
        row = _enrollment(session, viewer, enrollment_id)
        if row.end_on is not None:
            raise ProgrammeError("This enrolment has already ended.")
        end = end_on or utcnow().astimezone(dateutil_tz.tzlocal()).date()
        if end < row.start_on:
            raise ProgrammeError("The end date can't be before the start.")
        row.end_on, row.exit_reason = end, reason
        if row.outreach_status == "in_progress":
            row.outreach_status = "stopped"
            _cancel_open(store, session, viewer, row.outreach_followup_id)
            row.outreach_next_at = None
        session.add(row)
        session.flush()
        audit.record_by(
            session, viewer, "update", "enrollment", enrollment_id, f"discharged {end.isoformat()}"
        )
        return _row(row)


def _cancel_open(store: Store, session: Session, viewer: Viewer, fu_id: int | None) -> None:
    if fu_id is None:
        return
    fu = session.get(FollowUp, fu_id)
    if fu is None or fu.status != "open":
        return
    # On someone else's list it stays there for them to close.
    with suppress(followups.FollowUpError, NotAllowed):
        followups.cancel_followup(_InTransaction(store, session), viewer, fu_id, fu.version)


def start_outreach(
    store: Store,
    viewer: Viewer,
    enrollment_id: int,
    *,
    calendar: BusinessCalendar | None = None,
    tz: tzinfo | None = None,
) -> EnrollmentRow:
    """(Re)start outreach for an enrolled client who has not been reached: attempt 1
    is scheduled now and the cadence runs from today."""
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    cal = calendar or default_calendar()
    now = utcnow()
    with store.write() as session:
        row = _enrollment(session, viewer, enrollment_id)
        _restart(store, session, viewer, row, now, cal, zone)
        audit.record_by(session, viewer, "update", "enrollment", enrollment_id, "outreach started")
        return _row(row)


def _restart(
    store: Store,
    session: Session,
    viewer: Viewer,
    row: ProgramEnrollment,
    now: datetime,
    cal: BusinessCalendar,
    zone: tzinfo,
) -> None:
    if row.end_on is not None:
        raise ProgrammeError("This enrolment has ended; enrol the client again.")
    if definition(row.program).cadence is None:
        raise ProgrammeError(f"{row.program} has no outreach cadence.")
    if row.outreach_status == "in_progress":
        raise ProgrammeError("Outreach is already under way.")
    client = session.get(Client, row.client_id)
    assert client is not None
    row.outreach_status = "in_progress"
    row.outreach_started_on = now.astimezone(zone).date()
    row.outreach_attempts = 0
    row.unable_to_reach_at = None
    fu_id, due = _schedule_attempt(store, session, viewer, row, client, 0, now, cal, zone)
    row.outreach_followup_id, row.outreach_next_at = fu_id, due
    session.add(row)
    session.flush()


# ---------------------------------------------------------------- the contact hook


def on_contact_logged(
    store: Store,
    session: Session,
    viewer: Viewer,
    client: Client,
    contact_id: int,
    *,
    outcome: str,
    party: str,
    direction: str,
    calendar: BusinessCalendar | None = None,
    tz: tzinfo | None = None,
) -> list[OutreachStep]:
    """Advance the outreach of every open enrolment of this client that is in
    outreach; called by ``log_contact`` inside its transaction (``store`` is the
    in-transaction store).

    A failed outbound attempt counts one attempt and schedules the next (or flags
    unable-to-reach after the last); reaching the client or caregiver ends outreach
    as ``reached``, their declining as ``declined``. The attempt follow-up is
    completed with the contact when the transaction commits (unless the contact was
    logged to complete it, which does it already).
    """
    failed = outcome in FAILED_ATTEMPT_OUTCOMES and direction == "outbound"
    reached = outcome == "reached" and party in REACHED_PARTIES
    declined = outcome == "declined" and party in REACHED_PARTIES
    if not (failed or reached or declined):
        return []
    assert client.id is not None
    rows = session.exec(
        select(ProgramEnrollment)
        .where(
            ProgramEnrollment.client_id == client.id,
            ProgramEnrollment.outreach_status == "in_progress",
            col(ProgramEnrollment.end_on).is_(None),
        )
        .order_by(col(ProgramEnrollment.id))
        .limit(10)
    ).all()
    if not rows:
        return []
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    cal = calendar or default_calendar()
    now = utcnow()
    steps = []
    for row in rows:
        assert row.id is not None
        done_fu = row.outreach_followup_id
        next_id: int | None = None
        next_due: datetime | None = None
        if reached or declined:
            row.outreach_status = "reached" if reached else "declined"
            row.outreach_next_at = None
            detail = f"outreach ended: {row.outreach_status} (contact {contact_id})"
        else:
            row.outreach_attempts += 1
            cadence = definition(row.program).cadence
            planned = cadence.attempts if cadence else 0
            if row.outreach_attempts >= planned:
                row.outreach_status = "unable_to_reach"
                row.unable_to_reach_at = now
                row.reviewed_at = row.reviewed_by_id = None
                row.outreach_next_at = None
                row.outreach_followup_id = None
                detail = (
                    f"unable to reach after {row.outreach_attempts} attempts "
                    f"(contact {contact_id}): for supervisor review"
                )
            else:
                next_id, next_due = _schedule_attempt(
                    store, session, viewer, row, client, row.outreach_attempts, now, cal, zone
                )
                row.outreach_followup_id, row.outreach_next_at = next_id, next_due
                detail = (
                    f"outreach attempt {row.outreach_attempts} failed ({outcome}, contact "
                    f"{contact_id}); next due {next_due.isoformat()}"
                )
        session.add(row)
        session.flush()
        audit.record_by(session, viewer, "update", "enrollment", row.id, detail)
        if done_fu is not None:
            _complete_at_commit(store, session, viewer, done_fu, contact_id)
        steps.append(
            OutreachStep(
                row.id, row.outreach_status or "", row.outreach_attempts, next_id, next_due
            )
        )
    return steps


def _complete_at_commit(
    store: Store, session: Session, viewer: Viewer, followup_id: int, contact_id: int
) -> None:
    """Complete the attempt follow-up with the contact just before the transaction
    commits — after a ``log_contact_and_complete`` that completes it itself, which
    then leaves nothing to do."""
    pending: list[tuple[int, int]] = session.info.setdefault("cm_outreach_complete", [])
    if not pending:

        def finish(s: Session) -> None:
            items = s.info.pop("cm_outreach_complete", [])
            for fu_id, cid in items:
                fu = s.get(FollowUp, fu_id)
                if fu is None or fu.status != "open":
                    continue
                # On someone else's list it stays there for them.
                with suppress(followups.FollowUpError, NotAllowed):
                    followups.complete_followup(
                        _InTransaction(store, s), viewer, fu_id, fu.version, contact_id=cid
                    )

        event.listen(session, "before_commit", finish, once=True)
    pending.append((followup_id, contact_id))


# ---------------------------------------------------------------- supervisor review


def review_unable_to_reach(
    store: Store,
    viewer: Viewer,
    enrollment_id: int,
    decision: str,
    *,
    note: str | None = None,
    calendar: BusinessCalendar | None = None,
    tz: tzinfo | None = None,
) -> EnrollmentRow:
    """A supervisor's decision on an unable-to-reach flag: ``restart`` (a new round
    of attempts from today), ``discharge`` (the enrolment ends, exit reason "unable to
    reach"), or ``acknowledge`` (reviewed, no further attempts for now)."""
    if not viewer.sees_everyone:
        raise NotAllowed("A supervisor reviews unable-to-reach clients.")
    if decision not in REVIEW_DECISIONS:
        raise ProgrammeError("Decide restart, discharge or acknowledge.")
    text = _reason(note, "The review note")
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    cal = calendar or default_calendar()
    now = utcnow()
    with store.write() as session:
        row = _enrollment(session, viewer, enrollment_id)
        if row.outreach_status != "unable_to_reach":
            raise ProgrammeError("This client is not flagged unable to reach.")
        if row.reviewed_at is not None and decision == "acknowledge":
            raise ProgrammeError("This flag has already been reviewed.")
        row.reviewed_by_id, row.reviewed_at, row.review_note = viewer.id, now, text
        if decision == "restart":
            row.outreach_status = "stopped"  # _restart needs it not in progress
            _restart(store, session, viewer, row, now, cal, zone)
        elif decision == "discharge":
            row.end_on = now.astimezone(zone).date()
            row.exit_reason = "unable to reach" + (f": {text}" if text else "")
        session.add(row)
        session.flush()
        detail = f"unable-to-reach reviewed: {decision}"
        audit.record_by(session, viewer, "update", "enrollment", enrollment_id, detail)
        return _row(row)


# ---------------------------------------------------------------- reads


def enrollments(
    store: Store, viewer: Viewer, client_id: int, *, include_ended: bool = True, limit: int = 20
) -> list[EnrollmentRow]:
    """The client's enrolments, open first then newest. An audited view."""
    with store.write() as session:
        _client(session, viewer, client_id)
        query = select(ProgramEnrollment).where(ProgramEnrollment.client_id == client_id)
        if not include_ended:
            query = query.where(col(ProgramEnrollment.end_on).is_(None))
        rows = session.exec(
            query.order_by(
                col(ProgramEnrollment.end_on).is_not(None),
                col(ProgramEnrollment.start_on).desc(),
                col(ProgramEnrollment.id).desc(),
            ).limit(limit)
        ).all()
        audit.record_by(
            session, viewer, "view", "enrollment", None, f"client {client_id}: enrolments"
        )
        return [_row(r) for r in rows]


def _utr_query(viewer: Viewer, *, include_reviewed: bool) -> Any:
    query = (
        select(ProgramEnrollment, Client, User.display_name)
        .join(Client, col(Client.id) == col(ProgramEnrollment.client_id))
        .join(User, col(User.id) == col(Client.care_manager_id), isouter=True)
        .where(ProgramEnrollment.outreach_status == "unable_to_reach")
        .where(col(ProgramEnrollment.end_on).is_(None))
    )
    if not include_reviewed:
        query = query.where(col(ProgramEnrollment.reviewed_at).is_(None))
    if not viewer.sees_everyone:
        query = query.where(caseload_scope(viewer))
    return query


def unable_to_reach(
    store: Store,
    viewer: Viewer,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int = 50,
    include_reviewed: bool = False,
) -> list[UnableToReachRow]:
    """Clients flagged unable to reach, oldest flag first (keyset: ``after`` =
    (flagged_at, enrollment_id) of the last row shown). Supervisors see the whole
    team, others their own caseload. An audited view."""
    with store.write() as session:
        query = _utr_query(viewer, include_reviewed=include_reviewed)
        if after is not None:
            at, eid = after
            query = query.where(
                (col(ProgramEnrollment.unable_to_reach_at) > at)
                | (
                    (col(ProgramEnrollment.unable_to_reach_at) == at)
                    & (col(ProgramEnrollment.id) > eid)
                )
            )
        rows = session.execute(
            query.order_by(
                col(ProgramEnrollment.unable_to_reach_at), col(ProgramEnrollment.id)
            ).limit(limit)
        ).all()
        out = [
            UnableToReachRow(
                enrollment_id=e.id,
                client_id=c.id,
                client_name=f"{c.family_name}, {c.given_name}",
                programme=e.program,
                attempts=e.outreach_attempts,
                flagged_at=e.unable_to_reach_at,
                care_manager=cm,
                phone=c.phone,
                preferred_contact=c.preferred_contact,
                reviewed_at=e.reviewed_at,
            )
            for e, c, cm in rows
        ]
        audit.record_by(
            session, viewer, "view", "enrollment", None, f"unable-to-reach list: {len(out)} rows"
        )
        return out


def unable_to_reach_count(store: Store, viewer: Viewer) -> int:
    """How many flags wait for review (the team view's badge; no PHI, not audited)."""
    with store.read() as session:
        sub = _utr_query(viewer, include_reviewed=False).subquery()
        return int(session.execute(select(func.count()).select_from(sub)).scalar_one())
