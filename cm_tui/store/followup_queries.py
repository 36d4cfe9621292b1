"""Read queries for the follow-up queue and the supervisor's team view (DESIGN §5.5, §5.6).

Every queue window comes straight off an index, already in order: priority (urgent
first) then due, as a list of phases, one per priority (see queries._Phase), each
read from (assignee, status, priority, due_at, id) or (status, priority, due_at, id).
Counts and the team figures are indexed aggregates: nothing here loads rows to
count them (migration 0003 holds the indexes).

Role rules live here, in the query layer: care managers and CHWs see their own
queue; supervisors and admins anyone's, the whole team's, or one person's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from dateutil import tz as dateutil_tz
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    column,
    func,
    literal,
    true,
    tuple_,
    type_coerce,
    values,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from cm_tui.store.access import Viewer
from cm_tui.store.models import (
    Client,
    Contact,
    ContactHour,
    FollowUp,
    PersonCounts,
    User,
)
from cm_tui.store.types import UTCDateTime, utcnow
from cm_tui.store.vocab import PRIORITIES

PAGE = 100
TREND_DAYS = 28
DONE_DAYS = 30  # the done tab: what was completed in the last 30 days
REACHED_PARTIES = ("client", "caregiver")  # as services.contacts.REACHED_PARTIES
TEAM_ROLES = ("care_manager", "chw", "supervisor")

Tab = Literal["overdue", "today", "upcoming", "done"]
TABS: tuple[Tab, ...] = ("overdue", "today", "upcoming", "done")
TAB_LABELS: dict[str, str] = {
    "overdue": "Overdue",
    "today": "Today",
    "upcoming": "Upcoming",
    "done": "Done",
}


class NotAllowedScope(PermissionError):
    """A queue this viewer may not see, worded for the person at the keyboard."""


@dataclass(frozen=True)
class QueueScope:
    """Whose follow-ups: the viewer's own, the whole team's, or one person's."""

    kind: Literal["mine", "team", "person"] = "mine"
    person_id: int | None = None

    @classmethod
    def mine(cls) -> QueueScope:
        return cls("mine")

    @classmethod
    def team(cls) -> QueueScope:
        return cls("team")

    @classmethod
    def person(cls, user_id: int) -> QueueScope:
        return cls("person", user_id)


def scope_clause(viewer: Viewer, scope: QueueScope) -> ColumnElement[bool]:
    """The follow-ups of ``scope``, if this viewer may see them.

    Raises :class:`NotAllowedScope` when a care manager or CHW asks for the team's
    queue or another person's.
    """
    if scope.kind == "mine" or (scope.kind == "person" and scope.person_id == viewer.id):
        return col(FollowUp.assignee_id) == viewer.id
    if not viewer.sees_everyone:
        raise NotAllowedScope("Only supervisors see the team's or another person's follow-ups.")
    if scope.kind == "team":
        return true()
    if scope.person_id is None:
        return col(FollowUp.assignee_id).is_(None)  # the unassigned items
    return col(FollowUp.assignee_id) == scope.person_id


def may_see_followup(viewer: Viewer, assignee_id: int | None) -> bool:
    return viewer.sees_everyone or assignee_id == viewer.id


# ---------------------------------------------------------------- time boundaries


@dataclass(frozen=True)
class Bounds:
    """The instants the tabs split at, from the local calendar day."""

    now: datetime
    end_of_today: datetime  # local midnight tonight, as aware UTC
    done_since: datetime

    @classmethod
    def at(cls, now: datetime | None = None, *, tz: tzinfo | None = None) -> Bounds:
        now = now or utcnow()
        zone = tz if tz is not None else dateutil_tz.tzlocal()
        local = now.astimezone(zone)
        tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
        return cls(now, tomorrow.astimezone(now.tzinfo), now - timedelta(days=DONE_DAYS))


def _columns(*columns: Any) -> Any:
    """sa_select over mixed columns and expressions (the typed overloads stop at a few)."""
    return sa_select(*columns)


def _ts(value: datetime) -> Any:
    return literal(value, UTCDateTime)


def _tab_where(tab: Tab, b: Bounds) -> list[ColumnElement[bool]]:
    due = col(FollowUp.due_at)
    if tab == "overdue":
        return [col(FollowUp.status) == "open", due < _ts(b.now)]
    if tab == "today":
        return [col(FollowUp.status) == "open", due >= _ts(b.now), due < _ts(b.end_of_today)]
    if tab == "upcoming":
        return [col(FollowUp.status) == "open", due >= _ts(b.end_of_today)]
    return [col(FollowUp.status) == "done", col(FollowUp.completed_at) >= _ts(b.done_since)]


# ---------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueRow:
    id: int
    client_id: int
    client_name: str
    title: str
    kind: str
    priority: str
    status: str
    due_at: datetime
    created_at: datetime
    recurrence: str | None
    snoozed_until: datetime | None
    completed_at: datetime | None
    assignee_id: int | None
    assignee_name: str | None
    source: str
    version: int
    cursor: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def is_callback(self) -> bool:
        return self.kind == "callback"


@dataclass(frozen=True)
class _Phase:
    where: tuple[ColumnElement[bool], ...]
    order: tuple[Any, ...]
    descending: bool = False


def _phases(tab: Tab) -> list[_Phase]:
    if tab == "done":  # newest first
        return [_Phase((), (col(FollowUp.completed_at), col(FollowUp.id)), descending=True)]
    by_due = (col(FollowUp.due_at), col(FollowUp.id))
    phases = [_Phase((col(FollowUp.priority) == p,), by_due) for p in PRIORITIES]
    other = col(FollowUp.priority).not_in(PRIORITIES)
    return [*phases, _Phase((other,), (col(FollowUp.priority), *by_due))]


def _bound(value: Any) -> Any:
    return _ts(value) if isinstance(value, datetime) else literal(value)


def queue_page(
    session: Session,
    viewer: Viewer,
    scope: QueueScope,
    tab: Tab,
    after: tuple[Any, ...] | None = None,
    limit: int = PAGE,
    bounds: Bounds | None = None,
) -> list[QueueRow]:
    """One window of a tab, after the keyset cursor ``after`` (``(phase, *order)``)."""
    b = bounds or Bounds.at()
    where = [scope_clause(viewer, scope), *_tab_where(tab, b)]
    phases = _phases(tab)
    start = 0 if after is None else int(after[0])
    page: list[tuple[int, tuple[Any, ...]]] = []
    for number in range(start, len(phases)):
        phase = phases[number]
        stmt: Select[Any] = select(col(FollowUp.id), *phase.order).where(*where, *phase.where)
        if after is not None and number == start:
            key, bound = tuple_(*phase.order), tuple_(*[_bound(v) for v in after[1:]])
            stmt = stmt.where(key < bound if phase.descending else key > bound)
        order = [c.desc() for c in phase.order] if phase.descending else list(phase.order)
        stmt = stmt.order_by(*order).limit(limit - len(page))
        page.extend((r[0], (number, *r[1:])) for r in session.execute(stmt).all())
        if len(page) >= limit:
            break
    if not page:
        return []
    details = {row.id: row for row in queue_rows(session, [i for i, _ in page])}
    return [_with_cursor(details[i], c) for i, c in page if i in details]


def _with_cursor(row: QueueRow, cursor: tuple[Any, ...]) -> QueueRow:
    from dataclasses import replace

    return replace(row, cursor=cursor)


def queue_rows(session: Session, ids: list[int]) -> list[QueueRow]:
    """The shown fields of these follow-ups (primary-key lookups), in no set order."""
    if not ids:
        return []
    assignee = aliased(User)
    stmt = (
        _columns(
            FollowUp,
            Client.family_name,
            Client.given_name,
            Client.preferred_name,
            assignee.display_name,
        )
        .join(Client, col(Client.id) == col(FollowUp.client_id))
        .join(assignee, col(assignee.id) == col(FollowUp.assignee_id), isouter=True)
        .where(col(FollowUp.id).in_(ids))
    )
    out = []
    for fu, family, given, preferred, who in session.execute(stmt).all():
        name = f"{family}, {given}"
        if preferred and preferred != given:
            name += f" ({preferred})"
        out.append(
            QueueRow(
                id=fu.id,
                client_id=fu.client_id,
                client_name=name,
                title=fu.title,
                kind=fu.kind,
                priority=fu.priority,
                status=fu.status,
                due_at=fu.due_at,
                created_at=fu.created_at,
                recurrence=fu.recurrence,
                snoozed_until=fu.snoozed_until,
                completed_at=fu.completed_at,
                assignee_id=fu.assignee_id,
                assignee_name=who,
                source=fu.source,
                version=fu.version,
            )
        )
    return out


def queue_row(session: Session, viewer: Viewer, followup_id: int) -> QueueRow | None:
    """One follow-up as the queue shows it, if this viewer may see it."""
    rows = queue_rows(session, [followup_id])
    if not rows or not may_see_followup(viewer, rows[0].assignee_id):
        return None
    return rows[0]


def tab_counts(
    session: Session, viewer: Viewer, scope: QueueScope, bounds: Bounds | None = None
) -> dict[str, int]:
    """How many follow-ups each tab holds: one indexed count per tab."""
    b = bounds or Bounds.at()
    scoped = scope_clause(viewer, scope)
    out: dict[str, int] = {}
    for tab in TABS:
        stmt = select(func.count()).select_from(FollowUp).where(scoped, *_tab_where(tab, b))
        out[tab] = int(session.execute(stmt).scalar_one())
    return out


# ---------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    id: int
    display_name: str
    role: str
    open_followups: int
    overdue: int


def assignable_people(session: Session, now: datetime | None = None) -> list[Person]:
    """Active staff who can hold follow-ups, with their open and overdue counts."""
    now = now or utcnow()
    open_n = (
        select(func.count())
        .select_from(FollowUp)
        .where(col(FollowUp.assignee_id) == col(User.id), col(FollowUp.status) == "open")
        .correlate(User)
        .scalar_subquery()
    )
    overdue_n = (
        select(func.count())
        .select_from(FollowUp)
        .where(
            col(FollowUp.assignee_id) == col(User.id),
            col(FollowUp.status) == "open",
            col(FollowUp.due_at) < _ts(now),
        )
        .correlate(User)
        .scalar_subquery()
    )
    rows = session.execute(
        _columns(User.id, User.display_name, User.role, open_n, overdue_n)
        .where(*_on_team())
        .order_by(col(User.display_name), col(User.id))
    ).all()
    return [Person(r[0], r[1], r[2], int(r[3] or 0), int(r[4] or 0)) for r in rows]


# ---------------------------------------------------------------- the team view


@dataclass(frozen=True)
class TeamRow:
    user_id: int
    display_name: str
    role: str
    caseload: int
    open_followups: int
    overdue: int
    oldest_callback_at: datetime | None
    # Filled in by with_activity() after the first paint (None: still loading).
    open_needs: int | None = None
    contacts_week: int = 0
    attempts_week: int = 0  # contacts with the client or caregiver
    reached_week: int = 0
    minutes_month: int = 0
    per_day: tuple[int, ...] = ()  # contacts per local day, oldest first, TREND_DAYS long

    @property
    def reach_rate(self) -> float | None:
        return self.reached_week / self.attempts_week if self.attempts_week else None


@dataclass(frozen=True)
class TeamBounds:
    now: datetime
    week_start: datetime  # Monday 00:00 local
    month_start: datetime  # the 1st, 00:00 local
    trend_start: datetime  # 00:00 local, TREND_DAYS - 1 days ago
    zone: tzinfo = UTC

    @classmethod
    def at(cls, now: datetime | None = None, *, tz: tzinfo | None = None) -> TeamBounds:
        now = now or utcnow()
        zone = tz if tz is not None else dateutil_tz.tzlocal()
        today = now.astimezone(zone).date()

        def midnight(day: Any) -> datetime:
            return datetime.combine(day, time(0), tzinfo=zone).astimezone(now.tzinfo)

        return cls(
            now,
            midnight(today - timedelta(days=today.weekday())),
            midnight(today.replace(day=1)),
            midnight(today - timedelta(days=TREND_DAYS - 1)),
            zone,
        )


def _on_team() -> tuple[ColumnElement[bool], ...]:
    """The people the team view lists: active care managers, CHWs and supervisors."""
    return (col(User.active).is_(True), col(User.role).in_(TEAM_ROLES))


def team_overview(
    session: Session, viewer: Viewer, bounds: TeamBounds | None = None
) -> tuple[list[TeamRow], int]:
    """Per person: caseload, open and overdue follow-ups, oldest unreturned callback;
    and the number of open follow-ups nobody holds.

    The caseload (active clients as CHW for a CHW, else as care manager) and the
    open follow-ups are the counts the database keeps in ``person_counts``
    (migration 0007); what depends on the time (overdue) or is a single seek (the
    oldest callback) is a correlated count or min off an index, per person. Open
    needs and the contact figures come second, from :func:`open_needs_by_person`
    and :func:`contact_stats` (see :func:`with_activity`).
    """
    if not viewer.sees_everyone:
        raise NotAllowedScope("The team view is for supervisors.")
    b = bounds or TeamBounds.at()
    uid = col(User.id)
    is_chw = col(User.role) == "chw"
    kept = PersonCounts
    caseload = case((is_chw, col(kept.chw_clients)), else_=col(kept.cm_clients))
    open_n = col(kept.open_followups)
    mine_open = (col(FollowUp.assignee_id) == uid, col(FollowUp.status) == "open")
    overdue_n = (
        select(func.count())
        .select_from(FollowUp)
        .where(*mine_open, col(FollowUp.due_at) < _ts(b.now))
        .correlate(User)
        .scalar_subquery()
    )
    oldest_callback = type_coerce(
        select(func.min(FollowUp.created_at))
        .where(*mine_open, col(FollowUp.kind) == "callback")
        .correlate(User)
        .scalar_subquery(),
        UTCDateTime,
    )
    people = session.execute(
        _columns(
            User.id, User.display_name, User.role, caseload, open_n, overdue_n, oldest_callback
        )
        .outerjoin(kept, col(kept.user_id) == uid)
        .where(*_on_team())
        .order_by(
            case((col(User.role) == "care_manager", 0), (is_chw, 1), else_=2),
            col(User.display_name),
            col(User.id),
        )
    ).all()
    rows = [
        TeamRow(
            user_id=r[0],
            display_name=r[1],
            role=r[2],
            caseload=int(r[3] or 0),
            open_followups=int(r[4] or 0),
            overdue=int(r[5] or 0),
            oldest_callback_at=r[6],
        )
        for r in people
    ]
    unassigned = session.execute(
        select(func.count())
        .select_from(FollowUp)
        .where(col(FollowUp.assignee_id).is_(None), col(FollowUp.status) == "open")
    ).scalar_one()
    return rows, int(unassigned)


def open_needs_by_person(session: Session) -> dict[int, int]:
    """Open needs of each person's active clients (as care manager or as CHW, once
    when both): kept by the database in ``person_counts`` (migration 0007)."""
    n = col(PersonCounts.open_needs)
    rows = session.execute(_columns(col(PersonCounts.user_id), n).where(n != 0)).all()
    return {int(user_id): int(k) for user_id, k in rows}


@dataclass(frozen=True)
class ContactStats:
    contacts_week: int
    attempts_week: int
    reached_week: int
    minutes_month: int
    per_day: tuple[int, ...]


MONTH = TREND_DAYS  # the range number of the month's days before the trend's
HOUR = timedelta(hours=1)


def contact_stats(
    session: Session, user_ids: list[int], bounds: TeamBounds | None = None
) -> dict[int, ContactStats]:
    """Contacts and reach this week, minutes this month, contacts per day (4 weeks).

    Read per local day of the trend (and, when the month began before it, for the
    month's days before): the week and the month are runs of those days. Each day
    is the whole UTC hours inside it, summed from ``contact_hours`` (kept by the
    database as contacts change, migration 0007), plus the parts of hours at either
    end (the current hour; a half-hour zone's midnights) counted from the contacts
    themselves, off the covering index (user_id, occurred_at, outcome, party,
    duration_min). Two grouped reads; one row per person and day comes back, never
    the contacts. Counted up to and including ``bounds.now``.
    """
    b = bounds or TeamBounds.at()
    if not user_ids:
        return {}
    end = b.now + timedelta(microseconds=1)  # up to and including now
    days = [(n, lo, min(hi, end)) for n, lo, hi in _trend_days(b)]
    ranges = list(days)
    if b.month_start < days[0][1]:  # the month began before the trend's first day
        ranges.append((MONTH, b.month_start, days[0][1]))
    whole: list[tuple[int, datetime, datetime]] = []
    parts: list[tuple[int, datetime, datetime]] = []
    for n, lo, hi in ranges:
        first, last = _hour_up(lo), _hour_down(hi)
        if first < last:
            whole.append((n, first, last))
            parts += [(n, lo, first), (n, last, hi)]
        else:
            parts.append((n, lo, hi))
    parts = [p for p in parts if p[1] < p[2]]
    sums: dict[tuple[int, int], tuple[int, int, int, int]] = {}

    def add(rows: Any) -> None:
        for user_id, n, contacts, with_person, reached, minutes in rows:
            was = sums.get((user_id, n), (0, 0, 0, 0))
            sums[user_id, n] = (
                was[0] + int(contacts or 0),
                was[1] + int(with_person or 0),
                was[2] + int(reached or 0),
                was[3] + int(minutes or 0),
            )

    if whole:
        add(
            _per_person_and_range(
                session,
                _ranges(whole, "hour_ranges"),
                ContactHour,
                col(ContactHour.hour_at),
                user_ids,
                kept_hour_figures(),
            )
        )
    if parts:
        add(
            _per_person_and_range(
                session,
                _ranges(parts, "part_ranges"),
                Contact,
                col(Contact.occurred_at),
                user_ids,
                contact_figures(),
            )
        )
    # The week and the month are runs of the trend's days (the week always; the
    # month with, when it began earlier, the range before the trend).
    week = [n for n, lo, _ in days if lo >= b.week_start]
    month = [n for n, lo, _ in days if lo >= b.month_start] + [MONTH]
    out = {}
    zero = (0, 0, 0, 0)
    for u in user_ids:
        per_day = [sums.get((u, n), zero) for n in range(TREND_DAYS)]
        out[u] = ContactStats(
            sum(per_day[n][0] for n in week),
            sum(per_day[n][1] for n in week),
            sum(per_day[n][2] for n in week),
            sum(sums.get((u, n), zero)[3] for n in month),
            tuple(d[0] for d in per_day),
        )
    return out


def contact_figures() -> list[Any]:
    """Contacts, those with the client or caregiver, those reached, and their minutes:
    the aggregates over contacts that ``contact_hours`` keeps per person and hour."""
    with_person = col(Contact.party).in_(REACHED_PARTIES)
    return [
        func.count(),
        func.sum(case((with_person, 1), else_=0)),
        func.sum(case((and_(with_person, col(Contact.outcome) == "reached"), 1), else_=0)),
        func.sum(func.coalesce(col(Contact.duration_min), 0)),
    ]


def kept_hour_figures() -> list[Any]:
    """The same four figures summed from ``contact_hours``."""
    h = ContactHour
    return [func.sum(col(c)) for c in (h.contacts, h.with_person, h.reached, h.minutes)]


def _per_person_and_range(
    session: Session,
    ranges: Any,
    model: Any,
    at: Any,
    user_ids: list[int],
    figures: list[Any],
) -> Any:
    """``figures`` of ``model``'s rows per person and range (rows whose ``at`` is in
    [lo, hi)), off the (user_id, at, ...) index."""
    who = col(model.user_id)
    return session.execute(
        _columns(who, ranges.c.n, *figures)
        .select_from(ranges)
        .join(model, and_(who.in_(user_ids), at >= ranges.c.lo, at < ranges.c.hi))
        .group_by(who, ranges.c.n)
    ).all()


def _hour_down(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_up(moment: datetime) -> datetime:
    down = _hour_down(moment)
    return down if down == moment else down + HOUR


def _trend_days(b: TeamBounds) -> list[tuple[int, datetime, datetime]]:
    """(day number, local midnight, next local midnight) of the trend's days, in UTC."""
    zone = b.zone
    first = b.trend_start.astimezone(zone).date()
    days = []
    for n in range(TREND_DAYS):
        lo = datetime.combine(first + timedelta(days=n), time(0), tzinfo=zone)
        hi = datetime.combine(first + timedelta(days=n + 1), time(0), tzinfo=zone)
        days.append((n, lo.astimezone(UTC), hi.astimezone(UTC)))
    return days


def _ranges(rows: list[tuple[int, datetime, datetime]], name: str) -> Any:
    """(range number, from, to) rows as a CTE to join on."""
    table = values(
        column("n", Integer),
        column("lo", UTCDateTime),
        column("hi", UTCDateTime),
        name=name,
    )
    return table.data(rows).cte(name)


def with_activity(
    rows: list[TeamRow], stats: dict[int, ContactStats], needs: dict[int, int]
) -> list[TeamRow]:
    from dataclasses import replace

    out = []
    for row in rows:
        s = stats.get(row.user_id)
        if s is None:
            out.append(replace(row, open_needs=needs.get(row.user_id, 0)))
            continue
        out.append(
            replace(
                row,
                open_needs=needs.get(row.user_id, 0),
                contacts_week=s.contacts_week,
                attempts_week=s.attempts_week,
                reached_week=s.reached_week,
                minutes_month=s.minutes_month,
                per_day=s.per_day,
            )
        )
    return out


def person_name(session: Session, user_id: int) -> str | None:
    return session.execute(select(User.display_name).where(col(User.id) == user_id)).scalar()


__all__ = [
    "PAGE",
    "TABS",
    "TAB_LABELS",
    "Bounds",
    "ContactStats",
    "NotAllowedScope",
    "Person",
    "QueueRow",
    "QueueScope",
    "Tab",
    "TeamBounds",
    "TeamRow",
    "assignable_people",
    "contact_stats",
    "may_see_followup",
    "open_needs_by_person",
    "person_name",
    "queue_page",
    "queue_row",
    "queue_rows",
    "scope_clause",
    "tab_counts",
    "team_overview",
    "with_activity",
]
