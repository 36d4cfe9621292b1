"""What every screen shares: worker failures become a visible message, never a silent hang."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from cm_tui.store.db import StoreError
from cm_tui.widgets.safe import plain

R = TypeVar("R")


def describe_error(error: BaseException) -> str:
    if isinstance(error, StoreError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class _ReportsWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[Any]) -> None:
        assert worker.error is not None
        self.app.notify(  # type: ignore[attr-defined]
            describe_error(worker.error),
            title="Something went wrong",
            severity="error",
            timeout=10,
        )


DEMO_MARK = "DEMO DATA"


class BaseScreen(_ReportsWorkerErrors, Screen[R], Generic[R]):
    def validate_sub_title(self, sub_title: str | None) -> str | None:
        """A demo database says so in the header of every screen (DESIGN §2)."""
        if sub_title:
            sub_title = plain(sub_title)  # a user's or client's name is stored text
        if not sub_title or DEMO_MARK in sub_title or not getattr(self.app, "demo_db", False):
            return sub_title
        return f"{sub_title} · {DEMO_MARK}"


class BaseModal(_ReportsWorkerErrors, ModalScreen[R], Generic[R]):
    pass
