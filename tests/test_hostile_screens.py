"""The hostile-string corpus through every other screen that shows stored text.

(The caseload and the client brief are in tests/test_hostile.py.) Each test seeds
the strings into the stored fields a screen shows, opens the screen as a user
would, and reads back what its widgets hold: every printable word of every string
is there as typed, no markup took effect and no control character is live.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, OptionList, Static, TextArea

from cm_tui.app import CmTuiApp, make_app
from cm_tui.config import Settings
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.store.db import open_store
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_contact, add_followup, add_user, days_ago
from tests.hostile import HOSTILE, no_live_controls, visible_words
from tests.test_hostile import assert_literal, plain_of
from tests.test_ui import settle

# The strings most likely to break a screen: markup that acts, escapes that act, and
# text that changes layout. Screens that are slow to open take these only.
DANGEROUS = [
    s
    for s in HOSTILE
    if s.startswith(("[bold]", "[link=", "[@click=", "[red", "[/]", "\x1b", "\x9b", "\\["))
    or s in ("[", "]", "line one\nline two", "\u202eevil RTL override", "x" * 300)
]
assert 10 <= len(DANGEROUS) <= 20, len(DANGEROUS)
# Dialogs opened one string at a time: a few of the worst.
FEW = [
    "[bold]Bold[/bold]",
    "[@click=app.quit]Quit[/]",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "line one\nline two",
    "\u202eevil RTL override",
]
assert set(FEW) <= set(HOSTILE)


@pytest.fixture(autouse=True)
def _thaw() -> Any:
    yield
    freeze_clock(None)


# ---------------------------------------------------------------- reading a screen


def _plain(value: Any, *, markup: bool) -> str:
    """What a widget given ``value`` shows: a str is parsed as markup where Textual does."""
    if value is None:
        return ""
    if isinstance(value, Content):
        return value.plain
    if isinstance(value, str):
        return Content.from_markup(value).plain if markup else value
    return plain_of(value)


def widget_texts(widget: Widget) -> Iterable[str]:
    if isinstance(widget, Static):  # Label too
        visual = widget.visual
        yield visual.plain if isinstance(visual, Content) else plain_of(widget.content)
    elif isinstance(widget, Button):
        yield _plain(widget.label, markup=True)
    elif isinstance(widget, DataTable):
        for column in widget.columns.values():
            yield column.label.plain
        for index in range(widget.row_count):
            for cell in widget.get_row_at(index):
                yield Text.from_markup(cell).plain if isinstance(cell, str) else plain_of(cell)
    elif isinstance(widget, OptionList):
        for index in range(widget.option_count):
            yield _plain(widget.get_option_at_index(index).prompt, markup=True)
    elif isinstance(widget, Input):
        yield _plain(widget.placeholder, markup=False)
    if widget.border_title:
        yield _plain(widget._border_title, markup=True)
    if widget.border_subtitle:
        yield _plain(widget._border_subtitle, markup=True)


def screen_text(app: CmTuiApp) -> str:
    """Everything the current screen draws as text (typed input left out), one string."""
    parts = [plain_of(app.screen.sub_title or ""), plain_of(app.screen.title or "")]
    for widget in app.screen.query("*"):
        parts.extend(widget_texts(widget))
    return "\n".join(parts)


def typed_text(app: CmTuiApp) -> str:
    """What the screen's inputs hold (stored text put back into a field to edit)."""
    parts: list[str] = []
    for widget in app.screen.query("*"):
        if isinstance(widget, Input):
            parts.append(widget.value)
        elif isinstance(widget, TextArea):
            parts.append(widget.text)
    return "\n".join(parts)


def notifications(app: CmTuiApp) -> str:
    return "\n".join(
        _plain(n.title, markup=n.markup) + " " + _plain(n.message, markup=n.markup)
        for n in app._notifications
    )


def assert_screen_safe(app: CmTuiApp, strings: Iterable[str], where: str = "") -> None:
    """Every string is on the screen literally; nothing on it (or in a toast) is live."""
    shown = screen_text(app)
    assert no_live_controls(shown), f"{where}: {shown!r}"
    for stored in strings:
        for word in visible_words(stored):
            assert word in shown, f"{where}: {word!r} of {stored!r} not shown literally"
    assert no_live_controls(notifications(app)), notifications(app)
    assert "\x1b" not in app.export_screenshot(), where


# ---------------------------------------------------------------- the world


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A supervisor (sue) over one care manager per hostile string: the care manager's
    display name, a client's names, a follow-up's title and a contact note all hold it."""
    db = tmp_path / "hostile-world.db"
    store = open_store(f"sqlite:///{db}")
    store.set_meta("demo", "1")
    add_user(store, "sue", role="supervisor", display_name="[bold]Sue[/bold] \x1b[31mBoss")
    for i, text in enumerate(HOSTILE):
        cm = add_user(store, f"cm{i:02d}", display_name=text)
        cid = add_client(store, text, f"F{i:02d} {text}", cm, mrn=f"H{i:03d}", phone=text[:40])
        add_contact(store, cid, days_ago(3), cm, note=text)
        add_followup(store, cid, days_ago(1), cm, title=text)
    store.close()
    return db


def world_app(db: Path, user: str = "sue", **settings: Any) -> CmTuiApp:
    settings.setdefault("idle_lock_minutes", 0)
    return make_app(db=str(db), demo=True, user=user, settings=Settings(**settings))


async def start(pilot: Any) -> CmTuiApp:
    app: CmTuiApp = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
    return app


def client_ids(app: CmTuiApp) -> dict[str, int]:
    from sqlmodel import select

    from cm_tui.store.models import Client

    with app.store.read() as s:
        return {c.mrn or "": c.id or 0 for c in s.exec(select(Client)).all()}


def hostile_of(mrn: str) -> str:
    return HOSTILE[int(mrn[1:])]


# ---------------------------------------------------------------- inbound call picker


async def test_inbound_picker_shows_callers_literally(world: Path) -> None:
    from cm_tui.screens.inbound import ClientPicker

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        app.action_log_inbound()
        await settle(pilot, lambda: isinstance(app.screen, ClientPicker))
        picker = app.screen
        assert isinstance(picker, ClientPicker)
        await pilot.press(*"F00")  # typed, as a user would
        await settle(pilot, lambda: len(picker.found) == 1)
        # Then every caller at once (a search shows 12; the drawing is what is tested).
        from cm_tui.store import queries

        assert app.viewer is not None
        with app.store.read() as session:
            found = queries.find_clients(session, app.viewer, "F", limit=100)
        assert len(found) == len(HOSTILE)
        picker._show(found, picker._generation)
        await pilot.pause()
        table = picker.query_one("#picker-results", DataTable)
        for index in range(table.row_count):
            row = [plain_of(c) for c in table.get_row_at(index)]
            text = hostile_of(row[2])
            assert_literal(row[0], text)
        assert_screen_safe(app, HOSTILE, "picker")


# ---------------------------------------------------------------- follow-up queue and its dialogs


async def _queue(pilot: Any) -> Any:
    from cm_tui.screens.followups import FollowUpQueueScreen, open_queue

    app = await start(pilot)
    open_queue(app)  # a supervisor's opens on the team's
    await settle(
        pilot,
        lambda: (
            isinstance(app.screen, FollowUpQueueScreen)
            and app.screen.query_one("#queue", DataTable).row_count == len(HOSTILE)
        ),
    )
    return app.screen


async def test_queue_shows_titles_clients_and_assignees_literally(world: Path) -> None:
    app = world_app(world)
    async with app.run_test(size=(200, 60)) as pilot:
        queue = await _queue(pilot)
        table = queue.query_one("#queue", DataTable)
        rows = ["\n".join(plain_of(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        for text in HOSTILE:
            # the row with this title also names its client and its assignee
            assert any(all(w in row for w in visible_words(text)) for row in rows), (
                f"{text!r} not in any row"
            )
        assert all(no_live_controls(row) for row in rows)
        assert_screen_safe(app, [], "queue")
        # The detail line under the table, for every row.
        for index in range(table.row_count):
            table.move_cursor(row=index, animate=False)
            await pilot.pause()
            row = queue.highlighted()
            assert row is not None
            detail = plain_of(queue.query_one("#queue-detail", Static).visual)
            assert_literal(detail, row.title)
            assert_literal(detail, row.client_name)
        # One person's queue (as the team view drills into it): the name in the header.
        from cm_tui.screens.followups import FollowUpQueueScreen
        from cm_tui.store.followup_queries import QueueScope

        with app.store.read() as s:
            from sqlmodel import select

            from cm_tui.store.models import User

            cm = s.exec(select(User).where(User.username == "cm00")).one()
        app.push_screen(
            FollowUpQueueScreen(QueueScope.person(cm.id or 0), person_name=cm.display_name)
        )
        await settle(pilot, lambda: app.screen.query_one("#queue", DataTable).row_count == 1)
        assert_screen_safe(app, [HOSTILE[0]], "person queue")


async def test_queue_dialogs_show_the_follow_up_literally(world: Path) -> None:
    from cm_tui.screens.followup_modals import CompleteChoice, PersonPicker, SnoozeDialog

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await _queue(pilot)
        table = queue.query_one("#queue", DataTable)
        for index in range(table.row_count):
            table.move_cursor(row=index, animate=False)
            await pilot.pause()
            row = queue.highlighted()
            if row.title not in FEW:
                continue
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, CompleteChoice))
            assert_screen_safe(app, [row.title, row.client_name], "complete")
            await pilot.press("escape")
            await pilot.press("z")
            await settle(pilot, lambda: isinstance(app.screen, SnoozeDialog))
            assert_screen_safe(app, [row.title], "snooze")
            await pilot.press("escape")
            await pilot.press("r")
            await settle(
                pilot,
                lambda: (
                    isinstance(app.screen, PersonPicker)
                    and app.screen.query_one(OptionList).option_count >= len(HOSTILE)
                ),
            )
            others = [h for h in HOSTILE if h != row.assignee_name]  # (theirs is left out)
            assert_screen_safe(app, [row.title, *others], "reassign")  # every other name
            await pilot.press("escape")
            await settle(pilot, lambda: app.screen is queue)


# ---------------------------------------------------------------- team view


async def test_team_view_shows_display_names_literally(world: Path) -> None:
    from cm_tui.screens.team import TeamScreen, open_team

    app = world_app(world)
    async with app.run_test(size=(200, 60)) as pilot:
        await start(pilot)
        open_team(app)
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, TeamScreen)
                and app.screen.query_one(DataTable).row_count >= len(HOSTILE)
            ),
        )
        assert_screen_safe(app, HOSTILE, "team")
        team = app.screen
        table = team.query_one(DataTable)
        for index in range(table.row_count):
            table.move_cursor(row=index, animate=False)
            await pilot.pause()
            trend = plain_of(team.query_one("#trend-title", Static).visual)
            assert no_live_controls(trend), trend
        # Drill into the first person's queue: their name heads it.
        table.move_cursor(row=0, animate=False)
        await pilot.press("enter")
        await settle(pilot, lambda: not isinstance(app.screen, TeamScreen))
        await settle(pilot)
        assert_screen_safe(app, [], "drilled queue")


# ---------------------------------------------------------------- lock


async def test_idle_lock_engages_on_a_faked_clock(world: Path) -> None:
    from cm_tui.screens.login import LockScreen

    app = world_app(world, idle_lock_minutes=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await start(pilot)
        idle = 10 * 60
        app._last_activity = time.monotonic() - (idle - 30)  # 9.5 minutes without a key
        app._check_idle()
        await pilot.pause()
        assert not app.locked and isinstance(app.screen, CaseloadScreen)
        await pilot.press("down")  # a key counts as activity: the clock starts again
        assert time.monotonic() - app._last_activity < 5
        app._check_idle()
        assert not app.locked
        app._last_activity = time.monotonic() - idle  # ten minutes since the last key
        app._check_idle()
        await pilot.pause()
        assert app.locked and isinstance(app.screen, LockScreen)
        app._check_idle()  # already locked: not locked twice
        await pilot.pause()
        assert sum(isinstance(s, LockScreen) for s in app.screen_stack) == 1


async def test_lock_hides_every_piece_of_phi_and_keeps_the_typed_note(tmp_path: Path) -> None:
    from cm_tui.screens.contact_form import ContactForm, open_contact_form
    from cm_tui.screens.login import LockScreen

    db = tmp_path / "lock.db"
    store = open_store(f"sqlite:///{db}")
    store.set_meta("demo", "1")
    sue = add_user(store, "sue", role="supervisor", display_name="Sue Boss", password="sue-pass-1")
    cid = add_client(
        store,
        "Zebediah",
        "Quarrington",
        sue,
        mrn="MRN77331",
        phone="555-0199",
        what_matters="Orchids",
    )
    add_followup(store, cid, days_ago(1), sue, title="Pharmacology review")
    add_contact(store, cid, days_ago(2), sue, note="Spoke with daughter")
    store.close()
    phi = ["Zebediah", "Quarrington", "MRN77331", "555-0199", "Pharmacology", "Kumquat"]

    app = make_app(db=str(db), demo=True, user="sue", settings=Settings(idle_lock_minutes=10))
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await start(pilot)
        assert "Quarrington" in app.export_screenshot()  # the caseload shows the client
        open_contact_form(app.screen, cid)
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        await pilot.press(*"Kumquat allergy")
        await settle(pilot)
        app.notify("Logged for Kumquat Pharmacology", timeout=30)  # a toast quoting PHI
        await settle(pilot)
        assert "Pharmacology" in app.export_screenshot()
        app._last_activity = time.monotonic() - 10 * 60
        app._check_idle()
        await settle(pilot, lambda: isinstance(app.screen, LockScreen))
        shot = app.export_screenshot()
        for word in phi:
            assert word not in shot, f"{word!r} is on the lock screen"
        assert "Sue" in shot  # whose session it is
        await pilot.press(*"sue-pass-1", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm), tries=100)
        note = app.screen.query_one("#note", TextArea)
        assert note.text == "Kumquat allergy"
        assert "Zebediah" in app.export_screenshot()
