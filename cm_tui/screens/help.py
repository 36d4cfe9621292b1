"""`?`: every key of the current screen, and the global ones."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from cm_tui.screens.base import StyledAtMount

# Keys that act inside widgets (not listed in any binding table we own).
EXTRA = {
    "Caseload": [
        ("↑ ↓ pgup pgdn home end", "Move through the list (more rows load as you go)"),
        ("enter", "Open the highlighted client"),
    ],
    "Screening": [("1–9 / space", "Answer; tick for multi-choice, then enter")],
    "Client": [
        ("↑ ↓ pgup pgdn", "Move through contacts (older ones load as you go)"),
        ("shift+tab", "From the contacts: filter by method, with (PCP…), outcome"),
    ],
    "Conflict": [
        ("↑ ↓", "Move between the fields both of you changed"),
        ("", "Fields only one of you changed are merged without asking"),
    ],
    "Log contact": [
        ("a letter", "On a choice row: the underlined letter picks; ← → move"),
        ("enter", "In the note: a new line"),
        ("1–9", "On the goals row: tag or untag a care-plan goal this contact worked on"),
    ],
    "Care plan": [
        ("↑ ↓", "Move between goals; the highlighted goal's work shows below"),
        ("ctrl+s / esc", "In a form: save / cancel"),
        ("1–9 / ↑ ↓ enter", "In the d picker: choose the intervention or barrier"),
        ("h (in the notes)", "Load older progress notes"),
    ],
    "Programmes": [("n / d", "Enrol / discharge the highlighted enrolment")],
    "Unable to reach": [("↑ ↓", "Move between flagged clients")],
}


class HelpScreen(StyledAtMount, ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, for_screen: Screen[Any]) -> None:
        super().__init__()
        self.for_screen = for_screen
        self.title_text = getattr(for_screen, "TITLE", None) or "cm-tui"
        self.rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        app = for_screen.app
        for active in for_screen.active_bindings.values():
            binding = active.binding
            # The screen's and the app's own keys; widget internals are summarised below.
            if active.node is not for_screen and active.node is not app:
                continue
            if not active.enabled or not binding.description:
                continue
            if binding.action in seen or binding.action == "command_palette":
                continue
            seen.add(binding.action)
            self.rows.append((app.get_key_display(binding), binding.description))
        self.rows.extend(EXTRA.get(self.title_text, []))
        self.rows.append(("ctrl+p", "Command palette: every action by name"))

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Text(f"Keys — {self.title_text}", style="bold"), id="help-title")
            table: DataTable[Any] = DataTable(id="help-keys", cursor_type="row", show_header=False)
            yield table
            yield Static(Text("escape closes", style="dim"))

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Key", width=24)
        table.add_column("Action", width=50)
        for key, desc in self.rows:
            table.add_row(Text(key, style="bold"), Text(desc))
        table.focus()
