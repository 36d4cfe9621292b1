"""Who is looking: role scoping lives here, in the query layer, not in the screens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import col

from cm_tui.store.models import Client, User


@dataclass(frozen=True)
class Viewer:
    """The signed-in user, as the queries need to know them."""

    id: int
    username: str
    display_name: str
    role: str

    @property
    def sees_everyone(self) -> bool:
        return self.role in ("supervisor", "admin")

    @classmethod
    def of(cls, user: User) -> Viewer:
        assert user.id is not None
        return cls(user.id, user.username, user.display_name, user.role)


def caseload_scope(viewer: Viewer) -> ColumnElement[bool]:
    """The clients that make up this person's own list."""
    if viewer.role == "chw":
        return Client.chw_id == viewer.id  # type: ignore[return-value]
    if viewer.role == "care_manager":
        return Client.care_manager_id == viewer.id  # type: ignore[return-value]
    # Supervisors and admins: "mine" is whoever is assigned to them in either role;
    # their default view is everyone (CaseloadFilter.everyone).
    return or_(col(Client.care_manager_id) == viewer.id, col(Client.chw_id) == viewer.id)


def record_scope(viewer: Viewer) -> ColumnElement[bool]:
    """The client records this person may open.

    Care managers may open any record (to pick up a call for a colleague; every
    view is audited); CHWs only the clients assigned to them.
    """
    if viewer.role == "chw":
        return Client.chw_id == viewer.id  # type: ignore[return-value]
    if viewer.role in ("care_manager", "supervisor", "admin"):
        return true()
    return false()


def can_open(viewer: Viewer, client: Any) -> bool:
    if viewer.role == "chw":
        return bool(client.chw_id == viewer.id)
    return viewer.role in ("care_manager", "supervisor", "admin")
