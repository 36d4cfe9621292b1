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
from cm_tui.widgets.choice import ChoiceBar
from tests.engine import db_url
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
    elif isinstance(widget, ChoiceBar):
        yield widget.render().plain
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
    store = open_store(db_url(db))
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
    return make_app(db_url(db), demo=True, user=user, settings=Settings(**settings))


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
    from cm_tui.screens.contact_form import ContactForm
    from cm_tui.screens.followup_modals import (
        CompleteChoice,
        FollowUpForm,
        PersonPicker,
        SnoozeDialog,
    )
    from cm_tui.services import followups as fs

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await _queue(pilot)
        table = queue.query_one("#queue", DataTable)
        for index in range(table.row_count):
            table.move_cursor(row=index, animate=False)
            await pilot.pause()
            row = queue.highlighted()
            if row.title not in FEW[:4]:  # (each opens five dialogs: the worst few)
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
            await pilot.press("e")  # edit: the stored title is put back in the field
            await settle(pilot, lambda: isinstance(app.screen, FollowUpForm))
            assert app.screen.query_one("#fu-title", Input).value == row.title[: fs.TITLE_MAX]
            assert_screen_safe(app, [row.client_name], "edit")
            app.screen.dismiss(None)
            await settle(pilot, lambda: app.screen is queue)
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, CompleteChoice))
            await pilot.press("l")  # log the contact that completes it
            await settle(pilot, lambda: isinstance(app.screen, ContactForm))
            assert_screen_safe(app, [row.title, row.client_name], "completing form")
            app.screen.dismiss(None)
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
        assert_screen_safe(app, ["[bold]Sue[/bold] \x1b[31mBoss"], "lock")  # whose session
        app._check_idle()  # already locked: not locked twice
        await pilot.pause()
        assert sum(isinstance(s, LockScreen) for s in app.screen_stack) == 1


async def test_lock_hides_every_piece_of_phi_and_keeps_the_typed_note(tmp_path: Path) -> None:
    from cm_tui.screens.contact_form import ContactForm, open_contact_form
    from cm_tui.screens.login import LockScreen

    db = tmp_path / "lock.db"
    store = open_store(db_url(db))
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

    app = make_app(db_url(db), demo=True, user="sue", settings=Settings(idle_lock_minutes=10))
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
        app.notify("Logged for Kumquat Pharmacology")  # (a worker finishing while locked)
        await settle(pilot)
        assert "Pharmacology" not in app.export_screenshot()
        await pilot.press(*"sue-pass-1", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm), tries=100)
        note = app.screen.query_one("#note", TextArea)
        assert note.text == "Kumquat allergy"
        assert "Zebediah" in app.export_screenshot()


# ---------------------------------------------------------------- command palette


async def test_palette_hits_show_names_literally(world: Path) -> None:
    from textual.command import CommandPalette, Hit

    from cm_tui.commands import ClientCommands
    from cm_tui.contact_commands import ContactCommands

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        for provider_class in (ClientCommands, ContactCommands):
            provider = provider_class(app.screen)
            for i, text in enumerate(HOSTILE):
                hits = [hit async for hit in provider.search(f"H{i:03d}")]
                assert hits, text
                for hit in hits:
                    assert isinstance(hit, Hit)
                    for shown in (plain_of(hit.match_display), hit.text or ""):
                        assert_literal(shown, text)
                    assert no_live_controls(_plain(hit.help, markup=True))
        # The palette itself, as drawn.
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"H013")  # "\x1b[31mred\x1b[0m"
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        assert "\x1b" not in app.export_screenshot()
        options = app.screen.query_one(OptionList)
        assert options.option_count >= 1
        for index in range(options.option_count):
            assert no_live_controls(_plain(options.get_option_at_index(index).prompt, markup=True))


# ---------------------------------------------------------------- contact form and addendum


async def test_contact_form_shows_client_and_restored_draft_literally(world: Path) -> None:
    from cm_tui.screens.contact_form import ContactForm, open_contact_form
    from cm_tui.services import drafts

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        ids = client_ids(app)
        assert app.viewer is not None
        for i, text in enumerate(HOSTILE):
            if text not in DANGEROUS:
                continue
            cid = ids[f"H{i:03d}"]
            payload = {"note": text, "about": text, "due": "tomorrow", "minutes": "5"}
            drafts.save_draft(app.store, app.viewer.id, drafts.CONTACT, str(cid), payload)
            open_contact_form(app.screen, cid, direction="inbound")
            await settle(pilot, lambda: isinstance(app.screen, ContactForm))
            form = app.screen
            title = plain_of(form.query_one("#form-title", Static).visual)
            assert_literal(title, text)
            assert_screen_safe(app, [text, f"F{i:02d} {text}"], f"contact form {i}")
            assert form.query_one("#note", TextArea).text == text  # restored as typed
            assert form.query_one("#about", Input).value == text
            assert "Restored" in plain_of(form.query_one("#restored", Static).visual)
            form.dismiss(None)  # (the draft stays; escape would ask to discard it)
            await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))


async def test_addendum_form_shows_the_contact_literally(world: Path) -> None:
    from cm_tui.screens.addendum import AddendumForm
    from cm_tui.screens.client import ClientScreen
    from cm_tui.services import contacts, drafts

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        ids = client_ids(app)
        assert app.viewer is not None
        for i, text in enumerate(HOSTILE):
            if text not in FEW:
                continue
            cid = ids[f"H{i:03d}"]
            app.push_screen(ClientScreen(cid))
            await settle(
                pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief is not None
            )
            client = app.screen
            assert isinstance(client, ClientScreen)
            contact_id = client._entries[0].contact.id
            assert contact_id is not None
            if "\x00" not in text:
                contacts.add_addendum(app.store, app.viewer, contact_id, text)
            drafts.save_draft(
                app.store, app.viewer.id, drafts.ADDENDUM, str(contact_id), {"text": text}
            )
            client.action_addendum()
            await settle(pilot, lambda: isinstance(app.screen, AddendumForm))
            assert_screen_safe(app, [text], f"addendum {i}")
            app.screen.dismiss(None)
            await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))


async def test_help_over_a_hostile_screen(world: Path) -> None:
    from cm_tui.screens.client import ClientScreen
    from cm_tui.screens.help import HelpScreen

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        app.push_screen(ClientScreen(client_ids(app)["H000"]))
        await settle(
            pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief is not None
        )
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert_screen_safe(app, [], "help")


# ---------------------------------------------------------------- screening with a custom script


def toml_str(value: str) -> str:
    """A TOML basic string holding ``value`` exactly."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


SCRIPT_STRINGS = [s for s in DANGEROUS if "\x00" not in s]


def hostile_script() -> str:
    s = SCRIPT_STRINGS
    lines = [
        'id = "hostile"',
        'version = "1"',
        f"title = {toml_str('Hostile ' + s[0])}",
        'language = "en"',
        f"intro = {toml_str(s[1] + ' ' + s[2])}",
    ]
    for k, text in enumerate(s):
        other = s[(k + 1) % len(s)]
        lines += [
            "",
            "[[items]]",
            f'id = "q{k}"',
            'domain = "other"',
            'kind = "single"',
            f"preamble = {toml_str(other)}",
            f"text = {toml_str(text)}",
            "options = [",
            f'  {{ id = "a", label = {toml_str(text)} }},',
            f'  {{ id = "b", label = {toml_str(other)} }},',
            "]",
        ]
    for k, text in enumerate(s[:4]):
        lines += [
            "",
            "[[flags]]",
            f'id = "f{k}"',
            f'any_of = {{ q{k} = ["a"] }}',
            "",
            "[[proposals]]",
            f'flag = "f{k}"',
            'need = "mental_health"',
            f"title = {toml_str(text)}",
            'kind = "call"',
            "due_days = 0",
        ]
    return "\n".join(lines) + "\n"


async def test_screening_shows_a_hostile_custom_script_literally(
    world: Path, tmp_path: Path
) -> None:
    from cm_tui.screening.loader import load_any
    from cm_tui.screens.screening import ScreeningScreen, start_screening
    from cm_tui.screens.screening_modals import EditFollowUpModal

    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "hostile.toml").write_text(hostile_script(), encoding="utf-8")
    assert load_any("hostile", folder).title == "Hostile " + SCRIPT_STRINGS[0]
    protocol = "[bold red]Call 988[/] \x1b[5m now\x1b]8;;http://evil.example\x1b\\"
    app = world_app(world, scripts_dir=str(folder), flag_protocol=protocol)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        cid = client_ids(app)["H000"]  # "[bold]Bold[/bold]"
        start_screening(app, cid)
        await settle(
            pilot, lambda: isinstance(app.screen, ScreeningScreen) and app.screen.phase == "choose"
        )
        s = app.screen
        assert isinstance(s, ScreeningScreen)
        assert_screen_safe(app, ["Hostile " + SCRIPT_STRINGS[0], HOSTILE[0]], "choose")
        app.pop_screen()
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        start_screening(app, cid, "hostile")
        await settle(
            pilot, lambda: isinstance(app.screen, ScreeningScreen) and app.screen.phase == "optout"
        )
        s = app.screen
        assert isinstance(s, ScreeningScreen)
        assert_screen_safe(app, [SCRIPT_STRINGS[1], SCRIPT_STRINGS[2], HOSTILE[0]], "optout")
        await pilot.press("a")
        for k, text in enumerate(SCRIPT_STRINGS):
            await settle(pilot, lambda k=k: s.phase == "question" and s.current == f"q{k}")
            other = SCRIPT_STRINGS[(k + 1) % len(SCRIPT_STRINGS)]
            assert_screen_safe(app, [text, other], f"question {k}")
            await pilot.press("1")
        await settle(pilot, lambda: s.phase == "summary")
        await settle(pilot)
        assert_screen_safe(app, [*SCRIPT_STRINGS[:4], protocol], "summary")
        await pilot.press("e")
        await settle(pilot, lambda: isinstance(app.screen, EditFollowUpModal))
        assert_screen_safe(app, [], "edit proposal")
        assert no_live_controls(typed_text(app))


# ---------------------------------------------------------------- import preview, dry run; report


async def test_import_preview_and_problems_show_the_file_literally(
    world: Path, tmp_path: Path
) -> None:
    import csv

    from cm_tui.screens.import_clients import ImportClientsScreen

    extra = [s for s in FEW if "\n" not in s]
    path = tmp_path / "panel.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["mrn", "given_name", "family_name", "dob", *extra])
        for k, text in enumerate(SCRIPT_STRINGS):
            out.writerow([f"I{k:03d}", text, text, text, *([text] * len(extra))])
        out.writerow([SCRIPT_STRINGS[0], "A", "B", "1950-01-01", *([""] * len(extra))])
        out.writerow([SCRIPT_STRINGS[0], "A", "B", "1950-01-01", *([""] * len(extra))])
    app = world_app(world)
    async with app.run_test(size=(200, 60)) as pilot:
        await start(pilot)
        app.push_screen(ImportClientsScreen(str(path)))
        await settle(
            pilot,
            lambda: isinstance(app.screen, ImportClientsScreen) and app.screen.preview is not None,
        )
        screen = app.screen
        assert isinstance(screen, ImportClientsScreen)
        shown_rows = screen.query_one("#import-rows", DataTable).row_count
        assert_screen_safe(app, [*extra, *SCRIPT_STRINGS[: shown_rows - 1]], "import preview")
        for header in extra:  # each unmapped header, named in the message
            assert_literal(plain_of(screen.query_one("#import-result", Static).visual), header)
        from textual.widgets import Select

        from cm_tui.screens.import_clients import SKIP

        for index in range(len(extra)):  # skip the extra columns
            screen.query_one(f"#map-{4 + index}", Select).value = SKIP
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot, lambda: screen.query_one("#import-errors", DataTable).display)
        errors = screen.query_one("#import-errors", DataTable)
        assert errors.row_count > 0
        assert_screen_safe(app, [], "import problems")
        assert no_live_controls(notifications(app))


async def test_report_shows_names_literally(world: Path) -> None:
    from cm_tui.screens.report import ReportScreen, open_report

    app = world_app(world)
    async with app.run_test(size=(160, 50)) as pilot:
        await start(pilot)
        open_report(app)
        await settle(
            pilot,
            lambda: isinstance(app.screen, ReportScreen) and app.screen.report is not None,
            tries=200,
        )
        assert_screen_safe(app, ["[bold]Sue[/bold] \x1b[31mBoss"], "report")


async def test_client_brief_shows_follow_up_titles_and_staff_literally(world: Path) -> None:
    """(tests/test_hostile.py covers the client's own fields; here their follow-ups and
    the names of the staff who own them and wrote the notes.)"""
    from cm_tui.screens.client import ClientScreen

    app = world_app(world)
    async with app.run_test(size=(200, 60)) as pilot:
        await start(pilot)
        ids = client_ids(app)
        for i, text in enumerate(HOSTILE):
            if text not in DANGEROUS:
                continue
            app.push_screen(ClientScreen(ids[f"H{i:03d}"]))
            await settle(
                pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief is not None
            )
            followups = app.screen.query_one("#followups", DataTable)
            assert followups.row_count == 1
            assert_literal("\n".join(plain_of(c) for c in followups.get_row_at(0)), text)
            assert_screen_safe(app, [text], f"brief {i}")
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
