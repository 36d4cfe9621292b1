"""The keys that join the screens: s (screen), u (follow-up) from the caseload and the brief."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.store.models import Screening
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import NOW, build_app
from tests.test_ui import settle, shown


@pytest.fixture(autouse=True)
def _thaw() -> Any:
    yield
    freeze_clock(None)


async def _caseload(pilot: Any) -> None:
    await settle(pilot, lambda: isinstance(pilot.app.screen, CaseloadScreen))


async def test_s_starts_a_screening_for_the_highlighted_client(tmp_path: Path) -> None:
    from cm_tui.screens.screening import ScreeningScreen

    app = build_app(tmp_path / "d.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await _caseload(pilot)
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, ScreeningScreen))
        assert app.screen.client_id == app.screen_stack[-2]._rows[0].id
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))


async def test_u_adds_a_follow_up_and_the_row_shows_it(tmp_path: Path) -> None:
    from cm_tui.screens.followups import FollowUpForm

    app = build_app(tmp_path / "d.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await _caseload(pilot)
        screen = app.screen
        await settle(pilot, lambda: len(screen._rows) == 7)
        await pilot.press("down")  # Brooks, Walter: no open follow-up
        assert screen._rows[1].next_due_at is None
        await pilot.press("u")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpForm))
        form = app.screen
        assert app.focused is form.query_one("#fu-title")
        await pilot.press(*"Call re: discharge meds", "tab")
        assert app.focused is form.query_one("#fu-due")
        await pilot.press(*"tomorrow", "ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        # The caseload reloads after the save; wait for the refreshed window.
        await settle(
            pilot,
            lambda: len(screen._rows) > 1 and screen._rows[1].next_due_at is not None,
            tries=100,
        )


async def test_brief_lists_screening_scores_and_declined_items(tmp_path: Path) -> None:
    app = build_app(tmp_path / "d.db")
    with app.store.write() as s:
        s.add(
            Screening(
                client_id=1,
                user_id=1,
                script_id="phq-9",
                script_version="1.0",
                status="completed",
                started_at=NOW,
                completed_at=NOW,
                opt_out_acknowledged=True,
                result_json={
                    "positive_domains": [],
                    "flags": [],
                    "scores": {},
                    "incomplete_scores": ["phq9"],
                    "declined_items": ["phq_9", "phq_3"],
                },
            )
        )
    async with app.run_test(size=(160, 50)) as pilot:
        await _caseload(pilot)
        await pilot.press("enter")
        await settle(
            pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief is not None
        )
        text = shown(app.screen.query_one("#screenings", Static))
        assert "phq9 incomplete — declined" in text
        assert "declined: phq_3, phq_9" in text


async def test_supervisor_palette_opens_report_and_import(tmp_path: Path) -> None:
    from cm_tui.screens.import_clients import ImportClientsScreen
    from cm_tui.screens.report import ReportScreen

    app = build_app(tmp_path / "d.db", user="sue")
    async with app.run_test(size=(120, 40)) as pilot:
        await _caseload(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Programme report"].callback()
        await settle(pilot, lambda: isinstance(app.screen, ReportScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        commands["Import clients from CSV"].callback()
        await settle(pilot, lambda: isinstance(app.screen, ImportClientsScreen))


async def test_care_manager_palette_has_no_supervisor_commands(tmp_path: Path) -> None:
    app = build_app(tmp_path / "d.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await _caseload(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Programme report" not in titles and "Team view" not in titles
        assert {"Caseload", "Follow-up queue", "Log inbound call", "Lock now"} <= titles


async def test_a_failed_demo_build_says_so_and_the_app_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cm_tui.app import make_app
    from cm_tui.config import Settings
    from cm_tui.screens.seeding import SeedingScreen
    from cm_tui.services import demo

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk [bold]full[/bold]")

    monkeypatch.setattr(demo, "generate_demo", broken)
    app = make_app(db_url(tmp_path / "d.db"), demo=True, settings=Settings(idle_lock_minutes=0))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, SeedingScreen))
        await settle(pilot, lambda: "Could not build" in shown(app.screen.query_one("#stage")))
        assert "disk [bold]full[/bold]" in shown(app.screen.query_one("#stage"))
        assert app.is_running
