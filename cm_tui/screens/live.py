"""Live refresh, the screen side: the app posts :class:`DataChanged` to the active screen
when anyone changed the data (``cm_tui.store.changes.ChangeWatcher``); list screens
reload their window in place with :class:`TableSpot` so the cursor stays on its row
and the rows around it stay where the eye left them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from textual.message import Message
from textual.widgets import DataTable


class DataChanged(Message, bubble=False):
    """Someone (here or elsewhere) changed these tables: ``follow_ups``, ``clients``,
    ``contacts``, ``needs``."""

    def __init__(self, topics: frozenset[str]) -> None:
        super().__init__()
        self.topics = topics


@dataclass(frozen=True)
class TableSpot:
    """Where the cursor is in a table: its row key and its line on the screen."""

    key: str | None
    index: int
    line: int  # cursor row minus the first visible row

    @classmethod
    def of(cls, table: DataTable[object]) -> TableSpot:
        key: str | None = None
        if table.row_count:
            with contextlib.suppress(Exception):
                value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
                key = None if value is None else str(value)
        return cls(key, table.cursor_row, table.cursor_row - round(table.scroll_y))

    def restore(self, table: DataTable[object]) -> bool:
        """Put the cursor back on the same row (True), or on the row now at its index,
        its neighbour (False), keeping it on the same screen line. Never moves focus."""
        if not table.row_count:
            return self.key is None
        found = False
        index = self.index
        if self.key is not None:
            with contextlib.suppress(Exception):
                index = table.get_row_index(self.key)
                found = True
        index = max(0, min(index, table.row_count - 1))
        table.move_cursor(row=index, animate=False, scroll=False)
        top = max(0, index - self.line)
        # After the refresh that lays out the new rows (the cursor's own scroll-into-view
        # is queued the same way, earlier, so this one has the last word).
        table.call_after_refresh(table.scroll_to, y=top, animate=False, force=True)
        return found or self.key is None
