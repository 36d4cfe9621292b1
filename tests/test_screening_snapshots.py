"""What the screening screen looks like (pytest-textual-snapshot; update with --snapshot-update)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cm_tui.screens.screening import ScreeningScreen, start_screening
from cm_tui.store.types import freeze_clock
from tests.snapshot_app import NOW, build_app
from tests.test_snapshots import _on_caseload
from tests.test_ui import settle

WALTER = 2


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _phase(pilot: Any, phase: str, current: str | None = None) -> bool:
    screen = pilot.app.screen
    return (
        isinstance(screen, ScreeningScreen)
        and screen.phase == phase
        and (current is None or screen.current == current)
    )


async def _keys(pilot: Any, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot, lambda: True)


async def _opt_out(pilot: Any) -> None:
    await _on_caseload(pilot)
    start_screening(pilot.app, WALTER, "ahc-hrsn")
    await settle(pilot, lambda: _phase(pilot, "optout"))


async def _question(pilot: Any) -> None:
    """AHC question 7 (with its preamble), after a decline and a multi-select."""
    await _opt_out(pilot)
    await _keys(pilot, "a")
    await settle(pilot, lambda: _phase(pilot, "question", "living_situation"))
    await _keys(pilot, "2", "1", "2", "enter", "d", "2", "1", "3")
    await settle(pilot, lambda: _phase(pilot, "question", "safety_hurt"))
    await _keys(pilot, "down", "down")


async def _summary(pilot: Any) -> None:
    """A flagged summary: positive domains, a declined item, proposals, one edited."""
    await _opt_out(pilot)
    await _keys(pilot, "a")
    await settle(pilot, lambda: _phase(pilot, "question", "living_situation"))
    await _keys(pilot, "2", "1", "2", "enter", "d", "2", "1", "3", "2", "1", "1", "1")
    await settle(pilot, lambda: _phase(pilot, "summary"))
    await _keys(pilot, "a", "a")


def _app(tmp_path: Path) -> Any:
    return build_app(tmp_path / "d.db")


def test_screening_choose_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await _on_caseload(pilot)
        start_screening(pilot.app, WALTER)
        await settle(pilot, lambda: _phase(pilot, "choose"))

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_screening_opt_out_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_opt_out)


def test_screening_question_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_question)


def test_screening_question_160x50(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(160, 50), run_before=_question)


def test_screening_summary_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_summary)


def test_screening_summary_160x50(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(160, 50), run_before=_summary)
