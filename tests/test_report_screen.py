"""The report screen (Pilot): a supervisor's month, stepping months, refusing others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import Input, Static

from cm_tui.screens.report import ReportScreen, open_report
from cm_tui.store.db import open_store
from cm_tui.store.models import AuditEvent
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import build_app
from tests.test_ui import settle, shown

SIZE = (120, 50)


@pytest.fixture(autouse=True)
def _thaw() -> Any:
    yield
    freeze_clock(None)


async def test_supervisor_sees_the_month_and_steps_through_months(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    app = build_app(db, user="sue")  # the fixed organisation; the clock is 25 Nov 2026
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_report(app)
        await settle(pilot, lambda: isinstance(app.screen, ReportScreen))
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        text = screen.query_one("#report-text", Static)
        await settle(pilot, lambda: screen.report is not None)
        assert screen.period.label == "2026-11"
        body = shown(text)
        assert "Programme report for 2026-11" in body
        assert "Clients on the panel                 8" in body
        assert "Ann Lee, RN" in body  # per person

        await pilot.press("left_square_bracket")
        await settle(
            pilot, lambda: screen.report is not None and screen.report.period.label == "2026-10"
        )
        assert screen.query_one("#report-period", Input).value == "2026-10"
        assert "Programme report for 2026-10" in shown(text)

        screen.query_one("#report-period", Input).value = "2026-13"
        screen.query_one("#report-period", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "give a month as YYYY-MM" in shown(text)

    store = open_store(db_url(db))
    with store.read() as s:
        views = s.exec(select(AuditEvent).where(col(AuditEvent.entity) == "report")).all()
    store.close()
    assert [v.detail.split(";")[0] for v in views if v.detail] == [
        "programme report 2026-11",
        "programme report 2026-10",
    ]


async def test_care_managers_are_told_it_is_for_supervisors(tmp_path: Path) -> None:
    app = build_app(tmp_path / "cm.db", user="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.screen
        open_report(app)
        await settle(pilot)
        assert app.screen is before
        assert any("supervisors" in str(n.message) for n in app._notifications)


async def test_the_month_is_long_work_shown_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen's first frame says the month is being computed; each step is shown
    as it starts (a month of a large organisation takes about a second)."""
    import threading

    from cm_tui.services import measures
    from tests.test_ui import first_frame_of

    release = threading.Event()
    utilization = measures._utilization

    def held(*args: Any) -> Any:
        assert release.wait(10)
        return utilization(*args)

    monkeypatch.setattr(measures, "_utilization", held)
    app = build_app(tmp_path / "cm.db", user="sue")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = first_frame_of(
            app, ReportScreen, lambda s, _: shown(s.query_one("#report-text")).strip()
        )
        open_report(app)
        for _ in range(100):
            await pilot.pause(0.05)
            screen = app.screen
            if isinstance(screen, ReportScreen) and "(7 of 7)" in shown(
                screen.query_one("#report-text", Static)
            ):
                break
        assert first == ["Computing 2026-11…"]
        text = shown(app.screen.query_one("#report-text", Static)).strip()
        assert text == "Computing 2026-11: utilization (7 of 7)…"
        release.set()
        await settle(pilot, lambda: app.screen.report is not None)
        assert "Programme report for 2026-11" in shown(app.screen.query_one("#report-text"))
