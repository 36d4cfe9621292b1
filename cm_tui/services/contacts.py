"""Logging contacts: the contact, its follow-ups, the client's "last contact" and the
audit trail, written in one transaction. Notes are append-only (addenda).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from dateutil import tz as dateutil_tz
from dateutil.relativedelta import relativedelta
from sqlalchemy import case, or_, update
from sqlmodel import Session, col, select

from cm_tui.dates import END_OF_DAY, parse_due
from cm_tui.services.clients import NotAllowed
from cm_tui.services.drafts import ADDENDUM, CONTACT, discard_in
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import (
    CarePlan,
    Client,
    Contact,
    ContactAddendum,
    ContactGoal,
    FollowUp,
    Goal,
)
from cm_tui.store.queries import open_client
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import (
    CONTACT_METHODS,
    DIRECTIONS,
    FOLLOWUP_KINDS,
    FOLLOWUP_SOURCES,
    OUTCOMES,
    PARTIES,
    PRIORITIES,
    SERVICE_TYPES,
    label,
)

if TYPE_CHECKING:
    from cm_tui.services.programmes import OutreachStep

__all__ = [
    "REACHED_PARTIES",
    "ContactError",
    "FollowUpRequest",
    "LoggedAddendum",
    "LoggedContact",
    "NotAllowed",
    "add_addendum",
    "callback_due",
    "callback_title",
    "counts_as_reached",
    "followup_defaults",
    "log_contact",
    "refuse_nul",
]

# A contact "reaches" the person when it reached them or the caregiver speaking
# for them; the same rule the demo data uses for Client.last_reached_at.
REACHED_PARTIES = ("client", "caregiver")
MAX_DURATION_MIN = 24 * 60
MAX_NOTE = 100_000
TITLE_MAX = 200


class ContactError(ValueError):
    """Input the service refuses, worded for the person at the keyboard."""


@dataclass(frozen=True)
class FollowUpRequest:
    """A follow-up to create with the contact."""

    due_at: datetime
    title: str = ""  # default: from the contact's method and party (followup_defaults)
    kind: str | None = None  # likewise
    priority: str = "normal"
    source: str = "manual"
    assignee_id: int | None = None  # default: the person logging the contact


@dataclass(frozen=True)
class LoggedContact:
    contact_id: int
    client_id: int
    occurred_at: datetime
    followup_ids: list[int] = field(default_factory=list)
    last_contact_at: datetime | None = None
    last_reached_at: datetime | None = None
    goal_ids: tuple[int, ...] = ()  # the care-plan goals the contact was tagged with
    # What the contact did to programme outreach (services.programmes): an attempt
    # counted and the next scheduled, an unable-to-reach flag, or outreach ended.
    outreach: tuple[OutreachStep, ...] = ()


@dataclass(frozen=True)
class LoggedAddendum:
    addendum_id: int
    contact_id: int
    client_id: int
    created_at: datetime


def counts_as_reached(outcome: str, party: str) -> bool:
    return outcome == "reached" and party in REACHED_PARTIES


def followup_defaults(method: str, party: str) -> tuple[str, str]:
    """The kind and title a "next follow-up" gets when the user names neither."""
    if party == "pcp":
        return "pcp_coordination", "Follow up with the PCP office"
    if party == "community_org":
        return "referral_check", "Check in with the community organisation"
    if method == "in_person":
        return "visit", "Follow-up visit"
    if method == "video":
        return "call", "Follow-up video visit"
    if method == "text":
        return "call", "Follow-up text"
    return "call", "Follow-up call"


def callback_title(note: str) -> str:
    """ "Call back: <first line of the note>", short enough for a queue row."""
    first = next((line.strip() for line in note.splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:59] + "…"
    return f"Call back: {first}" if first else "Call back"


# ---------------------------------------------------------------- callback window


def callback_due(window: str, now: datetime, *, tz: tzinfo | None = None) -> datetime:
    """When a promised callback is due, by the configured window.

    * ``same business day`` (the default): 17:00 local today if today is a weekday
      and 17:00 has not passed, else 17:00 on the next weekday;
    * ``next business day``: 17:00 on the next weekday;
    * anything else is due text for :func:`cm_tui.dates.parse_due` (``+4h``, ``eod``,
      ``tomorrow noon``, ...).

    Returns aware UTC; raises ``ValueError`` for a window that cannot be read.
    """
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    words = " ".join(window.lower().replace("-", " ").split())
    local = now.astimezone(zone)
    if words in ("same business day", "same day", "business day"):
        eod = datetime.combine(local.date(), END_OF_DAY, tzinfo=zone)
        if local.weekday() < 5 and eod > now:
            return eod.astimezone(now.tzinfo)
        return _next_business_eod(local, zone).astimezone(now.tzinfo)
    if words == "next business day":
        return _next_business_eod(local, zone).astimezone(now.tzinfo)
    try:
        return parse_due(window, now, tz=zone)
    except ValueError as exc:
        raise ValueError(f"callback_window {window!r}: {exc}") from None


def _next_business_eod(local: datetime, zone: tzinfo) -> datetime:
    day = local.date() + relativedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, END_OF_DAY, tzinfo=zone)


# ---------------------------------------------------------------- log a contact


def refuse_nul(text: str, what: str) -> None:
    """A NUL character is refused, not stored: PostgreSQL (team mode) cannot hold one in
    text, exports and other programs cut text at it, and it is invisible on screen. It
    almost always comes from a paste, so the message says where it is."""
    at = text.find("\x00")
    if at < 0:
        return
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    raise ContactError(
        f"{what} contains an invisible NUL character (line {line}, column {column}), "
        "usually left by a paste; delete it and save again."
    )


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ContactError(f"{what} must be one of: {', '.join(label(v) for v in allowed)}.")


def _validate(
    *,
    outcome: str,
    method: str,
    party: str,
    direction: str,
    duration_min: int | None,
    note: str,
    occurred_at: datetime,
    now: datetime,
    follow_ups: Sequence[FollowUpRequest],
    service_type: str | None = None,
) -> None:
    _check(outcome, OUTCOMES, "Outcome")
    if service_type is not None:
        _check(service_type, SERVICE_TYPES, "Service type")
    _check(method, CONTACT_METHODS, "Method")
    _check(party, PARTIES, "Party")
    _check(direction, DIRECTIONS, "Direction")
    if duration_min is not None and not 0 <= duration_min <= MAX_DURATION_MIN:
        raise ContactError(f"Minutes must be between 0 and {MAX_DURATION_MIN}.")
    if len(note) > MAX_NOTE:
        raise ContactError(
            f"A note holds at most {MAX_NOTE:,} characters; add the rest as an addendum."
        )
    refuse_nul(note, "The note")
    if occurred_at.tzinfo is None:
        raise ContactError("occurred_at must be timezone-aware.")
    if occurred_at > now + timedelta(minutes=5):
        raise ContactError("A contact cannot be logged in the future.")
    for f in follow_ups:
        refuse_nul(f.title, "The follow-up title")
        if f.due_at.tzinfo is None:
            raise ContactError("A follow-up's due time must be timezone-aware.")
        if f.kind is not None:
            _check(f.kind, FOLLOWUP_KINDS, "Follow-up kind")
        _check(f.priority, PRIORITIES, "Follow-up priority")
        _check(f.source, FOLLOWUP_SOURCES, "Follow-up source")


def log_contact(
    store: Store,
    viewer: Viewer,
    client_id: int,
    *,
    outcome: str = "reached",
    method: str = "phone",
    party: str = "client",
    direction: str = "outbound",
    duration_min: int | None = None,
    note: str = "",
    occurred_at: datetime | None = None,
    follow_ups: Sequence[FollowUpRequest] = (),
    goal_ids: Sequence[int] = (),
    service_type: str | None = None,
) -> LoggedContact:
    """Write the contact, its follow-ups, the client's last-contact times, the audit
    events, and drop the user's draft for this client's form: one transaction.

    ``goal_ids`` tags the contact with care-plan goals of this client that it worked
    on (open goals; ``careplans.goal_choices`` lists them); ``service_type`` says what
    the contact was (``vocab.SERVICE_TYPES``: education, self-management support,
    care coordination, ...). A contact also advances programme outreach
    (``programmes.on_contact_logged``): a failed outbound attempt schedules the next
    one or flags unable-to-reach, reaching the client ends it (``outreach``).

    Raises :class:`NotAllowed` if the viewer may not open the client's record,
    :class:`ContactError` for values outside the vocabularies.
    """
    now = utcnow()
    at = occurred_at or now
    note = note.strip()
    _validate(
        outcome=outcome,
        method=method,
        party=party,
        direction=direction,
        duration_min=duration_min,
        note=note,
        occurred_at=at,
        now=now,
        follow_ups=follow_ups,
        service_type=service_type,
    )
    goals = tuple(dict.fromkeys(goal_ids))
    with store.write() as session:
        client = open_client(session, viewer, client_id)
        if client is None:
            raise NotAllowed("You do not have access to this client's record.")
        contact = Contact(
            client_id=client_id,
            user_id=viewer.id,
            occurred_at=at,
            method=method,
            direction=direction,
            party=party,
            outcome=outcome,
            duration_min=duration_min,
            note=note,
            created_at=now,
            service_type=service_type,
        )
        session.add(contact)
        session.flush()
        assert contact.id is not None
        _advance_last_contact(session, client_id, at, reached=counts_as_reached(outcome, party))
        audit.record_by(
            session,
            viewer,
            "create",
            "contact",
            contact.id,
            f"client {client_id}: {direction} {method} with {party}, {outcome}"
            + (f", {service_type}" if service_type else "")
            + (f", goals {' '.join(map(str, goals))}" if goals else ""),
        )
        _tag_goals(session, client_id, contact.id, goals)
        followup_ids = []
        for request in follow_ups:
            followup_ids.append(_add_followup(session, viewer, client_id, request, contact, now))
        from cm_tui.services import programmes  # programmes imports this module

        steps = programmes.on_contact_logged(
            store,
            session,
            viewer,
            client,
            contact.id,
            outcome=outcome,
            party=party,
            direction=direction,
        )
        discard_in(session, viewer.id, CONTACT, str(client_id))
        session.flush()
        session.refresh(client)
        return LoggedContact(
            contact_id=contact.id,
            client_id=client_id,
            occurred_at=at,
            followup_ids=followup_ids,
            last_contact_at=client.last_contact_at,
            last_reached_at=client.last_reached_at,
            goal_ids=goals,
            outreach=tuple(steps),
        )


def _tag_goals(session: Session, client_id: int, contact_id: int, goal_ids: Sequence[int]) -> None:
    """Link the contact to open goals of this client's plans (anything else is refused)."""
    if not goal_ids:
        return
    found = set(
        session.exec(
            select(Goal.id)
            .join(CarePlan, col(CarePlan.id) == col(Goal.care_plan_id))
            .where(
                col(Goal.id).in_(goal_ids),
                CarePlan.client_id == client_id,
                Goal.status == "active",
            )
        ).all()
    )
    if missing := [g for g in goal_ids if g not in found]:
        raise ContactError(
            f"Goal {missing[0]} is not an open goal of this client's care plan; "
            "pick one from the list."
        )
    for goal_id in goal_ids:
        session.add(ContactGoal(contact_id=contact_id, goal_id=goal_id))


def _advance_last_contact(session: Session, client_id: int, at: datetime, *, reached: bool) -> None:
    """Move the denormalised times forward, never back (a late-logged older contact
    must not hide a newer one). A single UPDATE, so concurrent writers cannot race."""
    values: dict[str, object] = {
        "last_contact_at": case(
            (or_(col(Client.last_contact_at).is_(None), col(Client.last_contact_at) < at), at),
            else_=col(Client.last_contact_at),
        )
    }
    if reached:
        values["last_reached_at"] = case(
            (or_(col(Client.last_reached_at).is_(None), col(Client.last_reached_at) < at), at),
            else_=col(Client.last_reached_at),
        )
    session.execute(
        update(Client)
        .where(col(Client.id) == client_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


def _add_followup(
    session: Session,
    viewer: Viewer,
    client_id: int,
    request: FollowUpRequest,
    contact: Contact,
    now: datetime,
) -> int:
    kind, title = followup_defaults(contact.method, contact.party)
    followup = FollowUp(
        client_id=client_id,
        assignee_id=request.assignee_id if request.assignee_id is not None else viewer.id,
        created_by_id=viewer.id,
        title=(request.title.strip() or title)[:TITLE_MAX],
        kind=request.kind or kind,
        due_at=request.due_at,
        priority=request.priority,
        source=request.source,
        created_at=now,
    )
    session.add(followup)
    session.flush()
    assert followup.id is not None
    audit.record_by(
        session,
        viewer,
        "create",
        "follow_up",
        followup.id,
        f"client {client_id}: {followup.kind} due {followup.due_at.isoformat()} "
        f"(with contact {contact.id})",
    )
    return followup.id


# ---------------------------------------------------------------- addenda


def add_addendum(store: Store, viewer: Viewer, contact_id: int, text: str) -> LoggedAddendum:
    """Append an addendum to a saved contact (the note itself is never rewritten)."""
    text = text.strip()
    if not text:
        raise ContactError("An addendum needs some text.")
    if len(text) > MAX_NOTE:
        raise ContactError(f"An addendum holds at most {MAX_NOTE:,} characters.")
    refuse_nul(text, "The addendum")
    now = utcnow()
    with store.write() as session:
        client_id = session.exec(
            select(Contact.client_id).where(col(Contact.id) == contact_id)
        ).first()
        if client_id is None:
            raise ContactError("That contact no longer exists.")
        if open_client(session, viewer, client_id) is None:
            raise NotAllowed("You do not have access to this client's record.")
        addendum = ContactAddendum(
            contact_id=contact_id, user_id=viewer.id, text=text, created_at=now
        )
        session.add(addendum)
        session.flush()
        assert addendum.id is not None
        audit.record_by(
            session,
            viewer,
            "update",
            "contact",
            contact_id,
            f"addendum {addendum.id}",
        )
        discard_in(session, viewer.id, ADDENDUM, str(contact_id))
        return LoggedAddendum(addendum.id, contact_id, client_id, now)
