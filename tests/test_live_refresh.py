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
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from textual.widgets import DataTable, Static

from cm_tui.app import CmTuiApp, make_app
from cm_tui.config import Settings
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.followup_modals import CompleteChoice, SnoozeDialog
from cm_tui.screens.followups import FollowUpQueueScreen
from cm_tui.screens.team import TeamScreen
from cm_tui.services import followups as fs
from cm_tui.store.changes import TOPICS, ChangeWatcher
from cm_tui.store.db import Store, open_store
from cm_tui.store.types import utcnow
from tests.conftest import PG_URL, pg_schema_url
from tests.factories import add_client, add_contact, add_followup, add_user
from tests.test_ui import settle, shown

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


# ---------------------------------------------------------------- two app instances


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database two cm-tui instances open: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'team.db'}"
    return str(request.getfixturevalue("pg_url"))


def seed_team(url: str, n: int = 8) -> dict[str, Any]:
    """Sue (supervisor), Ann and Bob (care managers); ``n`` overdue follow-ups, Ann's
    and Bob's in turn, in queue order F0, F1, ... (same priority, due oldest first)."""
    store = open_store(url)
    try:
        store.set_meta("demo", "1")
        sue = add_user(store, "sue", role="supervisor", display_name="Sue Park")
        ann = add_user(store, "ann", display_name="Ann Lee")
        bob = add_user(store, "bob", display_name="Bob Ortiz")
        rosa = add_client(store, "Rosa", "Alvarez", ann)
        walt = add_client(store, "Walt", "Becker", bob)
        now = utcnow()
        ids = [
            add_followup(
                store,
                rosa if i % 2 == 0 else walt,
                now - timedelta(days=n - i),
                ann if i % 2 == 0 else bob,
                title=f"F{i}",
            )
            for i in range(n)
        ]
        return {"sue": sue, "ann": ann, "bob": bob, "ids": ids, "rosa": rosa}
    finally:
        store.close()


def make_instance(url: str, user: str, refresh_s: float = 0.2) -> CmTuiApp:
    app = make_app(url, demo=True, user=user, settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    app.live_refresh_seconds = refresh_s
    return app


def queue_ids(screen: FollowUpQueueScreen) -> list[int]:
    return [r.id for r in screen.rows]


async def until(pilot: Any, check: Any, seconds: float = WAIT) -> None:
    """Wait (real time: the watcher is a thread) until ``check()`` holds."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await pilot.pause(0.05)


def _as_service(url: str, fn: Any) -> Any:
    store = open_store(url)
    try:
        return fn(store)
    finally:
        store.close()


async def test_colleagues_changes_reach_the_team_queue_without_moving_the_cursor(
    shared_url: str,
) -> None:
    org = seed_team(shared_url)
    ids = org["ids"]
    a = make_instance(shared_url, "sue")
    async with a.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: isinstance(a.screen, CaseloadScreen), tries=100)
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(a.screen, FollowUpQueueScreen) and a.screen.rows)
        queue = a.screen
        assert isinstance(queue, FollowUpQueueScreen)
        assert queue.scope is not None and queue.scope.kind == "team"
        assert queue_ids(queue) == ids
        table = queue.query_one("#queue", DataTable)
        await pilot.press("down", "down", "down", "down")  # row k = 4: F4
        await settle(pilot)
        assert queue.highlighted_id() == ids[4]
        line = table.cursor_row - round(table.scroll_y)
        focused = a.focused

        # B (Ann, in her own cm-tui) completes F2, above A's cursor, and Bob's F5 is
        # reassigned to Ann by another supervisor session.
        _as_service(shared_url, lambda s: fs.complete_followup(s, org["ann"], ids[2], 1))
        _as_service(
            shared_url,
            lambda s: fs.reassign_followup(s, org["sue"], ids[5], 1, org["ann"].id),
        )
        await until(pilot, lambda: ids[2] not in queue_ids(queue))
        await until(
            pilot,
            lambda: next(r for r in queue.rows if r.id == ids[5]).assignee_id == org["ann"].id,
        )
        assert queue.highlighted_id() == ids[4]  # the same follow-up, one row higher
        assert table.cursor_row == 3
        assert table.cursor_row - round(table.scroll_y) in (line - 1, line)
        assert a.focused is focused  # focus never moved
        assert queue.counts["overdue"] == len(ids) - 1
        assert "completed" not in shown(queue.query_one("#queue-summary", Static))

        # Now Ann completes the very follow-up under A's cursor: the cursor goes to its
        # neighbour, and A is told so quietly (not a dialog, not a toast).
        _as_service(shared_url, lambda s: fs.complete_followup(s, org["ann"], ids[4], 1))
        await until(pilot, lambda: ids[4] not in queue_ids(queue))
        await settle(pilot)
        assert queue.highlighted_id() == ids[5]
        summary = shown(queue.query_one("#queue-summary", Static))
        assert "F4" in summary and "completed by Ann Lee" in summary, summary
        assert a.focused is focused and isinstance(a.screen, FollowUpQueueScreen)


async def test_own_change_is_not_reported_as_someone_elses(shared_url: str) -> None:
    org = seed_team(shared_url, n=4)
    ids = org["ids"]
    a = make_instance(shared_url, "sue")
    async with a.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: isinstance(a.screen, CaseloadScreen), tries=100)
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(a.screen, FollowUpQueueScreen) and a.screen.rows)
        queue = a.screen
        assert isinstance(queue, FollowUpQueueScreen)
        await pilot.press("down", "x")
        await settle(pilot, lambda: isinstance(a.screen, CompleteChoice))
        await pilot.press("d")
        await until(pilot, lambda: ids[1] not in queue_ids(queue))
        time.sleep(0.5)  # the watcher sees our own write too
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        assert queue.highlighted_id() == ids[2]
        assert "completed by" not in shown(queue.query_one("#queue-summary", Static))


async def test_team_view_figures_follow_colleagues_work(shared_url: str) -> None:
    org = seed_team(shared_url)
    ids = org["ids"]
    a = make_instance(shared_url, "sue")
    async with a.run_test(size=(160, 40)) as pilot:
        await settle(pilot, lambda: isinstance(a.screen, CaseloadScreen), tries=100)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(a.screen, TeamScreen) and a.screen.rows)
        team = a.screen
        assert isinstance(team, TeamScreen)
        await settle(pilot, lambda: all(r.per_day for r in team.rows))

        def row(name: str) -> Any:
            return next(r for r in team.rows if r.display_name == name)

        assert (row("Bob Ortiz").overdue, row("Ann Lee").overdue) == (4, 4)
        await pilot.press("down")  # the cursor on Bob
        await settle(pilot)
        assert team.highlighted_key() == str(org["bob"].id)
        focused = a.focused

        _as_service(shared_url, lambda s: fs.complete_followup(s, org["bob"], ids[1], 1))
        _as_service(
            shared_url, lambda s: add_contact(s, org["rosa"], utcnow(), org["ann"], duration_min=7)
        )
        await until(pilot, lambda: row("Bob Ortiz").overdue == 3)
        await until(pilot, lambda: row("Ann Lee").contacts_week == 1)
        assert row("Ann Lee").minutes_month == 7
        assert team.highlighted_key() == str(org["bob"].id)
        assert a.focused is focused
        table = team.query_one("#team", DataTable)
        cells = [str(c) for c in table.get_row(str(org["bob"].id))]
        assert "3" in cells and "…" not in cells  # shown in one step, no placeholders


async def test_no_reload_under_a_dialog_until_it_closes(shared_url: str) -> None:
    org = seed_team(shared_url, n=4)
    ids = org["ids"]
    a = make_instance(shared_url, "sue")
    async with a.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: isinstance(a.screen, CaseloadScreen), tries=100)
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(a.screen, FollowUpQueueScreen) and a.screen.rows)
        queue = a.screen
        assert isinstance(queue, FollowUpQueueScreen)
        await pilot.press("z")  # the snooze dialog is open over the queue
        await settle(pilot, lambda: isinstance(a.screen, SnoozeDialog))
        _as_service(shared_url, lambda s: fs.complete_followup(s, org["bob"], ids[3], 1))
        await pilot.pause(1.5)  # several polls
        await settle(pilot)
        assert ids[3] in queue_ids(queue)  # untouched while the dialog is up
        assert isinstance(a.screen, SnoozeDialog)
        await pilot.press("escape")
        await until(pilot, lambda: ids[3] not in queue_ids(queue))
        assert queue.highlighted_id() == ids[0]


async def test_watcher_stops_when_the_app_exits(sqlite_store: Store) -> None:
    sqlite_store.close()
    url = sqlite_store.url
    store = open_store(url)
    store.set_meta("demo", "1")
    add_user(store, "sue", role="supervisor", display_name="Sue Park")
    add_client(store, "Rosa", "Alvarez")
    store.close()
    a = make_instance(url, "sue")
    async with a.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: isinstance(a.screen, CaseloadScreen), tries=100)
        watcher = a._watcher
        assert watcher is not None and watcher.running
    assert not watcher.running
