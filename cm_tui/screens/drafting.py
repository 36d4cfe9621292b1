"""What every form that must never lose typed text shares (DESIGN §9).

- The form's fields are saved as a draft while the user types: debounced
  (``DRAFT_DELAY`` after the last change), and at least every ``DRAFT_MAX_WAIT``
  during continuous typing.
- Saving the record and discarding the form both end the draft. A lock orders the
  draft writes against the final save, so a late draft write can never bring back a
  draft that the save has just removed.
- ``escape`` asks before throwing typed text away.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.binding import Binding
from textual.timer import Timer

from cm_tui.screens.base import BaseModal
from cm_tui.screens.confirm import ConfirmDiscard
from cm_tui.services import drafts

R = TypeVar("R")


class DraftingModal(BaseModal[R]):
    DRAFT_KIND: ClassVar[str] = ""
    DRAFT_DELAY: ClassVar[float] = 0.5
    DRAFT_MAX_WAIT: ClassVar[float] = 3.0
    DISCARD_QUESTION: ClassVar[str] = "Discard what you typed?"

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
        # Priority, so focus moves before the next key is routed: a fast typist's
        # "tab 1 0" (or a paste) lands in the next field, not in the note.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    # The app refuses screen-changing commands while a form like this is open.
    blocks_navigation = True

    def __init__(self, draft_key: str) -> None:
        super().__init__()
        self.draft_key = draft_key
        self._draft_lock = threading.Lock()
        self._finished = False  # saved or discarded: no more draft writes
        self._draft_timer: Timer | None = None
        self._first_unsaved: float | None = None
        self._suspend_drafts = False
        self._round = 0  # restart_drafts: a kept form's showings, one round each
        self.drafts_written = 0  # for tests: how many draft writes reached the database

    # ------------------------------------------------------------ to implement

    def draft_payload(self) -> dict[str, Any]:
        """The form's state as JSON-able data; ``{}`` when there is nothing worth keeping."""
        raise NotImplementedError

    def is_dirty(self) -> bool:
        return bool(self.draft_payload())

    # ------------------------------------------------------------ drafts

    def changed(self) -> None:
        """Call on every edit: schedules the draft write."""
        if self._finished or self._suspend_drafts:
            return
        now = time.monotonic()
        if self._first_unsaved is None:
            self._first_unsaved = now
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if now - self._first_unsaved >= self.DRAFT_MAX_WAIT:
            self.flush_draft()
        else:
            self._draft_timer = self.set_timer(self.DRAFT_DELAY, self.flush_draft)

    def flush_draft(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        self._first_unsaved = None
        if self._finished:
            return
        self._write_draft(self.draft_payload(), self.draft_key, self._round)

    @work(thread=True, group="draft", exit_on_error=False)
    def _write_draft(self, payload: dict[str, Any], key: str, round_: int) -> None:
        """``key``, ``round_``: whose draft, taken as the write was asked for (a kept
        form loaded for another record meanwhile writes nothing of the last one's)."""
        viewer = self.app.viewer
        with self._draft_lock:
            if self._finished or viewer is None or round_ != self._round:
                return
            drafts.save_draft(self.app.store, viewer.id, self.DRAFT_KIND, key, payload)
            self.drafts_written += 1

    def restart_drafts(self, draft_key: str) -> None:
        """A kept form readied for another record (``draft_key``): as if built anew,
        nothing typed yet; no write asked for the last record still happens. (Not
        under the draft lock: a last write or discard may hold it for a database
        wait. A write still waiting for it sees the new round first, and stops.)"""
        self._round += 1
        self.draft_key = draft_key
        self._finished = False
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        self._first_unsaved = None
        self._suspend_drafts = False

    def finish(self) -> None:
        """The record is saved (the service removed the draft in its transaction)."""
        self._finished = True
        if self._draft_timer is not None:
            self._draft_timer.stop()

    # ------------------------------------------------------------ cancel

    def action_cancel(self) -> None:
        if not self.is_dirty():
            self._discard()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self._discard()

        self.app.push_screen(ConfirmDiscard(self.DISCARD_QUESTION), answered)

    def _discard(self) -> None:
        self.finish()
        viewer, store, lock = self.app.viewer, self.app.store, self._draft_lock
        kind, key = self.DRAFT_KIND, self.draft_key

        def delete() -> None:
            if viewer is not None:
                with lock:
                    drafts.delete_draft(store, viewer.id, kind, key)

        # On the app, not this screen: the screen is about to go, and its workers with it.
        self.app.run_worker(delete, thread=True, group="draft-discard", exit_on_error=False)
        self.dismiss(None)
