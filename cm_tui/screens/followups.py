"""The follow-up queue (DESIGN §5.5): the promise ledger, overdue first.

Tabs overdue / today / upcoming / done, each sorted by priority then due and read
one window at a time; "mine", or for supervisors the team's or one person's queue.
``x`` completes (offering to log the contact that did it), ``z`` snoozes, ``r``
reassigns (with ``space`` selections: all of them at once), ``n`` adds, ``e`` edits,
``delete`` cancels (``ctrl+z`` undoes), ``enter`` opens the client.

Live refresh: when anyone changes follow-ups or clients (:class:`DataChanged`), the
loaded window is read again in place — the cursor stays on its follow-up, the rows
stay where they were, focus never moves; under a dialog it waits until the queue is
shown again. A change that meets someone else's opens :class:`FollowUpConflictScreen`
(both versions; apply mine on top, or keep theirs).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static, Tab, Tabs
from textual.widgets.data_table import ColumnKey

from cm_tui.dates import format_due, relative_age
from cm_tui.screens.base import BaseScreen, describe_error, kept_screen
from cm_tui.screens.contact_form import ContactForm
from cm_tui.screens.followup_modals import (
    Attempt,
    CompleteChoice,
    Conflicted,
    FollowUpConflictScreen,
    FollowUpForm,
    FormStart,
    PersonPicker,
    SnoozeDialog,
    state_of,
)
from cm_tui.screens.live import DataChanged, TableSpot
from cm_tui.services import followups as fs
from cm_tui.services.clients import NotAllowed
from cm_tui.services.contacts import LoggedContact
from cm_tui.store import followup_queries as fq
from cm_tui.store.followup_queries import QueueRow, QueueScope
from cm_tui.store.followup_queries import Tab as TabName
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets import cells
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import PREFETCH, ListTable, window_rows
from cm_tui.widgets.safe import literal, plain

LIVE_WINDOW_MAX = 1000  # a live refresh re-reads what is loaded, up to this many rows
LIVE_TOPICS = frozenset({"follow_ups", "clients"})
NOTICE_S = 20.0  # how long the quiet word about a vanished row stays
CALLBACK_LATE_H = 4  # an unreturned callback older than this is shown in red
COLUMNS = (
    ("", "sel", 1),
    ("Due", "due", 11),
    ("Pri", "pri", 6),
    ("Client", "client", 0),  # shares what is left with "What"
    ("What", "what", 0),
    ("Waiting", "wait", 7),
    ("Who", "who", 14),
)
CLIENT_MIN, WHAT_MIN = 14, 16


class QueueTabs(Tabs):
    """Tabs whose underline jumps to the new tab instead of sliding there.

    The slide is 0.3 s of frames at 60 per second, drawn while the new tab's rows are
    read and laid out; on a 2-core machine it slowed switching tabs (issue 6).
    """

    def _highlight_active(self, animate: bool = True) -> None:
        super()._highlight_active(animate=False)


class FollowUpQueueScreen(BaseScreen[None]):
    TITLE = "Follow-ups"
    AUTO_FOCUS = "#queue"  # focused once as it mounts, not moved there after
    CSS_PATH = "followups.tcss"
    SIZE_CLASSES = {
        "-narrow": lambda s: s.width < 100,
    }
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open_client", "Open client", show=False),
        Binding("x", "complete", "Complete"),
        Binding("z", "snooze", "Snooze"),
        Binding("r", "reassign", "Reassign"),
        Binding("n", "add", "Add"),
        Binding("u", "add_for_client", "Add for this client", show=False),
        Binding("e", "edit", "Edit", show=False),
        Binding("space", "toggle_select", "Select", show=False),
        Binding("delete", "cancel_item", "Cancel item", show=False),
        Binding("ctrl+z", "undo", "Undo cancel", show=False),
        Binding("a", "toggle_scope", "Mine/team", show=False),
        Binding("1", "tab('overdue')", "Overdue", show=False),
        Binding("2", "tab('today')", "Today", show=False),
        Binding("3", "tab('upcoming')", "Upcoming", show=False),
        Binding("4", "tab('done')", "Done", show=False),
        Binding("right", "next_tab(1)", "Next tab", show=False),
        Binding("left", "next_tab(-1)", "Previous tab", show=False),
    ]

    def __init__(
        self,
        scope: QueueScope | None = None,
        *,
        tab: TabName = "overdue",
        person_name: str | None = None,
    ) -> None:
        super().__init__()
        self.scope = scope
        self.tab: TabName = tab
        self.shown_tab: TabName | None = None  # whose rows the table holds (none yet)
        self.person_name = person_name
        self.rows: list[QueueRow] = []
        self.counts: dict[str, int] = {}
        self.selected: dict[int, int] = {}  # follow-up id -> version seen
        self._generation = 0
        self._loading = False
        self._more = False
        self._undo: fs.Cancelled | None = None
        self._own: set[int] = set()  # follow-ups this screen changed (not "someone else")
        self._notice: Text | None = None  # a quiet word after a live refresh

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        yield QueueTabs(
            *(Tab(fq.TAB_LABELS[t], id=f"tab-{t}") for t in fq.TABS),
            active=f"tab-{self.tab}",
            id="tabs",
        )
        yield Static(id="queue-summary")
        yield ListTable(id="queue")
        yield Static(id="queue-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#queue", DataTable)
        for title, key, width in COLUMNS:
            table.add_column(title, key=key, width=width or CLIENT_MIN)
        self.query_one("#tabs", Tabs).can_focus = False
        table.focus()
        self._open()

    def load(self) -> None:
        """Open again as if just built (open_queue keeps one queue per app): the
        viewer's own queue (a supervisor's team), the overdue tab, nothing selected,
        nothing to undo, the cursor on the first row, laid out for the terminal now."""
        self._generation += 1
        self.scope, self.tab, self.shown_tab = None, "overdue", None
        self.rows, self.counts = [], {}
        self.selected.clear()
        self._own.clear()
        self._undo, self._notice, self._more = None, None, False
        self.query_one("#tabs", Tabs).active = f"tab-{self.tab}"
        self.query_one("#queue", DataTable).clear()  # the cursor and the scroll to the top
        self._open(self.app.size.width)

    def _open(self, width: int | None = None) -> None:
        """The first window of the tab, read on the spot on SQLite (else in a worker)."""
        viewer = self.app.viewer  # type: ignore[attr-defined]
        if self.scope is None:
            self.scope = QueueScope.team() if viewer and viewer.sees_everyone else QueueScope.mine()
        self._fit_columns(width)
        self._update_title()
        if self.app.store.is_sqlite:  # type: ignore[attr-defined]
            self.read_here(self._first_window, "reading the follow-ups")
        else:
            self.reload()

    def _first_window(self, *, counts: bool = True) -> None:
        """The first window and the four tab counts read on the spot, as the caseload
        reads its first window on SQLite: a few ms each off an index (about 3 and 7 ms
        for a team of 49 on the 100k database), so the rows and counts are in the
        screen's very first frame, with no second frame to wait for (issue 6).
        ``counts=False``: another tab of the same list, whose counts still hold."""
        self._generation += 1
        self._notice = None
        app: Any = self.app
        scope, bounds = self.scope or QueueScope.mine(), fq.Bounds.at()
        size = self._window()
        with app.store.read() as session:
            rows = fq.queue_page(session, app.viewer, scope, self.tab, None, size + 1, bounds)
            tab_counts = fq.tab_counts(session, app.viewer, scope, bounds) if counts else None
        self._show(self._generation, rows, tab_counts, False, None, size)

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self, width: int | None = None) -> None:
        """Columns for the screen's width (``width``: the terminal's, before a kept
        screen shown again has been laid out)."""
        width = self.size.width if width is None else width
        table = self.query_one("#queue", DataTable)
        hide_who = self._hide_who(width)
        shown = [c for c in COLUMNS if not (c[1] == "who" and hide_who)]
        fixed = sum(w for _, _, w in shown) + 2 * table.cell_padding * len(shown) + 2
        spare = max(CLIENT_MIN + WHAT_MIN, width - fixed)
        client = max(CLIENT_MIN, min(30, spare * 2 // 5))
        widths = {"client": client, "what": max(WHAT_MIN, spare - client)}
        if hide_who:
            widths["who"] = 0
        else:
            widths["who"] = 14
        changed = False
        for key, width in widths.items():
            column = table.columns.get(ColumnKey(key))
            if column is not None and column.width != width:
                column.width = width
                column.auto_width = False
                changed = True
        if changed:
            table.refresh(layout=True)

    def _hide_who(self, width: int) -> bool:
        """Whose item it is matters in the team's queue; in one person's it is noise."""
        return self.scope is None or self.scope.kind != "team" or width < 100

    def _update_title(self) -> None:
        viewer = self.app.viewer  # type: ignore[attr-defined]
        scope = self.scope or QueueScope.mine()
        if scope.kind == "team":
            whose = "Team follow-ups"
        elif scope.kind == "person" and scope.person_id != (viewer.id if viewer else None):
            whose = f"{self.person_name or 'Unassigned'} — follow-ups"
        else:
            whose = "My follow-ups"
        self.sub_title = whose

    # ------------------------------------------------------------ loading

    def reload(self, keep: int | None = None, *, live: bool = False, counts: bool = True) -> None:
        """Read the tab again from the top; ``live``: the window already loaded, in
        place, saying quietly if the follow-up under the cursor left the list;
        ``counts=False``: keep the tab counts (another tab of the same list)."""
        self._generation += 1
        self._more = False
        if not live:
            self._notice = None
        window = self._window()
        size = min(max(window, len(self.rows)), LIVE_WINDOW_MAX) if live else window
        watch = self.highlighted_id() if live else None
        self._load(self._generation, None, keep, size, watch, counts)

    def _window(self) -> int:
        """Rows a window of the queue reads: a screenful and the prefetch margin."""
        return window_rows(self.app.size.height)

    def _load_next(self) -> None:
        if self._loading or not self._more or not self.rows:
            return
        self._load(self._generation, self.rows[-1].cursor, None, self._window(), None, False)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(
        self,
        generation: int,
        after: tuple[Any, ...] | None,
        keep: int | None,
        size: int,
        watch: int | None,
        with_counts: bool,
    ) -> None:
        self._loading = True
        app: Any = self.app
        scope, tab = self.scope or QueueScope.mine(), self.tab
        bounds = fq.Bounds.at()
        gone: fs.FollowUpState | None = None
        try:
            with app.store.read() as session:
                rows = fq.queue_page(session, app.viewer, scope, tab, after, size + 1, bounds)
                counts = fq.tab_counts(session, app.viewer, scope, bounds) if with_counts else None
            if watch is not None and watch not in self._own and all(r.id != watch for r in rows):
                gone = fs.followup_state(app.store, app.viewer, watch)
        finally:
            self._loading = False
        app.call_from_thread(
            self._show, generation, rows, counts, after is not None, keep, size, (watch, gone)
        )

    def _show(
        self,
        generation: int,
        rows: list[QueueRow],
        counts: dict[str, int] | None,
        append: bool,
        keep: int | None,
        size: int,
        gone: tuple[int | None, fs.FollowUpState | None] = (None, None),
    ) -> None:
        if generation != self._generation:
            return  # a newer tab or scope has started loading
        self.shown_tab = self.tab  # the rows now shown are this tab's
        table = self.query_one("#queue", ListTable)
        self._more = len(rows) > size
        rows = rows[:size]
        spot = TableSpot.of(table)
        if not append:
            if keep is not None:
                spot = TableSpot(str(keep), spot.index, spot.line)
            before = {r.id: r for r in self.rows}
            table.clear()
            self.rows = []
        now = utcnow()
        for row in rows:
            table.add_row(*self._cells(row, now), key=str(row.id))
        table.lay_out_now()
        self.rows.extend(rows)
        if counts is not None:
            self.counts = counts
            self._update_tabs()
        if not append:
            stayed = spot.restore(table)
            watched, state = gone
            if watched is not None and not stayed and watched not in self._own:
                self._notice = _left_list(before.get(watched), state)
                self.set_timer(NOTICE_S, self._clear_notice)
        self._update_summary()
        self._show_detail()

    def _clear_notice(self) -> None:
        if self._notice is not None:
            self._notice = None
            self._update_summary()

    def _update_tabs(self) -> None:
        tabs = self.query_one("#tabs", Tabs)
        for t in fq.TABS:
            n = self.counts.get(t, 0)
            text = Text(fq.TAB_LABELS[t])
            text.append(f" {n:,}", style="bold red" if t == "overdue" and n else "")
            with contextlib.suppress(Exception):
                tabs.query_one(f"#tab-{t}", Tab).label = text

    def _cells(self, row: QueueRow, now: Any) -> list[Any]:
        mark = Text("●", style="bold magenta") if row.id in self.selected else Text(" ")
        return [
            mark,
            self._due_cell(row, now),
            _priority(row),
            literal(row.client_name, one_line=True),
            self._what(row),
            self._waiting(row, now),
            literal(
                row.assignee_name or "unassigned",
                "dim" if not row.assignee_name else "",
                one_line=True,
            ),
        ]

    @staticmethod
    def _due_cell(row: QueueRow, now: Any) -> Text:
        if row.status == "done" and row.completed_at is not None:
            return Text(relative_age(row.completed_at, now), style="green")
        if row.due_at < now:
            return Text(relative_age(row.due_at, now).replace(" ago", " late"), style="bold red")
        if fq.Bounds.at(now).end_of_today > row.due_at:
            from dateutil import tz

            return Text(f"today {row.due_at.astimezone(tz.tzlocal()):%H:%M}", style="yellow")
        return cells.when_short(row.due_at, now)

    @staticmethod
    def _what(row: QueueRow) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if row.recurrence:
            text.append("↻ ", style="green")
        if row.kind == "callback" and "callback" not in row.title.lower().replace(" ", ""):
            text.append("callback · ", style="bold cyan")
        text.append_text(literal(row.title, one_line=True))
        return text

    @staticmethod
    def _waiting(row: QueueRow, now: Any) -> Text:
        """How long the caller has waited for an unreturned callback."""
        if row.kind != "callback" or row.status != "open":
            return Text("")
        age = relative_age(row.created_at, now).replace(" ago", "")
        late = (now - row.created_at).total_seconds() > CALLBACK_LATE_H * 3600
        return Text(age, style="bold red" if late else "cyan")

    def _update_summary(self) -> None:
        shown, total = len(self.rows), self.counts.get(self.tab)
        order = "newest first" if self.tab == "done" else "by priority, then due"
        if self.tab == "done":
            what = f"done in the last {fq.DONE_DAYS} days"
        else:
            what = fq.TAB_LABELS[self.tab].lower()
        text = Text()
        if self._notice is not None:
            text.append_text(self._notice)
            text.append(" · ")
        if total is not None:
            text.append(f"{shown:,} of {total:,} {what} · {order}")
        else:  # the counts are still being read
            text.append(f"{shown:,}{'+' if self._more else ''} {what} · {order}")
        if self.selected:
            text.append(f" · {len(self.selected)} selected (r reassigns them)", style="magenta")
        viewer = self.app.viewer  # type: ignore[attr-defined]
        if viewer is not None and viewer.sees_everyone:
            text.append(" · a: mine/team", style="dim")
        # fixed heights in followups.tcss: no new layout for new text
        self.query_one("#queue-summary", Static).update(text, layout=False)

    def _show_detail(self) -> None:
        row = self.highlighted()
        detail = self.query_one("#queue-detail", Static)
        if row is None:
            empty = "Nothing here." if self.tab != "overdue" else "Nothing overdue. Well done."
            detail.update(Text(empty, style="dim"), layout=False)
            return
        now = utcnow()
        parts: list[Any] = [
            literal(row.title, "bold", one_line=True),
            "\n",
            literal(row.client_name, one_line=True),
            f" · {label(row.kind)} · {row.priority} · due {format_due(row.due_at, now)}",
        ]
        if row.recurrence:
            parts += [Text(f" · ↻ {fs.describe_recurrence(row.recurrence)}", style="green")]
        if row.snoozed_until is not None and row.status == "open":
            parts += [Text(" · snoozed", style="dim")]
        if row.kind == "callback" and row.status == "open":
            parts += [Text(f" · called {relative_age(row.created_at, now)}", style="cyan")]
        parts += [" · ", literal(row.assignee_name or "unassigned", one_line=True)]
        detail.update(Text.assemble(*parts), layout=False)

    # ------------------------------------------------------------ helpers

    def highlighted_id(self) -> int | None:
        table = self.query_one("#queue", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None

    def highlighted(self) -> QueueRow | None:
        fid = self.highlighted_id()
        return next((r for r in self.rows if r.id == fid), None)

    def _open_row(self, verb: str) -> QueueRow | None:
        row = self.highlighted()
        if row is None:
            self.app.notify(f"Nothing to {verb} here.")
            return None
        if row.status != "open" and verb != "open":
            self.app.notify(f"This follow-up is {row.status}; only open ones can be {verb}d.")
            return None
        return row

    # ------------------------------------------------------------ events

    @on(DataTable.RowHighlighted, "#queue")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        if event.cursor_row >= event.data_table.row_count - PREFETCH:
            self._load_next()

    @on(DataTable.RowSelected, "#queue")
    def _row_selected(self) -> None:
        self.action_open_client()

    @on(Tabs.TabActivated, "#tabs")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "").removeprefix("tab-")
        if name in fq.TABS and name != self.tab:
            self.tab = name  # type: ignore[assignment]
            self.selected.clear()
            # The counts are of all four tabs: still right. On SQLite the tab's first
            # window is read on the spot (a few ms), so the switch is one frame.
            if self.app.store.is_sqlite:  # type: ignore[attr-defined]
                self.read_here(lambda: self._first_window(counts=False), "reading the follow-ups")
            else:
                self.reload(counts=False)
            self.query_one("#queue", DataTable).focus()

    # ------------------------------------------------------------ actions

    def action_tab(self, name: str) -> None:
        self.query_one("#tabs", Tabs).active = f"tab-{name}"

    def action_next_tab(self, step: int) -> None:
        i = fq.TABS.index(self.tab)
        self.action_tab(fq.TABS[(i + step) % len(fq.TABS)])

    def action_back(self) -> None:
        if self.selected:
            self.selected.clear()
            self._redraw_marks()
            return
        self.app.pop_screen()

    def action_open_client(self) -> None:
        row = self.highlighted()
        if row is not None:
            from cm_tui.screens.client import open_client

            open_client(self.app, row.client_id)

    def action_toggle_scope(self) -> None:
        viewer = self.app.viewer  # type: ignore[attr-defined]
        if viewer is None or not viewer.sees_everyone:
            self.app.notify("Your queue holds your own follow-ups; the team's is for supervisors.")
            return
        self.scope = (
            QueueScope.mine() if self.scope and self.scope.kind != "mine" else QueueScope.team()
        )
        self.selected.clear()
        self._update_title()
        self._fit_columns()
        self.reload()

    def action_toggle_select(self) -> None:
        row = self.highlighted()
        if row is None or row.status != "open":
            return
        if row.id in self.selected:
            del self.selected[row.id]
        else:
            self.selected[row.id] = row.version
        self._redraw_marks()
        table = self.query_one("#queue", DataTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def _redraw_marks(self) -> None:
        table = self.query_one("#queue", DataTable)
        for row in self.rows:
            mark = Text("●", style="bold magenta") if row.id in self.selected else Text(" ")
            with contextlib.suppress(Exception):
                table.update_cell(str(row.id), "sel", mark)
        self._update_summary()

    # complete -----------------------------------------------------------

    def action_complete(self) -> None:
        row = self._open_row("complete")
        if row is None:
            return

        def chosen(answer: str | None) -> None:
            if answer == "log":
                open_completing_form(self, row)
            elif answer == "done":

                def run(app: Any, version: int) -> Any:
                    return fs.complete_followup(app.store, app.viewer, row.id, version)

                attempt = Attempt(state_of(row), "mark it done", "complete", run)
                self._run(attempt, lambda done: self._completed(row, done))

        self.app.push_screen(CompleteChoice(row), chosen)

    def _completed(self, row: QueueRow, done: fs.Completed) -> None:
        self._own.add(row.id)
        message = Text.assemble("Done: ", literal(row.title, one_line=True))
        if done.next_due_at is not None:
            message.append(f" · next one due {format_due(done.next_due_at, utcnow())}")
        self.app.notify(message.plain, title="Follow-up completed", timeout=5)
        self.reload()

    # snooze -------------------------------------------------------------

    def action_snooze(self) -> None:
        row = self._open_row("snooze")
        if row is None:
            return

        def done(result: fs.Changed) -> None:
            self._own.add(row.id)
            self.app.notify(f"Snoozed to {format_due(result.due_at, utcnow())}", title="Follow-up")
            self.reload()

        def snoozed(result: fs.Changed | Conflicted | None) -> None:
            if isinstance(result, Conflicted):
                resolve_conflict(self.app, result, done, self._kept)
            elif result is not None:
                done(result)

        self.app.push_screen(SnoozeDialog(row), snoozed)

    # reassign -----------------------------------------------------------

    def action_reassign(self) -> None:
        if self.selected:
            self._bulk_reassign()
            return
        row = self._open_row("reassign")
        if row is None:
            return
        question = Text.assemble("Reassign to whom? — ", literal(row.title, one_line=True))

        def picked(user_id: int | None) -> None:
            if user_id is None:
                return

            def run(app: Any, version: int) -> Any:
                return fs.reassign_followup(app.store, app.viewer, row.id, version, user_id)

            whom = picker.name_of(user_id)
            attempt = Attempt(state_of(row), f"reassign it to {whom}", "reassign", run)
            self._run(attempt, lambda _changed: self._reassigned(1))

        picker = PersonPicker(question.plain, exclude=row.assignee_id)
        self.app.push_screen(picker, picked)

    def _bulk_reassign(self) -> None:
        items = list(self.selected.items())
        n = len(items)

        def picked(user_id: int | None) -> None:
            if user_id is None:
                return
            self._own.update(fid for fid, _ in items)
            self._run_call(
                lambda app: fs.bulk_reassign(app.store, app.viewer, items, user_id),
                lambda moved: self._reassigned(moved),
                self._bulk_conflicted,
            )

        self.app.push_screen(
            PersonPicker(f"Reassign {n} selected follow-up{'s' if n > 1 else ''} to whom?"),
            picked,
        )

    def _bulk_conflicted(self, error: fs.FollowUpConflict) -> None:
        """Some of the selection changed meanwhile: those leave the selection (to be
        looked at, and picked again as they are now), so r can move the rest."""
        for fid in error.changed:
            self.selected.pop(fid, None)
        rest = len(self.selected)
        after = (
            f" r reassigns the other {rest} still selected." if rest else " None is selected now."
        )
        self.app.notify(
            f"{error} {'It is' if len(error.changed) == 1 else 'They are'} no longer "
            f"selected: look at {'it' if len(error.changed) == 1 else 'them'} first.{after}",
            title="Changed meanwhile",
            severity="warning",
            timeout=12,
        )
        self._kept()

    def _reassigned(self, n: int) -> None:
        self.selected.clear()
        self.app.notify(f"{n} follow-up{'s' if n > 1 else ''} reassigned", title="Follow-ups")
        self.reload()

    # add / edit ---------------------------------------------------------

    def action_add(self) -> None:
        from cm_tui.screens.inbound import ClientPicker

        def picked(client_id: int | None) -> None:
            if client_id is not None:
                add_followup(self.app, client_id)

        self.app.push_screen(ClientPicker("Add a follow-up — for whom?"), picked)

    def action_add_for_client(self) -> None:
        row = self.highlighted()
        if row is None:
            self.action_add()
            return
        _push_form(self.app, FormStart(row.client_id, row.client_name))

    def action_edit(self) -> None:
        row = self._open_row("edit")
        if row is not None:
            _push_form(self.app, FormStart(row.client_id, row.client_name, row))

    def followup_saved(self, result: Any) -> None:
        """A follow-up was added or edited (from here or anywhere)."""
        if getattr(result, "id", None) is not None:
            self._own.add(result.id)
        self.reload()

    def contact_logged(self, _logged: Any) -> None:
        """A contact with a "next follow-up" adds to the queue."""
        self.reload()

    # cancel / undo ------------------------------------------------------

    def action_cancel_item(self) -> None:
        row = self._open_row("cancel")
        if row is None:
            return

        def cancelled(result: fs.Cancelled) -> None:
            self._undo = result
            self.app.notify(
                Text.assemble("Cancelled: ", literal(row.title, one_line=True)).plain
                + " — ctrl+z brings it back",
                title="Follow-up",
                timeout=8,
            )
            self.reload()

        def run(app: Any, version: int) -> Any:
            return fs.cancel_followup(app.store, app.viewer, row.id, version)

        self._run(Attempt(state_of(row), "cancel it", "cancel", run), cancelled)

    def action_undo(self) -> None:
        undo = self._undo
        if undo is None:
            self.app.notify("Nothing to undo.")
            return
        self._undo = None

        def restored(result: fs.Changed) -> None:
            self.app.notify("Cancel undone: the follow-up is open again.", title="Follow-up")
            self.reload(keep=result.id)

        def run(app: Any, version: int) -> Any:
            return fs.undo_cancel(app.store, app.viewer, undo.id, version)

        app: Any = self.app

        def load_then_run() -> None:  # the conflict screen needs what the user saw
            state = fs.followup_state(app.store, app.viewer, undo.id)
            if state is None:
                app.call_from_thread(app.notify, "That follow-up no longer exists.")
                return
            seen = dataclasses.replace(state, status="cancelled", version=undo.version)
            attempt = Attempt(seen, "reopen it (undo your cancel)", "reopen", run, "cancelled")
            app.call_from_thread(self._run, attempt, restored)

        self.run_worker(load_then_run, thread=True, group="queue-change", exit_on_error=False)

    # running a service --------------------------------------------------

    def _run(self, attempt: Attempt, then: Callable[[Any], None]) -> None:
        """Make the change in a thread; if someone changed the follow-up first, show
        both versions and let the user choose (:func:`resolve_conflict`)."""

        def done(result: Any) -> None:
            self._own.add(attempt.id)
            then(result)

        run_change(self.app, attempt, done, self._kept)

    def _kept(self) -> None:
        """Their version stands (or the change was refused): show it."""
        self.reload()

    def _run_call(
        self,
        call: Callable[[Any], Any],
        then: Callable[[Any], None],
        conflicted: Callable[[fs.FollowUpConflict], None],
    ) -> None:
        """A change with nothing to compare on conflict (bulk): ``conflicted(error)``."""
        app: Any = self.app

        def work_() -> None:
            try:
                result = call(app)
            except fs.FollowUpConflict as exc:
                app.call_from_thread(conflicted, exc)
                return
            except (fs.FollowUpError, NotAllowed) as exc:
                app.call_from_thread(_refused, app, str(exc), "Not done", None)
                return
            except Exception as exc:
                app.call_from_thread(_refused, app, describe_error(exc), "Not done", self._kept)
                return
            app.call_from_thread(then, result)

        self.run_worker(work_, thread=True, group="queue-change", exit_on_error=False)

    def on_screen_resume(self) -> None:
        """Back from another screen or a dialog: catch up in place. (Not as it first
        opens: on SQLite its rows are already there, read in on_mount.)"""
        if self.back_from_cover() and (self.rows or self.counts):
            self.reload(live=True)

    def on_data_changed(self, event: DataChanged) -> None:
        """Someone changed follow-ups or clients: read the window again, in place. Under
        a dialog or another screen, on_screen_resume does it when this one is back."""
        if event.topics & LIVE_TOPICS and self.is_current and (self.rows or self.counts):
            self.reload(live=True)

    def screen_commands(self) -> list[SystemCommand]:
        cmds = [
            SystemCommand(
                f"Follow-ups: {fq.TAB_LABELS[t]}", "Queue tab", lambda t=t: self.action_tab(t)
            )
            for t in fq.TABS
        ]
        cmds.append(SystemCommand("Add follow-up", "For any client (n)", self.action_add))
        viewer = self.app.viewer  # type: ignore[attr-defined]
        if viewer is not None and viewer.sees_everyone:
            cmds.append(
                SystemCommand(
                    "Follow-ups: mine / team", "Toggle the scope (a)", self.action_toggle_scope
                )
            )
        return cmds


def _refused(app: App[Any], message: str, title: str, then: Callable[[], None] | None) -> None:
    app.notify(message, title=title, severity="error", timeout=10)
    if then is not None:
        then()


def run_change(
    app: App[Any],
    attempt: Attempt,
    then: Callable[[Any], None],
    kept: Callable[[], None],
    *,
    version: int | None = None,
    reopen_first: bool = False,
) -> None:
    """Run ``attempt`` against ``version`` (default: the one the user saw) in a thread.

    Success: ``then(result)``. Someone changed it first: the conflict screen (again, if
    it happens again). Refused: a one-line message and ``kept()`` (show what is stored).
    """
    a: Any = app

    def work_() -> None:
        try:
            at = attempt.seen.version if version is None else version
            if reopen_first:
                at = fs.undo_cancel(a.store, a.viewer, attempt.id, at).version
            result = attempt.run(a, at)
        except fs.FollowUpConflict as exc:
            app.call_from_thread(
                resolve_conflict, app, Conflicted(attempt, exc.current), then, kept
            )
            return
        except (fs.FollowUpError, NotAllowed) as exc:
            app.call_from_thread(_refused, app, str(exc), "Not done", kept)
            return
        except Exception as exc:
            app.call_from_thread(_refused, app, describe_error(exc), "Not done", kept)
            return
        app.call_from_thread(then, result)

    app.run_worker(work_, thread=True, group="followup-change", exit_on_error=False)


def resolve_conflict(
    app: App[Any], conflicted: Conflicted, then: Callable[[Any], None], kept: Callable[[], None]
) -> None:
    """Someone changed the follow-up first: show both versions; apply mine on top
    (against their version), reopen then apply (theirs is cancelled), or keep theirs."""
    attempt, current = conflicted.attempt, conflicted.current
    if current is None:
        _refused(app, "Someone else changed this follow-up; it no longer exists.", "Not done", kept)
        return

    def chosen(answer: str | None) -> None:
        again = dataclasses.replace(attempt, seen=current)
        if answer == "mine":
            run_change(app, again, then, kept, version=current.version)
        elif answer == "reopen":
            run_change(app, again, then, kept, version=current.version, reopen_first=True)
        else:
            app.notify("Kept their version; yours was not saved.", title="Follow-up")
            kept()

    app.push_screen(FollowUpConflictScreen(attempt, current), chosen)


def _left_list(row: QueueRow | None, state: fs.FollowUpState | None) -> Text:
    """One quiet line: the follow-up under the cursor left this list, and why if known."""
    title = row.title if row is not None else state.title if state is not None else ""
    text = Text(style="italic")
    text.append_text(literal(_short_title(title), "italic", one_line=True))
    if state is None:
        text.append(" is no longer here")
    else:
        by = f" by {state.changed_by}" if state.changed_by else ""
        if state.status == "done":
            text.append_text(literal(f" was completed{by}", "italic"))
        elif state.status == "cancelled":
            text.append_text(literal(f" was cancelled{by}", "italic"))
        elif row is not None and state.assignee_id != row.assignee_id:
            who = state.assignee_name or "nobody"
            text.append_text(literal(f" was reassigned to {who}{by}", "italic"))
        else:
            text.append_text(
                literal(f" moved to {format_due(state.due_at, utcnow())}{by}", "italic")
            )
    text.append("; cursor on the next one", style="dim italic")
    return text


def _short_title(title: str, width: int = 30) -> str:
    title = " ".join(title.split())
    return f"\u201c{title if len(title) <= width else title[: width - 1] + '…'}\u201d"


def _priority(row: QueueRow) -> Text:
    return literal(row.priority, cells.PRIORITY_STYLE.get(row.priority, ""))


# ---------------------------------------------------------------- complete with a contact


class CompletingContactForm(ContactForm):
    """The contact log form; saving logs the contact and completes the follow-up in one
    transaction (services.followups.log_contact_and_complete).

    Someone changed the follow-up meanwhile: the note is written as a draft and
    :class:`FollowUpConflictScreen` shows both versions — ``m`` saves again on top of
    theirs, ``o`` reopens a cancelled one first, ``s`` (theirs is done or cancelled)
    saves the contact without completing anything, ``t``/``esc`` returns to the form
    with the text as it was. The typed note is never dropped.
    """

    def __init__(self, client: Any, row: QueueRow, **kw: Any) -> None:
        super().__init__(client, **kw)
        self.row = row
        self.seen = state_of(row)  # the version the save completes
        self.completed: fs.Completed | None = None  # None after a contact-only save
        self._complete = True  # False: the user chose to save the contact alone
        self._reopen_first = False

    def _title(self) -> Text:
        title = super()._title()
        title.append_text(
            Text.assemble(
                ("  ✓ completes: ", "green"), literal(self.row.title, "green", one_line=True)
            )
        )
        title.no_wrap = True
        title.overflow = "ellipsis"
        return title

    def save_call(self, values: dict[str, Any]) -> LoggedContact:
        if not self._complete:
            return super().save_call(values)
        app: Any = self.app
        version = self.seen.version
        if self._reopen_first:
            version = fs.undo_cancel(app.store, app.viewer, self.row.id, version).version
        logged, done = fs.log_contact_and_complete(
            app.store, app.viewer, self.row.id, version, **values
        )
        self.completed = done
        return logged

    def save_refused(self, error: Exception, values: dict[str, Any]) -> None:
        if isinstance(error, fs.FollowUpConflict) and error.current is not None:
            self.flush_draft()  # the note is safe in the database while they choose
            self._conflict(error.current, values)
        elif isinstance(error, fs.FollowUpError):
            self.show_not_saved(str(error))
        else:
            super().save_refused(error, values)

    def _conflict(self, current: fs.FollowUpState, values: dict[str, Any]) -> None:
        app: Any = self.app
        row_id = self.row.id

        def run(app_: Any, version: int) -> Any:
            return fs.log_contact_and_complete(app_.store, app_.viewer, row_id, version, **values)

        attempt = Attempt(
            seen=self.seen,
            wanted="log this contact and complete the follow-up",
            verb="complete",
            run=run,
        )

        def chosen(answer: str | None) -> None:
            if answer in ("mine", "reopen"):
                self.seen = current
                self._complete = True
                self._reopen_first = answer == "reopen"
                self.submit(values)
            elif answer == "fallback":
                self._complete = False
                self._reopen_first = False
                self.submit(values)
            else:
                self.show_not_saved("the follow-up changed meanwhile and you kept their version.")

        app.push_screen(
            FollowUpConflictScreen(
                attempt,
                current,
                fallback="save my contact note without completing it",
                theirs="keep theirs; back to my note (nothing saved)",
            ),
            chosen,
        )


def open_completing_form(screen: FollowUpQueueScreen, row: QueueRow) -> None:
    """Load the client for the contact form (thread), then show it."""
    from cm_tui.services import drafts
    from cm_tui.store import contact_queries

    app: Any = screen.app

    def load() -> None:
        with app.store.read() as session:
            client = contact_queries.form_client(session, app.viewer, row.client_id)
            draft = drafts.read_draft(session, app.viewer.id, drafts.CONTACT, str(row.client_id))
        if client is None:
            app.call_from_thread(
                app.notify, "You do not have access to this client's record.", severity="error"
            )
            return
        app.call_from_thread(show, client, draft)

    def show(client: Any, draft: Any) -> None:
        form = CompletingContactForm(client, row, draft=draft)

        def saved(logged: LoggedContact | None) -> None:
            if logged is None:
                return
            if form.completed is not None:
                screen._completed(row, form.completed)
            else:  # theirs was done (or cancelled): the contact alone was saved
                app.notify(
                    "Contact saved; the follow-up was not completed (it changed meanwhile).",
                    title="Contact saved",
                    timeout=6,
                )
                screen.reload()
            for s in list(app.screen_stack):
                hook = getattr(s, "contact_logged", None)
                if callable(hook) and s is not screen:
                    hook(logged)

        app.push_screen(form, saved)

    app.run_worker(load, thread=True, group="complete-form-open", exit_on_error=False)


# ---------------------------------------------------------------- what the lead binds


def _signed_in(app: App[Any]) -> bool:
    return getattr(app, "viewer", None) is not None and not getattr(app, "locked", False)


def open_queue(app: App[Any]) -> None:
    """The signed-in user's queue (a supervisor's opens on the team's)."""
    if not _signed_in(app):
        return
    if getattr(app.screen, "blocks_navigation", False):
        app.notify("Save (ctrl+s) or cancel (escape) the open form first.")
        return
    if isinstance(app.screen, FollowUpQueueScreen):
        return
    app.push_screen(kept_screen(app, KEPT_QUEUE, FollowUpQueueScreen, FollowUpQueueScreen.load))


KEPT_QUEUE = "follow-up-queue"  # the viewer's own (f); a person's from the team view is new


def add_followup(app: App[Any], client_id: int) -> None:
    """The add-follow-up form for this client (name loaded in a thread)."""
    if not _signed_in(app):
        return
    viewer: Any = getattr(app, "viewer", None)
    store: Any = getattr(app, "store", None)

    def load() -> None:
        from cm_tui.store import contact_queries

        try:
            with store.read() as session:
                client = contact_queries.form_client(session, viewer, client_id)
        except Exception as exc:
            app.call_from_thread(app.notify, plain(describe_error(exc)), severity="error")
            return
        if client is None:
            app.call_from_thread(
                app.notify, "You do not have access to this client's record.", severity="error"
            )
            return
        app.call_from_thread(_push_form, app, FormStart(client.id, client.name))

    app.run_worker(load, thread=True, group="followup-form-open", exit_on_error=False)


def _push_form(app: App[Any], start: FormStart) -> None:
    if getattr(app, "locked", False) or isinstance(app.screen, FollowUpForm):
        return

    def saved(result: Any) -> None:
        if result is None:
            return
        if isinstance(result, Conflicted):
            resolve_conflict(app, result, saved, lambda: _refresh_queues(app))
            return
        now = utcnow()
        if isinstance(result, fs.Created):
            text = f"Added, due {format_due(result.due_at, now)}"
            if result.warnings:
                text += " — " + " ".join(result.warnings)
        else:
            text = f"Saved, due {format_due(result.due_at, now)}"
        app.notify(
            text, title="Follow-up", severity="warning" if _warned(result) else "information"
        )
        for s in list(app.screen_stack):
            hook = getattr(s, "followup_saved", None)
            if callable(hook):
                hook(result)

    app.push_screen(FollowUpForm(start), saved)


def _refresh_queues(app: App[Any]) -> None:
    for s in list(app.screen_stack):
        if isinstance(s, FollowUpQueueScreen):
            s.reload(live=True)


def _warned(result: Any) -> bool:
    return bool(getattr(result, "warnings", None))
