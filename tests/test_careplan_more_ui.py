"""Care plan keys beyond adding: d marks an intervention done (u undoes) or resolves
a barrier (asks first); h pages through a goal's older progress notes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Static

from cm_tui.screens.careplan import PROGRESS_PAGE, CarePlanScreen, PickItem, ProgressNotes, YesNo
from cm_tui.screens.help import HelpScreen
from cm_tui.services import careplans
from cm_tui.store.models import Barrier, Intervention
from tests.snapshot_app import NOW, build_app
from tests.test_careplan_ui import _frozen, _open_rosa, _rows  # noqa: F401 (autouse fixture)
from tests.test_ui import settle, shown

SIZE = (120, 40)
WORDS = "Walk to church [bold]on Sundays[/bold]"


async def _plan_with_items(pilot: Any, *, notes: int = 0) -> tuple[CarePlanScreen, int]:
    """Rosa's plan with one goal, two interventions, a barrier and ``notes`` progress
    notes (one a minute apart, oldest first), opened with p."""
    app = pilot.app
    client = await _open_rosa(pilot)
    store, viewer, cid = app.store, app.viewer, client.client_id
    goal = careplans.add_goal(store, viewer, cid, client_words=WORDS)
    careplans.add_intervention(store, viewer, goal.id, "Chair exercises [red]handout[/red]")
    careplans.add_intervention(store, viewer, goal.id, "Ask about a walking group")
    careplans.add_barrier(store, viewer, cid, "No ride [i]on Sundays[/i]", goal_id=goal.id)
    start = NOW - timedelta(days=60)
    for n in range(notes):
        careplans.record_progress(
            store, viewer, goal.id, f"note {n:02d} [b]x[/b]", at=start + timedelta(minutes=n)
        )
    await pilot.press("p")
    await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen) and app.screen.panel)
    return app.screen, goal.id


async def _picker(pilot: Any) -> PickItem:
    await pilot.press("d")
    await settle(pilot, lambda: isinstance(pilot.app.screen, PickItem))
    return pilot.app.screen


async def test_d_marks_an_intervention_done_u_undoes_and_a_barrier_resolves(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        plan, goal_id = await _plan_with_items(pilot)
        await settle(pilot, lambda: len(plan.panel.interventions) == 2)

        picker = await _picker(pilot)
        items = shown(picker.query_one("#cp-pick-items", Static))
        assert "1 We'll do  Chair exercises [red]handout[/red]" in items  # literal
        assert "2 We'll do  Ask about a walking group" in items
        assert "3 Barrier   No ride [i]on Sundays[/i]" in items
        await pilot.press("1")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        await settle(pilot, lambda: _rows(db, Intervention)[0].status == "done")
        assert [i.status for i in _rows(db, Intervention)] == ["done", "active"]
        await settle(pilot, lambda: len(plan.panel.interventions) == 1)
        assert "Chair exercises" not in shown(plan.query_one("#cp-goal-detail"))

        # u: the intervention just marked done is open again.
        await pilot.press("u")
        await settle(pilot, lambda: _rows(db, Intervention)[0].status == "active")
        await settle(pilot, lambda: len(plan.panel.interventions) == 2)

        # A barrier asks first; n keeps it open.
        await _picker(pilot)
        await pilot.press("3")
        await settle(pilot, lambda: isinstance(app.screen, YesNo))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        await settle(pilot)
        assert _rows(db, Barrier)[0].status == "open"

        await _picker(pilot)
        await pilot.press("3")
        await settle(pilot, lambda: isinstance(app.screen, YesNo))
        await pilot.press("y")
        await settle(pilot, lambda: _rows(db, Barrier)[0].status == "resolved")
        [barrier] = _rows(db, Barrier)
        assert barrier.resolved_at is not None and barrier.goal_id == goal_id
        await settle(pilot, lambda: plan.panel.barriers == [])
        assert "No ride" not in shown(plan.query_one("#cp-goal-detail"))

        # Escape in the picker changes nothing; the picker now holds only interventions.
        picker = await _picker(pilot)
        assert "Barrier" not in shown(picker.query_one("#cp-pick-items", Static))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        assert [i.status for i in _rows(db, Intervention)] == ["active", "active"]


async def test_h_pages_through_older_progress_notes(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    total = PROGRESS_PAGE + 5
    async with app.run_test(size=SIZE) as pilot:
        await _plan_with_items(pilot, notes=total)
        await pilot.press("h")
        await settle(pilot, lambda: isinstance(app.screen, ProgressNotes) and app.screen.notes)
        notes = app.screen
        assert len(notes.notes) == PROGRESS_PAGE
        text = shown(notes.query_one("#cp-notes-list", Static))
        assert f"note {total - 1:02d} [b]x[/b]" in text  # newest first, literal
        assert "note 00" not in text and "note 04" not in text
        assert "h older notes" in shown(notes.query_one("#cp-notes-keys", Static))

        await pilot.press("h")
        await settle(pilot, lambda: len(notes.notes) == total)
        text = shown(notes.query_one("#cp-notes-list", Static))
        assert "note 00 [b]x[/b]" in text and "note 04" in text
        assert [n.note for n in notes.notes] == [
            f"note {n:02d} [b]x[/b]" for n in reversed(range(total))
        ]
        assert "that is all" in shown(notes.query_one("#cp-notes-keys", Static))

        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))

        # ? lists the new keys; the palette has them by name.
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = dict(app.screen.rows)
        assert keys["d"] == "Done / resolve" and keys["u"] == "Undo intervention done"
        assert keys["h"].startswith("Progress notes")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        names = {c.title for c in app.screen.screen_commands()}
        assert {"Intervention done / resolve barrier", "Progress notes"} <= names
