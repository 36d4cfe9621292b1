"""Import a panel list: pick a file, preview it, map its columns, dry run, confirm (DESIGN §7).

All file and database work runs in thread workers; everything read from the file
is shown with `literal()` (a cell holding `[bold]` or an escape sequence is text).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Header, Input, Select, Static

from cm_tui.screens.base import BaseModal, BaseScreen
from cm_tui.services.importer import (
    IMPORT_ROLES,
    ImportFailed,
    ImportResult,
    Preview,
    import_clients,
    preview_file,
)
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.safe import literal

SKIP = "__skip__"
PREVIEW_ROWS = 8
ERRORS_SHOWN = 200


def open_import(app: App[Any]) -> None:
    """Open the import screen (supervisors and admins; others are told why not)."""
    viewer = getattr(app, "viewer", None)
    if viewer is None or viewer.role not in IMPORT_ROLES:
        app.notify("Only supervisors and admins import panel files.", severity="warning")
        return
    app.push_screen(ImportClientsScreen())


@dataclass
class _Checked:
    path: Path
    mapping: dict[str, str]
    result: ImportResult


class ConfirmImport(BaseModal[bool]):
    """The last question before the panel is written."""

    CSS_PATH = "import_clients.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Import"),
        Binding("escape,n", "answer(False)", "Cancel"),
    ]

    def __init__(self, question: str, detail: str) -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="import-confirm"):
            yield Static(literal(self.question, "bold"))
            yield Static(literal(self.detail))
            with Horizontal(id="import-confirm-buttons"):
                yield Button("Cancel (n)", id="cancel", compact=True)
                yield Button("Import (y)", id="go", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ImportClientsScreen(BaseScreen[None]):
    TITLE = "Import clients"
    CSS_PATH = "import_clients.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+o", "preview", "Preview"),
        Binding("ctrl+t", "dry_run", "Dry run"),
        Binding("ctrl+s", "import", "Import"),
    ]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.initial_path = path
        self.preview: Preview | None = None
        self.checked: _Checked | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=getattr(self.app, "show_clock", False))
        with Horizontal(id="import-file"):
            yield Input(
                value=self.initial_path,
                placeholder="Path to a CSV file (UTF-8), then enter",
                id="import-path",
                compact=True,
            )
            yield Button("Preview", id="import-preview", compact=True)
        yield Static(id="import-info")
        table: DataTable[Any] = DataTable(id="import-rows", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(literal("Columns: each feeds a client field, or is skipped"), id="map-title")
        yield VerticalScroll(id="import-map")
        with Horizontal(id="import-actions"):
            yield Button("Dry run (ctrl+t)", id="import-dry", compact=True, disabled=True)
            yield Button(
                "Import (ctrl+s)", id="import-go", variant="primary", compact=True, disabled=True
            )
        yield Static(id="import-result")
        errors: DataTable[Any] = DataTable(id="import-errors", cursor_type="row")
        yield errors
        yield KeyBar()

    def on_mount(self) -> None:
        viewer = getattr(self.app, "viewer", None)
        self.sub_title = viewer.display_name if viewer else ""
        errors = self.query_one("#import-errors", DataTable)
        errors.add_column("Line", width=6)
        errors.add_column("Column", width=18)
        errors.add_column("MRN", width=12)
        errors.add_column("Problem")
        errors.display = False
        self.query_one("#import-path", Input).focus()
        if self.initial_path:
            self.action_preview()

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        if not self.busy:
            self.app.pop_screen()

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import-preview")
    def action_preview(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._say("Type the path of a CSV file first.", "warning")
            return
        self._load_preview(Path(text).expanduser())

    @on(Button.Pressed, "#import-dry")
    def action_dry_run(self) -> None:
        if self.preview is None or self.busy:
            return
        if self._unmapped():
            self._show_targets(error=True)
            return
        self._run(self.preview.path, self.mapping(), dry_run=True)

    @on(Button.Pressed, "#import-go")
    def action_import(self) -> None:
        checked = self.checked
        if checked is None or self.busy:
            self._say("Run a dry run first: nothing is imported before it is clean.", "warning")
            return
        if checked.mapping != self.mapping() or checked.path != self._current_path():
            self._say("The mapping changed since the dry run; run it again.", "warning")
            return
        r = checked.result
        self.app.push_screen(
            ConfirmImport(
                f"Import {checked.path.name}?",
                f"{r.inserted:,} new clients, {r.updated:,} updated, {r.unchanged:,} unchanged. "
                "One transaction: all of it or nothing.",
            ),
            self._confirmed,
        )

    def _confirmed(self, answer: bool | None) -> None:
        if answer and self.checked is not None:
            self._run(self.checked.path, self.checked.mapping, dry_run=False)

    @on(Select.Changed)
    def _mapping_changed(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.startswith("map-"):
            self.checked = None
            self.query_one("#import-go", Button).disabled = True
            self._show_targets()

    # ------------------------------------------------------------ mapping

    def mapping(self) -> dict[str, str]:
        """What the selects say: header -> field ("" skips); unchosen headers are left out."""
        out: dict[str, str] = {}
        if self.preview is None:
            return out
        for index, header in enumerate(self.preview.headers):
            if not header.strip():
                continue
            value = self.query_one(f"#map-{index}", Select).value
            if value == SKIP:
                out[header.strip()] = ""
            elif isinstance(value, str):
                out[header.strip()] = value
        return out

    def _current_path(self) -> Path | None:
        return self.preview.path if self.preview else None

    # ------------------------------------------------------------ workers

    @work(thread=True, exclusive=True, group="import-preview", exit_on_error=False)
    def _load_preview(self, path: Path) -> None:
        try:
            preview = preview_file(path, limit=PREVIEW_ROWS)
        except ImportFailed as exc:
            self.app.call_from_thread(self._preview_failed, str(exc))
            return
        self.app.call_from_thread(self._show_preview, preview)

    @work(thread=True, exclusive=True, group="import-run", exit_on_error=False)
    def _run(self, path: Path, mapping: dict[str, str], *, dry_run: bool) -> None:
        self.app.call_from_thread(self._set_busy, True, dry_run)
        viewer = getattr(self.app, "viewer", None)
        try:
            result = import_clients(
                self.app.store,  # type: ignore[attr-defined]
                path,
                mapping=mapping,
                dry_run=dry_run,
                viewer=viewer,
            )
        except ImportFailed as exc:
            self.app.call_from_thread(self._run_failed, str(exc))
            return
        finally:
            self.app.call_from_thread(self._set_busy, False, dry_run)
        self.app.call_from_thread(self._show_result, path, mapping, result)

    # ------------------------------------------------------------ showing

    def _say(self, text: str, severity: str = "information") -> None:
        widget = self.query_one("#import-result", Static)
        widget.update(literal(text, "bold red" if severity == "error" else ""))
        widget.set_class(severity == "error", "-error")

    def _set_busy(self, busy: bool, dry_run: bool) -> None:
        self.busy = busy
        self.query_one("#import-dry", Button).disabled = busy or self.preview is None
        self.query_one("#import-go", Button).disabled = busy or self.checked is None
        if busy:
            self._say("Checking every row…" if dry_run else "Importing…")

    def _preview_failed(self, message: str) -> None:
        self.preview = None
        self.checked = None
        self.query_one("#import-rows", DataTable).clear(columns=True)
        self.query_one("#import-map", VerticalScroll).remove_children()
        self.query_one("#import-info", Static).update("")
        self.query_one("#import-dry", Button).disabled = True
        self.query_one("#import-go", Button).disabled = True
        self._say(message, "error")

    async def _show_preview(self, preview: Preview) -> None:
        self.preview = preview
        self.checked = None
        rows = max(preview.lines - 1, 0)
        self.query_one("#import-info", Static).update(
            literal(
                f"{preview.path}: {len(preview.headers)} columns, about {rows:,} rows; "
                f"the first {len(preview.rows)} are shown."
            )
        )
        table = self.query_one("#import-rows", DataTable)
        table.clear(columns=True)
        for index, header in enumerate(preview.headers):
            table.add_column(literal(header or f"(column {index + 1})", one_line=True))
        width = len(preview.headers)
        for cells in preview.rows:
            padded = [*cells[:width], *([""] * (width - len(cells)))]
            table.add_row(*(literal(c, one_line=True) for c in padded))
        box = self.query_one("#import-map", VerticalScroll)
        await box.remove_children()
        options: list[tuple[str, str]] = [("(skip this column)", SKIP)]
        options += [(f, f) for f in preview.fields]
        lines = []
        for index, header in enumerate(preview.headers):
            if not header.strip():
                continue
            target = preview.targets[index]
            select: Select[str] = Select(
                options,
                prompt="choose a field…",
                value=target if target else Select.NULL,
                id=f"map-{index}",
                compact=True,
            )
            lines.append(
                Horizontal(
                    Static(literal(header, one_line=True), classes="map-header"),
                    select,
                    classes="map-line",
                )
            )
        await box.mount_all(lines)
        self.query_one("#import-dry", Button).disabled = False
        self.query_one("#import-go", Button).disabled = True
        self.query_one("#import-errors", DataTable).display = False
        self._show_targets()

    def _unmapped(self) -> list[str]:
        if self.preview is None:
            return []
        mapping = self.mapping()
        return [h for h in self.preview.headers if h.strip() and h.strip() not in mapping]

    def _show_targets(self, *, error: bool = False) -> None:
        if self.preview is None:
            return
        unmapped = self._unmapped()
        if unmapped:
            self._say(
                f"Choose a field (or skip) for: {', '.join(unmapped)}; then a dry run (ctrl+t).",
                "error" if error else "information",
            )
        else:
            self._say("Every column is mapped. Run a dry run (ctrl+t) to check every row.")

    def _run_failed(self, message: str) -> None:
        self.checked = None
        self.query_one("#import-go", Button).disabled = True
        self.query_one("#import-errors", DataTable).display = False
        self._say(message, "error")

    def _show_result(self, path: Path, mapping: dict[str, str], result: ImportResult) -> None:
        errors = self.query_one("#import-errors", DataTable)
        errors.clear()
        if result.errors:
            self.checked = None
            for e in result.errors[:ERRORS_SHOWN]:
                errors.add_row(
                    literal(e.line),
                    literal(e.column or ""),
                    literal(e.mrn or "", one_line=True),
                    literal(e.message, one_line=True),
                )
            errors.display = True
            more = len(result.errors) - ERRORS_SHOWN
            self._say(
                result.summary() + (f" ({more:,} more problems not shown.)" if more > 0 else ""),
                "error",
            )
            self.query_one("#import-go", Button).disabled = True
            return
        errors.display = False
        if result.dry_run:
            self.checked = _Checked(path, mapping, result)
            self.query_one("#import-go", Button).disabled = False
            self._say(result.summary() + " Press ctrl+s to import.")
        else:
            self.checked = None
            self.query_one("#import-go", Button).disabled = True
            self._say(result.summary())
            self.app.notify(result.summary(), title="Import done")
