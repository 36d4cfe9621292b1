"""Audit chain verification from the CLI, and the slowed-down sign-in."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from cm_tui.services import auth
from cm_tui.store import audit
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import AuditEvent, User
from tests.engine import db_url
from tests.factories import add_user


def verify_cli(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cm_tui", "--db", str(db), "audit", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    db = tmp_path / "cm.db"
    store = open_store(db_url(db))
    with store.write() as s:
        for i in range(6):
            audit.record(s, action="view", entity="client", entity_id=i, user_id=None)
    store.close()
    return db


@pytest.mark.sqlite_only  # edits the SQLite file directly
def test_intact_chain_exits_0(chain: Path) -> None:
    result = verify_cli(chain)
    assert result.returncode == 0 and "6 events" in result.stdout


@pytest.mark.parametrize(
    ("tamper", "bad_id"),
    [
        ("UPDATE audit_events SET detail = 'nothing to see' WHERE id = 3", 3),
        ("DELETE FROM audit_events WHERE id = 2", 3),
        (
            "INSERT INTO audit_events (id, at, action, entity, entity_id, prev_hash, hash)"
            " VALUES (4, '2026-01-01 00:00:00.000000', 'view', 'client', 99, 'x', 'y')",
            4,
        ),
    ],
    ids=["edited", "deleted", "inserted"],
)
@pytest.mark.sqlite_only  # edits the SQLite file directly
def test_tampering_is_named(chain: Path, tamper: str, bad_id: int) -> None:
    con = sqlite3.connect(chain)
    if "INSERT" in tamper:
        # Make room in the id sequence the way an attacker would: shift later rows up.
        con.execute("UPDATE audit_events SET id = id + 100 WHERE id >= 4")
    con.execute(tamper)
    con.commit()
    con.close()
    result = verify_cli(chain)
    assert result.returncode == 1
    assert f"event {bad_id}" in result.stdout


def test_failed_sign_ins_are_audited_and_slowed_per_user(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(any_store, "ann", password="right-password")
    add_user(any_store, "bob", password="bobs-password")
    slept: list[float] = []
    monkeypatch.setattr(auth.time, "sleep", lambda s: slept.append(s))
    for _ in range(3):
        with pytest.raises(auth.AuthError):
            auth.authenticate(any_store, "ann", "typo")
    # Delays grow for ann (the first failure costs nothing): 1 s, then 2 s.
    assert len(slept) == 2 and 0 < slept[0] <= 1 and 1 < slept[1] <= 2
    # Bob is not slowed by ann's typos.
    slept.clear()
    assert auth.authenticate(any_store, "bob", "bobs-password").username == "bob"
    assert slept == []
    # A correct password still works for ann (no lockout) and resets the counter.
    assert auth.authenticate(any_store, "ann", "right-password").username == "ann"
    with any_store.read() as s:
        ann = s.exec(select(User).where(User.username == "ann")).one()
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert ann.failed_logins == 0
    assert actions.count("login_failed") == 3 and actions.count("login") == 2
    with any_store.read() as s:
        assert audit.verify(s)[1] is None


def test_unknown_user_and_deactivated_user_fail_the_same_way(any_store: Store) -> None:
    add_user(any_store, "ann", password="right-password")
    auth.set_active(any_store, "ann", False)
    for name, pw in (("ghost", "whatever"), ("ann", "right-password")):
        with pytest.raises(auth.AuthError, match="Wrong username or password"):
            auth.authenticate(any_store, name, pw, sleep=False)


def test_delay_schedule() -> None:
    assert [auth.delay_for(n) for n in range(8)] == [0, 1, 2, 4, 8, 16, 30, 30]
