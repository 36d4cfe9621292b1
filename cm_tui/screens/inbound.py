"""An inbound call: find the caller (any client you may open, by name, phone or MRN)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from cm_tui.screens.base import BaseModal
from cm_tui.store import queries
from cm_tui.store.types import utcnow
from cm_tui.widgets import cells
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import literal

LIMIT = 12


class ClientPicker(BaseModal[int | None]):
    """Dismisses with the chosen client's id, or None."""

    CSS_PATH = "contact_form.tcss"
    SIZE_CLASSES = {
        "-short": lambda s: s.height < 30,
    }
    TITLE = "Inbound call"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "to_results", "Results", show=False),
    ]

    def __init__(self, title: str = "Log inbound call — who is calling?") -> None:
        super().__init__()
        self.title_text = title
        self._generation = 0
        self._shown_generation = 0
        self._submit_pending = False
        self.found: list[int] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text(self.title_text, style="bold"))
            yield Input(placeholder="name, phone or MRN", id="picker-search", compact=True)
            yield ListTable(id="picker-results")
            yield Static(
                Text("type to search · ↓ to the list · enter picks · esc cancel", style="dim"),
                id="picker-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one("#picker-results", DataTable)
        for title, width in (("Name", 30), ("Age", 3), ("MRN", 10), ("Phone", 16)):
            table.add_column(title, width=width)
        self.query_one("#picker-search", Input).focus()

    @on(Input.Changed, "#picker-search")
    def _typed(self, event: Input.Changed) -> None:
        self._generation += 1
        self._search(event.value, self._generation)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def _search(self, text: str, generation: int) -> None:
        viewer = self.app.viewer
        if viewer is None or len(text.strip()) < 2:
            found: list[Any] = []
        else:
            with self.app.store.read() as session:
                found = queries.find_clients(session, viewer, text, limit=LIMIT)
        self.app.call_from_thread(self._show, found, generation)

    def _show(self, found: list[Any], generation: int) -> None:
        if generation != self._generation:
            return
        table = self.query_one("#picker-results", DataTable)
        table.clear()
        now = utcnow()
        self.found = []
        for c in found:
            name = f"{c.family_name}, {c.given_name}"
            if c.preferred_name and c.preferred_name != c.given_name:
                name += f" ({c.preferred_name})"
            table.add_row(
                literal(name, one_line=True),
                cells.age(c.dob, now),
                literal(c.mrn or "—"),
                literal(c.phone or "—"),
                key=str(c.id),
            )
            self.found.append(c.id)
        self._shown_generation = generation
        if self._submit_pending:
            self._submit_pending = False
            self._submitted()

    @on(Input.Submitted, "#picker-search")
    def _submitted(self) -> None:
        if self._shown_generation != self._generation:
            self._submit_pending = True  # enter before the search answered: act when it does
            return
        if len(self.found) == 1:
            self.dismiss(self.found[0])
        elif self.found:
            self.action_to_results()

    def action_to_results(self) -> None:
        table = self.query_one("#picker-results", DataTable)
        if table.row_count and not table.has_focus:
            table.focus()

    @on(DataTable.RowSelected, "#picker-results")
    def _picked(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.dismiss(int(event.row_key.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
