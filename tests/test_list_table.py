"""ListTable draws one-line cells itself (issue 8): the segments must be DataTable's."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.dom import DOMNode
from textual.render import measure
from textual.widgets import DataTable

from cm_tui.widgets.list_table import ListTable, _measure_fast

CELLS: list[Any] = [
    "plain str",
    "[bold]markup in a str[/]",  # DataTable reads str cells as markup
    Text("styled", style="bold red"),
    Text(""),
    Text("", style="dim"),
    Text.assemble(("Family", "bold"), ", ", ("Given", "italic green")),
    Text("a text far too long for its column, cut", no_wrap=True),
    Text("a text far too long for its column, wrapped", no_wrap=False),
    Text("short", no_wrap=False),
    Text("ellipsis when it is too long", overflow="ellipsis", no_wrap=True),
    Text("12", justify="right"),
    Text("centred", justify="center"),
    Text("left", justify="left"),
    Text("漢字とemoji 👩‍⚕️ wide", style="on blue"),
    Text("[not markup] \x1b[31m escape"),
    Text("two\nlines"),
    Text("a\ttab"),
    Text("a link", style="link https://example.org"),  # its own link and meta: the
    Text.assemble(("meta", Style.from_meta({"k": 1}))),  # place is added as DataTable does
    42,
    None,
]


class TablesApp(App[None]):
    CSS = ".alt ListTable > .datatable--header { color: red; }"

    def compose(self) -> ComposeResult:
        yield ListTable(id="fast")

    def on_mount(self) -> None:
        table = self.query_one(ListTable)
        for width in (6, 12, 1, None):
            table.add_column(Text("Head", style="italic"), width=width)
        table.add_column("[b]Markup head[/]")
        for cell in CELLS:
            table.add_row(cell, cell, cell, cell, cell)
        table.add_row(*CELLS[:5], height=2)  # taller rows go DataTable's way


def _both(table: ListTable, row: int, column: int, width: int, **flags: Any) -> tuple[Any, Any]:
    base = Style(color="white", bgcolor="black")
    table._cell_render_cache.clear()
    fast = table._render_cell(row, column, base, width, **flags)
    table._cell_render_cache.clear()
    slow = DataTable._render_cell(table, row, column, base, width, **flags)
    return fast, slow


async def test_cells_are_drawn_as_datatable_draws_them() -> None:
    app = TablesApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ListTable)
        await pilot.pause()
        checked = 0
        for row in range(-1, table.row_count):
            for column, col in enumerate(table.ordered_columns):
                width = col.get_render_width(table)
                for flags in ({}, {"cursor": True}, {"hover": True}):
                    fast, slow = _both(table, row, column, width, **flags)
                    assert fast == slow, (row, column, flags)
                    checked += 1
        assert checked > 200


async def test_component_styles_are_kept_until_a_restyle() -> None:
    """ListTable keeps a component's styles (Textual works out their Rich style at
    each read, three times a line drawn) until the stylesheet restyles the table: a
    class on an ancestor, or focus, gives the table's new styles at once."""
    app = TablesApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ListTable)
        await pilot.pause()

        def fresh(name: str) -> Style:
            return DOMNode.get_component_styles(table, name).rich_style

        header = table.get_component_styles("datatable--header")
        assert table.get_component_styles("datatable--header") is header  # kept
        assert header.rich_style == fresh("datatable--header")
        app.screen.add_class("alt")
        await pilot.pause()
        restyled = table.get_component_styles("datatable--header").rich_style
        assert restyled != header.rich_style and restyled == fresh("datatable--header")
        assert restyled.color is not None and restyled.color.name == "#ff0000"

        table.focus()
        await pilot.pause()
        focused = table.get_component_styles("datatable--cursor").rich_style
        table.blur()
        await pilot.pause()
        blurred = table.get_component_styles("datatable--cursor").rich_style
        assert focused != blurred and blurred == fresh("datatable--cursor")


@pytest.mark.parametrize("cell", [c for c in CELLS if isinstance(c, Text)])
def test_measure_of_text_is_rich_s(cell: Text) -> None:
    console = Console(width=80)
    assert _measure_fast(console, cell, 1) == measure(console, cell, 1)
