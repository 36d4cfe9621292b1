"""Live refresh (issue #12): a change by anyone reaches open screens within seconds.

The watcher on both engines, then two app instances on one database: what B does
shows in A's queue and team view, and A's cursor stays on the follow-up it was on.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cm_tui.store.changes import TOPICS, ChangeWatcher
from cm_tui.store.db import Store, open_store
from cm_tui.store.types import utcnow
from tests.conftest import PG_URL, pg_schema_url
from tests.factories import add_client, add_contact, add_followup, add_user

WAIT = 8.0  # seconds a change may take to be seen (the app polls every 2 s)


def _collect(store: Store, **kw: Any) -> tuple[ChangeWatcher, queue.Queue[frozenset[str]]]:
    seen: queue.Queue[frozenset[str]] = queue.Queue()
    watcher = ChangeWatcher(store, seen.put, interval=0.1, batch=0.1, **kw)
    watcher.start()
    return watcher, seen


def _wait_for(seen: queue.Queue[frozenset[str]], topic: str, within: float = WAIT) -> set[str]:
    """Every topic reported until ``topic`` is (fails after ``within`` seconds)."""
    deadline = time.monotonic() + within
    got: set[str] = set()
    while topic not in got:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{topic} not reported within {within} s; saw {got or 'nothing'}")
        try:
            got |= seen.get(timeout=left)
        except queue.Empty:
            continue
    return got


def _drain(seen: queue.Queue[frozenset[str]], for_s: float = 0.6) -> set[str]:
    got: set[str] = set()
    deadline = time.monotonic() + for_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            got |= seen.get(timeout=left)
        except queue.Empty:
            break
    return got


@pytest.fixture
def other(any_store: Store) -> Iterator[Store]:
    """A second, independent connection pool on the same database (another cm-tui)."""
    store = open_store(any_store.url)
    yield store
    store.close()


def test_watcher_sees_every_kind_of_change_made_elsewhere(any_store: Store, other: Store) -> None:
    cm = add_user(other, "dana")
    client = add_client(other, "Ana", "Zapata", cm)
    watcher, seen = _collect(any_store)
    try:
        time.sleep(0.3)  # the watcher has read its starting point
        assert _drain(seen) == set()  # nothing changed: nothing reported

        fid = add_followup(other, client, utcnow() + timedelta(days=1), cm)
        assert "follow_ups" in _wait_for(seen, "follow_ups")  # an insert

        _drain(seen)
        with other.write() as s:  # an update (complete), by plain SQL as any writer
            s.execute(text("UPDATE follow_ups SET status = 'done' WHERE id = :i"), {"i": fid})
        assert _wait_for(seen, "follow_ups") == {"follow_ups"}

        add_contact(other, client, utcnow(), cm)  # a contact (and the client's last contact)
        assert _wait_for(seen, "contacts") <= {"contacts", "clients"}

        _drain(seen)
        with other.write() as s:
            s.execute(text("DELETE FROM follow_ups WHERE id = :i"), {"i": fid})
        assert _wait_for(seen, "follow_ups") == {"follow_ups"}

        with other.write() as s:
            s.execute(text("UPDATE clients SET phone = '555-0100' WHERE id = :i"), {"i": client})
        _wait_for(seen, "clients")
    finally:
        watcher.stop()
    assert not watcher.running


def test_a_rolled_back_change_is_not_reported(any_store: Store, other: Store) -> None:
    cm = add_user(other, "dana")
    client = add_client(other, "Ana", "Zapata", cm)
    fid = add_followup(other, client, utcnow() + timedelta(days=1), cm)
    watcher, seen = _collect(any_store)
    try:
        time.sleep(0.3)
        _drain(seen)
        with pytest.raises(RuntimeError), other.write() as s:
            s.execute(text("UPDATE follow_ups SET status = 'done' WHERE id = :i"), {"i": fid})
            raise RuntimeError("changed my mind")
        assert _drain(seen, 1.0) == set()
    finally:
        watcher.stop()


def test_watcher_stops_promptly_and_a_failing_callback_does_not_kill_it(
    any_store: Store, other: Store
) -> None:
    calls: list[frozenset[str]] = []

    def flaky(topics: frozenset[str]) -> None:
        calls.append(topics)
        if len(calls) == 1:
            raise RuntimeError("a screen fell over")

    watcher = ChangeWatcher(any_store, flaky, interval=0.1, batch=0.1)
    watcher.start()
    try:
        time.sleep(0.3)
        cm = add_user(other, "dana")
        client = add_client(other, "Ana", "Zapata", cm)
        deadline = time.monotonic() + WAIT
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        add_followup(other, client, utcnow(), cm)
        while not any("follow_ups" in c for c in calls[1:]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("follow_ups" in c for c in calls[1:]), calls
    finally:
        started = time.monotonic()
        watcher.stop()
        assert time.monotonic() - started < 2.0
    assert not watcher.running


def test_postgresql_watcher_reconnects_and_reports_everything_it_may_have_missed(
    pg_url: str,
) -> None:
    store = open_store(pg_url)
    try:
        watcher, seen = _collect(store, reconnect_max=0.2)
        try:
            deadline = time.monotonic() + WAIT
            while watcher._connection is None and time.monotonic() < deadline:
                time.sleep(0.05)
            pid = watcher._connection.info.backend_pid
            with store.engine.connect() as conn:  # the server drops the listening session
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            assert _wait_for(seen, "follow_ups") == set(TOPICS)
            cm = add_user(store, "dana")  # and it listens again afterwards
            _drain(seen)
            add_client(store, "Ana", "Zapata", cm)
            _wait_for(seen, "clients")
        finally:
            watcher.stop()
    finally:
        store.close()


def test_changes_in_another_schema_are_not_reported(pg_url: str) -> None:
    """Two cm-tui databases as schemas of one PostgreSQL database do not wake each other."""
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    mine, theirs = open_store(pg_url), open_store(pg_schema_url(PG_URL, schema))
    try:
        watcher, seen = _collect(mine)
        try:
            time.sleep(0.5)
            add_user(theirs, "dana")
            cm = add_user(theirs, "erin")
            add_client(theirs, "Ana", "Zapata", cm)
            assert _drain(seen, 1.0) == set()
        finally:
            watcher.stop()
    finally:
        mine.close()
        theirs.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
