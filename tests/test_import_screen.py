"""The import screen as a supervisor drives it (Pilot): path, preview, map, dry run, confirm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from textual.widgets import Button, DataTable, Input, Select, Static

from cm_tui.screens.import_clients import ConfirmImport, ImportClientsScreen, open_import
from cm_tui.store.db import open_store
from cm_tui.store.models import Client
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import build_app
from tests.test_ui import settle, shown

SIZE = (120, 50)


@pytest.fixture(autouse=True)
def _thaw() -> Any:
    yield
    freeze_clock(None)


def clients_named(db: Path, family: str) -> int:
    store = open_store(db_url(db))
    try:
        with store.read() as s:
            return int(
                s.execute(
                    select(func.count()).select_from(Client).where(Client.family_name == family)
                ).scalar_one()
            )
    finally:
        store.close()


async def test_preview_map_dry_run_and_import(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    panel = tmp_path / "payer.csv"
    panel.write_text(
        "Member ID,given_name,family_name,dob\n"
        "P1,Ivy,[bold]Markup[/bold],1950-01-31\n"
        "P2,Jon,Escape\x1b[31m,02/14/1948\n",
        encoding="utf-8",
    )
    app = build_app(db, user="sue")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_import(app)
        await settle(pilot, lambda: isinstance(app.screen, ImportClientsScreen))
        screen = app.screen
        assert isinstance(screen, ImportClientsScreen)
        screen.query_one("#import-path", Input).value = str(panel)
        screen.query_one("#import-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot, lambda: screen.preview is not None)

        rows = screen.query_one("#import-rows", DataTable)
        assert rows.row_count == 2
        assert str(rows.get_row_at(0)[2]) == "[bold]Markup[/bold]"  # shown literally
        assert "␛" in str(rows.get_row_at(1)[2])  # the escape is visible, not interpreted
        assert "Member ID" in shown(screen.query_one("#import-result", Static))

        # the unknown column blocks the dry run until it is mapped
        await pilot.press("ctrl+t")
        result = screen.query_one("#import-result", Static)
        await settle(pilot, lambda: "Choose a field (or skip) for: Member ID" in shown(result))
        assert screen.query_one("#import-go", Button).disabled

        screen.query_one("#map-0", Select).value = "mrn"
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot, lambda: screen.checked is not None)
        assert "2 new clients" in shown(screen.query_one("#import-result", Static))
        assert clients_named(db, "[bold]Markup[/bold]") == 0  # a dry run writes nothing

        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmImport))
        await pilot.press("y")
        await settle(pilot, lambda: "were imported" in shown(screen.query_one("#import-result")))
    assert clients_named(db, "[bold]Markup[/bold]") == 1


async def test_row_problems_are_listed_and_block_the_import(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    panel = tmp_path / "bad.csv"
    panel.write_text(
        "mrn,given_name,family_name,dob\nQ1,Ann,Ok,1950-01-31\nQ1,Bob,Dup,1950-02-30\n",
        encoding="utf-8",
    )
    app = build_app(db, user="sue")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportClientsScreen(str(panel)))
        await settle(pilot, lambda: getattr(app.screen, "preview", None) is not None)
        screen = app.screen
        assert isinstance(screen, ImportClientsScreen)
        await pilot.press("ctrl+t")
        errors = screen.query_one("#import-errors", DataTable)
        await settle(pilot, lambda: errors.row_count == 2)
        assert [str(c) for c in errors.get_row_at(0)] == [
            "3",
            "dob",
            "Q1",
            "'1950-02-30' is not a real date",
        ]
        assert "nothing was imported" in shown(screen.query_one("#import-result", Static))
        assert screen.query_one("#import-go", Button).disabled
        await pilot.press("ctrl+s")  # refused: no clean dry run
        await settle(pilot)
        assert app.screen is screen
    assert clients_named(db, "Ok") == 0


async def test_bad_file_is_one_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("mrn,given_name,family_name\nL1,José,Núñez\n".encode("latin-1"))
    app = build_app(db, user="sue")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportClientsScreen(str(latin)))
        await settle(pilot, lambda: "not UTF-8" in shown(app.screen.query_one("#import-result")))
        assert app.screen.query_one("#import-dry", Button).disabled


async def test_only_supervisors_open_it(tmp_path: Path) -> None:
    app = build_app(tmp_path / "cm.db", user="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.screen
        open_import(app)
        await settle(pilot)
        assert app.screen is before
        assert any("supervisors" in str(n.message) for n in app._notifications)
