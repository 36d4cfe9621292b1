"""What each screen looks like (pytest-textual-snapshot; update with --snapshot-update)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cm_tui.app import make_app
from cm_tui.config import Settings
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.store.db import open_store
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.factories import add_user
from tests.snapshot_app import NOW, build_app
from tests.test_ui import settle


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _caseload_ready(pilot: Any) -> bool:
    screen = pilot.app.screen
    return (
        isinstance(screen, CaseloadScreen)
        and screen.query_one("#caseload").row_count == 7
        and bool(screen.query("#sort"))  # the filter menus mount just after the first frame
    )


async def _on_caseload(pilot: Any) -> None:
    await settle(pilot, lambda: _caseload_ready(pilot))


async def _on_client(pilot: Any) -> None:
    await _on_caseload(pilot)
    await pilot.press("enter")
    await settle(
        pilot,
        lambda: isinstance(pilot.app.screen, ClientScreen) and pilot.app.screen.brief is not None,
    )


def test_caseload_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(80, 24), run_before=_on_caseload
    )


def test_caseload_160x50(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(160, 50), run_before=_on_caseload
    )


def test_client_brief_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(build_app(tmp_path / "d.db"), terminal_size=(80, 24), run_before=_on_client)


def test_client_brief_160x50(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(160, 50), run_before=_on_client
    )


def test_help(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await _on_caseload(pilot)
        await pilot.press("question_mark")

    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(100, 30), run_before=run_before
    )


def test_lock(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await _on_caseload(pilot)
        await pilot.press("ctrl+l")

    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(100, 30), run_before=run_before
    )


def test_login(snap_compare: Any, tmp_path: Path) -> None:
    store = open_store(db_url(tmp_path / "real.db"))
    add_user(store, "ann")
    store.close()
    app = make_app(db_url(tmp_path / "real.db"), settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    assert snap_compare(app, terminal_size=(100, 30), press=[*"ann"])


def test_first_admin(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(db_url(tmp_path / "new.db"), settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    assert snap_compare(app, terminal_size=(100, 30))


def test_seeding_progress(snap_compare: Any, tmp_path: Path) -> None:
    from cm_tui.screens.seeding import SeedingScreen

    app = make_app(db_url(tmp_path / "new.db"), settings=Settings(idle_lock_minutes=0))
    app.show_clock = False

    async def run_before(pilot: Any) -> None:
        screen = SeedingScreen(300, start=False)
        await pilot.app.push_screen(screen)
        screen._progress("contacts", 1200, 3000)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


# ---------------------------------------------------------------- contact log


async def _typed_contact(pilot: Any) -> None:
    from cm_tui.screens.contact_form import ContactForm

    await _on_caseload(pilot)
    await pilot.press("l")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ContactForm))
    await pilot.press(*"Spoke with pt. BP log 130s/80s. [bold]not bold[/bold]", "enter")
    await pilot.press(*"Refill due Fri.", "tab", "1", "0", "tab", *"+2w")
    await settle(pilot, lambda: "Wed 9 Dec" in str(pilot.app.screen.query_one("#due-echo").content))


def test_contact_form_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(80, 24), run_before=_typed_contact
    )


def test_contact_form_160x50(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(160, 50), run_before=_typed_contact
    )


def test_contact_form_inbound_with_callback(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        from cm_tui.screens.contact_form import ContactForm

        await _on_caseload(pilot)
        pilot.app.action_log_inbound()
        await pilot.pause()
        await pilot.press(*"MRN1002")
        await settle(pilot, lambda: len(getattr(pilot.app.screen, "found", [])) == 1)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(pilot.app.screen, ContactForm))
        await pilot.press(*"Pharmacy says refill ready", *["tab"] * 8, "y", "tab", "tab")
        await pilot.pause()

    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(100, 30), run_before=run_before
    )


def test_contact_form_invalid_due(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        from cm_tui.screens.contact_form import ContactForm

        await _on_caseload(pilot)
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(pilot.app.screen, ContactForm))
        await pilot.press(*"LVM", "tab", "tab", *"next blursday", "ctrl+s")
        await pilot.pause()

    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(100, 30), run_before=run_before
    )


def test_discard_question(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await _typed_contact(pilot)
        await pilot.press("escape")
        await pilot.pause()

    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(100, 30), run_before=run_before
    )


def test_addendum_form(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        from cm_tui.screens.addendum import AddendumForm

        await _on_client(pilot)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(pilot.app.screen, AddendumForm))
        await pilot.press(*"Correction: refill is due Thursday.")

    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(100, 30), run_before=run_before
    )


async def _editing_client(pilot: Any) -> None:
    """`e` on the first client's brief, and "text" chosen for how they prefer contact."""
    from cm_tui.screens.client_form import ClientForm

    await _on_client(pilot)
    await pilot.press("e")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ClientForm))
    # From the phone (focused first): alt phone, email, address, then the choice.
    await pilot.press("tab", "tab", "tab", "tab", "t")
    await settle(pilot)


def test_client_form_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        build_app(tmp_path / "d.db"), terminal_size=(80, 24), run_before=_editing_client
    )
