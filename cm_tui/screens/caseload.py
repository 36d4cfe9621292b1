"""Caseload: the signed-in user's clients, windowed, searchable as you type."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Input, Select, Static
from textual.widgets.data_table import ColumnKey

from cm_tui.screens.base import BaseScreen
from cm_tui.store import queries
from cm_tui.store.queries import CaseloadFilter, CaseloadRow, SortKey
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import CLIENT_STATUSES, RISK_TIERS, label
from cm_tui.widgets import cells
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import PREFETCH, ListTable, window_rows
from cm_tui.widgets.safe import literal

SORTS: tuple[SortKey, ...] = ("name", "risk", "last_contact", "age")
REACHED_CHOICES = (7, 14, 30, 60, 90)
COLUMNS = (
    ("Name", "name", 0),  # takes the width that is left (see _fit_columns)
    ("Age", "age", 3),
    ("Risk", "risk", 6),
    ("Program", "program", 9),
    ("Last", "last", 8),
    ("Next due", "next", 9),
    ("Needs", "needs", 5),
    ("Prefers", "prefers", 9),
)
NAME_MIN, NAME_MAX = 14, 40
FIND_PAGES = 20  # windows loaded at most to show a client just added


class SearchBox(Input):
    """The caseload's search box: each change goes to its screen as it happens, not
    one message later (Input.Changed). On SQLite the rows are read on the spot, so
    the letter typed and the rows it finds are drawn in the same frame; after the
    message, the box's own repaint came first and the rows one frame later (issue 8)."""

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        screen = self.screen if self.is_attached else None
        if isinstance(screen, CaseloadScreen):
            screen.search_for(value)


class FilterMenus(Horizontal):
    """Risk, program, status, last reach and sort menus of the caseload."""

    def __init__(self, sort: SortKey) -> None:
        super().__init__(id="filter-menus")
        self.sort = sort
        self.programs: list[str] = []  # what the program menu offers

    def compose(self) -> ComposeResult:
        yield Select([(label(r), r) for r in RISK_TIERS], prompt="Risk", id="risk", compact=True)
        # Composed lazily: the programme list may already have arrived.
        self.programs = list(getattr(self.screen, "_programs", []))
        yield Select([(p, p) for p in self.programs], prompt="Program", id="program", compact=True)
        yield Select(
            [(label(s), s) for s in CLIENT_STATUSES],
            prompt="Status",
            value="active",
            id="status",
            compact=True,
        )
        yield Select(
            [(f"Unreached {n}d", n) for n in REACHED_CHOICES],
            prompt="Reached",
            id="reached",
            compact=True,
        )
        yield Select(
            [(f"Sort: {s.replace('_', ' ')}", s) for s in SORTS],
            value=self.sort,
            allow_blank=False,
            id="sort",
            compact=True,
        )

    def on_mount(self) -> None:
        # The programmes may have arrived while the menus were being built.
        self.call_after_refresh(self.offer, getattr(self.screen, "_programs", []))

    def offer(self, programs: list[str]) -> None:
        """Give the program menu these programmes (unless it has them already)."""
        if programs != self.programs and self.is_attached:
            self.programs = list(programs)
            self.query_one("#program", Select).set_options([(p, p) for p in programs])


@dataclass
class _Load:
    generation: int
    append: bool


class CaseloadScreen(BaseScreen[None]):
    """DESIGN §5.1."""

    TITLE = "Caseload"
    AUTO_FOCUS = "#caseload"  # focused once as it mounts, not moved there after
    CSS_PATH = "caseload.tcss"
    # Narrow terminals drop the sort menu (`o` cycles the sort; the summary names it).
    SIZE_CLASSES = {
        "-narrow": lambda s: s.width < 110,
    }
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("enter", "open_client", "Open", show=True),
        Binding("l", "log_contact", "Log contact"),
        Binding("s", "screening", "Screen"),
        Binding("u", "add_followup", "Follow-up"),
        # Not in the footer (full on narrow terminals); ? and the palette list it.
        Binding("n", "add_client", "Add client", show=False),
        Binding("o", "cycle_sort", "Sort"),
        Binding("a", "toggle_everyone", "Mine/all", show=False),
        Binding("escape", "leave_search", "Back to list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = CaseloadFilter()
        self.sort: SortKey = "name"
        self._generation = 0
        self._loading = False
        self._more = False
        self._rows: list[CaseloadRow] = []
        # The filter and sort of the rows on screen (None before the first window).
        self.shown: tuple[CaseloadFilter, SortKey] | None = None
        self._total: int | None = None
        self._programs: list[str] = []
        self._find_id: int | None = None  # a client just added: put the cursor on it
        self._find_pages = 0

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        with Horizontal(id="filters"):
            yield SearchBox(placeholder="/ search name, MRN, phone", id="search", compact=True)
        yield Static(id="summary")
        table = ListTable(id="caseload")
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        viewer = self.app.viewer
        who = f"{viewer.display_name} ({label(viewer.role)})" if viewer else ""
        self.sub_title = who
        table = self.query_one("#caseload", DataTable)
        for title, key, width in COLUMNS:
            table.add_column(title, key=key, width=width or NAME_MIN)
        self._fit_columns()
        table.focus()
        if viewer is not None and viewer.sees_everyone:
            self.filter = replace(self.filter, everyone=True)
        if self.app.store.is_sqlite:
            # A few ms off an index: rows are in the very first frame.
            self.read_here(self._first_window, "reading the caseload")
        else:
            self.reload()
            self._load_programs()
        # The menus are mounted just after the first frame: the list paints first.
        self.call_after_refresh(self._mount_menus)

    def _mount_menus(self) -> None:
        filters = self.query_one("#filters", Horizontal)
        if self.is_attached and filters.is_attached and not self.query("#filter-menus"):
            if self.app.store.is_sqlite:
                # The programmes in use, for their menu: a few index probes (a skip
                # scan), read here after the rows' frame rather than in a worker that
                # would share the GIL with that frame's layout (issue 8).
                self.read_here(self._read_programs, "reading the programmes")
            filters.mount(FilterMenus(self.sort))

    def _read_programs(self) -> None:
        with self.app.store.read() as session:
            self._programs = queries.programs_in_use(session)

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Give the name column what the others leave (names matter most)."""
        table = self.query_one("#caseload", DataTable)
        fixed = sum(w for _, _, w in COLUMNS) + 2 * table.cell_padding * len(COLUMNS) + 2
        width = max(NAME_MIN, min(NAME_MAX, self.size.width - fixed))
        column = table.columns.get(ColumnKey("name"))
        if column is not None and column.width != width:
            column.width = width
            column.auto_width = False
            table.refresh(layout=True)

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        """Start again from the first window (a filter, sort or search changed).

        Within one person's caseload on SQLite (a few thousand clients at most, every
        window and count off its index: a few ms even for a one-letter search), the
        window is read on the spot, so the rows come in the same frame as the keystroke
        or choice that asked for them, not one frame later from a worker that shares
        the GIL with that frame (issue 8). The whole organisation's list and
        PostgreSQL (a round trip to a server) read in a worker.
        """
        if self.app.store.is_sqlite and not self.filter.whole_organisation(self.app.viewer):
            self.read_here(self._first_window, "reading the caseload")
            return
        self._generation += 1
        self._rows = []
        self._more = False
        self._load_window(self._generation, None, count=True)

    def _window(self) -> int:
        """Rows a window reads (a keystroke of search costs less the fewer there are)."""
        return window_rows(self.app.size.height)

    def _first_window(self) -> None:
        self._generation += 1
        now = utcnow()
        window = self._window()
        with self.app.store.read() as session:
            rows = queries.caseload_page(
                session, self.app.viewer, self.filter, self.sort, None, window + 1, now
            )
            total = queries.caseload_count(session, self.app.viewer, self.filter, now)
        self._show(self._generation, rows, total, False, now, window)

    def _load_next(self) -> None:
        if self._loading or not self._more or not self._rows:
            return
        self._load_window(self._generation, self._rows[-1].cursor, count=False)

    @work(thread=True, exclusive=True, group="caseload", exit_on_error=False)
    def _load_window(self, generation: int, after: tuple[Any, ...] | None, count: bool) -> None:
        self._loading = True
        viewer = self.app.viewer
        flt, sort = self.filter, self.sort
        now = utcnow()
        window = self._window()
        try:
            with self.app.store.read() as session:
                rows = queries.caseload_page(session, viewer, flt, sort, after, window + 1, now)
                total = queries.caseload_count(session, viewer, flt, now) if count else None
        finally:
            self._loading = False
        self.app.call_from_thread(
            self._show, generation, rows, total, after is not None, now, window
        )

    @work(thread=True, group="caseload-meta", exit_on_error=False)
    def _load_programs(self) -> None:
        with self.app.store.read() as session:
            programs = queries.programs_in_use(session)
        self.app.call_from_thread(self._set_programs, programs)

    def _set_programs(self, programs: list[str]) -> None:
        self._programs = programs
        menus = next(iter(self.query("#filter-menus").results(FilterMenus)), None)
        if menus is not None and menus.is_mounted:
            # Just after the lazy mount the menu may not have built its list yet; menus
            # still being built take the list as they mount (FilterMenus.on_mount).
            menus.call_after_refresh(menus.offer, programs)

    def _menu(self, menu_id: str) -> Select[Any] | None:
        """A filter menu, or None in the moment before the menus are mounted."""
        found = self.query(f"#{menu_id}").results(Select)
        return next(iter(found), None)

    def _show(
        self,
        generation: int,
        rows: list[CaseloadRow],
        total: int | None,
        append: bool,
        now: Any,
        window: int,
    ) -> None:
        """``rows``: up to ``window`` + 1 read (one more: there are more to load)."""
        if generation != self._generation:
            return  # a newer search or filter has started; this result is stale
        table = self.query_one("#caseload", ListTable)
        self._more = len(rows) > window
        rows = rows[:window]
        if not append:
            keep = self._highlighted_id()
            table.clear()
            self._rows = []
            self.shown = (self.filter, self.sort)
        else:
            keep = None
        for row in rows:
            table.add_row(*self._cells(row, now), key=str(row.id))
        table.lay_out_now()
        self._rows.extend(rows)
        if total is not None:
            self._total = total
        if keep is not None:
            with contextlib.suppress(Exception):
                table.move_cursor(row=table.get_row_index(str(keep)), animate=False)
        self._update_summary()
        self._find_added()

    def _find_added(self) -> None:
        """Move the cursor to the client just added, loading further windows to reach it."""
        target = self._find_id
        if target is None:
            return
        table = self.query_one("#caseload", DataTable)
        if any(r.id == target for r in self._rows):
            self._find_id = None
            table.move_cursor(row=table.get_row_index(str(target)), animate=False)
        elif self._more and self._find_pages < FIND_PAGES:
            self._find_pages += 1
            self._load_next()
        else:
            self._find_id = None
            self.notify("The new client is not in this list: check the search and filters.")

    def _cells(self, row: CaseloadRow, now: Any) -> list[Any]:
        prefers = label(row.preferred_contact)
        return [
            literal(row.display_name, one_line=True),
            cells.age(row.dob, now),
            cells.risk(row.risk_tier),
            literal(row.program or "—", one_line=True),
            cells.ago(row.last_contact_at, now),
            cells.due(row.next_due_at, now),
            cells.count(row.open_needs),
            literal(prefers),
        ]

    def _update_summary(self) -> None:
        shown = len(self._rows)
        total = self._total if self._total is not None else shown
        scope = "everyone's clients" if self.filter.everyone else "your clients"
        if total == 0:
            text = f"No clients match · {scope}"
            if self.filter.search:
                text += f" · search “{self.filter.search}”"
        else:
            text = f"{shown:,} of {total:,} · {scope} · sorted by {queries.SORT_LABELS[self.sort]}"
        # height 1 in caseload.tcss: no new layout for a new line of text
        self.query_one("#summary", Static).update(literal(text), layout=False)

    def _highlighted_id(self) -> int | None:
        table = self.query_one("#caseload", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None

    # ------------------------------------------------------------ events

    @on(DataTable.RowHighlighted, "#caseload")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - PREFETCH:
            self._load_next()

    @on(DataTable.RowSelected, "#caseload")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_client(int(event.row_key.value))

    def search_for(self, text: str) -> None:
        """The search box changed (SearchBox)."""
        if text != self.filter.search:
            self.filter = replace(self.filter, search=text)
            self.reload()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one("#caseload", DataTable).focus()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else event.value
        sid = event.select.id
        before = (self.filter, self.sort)
        if sid == "sort":
            if value is None or value == self.sort:
                return
            self.sort = value
        elif sid == "risk":
            self.filter = replace(self.filter, risk=value)
        elif sid == "program":
            self.filter = replace(self.filter, program=value)
        elif sid == "status":
            self.filter = replace(self.filter, status=value)
        elif sid == "reached":
            self.filter = replace(self.filter, not_reached_days=value)
        else:
            return
        if (self.filter, self.sort) != before:  # a Select's initial value is no change
            self.reload()

    # ------------------------------------------------------------ actions

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_leave_search(self) -> None:
        self.query_one("#caseload", DataTable).focus()

    def action_open_client(self) -> None:
        client_id = self._highlighted_id()
        if client_id is not None:
            self.open_client(client_id)

    def open_client(self, client_id: int) -> None:
        from cm_tui.screens.client import open_client

        open_client(self.app, client_id)

    def action_log_contact(self) -> None:
        from cm_tui.screens.contact_form import open_contact_form

        client_id = self._highlighted_id()
        if client_id is not None:
            open_contact_form(self, client_id)

    def contact_logged(self, _logged: Any) -> None:
        """A contact was saved (from here or anywhere): the row's last contact moved."""
        if self._rows:
            self.reload()

    def action_screening(self) -> None:
        from cm_tui.screens.screening import start_screening

        client_id = self._highlighted_id()
        if client_id is not None:
            start_screening(self.app, client_id)

    def action_add_followup(self) -> None:
        from cm_tui.screens.followups import add_followup

        client_id = self._highlighted_id()
        if client_id is not None:
            add_followup(self.app, client_id)

    def followup_saved(self, _result: Any) -> None:
        """A follow-up was added or changed: the row's next due may have moved."""
        if self._rows:
            self.reload()

    def action_add_client(self) -> None:
        from cm_tui.screens.client_form import open_client_form

        open_client_form(self.app, None, self.client_saved)

    def client_saved(self, saved: Any) -> None:
        """A client was added (or edited): reload with the cursor on them."""
        self._find_id = saved.client_id
        self._find_pages = 0
        self.reload()

    def action_cycle_sort(self) -> None:
        nxt = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.set_sort(nxt)

    def set_sort(self, sort: SortKey) -> None:
        menu = self._menu("sort")
        if menu is not None:
            menu.value = sort  # its Changed message reloads
        elif sort != self.sort:
            self.sort = sort
            self.reload()

    def action_toggle_everyone(self) -> None:
        viewer = self.app.viewer
        if viewer is None or not viewer.sees_everyone:
            self.notify("Only supervisors see every client here; use ctrl+p to find anyone.")
            return
        self.filter = replace(self.filter, everyone=not self.filter.everyone)
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_everyone":
            viewer = self.app.viewer
            return bool(viewer and viewer.sees_everyone)
        return True

    def on_screen_resume(self) -> None:
        # Coming back from a client: refresh the window in place (last contact may have
        # moved). The first resume is the screen's own start, already loaded.
        if self.back_from_cover():
            self.reload()

    def screen_commands(self) -> list[SystemCommand]:
        cmds = [
            SystemCommand(
                f"Sort caseload by {queries.SORT_LABELS[s]}",
                "Caseload order",
                lambda s=s: self.set_sort(s),
            )
            for s in SORTS
        ]
        cmds.append(
            SystemCommand("Search caseload", "Focus the search box (/)", self.action_focus_search)
        )
        cmds.append(
            SystemCommand(
                "Log contact",
                "Log a call or visit with the highlighted client (l)",
                self.action_log_contact,
            )
        )
        cmds.append(
            SystemCommand("Add client", "A new client on your caseload (n)", self.action_add_client)
        )
        if self.app.viewer and self.app.viewer.sees_everyone:
            cmds.append(
                SystemCommand(
                    "Caseload: mine / everyone", "Toggle the scope (a)", self.action_toggle_everyone
                )
            )
        return cmds
