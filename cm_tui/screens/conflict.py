"""Both versions, you choose: the screen shown when someone else saved a record while
this user was editing it (optimistic locking, DESIGN §4).

Generic: it shows rows of field label / what you started from / theirs now / yours,
and dismisses with ``{key: "mine" | "theirs"}`` for the rows in conflict, or None
when the user gives up their edit (asked first). Rows only one side changed were
merged without asking and are shown as such. The caller saves the merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from cm_tui.screens.base import BaseModal
from cm_tui.screens.confirm import close_or_ask
from cm_tui.widgets.safe import literal

Choice = Literal["mine", "theirs"]
EMPTY = "(blank)"


@dataclass(frozen=True)
class ConflictRow:
    """One field as the two people left it (values as shown: plain text).

    ``auto``: the field was merged without asking (only one side changed it, or both
    the same way) and keeps that side; None: both changed it, the user chooses.
    """

    key: str
    label: str
    base: str
    mine: str
    theirs: str
    auto: Choice | None = None


def _cell(value: str, style: str = "") -> Text:
    return literal(
        value if value != "" else EMPTY, style or ("dim" if value == "" else ""), one_line=True
    )


class ConflictScreen(BaseModal[dict[str, str] | None]):
    """Choose, field by field, whose value to keep."""

    CSS_PATH = "conflict.tcss"
    TITLE = "Conflict"
    BINDINGS = [
        Binding("m", "choose('mine')", "Keep mine"),
        Binding("t", "choose('theirs')", "Take theirs"),
        Binding("M", "choose_all('mine')", "All mine"),
        Binding("T", "choose_all('theirs')", "All theirs"),
        Binding("ctrl+s", "save", "Save merge", priority=True),
        Binding("escape", "cancel", "Discard my edit"),
        # A modal screen does not reach the app's keys: ? is offered here too.
        Binding("question_mark", "app.help", "Keys", show=False),
    ]
    blocks_navigation = True

    def __init__(self, title: str, explanation: str, rows: Sequence[ConflictRow]) -> None:
        super().__init__()
        self.title_text = title
        self.explanation = explanation
        self.rows = list(rows)
        self.choices: dict[str, str] = {}

    @property
    def open_rows(self) -> list[ConflictRow]:
        return [r for r in self.rows if r.auto is None]

    def compose(self) -> ComposeResult:
        with Vertical(id="conflict"):
            yield Static(literal(self.title_text, "bold"), id="conflict-title")
            yield Static(literal(self.explanation), id="conflict-explanation")
            yield DataTable(id="conflict-rows", cursor_type="row", zebra_stripes=True)
            yield Static(id="conflict-detail")
            yield Static(id="conflict-error")
            yield Static(
                Text(
                    "↑↓ field · m keep mine · t take theirs · M / T all · ctrl+s save · "
                    "esc discard my edit",
                    style="dim",
                ),
                id="conflict-keys",
            )

    def on_mount(self) -> None:
        table = self.query_one("#conflict-rows", DataTable)
        for title, key, width in (
            ("Field", "field", 14),
            ("You started from", "base", 19),
            ("Theirs now", "theirs", 19),
            ("Yours", "mine", 19),
            ("Keep", "keep", 15),
        ):
            table.add_column(title, key=key, width=width)
        for row in self.rows:
            table.add_row(
                literal(row.label, "bold" if row.auto is None else "", one_line=True),
                _cell(row.base),
                _cell(row.theirs, "bold" if row.auto is None else ""),
                _cell(row.mine, "bold" if row.auto is None else ""),
                self._keep_cell(row),
                key=row.key,
            )
        # Start on the first field that needs a choice.
        first = next((i for i, r in enumerate(self.rows) if r.auto is None), 0)
        table.move_cursor(row=first, animate=False)
        table.focus()
        self._show_detail()

    def _keep_cell(self, row: ConflictRow) -> Text:
        if row.auto == "mine":
            return Text("yours (merged)", style="green")
        if row.auto == "theirs":
            return Text("theirs (merged)", style="green")
        choice = self.choices.get(row.key)
        if choice is None:
            return Text("choose m / t", style="bold yellow")
        return Text("▶ yours" if choice == "mine" else "▶ theirs", style="bold")

    def _current(self) -> ConflictRow | None:
        table = self.query_one("#conflict-rows", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _refresh_row(self, row: ConflictRow) -> None:
        table = self.query_one("#conflict-rows", DataTable)
        table.update_cell(row.key, ColumnKey("keep"), self._keep_cell(row))

    @on(DataTable.RowHighlighted, "#conflict-rows")
    def _moved(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self._current()
        detail = self.query_one("#conflict-detail", Static)
        if row is None:
            detail.update("")
            return
        parts: list[Any] = [literal(row.label, "bold")]
        if row.auto == "mine":
            parts.append(Text(" — only you changed it: yours is kept", style="green"))
        elif row.auto == "theirs":
            parts.append(Text(" — only they changed it: theirs is kept", style="green"))
        for title, value in (
            ("started from", row.base),
            ("theirs now  ", row.theirs),
            ("yours       ", row.mine),
        ):
            parts += ["\n", Text(f"{title}: ", style="dim"), literal(value or EMPTY)]
        detail.update(Text.assemble(*parts))

    def _set_error(self, message: str) -> None:
        self.query_one("#conflict-error", Static).update(literal(message, "bold red"))

    # ------------------------------------------------------------ actions

    def action_choose(self, choice: str) -> None:
        row = self._current()
        if row is None:
            return
        if row.auto is not None:
            self._set_error(f"{row.label} was merged without asking: only one side changed it.")
            return
        self.choices[row.key] = choice
        self._refresh_row(row)
        self._set_error("")
        # On to the next field still waiting for a choice.
        table = self.query_one("#conflict-rows", DataTable)
        index = self.rows.index(row)
        later = [
            i
            for i, r in enumerate(self.rows)
            if i > index and r.auto is None and r.key not in self.choices
        ]
        if later:
            table.move_cursor(row=later[0], animate=False)

    def action_choose_all(self, choice: str) -> None:
        for row in self.open_rows:
            self.choices[row.key] = choice
            self._refresh_row(row)
        self._set_error("")

    def action_save(self) -> None:
        waiting = [r.label for r in self.open_rows if r.key not in self.choices]
        if waiting:
            self._set_error(f"Choose mine (m) or theirs (t) for: {', '.join(waiting)}.")
            table = self.query_one("#conflict-rows", DataTable)
            first = next(i for i, r in enumerate(self.rows) if r.label == waiting[0])
            table.move_cursor(row=first, animate=False)
            return
        self.dismiss(dict(self.choices))

    def action_cancel(self) -> None:
        close_or_ask(
            self,
            True,
            "Discard your edit?",
            "Their version stays as saved; nothing you changed in this form is kept.",
        )
