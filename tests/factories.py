"""Small, explicit test data (the demo generator is tested on its own)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from cm_tui.services.auth import hash_password
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import Client, Contact, FollowUp, Need, User
from cm_tui.store.types import utcnow

_HASH: dict[str, str] = {}


def password_hash(pw: str) -> str:
    if pw not in _HASH:
        _HASH[pw] = hash_password(pw)
    return _HASH[pw]


def add_user(
    store: Store,
    username: str,
    role: str = "care_manager",
    password: str = "secret-pass",
    **kw: Any,
) -> Viewer:
    with store.write() as s:
        u = User(
            username=username,
            display_name=kw.pop("display_name", username.title()),
            role=role,
            password_hash=password_hash(password),
            **kw,
        )
        s.add(u)
        s.flush()
        return Viewer.of(u)


def add_client(store: Store, given: str, family: str, cm: Viewer | None = None, **kw: Any) -> int:
    with store.write() as s:
        c = Client(
            given_name=given, family_name=family, care_manager_id=cm.id if cm else None, **kw
        )
        s.add(c)
        s.flush()
        assert c.id is not None
        return c.id


def add_contact(
    store: Store, client_id: int, at: datetime, user: Viewer | None = None, **kw: Any
) -> int:
    with store.write() as s:
        c = Contact(client_id=client_id, occurred_at=at, user_id=user.id if user else None, **kw)
        s.add(c)
        cl = s.get(Client, client_id)
        assert cl is not None
        if cl.last_contact_at is None or cl.last_contact_at < at:
            cl.last_contact_at = at
        if kw.get("outcome", "reached") == "reached" and (
            cl.last_reached_at is None or cl.last_reached_at < at
        ):
            cl.last_reached_at = at
        s.flush()
        assert c.id is not None
        return c.id


def add_followup(
    store: Store, client_id: int, due: datetime, assignee: Viewer | None = None, **kw: Any
) -> int:
    with store.write() as s:
        f = FollowUp(
            client_id=client_id,
            due_at=due,
            title=kw.pop("title", "Call"),
            assignee_id=assignee.id if assignee else None,
            **kw,
        )
        s.add(f)
        s.flush()
        assert f.id is not None
        return f.id


def add_need(store: Store, client_id: int, domain: str, status: str = "identified") -> int:
    with store.write() as s:
        n = Need(client_id=client_id, domain=domain, status=status)
        s.add(n)
        s.flush()
        assert n.id is not None
        return n.id


def days_ago(n: float) -> datetime:
    return utcnow() - timedelta(days=n)


DOB = date(1950, 5, 17)
