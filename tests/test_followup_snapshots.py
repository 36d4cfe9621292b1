"""What the follow-up queue, its dialogs and the team view look like (pytest-textual-snapshot)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.followup_modals import CompleteChoice, FollowUpForm
from cm_tui.screens.followups import FollowUpQueueScreen, add_followup
from cm_tui.screens.team import TeamScreen
from cm_tui.store.db import open_store
from cm_tui.store.models import Contact, FollowUp, User
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import NOW, build_app
from tests.test_ui import settle


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _richer(path: Path, user: str = "ann") -> Any:
    """The snapshot organisation plus a callback, a recurring call, Bob's work and contacts."""
    app = build_app(path, user=user)
    store = open_store(db_url(path))
    with store.write() as s:
        users = {u.username: u for u in s.exec(select(User)).all()}
        ann, bob = users["ann"], users["bob"]
        s.add(
            FollowUp(
                client_id=3,
                assignee_id=ann.id,
                title="Call back: daughter re pharmacy",
                kind="callback",
                priority="high",
                due_at=NOW + timedelta(hours=2),
                created_at=NOW - timedelta(hours=5),
                source="inbound_call",
            )
        )
        s.add(
            FollowUp(
                client_id=2,
                assignee_id=ann.id,
                title="Weekly check-in after discharge",
                recurrence="FREQ=WEEKLY",
                due_at=NOW - timedelta(days=6),
                priority="urgent",
            )
        )
        s.add(
            FollowUp(
                client_id=8,
                assignee_id=bob.id,
                title="Renew transport benefit",
                kind="referral_check",
                due_at=NOW - timedelta(days=9),
            )
        )
        s.add(
            FollowUp(
                client_id=4,
                assignee_id=None,
                title="Intake call (no one yet)",
                due_at=NOW - timedelta(hours=20),
            )
        )
        for d in range(27):
            for k in range(d % 5):
                s.add(
                    Contact(
                        client_id=1 + k,
                        user_id=ann.id,
                        outcome="reached" if k % 2 else "no_answer",
                        duration_min=10,
                        occurred_at=NOW - timedelta(days=d, hours=k + 1),
                    )
                )
            if d % 3 == 0:
                s.add(
                    Contact(
                        client_id=8,
                        user_id=bob.id,
                        duration_min=15,
                        occurred_at=NOW - timedelta(days=d, hours=2),
                    )
                )
    store.close()
    return app


async def _queue(pilot: Any) -> None:
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    await pilot.press("f")
    await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen) and app.screen.counts)


def test_queue_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_richer(tmp_path / "d.db"), terminal_size=(80, 24), run_before=_queue)


def test_queue_today_160x50(snap_compare: Any, tmp_path: Path) -> None:
    async def today(pilot: Any) -> None:
        await _queue(pilot)
        await pilot.press("2")
        await settle(pilot, lambda: pilot.app.screen.tab == "today" and pilot.app.screen.rows)

    assert snap_compare(_richer(tmp_path / "d.db"), terminal_size=(160, 50), run_before=today)


def test_team_queue_with_selection_160x50(snap_compare: Any, tmp_path: Path) -> None:
    async def selected(pilot: Any) -> None:
        await _queue(pilot)
        await settle(pilot, lambda: len(pilot.app.screen.rows) == 4)
        await pilot.press("down", "space")

    app = _richer(tmp_path / "d.db", user="sue")
    assert snap_compare(app, terminal_size=(160, 50), run_before=selected)


def test_team_view_160x50(snap_compare: Any, tmp_path: Path) -> None:
    async def team(pilot: Any) -> None:
        app = pilot.app
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await pilot.press("t")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, TeamScreen)
                and app.screen.rows
                and all(r.per_day for r in app.screen.rows)
            ),
        )

    app = _richer(tmp_path / "d.db", user="sue")
    assert snap_compare(app, terminal_size=(160, 50), run_before=team)


def test_team_view_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def team(pilot: Any) -> None:
        app = pilot.app
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await pilot.press("t")
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, TeamScreen)
                and app.screen.rows
                and all(r.per_day for r in app.screen.rows)
            ),
        )

    app = _richer(tmp_path / "d.db", user="sue")
    assert snap_compare(app, terminal_size=(80, 24), run_before=team)


def test_complete_choice(snap_compare: Any, tmp_path: Path) -> None:
    async def choice(pilot: Any) -> None:
        await _queue(pilot)
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(pilot.app.screen, CompleteChoice))

    assert snap_compare(_richer(tmp_path / "d.db"), terminal_size=(80, 24), run_before=choice)


def test_add_form_past_date_and_recurrence(snap_compare: Any, tmp_path: Path) -> None:
    async def form(pilot: Any) -> None:
        app = pilot.app
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        add_followup(app, 1)
        await settle(pilot, lambda: isinstance(app.screen, FollowUpForm))
        await pilot.press(*"Monthly med review", "tab", *"2026-11-20")
        app.screen.query_one("#fu-repeat").value = "FREQ=MONTHLY;BYMONTHDAY=1"
        await pilot.pause()

    assert snap_compare(_richer(tmp_path / "d.db"), terminal_size=(80, 24), run_before=form)


def test_add_form_bad_rrule(snap_compare: Any, tmp_path: Path) -> None:
    async def form(pilot: Any) -> None:
        app = pilot.app
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        add_followup(app, 1)
        await settle(pilot, lambda: isinstance(app.screen, FollowUpForm))
        await pilot.press(*"Check in", "tab", *"+2w")
        app.screen.query_one("#fu-repeat").value = "custom"
        await pilot.pause()
        app.screen.query_one("#fu-rrule").value = "FREQ=HOURLY"
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(_richer(tmp_path / "d.db"), terminal_size=(80, 24), run_before=form)
