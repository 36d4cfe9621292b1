"""The audit trail: every view and change of PHI, as a hash chain.

Each event's hash covers its own fields and the previous event's hash, so an
edited or deleted row breaks the chain at that point (`cm-tui audit verify`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, col, select

from cm_tui.store.access import Viewer
from cm_tui.store.models import AuditEvent
from cm_tui.store.types import utcnow

GENESIS = "0" * 64


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    body = json.dumps(
        [
            prev_hash,
            event.at.isoformat(timespec="microseconds"),
            event.user_id,
            event.actor,
            event.action,
            event.entity,
            event.entity_id,
            event.detail,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialise writers of the chain so two processes never fork it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(742001)"))
    # SQLite: write transactions begin IMMEDIATE (store.db), which already serialises.


def record(
    session: Session,
    *,
    action: str,
    user_id: int | None = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: int | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (so it commits with the change)."""
    _lock_chain(session)
    last = session.exec(
        select(AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)
    ).first()
    prev = last or GENESIS
    event = AuditEvent(
        at=utcnow(),
        user_id=user_id,
        actor=actor if actor is not None else (None if user_id is not None else os_user()),
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
        prev_hash=prev,
    )
    event.hash = event_hash(event, prev)
    session.add(event)
    session.flush()
    return event


def record_by(
    session: Session,
    viewer: Viewer | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """`record` for what a signed-in user did to one entity (the services' usual call).

    With no viewer (a command-line run), the event names the OS user, as `record` does.
    """
    return record(
        session,
        action=action,
        user_id=viewer.id if viewer is not None else None,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
    )


def os_user() -> str:
    try:
        return f"os:{getpass.getuser()}"
    except Exception:  # no passwd entry in a container
        return "os:unknown"


@dataclass
class ChainProblem:
    event_id: int
    reason: str


def iter_events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.id) > last_id)
            .order_by(col(AuditEvent.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id or last_id
        session.expunge_all()


def verify(session: Session) -> tuple[int, ChainProblem | None]:
    """Walk the chain; return how many events were checked and the first problem."""
    prev = GENESIS
    count = 0
    for event in iter_events(session):
        count += 1
        if event.prev_hash != prev:
            return count, ChainProblem(
                event.id or 0, "previous-hash link broken (an event was removed or reordered)"
            )
        if event_hash(event, prev) != event.hash:
            return count, ChainProblem(
                event.id or 0, "contents do not match its hash (the event was altered)"
            )
        prev = event.hash
    return count, None
