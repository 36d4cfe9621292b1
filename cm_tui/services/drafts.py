"""Drafts: half-typed form text, saved as it is typed so that a crash loses nothing.

One draft per (user, kind, key) — e.g. ("contact", "<client id>") for the contact
form. The form saves it (debounced) while the user types, offers it back the next
time it opens for the same key, and deletes it when the form is saved or discarded.
Drafts are not records: they are not audited, and nobody but their author reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from cm_tui.store.db import Store
from cm_tui.store.models import Draft
from cm_tui.store.types import utcnow

CONTACT = "contact"
ADDENDUM = "addendum"


@dataclass(frozen=True)
class SavedDraft:
    payload: dict[str, Any]
    updated_at: datetime


def save_draft(store: Store, user_id: int, kind: str, key: str, payload: dict[str, Any]) -> None:
    """Insert or replace the draft (an empty payload deletes it)."""
    if not payload:
        delete_draft(store, user_id, kind, key)
        return
    for attempt in range(2):
        try:
            with store.write() as session:
                _upsert(session, user_id, kind, key, payload)
            return
        except IntegrityError:
            # Another process inserted the same draft between our select and insert
            # (PostgreSQL only; SQLite writers are serialised). Once more finds it.
            if attempt:
                raise


def _upsert(session: Session, user_id: int, kind: str, key: str, payload: dict[str, Any]) -> None:
    row = session.exec(_where(select(Draft), user_id, kind, key)).first()
    if row is None:
        session.add(Draft(user_id=user_id, kind=kind, key=key, payload=dict(payload)))
    else:
        row.payload = dict(payload)
        row.updated_at = utcnow()
        session.add(row)


def load_draft(store: Store, user_id: int, kind: str, key: str) -> SavedDraft | None:
    with store.read() as session:
        return read_draft(session, user_id, kind, key)


def read_draft(session: Session, user_id: int, kind: str, key: str) -> SavedDraft | None:
    row = session.exec(_where(select(Draft), user_id, kind, key)).first()
    if row is None or not row.payload:
        return None
    return SavedDraft(dict(row.payload), row.updated_at)


def delete_draft(store: Store, user_id: int, kind: str, key: str) -> None:
    with store.write() as session:
        discard_in(session, user_id, kind, key)


def discard_in(session: Session, user_id: int, kind: str, key: str) -> None:
    """Delete the draft inside the caller's transaction (so it goes with the save)."""
    session.execute(_where(delete(Draft), user_id, kind, key))


def _where(stmt: Any, user_id: int, kind: str, key: str) -> Any:
    return stmt.where(col(Draft.user_id) == user_id, col(Draft.kind) == kind, col(Draft.key) == key)
