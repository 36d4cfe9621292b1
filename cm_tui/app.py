"""The Textual app: screens, global keys, command palette, idle lock."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from cm_tui.config import Settings, load_settings, resolve_database_url
from cm_tui.screens.base import _ReportsWorkerErrors
from cm_tui.screens.live import DataChanged
from cm_tui.services import auth, business_days
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, StoreError, open_store

DEMO_BANNER = "DEMO DATA — synthetic people, not patients"
LIVE_REFRESH_S = 2.0  # how often SQLite is asked whether anyone changed anything
FIRST_SCREEN_S = 0.5  # start-up is over by then: runtime.first_screen_up


class CmTuiApp(_ReportsWorkerErrors, App[None]):
    """cm-tui. Build it with :func:`make_app`."""

    TITLE = "cm-tui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("c", "caseload", "Caseload"),
        # Not in the footer (full on narrow terminals); ? and the palette list them.
        Binding("f", "followups", "Follow-ups", show=False),
        Binding("t", "team", "Team view (supervisors)", show=False),
        Binding("question_mark", "help", "Keys"),
        Binding("ctrl+l", "lock", "Lock", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        store: Store,
        *,
        user: str | None = None,
        demo: bool = False,
        settings: Settings | None = None,
        demo_clients: int = 300,
    ) -> None:
        super().__init__()
        from cm_tui.commands import ClientCommands
        from cm_tui.contact_commands import ContactCommands

        self.COMMANDS = self.COMMANDS | {ClientCommands, ContactCommands}
        self.store = store
        self.demo = demo
        self.demo_db = store.is_demo  # read once: every screen's header shows it
        self.requested_user = user
        self.settings = settings or Settings()
        self._config_warnings: list[str] = []
        try:  # [business_days] in the config: the holidays TCM and outreach skip
            business_days.set_default_calendar(
                business_days.calendar_from_settings(self.settings.extra)
            )
        except ValueError as exc:
            self._config_warnings.append(str(exc))
        self.demo_clients = demo_clients
        self.viewer: Viewer | None = None
        self.locked = False
        self.show_clock = True  # snapshots turn it off: a clock never matches
        self._last_activity = time.monotonic()
        self.live_refresh_seconds = LIVE_REFRESH_S  # 0: no live refresh
        self._watcher: Any = None

    # ------------------------------------------------------------ styles

    def update_styles(self, node: Any, animate: bool = True) -> None:
        """Textual restyles a widget whose classes change even before it is mounted:
        an Input does so as it is built (its value and `compact` set classes),
        ~0.4 ms each, a quarter of opening the client form. A widget not yet in the
        DOM is styled in full as it mounts (App._register applies the stylesheet),
        so that earlier styling is skipped."""
        if node is self or node.is_attached:
            super().update_styles(node, animate)

    # ------------------------------------------------------------ start-up

    def on_mount(self) -> None:

        # After the first frame (the caseload's rows, or the sign-in box): see runtime.
        self.set_timer(FIRST_SCREEN_S, self._first_screen_up)
        self.sub_title = DEMO_BANNER if self.demo_db else ""
        for warning in self.store.warnings:
            self.notify(warning, title="Check file permissions", severity="warning", timeout=20)
        for warning in self._config_warnings:
            self.notify(warning, title="Check the config file", severity="warning", timeout=20)
        idle = float(self.settings.idle_lock_minutes) * 60
        if idle > 0:
            self.set_interval(min(15.0, idle / 4), self._check_idle)
        if self.demo:
            self._start_demo()
        elif auth.count_users(self.store) == 0:
            from cm_tui.screens.login import FirstAdminScreen

            self.push_screen(FirstAdminScreen(), self._signed_in)
        else:
            from cm_tui.screens.login import LoginScreen

            self.push_screen(LoginScreen(), self._signed_in)

    def _first_screen_up(self) -> None:
        from cm_tui import runtime
        from cm_tui.store import models

        models.load_all()  # the tables the first screen did not need (store/models.py)
        runtime.first_screen_up()

    def _start_demo(self) -> None:
        from cm_tui.store.queries import has_clients

        with self.store.read() as session:
            empty = not has_clients(session)
        if empty:
            from cm_tui.screens.seeding import SeedingScreen

            self.push_screen(SeedingScreen(self.demo_clients), lambda _ok: self._demo_sign_in())
        else:
            self._demo_sign_in()

    def _demo_sign_in(self) -> None:
        from cm_tui.services.demo_accounts import DEMO_USERNAME

        self.sub_title = DEMO_BANNER
        try:
            viewer = auth.sign_in_without_password(self.store, self.requested_user or DEMO_USERNAME)
        except auth.AuthError as exc:
            self.exit(message=str(exc), return_code=2)
            return
        self._signed_in(viewer)

    def _signed_in(self, viewer: Viewer | None) -> None:
        if viewer is None:
            self.exit()
            return
        from cm_tui.screens.caseload import CaseloadScreen

        self.viewer = viewer
        self._last_activity = time.monotonic()
        self.push_screen(CaseloadScreen())
        self._watch_changes()

    # ------------------------------------------------------------ live refresh

    def _watch_changes(self) -> None:
        """Start noticing changes by anyone (store.changes); each is posted to the
        active screen as DataChanged, from the watcher's thread."""
        if self._watcher is not None or self.live_refresh_seconds <= 0:
            return
        from cm_tui.store.changes import ChangeWatcher

        self._watcher = ChangeWatcher(
            self.store, self._changes_seen, interval=self.live_refresh_seconds
        )
        self._watcher.start()

    def _changes_seen(self, topics: frozenset[str]) -> None:
        """In the watcher's thread: post_message is thread-safe and never blocks."""
        self.post_message(DataChanged(topics))

    def on_data_changed(self, event: DataChanged) -> None:
        """To the screen the user is looking at; one under a dialog (or the lock screen)
        reloads when it is shown again (its on_screen_resume)."""
        if self.viewer is not None and not self.locked and self.screen_stack:
            self.screen.post_message(DataChanged(event.topics))

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    # ------------------------------------------------------------ global actions

    def action_caseload(self) -> None:
        from cm_tui.screens.caseload import CaseloadScreen

        if self.viewer is None or self.locked or not self._may_leave():
            return
        while len(self.screen_stack) > 1 and not isinstance(self.screen, CaseloadScreen):
            self.pop_screen()
        if not isinstance(self.screen, CaseloadScreen):
            self.push_screen(CaseloadScreen())

    def action_followups(self) -> None:
        from cm_tui.screens.followups import open_queue

        open_queue(self)

    def action_team(self) -> None:
        from cm_tui.screens.team import open_team

        open_team(self)

    def _may_leave(self) -> bool:
        """A form with typed text (the contact log) is finished or cancelled first."""
        if getattr(self.screen, "blocks_navigation", False):
            self.notify("Save (ctrl+s) or cancel (escape) the open form first.")
            return False
        return True

    def action_log_inbound(self) -> None:
        """Someone is calling: find them (name, phone, MRN), then log the call."""
        from cm_tui.screens.contact_form import open_contact_form
        from cm_tui.screens.inbound import ClientPicker

        if self.viewer is None or self.locked or not self._may_leave():
            return

        def picked(client_id: int | None) -> None:
            if client_id is not None:
                open_contact_form(self.screen, client_id, direction="inbound")

        self.push_screen(ClientPicker(), picked)

    def action_help(self) -> None:
        from cm_tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def action_lock(self) -> None:
        from cm_tui.screens.login import LockScreen

        if self.viewer is None or self.locked:
            return
        self.locked = True
        self._audit_lock()
        self.push_screen(LockScreen(self.viewer), self._unlocked)

    def _unlocked(self, _result: Any) -> None:
        self.locked = False
        self.show_clock = True  # snapshots turn it off: a clock never matches
        self._last_activity = time.monotonic()

    @work(thread=True, group="audit", exit_on_error=False)
    def _audit_lock(self) -> None:
        from cm_tui.store import audit

        assert self.viewer is not None
        with self.store.write() as session:
            audit.record(
                session,
                action="lock",
                user_id=self.viewer.id,
                entity="user",
                entity_id=self.viewer.id,
            )

    def _check_idle(self) -> None:
        idle = float(self.settings.idle_lock_minutes) * 60
        if idle > 0 and time.monotonic() - self._last_activity >= idle:
            self.action_lock()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown):
            self._last_activity = time.monotonic()
        await super().on_event(event)

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kwargs: Any) -> None:
        """Toasts never interpret markup or escapes: messages may quote stored text."""
        from cm_tui.widgets.safe import plain

        super().notify(plain(message), title=plain(title), markup=False, **kwargs)

    def _open_report(self) -> None:
        from cm_tui.screens.report import open_report

        open_report(self)

    def _open_import(self) -> None:
        from cm_tui.screens.import_clients import open_import

        open_import(self)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        if self.viewer is not None and not self.locked:
            yield SystemCommand("Caseload", "Your list of clients (c)", self.action_caseload)
            yield SystemCommand(
                "Follow-up queue", "Overdue, today, upcoming, done (f)", self.action_followups
            )
            from cm_tui.screens.resources import ResourcesScreen

            yield SystemCommand(
                "Resource directory",
                "Community resources: search, add, edit",
                lambda: self.push_screen(ResourcesScreen()),
            )
            if self.viewer.sees_everyone:
                yield SystemCommand(
                    "Team view", "Per person: overdue, callbacks, reach (t)", self.action_team
                )
                yield SystemCommand(
                    "Programme report",
                    "A month's contacts, reach, CCM minutes, needs, timeliness, ED use",
                    self._open_report,
                )
                yield SystemCommand(
                    "Import clients from CSV",
                    "A panel list: preview, map columns, dry run, import",
                    self._open_import,
                )
            yield SystemCommand(
                "Lock now", "Hide everything until your password (ctrl+l)", self.action_lock
            )
            yield SystemCommand(
                "Log inbound call",
                "Someone is calling: find them by name, phone or MRN, log it, promise a callback",
                self.action_log_inbound,
            )
        yield SystemCommand("Keys", "All keys of this screen (?)", self.action_help)
        yield SystemCommand("Quit", "Leave cm-tui (ctrl+q)", self.action_quit)
        if hasattr(screen, "screen_commands"):
            yield from screen.screen_commands()


def make_app(
    database_url: str | None = None,
    *,
    user: str | None = None,
    demo: bool = False,
    db: str | None = None,
    demo_clients: int = 300,
    settings: Settings | None = None,
) -> CmTuiApp:
    """The one factory the CLI, the tests and the benchmarks use.

    Opens (and migrates) the database first, so problems surface as
    :class:`StoreError` before any screen is drawn.
    """
    url = resolve_database_url(db, database_url, demo=demo)
    settings = settings or load_settings()
    store = open_store(url)
    if demo:
        from cm_tui.store.queries import has_clients

        with store.read() as session:
            populated = has_clients(session)
        if (populated or auth.count_users(store)) and not store.is_demo:
            store.close()
            raise StoreError(
                f"{store.describe()} holds real data; --demo only opens demo databases."
            )
        if not populated:
            store.set_meta("demo", "1")
    return CmTuiApp(store, user=user, demo=demo, settings=settings, demo_clients=demo_clients)
