"""The follow-up queue and the team view as people drive them (Textual Pilot)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Select, Static, Tabs, TextArea
from textual.widgets.data_table import ColumnKey

from cm_tui.app import CmTuiApp
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.screens.followup_modals import CompleteChoice, FollowUpForm, PersonPicker, SnoozeDialog
from cm_tui.screens.followups import (
    CompletingContactForm,
    FollowUpQueueScreen,
    add_followup,
)
from cm_tui.screens.team import TeamScreen
from cm_tui.services import followups as fs
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, open_store
from cm_tui.store.followup_queries import QueueScope
from cm_tui.store.models import AuditEvent, Client, Contact, FollowUp, User
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.hostile import HOSTILE, no_live_controls, visible_words
from tests.snapshot_app import NOW, build_app
from tests.test_ui import first_frame_of, settle, shown

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _store(db: Path) -> Store:
    return open_store(db_url(db))


def _query(db: Path, stmt: Any) -> list[Any]:
    store = _store(db)
    try:
        with store.read() as s:
            return list(s.exec(stmt).all())
    finally:
        store.close()


def _followup(db: Path, title: str) -> FollowUp:
    [fu] = _query(db, select(FollowUp).where(FollowUp.title == title))
    return fu


def _viewer(db: Path, username: str) -> Viewer:
    [user] = _query(db, select(User).where(User.username == username))
    return Viewer.of(user)


def _client_id(db: Path, family: str) -> int:
    [cid] = _query(db, select(Client.id).where(Client.family_name == family))
    return int(cid)


def titles(app: CmTuiApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, FollowUpQueueScreen)
    return [r.title for r in screen.rows]


def _add_for(db: Path, assignee_id: int | None, title: str, due_at: Any) -> None:
    """A follow-up on Rosa's record for ``assignee_id``, added by the supervisor."""
    store = _store(db)
    try:
        fs.create_followup(
            store,
            _viewer(db, "sue"),
            _client_id(db, "Alvarez"),
            title=title,
            due_at=due_at,
            assignee_id=assignee_id,
        )
    finally:
        store.close()


def noted(app: CmTuiApp) -> list[str]:
    """From now on, the messages of the app's notices, in order."""
    notes: list[str] = []
    original = app.notify

    def spy(message: str, **kw: Any) -> None:
        notes.append(message)
        original(message, **kw)

    app.notify = spy  # type: ignore[method-assign]
    return notes


async def _on_caseload(pilot: Any) -> None:
    await settle(pilot, lambda: isinstance(pilot.app.screen, CaseloadScreen), tries=100)
    await settle(pilot)


async def _open_queue(pilot: Any) -> FollowUpQueueScreen:
    await _on_caseload(pilot)
    await pilot.press("f")
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen) and app.screen.counts)
    return app.screen


async def _tab(pilot: Any, key: str, name: str) -> None:
    await pilot.press(key)
    await settle(pilot, lambda: pilot.app.screen.tab == name)
    await settle(pilot)


# ---------------------------------------------------------------- the queue


async def test_f_opens_my_queue_with_tabs_in_priority_then_due_order(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot)
        assert screen.scope is not None and screen.scope.kind == "mine"
        assert titles(app) == ["Call re: BP log"]
        assert screen.counts == {"overdue": 1, "today": 1, "upcoming": 1, "done": 0}
        due = str(screen.query_one("#queue", DataTable).get_row_at(0)[1])
        assert due == "2d late"  # the overdue age
        await _tab(pilot, "2", "today")
        assert titles(app) == ["Callback: pharmacy"]
        await _tab(pilot, "right", "upcoming")
        assert titles(app) == ["Check food bank referral"]
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        assert app.screen.client_id == _client_id(db, "Alvarez")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))


async def test_the_queue_opens_with_its_rows_and_counts_in_one_frame(tmp_path: Path) -> None:
    """On SQLite the first window and the tab counts are read as the screen mounts
    (issues 6, 8): its first frame is complete, and no worker is left to wait for."""
    app = build_app(tmp_path / "d.db")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        first_frame = first_frame_of(
            app, FollowUpQueueScreen, lambda s, workers: (len(s.rows), dict(s.counts), workers)
        )
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        ((rows, counts, workers),) = first_frame
        if app.store.is_sqlite:
            assert rows == 1
            assert counts == {"overdue": 1, "today": 1, "upcoming": 1, "done": 0}
            assert workers == []
        await settle(pilot, lambda: app.screen.counts)
        assert len(app.screen.rows) == 1 and app.screen.counts["overdue"] == 1


async def test_the_queue_is_kept_and_opens_again_as_if_built_anew(tmp_path: Path) -> None:
    """Issue 8: f opens the app's one queue, loaded again at each opening instead of
    built anew. What the last showing left (another tab, the scope toggled, the cursor
    moved, a cancel to undo) is gone; what changed meanwhile is in its first frame."""
    db = tmp_path / "d.db"
    app = build_app(db, user="sue")
    store = _store(db)
    for i, hours in enumerate((-1, -2, 72)):  # two more overdue, one more upcoming
        fs.create_followup(
            store,
            _viewer(db, "ann"),
            _client_id(db, "Alvarez"),
            title=f"Extra {i}",
            due_at=NOW + timedelta(hours=hours),
        )
    store.close()
    async with app.run_test(size=SIZE) as pilot:
        queue = await _open_queue(pilot)
        assert queue.scope == QueueScope.team() and queue.tab == "overdue"
        overdue = queue.counts["overdue"]
        assert overdue >= 3
        await pilot.press("delete")  # cancelled: ctrl+z would bring it back
        await settle(pilot, lambda: queue.counts.get("overdue") == overdue - 1)
        await _tab(pilot, "3", "upcoming")
        await pilot.press("a")  # the supervisor's own
        await settle(pilot, lambda: queue.scope == QueueScope.mine())
        await settle(pilot)
        await pilot.press("a")  # the team's again
        await settle(pilot, lambda: queue.scope == QueueScope.team() and len(queue.rows) >= 2)
        await pilot.press("down")
        await settle(pilot, lambda: queue.query_one("#queue", DataTable).cursor_row == 1)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        bob = _viewer(db, "bob").id
        _add_for(db, bob, "Kept queue: new overdue item", NOW - timedelta(days=30))

        await pilot.resize_terminal(90, 40)  # narrower while it was closed: no "who"
        await settle(pilot)

        def seen(s: FollowUpQueueScreen, workers: list[Any]) -> tuple[Any, ...]:
            table = s.query_one("#queue", DataTable)
            tabs = s.query_one("#tabs", Tabs).active
            narrow = (s.has_class("-narrow"), table.columns[ColumnKey("who")].width)
            return (
                s.scope,
                s.tab,
                tabs,
                table.cursor_row,
                narrow,
                [r.title for r in s.rows],
                workers,
            )

        first = first_frame_of(app, FollowUpQueueScreen, seen)
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        assert app.screen is queue
        await settle(pilot, lambda: queue.counts)
        assert queue.counts["overdue"] == overdue  # one cancelled, one added
        assert "Kept queue: new overdue item" in titles(app)
        if app.store.is_sqlite:  # the first window read as it opens
            [(scope, tab, active, cursor, narrow, shown_titles, workers)] = first
            assert (scope, tab, active, cursor, narrow, workers) == (
                QueueScope.team(),
                "overdue",
                "tab-overdue",
                0,
                (True, 0),
                [],
            )
            assert shown_titles == titles(app)
        notes = noted(app)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert notes == ["Nothing to undo."]


async def test_unreturned_callback_age_is_visible(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    store = _store(db)
    with store.write() as s:
        fu = s.exec(select(FollowUp).where(FollowUp.title == "Callback: pharmacy")).one()
        fu.kind, fu.created_at = "callback", NOW - timedelta(hours=6)
    store.close()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot)
        await _tab(pilot, "2", "today")
        row = screen.query_one("#queue", DataTable).get_row_at(0)
        assert str(row[5]) == "6h"  # waiting since the call came in
        assert "called 6h ago" in shown(screen.query_one("#queue-detail", Static))


async def test_complete_offers_to_log_the_contact_and_links_it(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, CompleteChoice))
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, CompletingContactForm))
        form = app.screen
        assert "completes: Call re: BP log" in shown(form.query_one("#form-title", Static))
        assert app.focused is form.query_one("#note", TextArea)
        await pilot.press(*"BP log reviewed, 128/78.", "tab", "5", "ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: titles(app) == [])
    fu = _followup(db, "Call re: BP log")
    [contact] = _query(db, select(Contact).where(Contact.note == "BP log reviewed, 128/78."))
    assert fu.status == "done" and fu.completed_contact_id == contact.id
    assert contact.duration_min == 5


async def test_recurring_follow_up_creates_its_next_occurrence(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    store = _store(db)
    with store.write() as s:
        fu = s.exec(select(FollowUp).where(FollowUp.title == "Call re: BP log")).one()
        fu.recurrence = "FREQ=WEEKLY"
    store.close()
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, CompleteChoice))
        await pilot.press("d")  # done, no contact to log
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: titles(app) == [])
        await _tab(pilot, "3", "upcoming")
        assert titles(app) == ["Call re: BP log", "Check food bank referral"]
    rows = _query(
        db, select(FollowUp).where(FollowUp.title == "Call re: BP log").order_by(col(FollowUp.id))
    )
    assert [r.status for r in rows] == ["done", "open"]
    first, nxt = rows
    assert nxt.recurrence == "FREQ=WEEKLY" and nxt.priority == "high"
    assert nxt.due_at == first.due_at + timedelta(days=7) and nxt.due_at > NOW


async def test_snooze_with_natural_text_and_bad_text_saves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    before = _followup(db, "Call re: BP log")
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        await pilot.press("z")
        await settle(pilot, lambda: isinstance(app.screen, SnoozeDialog))
        dialog = app.screen
        await pilot.press(*"sometime", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SnoozeDialog)  # still open, with the reason
        assert "Can't read 'sometime'" in shown(dialog.query_one("#snooze-echo", Static))
        assert _followup(db, "Call re: BP log").version == before.version
        dialog.query_one("#snooze-when", Input).value = ""
        await pilot.press(*"+2d", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: titles(app) == [])
    after = _followup(db, "Call re: BP log")
    assert after.due_at > NOW and after.snoozed_until == after.due_at
    assert after.version == before.version + 1


async def test_reassign_own_item_to_a_colleague(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, PersonPicker) and app.screen.people)
        await pilot.press(*"bob", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: titles(app) == [])
    assert _followup(db, "Call re: BP log").assignee_id == _viewer(db, "bob").id


async def test_care_manager_cannot_reassign_someone_elses_item(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        notes = noted(app)
        # Meanwhile the supervisor gives Ann's item to Bob.
        store = _store(db)
        fu = _followup(db, "Call re: BP log")
        fs.reassign_followup(
            store, _viewer(db, "sue"), fu.id or 0, fu.version, _viewer(db, "bob").id
        )
        store.close()
        await pilot.press("r")  # Ann's screen still shows it
        await settle(pilot, lambda: isinstance(app.screen, PersonPicker) and app.screen.people)
        await pilot.press(*"sue", "enter")
        await settle(pilot, lambda: any("Bob Ortiz's list" in n for n in notes))
        await settle(pilot, lambda: titles(app) == [])  # reloaded: no longer hers
    assert _followup(db, "Call re: BP log").assignee_id == _viewer(db, "bob").id


async def test_t_is_for_supervisors(tmp_path: Path) -> None:
    app = build_app(tmp_path / "d.db")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        notes = noted(app)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        assert any("team view is for supervisors" in n for n in notes)


async def test_the_team_view_opens_with_everyone_s_activity_in_its_first_frame(
    tmp_path: Path,
) -> None:
    """The team's figures are read before the view is pushed (issue 6): its first
    frame has every person with their activity, and it reads nothing again as it
    opens; back from a person's queue it catches up in place."""
    app = build_app(tmp_path / "d.db", user="sue")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        first_frame = first_frame_of(app, TeamScreen, lambda s, workers: (list(s.rows), workers))
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen))
        ((rows, workers),) = first_frame
        assert rows and all(len(r.per_day) == 28 for r in rows)
        assert workers == []
        assert {r.display_name for r in rows} >= {"Ann Lee, RN", "Bob Ortiz"}
        team = app.screen
        await pilot.press("enter")  # a person's queue, then back
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is team)
        assert team.rows and all(r.per_day for r in team.rows)


async def test_the_team_view_is_kept_and_opens_again_as_if_built_anew(tmp_path: Path) -> None:
    """Issue 8: the app keeps one team view and loads it at each opening instead of
    building it again. Opened again it shows, in its first frame, what is read then
    (a follow-up added meanwhile), with the cursor on the first person, laid out for
    the terminal's width now (the wide set of columns); it reads nothing more."""
    db = tmp_path / "d.db"
    app = build_app(db, user="sue")

    def seen(s: TeamScreen, workers: list[Any]) -> tuple[Any, ...]:
        table = s.query_one("#team", DataTable)
        row = next(r for r in s.rows if r.display_name == "Bob Ortiz")
        return (row.overdue, table.cursor_row, len(table.columns), s.has_class("-narrow"), workers)

    async def reopen(width: int = SIZE[0]) -> tuple[TeamScreen, list[Any]]:
        """Down two rows, back to the caseload, (the terminal resized,) and t again:
        the screen opened and what its first frame showed."""
        await pilot.press("down", "down")
        await settle(pilot)
        assert team.query_one("#team", DataTable).cursor_row == 2
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await pilot.resize_terminal(width, SIZE[1])
        await settle(pilot)
        frame = first_frame_of(app, TeamScreen, seen)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen))
        assert isinstance(app.screen, TeamScreen)
        return app.screen, frame

    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        first = first_frame_of(app, TeamScreen, seen)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows)
        team = app.screen
        assert isinstance(team, TeamScreen)
        bob = next(r for r in team.rows if r.display_name == "Bob Ortiz")
        assert first == [(bob.overdue, 0, 7, True, [])]  # narrow at 120 columns

        _add_for(db, bob.user_id, "Kept view: new overdue item", NOW - timedelta(days=2))
        assert await reopen() == (team, [(bob.overdue + 1, 0, 7, True, [])])  # loaded again
        # Wider while it was closed: the wide columns from its first frame.
        assert await reopen(150) == (team, [(bob.overdue + 1, 0, 11, False, [])])
        assert app.focused is team.query_one("#team", DataTable)
        title = shown(team.query_one("#trend-title", Static))
        assert title.startswith(team.rows[0].display_name)


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_the_trend_box_shows_its_figures_whole(tmp_path: Path, size: tuple[int, int]) -> None:
    """Narrow and wide, with a long name and large figures: every line of the trend's
    text fits its box (the busiest day was cut off before)."""
    from dataclasses import replace

    from textual.geometry import Region

    app = build_app(tmp_path / "d.db", user="sue")
    async with app.run_test(size=size) as pilot:
        await _on_caseload(pilot)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows)
        team = app.screen
        busy = replace(
            team.rows[0],
            display_name="Maria-Guadalupe Fernández-Oyelaran, RN, CCM, MSW",
            per_day=(12_345,) * 27 + (987,),
        )
        team.rows[0] = busy
        team._show_trend()
        await pilot.pause()
        drawn = [
            strip.text.rstrip()
            for w in ("title", "axis")
            for strip in team.query_one(f"#trend-{w}", Static).render_lines(Region(0, 0, 200, 2))
        ]
        assert drawn[0].startswith("Maria-Guadalupe")  # the name on one line, cut if need be
        assert drawn[1:] == [
            "contacts/day, last 4 weeks",
            "total 334,302 · busiest 12,345",
            "4 weeks ago → today · today 987",
        ]


async def test_supervisor_bulk_reassigns_from_a_persons_queue(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db, user="sue")
    store = _store(db)
    ann, bob = _viewer(db, "ann"), _viewer(db, "bob")
    rosa = _client_id(db, "Alvarez")
    for i in range(3):
        fs.create_followup(
            store, ann, rosa, title=f"Extra {i}", due_at=NOW - timedelta(hours=i + 1)
        )
    store.close()
    events_before = len(_query(db, select(AuditEvent.id)))
    async with app.run_test(size=(160, 50)) as pilot:
        await _on_caseload(pilot)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows)
        team = app.screen
        await settle(pilot, lambda: all(r.per_day for r in team.rows))
        names = [r.display_name for r in team.rows]
        assert names[:2] == ["Ann Lee, RN", "Bob Ortiz"] and "Sue Park" in names
        table = team.query_one("#team", DataTable)
        assert str(table.get_row_at(0)[7]) == "4"  # Ann's overdue
        await pilot.press("enter")  # Ann's queue, overdue tab
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: len(titles(app)) == 4)
        assert app.screen.sub_title.startswith("Ann Lee, RN — follow-ups")
        await pilot.press("space", "space", "space")
        assert len(app.screen.selected) == 3
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, PersonPicker) and app.screen.people)
        await pilot.press(*"bob", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: len(titles(app)) == 1)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen))
        await settle(pilot, lambda: str(table.get_row_at(0)[7]) == "1")
    moved = _query(db, select(FollowUp).where(col(FollowUp.assignee_id) == bob.id))
    assert len(moved) == 3
    events = _query(db, select(AuditEvent).where(col(AuditEvent.id) > events_before))
    assert [e.detail[:22] for e in events if e.action == "update"] == ["bulk reassign of 3 fol"]


async def test_bulk_reassign_meeting_a_change_unselects_it_and_moves_the_rest(
    tmp_path: Path,
) -> None:
    db = tmp_path / "d.db"
    app = build_app(db, user="sue")
    store = _store(db)
    ann, bob = _viewer(db, "ann"), _viewer(db, "bob")
    rosa = _client_id(db, "Alvarez")
    extra = [
        fs.create_followup(
            store, ann, rosa, title=f"Extra {i}", due_at=NOW - timedelta(hours=i + 1)
        ).id
        for i in range(3)
    ]
    async with app.run_test(size=(160, 50)) as pilot:
        await _on_caseload(pilot)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows)
        await pilot.press("enter")  # Ann's queue, overdue tab
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        await settle(pilot, lambda: len(titles(app)) == 4)
        queue = app.screen
        await pilot.press("space", "space", "space")
        picked = set(queue.selected)
        assert len(picked) == 3
        # Meanwhile Ann snoozes one of them.
        moved_on = next(i for i in extra if i in picked)
        fs.snooze_followup(store, ann, moved_on, 1, "in 2 days")
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, PersonPicker) and app.screen.people)
        await pilot.press(*"bob", "enter")
        await settle(pilot, lambda: app.screen is queue and moved_on not in queue.selected)
        said = " ".join(str(n.message) for n in app._notifications)
        assert "Someone else changed 1 of the 3 selected follow-ups a moment ago" in said
        assert "r reassigns the other 2 still selected" in said
        assert set(queue.selected) == picked - {moved_on}
        assert not _query(db, select(FollowUp).where(col(FollowUp.assignee_id) == bob.id))
        await pilot.press("r")  # the rest, as they were seen
        await settle(pilot, lambda: isinstance(app.screen, PersonPicker) and app.screen.people)
        await pilot.press(*"bob", "enter")
        await settle(pilot, lambda: app.screen is queue and not queue.selected)
    store.close()
    moved = _query(db, select(FollowUp.id).where(col(FollowUp.assignee_id) == bob.id))
    assert set(moved) == picked - {moved_on}


# ---------------------------------------------------------------- add / edit


async def test_add_follow_up_with_recurrence_past_date_warns_bad_rrule_refused(
    tmp_path: Path,
) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    count = len(_query(db, select(FollowUp.id)))
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        add_followup(app, _client_id(db, "Alvarez"))
        await settle(pilot, lambda: isinstance(app.screen, FollowUpForm))
        form = app.screen
        await pilot.press(*"Monthly med review", "tab", *"2026-11-20")
        echo = shown(form.query_one("#fu-due-echo", Static))
        assert "Fri 20 Nov 2026 09:00" in echo and "in the past" in echo  # allowed, warned
        form.query_one("#fu-repeat", Select).value = "custom"
        await settle(pilot)
        form.query_one("#fu-rrule", Input).value = "FREQ=SOMETIMES"
        await settle(pilot)
        assert "Can't read" in shown(form.query_one("#fu-repeat-echo", Static))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpForm)
        assert "Fix the repeat" in shown(form.query_one("#fu-error", Static))
        assert len(_query(db, select(FollowUp.id))) == count  # nothing saved half-way
        form.query_one("#fu-repeat", Select).value = "FREQ=MONTHLY;BYMONTHDAY=1"
        await settle(pilot)
        assert "monthly on the 1st" in shown(form.query_one("#fu-repeat-echo", Static))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    fu = _followup(db, "Monthly med review")
    assert fu.recurrence == "FREQ=MONTHLY;BYMONTHDAY=1" and fu.due_at < NOW


async def test_unparseable_due_is_not_saved(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    count = len(_query(db, select(FollowUp.id)))
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        await pilot.press("u")  # add for the highlighted row's client
        await settle(pilot, lambda: isinstance(app.screen, FollowUpForm))
        await pilot.press(*"Ring PCP", "tab", *"whenever", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpForm)
        assert "Can't read 'whenever'" in shown(app.screen.query_one("#fu-error", Static))
    assert len(_query(db, select(FollowUp.id))) == count


async def test_cancel_and_undo(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _open_queue(pilot)
        await pilot.press("delete")
        await settle(pilot, lambda: titles(app) == [])
        assert _followup(db, "Call re: BP log").status == "cancelled"
        await pilot.press("ctrl+z")
        await settle(pilot, lambda: titles(app) == ["Call re: BP log"])
    assert _followup(db, "Call re: BP log").status == "open"


# ---------------------------------------------------------------- stored text is literal


async def test_hostile_titles_and_names_are_shown_literally(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = build_app(db, user="sue")
    store = _store(db)
    ann = _viewer(db, "ann")
    rosa = _client_id(db, "Alvarez")
    with store.write() as s:
        for i, text in enumerate(HOSTILE):
            s.add(FollowUp(client_id=rosa, assignee_id=ann.id, title=text or "x",
                           due_at=NOW - timedelta(minutes=i + 1), priority="urgent"))  # fmt: skip
        user = s.get(User, ann.id)
        assert user is not None
        user.display_name = "[bold]Ann[/bold] \x1b[31mLee"
    store.close()
    async with app.run_test(size=(160, 50)) as pilot:
        await _on_caseload(pilot)
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen) and app.screen.rows)
        screen = app.screen
        table = screen.query_one("#queue", DataTable)
        for i in range(min(table.row_count, len(HOSTILE))):
            cells = table.get_row_at(i)
            row = screen.rows[i]
            what = cells[4].plain
            assert no_live_controls(what)
            for word in visible_words(row.title)[:3]:
                assert word in what or len(what) >= 20, (word, what)
            assert no_live_controls(cells[6].plain) and "[bold]Ann[/bold]" in cells[6].plain
            table.move_cursor(row=i, animate=False)
            await pilot.pause()
            detail = shown(screen.query_one("#queue-detail", Static))
            assert no_live_controls(detail)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, TeamScreen) and app.screen.rows)
        team = app.screen.query_one("#team", DataTable)
        assert team.get_row(str(ann.id))[0].plain == "[bold]Ann[/bold] ␛[31mLee"
