"""Needs and closed-loop referrals.

From an open need: suggest resources for its domain (those speaking the client's
language first), send a referral (how it was sent is noted on it) with a
``referral_check`` follow-up shaped by the client's preferred contact, follow the
referral sent → accepted → completed (or closed unmet, with a reason), and resolve
the need once its last referral has closed. Every step is one transaction with its
audit events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from cm_tui.services import followups
from cm_tui.services.clients import NotAllowed
from cm_tui.services.contacts import ContactError, refuse_nul
from cm_tui.services.followups import _InTransaction
from cm_tui.services.resources import json_has
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import Client, Need, Referral, Resource
from cm_tui.store.queries import open_client
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import NEED_DOMAINS, OPEN_NEED_STATUSES, label

__all__ = [
    "CHECK_DAYS",
    "METHODS",
    "NeedView",
    "NotAllowed",
    "ReferralError",
    "ReferralView",
    "Sent",
    "Suggestion",
    "Updated",
    "add_need",
    "check_title",
    "client_needs",
    "resolve_need",
    "send_referral",
    "suggest_resources",
    "update_referral",
]

CHECK_DAYS = 7
NOTE_MAX = 1000
METHODS = ("phone", "fax", "email", "in_person", "portal")
OPEN_REFERRAL = ("sent", "accepted")
CLOSED_REFERRAL = ("completed", "closed_unmet")
# Where each state may go next: forward only, never out of a closed state.
NEXT: dict[str, tuple[str, ...]] = {
    "sent": ("accepted", "completed", "closed_unmet"),
    "accepted": ("completed", "closed_unmet"),
    "completed": (),
    "closed_unmet": (),
}
_REACH = {
    "phone": "Call",
    "text": "Text",
    "letter": "Write to",
    "in_person": "Visit",
    "video": "Video call",
}


class ReferralError(ValueError):
    """Input the service refuses, worded for the person at the keyboard."""


@dataclass(frozen=True)
class Suggestion:
    resource_id: int
    name: str
    domains: list[str]
    languages: list[str]
    phone: str | None
    hours: str | None
    eligibility: str | None
    language_match: bool


@dataclass(frozen=True)
class Sent:
    referral_id: int
    followup_id: int
    due_at: datetime
    title: str


@dataclass(frozen=True)
class Updated:
    referral_id: int
    need_id: int
    status: str
    offer_resolve: bool  # the need's last open referral just closed


@dataclass(frozen=True)
class ReferralView:
    id: int
    resource_id: int | None
    resource_name: str
    status: str
    sent_at: datetime
    closed_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class NeedView:
    id: int
    domain: str
    status: str
    opened_at: datetime
    note: str | None
    screening_id: int | None
    referrals: list[ReferralView] = field(default_factory=list)

    @property
    def open_referrals(self) -> int:
        return sum(1 for r in self.referrals if r.status in OPEN_REFERRAL)


# ---------------------------------------------------------------- helpers


def _note(text: str | None, what: str = "The note") -> str | None:
    if text is None:
        return None
    try:
        refuse_nul(text, what)
    except ContactError as exc:
        raise ReferralError(str(exc)) from None
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise ReferralError(f"{what} holds at most {NOTE_MAX} characters.")
    return text or None


def _client(session: Session, viewer: Viewer, client_id: int) -> Client:
    client = open_client(session, viewer, client_id)
    if client is None:
        raise NotAllowed("You do not have access to this client's record.")
    return client


def _need(session: Session, viewer: Viewer, need_id: int) -> tuple[Need, Client]:
    need = session.get(Need, need_id)
    if need is None:
        raise ReferralError("That need no longer exists.")
    return need, _client(session, viewer, need.client_id)


def _first_name(client: Client) -> str:
    return client.preferred_name or client.given_name


def check_title(client: Client, resource_name: str, domain: str) -> str:
    """The referral check's title, worded for how the client likes to be reached."""
    verb = _REACH.get(client.preferred_contact, "Call")
    name = resource_name if len(resource_name) <= 60 else resource_name[:59] + "…"
    return f"{verb} {_first_name(client)}: did {name} help with {label(domain)}?"


# ---------------------------------------------------------------- read


def client_needs(store: Store, viewer: Viewer, client_id: int, limit: int = 30) -> list[NeedView]:
    """The client's open needs (oldest first) with their referrals (newest first)."""
    with store.read() as session:
        _client(session, viewer, client_id)
        needs = session.exec(
            select(Need)
            .where(Need.client_id == client_id, col(Need.status).in_(OPEN_NEED_STATUSES))
            .order_by(col(Need.opened_at), col(Need.id))
            .limit(limit)
        ).all()
        ids = [n.id for n in needs]
        refs: dict[int, list[ReferralView]] = {}
        if ids:
            rows = session.execute(
                select(Referral, Resource.name)
                .join(Resource, col(Resource.id) == col(Referral.resource_id), isouter=True)
                .where(col(Referral.need_id).in_(ids))
                .order_by(col(Referral.sent_at).desc(), col(Referral.id).desc())
                .limit(limit * 10)
            ).all()
            for ref, name in rows:
                assert ref.id is not None
                refs.setdefault(ref.need_id, []).append(
                    ReferralView(
                        ref.id,
                        ref.resource_id,
                        name or "(resource removed)",
                        ref.status,
                        ref.sent_at,
                        ref.closed_at,
                        ref.note,
                    )
                )
        out = []
        for n in needs:
            assert n.id is not None
            out.append(
                NeedView(
                    n.id,
                    n.domain,
                    n.status,
                    n.opened_at,
                    n.note,
                    n.screening_id,
                    refs.get(n.id, []),
                )
            )
        return out


def suggest_resources(
    store: Store, viewer: Viewer, need_id: int, limit: int = 10
) -> list[Suggestion]:
    """Resources serving the need's domain: those speaking the client's language first."""
    with store.read() as session:
        need, client = _need(session, viewer, need_id)
        rows = session.exec(
            select(Resource)
            .where(json_has(Resource.domains, need.domain))  # type: ignore[arg-type]
            .order_by(col(Resource.name), col(Resource.id))
            .limit(200)
        ).all()
    language = (client.language or "").strip().lower()
    found = []
    for r in rows:
        if need.domain not in (r.domains or []):
            continue  # the text match was loose
        speaks = bool(language) and language in {x.lower() for x in r.languages or []}
        assert r.id is not None
        found.append(
            Suggestion(
                r.id,
                r.name,
                list(r.domains or []),
                list(r.languages or []),
                r.phone,
                r.hours,
                r.eligibility,
                speaks,
            )
        )
    found.sort(key=lambda s: (not s.language_match, s.name.lower()))
    return found[:limit]


# ---------------------------------------------------------------- write


def add_need(
    store: Store, viewer: Viewer, client_id: int, domain: str, note: str | None = None
) -> int:
    """Record a need by hand (no screening); an open need of that domain is refused."""
    if domain not in NEED_DOMAINS:
        raise ReferralError(
            f"The domain must be one of: {', '.join(label(d) for d in NEED_DOMAINS)}."
        )
    text = _note(note)
    with store.write() as session:
        _client(session, viewer, client_id)
        existing = session.exec(
            select(Need.id).where(
                Need.client_id == client_id,
                Need.domain == domain,
                col(Need.status).in_(OPEN_NEED_STATUSES),
            )
        ).first()
        if existing is not None:
            raise ReferralError(f"This client already has an open {label(domain)} need.")
        need = Need(
            client_id=client_id, domain=domain, status="identified", note=text, opened_at=utcnow()
        )
        session.add(need)
        session.flush()
        assert need.id is not None
        detail = f"{domain} need for client {client_id}, by hand"
        audit.record_by(session, viewer, "create", "need", need.id, detail)
        return need.id


def send_referral(
    store: Store,
    viewer: Viewer,
    need_id: int,
    resource_id: int,
    *,
    method: str,
    note: str | None = None,
    check_days: int = CHECK_DAYS,
) -> Sent:
    """Refer the client for this need; one transaction writes the referral, the
    ``referral_check`` follow-up (due in ``check_days`` days, on the viewer's list)
    and moves the need to `referred`."""
    if method not in METHODS:
        raise ReferralError(f"Say how it was sent: {', '.join(label(m) for m in METHODS)}.")
    if not 0 <= check_days <= 90:
        raise ReferralError("The referral check is due within 0 to 90 days.")
    text = _note(note)
    now = utcnow()
    with store.write() as session:
        need, client = _need(session, viewer, need_id)
        if need.status not in OPEN_NEED_STATUSES:
            raise ReferralError(
                f"This need is {label(need.status)}; open a new one to refer again."
            )
        resource = session.get(Resource, resource_id)
        if resource is None:
            raise ReferralError("That resource is no longer in the directory.")
        dup = session.exec(
            select(Referral.id).where(
                Referral.need_id == need_id,
                Referral.resource_id == resource_id,
                col(Referral.status).in_(OPEN_REFERRAL),
            )
        ).first()
        if dup is not None:
            raise ReferralError(
                f"An open referral to {resource.name} already exists for this need."
            )
        sent_note = f"Sent by {label(method)}" + (f": {text}" if text else ".")
        ref = Referral(
            need_id=need_id, resource_id=resource_id, status="sent", sent_at=now, note=sent_note
        )
        session.add(ref)
        if need.status == "identified":
            need.status = "referred"
            session.add(need)
        session.flush()
        assert ref.id is not None
        detail = f"{need.domain} need {need_id} referred to resource {resource_id} by {method}"
        audit.record_by(session, viewer, "create", "referral", ref.id, detail)
        audit.record_by(session, viewer, "update", "need", need_id, f"status {need.status}")
        title = check_title(client, resource.name, need.domain)
        due = now + timedelta(days=check_days)
        created = followups.create_followup(
            _InTransaction(store, session),
            viewer,
            client.id or 0,
            title=title,
            due_at=due,
            kind="referral_check",
        )
        return Sent(ref.id, created.id, due, title)


def update_referral(
    store: Store, viewer: Viewer, referral_id: int, status: str, *, reason: str | None = None
) -> Updated:
    """Move a referral on (sent → accepted → completed, or closed unmet with a reason)."""
    if status not in NEXT:
        raise ReferralError(f"A referral is {', '.join(label(s) for s in NEXT)}.")
    text = _note(reason, "The reason")
    if status == "closed_unmet" and not text:
        raise ReferralError("Say why the referral closed unmet (e.g. no answer, not eligible).")
    now = utcnow()
    with store.write() as session:
        ref = session.get(Referral, referral_id)
        if ref is None:
            raise ReferralError("That referral no longer exists.")
        need, _client_row = _need(session, viewer, ref.need_id)
        old = ref.status
        if status == old:
            raise ReferralError(f"This referral is already {label(old)}.")
        if status not in NEXT.get(old, ()):
            if not NEXT.get(old):
                raise ReferralError(
                    f"This referral is {label(old)}; a closed referral stays closed."
                )
            raise ReferralError(
                f"A referral that is {label(old)} cannot go back to {label(status)}."
            )
        values: dict[str, object] = {"status": status}
        if status in CLOSED_REFERRAL:
            values["closed_at"] = now
        if text:
            values["note"] = ((ref.note or "") + f"\n{label(status).capitalize()}: {text}").strip()
        result = session.execute(
            update(Referral)
            .where(col(Referral.id) == referral_id, col(Referral.status) == old)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise ReferralError("Someone else changed this referral a moment ago; look again.")
        detail = f"{old} -> {status}" + (f": {text}" if text else "")
        audit.record_by(session, viewer, "update", "referral", referral_id, detail)
        if status == "accepted" and need.status in ("identified", "referred"):
            need.status = "in_progress"
            session.add(need)
            audit.record_by(session, viewer, "update", "need", need.id, "status in_progress")
        still_open = session.exec(
            select(Referral.id).where(
                Referral.need_id == ref.need_id,
                col(Referral.status).in_(OPEN_REFERRAL),
                col(Referral.id) != referral_id,
            )
        ).first()
        offer = (
            status in CLOSED_REFERRAL and still_open is None and need.status in OPEN_NEED_STATUSES
        )
        return Updated(referral_id, ref.need_id, status, offer)


def resolve_need(store: Store, viewer: Viewer, need_id: int, status: str = "resolved") -> None:
    """Close the need (`resolved`, or `declined_help`); its referrals must be closed first."""
    if status not in ("resolved", "declined_help"):
        raise ReferralError("A need closes as resolved or declined help.")
    with store.write() as session:
        need, _client_row = _need(session, viewer, need_id)
        if need.status not in OPEN_NEED_STATUSES:
            raise ReferralError(f"This need is already {label(need.status)}.")
        open_refs = session.exec(
            select(Referral.id).where(
                Referral.need_id == need_id, col(Referral.status).in_(OPEN_REFERRAL)
            )
        ).all()
        if open_refs:
            n = len(open_refs)
            raise ReferralError(
                f"{n} referral{'s are' if n != 1 else ' is'} still open; close "
                f"{'them' if n != 1 else 'it'} first."
            )
        need.status = status
        need.closed_at = utcnow()
        session.add(need)
        audit.record_by(session, viewer, "update", "need", need_id, f"status {status}")
