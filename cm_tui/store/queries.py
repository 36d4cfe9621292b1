"""Read queries for the screens. Every list is windowed (keyset pagination + LIMIT)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    false,
    func,
    literal,
    literal_column,
    or_,
    text,
    tuple_,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from cm_tui.store.access import Viewer, caseload_scope, record_scope
from cm_tui.store.models import Client, FollowUp, Need, User
from cm_tui.store.types import UTCDateTime, utcnow
from cm_tui.store.vocab import OPEN_NEED_STATUSES

if TYPE_CHECKING:  # tables of models_later: not needed to paint the caseload (models.py)
    from cm_tui.store.models import Contact, ContactAddendum, Screening

PAGE = 100

SortKey = Literal["name", "risk", "last_contact", "age"]
SORT_LABELS: dict[str, str] = {
    "name": "name",
    "risk": "risk (high first)",
    "last_contact": "last contact (longest ago first)",
    "age": "age (oldest first)",
}


@dataclass(frozen=True)
class CaseloadFilter:
    search: str = ""
    risk: str | None = None
    program: str | None = None
    status: str | None = "active"
    not_reached_days: int | None = None
    everyone: bool = False  # supervisors: the whole organisation instead of their own list

    def whole_organisation(self, viewer: Viewer | None) -> bool:
        """Whether ``viewer`` sees the whole organisation's list with this filter, not
        one person's caseload (which has indexes of its own, a few thousand rows)."""
        return self.everyone and viewer is not None and viewer.sees_everyone


@dataclass(frozen=True)
class CaseloadRow:
    id: int
    family_name: str
    given_name: str
    preferred_name: str | None
    dob: date | None
    risk_tier: str
    program: str | None
    status: str
    phone: str | None
    preferred_contact: str
    best_time: str | None
    last_contact_at: datetime | None
    last_reached_at: datetime | None
    next_due_at: datetime | None = None
    open_needs: int = 0
    cursor: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def display_name(self) -> str:
        name = f"{self.family_name}, {self.given_name}"
        if self.preferred_name and self.preferred_name != self.given_name:
            name += f" ({self.preferred_name})"
        return name


# ---------------------------------------------------------------- name search

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def search_tokens(text_: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text_)][:6]


def fts_query(tokens: list[str]) -> str:
    """An FTS5 MATCH expression: every token as a quoted prefix (user text is never syntax)."""
    return " ".join('"' + t.replace('"', '""') + '"*' for t in tokens)


# PostgreSQL search folds accents as SQLite's FTS5 table does (unicode61
# remove_diacritics): "adan" finds Adán, "nunez" Núñez. Each Latin letter of
# U+00C0-U+024F that is a plain letter with accents maps to that letter, lower-cased.
# Migration 0008 indexes with these same two strings: change both together.
FOLD_FROM = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆć"
    "ĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕ"
    "ŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟ"
    "ǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
)
FOLD_TO = (
    "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaacc"
    "ccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorr"
    "rrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuuuuuuaa"
    "aaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy"
)
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def pg_fold(token: str) -> str:
    """A lower-cased search word as :func:`pg_search_text` folds the text it searches."""
    return token.translate(_FOLD)


def pg_search_text() -> ColumnElement[str]:
    """PostgreSQL: the one lower-cased, accent-folded text a search reads (names,
    preferred name, MRN, phone), exactly the expression migration 0008 indexes with
    gin_trgm_ops; the planner uses that index only for this same expression, so change
    both together. Separators and the fold's strings are SQL literals, not bound
    parameters, so a prepared (generic) plan matches too."""
    space = literal_column("' '", String)
    empty = literal_column("''", String)
    parts: list[Any] = [
        col(Client.family_name),
        col(Client.given_name),
        func.coalesce(col(Client.preferred_name), empty),
        func.coalesce(col(Client.mrn), empty),
        func.coalesce(col(Client.phone), empty),
    ]
    joined: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        joined = joined.concat(space).concat(part)
    return func.translate(
        func.lower(joined),
        literal_column(f"'{FOLD_FROM}'", String),
        literal_column(f"'{FOLD_TO}'", String),
    )


def name_search_clause(
    session: Session, text_: str, *, within_caseload: bool = False
) -> ColumnElement[bool] | None:
    """``within_caseload``: the query is held to one person's caseload, which has an
    index of its own (a few thousand clients at most)."""
    tokens = search_tokens(text_)
    if not tokens:
        return None
    if session.get_bind().dialect.name == "sqlite":
        sub = text("SELECT rowid FROM client_fts WHERE client_fts MATCH :q").bindparams(
            q=fts_query(tokens)
        )
        # In a caseload, "+ 0" keeps SQLite on the caseload's index, each client
        # looked up in the matches; otherwise it looks up every match's client row
        # (for "c", 16,725 rows of the 100k demo to count a caseload's 518: 15 ms
        # against 3). Org-wide, looking up the matches is the better way round.
        ident = col(Client.id) + literal_column("0") if within_caseload else col(Client.id)
        return ident.in_(sub.columns(rowid=Integer))
    # Every token must start a word ("brien" finds "O'Brien"); tokens hold only
    # letters and digits, so they are safe inside a regex. The trigram index serves
    # each regex; \m (start of a word) keeps the match to word starts.
    haystack = pg_search_text()
    return and_(*(haystack.op("~")(r"\m" + pg_fold(tok)) for tok in tokens))


# ---------------------------------------------------------------- caseload


@dataclass(frozen=True)
class _Phase:
    """One stretch of a sort order that an index delivers as it is stored.

    A sort is a list of phases, read one after another: ``where`` picks the rows
    of the phase, ``order`` (never NULL within it, ending with the id) orders them.
    Splitting the order this way, instead of sorting on an expression such as
    ``CASE risk_tier ...`` or ``coalesce(dob, ...)``, lets every window come
    straight off an index (scope, status, column, ..., id): no sort of the
    whole caseload per keystroke, whatever its size.
    """

    where: tuple[ColumnElement[bool], ...]
    order: tuple[Any, ...]


def _phases(sort: SortKey) -> list[_Phase]:
    name = (col(Client.family_name), col(Client.given_name), col(Client.id))
    if sort == "risk":  # high first, then rising, then low; unknown tiers last
        tiers = [
            _Phase((col(Client.risk_tier) == tier,), name) for tier in ("high", "rising", "low")
        ]
        other = col(Client.risk_tier).not_in(("high", "rising", "low"))
        return [*tiers, _Phase((other,), (col(Client.risk_tier), *name))]
    if sort == "last_contact":  # never contacted first, then longest ago first
        last = col(Client.last_contact_at)
        return [
            _Phase((last.is_(None),), (col(Client.id),)),
            _Phase((last.is_not(None),), (last, col(Client.id))),
        ]
    if sort == "age":  # oldest first (earliest date of birth); unknown last
        dob = col(Client.dob)
        return [
            _Phase((dob.is_not(None),), (dob, col(Client.id))),
            _Phase((dob.is_(None),), (col(Client.id),)),
        ]
    return [_Phase((), name)]


def _bound(value: Any) -> Any:
    return literal(value, UTCDateTime) if isinstance(value, datetime) else literal(value)


def _caseload_where(
    session: Session, viewer: Viewer, flt: CaseloadFilter, now: datetime
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    org_wide = flt.whole_organisation(viewer)
    if org_wide:
        where.append(record_scope(viewer))
    else:
        where.append(caseload_scope(viewer))
    if flt.status:
        where.append(col(Client.status) == flt.status)
    if flt.risk:
        where.append(col(Client.risk_tier) == flt.risk)
    if flt.program:
        where.append(col(Client.program) == flt.program)
    if flt.not_reached_days is not None:
        cutoff = now - timedelta(days=flt.not_reached_days)
        where.append(
            or_(col(Client.last_reached_at).is_(None), col(Client.last_reached_at) < cutoff)
        )
    if flt.search.strip():
        clause = name_search_clause(session, flt.search, within_caseload=not org_wide)
        where.append(clause if clause is not None else false())
    return where


def caseload_page(
    session: Session,
    viewer: Viewer,
    flt: CaseloadFilter,
    sort: SortKey = "name",
    after: tuple[Any, ...] | None = None,
    limit: int = PAGE,
    now: datetime | None = None,
) -> list[CaseloadRow]:
    """One window of the caseload, starting after the keyset cursor ``after``.

    A cursor is ``(phase, *order values)`` of the last row shown (see :class:`_Phase`).
    """
    now = now or utcnow()
    where = _caseload_where(session, viewer, flt, now)
    phases = _phases(sort)
    start = 0 if after is None else int(after[0])
    page: list[tuple[int, tuple[Any, ...]]] = []
    for number in range(start, len(phases)):
        phase = phases[number]
        stmt: Select[Any] = select(col(Client.id), *phase.order).where(*where, *phase.where)
        if after is not None and number == start:
            stmt = stmt.where(tuple_(*phase.order) > tuple_(*[_bound(v) for v in after[1:]]))
        stmt = stmt.order_by(*phase.order).limit(limit - len(page))
        page.extend((r[0], (number, *r[1:])) for r in session.execute(stmt).all())
        if len(page) >= limit:
            break
    if not page:
        return []
    ids = [i for i, _ in page]
    cursors = dict(page)
    details = {row.id: row for row in _caseload_details(session, ids)}
    return [replace(details[i], cursor=cursors[i]) for i in ids if i in details]


def _caseload_details(session: Session, ids: list[int]) -> list[CaseloadRow]:
    next_due = (
        select(func.min(FollowUp.due_at))
        .where(FollowUp.client_id == Client.id, FollowUp.status == "open")
        .correlate(Client)
        .scalar_subquery()
    )
    open_needs = (
        select(func.count())
        .select_from(Need)
        .where(Need.client_id == Client.id, col(Need.status).in_(OPEN_NEED_STATUSES))
        .correlate(Client)
        .scalar_subquery()
    )
    columns: list[Any] = [
        Client.id,
        Client.family_name,
        Client.given_name,
        Client.preferred_name,
        Client.dob,
        Client.risk_tier,
        Client.program,
        Client.status,
        Client.phone,
        Client.preferred_contact,
        Client.best_time,
        Client.last_contact_at,
        Client.last_reached_at,
        next_due.label("next_due_at"),
        open_needs.label("open_needs"),
    ]
    stmt = sa_select(*columns).where(col(Client.id).in_(ids))
    out = []
    for r in session.execute(stmt).all():
        m = r._mapping
        out.append(
            CaseloadRow(
                id=m["id"],
                family_name=m["family_name"],
                given_name=m["given_name"],
                preferred_name=m["preferred_name"],
                dob=m["dob"],
                risk_tier=m["risk_tier"],
                program=m["program"],
                status=m["status"],
                phone=m["phone"],
                preferred_contact=m["preferred_contact"],
                best_time=m["best_time"],
                last_contact_at=m["last_contact_at"],
                last_reached_at=m["last_reached_at"],
                next_due_at=m["next_due_at"],
                open_needs=int(m["open_needs"] or 0),
            )
        )
    return out


def caseload_count(
    session: Session, viewer: Viewer, flt: CaseloadFilter, now: datetime | None = None
) -> int:
    stmt = (
        select(func.count())
        .select_from(Client)
        .where(*_caseload_where(session, viewer, flt, now or utcnow()))
    )
    return int(session.execute(stmt).scalar_one())


def has_clients(session: Session) -> bool:
    return session.execute(select(Client.id).limit(1)).first() is not None


def programs_in_use(session: Session, limit: int = 50) -> list[str]:
    """The distinct programmes, one index seek each (a loose index scan), not a table scan."""
    found: list[str] = []
    last: str | None = None
    while len(found) < limit:
        stmt = select(func.min(Client.program)).where(col(Client.program).is_not(None))
        if last is not None:
            stmt = stmt.where(col(Client.program) > last)
        value = session.execute(stmt).scalar_one_or_none()
        if value is None:
            break
        found.append(value)
        last = value
    return found


# ---------------------------------------------------------------- client brief


@dataclass(frozen=True)
class NeedLine:
    id: int
    domain: str
    status: str
    opened_at: datetime
    referrals: list[tuple[str, str]]  # (resource name, status)


@dataclass(frozen=True)
class ClientBrief:
    client: Client
    care_manager: str | None
    chw: str | None
    open_followups: list[tuple[FollowUp, str | None]]
    open_needs: list[NeedLine]
    screenings: list[Screening]
    contact_count: int


def open_client(session: Session, viewer: Viewer, client_id: int) -> Client | None:
    """The client record if this viewer may open it (None otherwise)."""
    return session.exec(select(Client).where(Client.id == client_id, record_scope(viewer))).first()


def client_brief(session: Session, viewer: Viewer, client_id: int) -> ClientBrief | None:
    from cm_tui.store.models import Contact, Referral, Resource, Screening

    client = open_client(session, viewer, client_id)
    if client is None:
        return None
    names = _user_names(session, [client.care_manager_id, client.chw_id])
    assignee = aliased(User)
    fus = session.execute(
        select(FollowUp, assignee.display_name)
        .join(assignee, col(assignee.id) == col(FollowUp.assignee_id), isouter=True)
        .where(FollowUp.client_id == client_id, FollowUp.status == "open")
        .order_by(col(FollowUp.due_at), col(FollowUp.id))
        .limit(20)
    ).all()
    needs = session.exec(
        select(Need)
        .where(Need.client_id == client_id, col(Need.status).in_(OPEN_NEED_STATUSES))
        .order_by(col(Need.opened_at), col(Need.id))
        .limit(20)
    ).all()
    need_lines = []
    for need in needs:
        refs = session.execute(
            select(Resource.name, Referral.status)
            .join(Resource, col(Resource.id) == Referral.resource_id, isouter=True)
            .where(Referral.need_id == need.id)
            .order_by(col(Referral.sent_at), col(Referral.id))
            .limit(10)
        ).all()
        need_lines.append(
            NeedLine(
                need.id or 0,
                need.domain,
                need.status,
                need.opened_at,
                [(r[0] or "(resource removed)", r[1]) for r in refs],
            )
        )
    screenings = session.exec(
        select(Screening)
        .where(Screening.client_id == client_id)
        .order_by(col(Screening.started_at).desc(), col(Screening.id).desc())
        .limit(10)
    ).all()
    count = session.execute(
        select(func.count()).select_from(Contact).where(Contact.client_id == client_id)
    ).scalar_one()
    return ClientBrief(
        client=client,
        care_manager=names.get(client.care_manager_id),
        chw=names.get(client.chw_id),
        open_followups=[(f, n) for f, n in fus],
        open_needs=need_lines,
        screenings=list(screenings),
        contact_count=int(count),
    )


def _user_names(session: Session, ids: list[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(col(User.id).in_(wanted)))
    return {r[0]: r[1] for r in rows}


@dataclass(frozen=True)
class TimelineEntry:
    contact: Contact
    author: str | None
    addenda: list[tuple[ContactAddendum, str | None]]

    @property
    def cursor(self) -> tuple[datetime, int]:
        return (self.contact.occurred_at, self.contact.id or 0)


def find_clients(session: Session, viewer: Viewer, text_: str, limit: int = 20) -> list[Client]:
    """Org-wide search by name, MRN or phone, within what this viewer may open."""
    clause = name_search_clause(session, text_)
    if clause is None:
        return []
    return list(
        session.exec(
            select(Client)
            .where(clause, record_scope(viewer))
            .order_by(col(Client.family_name), col(Client.given_name), col(Client.id))
            .limit(limit)
        ).all()
    )
