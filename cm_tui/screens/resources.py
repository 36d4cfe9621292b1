"""The community resource directory: search as you type, add and edit entries.

Reachable from the command palette ("Resource directory"). The list is windowed
(one page of the search, by name); `/` searches (name, domain or language),
`a` adds, `e` or Enter edits the highlighted entry. The form checks what it can
at once (name, domains, phone) and the service has the last word.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Header, Input, Static

from cm_tui.screens.base import BaseScreen
from cm_tui.screens.referrals import ReferralsModal
from cm_tui.services import resources as rsv
from cm_tui.store.models import Resource
from cm_tui.store.vocab import label
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import SafeInput, literal

PAGE = 100
FIELDS = (
    ("name", "Name", "e.g. Eastside Food Pantry"),
    ("domains", "Domains (separate with ;)", "food; benefits"),
    ("phone", "Phone", "(555) 010-1000"),
    ("address", "Address", ""),
    ("hours", "Hours", "Mon-Fri 9-5"),
    ("eligibility", "Eligibility", "who may use it"),
    ("languages", "Languages (separate with ;)", "English; Spanish"),
    ("notes", "Notes", ""),
)


class ResourceForm(ReferralsModal):
    """Add (resource None) or edit a directory entry."""

    DEFAULT_CSS = (
        ReferralsModal.DEFAULT_CSS
        + """
    ResourceForm .field-label { margin-top: 0; }
    """
    )

    def __init__(self, resource: Resource | None = None) -> None:
        super().__init__()
        self.resource = resource

    def compose(self) -> ComposeResult:
        r = self.resource
        values = {
            "name": r.name if r else "",
            "domains": "; ".join(r.domains or []) if r else "",
            "phone": (r.phone or "") if r else "",
            "address": (r.address or "") if r else "",
            "hours": (r.hours or "") if r else "",
            "eligibility": (r.eligibility or "") if r else "",
            "languages": "; ".join(r.languages or []) if r else "",
            "notes": (r.notes or "") if r else "",
        }
        with Vertical(id="resource-form"):
            yield Static(Text("Edit resource" if r else "Add a resource", style="bold"))
            for key, title, hint in FIELDS:
                yield Static(title, classes="field-label")
                yield SafeInput(values[key], id=f"res-{key}", placeholder=hint, compact=True)
            yield Static(classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#res-name", Input).focus()

    def action_save(self) -> None:
        v = {key: self.query_one(f"#res-{key}", Input).value for key, _t, _h in FIELDS}
        try:
            data = rsv.ResourceInput(
                name=v["name"],
                domains=rsv.parse_domains(v["domains"]),
                phone=v["phone"],
                address=v["address"],
                hours=v["hours"],
                eligibility=v["eligibility"],
                languages=rsv.parse_languages(v["languages"]),
                notes=v["notes"],
            )
        except rsv.ResourceError as exc:
            self._set_error(f"Not saved: {exc}")
            return
        rid = self.resource.id if self.resource is not None else None
        if rid is None:
            self.run_service(lambda app: rsv.create_resource(app.store, app.viewer, data))
        else:
            self.run_service(lambda app: rsv.update_resource(app.store, app.viewer, rid, data))


class ResourcesScreen(BaseScreen[None]):
    TITLE = "Resource directory"
    DEFAULT_CSS = """
    ResourcesScreen #res-search { margin: 0 1; }
    ResourcesScreen #res-count { height: 1; padding: 0 1; color: $text-muted; }
    ResourcesScreen #res-detail { height: auto; max-height: 6; padding: 0 1;
        border-top: solid $primary-darken-2; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Resource] = []
        self.loaded = False
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=getattr(self.app, "show_clock", False))
        yield Input(id="res-search", placeholder="/ search name, domain or language", compact=True)
        yield Static(id="res-count")
        yield ListTable(id="resources")
        yield Static(id="res-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#resources", DataTable)
        for title, width in (
            ("Name", 34),
            ("Domains", 26),
            ("Languages", 22),
            ("Phone", 15),
            ("Hours", 24),
        ):
            table.add_column(title, width=width)
        table.focus()
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self._load(self.query_one("#res-search", Input).value, self._generation)

    @work(thread=True, exclusive=True, group="resources-load", exit_on_error=False)
    def _load(self, text: str, generation: int) -> None:
        app: Any = self.app
        rows = rsv.search_resources(app.store, text, limit=PAGE + 1)
        app.call_from_thread(self._show, rows, generation)

    def _show(self, rows: list[Resource], generation: int) -> None:
        if generation != self._generation:
            return
        more = len(rows) > PAGE
        self.rows = rows[:PAGE]
        table = self.query_one("#resources", DataTable)
        table.clear()
        for r in self.rows:
            table.add_row(
                literal(r.name, one_line=True),
                literal(", ".join(label(d) for d in r.domains or []), one_line=True),
                literal(", ".join(r.languages or []) or "—", one_line=True),
                literal(r.phone or "—"),
                literal(r.hours or "", one_line=True),
            )
        count = f"{len(self.rows)} resource{'s' if len(self.rows) != 1 else ''}"
        if more:
            count = f"first {PAGE} shown: narrow the search"
        self.query_one("#res-count", Static).update(Text(count, style="dim"))
        self.loaded = True
        self._show_detail()

    @on(Input.Changed, "#res-search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#res-search")
    def _search_done(self) -> None:
        self.query_one("#resources", DataTable).focus()

    @on(DataTable.RowHighlighted, "#resources")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#resources")
    def _selected(self) -> None:
        self.action_edit()

    def current(self) -> Resource | None:
        table = self.query_one("#resources", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _show_detail(self) -> None:
        r = self.current()
        detail = self.query_one("#res-detail", Static)
        if r is None:
            detail.update(Text("No resources match.", style="dim") if self.loaded else "")
            return
        parts: list[Any] = [literal(r.name, "bold")]
        for title, value in (
            ("Address", r.address),
            ("Eligibility", r.eligibility),
            ("Notes", r.notes),
        ):
            if value:
                parts += ["\n", Text(f"{title}: ", style="dim"), literal(value)]
        detail.update(Text.assemble(*parts))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_search(self) -> None:
        self.query_one("#res-search", Input).focus()

    def _saved(self, result: Any) -> None:
        if result:
            self.notify("Saved.")
            self.reload()

    def action_add(self) -> None:
        self.app.push_screen(ResourceForm(None), self._saved)

    def action_edit(self) -> None:
        r = self.current()
        if r is None:
            self.notify("Highlight a resource first.")
            return
        self.app.push_screen(ResourceForm(r), self._saved)
