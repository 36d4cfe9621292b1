"""A row-cursor table for lists: home/end move to the first and last row.

It draws its one-line text cells and headers itself (issue 8). DataTable draws
every cell through Rich's general machinery (Styled, Padding,
console.render_lines, measurement with fresh ConsoleOptions); for a table of
plain one-line cells, which every list here is, that was about half the time of
opening a screen. :meth:`ListTable._render_cell` makes the same segments from
the same steps (Text.wrap, Text.render, Segment.adjust_line_length,
Segment.apply_style) without the generic layers, and the module's ``measure``
is given a shortcut for Text that returns what Text.__rich_measure__ would.
Anything else (row labels, taller rows, wrapped text, other renderables) goes
DataTable's way. tests/test_list_table.py holds the output to DataTable's, cell
for cell, and the snapshot tests to the screens as they were.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, _data_table

PREFETCH = 25  # a list loads its next window when the cursor is this close to the end
WINDOW_MIN = 50  # rows a window of a list reads at least (see window_rows)
_NULL = Style.null()
_LINES = Text("\n")
TEXT_LINES_KEPT = 4096  # distinct cell lines a table keeps drawn (ListTable._text_line)
_measure = _data_table.measure


def _measure_fast(
    console: Console,
    renderable: RenderableType,
    default: int,
    *,
    container_width: int | None = None,
) -> int:
    """textual.render.measure, with Text's maximum worked out directly (as
    Text.__rich_measure__ does) instead of through a new ConsoleOptions per cell."""
    if type(renderable) is Text:
        return max(map(cell_len, renderable.plain.splitlines()), default=0)
    return _measure(console, renderable, default, container_width=container_width)


_data_table.measure = _measure_fast  # type: ignore[assignment]


def window_rows(height: int) -> int:
    """Rows a window of a list reads on a terminal ``height`` lines tall: a screenful
    and the prefetch margin, at least WINDOW_MIN (65 on 40 lines). The rows are built
    and measured as they arrive: the fewer, the sooner the list is on screen."""
    return max(WINDOW_MIN, height + PREFETCH)


class _KeptStyles:
    """A component's styles with their Rich style worked out once: Textual works it out
    afresh at each read (from the table's every ancestor), and DataTable reads it
    three times for each line it draws (header, row and cursor styles)."""

    def __init__(self, styles: Any) -> None:
        self._styles = styles
        self.rich_style: Style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


class ListTable(DataTable[Any]):
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._text_lines: dict[tuple[Any, ...], list[Segment]] = {}
        # component names -> (their Styles as kept by the stylesheet, _KeptStyles)
        self._kept_components: dict[tuple[str, ...], tuple[tuple[Any, ...], _KeptStyles]] = {}
        # (id of a line of _text_lines, styles) -> (that line, styled): _styled_line
        self._styled_lines: dict[tuple[Any, ...], tuple[list[Segment], list[Segment]]] = {}
        self._text_defaults: tuple[str, str] | None = None

    def get_component_styles(self, *names: str) -> Any:
        """Textual's, kept while the stylesheet keeps the same component styles: it
        makes them anew whenever it restyles the table, as any change to the table or
        an ancestor does, and a Rich style read from them is then worked out again."""
        parts = tuple(self._component_styles.get(name) for name in names)
        kept = self._kept_components.get(names)
        if kept is not None and all(a is b for a, b in zip(kept[0], parts, strict=True)):
            return kept[1]
        styles = _KeptStyles(super().get_component_styles(*names))
        self._kept_components[names] = (parts, styles)
        return styles

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

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable._render_cell, drawn directly for a one-line Text cell (or header)."""
        if column_index < 0:  # row labels
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        header = row_index == -1
        row_key = self._header_row_key if header else self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if header:
            height: int | None = self.header_height
        else:
            row = self.rows.get(row_key)  # type: ignore[arg-type]
            height = None if row is None else row.height
        cell = self._get_row_renderables(row_index).cells[column_index]
        inner = width - 2 * self.cell_padding
        if (
            height != 1
            or type(cell) is not Text
            or inner < 1
            or "\n" in cell.plain
            or "\t" in cell.plain
            or (cell.no_wrap is False and cell.cell_len > inner)  # wrapped: its first line
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            header,
            False,
            not header and (row_index < self.fixed_rows or column_index < self.fixed_columns),
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        text = self._text_line(cell, inner)
        meta = Style.from_meta({"row": row_index, "column": column_index})
        styled = self._styled_line(text, base_style + component_style, post_style)
        if styled is None:  # a link or meta of its own in the text: as DataTable adds them
            pre_style = base_style + meta + component_style
            segments = self._padded(text)
            lines = [list(Segment.apply_style(segments, style=pre_style, post_style=post_style))]
        else:
            # The cell's place (row, column: what a click reads) added last: the same
            # style as DataTable's, which adds it first, as styles without links or
            # meta of their own leave it as it is.
            lines = [[Segment(t, meta if s is None else s + meta, c) for t, s, c in styled]]
        self._cell_render_cache[cache_key] = lines
        return lines

    def _styled_line(
        self, text: list[Segment], pre_style: Style, post_style: Style
    ) -> list[Segment] | None:
        """A cell line padded and styled, without its place: kept for cells alike (the
        same line and styles), whose styles are then worked out once, not per cell. None
        for a text with links or meta of its own."""
        key = (id(text), pre_style, post_style)
        kept = self._styled_lines.get(key)
        if kept is not None and kept[0] is text:
            return kept[1]
        if any(s is not None and (s._link or s._meta) for _, s, _ in text):
            return None
        segments = self._padded(text)
        styled = list(Segment.apply_style(segments, style=pre_style, post_style=post_style))
        if len(self._styled_lines) >= TEXT_LINES_KEPT:
            self._styled_lines.clear()
        self._styled_lines[key] = (text, styled)
        return styled

    def _padded(self, text: list[Segment]) -> list[Segment]:
        """A cell line with the table's cell padding either side."""
        if not self.cell_padding:
            return text
        pad = Segment(" " * self.cell_padding, _NULL)
        return [pad, *text, pad]

    def _text_line(self, cell: Text, inner: int) -> list[Segment]:
        """A one-line Text as the segments of a line ``inner`` cells wide, before the
        table's styles: kept for cells alike (the same text, styles and width), which
        most of a list's cells are (a risk tier, a method, "—") and every row that
        stays on screen as a search narrows."""
        if self._text_defaults is None:
            options = self.app.console_options
            self._text_defaults = (options.justify or "default", options.overflow or "fold")
        justify, overflow = self._text_defaults
        justify, overflow = cell.justify or justify, cell.overflow or overflow
        key = (cell.plain, cell.style, tuple(cell.spans), justify, overflow, inner)
        cached = self._text_lines.get(key)
        if cached is not None:
            return cached
        console = self.app.console
        (line,) = cell.wrap(
            console,
            inner,
            justify=justify,  # type: ignore[arg-type]
            overflow=overflow,  # type: ignore[arg-type]
            tab_size=console.tab_size if cell.tab_size is None else cell.tab_size,
            no_wrap=True,
        )
        # Joined as Text.__rich_console__ joins its lines: that is what puts the
        # text's own style on its segments (Text.render leaves it off without spans).
        rendered = list(_LINES.join((line,)).render(console, end=""))
        text = Segment.adjust_line_length(rendered, inner, style=_NULL)
        if len(self._text_lines) >= TEXT_LINES_KEPT:
            self._text_lines.clear()
        self._text_lines[key] = text
        return text
