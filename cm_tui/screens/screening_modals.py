"""The screening summary's dialogs: confirm a choice, edit a proposed follow-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from cm_tui.dates import format_due, parse_due
from cm_tui.screens.base import BaseModal
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import PRIORITIES
from cm_tui.widgets.safe import literal, plain


class ConfirmModal(BaseModal[bool]):
    """A yes/no question; `n` and escape answer no (the safe answer is the default)."""

    CSS_PATH = "screening.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, message: Text | str, *, danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.message = message if isinstance(message, Text) else literal(message)
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog -danger" if self.danger else "dialog"):
            yield Static(literal(self.title_text, "bold"), classes="dialog-title")
            yield Static(self.message, id="confirm-message")
            yield Static(Text("y  yes     n / escape  no", style="bold"), classes="dialog-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


@dataclass(frozen=True)
class FollowUpEdit:
    title: str
    due_at: datetime
    priority: str


class EditFollowUpModal(BaseModal[FollowUpEdit | None]):
    """Edit a proposed follow-up: title, due (natural entry, echoed back), priority."""

    CSS_PATH = "screening.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self, title: str, due_at: datetime, priority: str, *, urgent_only: bool = False
    ) -> None:
        super().__init__()
        self.initial = FollowUpEdit(title, due_at, priority)
        self.urgent_only = urgent_only
        self._due: datetime | None = due_at

    def compose(self) -> ComposeResult:
        with Vertical(id="edit", classes="dialog"):
            yield Static(Text("Edit follow-up", style="bold"), classes="dialog-title")
            yield Label("Title")
            yield Input(plain(self.initial.title), id="edit-title", compact=True)
            yield Label("Due (tomorrow, +2w, fri 2pm, 2026-12-01; empty keeps it)")
            yield Input(
                placeholder=format_due(self.initial.due_at, utcnow()), id="edit-due", compact=True
            )
            yield Static(id="edit-due-echo")
            yield Label("Priority")
            yield Select(
                [(p, p) for p in PRIORITIES],
                value=self.initial.priority,
                allow_blank=False,
                id="edit-priority",
                disabled=self.urgent_only,
                compact=True,
            )
            if self.urgent_only:
                yield Static(
                    Text("A flag's follow-up is always urgent.", style="italic"),
                    classes="muted",
                )
            yield Static(id="edit-error", classes="error")
            yield Static(
                Text("ctrl+s save     escape cancel     tab next field", style="bold"),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        self._echo(self.query_one("#edit-due", Input).value)
        self.query_one("#edit-title", Input).focus()

    @on(Input.Changed, "#edit-due")
    def _due_changed(self, event: Input.Changed) -> None:
        self._echo(event.value)

    def _echo(self, value: str) -> None:
        echo = self.query_one("#edit-due-echo", Static)
        if not value.strip():
            self._due = self.initial.due_at
            echo.update(Text("→ " + format_due(self._due, utcnow()), style="green"))
            return
        try:
            self._due = parse_due(value, utcnow())
        except ValueError as exc:
            self._due = None
            echo.update(literal(str(exc), "red"))
            return
        echo.update(Text("→ " + format_due(self._due, utcnow()), style="green"))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "edit-title":
            self.query_one("#edit-due", Input).focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        title = self.query_one("#edit-title", Input).value.strip()
        error = self.query_one("#edit-error", Static)
        if not title:
            error.update(Text("A follow-up needs a title."))
            self.query_one("#edit-title", Input).focus()
            return
        if self._due is None:
            error.update(Text("Fix the due date first."))
            self.query_one("#edit-due", Input).focus()
            return
        value = self.query_one("#edit-priority", Select).value
        priority = "urgent" if self.urgent_only else str(value)
        self.dismiss(FollowUpEdit(title, self._due, priority))

    def action_cancel(self) -> None:
        self.dismiss(None)
