"""Programme measures for a calendar month (`cm-tui report --period 2026-10`).

Every figure is an aggregate query (COUNT / SUM / COUNT DISTINCT with GROUP BY);
no rows are loaded to be counted in Python. Definitions, for the month in local
time (``tz``; default the system zone) and the clients the viewer may open:

- **clients on the panel**: clients with a programme enrolment overlapping the
  month; a client with no enrolment rows counts when enrolled on or before the
  month's last day (or with no date) and not discharged. The denominator of
  every "per client" and "per 1,000" figure.
- **contacts**: every logged contact in the month. **Outreach**: outbound
  contacts with the client or their caregiver; **reach rate**: the share of
  outreach with the outcome "reached". **Minutes**: the sum of contact durations.
  Per person (the staff member who logged the contact) and for the team.
- **CCM time**: minutes per client in the month; clients at 20 minutes or more
  (the common CCM code) and at 60 or more (complex CCM), and of those, how many
  are in the CCM programme with consent on file by the month's end.
- **screenings**: completed and declined as a whole (by completion time),
  left in progress (by start), and declined items within them; per script.
- **needs**: identified (opened in the month) and resolved (closed as resolved
  in the month), per domain; open at the month's end.
- **follow-up timeliness**: follow-ups due in the month (not cancelled): done by
  their due time, done late, not done. Per assignee and for the team.
- **utilization**: ED visits, admissions and readmissions in the month, and
  each per 1,000 clients on the panel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from dateutil import tz as dateutil_tz
from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.sql.elements import True_
from sqlmodel import Session

from cm_tui.services.export import scope_clause
from cm_tui.services.interchange import table_of
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import (
    Client,
    Contact,
    FollowUp,
    Need,
    ProgramEnrollment,
    Screening,
    ScreeningAnswer,
    User,
    UtilizationEvent,
)
from cm_tui.store.types import UTCDateTime, utcnow

CCM_LEVELS = (20, 60)
OUTREACH_PARTIES = ("client", "caregiver")


@dataclass(frozen=True)
class Period:
    label: str
    first_day: date
    last_day: date
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive


def parse_period(text: str, *, tz: tzinfo | None = None) -> Period:
    """``2026-10`` -> that calendar month in local time. ValueError with a message to show."""
    m = re.fullmatch(r"\s*([0-9]{4})-([0-9]{1,2})\s*", text)
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError(f"period {text.strip()!r}: give a month as YYYY-MM, e.g. 2026-10.")
    first = date(int(m[1]), int(m[2]), 1)
    following = first + relativedelta(months=1)
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    return Period(
        label=f"{first:%Y-%m}",
        first_day=first,
        last_day=following - relativedelta(days=1),
        start=datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC),
        end=datetime.combine(following, time(0), tzinfo=zone).astimezone(UTC),
    )


def current_period(*, tz: tzinfo | None = None) -> Period:
    zone = tz if tz is not None else dateutil_tz.tzlocal()
    today = utcnow().astimezone(zone).date()
    return parse_period(f"{today:%Y-%m}", tz=zone)


# ---------------------------------------------------------------- the report


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class ContactFigures:
    contacts: int = 0
    outreach: int = 0
    reached: int = 0
    clients_contacted: int = 0
    clients_reached: int = 0
    minutes: int = 0

    @property
    def reach_rate(self) -> float | None:
        return _rate(self.reached, self.outreach)


@dataclass
class FollowUpFigures:
    due: int = 0
    on_time: int = 0
    late: int = 0
    not_done: int = 0
    cancelled: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.due)


@dataclass
class StaffLine:
    user_id: int | None
    username: str
    display_name: str
    role: str
    contacts: ContactFigures = field(default_factory=ContactFigures)
    followups: FollowUpFigures = field(default_factory=FollowUpFigures)


@dataclass
class CcmFigures:
    clients_with_time: int = 0
    minutes: int = 0
    at_20: int = 0
    at_60: int = 0
    at_20_ccm_consented: int = 0
    at_60_ccm_consented: int = 0


@dataclass
class ScreeningLine:
    script_id: str
    completed: int = 0
    declined: int = 0
    in_progress: int = 0
    items_declined: int = 0
    with_declined_items: int = 0


@dataclass
class NeedLine:
    domain: str
    identified: int = 0
    resolved: int = 0
    open_at_end: int = 0


@dataclass
class Utilization:
    ed_visits: int = 0
    admissions: int = 0
    readmissions: int = 0


@dataclass
class Report:
    period: Period
    scope: str
    clients: int = 0
    contacts: ContactFigures = field(default_factory=ContactFigures)
    staff: list[StaffLine] = field(default_factory=list)
    ccm: CcmFigures = field(default_factory=CcmFigures)
    screenings: list[ScreeningLine] = field(default_factory=list)
    needs: list[NeedLine] = field(default_factory=list)
    followups: FollowUpFigures = field(default_factory=FollowUpFigures)
    utilization: Utilization = field(default_factory=Utilization)

    @property
    def contacts_per_client(self) -> float | None:
        return _rate(self.contacts.contacts, self.clients)

    def per_1000(self, count: int) -> float | None:
        return count * 1000 / self.clients if self.clients else None

    @property
    def screenings_total(self) -> ScreeningLine:
        total = ScreeningLine("all")
        for line in self.screenings:
            total.completed += line.completed
            total.declined += line.declined
            total.in_progress += line.in_progress
            total.items_declined += line.items_declined
            total.with_declined_items += line.with_declined_items
        return total

    @property
    def needs_total(self) -> NeedLine:
        total = NeedLine("all")
        for line in self.needs:
            total.identified += line.identified
            total.resolved += line.resolved
            total.open_at_end += line.open_at_end
        return total


# ---------------------------------------------------------------- queries


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(
        column >= literal(period.start, UTCDateTime), column < literal(period.end, UTCDateTime)
    )


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _scoped(query: Select[Any], rows: Any, scope: ColumnElement[bool]) -> Select[Any]:
    """``query`` over ``rows`` (a table with client_id) kept to the clients in ``scope``.
    With no limit (a supervisor's scope) there is no join to clients: every row's client
    exists (a foreign key), and the join was a third of the report's time on 100k
    clients (a lookup per row, 170,000 of them for a month of contacts)."""
    if isinstance(scope, True_):
        return query.select_from(rows)
    clients = table_of(Client)
    return query.select_from(rows).join(clients, clients.c.id == rows.c.client_id).where(scope)


def _panel_clause(period: Period) -> ColumnElement[bool]:
    clients = table_of(Client)
    enrolments = table_of(ProgramEnrollment)
    overlapping = exists().where(
        enrolments.c.client_id == clients.c.id,
        enrolments.c.start_on <= period.last_day,
        or_(enrolments.c.end_on.is_(None), enrolments.c.end_on >= period.first_day),
    )
    any_enrolment = exists().where(enrolments.c.client_id == clients.c.id)
    return or_(
        overlapping,
        and_(
            not_(any_enrolment),
            or_(clients.c.enrolled_on.is_(None), clients.c.enrolled_on <= period.last_day),
            clients.c.status != "discharged",
        ),
    )


def _outreach_and_reached() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """A contact that is outreach (outbound, to the client or their caregiver), and
    one that is outreach that reached them."""
    contacts = table_of(Contact)
    outreach = and_(contacts.c.direction == "outbound", contacts.c.party.in_(OUTREACH_PARTIES))
    return outreach, and_(outreach, contacts.c.outcome == "reached")


def _contact_columns() -> list[Any]:
    contacts = table_of(Contact)
    outreach, reached = _outreach_and_reached()
    return [
        func.count(contacts.c.id),
        _count_if(outreach),
        _count_if(reached),
        func.count(distinct(contacts.c.client_id)),
        func.count(distinct(case((reached, contacts.c.client_id)))),
        func.coalesce(func.sum(contacts.c.duration_min), 0),
    ]


def _contact_figures(row: Any) -> ContactFigures:
    return ContactFigures(*(int(v or 0) for v in row))


def _followup_columns() -> list[Any]:
    f = table_of(FollowUp)
    done = f.c.status == "done"
    on_time = and_(done, f.c.completed_at.is_not(None), f.c.completed_at <= f.c.due_at)
    return [
        _count_if(f.c.status != "cancelled"),
        _count_if(on_time),
        _count_if(and_(done, not_(on_time))),
        _count_if(f.c.status == "open"),
        _count_if(f.c.status == "cancelled"),
    ]


Progress = Callable[[int, int, str], None]  # (step, of steps, what is being counted)

REPORT_STEPS = (
    "clients on the panel",
    "contacts and CCM time",
    "each person's contacts",
    "follow-ups",
    "screenings",
    "needs",
    "utilization",
)


def program_report(
    store: Store,
    period: Period,
    *,
    viewer: Viewer | None = None,
    progress: Progress | None = None,
) -> Report:
    """Every measure of the module docstring for ``period``. A month of a large
    organisation is long work (about a second on 100,000 clients and 1,000,000
    contacts): ``progress`` hears each of REPORT_STEPS as it starts."""
    report = Report(period, _scope_label(viewer))
    with store.read() as session:
        _fill(session, report, period, viewer, progress or (lambda step, steps, what: None))
    return report


def view_report(
    store: Store, period: Period, viewer: Viewer, progress: Progress | None = None
) -> Report:
    """The report as a screen shows it; the view is an audit event (it names people)."""
    from cm_tui.store import audit

    report = program_report(store, period, viewer=viewer, progress=progress)
    with store.write() as session:
        detail = f"programme report {period.label}; scope: {report.scope}"
        audit.record_by(session, viewer, "view", "report", detail=detail)
    return report


def _scope_label(viewer: Viewer | None) -> str:
    if viewer is None or viewer.sees_everyone:
        return "the whole organisation"
    if viewer.role == "chw":
        return f"clients of {viewer.display_name}"
    return "every client (care managers may open any record)"


def _fill(
    session: Session, report: Report, period: Period, viewer: Viewer | None, progress: Progress
) -> None:
    clients = table_of(Client)
    contacts = table_of(Contact)
    users = table_of(User)
    scope = scope_clause(viewer)
    steps = iter(enumerate(REPORT_STEPS, 1))

    def next_step() -> None:
        step, what = next(steps)
        progress(step, len(REPORT_STEPS), what)

    next_step()
    report.clients = int(
        session.execute(
            select(func.count()).select_from(clients).where(scope, _panel_clause(period))
        ).scalar_one()
    )

    in_month = _in(contacts.c.occurred_at, period)
    next_step()
    report.contacts, report.ccm = _team_contacts(session, period, scope)

    staff: dict[int | None, StaffLine] = {}
    names = {
        int(r[0]): (str(r[1]), str(r[2]), str(r[3]))
        for r in session.execute(
            select(users.c.id, users.c.username, users.c.display_name, users.c.role)
        )
    }

    def line(user_id: int | None) -> StaffLine:
        if user_id not in staff:
            username, display, role = names.get(user_id or -1, ("(nobody)", "(not recorded)", ""))
            staff[user_id] = StaffLine(user_id, username, display, role)
        return staff[user_id]

    next_step()
    for row in session.execute(
        _scoped(select(contacts.c.user_id, *_contact_columns()), contacts, scope)
        .where(in_month)
        .group_by(contacts.c.user_id)
    ):
        line(row[0]).contacts = _contact_figures(row[1:])

    next_step()
    followups = table_of(FollowUp)
    team_fu = [0] * len(fields(FollowUpFigures))
    for row in session.execute(
        _scoped(select(followups.c.assignee_id, *_followup_columns()), followups, scope)
        .where(_in(followups.c.due_at, period))
        .group_by(followups.c.assignee_id)
    ):
        counts = [int(v or 0) for v in row[1:]]
        line(row[0]).followups = FollowUpFigures(*counts)
        team_fu = [a + b for a, b in zip(team_fu, counts, strict=True)]  # every one adds up
    report.followups = FollowUpFigures(*team_fu)
    report.staff = sorted(staff.values(), key=lambda s: (s.display_name.lower(), s.username))

    next_step()
    report.screenings = _screenings(session, period, scope)
    next_step()
    report.needs = _needs(session, period, scope)
    next_step()
    report.utilization = _utilization(session, period, scope)


def _minutes_by_client(period: Period, scope: ColumnElement[bool]) -> Any:
    contacts = table_of(Contact)
    minutes = select(
        contacts.c.client_id.label("client_id"),
        func.sum(contacts.c.duration_min).label("minutes"),
    )
    return (
        _scoped(minutes, contacts, scope)
        .where(_in(contacts.c.occurred_at, period), contacts.c.duration_min > 0)
        .group_by(contacts.c.client_id)
    )


def _ccm_consented(period: Period) -> ColumnElement[bool]:
    clients = table_of(Client)
    return and_(
        clients.c.program == "CCM",
        clients.c.consent_on.is_not(None),
        clients.c.consent_on <= period.last_day,
    )


def _team_contacts(
    session: Session, period: Period, scope: ColumnElement[bool]
) -> tuple[ContactFigures, CcmFigures]:
    """The team's contact figures and CCM time, from one pass over the month's
    contacts grouped by client (two passes, one for each, took twice as long)."""
    contacts = table_of(Contact)
    clients = table_of(Client)
    outreach, reached = _outreach_and_reached()
    timed = contacts.c.duration_min > 0
    per_client = (
        _scoped(
            select(
                contacts.c.client_id.label("client_id"),
                func.count(contacts.c.id).label("contacts"),
                _count_if(outreach).label("outreach"),
                _count_if(reached).label("reached"),
                func.coalesce(func.sum(contacts.c.duration_min), 0).label("minutes"),
                func.coalesce(func.sum(case((timed, contacts.c.duration_min), else_=0)), 0).label(
                    "ccm_minutes"
                ),
            ),
            contacts,
            scope,
        )
        .where(_in(contacts.c.occurred_at, period))
        .group_by(contacts.c.client_id)
        .subquery()
    )
    c = per_client.c
    ccm = c.ccm_minutes
    consented = _ccm_consented(period)
    row = session.execute(
        select(
            func.coalesce(func.sum(c.contacts), 0),
            func.coalesce(func.sum(c.outreach), 0),
            func.coalesce(func.sum(c.reached), 0),
            func.count(),
            _count_if(c.reached > 0),
            func.coalesce(func.sum(c.minutes), 0),
            _count_if(ccm > 0),
            func.coalesce(func.sum(ccm), 0),
            _count_if(ccm >= CCM_LEVELS[0]),
            _count_if(ccm >= CCM_LEVELS[1]),
            _count_if(and_(ccm >= CCM_LEVELS[0], consented)),
            _count_if(and_(ccm >= CCM_LEVELS[1], consented)),
        )
        .select_from(per_client)
        .join(clients, clients.c.id == per_client.c.client_id)
    ).one()
    return _contact_figures(row[:6]), CcmFigures(*(int(v or 0) for v in row[6:]))


@dataclass(frozen=True)
class CcmClient:
    client_id: int
    mrn: str | None
    name: str
    program: str | None
    consent_on: date | None
    minutes: int
    ccm_consented: bool

    @property
    def level(self) -> int:
        """The highest CCM threshold reached (20 or 60 minutes)."""
        return max(m for m in CCM_LEVELS if self.minutes >= m)


def ccm_clients(
    store: Store,
    period: Period,
    *,
    viewer: Viewer | None = None,
    at_least: int = CCM_LEVELS[0],
    window: int = 500,
) -> Iterator[CcmClient]:
    """Clients with at least ``at_least`` minutes in the month, most minutes first (windowed)."""
    clients = table_of(Client)
    per_client = _minutes_by_client(period, scope_clause(viewer)).subquery()
    consented = _ccm_consented(period)
    base = (
        select(
            clients.c.id,
            clients.c.mrn,
            clients.c.family_name,
            clients.c.given_name,
            clients.c.program,
            clients.c.consent_on,
            per_client.c.minutes,
            case((consented, 1), else_=0).label("consented"),
        )
        .select_from(per_client)
        .join(clients, clients.c.id == per_client.c.client_id)
        .where(per_client.c.minutes >= at_least)
        .order_by(per_client.c.minutes.desc(), clients.c.id)
    )
    offset = 0
    while True:
        with store.read() as session:
            rows = session.execute(base.limit(window).offset(offset)).all()
        for r in rows:
            yield CcmClient(int(r[0]), r[1], f"{r[2]}, {r[3]}", r[4], r[5], int(r[6]), bool(r[7]))
        if len(rows) < window:
            return
        offset += window


def _screenings(
    session: Session, period: Period, scope: ColumnElement[bool]
) -> list[ScreeningLine]:
    s = table_of(Screening)
    a = table_of(ScreeningAnswer)
    finished_at = func.coalesce(s.c.completed_at, s.c.started_at)
    finished_in = _in(finished_at, period)
    started_in = _in(s.c.started_at, period)
    counted = or_(
        and_(s.c.status.in_(("completed", "declined")), finished_in),
        and_(s.c.status == "in_progress", started_in),
    )
    # Counted for the month's screenings only (by the answers' primary key), not for
    # every screening ever and then joined: that was 150 ms of the report on 100k.
    n = (
        select(func.count())
        .where(a.c.screening_id == s.c.id, a.c.declined.is_(True))
        .scalar_subquery()
    )
    figures = select(
        s.c.script_id,
        _count_if(s.c.status == "completed"),
        _count_if(s.c.status == "declined"),
        _count_if(s.c.status == "in_progress"),
        func.coalesce(func.sum(n), 0),
        _count_if(n > 0),
    )
    rows = session.execute(
        _scoped(figures, s, scope).where(counted).group_by(s.c.script_id).order_by(s.c.script_id)
    ).all()
    return [ScreeningLine(str(r[0]), *(int(v or 0) for v in r[1:])) for r in rows]


def _needs(session: Session, period: Period, scope: ColumnElement[bool]) -> list[NeedLine]:
    n = table_of(Need)
    end = literal(period.end, UTCDateTime)
    identified = _in(n.c.opened_at, period)
    resolved = and_(n.c.status == "resolved", _in(n.c.closed_at, period))
    open_at_end = and_(n.c.opened_at < end, or_(n.c.closed_at.is_(None), n.c.closed_at >= end))
    figures = select(
        n.c.domain,
        _count_if(identified),
        _count_if(resolved),
        _count_if(open_at_end),
    )
    rows = session.execute(
        _scoped(figures, n, scope)
        .where(or_(identified, resolved, open_at_end))
        .group_by(n.c.domain)
        .order_by(n.c.domain)
    ).all()
    return [NeedLine(str(r[0]), *(int(v or 0) for v in r[1:])) for r in rows]


def _utilization(session: Session, period: Period, scope: ColumnElement[bool]) -> Utilization:
    u = table_of(UtilizationEvent)
    figures = select(
        _count_if(u.c.kind == "ed_visit"),
        _count_if(u.c.kind == "admission"),
        _count_if(u.c.kind == "readmission"),
    )
    row = session.execute(_scoped(figures, u, scope).where(_in(u.c.occurred_at, period))).one()
    return Utilization(*(int(v or 0) for v in row))


# ---------------------------------------------------------------- output


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def report_lines(report: Report) -> list[str]:
    """The report as plain text lines (CLI `--format text`, and the report screen's export)."""
    c = report.contacts
    f = report.followups
    u = report.utilization
    lines = [
        f"Programme report for {report.period.label} "
        f"({report.period.first_day:%d %b} – {report.period.last_day:%d %b %Y}), {report.scope}",
        "",
        f"Clients on the panel          {report.clients:>8,}",
        f"Contacts                      {c.contacts:>8,}   "
        f"({_num(report.contacts_per_client, 2)} per client)",
        f"Outreach to client/caregiver  {c.outreach:>8,}   reached {c.reached:,} "
        f"(reach rate {_pct(c.reach_rate)})",
        f"Clients contacted / reached   {c.clients_contacted:>8,} / {c.clients_reached:,}",
        f"Minutes of contact            {c.minutes:>8,}",
        "",
        "CCM time per client this month",
        f"  clients with logged minutes {report.ccm.clients_with_time:>8,}   "
        f"({report.ccm.minutes:,} minutes)",
        f"  at 20 minutes or more       {report.ccm.at_20:>8,}   "
        f"({report.ccm.at_20_ccm_consented:,} in CCM with consent)",
        f"  at 60 minutes or more       {report.ccm.at_60:>8,}   "
        f"({report.ccm.at_60_ccm_consented:,} in CCM with consent)",
        "",
        "Follow-ups due this month",
        f"  due {f.due:,}: done on time {f.on_time:,} ({_pct(f.on_time_rate)}), "
        f"late {f.late:,}, not done {f.not_done:,}; cancelled {f.cancelled:,}",
        "",
        "ED visits and admissions                 count   per 1,000 clients",
        f"  ED visits                            {u.ed_visits:>8,}   "
        f"{_num(report.per_1000(u.ed_visits)):>10}",
        f"  admissions                           {u.admissions:>8,}   "
        f"{_num(report.per_1000(u.admissions)):>10}",
        f"  readmissions                         {u.readmissions:>8,}   "
        f"{_num(report.per_1000(u.readmissions)):>10}",
        "",
        "Screenings        completed  declined  in progress  declined items (screenings)",
    ]
    for sl in [*report.screenings, report.screenings_total]:
        lines.append(
            f"  {sl.script_id:<17}{sl.completed:>7,}{sl.declined:>10,}{sl.in_progress:>13,}"
            f"{sl.items_declined:>10,} ({sl.with_declined_items:,})"
        )
    lines += ["", "Needs             identified  resolved  open at month end"]
    for n in [*report.needs, report.needs_total]:
        lines.append(f"  {n.domain:<17}{n.identified:>8,}{n.resolved:>10,}{n.open_at_end:>12,}")
    lines += [
        "",
        "Per person              contacts  outreach  reached  reach   minutes  "
        "follow-ups due  on time",
    ]
    for person in report.staff:
        sc, sf = person.contacts, person.followups
        lines.append(
            f"  {person.display_name[:22]:<22}{sc.contacts:>9,}{sc.outreach:>10,}"
            f"{sc.reached:>9,}{_pct(sc.reach_rate):>7}{sc.minutes:>10,}{sf.due:>16,}"
            f"{_pct(sf.on_time_rate):>9}"
        )
    return lines


def report_rows(report: Report, ccm_list: Iterator[CcmClient] | None = None) -> Iterator[list[Any]]:
    """The report as tidy CSV rows: section, subject, measure, value."""
    yield ["section", "subject", "measure", "value"]

    def rate(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    yield ["period", "", "month", report.period.label]
    yield ["panel", "", "clients", report.clients]
    c = report.contacts
    for name, value in (
        ("contacts", c.contacts),
        ("outreach", c.outreach),
        ("reached", c.reached),
        ("reach_rate", rate(c.reach_rate)),
        ("clients_contacted", c.clients_contacted),
        ("clients_reached", c.clients_reached),
        ("contacts_per_client", rate(report.contacts_per_client)),
        ("minutes", c.minutes),
    ):
        yield ["contacts", "team", name, value]
    for s in report.staff:
        sc, sf = s.contacts, s.followups
        for name, value in (
            ("contacts", sc.contacts),
            ("outreach", sc.outreach),
            ("reached", sc.reached),
            ("reach_rate", rate(sc.reach_rate)),
            ("clients_contacted", sc.clients_contacted),
            ("minutes", sc.minutes),
            ("followups_due", sf.due),
            ("followups_on_time", sf.on_time),
            ("followups_on_time_rate", rate(sf.on_time_rate)),
        ):
            yield ["person", s.username, name, value]
    m = report.ccm
    for name, value in (
        ("clients_with_time", m.clients_with_time),
        ("minutes", m.minutes),
        ("clients_20_min", m.at_20),
        ("clients_60_min", m.at_60),
        ("clients_20_min_ccm_consented", m.at_20_ccm_consented),
        ("clients_60_min_ccm_consented", m.at_60_ccm_consented),
    ):
        yield ["ccm", "team", name, value]
    for sl in [*report.screenings, report.screenings_total]:
        for name, value in (
            ("completed", sl.completed),
            ("declined", sl.declined),
            ("in_progress", sl.in_progress),
            ("items_declined", sl.items_declined),
            ("with_declined_items", sl.with_declined_items),
        ):
            yield ["screenings", sl.script_id, name, value]
    for n in [*report.needs, report.needs_total]:
        yield ["needs", n.domain, "identified", n.identified]
        yield ["needs", n.domain, "resolved", n.resolved]
        yield ["needs", n.domain, "open_at_end", n.open_at_end]
    f = report.followups
    for name, value in (
        ("due", f.due),
        ("done_on_time", f.on_time),
        ("done_late", f.late),
        ("not_done", f.not_done),
        ("cancelled", f.cancelled),
        ("on_time_rate", rate(f.on_time_rate)),
    ):
        yield ["follow_ups", "team", name, value]
    u = report.utilization
    for name, count in (
        ("ed_visits", u.ed_visits),
        ("admissions", u.admissions),
        ("readmissions", u.readmissions),
    ):
        yield ["utilization", "team", name, count]
        per = report.per_1000(count)
        yield ["utilization", "team", f"{name}_per_1000", "" if per is None else f"{per:.2f}"]
    for client in ccm_list or ():
        subject = client.mrn or f"client-{client.client_id}"
        yield ["ccm_client", subject, "minutes", client.minutes]
        yield ["ccm_client", subject, "level", client.level]
        yield ["ccm_client", subject, "ccm_consented", "yes" if client.ccm_consented else "no"]


__all__ = [
    "CCM_LEVELS",
    "CcmClient",
    "Period",
    "Report",
    "ccm_clients",
    "current_period",
    "parse_period",
    "program_report",
    "report_lines",
    "report_rows",
]
