"""The floor program of DESIGN §8: a bare Textual app that imports sqlmodel and paints
a 20-row DataTable. cm-tui's cold start and memory are measured against it.

Run it on its own (`python benchmarks/floor.py`) or under benchmarks/probe.py.
"""

from __future__ import annotations

import sqlmodel  # noqa: F401  (the floor pays for the ORM import, as cm-tui must)
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header


class FloorApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="caseload")  # the probe watches for this id, as in cm-tui
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Age", "Risk", "Program", "Last", "Next due", "Needs", "Prefers")
        for i in range(20):
            table.add_row(
                f"Family{i:02d}, Given", "54", "high", "CCM", "3d ago", "tomorrow", "1", "phone"
            )
        table.focus()


def main() -> None:
    FloorApp().run()


if __name__ == "__main__":
    main()
