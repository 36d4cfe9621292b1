"""Read queries for the contact log: the filtered, windowed timeline and the form's client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, tuple_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from cm_tui.store.access import Viewer
from cm_tui.store.models import Contact, ContactAddendum, User
from cm_tui.store.queries import TimelineEntry, open_client
from cm_tui.store.types import UTCDateTime


@dataclass(frozen=True)
class TimelineFilter:
    method: str | None = None
    party: str | None = None
    outcome: str | None = None

    @property
    def active(self) -> bool:
        return any((self.method, self.party, self.outcome))


@dataclass(frozen=True)
class FormClient:
    """What the contact form shows about the person and uses for its defaults."""

    id: int
    name: str
    phone: str | None
    preferred_contact: str
    best_time: str | None
    language: str | None
    pcp_name: str | None
    pcp_phone: str | None


def form_client(session: Session, viewer: Viewer, client_id: int) -> FormClient | None:
    client = open_client(session, viewer, client_id)
    if client is None or client.id is None:
        return None
    name = f"{client.family_name}, {client.given_name}"
    if client.preferred_name and client.preferred_name != client.given_name:
        name += f" ({client.preferred_name})"
    return FormClient(
        id=client.id,
        name=name,
        phone=client.phone,
        preferred_contact=client.preferred_contact,
        best_time=client.best_time,
        language=client.language,
        pcp_name=client.pcp_name,
        pcp_phone=client.pcp_phone,
    )


def _filter_where(client_id: int, flt: TimelineFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [col(Contact.client_id) == client_id]
    if flt.method:
        where.append(col(Contact.method) == flt.method)
    if flt.party:
        where.append(col(Contact.party) == flt.party)
    if flt.outcome:
        where.append(col(Contact.outcome) == flt.outcome)
    return where


def timeline(
    session: Session,
    client_id: int,
    flt: TimelineFilter | None = None,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[TimelineEntry]:
    """Contacts newest first, filtered, one window at a time (keyset on occurred_at, id),
    each with its author and its addenda (oldest first, with their authors)."""
    flt = flt or TimelineFilter()
    author = aliased(User)
    stmt: Any = (
        select(Contact, author.display_name)
        .join(author, col(author.id) == col(Contact.user_id), isouter=True)
        .where(*_filter_where(client_id, flt))
    )
    if before is not None:
        stmt = stmt.where(
            tuple_(col(Contact.occurred_at), col(Contact.id))
            < tuple_(literal(before[0], UTCDateTime), literal(before[1]))
        )
    stmt = stmt.order_by(col(Contact.occurred_at).desc(), col(Contact.id).desc()).limit(limit)
    rows = session.execute(stmt).all()
    ids = [c.id for c, _ in rows]
    addenda: dict[int, list[tuple[ContactAddendum, str | None]]] = {}
    if ids:
        add_author = aliased(User)
        for add, name in session.execute(
            select(ContactAddendum, add_author.display_name)
            .join(add_author, col(add_author.id) == col(ContactAddendum.user_id), isouter=True)
            .where(col(ContactAddendum.contact_id).in_(ids))
            .order_by(col(ContactAddendum.created_at), col(ContactAddendum.id))
        ).all():
            addenda.setdefault(add.contact_id, []).append((add, name))
    return [TimelineEntry(c, name, addenda.get(c.id or 0, [])) for c, name in rows]


def timeline_count(session: Session, client_id: int, flt: TimelineFilter | None = None) -> int:
    stmt = (
        select(func.count())
        .select_from(Contact)
        .where(*_filter_where(client_id, flt or TimelineFilter()))
    )
    return int(session.execute(stmt).scalar_one())


def timeline_entry(session: Session, contact_id: int) -> TimelineEntry | None:
    """One contact with its author and addenda (after an addendum is added)."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    found = timeline(
        session,
        contact.client_id,
        before=(contact.occurred_at, (contact.id or 0) + 1),
        limit=1,
    )
    return found[0] if found and found[0].contact.id == contact_id else None
