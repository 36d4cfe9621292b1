"""The app as a user drives it (Textual Pilot)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Select, Static, Tabs
from textual.worker import WorkerCancelled

from cm_tui.app import CmTuiApp, make_app
from cm_tui.config import Settings
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.screens.help import HelpScreen
from cm_tui.screens.login import FirstAdminScreen, LockScreen, LoginScreen
from cm_tui.store.db import StoreError, open_store
from cm_tui.store.models import AuditEvent
from cm_tui.store.types import freeze_clock
from cm_tui.widgets.list_table import window_rows
from tests.engine import db_url
from tests.factories import add_client, add_user
from tests.snapshot_app import build_app, build_store

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _thaw() -> Any:
    yield
    freeze_clock(None)


async def settle(pilot: Any, until: Any = None, tries: int = 50) -> None:
    """Let workers finish (they run in threads)."""
    for _ in range(tries):
        await pilot.pause(0.05)
        with contextlib.suppress(WorkerCancelled):  # superseded loads are cancelled on purpose
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if until is None or until():
            # Let animations end (a tab's underline slides) so what is drawn is final.
            await pilot.wait_for_scheduled_animations()
            await _underlines_to_final_place(pilot)
            return
    raise AssertionError("the app did not reach the expected state")


def first_frame_of(app: Any, screen_type: type, take: Any) -> list[Any]:
    """Filled with ``take(screen, workers)`` at the first frame drawn of a
    ``screen_type`` screen (``workers``: the screen's, started so far): what a user
    saw first, before anything caught up. A refresh that hands the terminal nothing
    (Pilot's pause refreshes the top screen even before it is mounted) is no frame."""
    seen: list[Any] = []
    display = app._display

    def _display(screen: Any, renderable: Any) -> None:
        if isinstance(screen, screen_type) and renderable is not None and not seen:
            seen.append(take(screen, [w for w in app.workers if w.node is screen]))
        display(screen, renderable)

    app._display = _display
    return seen


def count_restyles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on (until ``monkeypatch.undo()``), how many nodes each restyle of
    Textual's stylesheet touches, one entry a restyle."""
    from textual.css.stylesheet import Stylesheet

    restyled: list[int] = []
    update_nodes = Stylesheet.update_nodes

    def counting(self: Any, nodes: Any, animate: bool = False) -> None:
        nodes = list(nodes)
        restyled.append(len(nodes))
        update_nodes(self, nodes, animate=animate)

    monkeypatch.setattr(Stylesheet, "update_nodes", counting)
    return restyled


async def _underlines_to_final_place(pilot: Any) -> None:
    """Put every tab strip's underline under its active tab as laid out now.

    A tab relabelled with its count ("Overdue" -> "Overdue 2") has its underline
    measured in a callback after the next refresh; a screenshot taken before that
    callback shows the old width. Asking the strip to re-measure once everything
    has settled, and letting two refreshes pass, makes what is drawn final.
    """
    strips = list(pilot.app.screen.query(Tabs))
    for tabs in strips:
        tabs._highlight_active(animate=False)
    if strips:
        await pilot.pause()
        await pilot.pause()


def shown(widget: Static) -> str:
    """The plain text a Static shows (what a user reads)."""
    import io

    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=300, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(content)
    return capture.get()


def table_names(app: CmTuiApp) -> list[str]:
    table = app.screen.query_one("#caseload", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def plain_app(path: Path) -> CmTuiApp:
    return make_app(db_url(path), settings=Settings(idle_lock_minutes=0))


# ---------------------------------------------------------------- sign-in


async def test_login_refuses_a_wrong_password_then_signs_in(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    store = open_store(db_url(db))
    add_user(store, "ann", password="right-password")
    add_client(store, "Ana", "Zapata", None)
    store.close()
    app = plain_app(db)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"ann", "enter", *"wrong-password", "enter")
        await settle(pilot, lambda: "Wrong" in shown(app.screen.query_one("#error", Static)))
        assert app.viewer is None
        assert app.screen.query_one("#password", Input).value == ""
        await pilot.press(*"right-password", "enter")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
        assert app.viewer is not None and app.viewer.username == "ann"
        assert app.focused is app.screen.query_one("#caseload", DataTable)
    store = open_store(db_url(db))
    with store.read() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    store.close()
    assert actions[-2:] == ["login_failed", "login"]


async def test_empty_database_offers_the_first_admin(tmp_path: Path) -> None:
    app = plain_app(tmp_path / "new.db")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, FirstAdminScreen)
        await pilot.press(*"boss", "enter", *"Pat Boss", "enter", *"short", "enter", *"short")
        await pilot.press("enter")
        await settle(pilot)
        assert "at least" in shown(app.screen.query_one("#error", Static))
        for field, value in (("#password", "long-enough-1"), ("#confirm", "long-enough-1")):
            app.screen.query_one(field, Input).value = value
        app.screen.query_one("#confirm", Input).focus()
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
        assert app.viewer is not None and app.viewer.role == "admin"


# ---------------------------------------------------------------- caseload


async def test_caseload_search_filter_sort_and_open(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: len(table_names(app)) == 7)
        assert table_names(app)[0] == "Alvarez, Rosa (Rosie)"
        assert "Haddad, Hassan" not in table_names(app)  # Bob's client
        # Rich markup and escape codes in names are shown as text.
        assert "Escape␛[31m, [bold]Evil[/bold]" in table_names(app)

        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#search", Input)
        await pilot.press(*"ch")
        await settle(pilot, lambda: table_names(app) == ["Chen, Mei"])
        summary = shown(app.screen.query_one("#summary", Static))
        assert "1 of 1" in summary
        await pilot.press("escape")
        assert app.focused is app.screen.query_one("#caseload", DataTable)
        await pilot.press("slash", "end", "backspace", "backspace")
        await pilot.press("enter")
        await settle(pilot, lambda: len(table_names(app)) == 7)

        app.screen.query_one("#risk", Select).value = "high"
        await settle(pilot, lambda: len(table_names(app)) == 3)
        assert set(table_names(app)) == {"Alvarez, Rosa (Rosie)", "Chen, Mei", "Garcia, Gloria"}
        app.screen.query_one("#risk", Select).value = Select.NULL
        app.screen.query_one("#reached", Select).value = 30
        await settle(pilot, lambda: "Brooks, Walter" in table_names(app))
        assert "Alvarez, Rosa (Rosie)" not in table_names(app)  # reached 2 days ago
        app.screen.query_one("#reached", Select).value = Select.NULL
        await settle(pilot, lambda: len(table_names(app)) == 7)

        await pilot.press("o")  # sort by risk
        await settle(pilot, lambda: table_names(app)[0] == "Alvarez, Rosa (Rosie)")
        await pilot.press("o")  # by last contact, longest ago (or never) first
        await settle(pilot, lambda: table_names(app)[-1] == "Alvarez, Rosa (Rosie)")
        await pilot.press("o", "o")  # back to name
        await settle(pilot, lambda: table_names(app)[0] == "Alvarez, Rosa (Rosie)")
        # The cursor stayed on the client found by the search through every reload.
        table = app.screen.query_one("#caseload", DataTable)
        assert str(table.get_row_at(table.cursor_row)[0]) == "Chen, Mei"

        await pilot.press("home", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: app.screen.brief is not None)
        assert app.screen.brief.client.family_name == "Alvarez"
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))


@pytest.mark.sqlite_only  # on SQLite a caseload search reads on the spot (issue 8)
async def test_a_letter_typed_and_the_rows_it_finds_come_in_one_frame(tmp_path: Path) -> None:
    """The search box tells the caseload of each change as it happens: the frame that
    shows the letter shows its rows, not the old rows (and a later frame the new)."""
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: len(table_names(app)) == 7)
        await pilot.press("slash")
        await settle(pilot)
        frames: list[tuple[str, list[str]]] = []
        display = app._display

        def _display(screen: Any, renderable: Any) -> None:
            if renderable is not None and isinstance(screen, CaseloadScreen):
                frames.append((screen.query_one("#search", Input).value, table_names(app)))
            display(screen, renderable)

        app._display = _display  # type: ignore[method-assign]
        for typed, found in (("c", ["Chen, Mei"]), ("ch", ["Chen, Mei"])):
            frames.clear()
            await pilot.press(typed[-1])
            await settle(pilot, lambda typed=typed: typed in [v for v, _ in frames])
            first = next(rows for value, rows in frames if value == typed)
            assert set(found) <= set(first) and len(first) < 7, (typed, frames)


async def test_caseload_is_windowed(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    store = build_store(db)
    ann = add_user(store, "many", display_name="Many Clients")
    with store.write() as s:
        from cm_tui.store.models import Client

        s.add_all(
            Client(given_name=f"G{i}", family_name=f"F{i:04d}", care_manager_id=ann.id)
            for i in range(450)
        )
    store.close()
    app = make_app(db_url(db), demo=True, user="many", settings=Settings(idle_lock_minutes=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        # A window: a screenful and the prefetch margin (65 rows at this size).
        window = window_rows(SIZE[1])
        assert window == 65
        await settle(pilot, lambda: len(table_names(app)) == window)
        assert f"{window} of 450" in shown(app.screen.query_one("#summary", Static))
        await pilot.press("end")
        await settle(pilot, lambda: len(table_names(app)) == 2 * window)
        assert len(table_names(app)) < 450
        names = table_names(app)
        assert names == sorted(names) and len(set(names)) == len(names)


async def test_followup_queue_is_windowed(tmp_path: Path) -> None:
    """The queue reads a window as the caseload does (a screenful and the prefetch
    margin: the fewer rows, the sooner its first frame), and the next at the end."""
    from datetime import timedelta

    from cm_tui.screens.followups import FollowUpQueueScreen
    from cm_tui.store.models import Client, FollowUp
    from cm_tui.store.types import utcnow

    db = tmp_path / "big.db"
    store = build_store(db)
    ann = add_user(store, "many", display_name="Many Follow-ups")
    with store.write() as s:
        client = Client(given_name="G", family_name="F", care_manager_id=ann.id)
        s.add(client)
        s.flush()
        now = utcnow()
        s.add_all(
            FollowUp(
                client_id=client.id,
                assignee_id=ann.id,
                title=f"Call {i:03d}",
                due_at=now - timedelta(days=1, minutes=i),
            )
            for i in range(200)
        )
    store.close()
    app = make_app(db_url(db), demo=True, user="many", settings=Settings(idle_lock_minutes=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await pilot.press("f")
        await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen))
        queue = app.screen
        assert isinstance(queue, FollowUpQueueScreen) and queue.tab == "overdue"
        window = window_rows(SIZE[1])
        await settle(pilot, lambda: len(queue.rows) == window)
        assert f"{window} of 200 overdue" in shown(queue.query_one("#queue-summary", Static))
        await pilot.press("end")
        await settle(pilot, lambda: len(queue.rows) == 2 * window)
        ids = [r.id for r in queue.rows]
        assert len(set(ids)) == len(ids)


async def test_the_program_menu_lists_the_programmes_in_use(tmp_path: Path) -> None:
    """Read for the menu once the rows are painted (on SQLite without a worker)."""
    from cm_tui.store.models import Client

    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: bool(app.screen.query("#program")))
        menu = app.screen.query_one("#program", Select)
        await settle(pilot, lambda: len(menu._options) > 1)
        offered = [str(value) for _, value in menu._options if value is not Select.NULL]
    store = open_store(db_url(tmp_path / "demo.db"))
    with store.read() as s:
        in_use = sorted({p for p in s.exec(select(Client.program)).all() if p})
    store.close()
    assert offered == in_use and in_use


# ---------------------------------------------------------------- client brief


async def test_client_brief_shows_the_pre_call_facts_literally(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: len(table_names(app)) == 7)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: app.screen.brief is not None)
        screen = app.screen
        identity = shown(screen.query_one("#identity", Static))
        assert "Alvarez, Rosa" in identity and "MRN1000" in identity and "Spanish" in identity
        assert "(555) 010-2000" in identity and "phone" in identity and "after 3pm" in identity
        care = shown(screen.query_one("#care", Static))
        assert "Dr. Priya Natarajan" in care and "Riverside Family Medicine" in care
        assert "keep my garden" in shown(screen.query_one("#what-matters", Static))
        assert screen.query_one("#followups", DataTable).row_count == 2
        needs = shown(screen.query_one("#needs", Static))
        assert "food" in needs and "transportation" in needs
        timeline = screen.query_one("#timeline", DataTable)
        assert timeline.row_count == 15
        detail = shown(screen.query_one("#detail", Static))
        assert "Correction: refill is due Thursday." in detail  # the addendum
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))

        # A client whose stored text is markup and escape codes.
        await pilot.press("slash", *"evil", "enter")
        await settle(pilot, lambda: len(table_names(app)) == 1)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: app.screen.brief is not None)
        wm = shown(app.screen.query_one("#what-matters", Static))
        assert "[link=http://x]click[/link]" in wm and "␛[2J" in wm
    store = open_store(db_url(tmp_path / "demo.db"))
    with store.read() as s:
        views = s.exec(select(AuditEvent).where(AuditEvent.action == "view")).all()
    store.close()
    assert len(views) == 2 and all(v.entity == "client" for v in views)


async def test_the_brief_opens_with_the_record_in_its_first_frame(tmp_path: Path) -> None:
    """The record is read (and its view audited) before the screen is pushed (issue 8):
    the brief is never painted empty, and reads nothing again as it opens."""
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: len(table_names(app)) == 7)
        first_frame = first_frame_of(app, ClientScreen, lambda s, workers: (s.brief, workers))
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        ((brief, workers),) = first_frame
        assert brief is not None and brief.client.family_name == "Alvarez"
        assert not workers  # it read nothing again as it opened
        assert "Loading" not in shown(app.screen.query_one("#identity", Static))


async def test_opening_a_record_that_is_slow_refused_or_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from cm_tui.screens import client as client_screen
    from cm_tui.screens.base import SLOW_OPEN_S

    release = threading.Event()
    answer: list[Any] = []
    real = client_screen.read_brief

    def read_brief(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return answer[0] if answer else real(*args, **kwargs)

    monkeypatch.setattr(client_screen, "read_brief", read_brief)
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: len(table_names(app)) == 7)

        # Slow: the user is told, and the brief follows when the read is done.
        await pilot.press("enter")
        await pilot.pause(SLOW_OPEN_S + 0.3)
        assert isinstance(app.screen, CaseloadScreen)
        assert any("Opening the record" in str(n.message) for n in app._notifications)
        release.set()
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief)
        # The notice went with the wait: on the opened record it would be stale.
        assert not any("Opening" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))

        # Left: the user opened help meanwhile; the brief does not jump over it.
        release.clear()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert not any(isinstance(s, ClientScreen) for s in app.screen_stack)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))

        # Refused: a notice, and the caseload stays.
        answer.append("You do not have access to this client's record.")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        assert any("do not have access" in str(n.message) for n in app._notifications)


# ---------------------------------------------------------------- help, lock, palette


async def test_help_lists_the_keys_of_the_screen(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = [" ".join(str(c) for c in row) for row in app.screen.rows]
        text = "\n".join(rows)
        for expected in ("Search", "Sort", "Caseload", "Lock", "Quit", "Command palette"):
            assert expected in text
        await pilot.press("escape")
        assert isinstance(app.screen, CaseloadScreen)


async def test_lock_hides_everything_until_the_password(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: len(table_names(app)) == 7)
        await pilot.press("slash", *"unsaved")
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, LockScreen)
        # Nothing of the caseload is on screen while locked.
        assert not app.screen.query(DataTable)
        await pilot.press("c")  # global keys do nothing while locked
        await pilot.press("backspace", *"wrong-password", "enter")
        await settle(pilot, lambda: "Wrong" in shown(app.screen.query_one("#error", Static)))
        assert isinstance(app.screen, LockScreen)
        await pilot.press(*"ann-password", "enter")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
        assert app.screen.query_one("#search", Input).value == "unsaved"


async def test_idle_lock(tmp_path: Path) -> None:
    build_store(tmp_path / "demo.db").close()
    app = make_app(
        db_url(tmp_path / "demo.db"),
        demo=True,
        user="ann",
        settings=Settings(idle_lock_minutes=0.01),
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, LockScreen), tries=100)


async def test_palette_finds_any_client(tmp_path: Path) -> None:
    from cm_tui.commands import ClientCommands

    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        provider = ClientCommands(app.screen)
        hits = [hit async for hit in provider.search("haddad")]
        assert len(hits) == 1 and "Haddad, Hassan" in str(hits[0].match_display)
        hits[0].command()
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: app.screen.brief is not None)
        assert app.screen.brief.client.given_name == "Hassan"


# ---------------------------------------------------------------- demo mode


async def test_demo_builds_an_organisation_and_signs_in(tmp_path: Path) -> None:
    app = make_app(
        db_url(tmp_path / "d.db"),
        demo=True,
        demo_clients=40,
        settings=Settings(idle_lock_minutes=0),
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=400)
        assert app.viewer is not None and app.viewer.username == "demo"
        assert app.viewer.role == "care_manager"
        await settle(pilot, lambda: len(table_names(app)) > 0)
        assert "DEMO" in app.sub_title


def test_demo_refuses_a_real_database(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    store = open_store(db_url(db))
    add_user(store, "ann")
    store.close()
    with pytest.raises(StoreError, match="real data"):
        make_app(db_url(db), demo=True)


async def test_a_widget_is_styled_as_it_mounts_not_while_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual restyles an Input as it is built (its value and `compact` set classes),
    ~0.4 ms each before it is even in the DOM; the app skips that (CmTuiApp.update_styles),
    as a widget is styled in full when it mounts. Once mounted, a class change restyles."""
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
        restyled = count_restyles(monkeypatch)
        box = Input("typed", compact=True, id="probe")
        box.add_class("extra")
        assert restyled == []
        await app.screen.mount(box)
        await pilot.pause()
        assert box.styles.border_top[0] == ""  # the compact style, applied as it mounted
        box.compact = False
        await pilot.pause()
        assert restyled and box.styles.border_top[0] == "tall"
