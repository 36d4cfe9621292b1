"""First run of --demo: build the synthetic organisation, with progress."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from cm_tui.screens.base import BaseScreen
from cm_tui.widgets.safe import literal


class SeedingScreen(BaseScreen[bool]):
    TITLE = "Preparing demo"
    CSS_PATH = "login.tcss"

    def __init__(self, clients: int, *, start: bool = True) -> None:
        super().__init__()
        self.clients = clients
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("Building a synthetic demo organisation…", id="form-title")
            yield Static(id="stage")
            yield ProgressBar(id="progress", show_eta=False)

    def on_mount(self) -> None:
        if self.start:
            self._seed()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _seed(self) -> None:
        from cm_tui.services.demo import generate_demo

        def progress(stage: str, done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, stage, done, total)

        generate_demo(self.app.store, clients=self.clients, seed=1, progress=progress)
        self.app.call_from_thread(self.dismiss, True)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.query_one("#stage", Static).update(literal(stage))
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)

    def worker_failed(self, worker: Any) -> None:
        """Say what went wrong where the progress was, and how to leave."""
        from cm_tui.screens.base import describe_error

        message = describe_error(worker.error) if worker.error else "unknown error"
        self.query_one("#stage", Static).update(
            literal(f"Could not build the demo organisation: {message} — ctrl+q quits.")
        )
