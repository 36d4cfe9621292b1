"""The care plan of one client (issue #13): what matters, goals in the client's words,
and under the highlighted goal what the team will do and what might get in the way.

Keyboard-first: ``g`` adds a goal, ``i`` an intervention to the highlighted goal,
``b`` a barrier, ``p`` a progress note (one key), ``m`` marks the goal met, ``x`` not
met (asks first), ``a`` opens it again, ``r`` revises it (the old goal is kept).
``d`` picks one of the goal's open interventions (marked done; ``u`` undoes) or
barriers (resolved, after asking) with 1-9; ``h`` shows the goal's progress notes,
newest first, older ones a page at a time.
Every change runs in a worker; a refused change keeps the form open with one line
saying why. Stored text is shown literally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Input, Label, Static

from cm_tui.dates import format_due, local_date, parse_date, parse_due
from cm_tui.screens.base import BaseModal, BaseScreen, describe_error
from cm_tui.screens.confirm import close_or_ask
from cm_tui.services import careplans
from cm_tui.services.careplans import (
    BarrierRow,
    CarePlanError,
    GoalRow,
    InterventionRow,
    PlanPanel,
    ProgressRow,
)
from cm_tui.services.clients import NotAllowed
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets import cells
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import SafeInput, literal

GOAL_LIMIT = 40
PROGRESS_PAGE = 20
PICK_MAX = 9
STATUS_STYLE = {"active": "bold", "met": "green", "not_met": "yellow", "revised": "dim"}
TARGET_HINT = "optional — +3m, dec 1, 2027-03-01"
FOLLOWUP_HINT = "optional — tomorrow, +2w, next tue 10am"


def format_day(day: date) -> str:
    """ "Tue 1 Dec 2026" (English names whatever the locale, like format_due)."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{names[day.weekday()]} {day.day} {months[day.month - 1]} {day.year}"


def read_day(text: str, *, past: bool) -> date:
    """A typed day: ``today``/``yesterday``, ISO or US dates, and (for days ahead)
    everything :func:`cm_tui.dates.parse_due` reads. Raises ValueError to show."""
    words = text.strip().lower()
    today = local_date(utcnow())
    if words == "today":
        return today
    if words == "yesterday" and past:
        return date.fromordinal(today.toordinal() - 1)
    try:
        return parse_date(text)
    except ValueError as exc:
        if past:
            raise ValueError(f"{exc} (or today / yesterday)") from None
    return local_date(parse_due(text, utcnow()))


# ---------------------------------------------------------------- a small form


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    value: str = ""
    required: bool = False
    kind: str = "text"  # text | day | past_day | due
    hint: str = ""
    max_length: int = 0


class FieldsForm(BaseModal[Any]):
    """A few one-line fields; ctrl+s (or enter on the last field) saves through
    ``save(values)`` in a worker. A refusal stays in the form on one line; success
    dismisses with what ``save`` returned."""

    CSS_PATH = "careplan.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        title: Text | str,
        fields: Sequence[Field],
        save: Callable[[dict[str, Any]], Any],
        *,
        extra: Text | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title if isinstance(title, Text) else Text(title, style="bold")
        self.fields = list(fields)
        self.save_fn = save
        self.extra = extra
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="cp-form"):
            yield Static(self.title_text, id="cp-form-title")
            if self.extra is not None:
                yield Static(self.extra, id="cp-form-extra")
            for f in self.fields:
                with Horizontal(classes="row"):
                    yield Label(f.label, classes="field-label")
                    yield SafeInput(
                        f.value,
                        id=f"f-{f.id}",
                        compact=True,
                        placeholder=f.hint,
                        max_length=f.max_length,
                    )
                if f.kind != "text":
                    yield Static(id=f"echo-{f.id}", classes="echo")
            yield Static(id="cp-form-error", classes="error")
            yield Static(
                Text("ctrl+s save · esc cancel · tab next field", style="dim"), id="cp-form-keys"
            )

    def on_mount(self) -> None:
        self.query_one(f"#f-{self.fields[0].id}", Input).focus()

    def _read(self, f: Field) -> tuple[Any, str | None]:
        text = self.query_one(f"#f-{f.id}", Input).value
        if not text.strip():
            if f.required:
                return None, f"{f.label}: required."
            return None, None
        if f.kind == "text":
            return text, None
        try:
            if f.kind == "due":
                return parse_due(text, utcnow()), None
            return read_day(text, past=f.kind == "past_day"), None
        except ValueError as exc:
            return None, str(exc)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        fid = (event.input.id or "")[2:]
        f = next((f for f in self.fields if f.id == fid), None)
        if f is None or f.kind == "text":
            return
        value, error = self._read(f)
        echo = self.query_one(f"#echo-{f.id}", Static)
        event.input.set_class(error is not None and bool(event.value.strip()), "-invalid")
        if error and event.value.strip():
            echo.update(literal(error, "bold red"))
        elif value is None:
            echo.update("")
        elif isinstance(value, datetime):
            echo.update(Text.assemble(("→ ", "green"), (format_due(value, utcnow()), "bold green")))
        else:
            echo.update(Text.assemble(("→ ", "green"), (format_day(value), "bold green")))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == f"f-{self.fields[-1].id}":
            self.action_save()
        else:
            self.focus_next()

    def _error(self, message: str) -> None:
        self.query_one("#cp-form-error", Static).update(literal(message, "bold red"))

    def action_save(self) -> None:
        if self._saving:
            return
        values: dict[str, Any] = {}
        for f in self.fields:
            value, error = self._read(f)
            if error:
                self._error(error)
                self.query_one(f"#f-{f.id}", Input).focus()
                return
            values[f.id] = value
        self._saving = True
        self._error("")
        self.query_one("#cp-form-keys", Static).update(Text("Saving…", style="bold"))
        self._save(values)

    @work(thread=True, exclusive=True, group="cp-form-save", exit_on_error=False)
    def _save(self, values: dict[str, Any]) -> None:
        try:
            result = self.save_fn(values)
        except (CarePlanError, NotAllowed, ValueError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:
            self.app.call_from_thread(self._failed, describe_error(exc))
            return
        self.app.call_from_thread(self.dismiss, result)

    def _failed(self, message: str) -> None:
        self._saving = False
        self._error(f"Not saved: {message}")
        self.query_one("#cp-form-keys", Static).update(
            Text("ctrl+s try again · esc cancel", style="dim")
        )

    def action_cancel(self) -> None:
        typed = any(self.query_one(f"#f-{f.id}", Input).value != f.value for f in self.fields)
        close_or_ask(self, typed, "Discard what you typed?", "Nothing has been saved.")


class YesNo(BaseModal[bool]):
    """A yes/no question answered with one key (y / n or escape: no)."""

    CSS_PATH = "careplan.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("escape,n", "answer(False)", "No"),
    ]

    def __init__(self, question: Text | str, detail: str = "") -> None:
        super().__init__()
        self.question = question if isinstance(question, Text) else Text(question, style="bold")
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="cp-yesno"):
            yield Static(self.question)
            if self.detail:
                yield Static(literal(self.detail, "dim"))
            yield Static(Text("y yes · n no", style="dim"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PickItem(BaseModal[InterventionRow | BarrierRow | None]):
    """The highlighted goal's open interventions and barriers, numbered 1-9; a
    number key (or enter on the highlighted line) picks, escape cancels."""

    CSS_PATH = "careplan.tcss"
    BINDINGS = [
        Binding("escape", "pick(0)", "Cancel"),
        *(Binding(str(n), f"pick({n})", show=False) for n in range(1, PICK_MAX + 1)),
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("enter", "pick_highlighted", show=False),
    ]

    def __init__(self, goal: GoalRow, items: Sequence[InterventionRow | BarrierRow]) -> None:
        super().__init__()
        self.goal = goal
        self.items = list(items)[:PICK_MAX]
        self.cursor = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="cp-pick"):
            yield Static(
                Text.assemble(
                    ("Done or resolved — ", "bold"), literal(self.goal.client_words, one_line=True)
                ),
                id="cp-pick-title",
            )
            yield Static(id="cp-pick-items")
            yield Static(
                Text(
                    "1-9 pick · intervention: marked done · barrier: resolved (asks) · esc cancel",
                    style="dim",
                ),
                id="cp-pick-keys",
            )

    def on_mount(self) -> None:
        self._paint()

    def _paint(self) -> None:
        lines: list[Text] = []
        for n, item in enumerate(self.items, 1):
            if isinstance(item, InterventionRow):
                kind = Text("We'll do  ", style="cyan")
                what = literal(item.description, one_line=True)
                if item.owner_name:
                    what.append(" ")  # one_line strips the edges
                    what.append_text(literal(f"— {item.owner_name}", "dim", one_line=True))
            else:
                whole = " (whole plan)" if item.goal_id is None else ""
                kind = Text("Barrier   ", style="yellow")
                what = Text.assemble(literal(item.description, one_line=True), (whole, "dim"))
            line = Text.assemble((f"{n} ", "bold"), kind, what)
            line.no_wrap = True
            line.overflow = "ellipsis"
            if n - 1 == self.cursor:
                line.stylize("reverse")
            lines.append(line)
        self.query_one("#cp-pick-items", Static).update(Group(*lines))

    def action_move(self, step: int) -> None:
        if self.items:
            self.cursor = (self.cursor + step) % len(self.items)
            self._paint()

    def action_pick_highlighted(self) -> None:
        self.action_pick(self.cursor + 1)

    def action_pick(self, n: int) -> None:
        if n == 0:
            self.dismiss(None)
        elif 1 <= n <= len(self.items):
            self.dismiss(self.items[n - 1])


class ProgressNotes(BaseModal[None]):
    """A goal's progress notes, newest first, ``PROGRESS_PAGE`` at a time; ``h``
    (or pgdn at the end) loads the next older page (keyset on (at, id))."""

    CSS_PATH = "careplan.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("h", "older", "Older notes"),
    ]

    def __init__(self, goal: GoalRow) -> None:
        super().__init__()
        self.goal = goal
        self.notes: list[ProgressRow] = []
        self.more = True
        self._loading = False

    def compose(self) -> ComposeResult:
        with Vertical(id="cp-notes"):
            yield Static(
                Text.assemble(
                    ("Progress notes — ", "bold"), literal(self.goal.client_words, one_line=True)
                ),
                id="cp-notes-title",
            )
            yield VerticalScroll(Static(id="cp-notes-list"), id="cp-notes-scroll")
            yield Static(id="cp-notes-keys")

    def on_mount(self) -> None:
        self.query_one("#cp-notes-scroll").focus()
        self.action_older()

    def action_older(self) -> None:
        if self._loading or not self.more:
            if not self.more:
                self.notify("No older progress notes.", timeout=2)
            return
        self._loading = True
        self._keys("Loading…")
        last = self.notes[-1] if self.notes else None
        self._fetch(None if last is None else (last.at, last.id))

    @work(thread=True, exclusive=True, group="cp-notes", exit_on_error=False)
    def _fetch(self, before: tuple[datetime, int] | None) -> None:
        try:
            rows = careplans.progress_page(
                self.app.store,
                self.app.viewer,
                self.goal.id,
                before=before,
                limit=PROGRESS_PAGE + 1,
            )
        except (CarePlanError, NotAllowed) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._got, rows)

    def _failed(self, message: str) -> None:
        self._loading = False
        self._keys(f"Not loaded: {message}", error=True)

    def _got(self, rows: list[ProgressRow]) -> None:
        self._loading = False
        self.more = len(rows) > PROGRESS_PAGE
        self.notes.extend(rows[:PROGRESS_PAGE])
        now = utcnow()
        lines: list[Text] = []
        for note in self.notes:
            head = Text.assemble(
                (format_day(local_date(note.at)), "bold"), " · ", cells.ago(note.at, now)
            )
            if note.user_name:
                head.append_text(literal(f" · {note.user_name}", "dim"))
            lines.append(head)
            lines.append(Text.assemble("  ", literal(note.note)))
        if not lines:
            lines.append(Text("No progress notes yet — p adds one.", style="dim"))
        self.query_one("#cp-notes-list", Static).update(Group(*lines))
        self._keys("")

    def _keys(self, message: str, *, error: bool = False) -> None:
        if message:
            text = literal(message, "bold red" if error else "bold")
        else:
            shown = f"{len(self.notes)} shown"
            more = " · h older notes" if self.more else " · that is all"
            text = Text(f"{shown}{more} · ↑ ↓ scroll · esc close", style="dim")
        self.query_one("#cp-notes-keys", Static).update(text)


# ---------------------------------------------------------------- the screen


class CarePlanScreen(BaseScreen[None]):
    TITLE = "Care plan"
    CSS_PATH = "careplan.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("g", "add_goal", "Add goal"),
        Binding("i", "add_intervention", "Intervention"),
        Binding("b", "add_barrier", "Barrier"),
        Binding("p", "progress", "Progress note"),
        Binding("m", "met", "Met"),
        Binding("x", "not_met", "Not met"),
        Binding("d", "pick_done", "Done / resolve"),
        Binding("h", "history", "Progress notes, older a page at a time", show=False),
        Binding("u", "undo_done", "Undo intervention done", show=False),
        Binding("a", "reopen", "Reopen goal", show=False),
        Binding("r", "revise", "Revise goal", show=False),
    ]

    def __init__(self, client_id: int, client_name: str = "") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.panel: PlanPanel | None = None
        self._select_goal: int | None = None
        self._undo: InterventionRow | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        with VerticalScroll(id="cp-body"):
            yield Static(id="cp-what-matters")
            yield Static(id="cp-plan")
            yield ListTable(id="cp-goals")
            yield Static(id="cp-goal-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = self.client_name or "Care plan"
        table = self.query_one("#cp-goals", DataTable)
        for title, key, width in (
            ("#", "n", 2),
            ("In their words", "words", 30),
            ("Status", "status", 7),
            ("Target", "target", 11),
            ("How we'll know", "measure", 20),
            ("Last progress", "progress", 20),
        ):
            table.add_column(title, key=key, width=width)
        self._fit_columns()
        table.focus()
        self.query_one("#cp-what-matters", Static).border_title = "What matters to me"
        self.query_one("#cp-plan", Static).update(Text("Loading…", style="dim"))
        self.reload()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Words, measure and progress share what the fixed columns leave."""
        table = self.query_one("#cp-goals", DataTable)
        cols = {str(c.key.value): c for c in table.columns.values()}
        if len(cols) < 6:
            return
        fixed = 2 + 7 + 11 + 2 * table.cell_padding * len(cols) + 2
        room = max(48, self.size.width - fixed)
        widths = {"words": room * 45 // 100, "measure": room * 27 // 100}
        widths["progress"] = room - widths["words"] - widths["measure"]
        for key, width in widths.items():
            col = cols[key]
            if col.width != width:
                col.width = width
                col.auto_width = False
        table.refresh(layout=True)

    # ------------------------------------------------------------ loading

    def reload(self, select_goal: int | None = None) -> None:
        if select_goal is not None:
            self._select_goal = select_goal
        self._load()

    @work(thread=True, exclusive=True, group="careplan-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            panel = careplans.plan_panel(
                self.app.store, self.app.viewer, self.client_id, goal_limit=GOAL_LIMIT
            )
        except (NotAllowed, CarePlanError) as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        self.app.call_from_thread(self._show, panel)

    def _refused(self, message: str) -> None:
        self.notify(message, severity="error")
        if self.app.screen is self:
            self.app.pop_screen()

    def _show(self, panel: PlanPanel) -> None:
        self.panel = panel
        now = utcnow()
        self.query_one("#cp-what-matters", Static).update(
            literal(panel.what_matters or "Not recorded yet — ask what matters most to them.")
        )
        plan = panel.plan
        if plan is None:
            head = Text("No care plan yet — g adds the first goal, in the client's words.")
            head.stylize("dim")
        else:
            head = Text.assemble(
                (f"Plan started {format_day(local_date(plan.created_at))}", "bold"),
                literal(f" by {plan.created_by}" if plan.created_by else ""),
                f" · {plan.goals_met} of {plan.goals_total} goals met",
                " · more goals than shown" if panel.more_goals else "",
            )
        self.query_one("#cp-plan", Static).update(head)
        table = self.query_one("#cp-goals", DataTable)
        previous = self.highlighted_goal()
        wanted = self._select_goal or (previous.id if previous else None)
        self._select_goal = None
        table.clear()
        for n, g in enumerate(panel.goals, 1):
            last = (
                Text.assemble(
                    cells.ago(g.last_progress_at, now), " ", literal(g.last_progress_note or "")
                )
                if g.last_progress_at
                else Text("—", style="dim")
            )
            last.no_wrap = True
            table.add_row(
                Text(str(n)),
                literal(g.client_words, one_line=True),
                literal(label(g.status), STATUS_STYLE.get(g.status, "")),
                Text(format_day(g.target_date)[4:] if g.target_date else "—"),
                literal(g.measurable or "—", one_line=True),
                last,
                key=str(g.id),
            )
        if wanted is not None:
            for i, g in enumerate(panel.goals):
                if g.id == wanted:
                    table.move_cursor(row=i)
                    break
        self._show_goal()

    def highlighted_goal(self) -> GoalRow | None:
        if self.panel is None or not self.panel.goals:
            return None
        row = self.query_one("#cp-goals", DataTable).cursor_row
        if 0 <= row < len(self.panel.goals):
            return self.panel.goals[row]
        return None

    @on(DataTable.RowHighlighted, "#cp-goals")
    def _moved(self) -> None:
        self._show_goal()

    def _show_goal(self) -> None:
        detail = self.query_one("#cp-goal-detail", Static)
        goal = self.highlighted_goal()
        panel = self.panel
        if goal is None or panel is None:
            detail.update(Text(""))
            detail.border_title = ""
            return
        lines: list[Text] = [
            Text.assemble(("“", "dim"), literal(goal.client_words, "bold"), ("”", "dim")),
        ]
        if goal.measurable:
            lines.append(Text.assemble("How we'll know: ", literal(goal.measurable)))
        status = Text.assemble(
            "Status ", literal(label(goal.status), STATUS_STYLE.get(goal.status, ""))
        )
        if goal.target_date:
            status.append(f" · target {format_day(goal.target_date)}")
        status.append(f" · {goal.progress_count} progress note(s)")
        lines.append(status)
        if goal.last_progress_note:
            lines.append(Text.assemble("Last progress: ", literal(goal.last_progress_note)))
        ivs = [i for i in panel.interventions if i.goal_id == goal.id]
        lines.append(Text(f"What we'll do ({len(ivs)})", style="bold underline"))
        now = utcnow()
        for iv in ivs:
            line = Text.assemble("  • ", literal(iv.description))
            if iv.owner_name:
                line.append_text(literal(f" — {iv.owner_name}", "dim"))
            if iv.follow_up_due_at:
                line.append(" · follow-up ")
                line.append_text(cells.due(iv.follow_up_due_at, now))
            lines.append(line)
        if not ivs:
            lines.append(Text("  none yet — i adds one", style="dim"))
        bars = [b for b in panel.barriers if b.goal_id in (goal.id, None)]
        lines.append(Text(f"What might get in the way ({len(bars)})", style="bold underline"))
        for b in bars:
            whole = " (whole plan)" if b.goal_id is None else ""
            lines.append(Text.assemble("  • ", literal(b.description), (whole, "dim")))
        if not bars:
            lines.append(Text("  none noted — b adds one", style="dim"))
        detail.update(Group(*lines))
        detail.border_title = "Highlighted goal"

    # ------------------------------------------------------------ actions

    def _goal_or_say(self, *, open_only: bool = True) -> GoalRow | None:
        goal = self.highlighted_goal()
        if goal is None:
            self.notify("No goal yet: g adds one.")
            return None
        if open_only and goal.status != "active":
            self.notify(f"This goal is {label(goal.status)}; a reopens it.")
            return None
        return goal

    def _open(self, form: FieldsForm, done: str) -> None:
        def saved(result: Any) -> None:
            if result is None:
                return
            self.notify(done, timeout=3)
            goal_id = result.id if isinstance(result, GoalRow) else getattr(result, "goal_id", None)
            self.reload(select_goal=goal_id if isinstance(goal_id, int) else None)

        self.app.push_screen(form, saved)

    def _title(self, what: str) -> Text:
        return Text.assemble((f"{what} — ", "bold"), literal(self.client_name, "bold"))

    def action_add_goal(self) -> None:
        store, viewer, cid = self.app.store, self.app.viewer, self.client_id

        def save(v: dict[str, Any]) -> Any:
            return careplans.add_goal(
                store,
                viewer,
                cid,
                client_words=v["words"],
                measurable=v["measurable"],
                target_date=v["target"],
            )

        self._open(FieldsForm(self._title("New goal"), _goal_fields(), save), "Goal added.")

    def action_revise(self) -> None:
        goal = self._goal_or_say()
        if goal is None:
            return
        store, viewer = self.app.store, self.app.viewer

        def save(v: dict[str, Any]) -> Any:
            return careplans.revise_goal(
                store,
                viewer,
                goal.id,
                goal.version,
                client_words=v["words"],
                measurable=v["measurable"],
                target_date=v["target"],
                note=v["why"],
            )

        fields = [*_goal_fields(goal), Field("why", "Why", hint="optional — why it changed")]
        extra = Text("The old goal is kept (revised) with its history.", style="dim")
        self._open(
            FieldsForm(self._title("Revise goal"), fields, save, extra=extra), "Goal revised."
        )

    def action_add_intervention(self) -> None:
        goal = self._goal_or_say()
        if goal is None:
            return
        store, viewer = self.app.store, self.app.viewer

        def save(v: dict[str, Any]) -> Any:
            return careplans.add_intervention(
                store, viewer, goal.id, v["what"], followup_due=v["due"]
            )

        fields = [
            Field(
                "what",
                "We will",
                required=True,
                hint="e.g. teach BP self-check",
                max_length=careplans.DESCRIPTION_MAX,
            ),
            Field("due", "Follow-up", kind="due", hint=FOLLOWUP_HINT),
        ]
        extra = Text.assemble("For: ", literal(goal.client_words, one_line=True))
        self._open(
            FieldsForm(self._title("Intervention"), fields, save, extra=extra),
            "Intervention added.",
        )

    def action_add_barrier(self) -> None:
        goal = self.highlighted_goal()
        store, viewer, cid = self.app.store, self.app.viewer, self.client_id
        goal_id = goal.id if goal is not None and goal.status == "active" else None

        def save(v: dict[str, Any]) -> Any:
            return careplans.add_barrier(store, viewer, cid, v["what"], goal_id=goal_id)

        fields = [
            Field(
                "what",
                "Barrier",
                required=True,
                hint="e.g. no ride to appointments",
                max_length=careplans.DESCRIPTION_MAX,
            )
        ]
        extra = (
            Text.assemble("For: ", literal(goal.client_words, one_line=True))
            if goal_id is not None and goal is not None
            else Text("For the whole plan", style="dim")
        )
        self._open(FieldsForm(self._title("Barrier"), fields, save, extra=extra), "Barrier noted.")

    def action_progress(self) -> None:
        goal = self._goal_or_say(open_only=False)
        if goal is None:
            return
        store, viewer = self.app.store, self.app.viewer

        def save(v: dict[str, Any]) -> Any:
            return careplans.record_progress(store, viewer, goal.id, v["note"])

        fields = [
            Field(
                "note",
                "Progress",
                required=True,
                hint="what changed, in a line",
                max_length=careplans.NOTE_MAX,
            )
        ]
        extra = Text.assemble("Goal: ", literal(goal.client_words, one_line=True))
        self._open(
            FieldsForm(self._title("Progress note"), fields, save, extra=extra),
            "Progress noted.",
        )

    def action_met(self) -> None:
        goal = self._goal_or_say()
        if goal is not None:
            self._set_status(goal, "met", "Goal met. a reopens it.")

    def action_reopen(self) -> None:
        goal = self._goal_or_say(open_only=False)
        if goal is None:
            return
        if goal.status == "active":
            self.notify("This goal is open already.")
            return
        self._set_status(goal, "active", "Goal open again.")

    def action_not_met(self) -> None:
        goal = self._goal_or_say()
        if goal is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._set_status(goal, "not_met", "Goal marked not met. a reopens it.")

        question = Text.assemble(
            ("Mark this goal not met? ", "bold"), literal(goal.client_words, one_line=True)
        )
        self.app.push_screen(YesNo(question, "It stays on the plan as history."), answered)

    @work(thread=True, group="careplan-change", exit_on_error=False)
    def _set_status(self, goal: GoalRow, status: str, done: str) -> None:
        try:
            careplans.set_goal_status(
                self.app.store, self.app.viewer, goal.id, goal.version, status
            )
        except (CarePlanError, NotAllowed) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            self.app.call_from_thread(self.reload)
            return
        self.app.call_from_thread(self.notify, done, timeout=3)
        self.app.call_from_thread(self.reload, goal.id)

    def _open_items(self, goal: GoalRow) -> list[InterventionRow | BarrierRow]:
        panel = self.panel
        if panel is None:
            return []
        items: list[InterventionRow | BarrierRow] = [
            i for i in panel.interventions if i.goal_id == goal.id and i.status == "active"
        ]
        items.extend(
            b for b in panel.barriers if b.goal_id in (goal.id, None) and b.status == "open"
        )
        return items

    def action_pick_done(self) -> None:
        goal = self._goal_or_say(open_only=False)
        if goal is None:
            return
        items = self._open_items(goal)
        if not items:
            self.notify("Nothing open on this goal: i adds an intervention, b a barrier.")
            return
        if len(items) > PICK_MAX:
            self.notify(f"Showing the first {PICK_MAX} open items.", timeout=3)

        def picked(item: InterventionRow | BarrierRow | None) -> None:
            if isinstance(item, InterventionRow):
                self._intervention_status(item, "done")
            elif isinstance(item, BarrierRow):
                self._ask_resolve(item)

        self.app.push_screen(PickItem(goal, items), picked)

    def _ask_resolve(self, barrier: BarrierRow) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._resolve(barrier)

        question = Text.assemble(
            ("Resolve this barrier? ", "bold"), literal(barrier.description, one_line=True)
        )
        self.app.push_screen(YesNo(question, "It leaves the plan (kept as history)."), answered)

    @work(thread=True, group="careplan-change", exit_on_error=False)
    def _resolve(self, barrier: BarrierRow) -> None:
        try:
            careplans.resolve_barrier(self.app.store, self.app.viewer, barrier.id)
        except (CarePlanError, NotAllowed) as exc:
            self.app.call_from_thread(self.notify, f"Not resolved: {exc}", severity="error")
            self.app.call_from_thread(self.reload)
            return
        self.app.call_from_thread(self.notify, "Barrier resolved.", timeout=3)
        self.app.call_from_thread(self.reload)

    @work(thread=True, group="careplan-change", exit_on_error=False)
    def _intervention_status(self, iv: InterventionRow, status: str) -> None:
        try:
            row = careplans.set_intervention_status(self.app.store, self.app.viewer, iv.id, status)
        except (CarePlanError, NotAllowed) as exc:
            self.app.call_from_thread(self.notify, f"Not changed: {exc}", severity="error")
            self.app.call_from_thread(self.reload)
            return
        self.app.call_from_thread(self._status_changed, row)

    def _status_changed(self, row: InterventionRow) -> None:
        if row.status == "done":
            self._undo = row
            self.notify("Intervention done. u undoes.", timeout=5)
        else:
            self._undo = None
            self.notify("Intervention open again.", timeout=3)
        self.reload(select_goal=row.goal_id)

    def action_undo_done(self) -> None:
        if self._undo is None:
            self.notify("Nothing to undo: u reopens the intervention just marked done.")
            return
        iv, self._undo = self._undo, None
        self._intervention_status(iv, "active")

    def action_history(self) -> None:
        goal = self._goal_or_say(open_only=False)
        if goal is not None:
            self.app.push_screen(ProgressNotes(goal))

    def action_back(self) -> None:
        self.dismiss(None)

    def contact_logged(self, logged: Any) -> None:
        if getattr(logged, "client_id", None) == self.client_id:
            self.reload()

    def screen_commands(self) -> list[SystemCommand]:
        return [
            SystemCommand("Add goal", "A goal in the client's own words (g)", self.action_add_goal),
            SystemCommand(
                "Add intervention",
                "What the team will do for the highlighted goal (i)",
                self.action_add_intervention,
            ),
            SystemCommand("Add barrier", "What might get in the way (b)", self.action_add_barrier),
            SystemCommand(
                "Progress note", "A note on the highlighted goal (p)", self.action_progress
            ),
            SystemCommand("Goal met", "Mark the highlighted goal met (m)", self.action_met),
            SystemCommand(
                "Goal not met", "Mark the highlighted goal not met (x)", self.action_not_met
            ),
            SystemCommand(
                "Intervention done / resolve barrier",
                "Pick one of the highlighted goal's open items with 1-9 (d)",
                self.action_pick_done,
            ),
            SystemCommand(
                "Undo intervention done",
                "Open the intervention just marked done again (u)",
                self.action_undo_done,
            ),
            SystemCommand(
                "Progress notes",
                "The highlighted goal's notes, older ones a page at a time (h)",
                self.action_history,
            ),
            SystemCommand(
                "Reopen goal", "Open a met or not-met goal again (a)", self.action_reopen
            ),
            SystemCommand(
                "Revise goal", "Replace the goal, keeping the old one (r)", self.action_revise
            ),
        ]


def _goal_fields(goal: GoalRow | None = None) -> list[Field]:
    return [
        Field(
            "words",
            "Their words",
            goal.client_words if goal else "",
            required=True,
            hint="what they said, as they said it",
            max_length=careplans.WORDS_MAX,
        ),
        Field(
            "measurable",
            "We'll know",
            (goal.measurable or "") if goal else "",
            hint="optional — e.g. BP under 140/90 on 3 readings",
            max_length=careplans.MEASURABLE_MAX,
        ),
        Field(
            "target",
            "Target",
            goal.target_date.isoformat() if goal and goal.target_date else "",
            kind="day",
            hint=TARGET_HINT,
        ),
    ]


def open_care_plan(screen: Any, client_id: int, client_name: str = "") -> None:
    screen.app.push_screen(CarePlanScreen(client_id, client_name))
