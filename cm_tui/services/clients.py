"""Use cases around a client's record."""

from __future__ import annotations

from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.queries import ClientBrief, client_brief


class NotAllowed(Exception):
    """The viewer may not open this record."""


def view_client(store: Store, viewer: Viewer, client_id: int) -> ClientBrief:
    """The pre-call brief; the view is audited in the same transaction that reads it."""
    with store.write() as session:
        brief = client_brief(session, viewer, client_id)
        audit.record(
            session,
            action="view",
            user_id=viewer.id,
            entity="client",
            entity_id=client_id,
            detail=None if brief is not None else "refused: outside this user's access",
        )
    if brief is None:
        raise NotAllowed("You do not have access to this client's record.")
    return brief
