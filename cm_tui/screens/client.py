"""Client: the one-page pre-call brief (DESIGN §5.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual.widgets.data_table import ColumnKey

from cm_tui.screens.base import BaseScreen
from cm_tui.services.clients import NotAllowed, view_client
from cm_tui.store import queries
from cm_tui.store.queries import ClientBrief, TimelineEntry
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets import cells
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import literal

TIMELINE_PAGE = 50
NOTE_MIN = 20


class ClientScreen(BaseScreen[None]):
    TITLE = "Client"
    CSS_PATH = "client.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.brief: ClientBrief | None = None
        self._entries: list[TimelineEntry] = []
        self._more = False
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        with VerticalScroll(id="brief"):
            with Horizontal(id="top"):
                yield Static(id="identity")
                yield Static(id="care")
            yield Static(id="what-matters")
            with Horizontal(id="middle"):
                with Vertical(id="followups-box"):
                    yield ListTable(id="followups")
                with Vertical(id="needs-box"):
                    yield Static(id="needs")
                with Vertical(id="screenings-box"):
                    yield Static(id="screenings")
        yield Static("Contacts", id="timeline-title", classes="panel-title")
        yield ListTable(id="timeline")
        yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        fu = self.query_one("#followups", DataTable)
        for title, width in (("Due", 9), ("Priority", 8), ("What", 24), ("Who", 14)):
            fu.add_column(title, width=width)
        tl = self.query_one("#timeline", DataTable)
        for title, key, width in (
            ("When", "when", 16),
            ("How", "how", 9),
            ("Dir", "dir", 3),
            ("With", "with", 9),
            ("Outcome", "outcome", 12),
            ("Min", "min", 3),
            ("By", "by", 14),
            ("Note", "note", 0),
        ):
            tl.add_column(title, key=key, width=width or NOTE_MIN)
        self._fit_note_column()
        tl.focus()
        self.query_one("#identity", Static).update(Text("Loading…", style="dim"))
        self._load_brief()

    def on_resize(self) -> None:
        self._fit_note_column()

    def _fit_note_column(self) -> None:
        """The note takes whatever width the other timeline columns leave."""
        table = self.query_one("#timeline", DataTable)
        columns = list(table.columns.values())
        fixed = sum(c.width for c in columns if str(c.key.value) != "note")
        width = max(NOTE_MIN, self.size.width - fixed - 2 * table.cell_padding * len(columns) - 2)
        note = table.columns.get(ColumnKey("note"))
        if note is not None and note.width != width:
            note.width = width
            note.auto_width = False
            table.refresh(layout=True)

    # ------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="client", exit_on_error=False)
    def _load_brief(self) -> None:
        viewer = self.app.viewer
        try:
            brief = view_client(self.app.store, viewer, self.client_id)
        except NotAllowed as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        with self.app.store.read() as session:
            entries = queries.contact_timeline(session, self.client_id, None, TIMELINE_PAGE + 1)
        self.app.call_from_thread(self._show_brief, brief, entries)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def _load_more(self, before: tuple[datetime, int]) -> None:
        self._loading = True
        try:
            with self.app.store.read() as session:
                entries = queries.contact_timeline(
                    session, self.client_id, before, TIMELINE_PAGE + 1
                )
        finally:
            self._loading = False
        self.app.call_from_thread(self._add_entries, entries)

    def _refused(self, message: str) -> None:
        self.notify(message, severity="error")
        self.app.pop_screen()

    def _show_brief(self, brief: ClientBrief, entries: list[TimelineEntry]) -> None:
        self.brief = brief
        now = utcnow()
        c = brief.client
        self.sub_title = f"{c.given_name} {c.family_name}"
        name = Text.assemble(
            literal(f"{c.family_name}, {c.given_name}", "bold"),
            literal(f"  “{c.preferred_name}”" if c.preferred_name else "", "italic"),
        )
        age = cells.age(c.dob, now)
        identity = Group(
            name,
            Text.assemble(
                "Age ",
                age,
                "  ",
                literal(c.sex or ""),
                "  MRN ",
                literal(c.mrn or "—"),
                "  ",
                literal(c.language or "", "cyan"),
            ),
            Text.assemble(
                "☎ ",
                literal(c.phone or "no phone", "bold"),
                literal(f"  alt {c.alt_phone}" if c.alt_phone else ""),
            ),
            Text.assemble(
                "Prefers ",
                literal(label(c.preferred_contact), "bold"),
                literal(f", {c.best_time}" if c.best_time else ""),
            ),
        )
        self.query_one("#identity", Static).update(identity)
        care = Group(
            Text.assemble(
                "Risk ",
                cells.risk(c.risk_tier),
                "  ",
                literal(c.program or ""),
                "  ",
                literal(label(c.status)),
            ),
            Text.assemble(
                "CM ", literal(brief.care_manager or "—"), "  CHW ", literal(brief.chw or "—")
            ),
            Text.assemble(
                "PCP ",
                literal(c.pcp_name or "—", "bold"),
                literal(f", {c.pcp_practice}" if c.pcp_practice else ""),
            ),
            Text.assemble("PCP ☎ ", literal(c.pcp_phone or "—")),
        )
        self.query_one("#care", Static).update(care)
        wm = self.query_one("#what-matters", Static)
        wm.border_title = "What matters to me"
        wm.update(literal(c.what_matters or "Not recorded yet — ask what matters most to them."))

        fu = self.query_one("#followups", DataTable)
        fu.clear()
        for f, who in brief.open_followups:
            fu.add_row(
                cells.due(f.due_at, now),
                literal(f.priority, cells.PRIORITY_STYLE.get(f.priority, "")),
                literal(f.title, one_line=True),
                literal(who or "—", one_line=True),
            )
        self.query_one(
            "#followups-box"
        ).border_title = f"Open follow-ups ({len(brief.open_followups)})"

        needs: list[Text] = []
        for need in brief.open_needs:
            needs.append(
                Text.assemble(
                    literal(label(need.domain), "bold"), "  ", literal(label(need.status), "yellow")
                )
            )
            for resource, status in need.referrals:
                needs.append(
                    Text.assemble(
                        "  → ",
                        literal(resource, one_line=True),
                        "  ",
                        literal(label(status), "dim"),
                    )
                )
        self.query_one("#needs", Static).update(
            Group(*needs) if needs else Text("No open needs", style="dim")
        )
        self.query_one("#needs-box").border_title = f"Open needs ({len(brief.open_needs)})"

        screenings: list[Text] = []
        for s in brief.screenings:
            result = s.result_json or {}
            positives = ", ".join(label(d) for d in sorted(result.get("positive_domains", [])))
            screenings.append(
                Text.assemble(
                    literal(s.script_id, "bold"),
                    "  ",
                    cells.ago(s.started_at, now),
                    "  ",
                    literal(label(s.status), "yellow" if s.status != "completed" else "dim"),
                )
            )
            if positives:
                screenings.append(Text.assemble("  positive: ", literal(positives, "red")))
            if result.get("flags"):
                flags = ", ".join(label(f) for f in result["flags"])
                screenings.append(Text.assemble("  ⚑ ", literal(flags, "bold red")))
        self.query_one("#screenings", Static).update(
            Group(*screenings) if screenings else Text("No screenings yet", style="dim")
        )
        self.query_one("#screenings-box").border_title = "Screenings"

        self.query_one("#timeline-title", Static).update(
            literal(f"Contacts ({brief.contact_count:,}), newest first")
        )
        self.query_one("#timeline", DataTable).clear()
        self._entries = []
        self._add_entries(entries)

    def _add_entries(self, entries: list[TimelineEntry]) -> None:
        self._more = len(entries) > TIMELINE_PAGE
        entries = entries[:TIMELINE_PAGE]
        tl = self.query_one("#timeline", DataTable)
        now = utcnow()
        for e in entries:
            c = e.contact
            note = c.note or ""
            if e.addenda:
                note = f"[+{len(e.addenda)} addend.] " + note
            tl.add_row(
                cells.when_short(c.occurred_at, now),
                literal(label(c.method)),
                Text("out" if c.direction == "outbound" else "in"),
                literal(label(c.party)),
                literal(label(c.outcome), "green" if c.outcome == "reached" else ""),
                Text(str(c.duration_min) if c.duration_min is not None else "—"),
                literal(e.author or "—", one_line=True),
                literal(note, one_line=True),
                key=str(c.id),
            )
        self._entries.extend(entries)
        if len(self._entries) == len(entries) and entries:
            self._show_detail(0)
        elif not self._entries:
            self.query_one("#detail", Static).update(Text("No contacts logged yet.", style="dim"))

    def _show_detail(self, index: int) -> None:
        if not 0 <= index < len(self._entries):
            return
        e = self._entries[index]
        c = e.contact
        now = utcnow()
        parts: list[Any] = [
            Text.assemble(
                cells.when(c.occurred_at, now),
                "  ",
                literal(label(c.method)),
                " · ",
                literal(label(c.outcome)),
                " · ",
                literal(e.author or "unknown"),
                style="bold",
            ),
            literal(c.note or "(no note)"),
        ]
        for add, who in e.addenda:
            parts.append(
                Text.assemble(
                    "Addendum ",
                    cells.when(add.created_at, now),
                    " by ",
                    literal(who or "unknown"),
                    ": ",
                    literal(add.text),
                    style="italic",
                )
            )
        self.query_one("#detail", Static).update(Group(*parts))

    @on(DataTable.RowHighlighted, "#timeline")
    def _timeline_moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)
        if (
            self._more
            and not self._loading
            and event.cursor_row >= event.data_table.row_count - 10
            and self._entries
        ):
            self._more = False
            self._load_more(self._entries[-1].cursor)

    def action_back(self) -> None:
        self.app.pop_screen()
