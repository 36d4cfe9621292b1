"""Follow-ups: the promise ledger. Create, complete (optionally with the contact that
did it), snooze, reassign (one or many), cancel and undo.

Every change is one transaction with its audit event, and is checked against the
version the user saw (``FollowUp.version``): if someone changed the follow-up in
the meantime the change is refused with :class:`FollowUpConflict` and nothing is
overwritten. Recurring follow-ups (an RFC 5545 RRULE, read with dateutil) get their
next occurrence in the same transaction that completes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from dateutil import rrule
from dateutil import tz as dateutil_tz
from sqlalchemy import update
from sqlalchemy.orm.exc import ObjectDeletedError
from sqlmodel import Session, col, select

from cm_tui.dates import parse_due
from cm_tui.services import contacts
from cm_tui.services.clients import NotAllowed
from cm_tui.services.contacts import LoggedContact
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, Contact, FollowUp, User
from cm_tui.store.queries import open_client
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import FOLLOWUP_KINDS, FOLLOWUP_SOURCES, PRIORITIES, label

__all__ = [
    "RECURRENCE_CHOICES",
    "Cancelled",
    "Changed",
    "Completed",
    "Created",
    "DueReading",
    "FollowUpConflict",
    "FollowUpError",
    "FollowUpState",
    "NotAllowed",
    "bulk_reassign",
    "cancel_followup",
    "complete_followup",
    "create_followup",
    "describe_recurrence",
    "followup_state",
    "log_contact_and_complete",
    "next_occurrence",
    "parse_recurrence",
    "read_due",
    "reassign_followup",
    "snooze_followup",
    "undo_cancel",
    "update_followup",
]

TITLE_MAX = 200
BULK_MAX = 1000
PAST_WARNING = "That date is in the past: the follow-up will show as overdue at once."

# The short list the add/edit form offers; any other RRULE may be typed.
RECURRENCE_CHOICES: list[tuple[str, str]] = [
    ("every week", "FREQ=WEEKLY"),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
    ("every 4 weeks", "FREQ=WEEKLY;INTERVAL=4"),
    ("monthly", "FREQ=MONTHLY"),
    ("monthly on the 1st", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("every 3 months", "FREQ=MONTHLY;INTERVAL=3"),
    ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
]
_RRULE_HINT = "pick one from the list or type an RRULE such as FREQ=WEEKLY;INTERVAL=2"


class FollowUpError(ValueError):
    """Input the service refuses, worded for the person at the keyboard."""


class FollowUpConflict(FollowUpError):
    """Someone changed the follow-up since this user loaded it; nothing was saved.

    ``current`` is the follow-up as stored now (None when several were involved, as in
    a bulk reassign), so the user can see both versions and choose. ``changed``: in a
    bulk change, the ids of those that changed (or went) meanwhile.
    """

    def __init__(
        self,
        message: str,
        current: FollowUpState | None = None,
        changed: tuple[int, ...] = (),
    ) -> None:
        super().__init__(message)
        self.current = current
        self.changed = changed


@dataclass(frozen=True)
class FollowUpState:
    """A follow-up as stored now, and who changed it last and when (None: not known)."""

    id: int
    version: int
    client_id: int
    title: str
    status: str
    due_at: datetime
    priority: str
    assignee_id: int | None
    assignee_name: str | None
    snoozed_until: datetime | None
    completed_at: datetime | None
    changed_by: str | None = None
    changed_at: datetime | None = None
    change: str | None = None  # what the audit trail says was done, e.g. "cancelled"


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Created:
    id: int
    due_at: datetime
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Changed:
    id: int
    version: int
    due_at: datetime
    assignee_id: int | None = None


@dataclass(frozen=True)
class Completed:
    id: int
    version: int
    contact_id: int | None
    next_id: int | None = None  # the next occurrence of a recurring follow-up
    next_due_at: datetime | None = None


@dataclass(frozen=True)
class Cancelled:
    id: int
    version: int  # what undo_cancel needs


@dataclass(frozen=True)
class DueReading:
    due_at: datetime
    warning: str | None = None


# ---------------------------------------------------------------- due dates


def read_due(
    text: str, now: datetime, *, allow_past: bool = False, tz: tzinfo | None = None
) -> DueReading:
    """A due date typed by the user (``cm_tui.dates.parse_due``).

    With ``allow_past`` (a new follow-up recorded late) an explicit past date or
    time is accepted, with a warning; ``ValueError`` otherwise, with parse_due's
    message.
    """
    try:
        return DueReading(parse_due(text, now, tz=tz))
    except ValueError as exc:
        if not allow_past or "in the past" not in str(exc) or text.strip().startswith("-"):
            raise
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    # parse_due reads relative words from "now"; an earlier "now" lets an explicit
    # past date through unchanged: first today's midnight ("today 8am" at 10:00),
    # then long ago (a dated day such as 2026-11-02).
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    for earlier in (midnight, datetime(1900, 1, 1, tzinfo=UTC)):
        try:
            due = parse_due(text, earlier, tz=zone)
        except ValueError:
            continue
        return DueReading(due, PAST_WARNING if due < now else None)
    raise ValueError("That is in the past.")


# ---------------------------------------------------------------- recurrence


def parse_recurrence(text: str | None) -> str | None:
    """A recurrence as typed or chosen: a list label ("every 2 weeks") or an RRULE.

    Returns the RRULE text to store (None: does not repeat). Raises
    :class:`FollowUpError` for a rule that cannot be read, repeats more often than
    daily, or never repeats.
    """
    words = " ".join((text or "").split())
    if not words or words.lower() in ("none", "does not repeat", "no", "never"):
        return None
    for shown, rule in RECURRENCE_CHOICES:
        if words.lower() == shown:
            return rule
    rule = words.upper().removeprefix("RRULE:").replace(" ", "")
    if "\n" in (text or "") or "DTSTART" in rule or ":" in rule:
        raise FollowUpError(f"Only one RRULE line, without DTSTART — {_RRULE_HINT}.")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    try:
        parsed = rrule.rrulestr(rule, dtstart=start)
        following = parsed.after(start) if isinstance(parsed, rrule.rrule) else None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise FollowUpError(f"Can't read '{_short(words)}' as a repeat — {_RRULE_HINT}.") from None
    if not isinstance(parsed, rrule.rrule):
        raise FollowUpError(f"Only one RRULE line — {_RRULE_HINT}.")
    if getattr(parsed, "_freq", rrule.DAILY) > rrule.DAILY:  # HOURLY, MINUTELY, SECONDLY
        raise FollowUpError("A follow-up repeats at most once a day.")
    if following is None:
        raise FollowUpError(f"'{_short(words)}' never repeats — {_RRULE_HINT}.")
    return rule


def describe_recurrence(rule: str | None) -> str:
    if not rule:
        return "does not repeat"
    for shown, known in RECURRENCE_CHOICES:
        if rule == known:
            return shown
    return rule


def next_occurrence(
    rule: str, due_at: datetime, now: datetime, *, tz: tzinfo | None = None
) -> datetime | None:
    """The first occurrence after both the due time and now (None: the series ended).

    The series is anchored at the due time in local wall-clock time, so "monthly on
    the 1st" stays at 09:00 across a DST change; a late completion skips the
    occurrences already gone rather than creating overdue ones.
    """
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    start = due_at.astimezone(zone)
    parsed = rrule.rrulestr(rule, dtstart=start)
    following = parsed.after(max(due_at, now).astimezone(zone))
    return None if following is None else following.astimezone(UTC)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


# ---------------------------------------------------------------- checks


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise FollowUpError(f"{what} must be one of: {', '.join(label(v) for v in allowed)}.")


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise FollowUpError("Say what the follow-up is for (a short title).")
    if len(title) > TITLE_MAX:
        raise FollowUpError(f"A title holds at most {TITLE_MAX} characters.")
    return title


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise FollowUpError("That person is not an active user.")
    return user


def _load(session: Session, viewer: Viewer, followup_id: int, version: int | None) -> FollowUp:
    """The follow-up, if this viewer may change it and it is still as they saw it."""
    fu = session.get(FollowUp, followup_id)
    if fu is None:
        raise FollowUpError("That follow-up no longer exists.")
    if open_client(session, viewer, fu.client_id) is None:
        raise NotAllowed("You do not have access to this client's record.")
    if not viewer.sees_everyone and fu.assignee_id not in (viewer.id, None):
        raise NotAllowed(
            f"This follow-up is on {_name(session, fu.assignee_id)}'s list, not yours."
        )
    if version is not None and fu.version != version:
        raise _conflict(session, fu)
    return fu


def _conflict(session: Session, fu: FollowUp) -> FollowUpError:
    try:
        current = _state(session, fu)
    except ObjectDeletedError:
        return FollowUpError("That follow-up no longer exists.")
    return FollowUpConflict(
        f"Someone else changed this follow-up a moment ago (it is now {fu.status}, "
        f"due {fu.due_at:%Y-%m-%d %H:%M} UTC). Nothing was saved; look again and retry.",
        current,
    )


def _state(session: Session, fu: FollowUp) -> FollowUpState:
    """The follow-up as stored, with its last change from the audit trail when that
    trail accounts for every change (a bulk reassign is one event for many, so after
    one the last change of this follow-up is not known)."""
    assert fu.id is not None
    events = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity) == "follow_up",
            col(AuditEvent.entity_id) == fu.id,
            col(AuditEvent.action) == "update",
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(fu.version)
    ).all()
    last = events[0] if events and len(events) == fu.version - 1 else None
    return FollowUpState(
        id=fu.id,
        version=fu.version,
        client_id=fu.client_id,
        title=fu.title,
        status=fu.status,
        due_at=fu.due_at,
        priority=fu.priority,
        assignee_id=fu.assignee_id,
        assignee_name=None if fu.assignee_id is None else _name(session, fu.assignee_id),
        snoozed_until=fu.snoozed_until,
        completed_at=fu.completed_at,
        changed_by=None
        if last is None
        else (_name(session, last.user_id) if last.user_id else last.actor),
        changed_at=None if last is None else last.at,
        change=None if last is None else last.detail,
    )


def followup_state(store: Store, viewer: Viewer, followup_id: int) -> FollowUpState | None:
    """The follow-up as stored now (None: gone, or not this viewer's to see)."""
    with store.read() as session:
        fu = session.get(FollowUp, followup_id)
        if fu is None or open_client(session, viewer, fu.client_id) is None:
            return None
        return _state(session, fu)


def _name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "nobody"
    user = session.get(User, user_id)
    return user.display_name if user is not None else f"user {user_id}"


def _bump(session: Session, fu: FollowUp, **values: Any) -> int:
    """UPDATE ... WHERE version = the version read: a concurrent writer makes it fail."""
    assert fu.id is not None
    new_version = fu.version + 1
    result = session.execute(
        update(FollowUp)
        .where(col(FollowUp.id) == fu.id, col(FollowUp.version) == fu.version)
        .values(version=new_version, **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        session.expire(fu)
        raise _conflict(session, fu)
    session.expire(fu)
    return new_version


# ---------------------------------------------------------------- create / edit


def create_followup(
    store: Store,
    viewer: Viewer,
    client_id: int,
    *,
    title: str,
    due_at: datetime,
    kind: str = "call",
    priority: str = "normal",
    recurrence: str | None = None,
    assignee_id: int | None = None,
    source: str = "manual",
) -> Created:
    """A new follow-up, by default on the viewer's own list.

    A due time in the past is accepted (recorded late) with a warning. Care
    managers and CHWs add to their own list; supervisors to anyone's.
    """
    title = _clean_title(title)
    _check(kind, FOLLOWUP_KINDS, "Kind")
    _check(priority, PRIORITIES, "Priority")
    _check(source, FOLLOWUP_SOURCES, "Source")
    if due_at.tzinfo is None:
        raise FollowUpError("The due time must be timezone-aware.")
    rule = parse_recurrence(recurrence)
    who = viewer.id if assignee_id is None else assignee_id
    if who != viewer.id and not viewer.sees_everyone:
        raise NotAllowed("You add follow-ups to your own list; a supervisor assigns others.")
    now = utcnow()
    warnings = [PAST_WARNING] if due_at < now else []
    with store.write() as session:
        if open_client(session, viewer, client_id) is None:
            raise NotAllowed("You do not have access to this client's record.")
        _active_user(session, who)
        fu = FollowUp(
            client_id=client_id,
            assignee_id=who,
            created_by_id=viewer.id,
            title=title,
            kind=kind,
            due_at=due_at,
            priority=priority,
            recurrence=rule,
            source=source,
            created_at=now,
        )
        session.add(fu)
        session.flush()
        assert fu.id is not None
        detail = f"client {client_id}: {kind} due {due_at.isoformat()} for user {who}" + (
            f", repeats {rule}" if rule else ""
        )
        audit.record_by(session, viewer, "create", "follow_up", fu.id, detail)
        return Created(fu.id, due_at, warnings)


def update_followup(
    store: Store,
    viewer: Viewer,
    followup_id: int,
    version: int,
    *,
    title: str,
    due_at: datetime,
    kind: str,
    priority: str,
    recurrence: str | None,
) -> Changed:
    """Edit an open follow-up's title, due time, kind, priority or recurrence."""
    title = _clean_title(title)
    _check(kind, FOLLOWUP_KINDS, "Kind")
    _check(priority, PRIORITIES, "Priority")
    if due_at.tzinfo is None:
        raise FollowUpError("The due time must be timezone-aware.")
    rule = parse_recurrence(recurrence)
    with store.write() as session:
        fu = _load(session, viewer, followup_id, version)
        if fu.status != "open":
            raise FollowUpError(f"This follow-up is {fu.status}; only an open one can be edited.")
        new_version = _bump(
            session,
            fu,
            title=title,
            due_at=due_at,
            kind=kind,
            priority=priority,
            recurrence=rule,
        )
        detail = f"edited: {kind}, due {due_at.isoformat()}"
        audit.record_by(session, viewer, "update", "follow_up", followup_id, detail)
        return Changed(followup_id, new_version, due_at, fu.assignee_id)


# ---------------------------------------------------------------- complete


def complete_followup(
    store: Store,
    viewer: Viewer,
    followup_id: int,
    version: int,
    *,
    contact_id: int | None = None,
) -> Completed:
    """Mark done (linking the contact that completed it, if any); a recurring
    follow-up gets its next occurrence in the same transaction."""
    with store.write() as session:
        return _complete_in(session, viewer, followup_id, version, contact_id)


def log_contact_and_complete(
    store: Store,
    viewer: Viewer,
    followup_id: int,
    version: int,
    **contact: Any,
) -> tuple[LoggedContact, Completed]:
    """Log the contact (``services.contacts.log_contact``) and complete the follow-up
    with it, in one transaction: both are saved, or neither (DESIGN §4)."""
    with store.write() as session:
        fu = _load(session, viewer, followup_id, version)
        if fu.status != "open":
            raise FollowUpError(f"This follow-up is already {fu.status}.")
        logged = contacts.log_contact(
            _InTransaction(store, session), viewer, fu.client_id, **contact
        )
        done = _complete_in(session, viewer, followup_id, version, logged.contact_id)
        return logged, done


class _InTransaction(Store):
    """The store as seen from inside an open transaction: a service called with it
    writes into that transaction, which commits (or rolls back) as a whole."""

    def __init__(self, base: Store, session: Session) -> None:
        super().__init__(engine=base.engine, url=base.url, path=base.path)
        self._session = session

    @contextmanager
    def write(self) -> Iterator[Session]:
        yield self._session

    @contextmanager
    def read(self) -> Iterator[Session]:
        yield self._session


def _complete_in(
    session: Session, viewer: Viewer, followup_id: int, version: int, contact_id: int | None
) -> Completed:
    fu = _load(session, viewer, followup_id, version)
    if fu.status != "open":
        raise FollowUpError(f"This follow-up is already {fu.status}.")
    if contact_id is not None:
        contact_client = session.exec(
            select(Contact.client_id).where(col(Contact.id) == contact_id)
        ).first()
        if contact_client != fu.client_id:
            raise FollowUpError("That contact is not with this follow-up's client.")
    now = utcnow()
    snapshot = (fu.client_id, fu.assignee_id, fu.title, fu.kind, fu.priority, fu.recurrence)
    due_at, source = fu.due_at, fu.source
    new_version = _bump(
        session, fu, status="done", completed_at=now, completed_contact_id=contact_id
    )
    detail = "completed" + (f" with contact {contact_id}" if contact_id else "")
    audit.record_by(session, viewer, "update", "follow_up", followup_id, detail)
    client_id, assignee_id, title, kind, priority, rule = snapshot
    next_id = next_due = None
    if rule:
        try:
            next_due = next_occurrence(rule, due_at, now)
        except (ValueError, TypeError):
            raise FollowUpError(
                f"This follow-up's repeat rule '{_short(rule)}' cannot be read; edit it "
                "(or clear it) before completing."
            ) from None
        if next_due is not None:
            nxt = FollowUp(
                client_id=client_id,
                assignee_id=assignee_id,
                created_by_id=viewer.id,
                title=title,
                kind=kind,
                due_at=next_due,
                priority=priority,
                recurrence=rule,
                source=source,
                created_at=now,
            )
            session.add(nxt)
            session.flush()
            next_id = nxt.id
            detail = (
                f"next occurrence of follow-up {followup_id} ({rule}) due {next_due.isoformat()}"
            )
            audit.record_by(session, viewer, "create", "follow_up", next_id, detail)
    return Completed(followup_id, new_version, contact_id, next_id, next_due)


# ---------------------------------------------------------------- snooze


def snooze_followup(
    store: Store,
    viewer: Viewer,
    followup_id: int,
    version: int,
    text: str,
    *,
    tz: tzinfo | None = None,
) -> Changed:
    """Move an open follow-up to a later time typed naturally (``+1d``, ``next mon``).

    Raises ``ValueError`` (the parser's message) for text that is not a date, or a
    date already gone: nothing is saved.
    """
    now = utcnow()
    try:
        due = parse_due(text, now, tz=tz)
    except ValueError as exc:
        raise FollowUpError(f"Not snoozed: {exc}") from None
    with store.write() as session:
        fu = _load(session, viewer, followup_id, version)
        if fu.status != "open":
            raise FollowUpError(f"This follow-up is {fu.status}; only an open one can be snoozed.")
        before = fu.due_at
        new_version = _bump(session, fu, due_at=due, snoozed_until=due)
        detail = f"snoozed from {before.isoformat()} to {due.isoformat()}"
        audit.record_by(session, viewer, "update", "follow_up", followup_id, detail)
        return Changed(followup_id, new_version, due, fu.assignee_id)


# ---------------------------------------------------------------- reassign


def _may_reassign(session: Session, viewer: Viewer, fu: FollowUp, to_user_id: int) -> None:
    """Supervisors and admins: anyone's, to anyone. Others: their own, to anyone;
    an unassigned one, to themselves; someone else's, never."""
    if viewer.sees_everyone or fu.assignee_id == viewer.id:
        return
    if fu.assignee_id is None:
        if to_user_id == viewer.id:
            return
        raise NotAllowed("You can take an unassigned follow-up yourself; a supervisor assigns it.")
    raise NotAllowed(
        f"This follow-up is on {_name(session, fu.assignee_id)}'s list; only they or a "
        "supervisor can reassign it."
    )


def reassign_followup(
    store: Store, viewer: Viewer, followup_id: int, version: int, to_user_id: int
) -> Changed:
    with store.write() as session:
        fu = session.get(FollowUp, followup_id)
        if fu is None:
            raise FollowUpError("That follow-up no longer exists.")
        _may_reassign(session, viewer, fu, to_user_id)
        fu = _load(session, viewer, followup_id, version)
        if fu.status != "open":
            raise FollowUpError(f"This follow-up is {fu.status}; only an open one is reassigned.")
        target = _active_user(session, to_user_id)
        before = fu.assignee_id
        new_version = _bump(session, fu, assignee_id=to_user_id)
        detail = f"reassigned from user {before} to user {to_user_id}"
        audit.record_by(session, viewer, "update", "follow_up", followup_id, detail)
        return Changed(followup_id, new_version, fu.due_at, target.id)


def bulk_reassign(
    store: Store, viewer: Viewer, items: Sequence[tuple[int, int]], to_user_id: int
) -> int:
    """Reassign many follow-ups ``(id, version)`` at once (someone is out): one
    transaction and one audit event; if any is refused or changed meanwhile,
    none is moved (:class:`FollowUpConflict` names those that changed)."""
    if not items:
        raise FollowUpError("Select at least one follow-up.")
    if len(items) > BULK_MAX:
        raise FollowUpError(f"At most {BULK_MAX:,} follow-ups at a time.")
    wanted = dict(items)
    with store.write() as session:
        _active_user(session, to_user_id)
        found = {
            fu.id: fu
            for fu in session.exec(select(FollowUp).where(col(FollowUp.id).in_(list(wanted))))
        }
        for fu in found.values():  # refused before anything is said of them
            _may_reassign(session, viewer, fu, to_user_id)
            if open_client(session, viewer, fu.client_id) is None:
                raise NotAllowed("You do not have access to one of these clients' records.")
        changed = sorted(
            fid
            for fid, version in wanted.items()
            if fid not in found or found[fid].version != version
        )
        if changed:
            raise FollowUpConflict(
                _changed_meanwhile(found, changed, len(wanted)), None, tuple(changed)
            )
        sources: dict[int | None, int] = {}
        for fid in wanted:
            fu = found[fid]
            if fu.status != "open":
                raise FollowUpError(f"One of the selected follow-ups is {fu.status}; none moved.")
            sources[fu.assignee_id] = sources.get(fu.assignee_id, 0) + 1
            _bump(session, fu, assignee_id=to_user_id)
        summary = ", ".join(f"{n} from user {who}" for who, n in sources.items())
        ids = " ".join(str(i) for i in sorted(wanted))
        detail = (
            f"bulk reassign of {len(wanted)} follow-ups to user {to_user_id} ({summary}): {ids}"
        )
        audit.record_by(session, viewer, "update", "follow_up", None, detail)
        return len(wanted)


def _changed_meanwhile(found: dict[int | None, FollowUp], changed: list[int], of: int) -> str:
    """Which of the selected changed meanwhile, up to 3 by title: 'Someone else changed
    2 of the 5 selected follow-ups a moment ago: “A”, “B”. Nothing was reassigned.'"""
    titles = [f"“{found[fid].title}”" for fid in changed if fid in found]
    named = ", ".join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
    gone = len(changed) - len(titles)
    what = f"{len(changed)} of the {of} selected follow-ups" if of > 1 else "the selected follow-up"
    parts = [f"Someone else changed {what} a moment ago"]
    if named:
        parts.append(f": {named}")
    if gone:
        parts.append(f"; {gone} no longer exist{'s' if gone == 1 else ''}")
    return "".join(parts) + ". Nothing was reassigned."


# ---------------------------------------------------------------- cancel / undo


def cancel_followup(store: Store, viewer: Viewer, followup_id: int, version: int) -> Cancelled:
    with store.write() as session:
        fu = _load(session, viewer, followup_id, version)
        if fu.status != "open":
            raise FollowUpError(f"This follow-up is already {fu.status}.")
        new_version = _bump(session, fu, status="cancelled")
        audit.record_by(session, viewer, "update", "follow_up", followup_id, "cancelled")
        return Cancelled(followup_id, new_version)


def undo_cancel(store: Store, viewer: Viewer, followup_id: int, version: int) -> Changed:
    with store.write() as session:
        fu = _load(session, viewer, followup_id, version)
        if fu.status != "cancelled":
            raise FollowUpError(f"This follow-up is {fu.status}, not cancelled.")
        new_version = _bump(session, fu, status="open")
        audit.record_by(
            session, viewer, "update", "follow_up", followup_id, "cancel undone: open again"
        )
        return Changed(followup_id, new_version, fu.due_at, fu.assignee_id)
