"""A row-cursor table for lists: home/end move to the first and last row."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class ListTable(DataTable[Any]):
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    def lay_out_now(self) -> None:
        """Measure the rows just added now, not when the app is next idle.

        DataTable works out its scrollable size on idle: the rows added by a load
        are painted in one frame and the table laid out again in the next, a second
        full layout of the screen (about 30 ms of a screen's 100 ms budget on the
        reference machine, issue 8). Called at the end of a load, it does that same
        work (DataTable._on_idle's) at once, so the next frame is the final one.
        """
        if self._updated_cells:
            updated = self._updated_cells.copy()
            self._updated_cells.clear()
            self._update_column_widths(updated)
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)
