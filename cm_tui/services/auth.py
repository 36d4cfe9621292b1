"""Users and sign-in: argon2id password hashes, audited logins."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlmodel import Session, col, func, select

from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import User
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import ROLES

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 8


class AuthError(Exception):
    """A sign-in or user-management problem worded for the user."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # Imported here: a demo start or an open session never needs argon2 to paint.
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def count_users(store: Store) -> int:
    with store.read() as session:
        return int(session.exec(select(func.count()).select_from(User)).one())


def validate_new_user(username: str, password: str, role: str) -> None:
    if not username.strip() or any(ch.isspace() for ch in username):
        raise AuthError("A username is one word with no spaces.")
    if role not in ROLES:
        raise AuthError(f"Role must be one of: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"A password needs at least {MIN_PASSWORD} characters.")


def add_user(
    store: Store,
    username: str,
    password: str,
    *,
    role: str = "care_manager",
    display_name: str | None = None,
    by_user_id: int | None = None,
) -> Viewer:
    validate_new_user(username, password, role)
    with store.write() as session:
        if session.exec(select(User).where(User.username == username)).first():
            raise AuthError(f"A user named {username!r} already exists.")
        user = User(
            username=username,
            display_name=display_name or username,
            role=role,
            password_hash=hash_password(password),
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            action="create",
            user_id=by_user_id,
            entity="user",
            entity_id=user.id,
            detail=f"user {username} ({role})",
        )
        return Viewer.of(user)


def delay_for(failed_logins: int) -> float:
    """Growing delay after failed attempts (per user): 0, 1, 2, 4 ... capped at 30 s."""
    if failed_logins <= 0:
        return 0.0
    return float(min(30, 2 ** (failed_logins - 1)))


def authenticate(store: Store, username: str, password: str, *, sleep: bool = True) -> Viewer:
    """Check a password; audit the attempt; slow down repeated failures for that user."""
    with store.read() as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is not None and sleep and user.last_failed_at is not None:
        wait = delay_for(user.failed_logins) - (utcnow() - user.last_failed_at).total_seconds()
        if wait > 0:
            time.sleep(min(wait, 30.0))
    ok = user is not None and user.active and check_password(user.password_hash, password)
    with store.write() as session:
        if not ok:
            if user is not None:
                row = session.get(User, user.id)
                assert row is not None
                row.failed_logins += 1
                row.last_failed_at = utcnow()
            audit.record(
                session,
                action="login_failed",
                user_id=user.id if user else None,
                actor=username,
                entity="user",
                entity_id=user.id if user else None,
            )
    if not ok or user is None:
        raise AuthError("Wrong username or password.")
    with store.write() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.failed_logins = 0
        row.last_failed_at = None
        audit.record(session, action="login", user_id=user.id, entity="user", entity_id=user.id)
    return Viewer.of(user)


def get_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def sign_in_without_password(store: Store, username: str) -> Viewer:
    """Demo databases only: sign in as a demo user (audited like any login)."""
    if not store.is_demo:
        raise AuthError("Signing in without a password is only allowed on a demo database.")
    with store.write() as session:
        user = get_user(session, username)
        if user is None or not user.active:
            names = session.exec(
                select(User.username).where(col(User.active)).order_by(User.username)
            ).all()
            raise AuthError(f"No demo user {username!r}; try one of: {', '.join(names)}.")
        audit.record(
            session,
            action="login",
            user_id=user.id,
            entity="user",
            entity_id=user.id,
            detail="demo",
        )
        return Viewer.of(user)


def unlock(store: Store, viewer: Viewer, password: str) -> bool:
    """Check the signed-in user's password to lift the idle lock (failures are audited)."""
    with store.read() as session:
        user = session.get(User, viewer.id)
    ok = user is not None and user.active and check_password(user.password_hash, password)
    if not ok:
        with store.write() as session:
            audit.record(
                session,
                action="login_failed",
                user_id=viewer.id,
                entity="user",
                entity_id=viewer.id,
                detail="unlock",
            )
    return ok


def set_password(
    store: Store, username: str, password: str, *, by_user_id: int | None = None
) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"A password needs at least {MIN_PASSWORD} characters.")
    with store.write() as session:
        user = get_user(session, username)
        if user is None:
            raise AuthError(f"No user named {username!r}.")
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.last_failed_at = None
        audit.record(
            session,
            action="update",
            user_id=by_user_id,
            entity="user",
            entity_id=user.id,
            detail="password changed",
        )


def set_active(store: Store, username: str, active: bool, *, by_user_id: int | None = None) -> None:
    with store.write() as session:
        user = get_user(session, username)
        if user is None:
            raise AuthError(f"No user named {username!r}.")
        user.active = active
        audit.record(
            session,
            action="update",
            user_id=by_user_id,
            entity="user",
            entity_id=user.id,
            detail="activated" if active else "deactivated",
        )
