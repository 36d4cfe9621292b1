"""A small yes/no question ("Discard this note?"), answered with one key."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from cm_tui.screens.base import BaseModal
from cm_tui.widgets.safe import literal


class ConfirmDiscard(BaseModal[bool]):
    """Dismisses True to discard, False to keep editing (the safe default)."""

    CSS_PATH = "contact_form.tcss"
    BINDINGS = [
        Binding("d,y", "answer(True)", "Discard"),
        Binding("escape,n,k", "answer(False)", "Keep editing"),
    ]

    def __init__(self, question: str = "Discard what you typed?", detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail or "What you typed, and its saved draft, will be deleted."

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(literal(self.question, "bold"), id="confirm-question")
            yield Static(literal(self.detail), id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                yield Button("Keep editing (n)", id="keep", variant="primary", compact=True)
                yield Button("Discard (d)", id="discard", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#keep")
    def _keep(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#discard")
    def _discard(self) -> None:
        self.dismiss(True)

    def action_answer(self, discard: bool) -> None:
        self.dismiss(discard)


def close_or_ask(form: BaseModal[Any], typed: bool, question: str, detail: str) -> None:
    """Escape on a form: close it at once if nothing was typed, else ask first.

    The form is dismissed with None only when the user chooses to discard.
    """
    if not typed:
        form.dismiss(None)
        return

    def answered(discard: bool | None) -> None:
        if discard:
            form.dismiss(None)

    form.app.push_screen(ConfirmDiscard(question, detail), answered)
