"""Client: the one-page pre-call brief (DESIGN §5.2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Select, Static
from textual.widgets.data_table import ColumnKey

from cm_tui.screens.addendum import describe_entry
from cm_tui.screens.base import BaseScreen, open_when_read
from cm_tui.services import careplans
from cm_tui.services.careplans import PlanPanel
from cm_tui.services.clients import NotAllowed, view_client
from cm_tui.store import contact_queries, queries
from cm_tui.store.contact_queries import TimelineFilter
from cm_tui.store.queries import ClientBrief, TimelineEntry
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import CONTACT_METHODS, OUTCOMES, PARTIES, label
from cm_tui.widgets import cells
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import literal

if TYPE_CHECKING:
    from textual.app import App

    from cm_tui.store.access import Viewer
    from cm_tui.store.db import Store

TIMELINE_PAGE = 50
PLAN_GOALS = 6
GOAL_STYLE = {"active": "bold", "met": "green", "not_met": "yellow"}
NOTE_MIN = 20


@dataclass(frozen=True)
class BriefRead:
    """What the brief shows, read in one go: the client, the first window of
    contacts (and their count when a filter is on) and the care-plan panel."""

    brief: ClientBrief
    entries: list[TimelineEntry]
    count: int | None
    plan: PlanPanel | None


def read_brief(
    store: Store, viewer: Viewer, client_id: int, flt: TimelineFilter, *, audited: bool
) -> BriefRead | str:
    """The brief, or why it may not be shown. ``audited``: this is the view of the
    record (an audit event, written with the read); otherwise a refresh of one."""
    if audited:
        try:
            brief = view_client(store, viewer, client_id)
        except NotAllowed as exc:
            return str(exc)
    else:
        with store.read() as session:
            found = queries.client_brief(session, viewer, client_id)
        if found is None:
            return "You no longer have access to this record."
        brief = found
    with store.read() as session:
        entries = contact_queries.timeline(session, client_id, flt, None, TIMELINE_PAGE + 1)
        count = contact_queries.timeline_count(session, client_id, flt) if flt.active else None
    plan = careplans.plan_panel(
        store, viewer, client_id, goal_limit=PLAN_GOALS, audited=False
    )  # part of the brief, whose view is audited above
    return BriefRead(brief, entries, count, plan)


def open_client(app: App[Any], client_id: int) -> None:
    """Open a client's brief with the record (read, and its view audited) in its
    first frame (screens.base.open_when_read)."""
    store, viewer = app.store, app.viewer  # type: ignore[attr-defined]
    open_when_read(
        app,
        lambda: read_brief(store, viewer, client_id, TimelineFilter(), audited=True),
        lambda read: ClientScreen(client_id, read),
        what="the record",
    )


class TimelineMenus(Horizontal):
    """The contact timeline's filter menus (method, party, outcome), showing ``flt``."""

    def __init__(self, flt: TimelineFilter) -> None:
        super().__init__(id="timeline-menus")
        self.flt = flt

    def compose(self) -> ComposeResult:
        for id_, prompt, values, value in (
            ("tl-method", "Method", CONTACT_METHODS, self.flt.method),
            ("tl-party", "With", PARTIES, self.flt.party),
            ("tl-outcome", "Outcome", OUTCOMES, self.flt.outcome),
        ):
            yield Select(
                [(label(v), v) for v in values],
                prompt=prompt,
                id=id_,
                compact=True,
                value=Select.NULL if value is None else value,
            )


class ClientScreen(BaseScreen[None]):
    TITLE = "Client"
    AUTO_FOCUS = ""  # on_mount focuses the timeline (once, and without scrolling)
    CSS_PATH = ["client.tcss", "careplan.tcss"]
    SIZE_CLASSES = {
        "-narrow": lambda s: s.width < 100,
        "-wide": lambda s: s.width >= 160,
        "-tall": lambda s: s.height >= 40,
    }
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("l", "log_contact", "Log contact"),
        Binding("s", "screening", "Screen"),
        Binding("u", "add_followup", "Follow-up"),
        Binding("n", "needs", "Needs & referrals", show=False),
        Binding("a", "addendum", "Addendum"),
        Binding("p", "care_plan", "Care plan"),
        Binding("E", "programmes", "Programmes", show=False),
        # Not in the footer (full on narrow terminals); ? and the palette list it.
        Binding("e", "edit_client", "Edit client", show=False),
    ]

    def __init__(self, client_id: int, read: BriefRead | None = None) -> None:
        """``read``: the record as open_client read it, shown before the first frame;
        without it the screen reads it in a worker as it opens."""
        super().__init__()
        self.client_id = client_id
        self._read = read
        self.brief: ClientBrief | None = None
        self._entries: list[TimelineEntry] = []
        self._more = False
        self._loading = False
        self.timeline_filter = TimelineFilter()
        self.plan: PlanPanel | None = None
        self._timeline_generation = 0
        self._filtered_count: int | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        with VerticalScroll(id="brief"):
            with Horizontal(id="top"):
                yield Static(id="identity")
                yield Static(id="care")
            yield Static(id="what-matters")
            yield Static(id="careplan")
            with Horizontal(id="middle"):
                with Vertical(id="followups-box"):
                    yield ListTable(id="followups")
                with Vertical(id="needs-box"):
                    yield Static(id="needs")
                with Vertical(id="screenings-box"):
                    yield Static(id="screenings")
        with Horizontal(id="timeline-bar"):
            yield Static("Contacts", id="timeline-title", classes="panel-title")
        yield ListTable(id="timeline")
        yield Static(id="detail")
        yield KeyBar()

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
        tl.focus(scroll_visible=False)  # the brief at the top: its name line shows first
        # The menus are mounted just after the first frame: the brief paints first.
        self.call_after_refresh(self._mount_menus)
        if self._read is not None:
            read, self._read = self._read, None
            self._show_brief(read)
        else:
            self.query_one("#identity", Static).update(Text("Loading…", style="dim"))
            self._load_brief()

    def _mount_menus(self) -> None:
        bar = self.query_one("#timeline-bar", Horizontal)
        if self.is_attached and bar.is_attached and not self.query("#timeline-menus"):
            bar.mount(TimelineMenus(self.timeline_filter))

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
    def _load_brief(self, audited: bool = True) -> None:
        """The brief and the first window of contacts. The first load is the audited
        view; refreshes after this user's own change re-read without a new event."""
        generation = self._timeline_generation
        read = read_brief(
            self.app.store, self.app.viewer, self.client_id, self.timeline_filter, audited=audited
        )
        if isinstance(read, str):
            self.app.call_from_thread(self._refused, read)
        else:
            self.app.call_from_thread(self._show_brief, read, generation)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def _load_timeline(self, generation: int) -> None:
        """The first window again (the filter changed)."""
        flt = self.timeline_filter
        with self.app.store.read() as session:
            entries = contact_queries.timeline(
                session, self.client_id, flt, None, TIMELINE_PAGE + 1
            )
            count = (
                contact_queries.timeline_count(session, self.client_id, flt) if flt.active else None
            )
        self.app.call_from_thread(self._show_timeline, entries, count, generation)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def _load_more(self, before: tuple[datetime, int]) -> None:
        self._loading = True
        flt, generation = self.timeline_filter, self._timeline_generation
        try:
            with self.app.store.read() as session:
                entries = contact_queries.timeline(
                    session, self.client_id, flt, before, TIMELINE_PAGE + 1
                )
        finally:
            self._loading = False
        self.app.call_from_thread(self._append_entries, entries, generation)

    def _append_entries(self, entries: list[TimelineEntry], generation: int) -> None:
        if generation == self._timeline_generation:
            self._add_entries(entries)

    def _refused(self, message: str) -> None:
        self.notify(message, severity="error")
        self.app.pop_screen()

    def _show_brief(self, read: BriefRead, generation: int = 0) -> None:
        brief, plan = read.brief, read.plan
        self.brief = brief
        if plan is not None:
            self.plan = plan
            self._show_plan(plan)
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

        fu = self.query_one("#followups", ListTable)
        fu.clear()
        for f, who in brief.open_followups:
            fu.add_row(
                cells.due(f.due_at, now),
                literal(f.priority, cells.PRIORITY_STYLE.get(f.priority, "")),
                literal(f.title, one_line=True),
                literal(who or "—", one_line=True),
            )
        fu.lay_out_now()
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
            screenings.extend(_screening_details(result))
        self.query_one("#screenings", Static).update(
            Group(*screenings) if screenings else Text("No screenings yet", style="dim")
        )
        self.query_one("#screenings-box").border_title = "Screenings"

        self._show_timeline(read.entries, read.count, generation)

    def _show_plan(self, panel: PlanPanel) -> None:
        """One line at 80 columns; from 160, a line per goal under it."""
        box = self.query_one("#careplan", Static)
        if panel.plan is None:
            box.update(
                Text.assemble(("Care plan: ", "bold"), ("no care plan yet — p to start", "dim"))
            )
            return
        open_goals = [g for g in panel.goals if g.status == "active"]
        met = panel.plan.goals_met
        head = Text.assemble(
            ("Care plan: ", "bold"),
            f"{len(open_goals)}{'+' if panel.more_goals else ''} open goal"
            f"{'' if len(open_goals) == 1 else 's'}, {met} met",
            (" — p opens", "dim"),
        )
        if open_goals:
            head.append(" · ")
            head.append_text(literal(f"“{open_goals[0].client_words}”", one_line=True))
        head.no_wrap = True
        head.overflow = "ellipsis"
        lines = [head]
        for n, g in enumerate(panel.goals, 1):
            line = Text.assemble(
                f"  {n}. ",
                literal(f"{label(g.status):<7}", GOAL_STYLE.get(g.status, "")),
                "  ",
                literal(g.client_words, one_line=True),
            )
            if g.measurable:
                line.append(" — ", style="dim")
                line.append_text(literal(g.measurable, "dim", one_line=True))
            line.no_wrap = True
            line.overflow = "ellipsis"
            lines.append(line)
        box.update(Group(*lines))

    def _show_timeline(
        self, entries: list[TimelineEntry], count: int | None, generation: int
    ) -> None:
        if generation != self._timeline_generation:
            return  # the filter changed again since this load started
        self._filtered_count = count
        self._update_timeline_title()
        self.query_one("#timeline", DataTable).clear()
        self._entries = []
        self._add_entries(entries)

    def _update_timeline_title(self) -> None:
        total = self.brief.contact_count if self.brief else 0
        flt = self.timeline_filter
        if flt.active and self._filtered_count is not None:
            what = ", ".join(
                label(v) for v in (flt.method, flt.party, flt.outcome) if v is not None
            )
            text = f"Contacts: {self._filtered_count:,} of {total:,} ({what}), newest first"
        else:
            text = f"Contacts ({total:,}), newest first"
        self.query_one("#timeline-title", Static).update(literal(text))

    def _add_entries(self, entries: list[TimelineEntry]) -> None:
        self._more = len(entries) > TIMELINE_PAGE
        entries = entries[:TIMELINE_PAGE]
        tl = self.query_one("#timeline", ListTable)
        now = utcnow()
        for e in entries:
            c = e.contact
            tl.add_row(*self._timeline_cells(e, now), key=str(c.id))
        tl.lay_out_now()
        self._entries.extend(entries)
        if len(self._entries) == len(entries) and entries:
            self._show_detail(0)
        elif not self._entries:
            empty = (
                "No contacts match the filter."
                if self.timeline_filter.active
                else "No contacts logged yet."
            )
            self.query_one("#detail", Static).update(Text(empty, style="dim"))

    def _timeline_cells(self, e: TimelineEntry, now: datetime) -> list[Any]:
        c = e.contact
        note = c.note or ""
        if e.addenda:
            note = f"[+{len(e.addenda)} addend.] " + note
        with_ = Text("✚ PCP", style="bold magenta") if c.party == "pcp" else literal(label(c.party))
        return [
            cells.when_short(c.occurred_at, now),
            literal(label(c.method)),
            Text("out" if c.direction == "outbound" else "in"),
            with_,
            literal(label(c.outcome), "green" if c.outcome == "reached" else ""),
            Text(str(c.duration_min) if c.duration_min is not None else "—"),
            literal(e.author or "—", one_line=True),
            literal(note, one_line=True),
        ]

    def _show_detail(self, index: int) -> None:
        if not 0 <= index < len(self._entries):
            return
        self.query_one("#detail", Static).update(
            describe_entry(self._entries[index], one_line_header=True)
        )

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

    # ------------------------------------------------------------ timeline filter

    @on(Select.Changed, "#tl-method, #tl-party, #tl-outcome")
    def _filter_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        field = {"tl-method": "method", "tl-party": "party", "tl-outcome": "outcome"}[
            event.select.id or ""
        ]
        self.set_timeline_filter(replace(self.timeline_filter, **{field: value}))

    def set_timeline_filter(self, flt: TimelineFilter) -> None:
        if flt == self.timeline_filter:
            return
        self.timeline_filter = flt
        for id_, value in (
            ("#tl-method", flt.method),
            ("#tl-party", flt.party),
            ("#tl-outcome", flt.outcome),
        ):
            for select in self.query(id_).results(Select):  # none before the menus mount
                wanted = Select.NULL if value is None else value
                if select.value != wanted:
                    with select.prevent(Select.Changed):
                        select.value = wanted
        self._timeline_generation += 1
        self._more = False
        self._load_timeline(self._timeline_generation)

    # ------------------------------------------------------------ contact log

    def action_care_plan(self) -> None:
        from cm_tui.screens.careplan import CarePlanScreen

        self.app.push_screen(
            CarePlanScreen(self.client_id, self._client_label()), self._plan_closed
        )

    def _plan_closed(self, _result: object) -> None:
        if self.brief is not None:
            self._load_brief(audited=False)  # goals, follow-ups may have changed

    def _client_label(self) -> str:
        if self.brief is None:
            return ""
        c = self.brief.client
        return f"{c.family_name}, {c.given_name}"

    def action_programmes(self) -> None:
        from cm_tui.screens.programme import ProgrammesModal

        self.app.push_screen(
            ProgrammesModal(self.client_id, self._client_label()), self._plan_closed
        )

    def action_log_contact(self) -> None:
        from cm_tui.screens.contact_form import open_contact_form

        open_contact_form(self, self.client_id)

    def action_screening(self) -> None:
        from cm_tui.screens.screening import start_screening

        self._screening_opened = True
        start_screening(self.app, self.client_id)

    def action_add_followup(self) -> None:
        from cm_tui.screens.followups import add_followup

        add_followup(self.app, self.client_id)

    def action_needs(self) -> None:
        from cm_tui.screens.referrals import open_referrals

        name = ""
        if self.brief is not None:
            c = self.brief.client
            name = f"{c.family_name}, {c.given_name}"
        open_referrals(self.app, self.client_id, name, self._needs_closed)

    def _needs_closed(self, _result: object) -> None:
        if self.brief is not None:
            self._load_brief(audited=False)  # needs and follow-ups may have changed

    def followup_saved(self, _result: Any) -> None:
        if self.brief is not None:
            self._load_brief(audited=False)

    def action_edit_client(self) -> None:
        from cm_tui.screens.client_form import open_client_form

        open_client_form(self.app, self.client_id, self.client_saved)

    def client_saved(self, _saved: Any) -> None:
        """The record was edited (or an edit gave way to someone else's): show it as stored."""
        self._load_brief(audited=False)

    def on_screen_resume(self) -> None:
        # Back from a screening: its result, needs and follow-ups belong in the brief.
        if getattr(self, "_screening_opened", False) and self.brief is not None:
            self._screening_opened = False
            self._load_brief(audited=False)

    def contact_logged(self, logged: Any) -> None:
        """A contact was saved: the brief (last contact, follow-ups) and timeline refresh."""
        if logged.client_id == self.client_id and self.brief is not None:
            self._load_brief(audited=False)

    def _highlighted_entry(self) -> TimelineEntry | None:
        table = self.query_one("#timeline", DataTable)
        row = table.cursor_row
        if table.row_count == 0 or not 0 <= row < len(self._entries):
            return None
        return self._entries[row]

    def action_addendum(self) -> None:
        entry = self._highlighted_entry()
        if entry is None or self.brief is None:
            self.notify("Highlight a contact in the timeline first.")
            return
        self._open_addendum(entry)

    @work(thread=True, group="addendum-open", exit_on_error=False)
    def _open_addendum(self, entry: TimelineEntry) -> None:
        from cm_tui.services import drafts

        viewer = self.app.viewer
        with self.app.store.read() as session:
            draft = drafts.read_draft(session, viewer.id, drafts.ADDENDUM, str(entry.contact.id))
        self.app.call_from_thread(self._push_addendum, entry, draft)

    def _push_addendum(self, entry: TimelineEntry, draft: Any) -> None:
        from cm_tui.screens.addendum import AddendumForm

        if self.app.screen is not self or self.brief is None:
            return
        c = self.brief.client
        name = f"{c.family_name}, {c.given_name}"
        self.app.push_screen(AddendumForm(entry, name, draft), self._addendum_saved)

    def _addendum_saved(self, added: Any) -> None:
        if added is not None:
            self.notify("Addendum saved.", timeout=3)
            self._refresh_entry(added.contact_id)

    @work(thread=True, group="timeline-entry", exit_on_error=False)
    def _refresh_entry(self, contact_id: int) -> None:
        with self.app.store.read() as session:
            entry = contact_queries.timeline_entry(session, contact_id)
        if entry is not None:
            self.app.call_from_thread(self._replace_entry, entry)

    def _replace_entry(self, entry: TimelineEntry) -> None:
        for i, e in enumerate(self._entries):
            if e.contact.id == entry.contact.id:
                self._entries[i] = entry
                table = self.query_one("#timeline", DataTable)
                for column, value in zip(
                    table.columns, self._timeline_cells(entry, utcnow()), strict=True
                ):
                    table.update_cell(str(entry.contact.id), column, value)
                if table.cursor_row == i:
                    self._show_detail(i)
                return

    def screen_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand(
                "Log contact", "Log a call or visit with this client (l)", self.action_log_contact
            ),
            SystemCommand(
                "Care plan",
                "Goals in the client's words, interventions, barriers, progress (p)",
                self.action_care_plan,
            ),
            SystemCommand(
                "Enrol in programme",
                "Programmes: enrol (TCM adds its follow-ups), discharge (E)",
                self.action_programmes,
            ),
            SystemCommand(
                "Edit client",
                "Change this client's record: phone, language, PCP, what matters… (e)",
                self.action_edit_client,
            ),
            SystemCommand(
                "Add addendum",
                "Add to the highlighted contact's note; the note itself never changes (a)",
                self.action_addendum,
            ),
            SystemCommand(
                "Contacts: only with the PCP",
                "Filter the timeline to contacts with the PCP office",
                lambda: self.set_timeline_filter(TimelineFilter(party="pcp")),
            ),
            SystemCommand(
                "Contacts: only reached",
                "Filter the timeline to contacts that reached someone",
                lambda: self.set_timeline_filter(TimelineFilter(outcome="reached")),
            ),
            SystemCommand(
                "Contacts: show all",
                "Clear the timeline filter",
                lambda: self.set_timeline_filter(TimelineFilter()),
            ),
        ]


def _screening_details(result: dict[str, Any]) -> list[Text]:
    """Scores (with bands), scores left incomplete by a decline, and declined questions."""
    lines: list[Text] = []
    if result.get("declined_screening"):
        lines.append(Text("  declined the whole screening", style="yellow"))
        return lines
    bands = result.get("bands") or {}
    scores = result.get("scores") or {}
    if scores:
        parts = [
            f"{name} {value}" + (f" ({label(bands[name])})" if name in bands else "")
            for name, value in sorted(scores.items())
        ]
        lines.append(Text.assemble("  score: ", literal(", ".join(parts))))
    for name in sorted(result.get("incomplete_scores") or []):
        lines.append(Text.assemble("  ", literal(name), Text(" incomplete — declined", "yellow")))
    declined = sorted(result.get("declined_items") or [])
    if declined:
        lines.append(Text.assemble("  declined: ", literal(", ".join(declined), "yellow")))
    return lines
