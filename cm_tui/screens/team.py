"""The team view (DESIGN §5.6): per person, what is slipping; drill into anyone's queue.

One row per care manager, CHW and supervisor: caseload, contacts and reach rate this
week, minutes this month, open and overdue follow-ups, the oldest unreturned callback,
open needs, and contacts per day over the last four weeks (a sparkline in the row; the
highlighted person's, larger, below). The database keeps most figures as they change
(caseloads, open follow-ups and needs per person, contacts per person and hour:
migration 0007); the rest are seeks and ranges off indexes. All of it is read
before the screen is pushed (open_team), so it is drawn once, full. The app keeps
one team view and one unable-to-reach list (kept_screen), loaded at each opening.

Live refresh: when anyone changes follow-ups, clients, contacts or needs
(:class:`DataChanged`), the figures are read again and shown in one step (no "…"
flicker), the cursor staying on its person and focus where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Sparkline, Static
from textual.widgets.data_table import ColumnKey

from cm_tui.dates import relative_age
from cm_tui.screens.base import BaseScreen, kept_screen, open_when_read
from cm_tui.screens.live import DataChanged, TableSpot
from cm_tui.services import programmes
from cm_tui.services.clients import NotAllowed
from cm_tui.services.programmes import ProgrammeError, UnableToReachRow
from cm_tui.store import followup_queries as fq
from cm_tui.store.followup_queries import QueueScope, TeamBounds, TeamRow
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import literal, plain

BARS = " ▁▂▃▄▅▆▇█"
UNASSIGNED = "unassigned"
# (title, key, width); the name column takes what the others leave.
WIDE = (
    ("Name", "name", 0),
    ("Role", "role", 4),
    ("Clients", "caseload", 7),
    ("Contacts wk", "week", 11),
    ("Reach", "reach", 5),
    ("Min mo", "minutes", 8),
    ("Open", "open", 6),
    ("Overdue", "overdue", 7),
    ("Oldest callback", "callback", 15),
    ("Needs", "needs", 5),
    ("Contacts/day, 4 wks", "trend", 28),
)
NARROW = (
    ("Name", "name", 0),
    ("Clients", "caseload", 7),
    ("Wk", "week", 5),
    ("Reach", "reach", 5),
    ("Overdue", "overdue", 7),
    ("Callback", "callback", 8),
    ("Needs", "needs", 5),
)
NAME_MIN, NAME_MAX = 14, 30
LIVE_TOPICS = frozenset({"follow_ups", "clients", "contacts", "needs"})
ROLE_SHORT = {"care_manager": "CM", "chw": "CHW", "supervisor": "Sup", "admin": "Adm"}


def spark(values: tuple[int, ...] | list[int]) -> Text:
    """A one-line plot: one block character per day, scaled to the person's busiest day."""
    if not values:
        return Text("…", style="dim")
    top = max(values)
    if top == 0:
        return Text("▁" * len(values), style="dim")
    out = "".join(BARS[1 + round(v / top * (len(BARS) - 2))] if v else BARS[1] for v in values)
    return Text(out, style="cyan")


@dataclass(frozen=True)
class TeamRead:
    """Everything the team view shows, read in one go (read_team)."""

    rows: list[TeamRow]  # with their activity
    unassigned: int
    unable_to_reach: int


def read_team(
    store: Any, viewer: Any, people: Callable[[list[TeamRow], int, int], None] | None = None
) -> TeamRead:
    """The people's rows with their activity, the unassigned count and the unable-to-
    reach count. ``people(rows, unassigned, unable_to_reach)``: told as soon as all
    but the activity (contact figures, open needs) is read."""
    bounds = TeamBounds.at()
    with store.read() as session:
        rows, unassigned = fq.team_overview(session, viewer, bounds)
    utr = programmes.unable_to_reach_count(store, viewer)
    if people is not None:
        people(rows, unassigned, utr)
    with store.read() as session:
        stats = fq.contact_stats(session, [r.user_id for r in rows], bounds)
        needs = fq.open_needs_by_person(session)
    return TeamRead(fq.with_activity(rows, stats, needs), unassigned, utr)


class TeamScreen(BaseScreen[None]):
    TITLE = "Team"
    AUTO_FOCUS = "#team"  # focused once as it mounts, not moved there after
    CSS_PATH = "team.tcss"
    SIZE_CLASSES = {"-narrow": lambda s: s.width < 140}
    DEFAULT_CSS = """
    #utr-summary { height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "drill", "Their queue"),
        Binding("o", "overdue", "Their overdue"),
        Binding("g", "refresh", "Refresh", show=False),
        Binding("u", "unable_to_reach", "Unable to reach"),
    ]

    def __init__(self, read: TeamRead | None = None) -> None:
        """``read``: what open_team read, shown before the first frame; without it
        the screen reads in a worker as it opens (people first, then activity)."""
        super().__init__()
        self._read = read
        self.rows: list[TeamRow] = []
        self.unassigned = 0
        self._generation = 0
        self.columns: tuple[tuple[str, str, int], ...] = ()
        self.utr_count = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        yield Static(id="team-summary")
        yield Static(id="utr-summary")
        yield ListTable(id="team")
        with Horizontal(id="trend-box"):
            with Vertical(id="trend-text"):
                yield Static(id="trend-title")
                yield Static(id="trend-axis")
            yield Sparkline([], id="trend", summary_function=max)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Team: follow-ups, contacts and reach"
        self._set_columns()
        self.query_one("#team", DataTable).focus()
        if self._read is not None:
            read, self._read = self._read, None
            self._generation += 1
            self._show_utr(read.unable_to_reach)
            self._show(self._generation, read.rows, read.unassigned)
        else:
            self.query_one("#team-summary", Static).update(Text("Loading…", style="dim"))
            self.reload()

    def load(self, read: TeamRead) -> None:
        """Show ``read`` as if the screen had just been built: the cursor on the first
        person, laid out for the terminal's size now (open_team keeps one team view
        per app; its table, the one thing to focus, keeps the focus)."""
        self._generation += 1
        table = self.query_one("#team", ListTable)
        table.clear()  # the cursor and the scroll back to the top
        self.rows = []  # (other columns are not filled with the last showing's rows)
        self._set_columns(self.app.size.width)
        self._show_utr(read.unable_to_reach)
        self._show(self._generation, read.rows, read.unassigned)

    def on_resize(self) -> None:
        self._set_columns()

    def _set_columns(self, width: int | None = None) -> None:
        """The wide set from 140 columns, else the figures that matter most."""
        width = self.size.width if width is None else width
        wanted = WIDE if width >= 140 else NARROW
        table = self.query_one("#team", DataTable)
        fixed = sum(w for _, _, w in wanted) + 2 * table.cell_padding * len(wanted) + 2
        name = max(NAME_MIN, min(NAME_MAX, width - fixed))
        if wanted is self.columns and table.columns:
            column = table.columns.get(ColumnKey("name"))
            if column is not None and column.width != name:
                column.width = name
                table.refresh(layout=True)
            return
        self.columns = wanted
        table.clear(columns=True)
        for title, key, width in wanted:
            table.add_column(title, key=key, width=width or name)
        if self.rows:
            self._show(self._generation, self.rows, None)

    # ------------------------------------------------------------ loading

    def reload(self, *, live: bool = False) -> None:
        """Read the figures again; ``live``: shown once all are read (in place)."""
        self._generation += 1
        self._load(self._generation, live)

    @work(thread=True, exclusive=True, group="team", exit_on_error=False)
    def _load(self, generation: int, live: bool = False) -> None:
        app: Any = self.app

        def people(rows: list[TeamRow], unassigned: int, unable_to_reach: int) -> None:
            app.call_from_thread(self._show_utr, unable_to_reach)
            app.call_from_thread(self._show, generation, rows, unassigned)

        # Not live: the people first, then their activity; live: all at once, in place.
        read = read_team(app.store, app.viewer, None if live else people)
        if live:
            app.call_from_thread(self._show_utr, read.unable_to_reach)
        app.call_from_thread(self._show, generation, read.rows, read.unassigned)

    def _show(self, generation: int, rows: list[TeamRow], unassigned: int | None) -> None:
        if generation != self._generation:
            return
        table = self.query_one("#team", ListTable)
        spot = TableSpot.of(table)
        table.clear()
        now = utcnow()
        self.rows = rows
        if unassigned is not None:
            self.unassigned = unassigned
        for row in rows:
            table.add_row(*self._cells(row, now), key=str(row.user_id))
        if self.unassigned:
            cells = [Text("") for _ in self.columns]
            cells[0] = Text("(unassigned)", style="italic yellow")
            keys = [k for _, k, _ in self.columns]
            column = keys.index("open") if "open" in keys else keys.index("overdue")
            cells[column] = Text(f"{self.unassigned:,} open", style="bold yellow")
            table.add_row(*cells, key=UNASSIGNED)
        table.lay_out_now()
        spot.restore(table)
        self._update_summary()
        self._show_trend()

    def _show_utr(self, count: int) -> None:
        self.utr_count = count
        line = Text("Unable to reach: ", style="bold")
        if count:
            line.append(f"{count:,} waiting for review", style="bold yellow")
        else:
            line.append("none waiting for review", style="dim")
        line.append(" · u: the list", style="dim")
        self.query_one("#utr-summary", Static).update(line)

    def action_unable_to_reach(self) -> None:
        app: Any = self.app
        open_when_read(
            app,
            lambda: _read_unable_to_reach(app),
            lambda rows: kept_screen(
                app, KEPT_UTR, lambda: UnableToReachScreen(rows), lambda s: s.load(rows)
            ),
            what="the unable-to-reach list",
        )

    def _cells(self, r: TeamRow, now: Any) -> list[Any]:
        loading = Text("…", style="dim")
        reach = r.reach_rate
        callback = (
            Text(
                relative_age(r.oldest_callback_at, now).replace(" ago", ""),
                style="bold red" if (now - r.oldest_callback_at).total_seconds() > 4 * 3600 else "",
            )
            if r.oldest_callback_at
            else Text("—", style="dim")
        )
        filled = bool(r.per_day)
        values = [
            literal(r.display_name, one_line=True),
            Text(ROLE_SHORT.get(r.role, label(r.role))),
            Text(f"{r.caseload:,}", justify="right"),
            Text(f"{r.contacts_week:,}", justify="right") if filled else loading,
            (Text(f"{reach:.0%}", justify="right") if reach is not None else Text("—", style="dim"))
            if filled
            else loading,
            Text(f"{r.minutes_month:,}", justify="right") if filled else loading,
            Text(f"{r.open_followups:,}", justify="right"),
            Text(f"{r.overdue:,}", justify="right", style="bold red" if r.overdue else "dim"),
            callback,
            Text(f"{r.open_needs:,}", justify="right") if r.open_needs is not None else loading,
            spark(r.per_day) if filled else loading,
        ]
        by_key = dict(zip((k for _, k, _ in WIDE), values, strict=True))
        return [by_key[k] for _, k, _ in self.columns]

    def _update_summary(self) -> None:
        overdue = sum(r.overdue for r in self.rows)
        week = sum(r.contacts_week for r in self.rows)
        attempts = sum(r.attempts_week for r in self.rows)
        reached = sum(r.reached_week for r in self.rows)
        text = Text(f"{len(self.rows)} people · ")
        text.append(f"{overdue:,} overdue", style="bold red" if overdue else "")
        if self.unassigned:
            text.append(f" · {self.unassigned:,} unassigned", style="bold yellow")
        if any(r.per_day for r in self.rows):
            text.append(f" · this week {week:,} contacts")
            if attempts:
                text.append(f", reached {reached / attempts:.0%}")
        text.append(" · enter: their queue, o: their overdue", style="dim")
        self.query_one("#team-summary", Static).update(text)

    def _show_trend(self) -> None:
        row = self.highlighted()
        title = self.query_one("#trend-title", Static)
        line = self.query_one("#trend", Sparkline)
        if row is None or not row.per_day:
            title.update(Text("Contacts per day, last 4 weeks", style="dim"))
            line.data = []
            self.query_one("#trend-axis", Static).update("")
            return
        days = row.per_day
        # Lines of at most 32 cells (the narrow box): nothing is cut off.
        title.update(
            Text.assemble(
                literal(row.display_name, "bold", one_line=True), "\ncontacts/day, last 4 weeks"
            )
        )
        self.query_one("#trend-axis", Static).update(
            Text.assemble(
                f"total {sum(days):,} · busiest {max(days):,}",
                (f"\n4 weeks ago → today · today {days[-1]:,}", "dim"),
            )
        )
        line.data = list(days)

    # ------------------------------------------------------------ helpers

    def highlighted_key(self) -> str | None:
        table = self.query_one("#team", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return None if key.value is None else str(key.value)

    def highlighted(self) -> TeamRow | None:
        key = self.highlighted_key()
        return next((r for r in self.rows if str(r.user_id) == key), None)

    @on(DataTable.RowHighlighted, "#team")
    def _moved(self) -> None:
        self._show_trend()

    @on(DataTable.RowSelected, "#team")
    def _selected(self) -> None:
        self.action_drill()

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.reload()

    def action_drill(self, tab: str = "overdue") -> None:
        from cm_tui.screens.followups import FollowUpQueueScreen

        key = self.highlighted_key()
        if key is None:
            return
        if key == UNASSIGNED:
            scope, name = QueueScope("person", None), "Unassigned"
        else:
            row = self.highlighted()
            if row is None:
                return
            scope, name = QueueScope.person(row.user_id), row.display_name
        self.app.push_screen(FollowUpQueueScreen(scope, tab=tab, person_name=name))  # type: ignore[arg-type]

    def action_overdue(self) -> None:
        self.action_drill("overdue")

    def on_screen_resume(self) -> None:
        """Back from another screen or a dialog: catch up in place (not as it first
        opens, its rows already there)."""
        if self.back_from_cover() and self.rows:
            self.reload(live=True)

    def on_data_changed(self, event: DataChanged) -> None:
        """Someone changed what the figures count: read them again, in place. Under a
        dialog or another screen, on_screen_resume does it when this one is back."""
        if event.topics & LIVE_TOPICS and self.is_current and self.rows:
            self.reload(live=True)

    def screen_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand("Team: refresh", "Read the figures again (g)", self.action_refresh),
            SystemCommand(
                "Unable to reach",
                "Clients whose outreach attempts all failed: restart, discharge, acknowledge (u)",
                self.action_unable_to_reach,
            ),
            SystemCommand(
                "Team: open this person's queue", "Drill into their follow-ups", self.action_drill
            ),
        ]


def open_team(app: App[Any]) -> None:
    """The team view, for supervisors and admins; anyone else is told why not."""
    viewer = getattr(app, "viewer", None)
    if viewer is None or getattr(app, "locked", False):
        return
    if not viewer.sees_everyone:
        app.notify("The team view is for supervisors; f opens your own follow-ups.")
        return
    if getattr(app.screen, "blocks_navigation", False):
        app.notify("Save (ctrl+s) or cancel (escape) the open form first.")
        return
    if isinstance(app.screen, TeamScreen):
        return
    store = app.store  # type: ignore[attr-defined]
    open_when_read(
        app,
        lambda: read_team(store, viewer),
        lambda read: kept_screen(app, KEPT_TEAM, lambda: TeamScreen(read), lambda s: s.load(read)),
        what="the team view",
    )


KEPT_TEAM = "team-view"
KEPT_UTR = "unable-to-reach"


UTR_ROWS = 200  # the oldest flags; a supervisor works down from the top


def _read_unable_to_reach(app: Any) -> list[UnableToReachRow]:
    """The list as the screen shows it (an audited view), before it opens or after a review."""
    return programmes.unable_to_reach(app.store, app.viewer, limit=UTR_ROWS)


class UnableToReachScreen(BaseScreen[None]):
    """Clients flagged unable to reach (all outreach attempts failed), oldest flag
    first, for a supervisor's decision: r restart outreach, d discharge (asks first),
    k acknowledge (reviewed, no more attempts for now)."""

    TITLE = "Unable to reach"
    DEFAULT_CSS = """
    #utr-title { height: 1; margin-top: 1; padding: 0 1; }
    #utr { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "review('restart')", "Restart outreach"),
        Binding("d", "review('discharge')", "Discharge"),
        Binding("k", "review('acknowledge')", "Acknowledge"),
    ]

    def __init__(self, rows: list[UnableToReachRow]) -> None:
        """``rows``: read before the screen is pushed (open_when_read), so its first
        frame has them; after a review the list is read again in a worker."""
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        yield Static(id="utr-title")
        yield ListTable(id="utr")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "oldest flag first"
        table = self.query_one("#utr", DataTable)
        for title, width in (
            ("Client", 20),
            ("Programme", 10),
            ("Tries", 5),
            ("Flagged", 8),
            ("Phone", 14),
            ("Prefers", 9),
            ("Care manager", 16),
        ):
            table.add_column(title, width=width)
        table.focus()
        self._show(self.rows)

    def load(self, rows: list[UnableToReachRow]) -> None:
        """Show ``rows`` as if the screen had just been built: the cursor on the first
        (the team view keeps one of these screens per app)."""
        table = self.query_one("#utr", DataTable)
        table.clear()  # the cursor and the scroll back to the top
        self._show(rows)

    @work(thread=True, exclusive=True, group="utr", exit_on_error=False)
    def _load(self) -> None:
        app: Any = self.app
        app.call_from_thread(self._show, _read_unable_to_reach(app))

    def _show(self, rows: list[UnableToReachRow]) -> None:
        self.rows = rows
        table = self.query_one("#utr", DataTable)
        spot = TableSpot.of(table)
        table.clear()
        now = utcnow()
        for r in rows:
            table.add_row(
                literal(r.client_name, one_line=True),
                literal(r.programme, one_line=True),
                Text(str(r.attempts), justify="right"),
                Text(relative_age(r.flagged_at, now)),
                literal(r.phone or "—", one_line=True),
                literal(label(r.preferred_contact)),
                literal(r.care_manager or "—", one_line=True),
                key=str(r.enrollment_id),
            )
        spot.restore(table)
        title = Text(f"{len(rows):,} waiting for review" if rows else "Nobody waiting for review.")
        title.append(" · r restart outreach · d discharge · k acknowledge", style="dim")
        self.query_one("#utr-title", Static).update(title)

    def highlighted(self) -> UnableToReachRow | None:
        table = self.query_one("#utr", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_review(self, decision: str) -> None:
        row = self.highlighted()
        if row is None:
            self.notify("Nobody to review.")
            return
        if decision != "discharge":
            self._review(row, decision)
            return
        from cm_tui.screens.careplan import YesNo

        def answered(yes: bool | None) -> None:
            if yes:
                self._review(row, decision)

        question = Text.assemble(
            ("Discharge ", "bold"), literal(row.client_name, "bold"), f" from {row.programme}?"
        )
        self.app.push_screen(YesNo(question, "Exit reason: unable to reach."), answered)

    @work(thread=True, group="utr-review", exit_on_error=False)
    def _review(self, row: UnableToReachRow, decision: str) -> None:
        app: Any = self.app
        try:
            programmes.review_unable_to_reach(app.store, app.viewer, row.enrollment_id, decision)
        except (ProgrammeError, NotAllowed) as exc:
            app.call_from_thread(self.notify, str(exc), severity="error")
            return
        done = {
            "restart": "outreach restarted",
            "discharge": "discharged",
            "acknowledge": "acknowledged",
        }[decision]
        app.call_from_thread(
            self.notify, f"{plain(row.client_name)}: {done}.", timeout=4, markup=False
        )
        app.call_from_thread(self._load)

    def action_back(self) -> None:
        self.app.pop_screen()
