"""What every screen shares: worker failures become a visible message, never a silent hang.

A worker that raises (``exit_on_error=False``), or a read run on the UI thread with
``read_here``, reaches :class:`_ReportsWorkerErrors`:
one line for the person at the keyboard (no traceback, no SQL, no markup), the full
traceback in the log, and nothing on the screen touched - so whatever was typed
into a form stays there. The same message within a few seconds is shown once (a
draft that cannot be saved fails on every pause in typing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from textual import events
from textual._context import NoActiveAppError
from textual.geometry import Size
from textual.notifications import Notification, Notify
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState, get_current_worker

from cm_tui.store.db import StoreError
from cm_tui.widgets.safe import plain

R = TypeVar("R")

log = logging.getLogger(__name__)

MAX_MESSAGE = 240
REPEAT_QUIET_S = 10.0


def describe_error(error: BaseException) -> str:
    """One short line: a StoreError as worded, else the error's type and first line
    (for a database error, the driver's message, not the SQL behind it)."""
    if isinstance(error, StoreError):
        return plain(str(error))
    detail = str(getattr(error, "orig", None) or error).strip()
    first = detail.splitlines()[0] if detail else ""
    text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    text = plain(" ".join(text.split()))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class _ReportsWorkerErrors:
    _last_failure: tuple[str, float] | None = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[Any]) -> None:
        error = worker.error
        assert error is not None
        self.report_failure(error, f"worker {worker.name!r}")

    def read_here(self, read: Callable[[], None], what: str) -> None:
        """Run a read on the UI thread (one that takes a few ms off an index: the rows
        come in the frame that asked for them). A failure is reported as a worker's
        is, not raised into the key handler that asked, which would end the app."""
        try:
            read()
        except Exception as error:
            self.report_failure(error, what)

    def report_failure(self, error: BaseException, what: str) -> None:
        log.error("%s failed", what, exc_info=(type(error), error, error.__traceback__))
        message = describe_error(error)
        now = time.monotonic()
        last = self._last_failure
        if last is not None and last[0] == message and now - last[1] < REPEAT_QUIET_S:
            return
        self._last_failure = (message, now)
        self.app.notify(  # type: ignore[attr-defined]
            message,
            title="Something went wrong",
            severity="error",
            timeout=10,
            markup=False,
        )


class _SizeClasses:
    """The screen's size classes (``SIZE_CLASSES``), set before it first lays out.

    A class that changes on a screen restyles every widget on it; set in ``on_resize``
    the way Textual's examples do, they restyled each screen a second time as it
    opened (about a third of opening the client brief, issue 8). They are set here
    from the terminal's size as the screen is made, and kept right on resize.
    """

    SIZE_CLASSES: ClassVar[dict[str, Callable[[Size], bool]]] = {}

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name, id, classes)  # type: ignore[call-arg]
        if not self.SIZE_CLASSES:
            return
        try:
            size = self.app.size  # type: ignore[attr-defined]
        except NoActiveAppError:  # made outside a running app: on_resize sets them
            return
        self._set_size_classes(size, update=False)

    def _set_size_classes(self, size: Size, *, update: bool = True) -> None:
        for name, applies in self.SIZE_CLASSES.items():
            self.set_class(applies(size), name, update=update)  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        self._set_size_classes(self.size)  # type: ignore[attr-defined]


class StyledAtMount:
    """Restyles only the screen itself, not its whole DOM, as it is first shown.

    Textual restyles a screen's whole DOM each time it is shown (ScreenResume's
    ``refresh_styles``), its first showing too, just after mounting styled every
    widget: ~14 ms of the 80 to open the client form (issue 8). The screen node
    itself does need it: it was styled before push_screen loaded its CSS_PATH, so a
    modal's own ``align`` would be missing. Its widgets were composed after that.
    An installed screen shown again (the kept client form) is not restyled either:
    it stays in the DOM off the stack, where the stylesheet keeps it styled (a theme
    change restyles every installed screen). Other later showings are restyled as
    Textual asks (in full after switch_screen; not on a pop back to it).
    """

    _shown = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Dispatched before Screen._on_screen_resume (message handlers run down the MRO).
        if not self._shown:
            self._shown = True
            if event.refresh_styles:
                event.refresh_styles = False
                self.app.stylesheet.update_nodes([self], animate=False)  # type: ignore[attr-defined]
        elif self.app.is_screen_installed(self):  # type: ignore[attr-defined]
            event.refresh_styles = False


DEMO_MARK = "DEMO DATA"


class BaseScreen(_ReportsWorkerErrors, _SizeClasses, StyledAtMount, Screen[R], Generic[R]):
    _covered = False  # another screen or a dialog has been on top since it last showed

    def on_screen_suspend(self) -> None:
        self._covered = True

    def back_from_cover(self) -> bool:
        """In on_screen_resume: whether this is a return from under another screen or a
        dialog (time to catch up), not the screen's own first showing, whose data its
        mount has just read. Answers once for each time it was covered."""
        covered, self._covered = self._covered, False
        return covered

    def validate_sub_title(self, sub_title: str | None) -> str | None:
        """A demo database says so in the header of every screen (DESIGN §2)."""
        if sub_title:
            sub_title = plain(sub_title)  # a user's or client's name is stored text
        if not sub_title or DEMO_MARK in sub_title or not getattr(self.app, "demo_db", False):
            return sub_title
        return f"{sub_title} · {DEMO_MARK}"


class BaseModal(_ReportsWorkerErrors, _SizeClasses, StyledAtMount, ModalScreen[R], Generic[R]):
    pass


SLOW_OPEN_S = 0.4  # a screen's data takes longer than this to read: say so


def _notice(app: Any, message: str, *, timeout: float) -> Notification:
    """``app.notify`` (plain text: it may quote stored text), keeping the notice so
    that it can be withdrawn (``app._unnotify``, what a dismissed toast calls)."""
    notice = Notification(plain(message), "", "information", timeout, markup=False)
    app.post_message(Notify(notice))
    return notice


_Data = TypeVar("_Data")


def open_when_read(
    app: Any,
    read: Callable[[], _Data | str],
    make_screen: Callable[[_Data], Screen[Any]],
    *,
    what: str,
    on_closed: Callable[[Any], None] | None = None,
) -> None:
    """Push a screen with its data in its first frame (issue 8).

    ``read`` runs first, in a worker of the screen the user is on, and the screen
    is pushed with what it returns: one layout and paint of a full screen, not an
    empty one painted and then filled (while its own worker fought the paint for
    the GIL). A string from ``read`` is a refusal, shown as a notice. If the user
    has moved on by then (another screen, or asked again), nothing is pushed; a
    read that takes longer than SLOW_OPEN_S says "Opening <what>…", a notice
    withdrawn as the read ends: on the opened screen it would be stale.
    ``on_closed`` hears the screen's result when it is dismissed.
    """
    origin = app.screen
    notices: list[Notification] = []
    timer = origin.set_timer(
        SLOW_OPEN_S, lambda: notices.append(_notice(app, f"Opening {what}…", timeout=2))
    )

    def end() -> None:
        timer.stop()  # cancels its task: no notice after this
        for notice in notices:
            # After the Notify that raised it, which is queued on the app the same way.
            app.call_later(app._unnotify, notice)

    def load() -> None:
        worker = get_current_worker()
        try:
            data = read()
        finally:
            app.call_from_thread(end)
        if isinstance(data, str):
            app.call_from_thread(app.notify, data, severity="error")
            return

        def push() -> None:
            if not worker.is_cancelled and app.screen is origin:
                app.push_screen(make_screen(data), on_closed)

        app.call_from_thread(push)

    origin.run_worker(
        load,
        name=f"open {what}",
        group="open-screen",
        thread=True,
        exclusive=True,
        exit_on_error=False,
    )


_Kept = TypeVar("_Kept", bound=Screen[Any])


def kept_screen(
    app: Any, name: str, make: Callable[[], _Kept], load: Callable[[_Kept], None]
) -> _Kept:
    """The app's one screen ``name``, kept between showings (issue 8).

    It is installed, so Textual keeps it, hidden and styled, when it closes. Shown
    again it is loaded (``load``: its data set as if it had just been built) rather
    than built, mounted and styled anew: most of opening a screen (the team view
    12-15 ms of ~55; the client form 35-55 ms). Its table keeps the cells it has
    drawn, and redraws the unchanged ones from there.
    Before ``load``, its size classes are set for the terminal now: it was not told
    of a resize while it was closed.
    A kept screen still open under another screen is not taken: ``make`` builds a
    new one for now. One installed but never shown (its push abandoned) is replaced.
    """
    if app.is_screen_installed(name):
        screen = app.get_screen(name)
        if screen in app.screen_stack:
            return make()
        if screen.is_mounted:
            if isinstance(screen, BaseScreen):
                screen._covered = False  # shown afresh: not a return from under a cover
            if isinstance(screen, _SizeClasses):
                screen._set_size_classes(app.size)
            load(screen)
            return screen  # type: ignore[no-any-return]
        app.uninstall_screen(name)
    screen = make()
    app.install_screen(screen, name)
    return screen
