"""ED visits and hospital admissions entered by hand (the CSV path is services/importer.py).

They feed the programme measures (services/measures.py: per 1,000 clients).
"""

from __future__ import annotations

from datetime import datetime

from cm_tui.store import audit
from cm_tui.store.access import Viewer, can_open
from cm_tui.store.db import Store
from cm_tui.store.models import Client, UtilizationEvent
from cm_tui.store.vocab import UTILIZATION_KINDS, label


class UtilizationError(Exception):
    """The event cannot be recorded; the message is fit to show beside the form."""


def record_event(
    store: Store,
    viewer: Viewer,
    client_id: int,
    kind: str,
    occurred_at: datetime,
    facility: str | None = None,
) -> UtilizationEvent:
    """Record one ED visit, admission or readmission (source "manual"), audited."""
    if kind not in UTILIZATION_KINDS:
        raise UtilizationError(
            f"{kind!r} is not one of {', '.join(label(k) for k in UTILIZATION_KINDS)}."
        )
    if occurred_at.tzinfo is None:
        raise UtilizationError("The time needs a time zone.")
    facility = (facility or "").strip() or None
    with store.write() as session:
        client = session.get(Client, client_id)
        if client is None or not can_open(viewer, client):
            raise UtilizationError("You do not have access to this client's record.")
        event = UtilizationEvent(
            client_id=client_id,
            kind=kind,
            occurred_at=occurred_at,
            facility=facility,
            source="manual",
        )
        session.add(event)
        session.flush()
        detail = f"{label(kind)} for client {client_id}"
        audit.record_by(session, viewer, "create", "utilization_event", event.id, detail)
    return event
