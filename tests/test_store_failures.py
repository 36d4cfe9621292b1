"""When the database cannot take a write: a lock held too long, a full disk, a read-only
database. Each is one line for the user (StoreError) and nothing is written half-way."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from cm_tui.services import contacts
from cm_tui.services.importer import import_clients
from cm_tui.store import db as store_db
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, StoreError, open_store
from cm_tui.store.types import utcnow
from tests.factories import add_client, add_user

# SQLite's own lock, disk-full and read-only behaviour: not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

TABLES = ("contacts", "follow_ups", "audit_events", "clients", "drafts")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cm.db"


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def seeded(path: Path, **kw: Any) -> tuple[Store, Viewer, int]:
    store = open_store(f"sqlite:///{path}", **kw)
    sup = add_user(store, "sam", role="supervisor")
    return store, sup, add_client(store, "Ana", "Zapata", mrn="M1")


def log(store: Store, viewer: Viewer, client_id: int, note: str = "Called re: meds") -> Any:
    return contacts.log_contact(
        store,
        viewer,
        client_id,
        note=note,
        follow_ups=[contacts.FollowUpRequest(due_at=utcnow() + timedelta(days=2))],
    )


def one_line(exc: pytest.ExceptionInfo[StoreError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and "[SQL" not in message, message
    return message


@pytest.fixture
def holder(db: Path) -> Iterator[sqlite3.Connection]:
    """Another program's connection to the same file (opened after the database exists)."""
    conns: list[sqlite3.Connection] = []

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        conns.append(con)
        return con

    yield connect  # type: ignore[misc]
    for con in conns:
        con.close()


def with_pragma(store: Store, pragma: str) -> None:
    """Every new connection of the store runs ``pragma`` (after the store's own settings)."""

    def on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.execute(pragma)

    event.listen(store.engine, "connect", on_connect)
    store.engine.dispose()


# ---------------------------------------------------------------- locks


def test_a_lock_held_past_the_timeout_is_one_line_and_writes_nothing(db: Path, holder: Any) -> None:
    store, sup, cid = seeded(db, busy_timeout_ms=300)
    try:
        other = holder()
        other.execute("BEGIN EXCLUSIVE")  # another program, holding the write lock
        before = counts(db)
        started = time.monotonic()
        with pytest.raises(StoreError) as exc:
            log(store, sup, cid)
        assert 0.25 < time.monotonic() - started < 5
        assert one_line(exc) == (
            "The database is busy: another program has held it for over 0.3 s. "
            "Nothing was saved; try again."
        )
        other.execute("ROLLBACK")
        assert counts(db) == before
        log(store, sup, cid)  # once the lock is gone, the same write goes through
        assert counts(db)["contacts"] == before["contacts"] + 1
    finally:
        store.close()


def test_busy_timeout_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CM_TUI_BUSY_TIMEOUT_MS", "250")
    store = open_store(f"sqlite:///{db}")
    try:
        assert store.busy_timeout_ms == 250
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 250
    finally:
        store.close()
    assert open_store(f"sqlite:///{db}", busy_timeout_ms=0).busy_timeout_ms == 0
    monkeypatch.setenv("CM_TUI_BUSY_TIMEOUT_MS", "soon")
    with pytest.raises(StoreError, match="CM_TUI_BUSY_TIMEOUT_MS='soon': give the lock wait"):
        open_store(f"sqlite:///{db}")


def test_an_early_busy_is_retried_logged_and_bounded(
    db: Path, holder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite answers BUSY without waiting in some cases (simulated: its own wait off);
    the BEGIN is retried, each retry logged, a bounded number of times."""
    store, sup, cid = seeded(db, busy_timeout_ms=5000)
    with_pragma(store, "PRAGMA busy_timeout=0")
    try:
        other = holder()
        other.execute("BEGIN EXCLUSIVE")
        threading.Timer(0.2, lambda: other.execute("ROLLBACK")).start()
        caplog.set_level(logging.WARNING, logger="cm_tui.store.db")
        log(store, sup, cid)
        retries = [r for r in caplog.records if "database busy at BEGIN" in r.getMessage()]
        assert retries and all(r.levelno == logging.WARNING for r in retries)
        assert counts(db)["contacts"] == 1

        caplog.clear()
        other.execute("BEGIN EXCLUSIVE")  # and now it is never let go
        before = counts(db)
        with pytest.raises(StoreError, match="The database is busy"):
            log(store, sup, cid)
        retries = [r for r in caplog.records if "database busy at BEGIN" in r.getMessage()]
        assert len(retries) == store_db.BEGIN_ATTEMPTS - 1
        assert any("giving up" in r.getMessage() for r in caplog.records)
        other.execute("ROLLBACK")
        assert counts(db) == before
    finally:
        store.close()


# ---------------------------------------------------------------- full and read-only


def fill_up(store: Store) -> None:
    """A full disk, simulated: the database may not grow past what it holds now."""
    with store.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar()
    with_pragma(store, f"PRAGMA max_page_count={int(pages or 0) + 1}")


def test_a_full_disk_is_one_line_and_writes_nothing(db: Path) -> None:
    store, sup, cid = seeded(db)
    try:
        fill_up(store)
        before = counts(db)
        with pytest.raises(StoreError) as exc:
            log(store, sup, cid, note="A long note. " * 7000)
        assert one_line(exc) == (
            f"The disk holding {db} is full. Nothing was saved; free some space and try again."
        )
        assert counts(db) == before
    finally:
        store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_an_import_into_a_full_database_writes_no_row(db: Path, tmp_path: Path) -> None:
    store, _sup, _cid = seeded(db)
    panel = tmp_path / "panel.csv"
    panel.write_text(
        "mrn,given_name,family_name\n" + "".join(f"P{n},Given{n},Family{n}\n" for n in range(2000)),
        encoding="utf-8",
    )
    try:
        fill_up(store)
        before = counts(db)
        with pytest.raises(StoreError, match=r"is full\. Nothing was saved"):
            import_clients(store, panel)
        assert counts(db) == before
    finally:
        store.close()
    con = sqlite3.connect(db)
    try:  # the name-search trigger the import set aside is back
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
        assert "clients_fts_ai" in names
    finally:
        con.close()


def test_a_read_only_database_is_one_line_and_writes_nothing(db: Path) -> None:
    """Read-only after opening (a remount, another program): simulated with query_only.
    A file that is read-only when opened is refused by open_store (test_store)."""
    store, sup, cid = seeded(db)
    try:
        with_pragma(store, "PRAGMA query_only=ON")
        before = counts(db)
        with pytest.raises(StoreError) as exc:
            log(store, sup, cid)
        assert one_line(exc) == (
            f"{db} is read-only (file permissions, a read-only disk, or another program). "
            "Nothing was saved."
        )
        assert counts(db) == before
    finally:
        store.close()
