"""In-process measurements with Textual's Pilot on the benchmark database.

Every figure runs from the user's action (a key, a pushed screen) to the first
frame the app composes once the result is on screen: workers done, table
layout done. When the last of those is a worker ending that changes nothing on
screen, the frame that counts is the last one before it, which already showed
the result (FrameWatch._worker_finished). Frames are caught where Textual hands
them to the driver (`App._display`), so the cost of rendering the rows is included.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

WAIT_S = 60.0
REPORT_FIGURES = "programme report, a month's figures"
ACTIVE = (WorkerState.PENDING, WorkerState.RUNNING)


@dataclass
class Samples:
    name: str
    seconds: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def worst(self) -> float:
        return max(self.seconds)


class FrameWatch:
    """Records the first frame displayed while a condition holds."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.condition: Callable[[], bool] | None = None
        self.hit_at: float | None = None
        self.event = asyncio.Event()
        self.action_at = 0.0  # when the action being timed began
        self.last_frame_at = 0.0  # when the last frame went to the terminal
        original = app._display

        def _display(screen: Screen[Any], renderable: Any) -> None:
            hit = False
            if self.condition is not None:
                try:
                    hit = self.condition()
                except Exception:
                    hit = False
            original(screen, renderable)
            if hit and self.hit_at is None:
                if renderable is not None:
                    self.hit_at = time.perf_counter()
                    self.event.set()
                else:
                    # A refresh that changed nothing on screen (Textual hands over no
                    # update): the last frame already showed the finished screen.
                    self._hit_last_frame()
            if renderable is not None:
                self.last_frame_at = time.perf_counter()

        app._display = _display  # type: ignore[method-assign]

        # Finished workers leave app.workers; remember every worker that starts.
        self.started: list[Any] = []
        add_worker = app.workers.add_worker

        def _add_worker(worker: Any, start: bool = True, exclusive: bool = True) -> None:
            self.started.append(worker)
            add_worker(worker, start, exclusive)

        app.workers.add_worker = _add_worker  # type: ignore[method-assign]

        # A worker's state is set on the app's loop: look again as each one ends.
        state = Worker.state
        watch = self

        def _set_state(worker: Worker[Any], value: WorkerState) -> None:
            assert state.fset is not None
            state.fset(worker, value)
            if value not in ACTIVE:
                watch.app.call_later(watch._worker_finished)

        Worker.state = property(state.fget, _set_state)  # type: ignore[assignment,method-assign]
        self._worker_state = state

    def close(self) -> None:
        """Put Worker.state back (the next app measured gets a FrameWatch of its own)."""
        Worker.state = self._worker_state  # type: ignore[method-assign]

    def mark(self) -> int:
        """A point in the worker history: workers started later count as "new"."""
        return len(self.started)

    def new_workers(self, since: int, screen: Screen[Any]) -> list[Any]:
        return [w for w in self.started[since:] if getattr(w, "node", None) is screen]

    async def timed(
        self, action: Callable[[], Awaitable[None] | None], condition: Callable[[], bool]
    ) -> float:
        """Seconds from the start of ``action`` to the first frame where ``condition`` holds."""
        self.condition = condition
        self.hit_at = None
        self.event.clear()
        started = self.action_at = time.perf_counter()
        result = action()
        if result is not None:
            await result
        try:
            await asyncio.wait_for(self.event.wait(), WAIT_S)
        finally:
            self.condition = None
        assert self.hit_at is not None
        return self.hit_at - started

    def _worker_finished(self) -> None:
        """A worker's end can be the last step to "ready" and change nothing on screen
        (a worker that has shown its rows returns): then no new frame follows it, and
        the screen as it is was already on the terminal in the last frame. That frame
        is the one that counts. (Waiting for the next frame instead counted up to a
        second of nothing: until the header clock next repainted.)
        """
        condition = self.condition
        if condition is None or self.event.is_set():
            return
        try:
            holds = condition()
        except Exception:
            holds = False
        screen = self.app.screen
        pending = (
            screen._layout_required
            or screen._scroll_required
            or screen._repaint_required
            or screen._recompose_required
            or screen._dirty_widgets
        )
        if holds and not pending:
            self._hit_last_frame()

    def _hit_last_frame(self) -> None:
        """The frame already on the terminal counts, if it came after the action."""
        if self.last_frame_at > self.action_at:
            self.hit_at = self.last_frame_at
            self.event.set()


def _workers_of(app: App[Any], screen: Screen[Any]) -> list[Any]:
    return [w for w in app.workers if getattr(w, "node", None) is screen]


def screen_ready(
    app: App[Any],
    screen_type: type[Screen[Any]] | tuple[type[Screen[Any]], ...],
    *,
    rows_in: str | None = None,
    watch: FrameWatch | None = None,
    since: int | None = None,
    loaded: Callable[[Any], bool] | None = None,
) -> Callable[[], bool]:
    """The current screen is of this type, its workers are done and its tables laid out.

    ``rows_in``: the id of a table that must hold rows. ``watch``/``since``: a
    worker of this screen must have started after ``watch.mark()`` and finished.
    ``loaded``: the screen holds its data (for a screen given its data as it is
    pushed, such as the client brief, which has no worker of its own to wait for).
    """

    def ready() -> bool:
        screen = app.screen
        if not isinstance(screen, screen_type) or not screen.is_mounted:
            return False
        workers = _workers_of(app, screen)
        if any(w.state in ACTIVE for w in workers):
            return False
        if watch is not None and since is not None:
            fresh = watch.new_workers(since, screen)
            if not fresh or any(w.state in ACTIVE for w in fresh):
                return False
        for table in screen.query(DataTable):
            if table._require_update_dimensions:
                return False
        if rows_in is not None:
            table = screen.query_one(f"#{rows_in}", DataTable)
            if table.row_count == 0:
                return False
        return loaded is None or loaded(screen)

    return ready


async def settle(pilot: Any, app: App[Any]) -> None:
    """Wait until no worker of any screen runs."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        await pilot.pause(0.01)
        if not any(w.state in ACTIVE for w in app.workers):
            await pilot.pause()
            return
    raise TimeoutError("workers did not finish")


async def started(pilot: Any, app: App[Any]) -> None:
    """Until the caseload is up and start-up is over: a person opens nothing in the
    app's first half second (cm_tui.runtime.first_screen_up)."""
    from cm_tui import runtime
    from cm_tui.screens.caseload import CaseloadScreen

    while not isinstance(app.screen, CaseloadScreen) or runtime.starting():
        await pilot.pause(0.05)
    await settle(pilot, app)


@dataclass
class InteractiveResults:
    screens: list[Samples]
    search: Samples
    team: list[Samples]  # as the supervisor: the team's queue, a tab switch, the team view
    team_note: str


async def measure(
    db: str,
    *,
    repeats: int = 5,
    search_words: list[str],
) -> InteractiveResults:
    from cm_tui import runtime
    from cm_tui.app import make_app
    from cm_tui.config import Settings
    from cm_tui.screens.caseload import CaseloadScreen
    from cm_tui.screens.client import ClientScreen
    from cm_tui.screens.help import HelpScreen
    from cm_tui.screens.login import LockScreen, LoginScreen

    runtime.start_interactive()  # as the `cm-tui` command does (cm_tui/runtime.py)
    settings = Settings(idle_lock_minutes=0)
    app = make_app(db=db, demo=True, settings=settings)
    from cm_tui.screens.careplan import CarePlanScreen
    from cm_tui.screens.client_form import ClientForm
    from cm_tui.screens.contact_form import ContactForm
    from cm_tui.screens.followup_modals import FollowUpForm
    from cm_tui.screens.followups import FollowUpQueueScreen
    from cm_tui.screens.programme import ProgrammesModal
    from cm_tui.screens.referrals import ReferralsScreen
    from cm_tui.screens.screening import ScreeningScreen

    # Every other screen, by its key: from the caseload, then from a client's brief.
    from_caseload: list[tuple[str, str, type[Screen[Any]]]] = [
        ("your follow-ups", "f", FollowUpQueueScreen),
        ("add a client", "n", ClientForm),
    ]
    from_brief: list[tuple[str, str, type[Screen[Any]]]] = [
        ("log a contact", "l", ContactForm),
        ("screening", "s", ScreeningScreen),
        ("add a follow-up", "u", FollowUpForm),
        ("care plan", "p", CarePlanScreen),
        ("needs and referrals", "n", ReferralsScreen),
        ("edit the client", "e", ClientForm),
        ("programmes", "E", ProgrammesModal),
    ]
    names = ["caseload", "client brief", "help", "login", "lock", "command palette"]
    names += [name for name, _, _ in from_caseload + from_brief]
    screens: dict[str, Samples] = {name: Samples(name) for name in names}
    search = Samples("search keystroke")
    async with app.run_test(size=(120, 40)) as pilot:
        watch = FrameWatch(app)
        await started(pilot, app)
        caseload = app.screen

        for i in range(repeats):
            # caseload: a fresh screen, first window of rows painted (on SQLite read as
            # it mounts; its menus, and the programmes for one of them, follow that frame)
            seconds = await watch.timed(
                lambda: app.push_screen(CaseloadScreen()),
                screen_ready(
                    app, CaseloadScreen, rows_in="caseload", loaded=lambda s: s is not caseload
                ),
            )
            screens["caseload"].seconds.append(seconds)
            # Its filter menus mount just after that frame: let them finish before it goes
            # (Textual's Select fails if its screen is removed while it is mounting).
            await settle(pilot, app)
            await pilot.pause()
            app.pop_screen()
            await settle(pilot, app)

            # client brief: enter on a caseload row, brief and timeline painted (the
            # record is read before the screen is pushed: cm_tui.screens.client.open_client)
            table = caseload.query_one("#caseload", DataTable)
            table.move_cursor(row=min(i * 7, table.row_count - 1), animate=False)
            await pilot.pause()
            seconds = await watch.timed(
                lambda: pilot.press("enter"),
                screen_ready(app, ClientScreen, loaded=lambda s: s.brief is not None),
            )
            screens["client brief"].seconds.append(seconds)
            brief = app.screen
            for name, key, kind in from_brief:
                await _open_and_back(pilot, app, watch, key, kind, brief, screens[name])
            await pilot.press("escape")
            await settle(pilot, app)
            for name, key, kind in from_caseload:
                await _open_and_back(pilot, app, watch, key, kind, caseload, screens[name])

            seconds = await watch.timed(
                lambda: pilot.press("question_mark"), screen_ready(app, HelpScreen)
            )
            screens["help"].seconds.append(seconds)
            await pilot.press("escape")
            await settle(pilot, app)

            seconds = await watch.timed(
                lambda: app.push_screen(LoginScreen()), screen_ready(app, LoginScreen)
            )
            screens["login"].seconds.append(seconds)
            app.pop_screen()
            await settle(pilot, app)

            seconds = await watch.timed(
                lambda: pilot.press("ctrl+l"), screen_ready(app, LockScreen)
            )
            screens["lock"].seconds.append(seconds)
            app.pop_screen()
            app.locked = False
            await settle(pilot, app)

            from textual.command import CommandPalette

            seconds = await watch.timed(
                lambda: pilot.press("ctrl+p"), screen_ready(app, CommandPalette)
            )
            screens["command palette"].seconds.append(seconds)
            await pilot.press("escape")
            await settle(pilot, app)

        # search as you type, letter by letter, on the caseload
        await pilot.press("slash")
        await settle(pilot, app)
        for word in search_words:
            for i, ch in enumerate(word):
                seconds = await watch.timed(
                    lambda ch=ch: pilot.press(ch),
                    # the rows of the text typed so far (on SQLite, within a caseload,
                    # read on the spot; otherwise by a worker)
                    screen_ready(
                        app,
                        CaseloadScreen,
                        loaded=lambda s, typed=word[: i + 1]: (
                            s.shown is not None and s.shown[0].search == typed
                        ),
                    ),
                )
                search.seconds.append(seconds)
            for _ in word:
                await pilot.press("backspace")
            await settle(pilot, app)
        search.note = f"{len(search.seconds)} keystrokes: " + ", ".join(
            repr(w) for w in search_words
        )

        watch.close()
    with contextlib.suppress(Exception):
        app.store.close()
    team, note = await measure_team(db, repeats=repeats)
    return InteractiveResults(list(screens.values()), search, team, note)


async def _open_and_back(
    pilot: Any,
    app: App[Any],
    watch: FrameWatch,
    key: str | Callable[[], None],
    kind: type[Screen[Any]],
    back_to: Screen[Any],
    samples: Samples,
) -> None:
    """``key`` (or a call that opens it) to the first frame of a ``kind`` screen with
    its workers done; then escape back to ``back_to`` (nothing was typed: a form
    closes without asking)."""
    action = key if callable(key) else (lambda: pilot.press(key))
    seconds = await watch.timed(action, screen_ready(app, kind))
    samples.seconds.append(seconds)
    await settle(pilot, app)
    await pilot.pause()
    await pilot.press("escape")
    await settle(pilot, app)
    if app.screen is not back_to:
        raise AssertionError(f"escape from {kind.__name__} left {app.screen!r} on top")


async def measure_team(
    db: str, *, repeats: int, user: str = "supervisor"
) -> tuple[list[Samples], str]:
    """As the demo supervisor: the team's follow-up queue (`f`), a tab switch in it
    (`right`), and the team view (`t`), each to its rows painted."""
    from cm_tui import runtime
    from cm_tui.app import make_app
    from cm_tui.config import Settings
    from cm_tui.screens.followups import FollowUpQueueScreen
    from cm_tui.screens.report import ReportScreen, open_report
    from cm_tui.screens.team import TeamScreen, UnableToReachScreen

    runtime.start_interactive()
    app = make_app(db=db, demo=True, user=user, settings=Settings(idle_lock_minutes=0))
    queue = Samples("follow-up queue, team")
    tab = Samples("follow-up queue, switch tab")
    team = Samples("team view")
    unable = Samples("open screen: unable to reach")
    report = Samples("open screen: programme report")
    figures = Samples(REPORT_FIGURES)
    people = 0
    async with app.run_test(size=(120, 40)) as pilot:
        watch = FrameWatch(app)
        await started(pilot, app)
        for _ in range(repeats):
            seconds = await watch.timed(
                lambda: pilot.press("f"),
                # rows and tab counts (on SQLite both are read as the screen mounts)
                screen_ready(
                    app, FollowUpQueueScreen, rows_in="queue", loaded=lambda s: bool(s.counts)
                ),
            )
            queue.seconds.append(seconds)
            await settle(pilot, app)
            was = app.screen.tab  # type: ignore[attr-defined]
            seconds = await watch.timed(
                lambda: pilot.press("right"),
                # the next tab's rows shown (on SQLite read on the spot, else by a worker)
                screen_ready(
                    app,
                    FollowUpQueueScreen,
                    loaded=lambda s, was=was: s.shown_tab not in (None, was),
                ),
            )
            tab.seconds.append(seconds)
            await settle(pilot, app)
            await pilot.press("escape")
            await settle(pilot, app)
            seconds = await watch.timed(
                lambda: pilot.press("t"),
                # every person's row with its activity (read before the screen is pushed)
                screen_ready(
                    app,
                    TeamScreen,
                    rows_in="team",
                    loaded=lambda s: bool(s.rows) and all(r.per_day for r in s.rows),
                ),
            )
            team.seconds.append(seconds)
            screen = app.screen
            people = len(screen.rows) if isinstance(screen, TeamScreen) else 0
            await settle(pilot, app)
            await _open_and_back(pilot, app, watch, "u", UnableToReachScreen, screen, unable)
            await pilot.press("escape")
            await settle(pilot, app)
            caseload = app.screen
            opened = partial(open_report, app)  # from the command palette; no key
            # The screen, its first frame saying the month is being computed; then,
            # opened again, the month's figures (long work, shown step by step).
            seconds = await watch.timed(
                opened,
                lambda: isinstance(app.screen, ReportScreen) and app.screen.is_mounted,
            )
            report.seconds.append(seconds)
            await settle(pilot, app)
            await pilot.press("escape")
            await settle(pilot, app)
            await _open_and_back(pilot, app, watch, opened, ReportScreen, caseload, figures)
        watch.close()
    with contextlib.suppress(Exception):
        app.store.close()
    found = [queue, tab, team, unable, report, figures]
    return found, f"signed in as {user!r}: a team of {people} people"


def run(db: str, *, repeats: int, search_words: list[str]) -> InteractiveResults:
    return asyncio.run(measure(db, repeats=repeats, search_words=search_words))
