"""Sign-in, the first admin of a new database, and the lock screen."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Static

from cm_tui.screens.base import BaseScreen
from cm_tui.services import auth
from cm_tui.store.access import Viewer
from cm_tui.widgets.safe import literal


class _Form(BaseScreen[Viewer | None]):
    CSS_PATH = "login.tcss"

    def set_error(self, message: str) -> None:
        self.query_one("#error", Static).update(literal(message))


class LoginScreen(_Form):
    TITLE = "Sign in"
    BINDINGS = [Binding("escape", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("cm-tui — sign in", id="form-title")
            yield Label("Username")
            yield Input(id="username")
            yield Label("Password")
            yield Input(id="password", password=True)
            yield Static(id="error", classes="error")
            yield Button("Sign in", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not username:
            self.set_error("Enter your username.")
            self.query_one("#username", Input).focus()
            return
        self.set_error("Checking…")
        self.query_one("#submit", Button).disabled = True
        self._check(username, password)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _check(self, username: str, password: str) -> None:
        try:
            viewer = auth.authenticate(self.app.store, username, password)
        except auth.AuthError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self.dismiss, viewer)

    def _failed(self, message: str) -> None:
        self.set_error(message)
        self.query_one("#submit", Button).disabled = False
        pw = self.query_one("#password", Input)
        pw.value = ""
        pw.focus()


class FirstAdminScreen(_Form):
    """A new (non-demo) database has no users: create the first administrator."""

    TITLE = "First administrator"
    BINDINGS = [Binding("escape", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(
                "This database has no users yet. Create the first administrator.", id="form-title"
            )
            yield Label("Username")
            yield Input(id="username")
            yield Label("Full name")
            yield Input(id="display")
            yield Label(f"Password (at least {auth.MIN_PASSWORD} characters)")
            yield Input(id="password", password=True)
            yield Label("Password again")
            yield Input(id="confirm", password=True)
            yield Static(id="error", classes="error")
            yield Button("Create and sign in", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "confirm":
            self._submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        display = self.query_one("#display", Input).value.strip() or username
        password = self.query_one("#password", Input).value
        if password != self.query_one("#confirm", Input).value:
            self.set_error("The two passwords differ.")
            return
        try:
            auth.validate_new_user(username, password, "admin")
        except auth.AuthError as exc:
            self.set_error(str(exc))
            return
        self._create(username, display, password)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _create(self, username: str, display: str, password: str) -> None:
        try:
            auth.add_user(self.app.store, username, password, role="admin", display_name=display)
            viewer = auth.authenticate(self.app.store, username, password, sleep=False)
        except auth.AuthError as exc:
            self.app.call_from_thread(self.set_error, str(exc))
            return
        self.app.call_from_thread(self.dismiss, viewer)


class LockScreen(_Form):
    """Covers every screen beneath it; unsaved text there is kept."""

    TITLE = "Locked"
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", priority=True)]

    def __init__(self, viewer: Viewer) -> None:
        super().__init__()
        self.viewer = viewer

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("Locked", id="form-title")
            yield Static(
                literal(f"Signed in as {self.viewer.display_name} ({self.viewer.username}).")
            )
            yield Label("Password to unlock")
            yield Input(id="password", password=True)
            yield Static(id="error", classes="error")

    def on_mount(self) -> None:
        # A toast may quote a client's name or note: none shows while locked (those
        # raised meanwhile show on the screen beneath once unlocked, if still current).
        self.app.clear_notifications()
        self.query("#textual-toastrack").remove()
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    def _submit(self, event: Input.Submitted) -> None:
        self._check(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _check(self, password: str) -> None:
        ok = auth.unlock(self.app.store, self.viewer, password)
        self.app.call_from_thread(self._result, ok)

    def _result(self, ok: bool) -> None:
        if ok:
            self.dismiss(self.viewer)
            return
        self.set_error("Wrong password.")
        self.query_one("#password", Input).value = ""
