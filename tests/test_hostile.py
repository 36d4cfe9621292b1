"""The hostile-string corpus through every screen that shows stored text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import DataTable, Static

from cm_tui.app import make_app
from cm_tui.config import Settings
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.store.db import open_store
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.factories import add_client, add_contact, add_user, days_ago
from tests.hostile import HOSTILE, no_live_controls, visible_words
from tests.test_ui import settle

assert len(HOSTILE) >= 40


def plain_of(renderable: Any) -> str:
    if isinstance(renderable, Text):
        return renderable.plain
    if isinstance(renderable, str):
        return renderable
    console = Console(width=2000, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def assert_literal(shown: str, stored: str) -> None:
    assert no_live_controls(shown), repr(shown)
    for word in visible_words(stored):
        assert word in shown, f"{word!r} of {stored!r} not shown literally in {shown!r}"


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    db = tmp_path / "hostile.db"
    store = open_store(db_url(db))
    store.set_meta("demo", "1")
    # The signed-in user's own name is stored text too.
    ann = add_user(store, "ann", display_name="[bold]Ann[/bold] \x1b[31mLee")
    for i, text in enumerate(HOSTILE):
        cid = add_client(
            store,
            f"G{i:02d}",
            text,
            ann,
            preferred_name=text,
            mrn=f"H{i:03d}",
            phone=text[:40],
            language=text[:30],
            best_time=text[:30],
            program=text[:20],
            pcp_name=text,
            pcp_practice=text,
            pcp_phone=text[:20],
            what_matters=text,
        )
        add_contact(store, cid, days_ago(1), ann, note=text)
    store.close()
    return db


async def test_caseload_shows_every_hostile_string_literally(hostile_db: Path) -> None:
    app = make_app(
        db_url(hostile_db), demo=True, user="ann", settings=Settings(idle_lock_minutes=0)
    )
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        table = app.screen.query_one("#caseload", DataTable)
        await settle(pilot, lambda: table.row_count == len(HOSTILE))
        rows = [[plain_of(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        by_mrn_order = {row[0].split(", G")[-1][:2]: row for row in rows}
        for i, text in enumerate(HOSTILE):
            row = by_mrn_order[f"{i:02d}"]
            assert_literal(row[0], text)  # name
        assert_literal(plain_of(app.screen.sub_title), "[bold]Ann[/bold] \x1b[31mLee")
        screenshot = app.export_screenshot()
        assert "\x1b" not in screenshot  # nothing a terminal would act on reaches the screen


async def test_client_brief_shows_every_hostile_string_literally(hostile_db: Path) -> None:
    app = make_app(
        db_url(hostile_db), demo=True, user="ann", settings=Settings(idle_lock_minutes=0)
    )
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        store = app.store
        with store.read() as s:
            from sqlmodel import select

            from cm_tui.store.models import Client

            ids = {c.mrn: c.id for c in s.exec(select(Client)).all()}
        for i, text in enumerate(HOSTILE):
            app.push_screen(ClientScreen(ids[f"H{i:03d}"]))
            await settle(
                pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief is not None
            )
            screen = app.screen
            identity = plain_of(screen.query_one("#identity", Static).content)
            care = plain_of(screen.query_one("#care", Static).content)
            matters = plain_of(screen.query_one("#what-matters", Static).content)
            detail = plain_of(screen.query_one("#detail", Static).content)
            timeline = screen.query_one("#timeline", DataTable)
            note_cell = plain_of(timeline.get_row_at(0)[-1])
            for shown in (identity, matters, detail, note_cell):
                assert_literal(shown, text)
            assert_literal(care, text)  # PCP name and practice
            assert no_live_controls(plain_of(screen.sub_title))
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))


def teardown_module() -> None:
    freeze_clock(None)
