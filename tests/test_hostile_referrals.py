"""The hostile corpus through the resource directory and the needs & referrals screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.resources import ResourcesScreen
from cm_tui.services import referrals as rs
from cm_tui.services import resources as res
from cm_tui.store.types import freeze_clock
from tests.hostile import HOSTILE
from tests.snapshot_app import NOW, build_store
from tests.test_hostile import assert_literal, plain_of
from tests.test_referral_ui import app_for, open_referrals
from tests.test_ui import settle

# The strings a resource name may carry (semicolons separate domains and languages).
NAMES = [h for h in HOSTILE if h.strip() and ";" not in h and "\x00" not in h][:25]


@pytest.fixture(autouse=True)
def _clock() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


@pytest.fixture
def hostile_resources(tmp_path: Path) -> Path:
    db = tmp_path / "cm.db"
    store = build_store(db)
    for i, text in enumerate(NAMES):
        res.create_resource(
            store,
            None,
            res.ResourceInput(
                name=f"R{i:02d} {text}"[:200],
                domains=["food"],
                languages=["Chinese"],
                phone="(555) 030-1000",
                hours=text[:60],
                address=text[:120],
                notes=text,
            ),
        )
    store.close()
    return db


async def test_directory_shows_hostile_resources_literally(hostile_resources: Path) -> None:
    app = app_for(hostile_resources)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Resource directory"
        )
        command.callback()
        await settle(pilot, lambda: isinstance(app.screen, ResourcesScreen) and app.screen.loaded)
        table = app.screen.query_one("#resources", DataTable)
        cells = [plain_of(table.get_row_at(i)[0]) for i in range(table.row_count)]
        for i, text in enumerate(NAMES):
            shown_name = next(c for c in cells if c.startswith(f"R{i:02d}"))
            assert_literal(shown_name, f"R{i:02d} {text}"[:200])
        assert "\x1b" not in app.export_screenshot()


async def test_referrals_screen_shows_hostile_suggestions_literally(
    hostile_resources: Path,
) -> None:
    app = app_for(hostile_resources)
    async with app.run_test(size=(200, 60)) as pilot:
        # Mei Chen (client 3) speaks Chinese: every hostile resource is suggested for food.
        rs.add_need(app.store, app.viewer, 3, "food")
        screen = await open_referrals(pilot, app, 3)
        table = screen.query_one("#ref-suggestions", DataTable)
        await settle(pilot, lambda: table.row_count >= 10)  # the ten best suggestions
        for row in range(table.row_count):
            cell = plain_of(table.get_row_at(row)[0])
            i = int(cell[1:3])
            assert_literal(cell, f"R{i:02d} {NAMES[i]}"[:200])
        head = plain_of(screen.query_one("#ref-head", Static).content)
        assert "Chen" in head
        assert "\x1b" not in app.export_screenshot()
