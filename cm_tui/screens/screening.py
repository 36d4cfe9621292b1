"""Screening (DESIGN §5.4): choose a script, opt-out prompt, one question at a time, summary.

Answers are saved as they are given, in the order given, by one writer at a time
(`_enqueue`): the screen moves on at once and never waits for the database. A
"prefers not to answer" is saved as declined, never as "no". Leaving mid-way keeps
the screening `in_progress`; opening it again resumes at the same question.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from dateutil import tz
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Header, Input, Static
from textual.widgets.data_table import ColumnKey

from cm_tui.dates import format_due
from cm_tui.screening import (
    AnswerError,
    Item,
    Proposal,
    ScreeningResult,
    Script,
    ScriptError,
    ScriptInfo,
    evaluate,
    list_scripts,
    load_any,
    next_item,
    previous_item,
    progress,
    visible_items,
)
from cm_tui.screens.base import BaseScreen, describe_error, open_when_read
from cm_tui.screens.screening_modals import ConfirmModal, EditFollowUpModal, FollowUpEdit
from cm_tui.services import screenings as svc
from cm_tui.services.clients import NotAllowed
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets import cells
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import SafeInput, literal, plain

SUMMARY = svc.SUMMARY
# One writer for every screening screen of the process: a screening reopened at once
# reads what the closed screen's last saves wrote, never a state from before them.
_WRITER = threading.Lock()
TITLE_MIN = 20
FLAG_NAMES = {"interpersonal_safety": "Interpersonal safety", "self_harm_risk": "Self-harm risk"}

# What each phase lets the keys do (check_action hides the rest from the footer).
PHASE_ACTIONS = {
    "loading": {"leave"},
    "choose": {"leave"},
    "optout": {"acknowledge", "decline_all", "leave"},
    "question": {"pick", "cursor", "toggle", "confirm", "decline_item", "back", "leave"},
    "summary": {
        "accept",
        "skip",
        "edit",
        "accept_all",
        "finish",
        "back",
        "leave",
        "scroll_results",
    },
}


def _due_short(dt: datetime | None) -> Text:
    """ "2 Dec 09:00" in local time (the full date is in the detail line)."""
    if dt is None:
        return Text("—", style="dim")
    local = dt.astimezone(tz.tzlocal())
    return Text(f"{local.day} {local:%b %H:%M}")


@dataclass(frozen=True)
class SubjectRead:
    """Who is screened (the view audited) and the scripts to choose from: read before
    the screen is pushed, so that its first frame shows them (start_screening)."""

    subject: svc.Subject
    scripts: list[ScriptInfo]


def _scripts_dir(app: Any) -> Any:
    from pathlib import Path

    folder = getattr(app.settings, "scripts_dir", None)
    return Path(folder).expanduser() if folder else None


def read_subject(app: Any, client_id: int) -> SubjectRead | str:
    """In a worker: the subject and the scripts, or why this user may not screen them."""
    try:
        with _WRITER:
            subject = svc.subject(app.store, app.viewer, client_id)
    except NotAllowed as exc:
        return str(exc)
    return SubjectRead(subject, list_scripts(_scripts_dir(app)))


def start_screening(app: Any, client_id: int, script_id: str | None = None) -> None:
    """Open the screening screen for a client (the caseload and client screens bind `s`),
    with who and what to screen read first (issue 8: screens.base.open_when_read)."""
    if app.viewer is None:
        app.notify("Sign in first.", severity="error")
        return
    open_when_read(
        app,
        lambda: read_subject(app, client_id),
        lambda read: ScreeningScreen(client_id, read, script_id),
        what="the screening",
    )


@dataclass
class _Choice:
    """The summary's decision on one proposal."""

    proposal: Proposal
    state: str = "proposed"  # proposed | accepted | skipped
    title: str = ""
    due_at: datetime | None = None
    priority: str = ""
    confirmed_skip: bool = False

    def decision(self) -> svc.Decision:
        return svc.Decision(
            self.proposal,
            self.state == "accepted",
            title=self.title,
            due_at=self.due_at,
            priority=self.priority,
            confirmed_skip=self.confirmed_skip,
        )


@dataclass
class _Job:
    """One write, run in order by the screen's single writer."""

    describe: str
    run: Callable[[Any, Any], Any]  # (store, viewer) -> result
    done: Callable[[Any], None] | None = None
    item_id: str | None = None  # an answer save: where to go back to if it fails
    extra: dict[str, Any] = field(default_factory=dict)


class ScreeningScreen(BaseScreen[None]):
    TITLE = "Screening"
    CSS_PATH = "screening.tcss"
    SIZE_CLASSES = {
        "-short": lambda s: s.height < 30,
    }
    AUTO_FOCUS = None  # focus follows the phase (see _set_phase callers)
    BINDINGS = [
        Binding("escape", "leave", "Save & leave"),
        # opt-out prompt
        Binding("a,enter", "acknowledge", "Agreed: start"),
        Binding("x", "decline_all", "Declines whole screening"),
        # one question
        *(
            Binding(
                str(n),
                f"pick({n or 10})",
                "Pick option 1–9 (0: the 10th)" if n == 1 else "",
                show=False,
            )
            for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)
        ),
        Binding("up", "cursor(-1)", "", show=False),
        Binding("down", "cursor(1)", "", show=False),
        Binding("space", "toggle", "Choose/toggle highlighted option", show=False),
        Binding("enter", "confirm", "Confirm"),
        Binding("d", "decline_item", "Prefers not to answer"),
        Binding("b", "back", "Back"),
        # summary
        Binding("a", "accept", "Accept"),
        Binding("e", "edit", "Edit"),
        Binding("x", "skip", "Skip"),
        Binding("A", "accept_all", "Accept all"),
        Binding("f,ctrl+s", "finish", "Finish"),
        Binding("pageup", "scroll_results(-1)", "", show=False),
        Binding("pagedown", "scroll_results(1)", "", show=False),
    ]

    def __init__(self, client_id: int, first: SubjectRead, script_id: str | None = None) -> None:
        """``first``: read before the screen is pushed (start_screening)."""
        super().__init__()
        self.client_id = client_id
        self._first = first
        self.requested_script = script_id
        self.phase = "loading"
        self.subject: svc.Subject | None = None
        self.scripts: list[ScriptInfo] = []
        self.script: Script | None = None
        self.state: svc.ScreeningState | None = None
        self.current: str | None = None  # item id or SUMMARY
        self.cursor: int | None = None  # highlighted option (index)
        self.selection: list[str] = []  # multi: options toggled so far
        self.result: ScreeningResult | None = None
        self.choices: list[_Choice] = []
        self.finished = False
        self._jobs: deque[_Job] = deque()
        self._typed_timer: Any = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.app.show_clock)
        yield Static(id="who")
        with ContentSwitcher(initial="loading", id="phases"):
            yield Static(Text("Loading…", style="dim"), id="loading")
            with Vertical(id="choose"):
                yield Static(Text("Choose a screening", style="bold"), classes="phase-title")
                yield ListTable(id="scripts")
                yield Static(id="choose-hint", classes="hint")
            with VerticalScroll(id="optout", can_focus=False):
                yield Static(id="optout-title", classes="phase-title")
                yield Static(id="optout-text")
                yield Static(id="optout-resume")
                yield Static(id="optout-keys", classes="hint")
            with VerticalScroll(id="question", can_focus=False):
                yield Static(id="progress")
                yield Static(id="preamble")
                yield Static(id="qtext")
                yield Static(id="options")
                yield SafeInput(id="entry")
                yield Static(id="qerror", classes="error")
                yield Static(id="qstatus")
                yield Static(id="qhint", classes="hint")
            with Vertical(id="summary"):
                with VerticalScroll(id="summary-top", can_focus=False):
                    yield Static(id="flag-notice")
                    yield Static(id="results")
                yield Static(id="proposals-title", classes="phase-title")
                yield ListTable(id="proposals")
                yield Static(id="proposal-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        scripts = self.query_one("#scripts", DataTable)
        for title, key, width in (
            ("Script", "title", 0),
            ("Qs", "n", 3),
            ("For this client", "status", 36),
        ):
            scripts.add_column(title, key=key, width=width or TITLE_MIN)
        table = self.query_one("#proposals", DataTable)
        for title, key, width in (
            ("Decision", "decision", 9),
            ("Priority", "priority", 8),
            ("Due", "due", 12),
            ("Need", "need", 10),
            ("Follow-up", "title", 0),
        ):
            table.add_column(title, key=key, width=width or TITLE_MIN)
        self.query_one("#entry", Input).display = False
        self._fit_columns()
        self._show_choices(self._first.subject, self._first.scripts)

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        need = self.query_one("#proposals", DataTable).columns.get(ColumnKey("need"))
        if need is not None:
            need.width = 14 if self.size.width >= 100 else 10  # "transportation" when it fits
        for table_id, key in (("#scripts", "title"), ("#proposals", "title")):
            table = self.query_one(table_id, DataTable)
            columns = list(table.columns.values())
            fixed = sum(c.width for c in columns if str(c.key.value) != key)
            width = max(
                TITLE_MIN, self.size.width - fixed - 2 * table.cell_padding * len(columns) - 4
            )
            column = table.columns.get(ColumnKey(key))
            if column is not None and column.width != width:
                column.width = width
                column.auto_width = False
                table.refresh(layout=True)

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.query_one("#phases", ContentSwitcher).current = phase
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in PHASE_ACTIONS.get(self.phase, set()):
            return False
        if action in ("cursor", "toggle", "pick"):
            return self._item_kind() in ("single", "multi")
        return True

    # ------------------------------------------------------------ loading

    def _show_choices(self, subject: svc.Subject, scripts: list[ScriptInfo]) -> None:
        self.subject = subject
        self.scripts = scripts
        self.sub_title = subject.name
        self._update_who()
        if self.requested_script:
            self._open_script(self.requested_script)
            return
        table = self.query_one("#scripts", DataTable)
        table.clear()
        for info in scripts:
            pending = subject.resumable(info.id)
            if not info.ok:
                status = literal(f"⚠ cannot be used: {info.problems[0]}", "red", one_line=True)
            elif pending is not None:
                status = Text.assemble(
                    ("in progress", "yellow bold"),
                    f" · {pending.answered} answered",
                    f", {pending.declined} declined" if pending.declined else "",
                )
            else:
                status = Text("—", style="dim")
            title = literal(info.title or info.id, "" if info.ok else "dim", one_line=True)
            if not info.builtin:
                title.append(" (custom)", style="italic dim")
            table.add_row(
                title,
                Text(str(info.items) if info.ok else "—"),
                status,
                key=info.id if info.ok else f"!{info.path}",
            )
        hint = "↑ ↓ choose · enter open · escape back"
        if not scripts:
            hint = "No screening scripts found."
        self.query_one("#choose-hint", Static).update(Text(hint))
        self._set_phase("choose")
        table.focus()

    @on(DataTable.RowSelected, "#scripts")
    def _script_chosen(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        if key.startswith("!"):
            info = next((i for i in self.scripts if f"!{i.path}" == key), None)
            problems = "; ".join(str(p) for p in info.problems[:3]) if info else ""
            self.notify(
                f"This script has problems: {problems}. Run `cm-tui scripts check` on it.",
                severity="error",
                markup=False,
            )
            return
        self._open_script(key)

    def _open_script(self, script_id: str) -> None:
        self._set_phase("loading")
        self._load_script(script_id)

    @work(thread=True, exclusive=True, group="screening-load", exit_on_error=False)
    def _load_script(self, script_id: str) -> None:
        try:
            script = load_any(script_id, _scripts_dir(self.app))
        except (KeyError, ScriptError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            self.app.call_from_thread(self._script_failed, str(message))
            return
        self.app.call_from_thread(self._show_optout, script)

    def _script_failed(self, message: str) -> None:
        self.notify(message, title="Cannot open the script", severity="error", markup=False)
        if self.requested_script:
            self.app.pop_screen()
        else:
            self._set_phase("choose")
            self.query_one("#scripts", DataTable).focus()

    # ------------------------------------------------------------ opt-out prompt

    def _update_who(self) -> None:
        parts: list[Any] = []
        if self.subject is not None:
            parts.append(literal(self.subject.name, "bold"))
        if self.script is not None:
            parts += ["  ·  ", literal(self.script.title)]
        self.query_one("#who", Static).update(Text.assemble(*parts))

    def _show_optout(self, script: Script) -> None:
        self.script = script
        self._update_who()
        self.query_one("#optout-title", Static).update(
            Text("Read this aloud before the first question", style="bold")
        )
        intro = self.query_one("#optout-text", Static)
        intro.update(literal(script.intro.strip()))
        pending = self.subject.resumable(script.id) if self.subject else None
        resume = self.query_one("#optout-resume", Static)
        if pending is not None:
            declined = f", {pending.declined} declined" if pending.declined else ""
            resume.update(
                Text.assemble(
                    ("Resuming ", "bold yellow"),
                    "the screening started ",
                    format_due(pending.started_at, utcnow()),
                    literal(f" by {pending.started_by}" if pending.started_by else ""),
                    f": {pending.answered} answered{declined}. ",
                    "Read the opt-out again before you continue.",
                )
            )
        else:
            resume.update("")
        self.query_one("#optout-keys", Static).update(
            Text.assemble(
                ("a", "bold"),
                " or ",
                ("enter", "bold"),
                "  they agree: start the questions\n",
                ("x", "bold"),
                "  they decline the whole screening (recorded as declined)\n",
                ("escape", "bold"),
                "  not now",
            )
        )
        self._set_phase("optout")
        self.set_focus(None)

    def action_acknowledge(self) -> None:
        if self.script is None:
            return
        self._set_phase("loading")
        self._start(self.script)

    @work(thread=True, exclusive=True, group="screening-load", exit_on_error=False)
    def _start(self, script: Script) -> None:
        try:
            with _WRITER:
                state = svc.start(self.app.store, self.app.viewer, self.client_id, script)
        except (svc.ScreeningError, NotAllowed) as exc:
            self.app.call_from_thread(self._failed_start, str(exc))
            return
        self.app.call_from_thread(self._started, state)

    def _failed_start(self, message: str) -> None:
        self.notify(message, severity="error", markup=False)
        self._set_phase("optout")

    def _started(self, state: svc.ScreeningState) -> None:
        assert self.script is not None
        self.state = state
        self._go(svc.resume_position(self.script, state), saved=True)

    def action_decline_all(self) -> None:
        if self.script is None:
            return
        script = self.script
        self._set_phase("loading")
        self.finished = True
        self._enqueue(
            _Job(
                "recording the declined screening",
                lambda store, viewer: svc.decline_screening(store, viewer, self.client_id, script),
                done=lambda _id: self._close_with("Recorded: the person declined this screening."),
            )
        )

    def _close_with(self, message: str) -> None:
        self.app.notify(message, title="Screening", markup=False)
        if self.is_attached and self.app.screen is self:
            self.app.pop_screen()

    # ------------------------------------------------------------ questions

    def _item(self) -> Item | None:
        if self.script is None or self.current in (None, SUMMARY):
            return None
        return self.script.item(self.current or "")

    def _item_kind(self) -> str | None:
        item = self._item()
        return item.kind if item else None

    def _given(self) -> dict[str, list[str]]:
        assert self.state is not None
        return {k: v for k, v in self.state.answers.items() if k not in self.state.declined}

    def _go(self, position: str, *, saved: bool = False) -> None:
        """Show a question (or the summary); remember the position unless already saved."""
        self._flush_typed()
        self.current = position
        if not saved:
            self._save_position(position)
        if position == SUMMARY:
            self._show_summary()
        else:
            self._show_question()

    def _save_position(self, position: str) -> None:
        assert self.state is not None
        sid = self.state.screening_id
        self._enqueue(
            _Job(
                "saving the position",
                lambda store, viewer: svc.save_position(store, viewer, sid, position),
            )
        )

    def _show_question(self) -> None:
        item = self._item()
        assert item is not None and self.script is not None and self.state is not None
        n, total = progress(self.script, self.state.answers, self.state.declined, item.id)
        self.query_one("#progress", Static).update(
            Text.assemble(
                (f"Question {n} of {total}", "bold"),
                "  ·  ",
                literal(label(item.domain).capitalize(), "cyan"),
            )
        )
        preamble = self.query_one("#preamble", Static)
        preamble.display = bool(item.preamble)
        preamble.update(literal(item.preamble.strip()))
        self.query_one("#qtext", Static).update(literal(item.text.strip(), "bold"))
        self.query_one("#qerror", Static).update("")
        entry = self.query_one("#entry", Input)
        answered = self.state.answers.get(item.id)
        declined = item.id in self.state.declined
        if item.kind in ("single", "multi"):
            entry.display = False
            self.selection = list(answered or []) if not declined else []
            self.cursor = None
            if answered and not declined and item.kind == "single":
                ids = item.option_ids
                self.cursor = ids.index(answered[0]) if answered[0] in ids else None
            self._render_options()
            self.set_focus(None)
        else:
            self.query_one("#options", Static).update("")
            entry.display = True
            entry.placeholder = "a number" if item.kind == "number" else "their answer"
            entry.type = "number" if item.kind == "number" else "text"
            typed = self.state.typed.get(item.id)
            value = typed if typed is not None else (answered[0] if answered else "")
            with entry.prevent(Input.Changed):
                entry.value = plain(value) if not declined else ""
            entry.focus()
        status = self.query_one("#qstatus", Static)
        if declined:
            status.update(Text("Recorded earlier: prefers not to answer.", style="yellow"))
        elif answered:
            status.update(Text("Answered earlier (marked ●). enter keeps it.", style="green"))
        else:
            status.update("")
        self._update_hint()
        self._set_phase("question")
        self.query_one("#question", VerticalScroll).scroll_home(animate=False)

    def _render_options(self) -> None:
        item = self._item()
        assert item is not None
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=3, no_wrap=True)
        grid.add_column(width=3, justify="right", no_wrap=True)
        grid.add_column(ratio=1)
        for i, option in enumerate(item.options):
            chosen = option.id in self.selection
            if item.kind == "multi":
                mark = "[x]" if chosen else "[ ]"
            else:
                mark = " ● " if chosen else "   "
            key = str(i + 1) if i < 9 else ("0" if i == 9 else "")
            style = "reverse" if self.cursor == i else ""
            grid.add_row(
                Text(mark, style="bold green" if chosen else "dim"),
                Text(key, style="bold"),
                literal(option.label, style),
            )
        self.query_one("#options", Static).update(grid)

    def _update_hint(self) -> None:
        kind = self._item_kind()
        keys: list[tuple[str, str]]
        if kind == "single":
            keys = [("1–9", "answer"), ("↑↓ space", "highlight, choose")]
            if self.state and (
                self.current in self.state.answers or self.current in self.state.declined
            ):
                keys.append(("enter", "keep"))
        elif kind == "multi":
            keys = [("1–9", "tick / untick"), ("↑↓ space", "highlight, tick"), ("enter", "done")]
        else:
            keys = [("enter", "save"), ("escape", "leave the field for d / b")]
        keys += [("d", "prefers not to answer"), ("b", "back")]
        parts: list[Any] = []
        for key, what in keys:
            parts += [(key, "bold"), f" {what}   "]
        self.query_one("#qhint", Static).update(Text.assemble(*parts))

    def action_pick(self, number: int) -> None:
        item = self._item()
        if item is None or item.kind not in ("single", "multi"):
            return
        if not 1 <= number <= len(item.options):
            self.notify(f"There is no option {number % 10}.", severity="warning")
            return
        self.cursor = number - 1
        option = item.options[number - 1]
        if item.kind == "single":
            self._answer(item, [option.id])
        else:
            self._toggle(item, option.id)

    def _toggle(self, item: Item, option_id: str) -> None:
        option = item.option(option_id)
        if option_id in self.selection:
            self.selection.remove(option_id)
        elif option is not None and option.exclusive:
            self.selection = [option_id]  # "None of the above" clears the others
        else:
            self.selection = [
                s for s in self.selection if not (o := item.option(s)) or not o.exclusive
            ]
            self.selection.append(option_id)
        self.query_one("#qerror", Static).update("")
        self._render_options()

    def action_cursor(self, step: int) -> None:
        item = self._item()
        if item is None or not item.options:
            return
        if self.cursor is None:
            self.cursor = 0 if step > 0 else len(item.options) - 1
        else:
            self.cursor = max(0, min(len(item.options) - 1, self.cursor + step))
        self._render_options()

    def action_toggle(self) -> None:
        item = self._item()
        if item is None or self.cursor is None:
            return
        option = item.options[self.cursor]
        if item.kind == "single":
            self._answer(item, [option.id])
        else:
            self._toggle(item, option.id)

    def action_confirm(self) -> None:
        item = self._item()
        if item is None or self.state is None:
            return
        if item.kind == "multi":
            if not self.selection:
                self._error("Tick at least one option, or press d if they prefer not to answer.")
                return
            ordered = [o.id for o in item.options if o.id in self.selection]
            if self.state.answers.get(item.id) == ordered:
                self._advance(item.id)  # unchanged: keep it
            else:
                self._answer(item, ordered)
        elif item.kind == "single":
            if self.cursor is not None and (
                item.id not in self.state.answers
                or self.state.answers[item.id] != [item.options[self.cursor].id]
            ):
                self._answer(item, [item.options[self.cursor].id])
            elif item.id in self.state.answers or item.id in self.state.declined:
                self._advance(item.id)  # keep what was recorded
            else:
                self._error("Press the number of their answer, or d if they prefer not to answer.")
        elif item.id in self.state.answers or item.id in self.state.declined:
            self._advance(item.id)
        else:
            self.query_one("#entry", Input).focus()

    @on(Input.Submitted, "#entry")
    def _entry_submitted(self, event: Input.Submitted) -> None:
        item = self._item()
        if item is None or self.script is None:
            return
        value = event.value.strip()
        if not value:
            self._error("Type their answer, or escape then d if they prefer not to answer.")
            return
        try:
            evaluate(self.script, {item.id: [value]}, strict=True)
        except AnswerError as exc:
            self._error(str(exc).split(": ", 1)[-1])
            return
        self._answer(item, [value])

    @on(Input.Changed, "#entry")
    def _entry_changed(self, event: Input.Changed) -> None:
        item = self._item()
        if item is None or self.state is None:
            return
        self.state.typed[item.id] = event.value
        if self._typed_timer is not None:
            self._typed_timer.stop()
        self._typed_timer = self.set_timer(1.0, self._flush_typed)

    def _flush_typed(self) -> None:
        """Save half-typed answers not yet saved (so a crash or a quit does not lose them)."""
        if self._typed_timer is None:
            return
        self._typed_timer.stop()
        self._typed_timer = None
        if self.state is None or self.finished:
            return
        sid, typed = self.state.screening_id, dict(self.state.typed)
        self._enqueue(
            _Job(
                "saving what was typed",
                lambda store, viewer: svc.save_position(store, viewer, sid, None, typed=typed),
            )
        )

    def _error(self, message: str) -> None:
        self.query_one("#qerror", Static).update(literal(message))

    def action_decline_item(self) -> None:
        item = self._item()
        if item is None or self.state is None:
            return
        self._record(item, [], declined=True)

    def _answer(self, item: Item, values: list[str]) -> None:
        self._record(item, values, declined=False)

    def _record(self, item: Item, values: list[str], *, declined: bool) -> None:
        assert self.state is not None and self.script is not None
        state = self.state
        if declined:
            state.answers.pop(item.id, None)
            state.declined.add(item.id)
        else:
            state.answers[item.id] = list(values)
            state.declined.discard(item.id)
        state.typed.pop(item.id, None)
        position = self._after(item.id)
        script, sid = self.script, state.screening_id
        self._enqueue(
            _Job(
                f"saving the answer to question {item.id}",
                lambda store, viewer: svc.save_answer(
                    store,
                    viewer,
                    sid,
                    script,
                    item.id,
                    values,
                    declined=declined,
                    position=position,
                ),
                item_id=item.id,
            )
        )
        self._go(position, saved=True)

    def _after(self, item_id: str) -> str:
        """The question after `item_id` given the answers so far (skip logic), else the
        first one still unanswered, else the summary."""
        assert self.script is not None and self.state is not None
        ids = [i.id for i in visible_items(self.script, self._given())]
        if item_id in ids and ids.index(item_id) + 1 < len(ids):
            return ids[ids.index(item_id) + 1]
        nxt = next_item(self.script, self.state.answers, self.state.declined)
        return nxt.id if nxt is not None else SUMMARY

    def _advance(self, item_id: str) -> None:
        self._go(self._after(item_id))

    def action_back(self) -> None:
        if self.script is None or self.state is None:
            return
        current = None if self.current == SUMMARY else self.current
        prev = previous_item(self.script, self.state.answers, self.state.declined, current)
        if prev is None:
            self.notify("This is the first question.", severity="information")
            return
        self._go(prev.id)

    # ------------------------------------------------------------ summary

    def _show_summary(self) -> None:
        assert self.script is not None and self.state is not None
        script = self.script
        result = evaluate(script, self.state.answers, self.state.declined, strict=False)
        fresh = self.result is None or self.result.proposals != result.proposals
        self.result = result
        if fresh:
            now = utcnow()
            self.choices = [
                _Choice(p, title=p.title, due_at=svc.default_due(p, now), priority=p.priority)
                for p in result.proposals
            ]
        notice = self.query_one("#flag-notice", Static)
        notice.display = bool(result.flags)
        if result.flags:
            names = ", ".join(FLAG_NAMES.get(f, label(f)) for f in sorted(result.flags))
            notice.update(
                Group(
                    Text.assemble(
                        (f"⚑ FLAG: {names}", "bold"),
                        (" — decide its urgent follow-up (⚑)", "italic"),
                    ),
                    literal(self.app.settings.flag_protocol.strip()),
                )
            )
        self.query_one("#results", Static).update(self._results_text(script, result))
        self.query_one("#proposals-title", Static).update(
            Text(
                "Proposed needs and follow-ups" if result.proposals else "Nothing to propose.",
                style="bold",
            )
        )
        table = self.query_one("#proposals", DataTable)
        table.display = bool(result.proposals)
        self._fill_proposals()
        self._set_phase("summary")
        self.query_one("#summary-top", VerticalScroll).scroll_home(animate=False)
        if result.proposals:
            table.focus()
        else:
            self.set_focus(None)

    def _results_text(self, script: Script, result: ScreeningResult) -> RenderableType:
        lines: list[Text] = []
        positive = [label(d).capitalize() for d in script.domains if d in result.positive_domains]
        positive += sorted(
            label(d).capitalize() for d in result.positive_domains if d not in script.domains
        )
        lines.append(
            Text.assemble(
                ("Positive   ", "bold"),
                literal(", ".join(positive), "bold red")
                if positive
                else Text("no positive domains", style="green"),
            )
        )
        for score in script.scores:
            name = score.label or score.id
            if score.id in result.scores:
                band = result.bands.get(score.id)
                value = Text.assemble(
                    (str(result.scores[score.id]), "bold"),
                    f" ({label(band)})" if band else "",
                )
            elif score.id in result.incomplete_scores:
                partial = result.partial_scores.get(score.id)
                value = Text.assemble(
                    ("incomplete — declined", "yellow bold"),
                    f" (answered items sum to {partial})" if partial is not None else "",
                )
            else:
                continue
            lines.append(Text.assemble(("Score      ", "bold"), literal(name), ": ", value))
        declined = [i for i in script.items if i.id in result.declined_items]
        if declined:
            lines.append(Text("Declined   prefers not to answer:", style="bold"))
            for item in declined:
                lines.append(Text.assemble("  · ", literal(item.text, one_line=True)))
        else:
            lines.append(Text.assemble(("Declined   ", "bold"), ("none", "dim")))
        return Group(*lines)

    def _fill_proposals(self, keep_row: int | None = None) -> None:
        table = self.query_one("#proposals", DataTable)
        row = keep_row if keep_row is not None else 0
        table.clear()
        for i, choice in enumerate(self.choices):
            p = choice.proposal
            decision = {
                "proposed": Text("? decide", style="yellow"),
                "accepted": Text("✓ accept", style="bold green"),
                "skipped": Text("✗ skip", style="dim"),
            }[choice.state]
            title = literal(choice.title, one_line=True)
            if p.source == "flag":
                title = Text.assemble(("⚑ ", "bold red"), title)
            table.add_row(
                decision,
                literal(choice.priority, cells.PRIORITY_STYLE.get(choice.priority, "")),
                _due_short(choice.due_at),
                literal(label(p.need_domain) if p.need_domain else "—"),
                title,
                key=str(i),
            )
        if self.choices:
            table.move_cursor(row=min(row, len(self.choices) - 1), animate=False)
            self._show_detail(table.cursor_row)
        else:
            self._show_detail(-1)

    def _highlighted(self) -> int | None:
        table = self.query_one("#proposals", DataTable)
        if not self.choices or table.row_count == 0:
            return None
        return table.cursor_row

    def _set_choice(self, index: int, state: str, *, move: bool = True) -> None:
        self.choices[index].state = state
        nxt = index + 1 if move and index + 1 < len(self.choices) else index
        self._fill_proposals(nxt)

    def action_accept(self) -> None:
        index = self._highlighted()
        if index is not None:
            self.choices[index].confirmed_skip = False
            self._set_choice(index, "accepted")

    def action_accept_all(self) -> None:
        for choice in self.choices:
            if choice.state == "proposed":
                choice.state = "accepted"
        self._fill_proposals(self._highlighted())

    @on(DataTable.RowHighlighted, "#proposals")
    def _proposal_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def _show_detail(self, index: int) -> None:
        detail = self.query_one("#proposal-detail", Static)
        if not 0 <= index < len(self.choices):
            detail.update("")
            return
        choice = self.choices[index]
        p = choice.proposal
        need = f"{label(p.need_domain)} need · " if p.need_domain else "no need · "
        detail.update(
            Text.assemble(
                literal(choice.title, "bold"),
                "\n",
                literal(f"{need}{label(p.kind)} · due "),
                format_due(choice.due_at, utcnow()) if choice.due_at else "—",
                " · ",
                literal(self._assignee()),
            )
        )

    def action_scroll_results(self, direction: int) -> None:
        top = self.query_one("#summary-top", VerticalScroll)
        if direction < 0:
            top.scroll_page_up()
        else:
            top.scroll_page_down()

    def _assignee(self) -> str:
        cm = self.subject.care_manager if self.subject else None
        return f"for {cm}" if cm else "for you (no care manager on file)"

    @on(DataTable.RowSelected, "#proposals")
    def _proposal_selected(self, event: DataTable.RowSelected) -> None:
        self.action_accept()

    def action_skip(self) -> None:
        index = self._highlighted()
        if index is None:
            return
        choice = self.choices[index]
        if choice.proposal.source != "flag":
            self._set_choice(index, "skipped")
            return
        flag = FLAG_NAMES.get(choice.proposal.trigger, label(choice.proposal.trigger))
        message = Text.assemble(
            "Skipping means ",
            ("no urgent follow-up", "bold"),
            " is created for the flag ",
            literal(flag, "bold red"),
            ".\nSkip only if the protocol was already followed and recorded elsewhere.\n\n",
            "Skip the urgent follow-up?",
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                choice.confirmed_skip = True
                self._set_choice(index, "skipped")

        self.app.push_screen(
            ConfirmModal("Skip an urgent follow-up?", message, danger=True), confirmed
        )

    def action_edit(self) -> None:
        index = self._highlighted()
        if index is None:
            return
        choice = self.choices[index]
        assert choice.due_at is not None

        def edited(change: FollowUpEdit | None) -> None:
            if change is None:
                return
            choice.title = change.title
            choice.due_at = change.due_at
            choice.priority = change.priority
            choice.confirmed_skip = False
            self._set_choice(index, "accepted", move=False)

        self.app.push_screen(
            EditFollowUpModal(
                choice.title,
                choice.due_at,
                choice.priority,
                urgent_only=choice.proposal.source == "flag",
            ),
            edited,
        )

    def action_finish(self) -> None:
        if self.state is None or self.script is None or self.result is None:
            return
        undecided_flags = [
            c for c in self.choices if c.proposal.source == "flag" and c.state == "proposed"
        ]
        if undecided_flags:
            self.notify(
                "Decide the urgent follow-up first: a accepts it, x skips it (with confirmation).",
                title="A flag needs a decision",
                severity="error",
            )
            table = self.query_one("#proposals", DataTable)
            table.move_cursor(row=self.choices.index(undecided_flags[0]), animate=False)
            table.focus()
            return
        undecided = [c for c in self.choices if c.state == "proposed"]
        if undecided:
            n = len(undecided)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._finish()

            self.app.push_screen(
                ConfirmModal(
                    "Finish?",
                    f"{n} proposal{'s are' if n != 1 else ' is'} not decided and will not be "
                    "created. Finish the screening anyway?",
                ),
                confirmed,
            )
            return
        self._finish()

    def _finish(self) -> None:
        assert self.state is not None and self.script is not None
        decisions = [c.decision() for c in self.choices if c.state != "proposed"]
        script, sid = self.script, self.state.screening_id
        self.finished = True
        self._set_phase("loading")

        def done(completion: svc.Completion) -> None:
            needs = len(completion.need_ids)
            fus = len(completion.followup_ids)
            self._close_with(
                f"Screening completed: {needs} need{'s' if needs != 1 else ''} opened, "
                f"{fus} follow-up{'s' if fus != 1 else ''} created."
            )

        self._enqueue(
            _Job(
                "completing the screening",
                lambda store, viewer: svc.complete(store, viewer, sid, script, decisions),
                done=done,
                extra={"finish": True},
            )
        )

    # ------------------------------------------------------------ leaving

    def action_leave(self) -> None:
        focused = self.focused
        if isinstance(focused, Input):
            self.set_focus(None)  # leave the field; d, b and escape act again
            return
        if (
            self.phase == "summary"
            and self.result is not None
            and self.result.flags
            and not self.finished
        ):

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.app.pop_screen()

            self.app.push_screen(
                ConfirmModal(
                    "Leave without finishing?",
                    "A flag was raised. The urgent follow-up is created only when you "
                    "finish (f). The answers are saved and the screening stays in progress.\n\n"
                    "Leave anyway?",
                    danger=True,
                ),
                confirmed,
            )
            return
        self.app.pop_screen()

    def on_unmount(self) -> None:
        with contextlib.suppress(Exception):  # the app may be shutting down
            self._flush_typed()

    # ------------------------------------------------------------ writing, in order

    def _enqueue(self, job: _Job) -> None:
        self._jobs.append(job)
        app = self.app  # the thread must not ask a closed screen for its app
        # An app worker, not the screen's: a save still runs after the screen is closed.
        app.run_worker(
            partial(self._drain, app), thread=True, group="screening-save", exit_on_error=False
        )

    def _drain(self, app: Any) -> None:
        with _WRITER:
            while True:
                try:
                    job = self._jobs.popleft()
                except IndexError:
                    return
                try:
                    value = job.run(app.store, app.viewer)
                except Exception as exc:
                    self._from_thread(app, self._job_failed, job, exc)
                    if job.item_id is not None:
                        # Later saves assumed this one; drop them and reload what is stored.
                        self._jobs.clear()
                    continue
                if job.done is not None:
                    self._from_thread(app, job.done, value)

    @staticmethod
    def _from_thread(app: Any, callback: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app has closed; the write is done
            app.call_from_thread(callback, *args)

    def _job_failed(self, job: _Job, error: BaseException) -> None:
        message = str(error) if isinstance(error, svc.ScreeningError) else describe_error(error)
        self.app.notify(
            f"Not saved ({job.describe}): {message}",
            title="Screening",
            severity="error",
            timeout=10,
            markup=False,
        )
        if not self.is_attached or self.state is None:
            return
        if job.extra.get("finish") or job.item_id is not None:
            self.finished = False
            self._reload(job.item_id)

    @work(thread=True, exclusive=True, group="screening-load", exit_on_error=False)
    def _reload(self, at: str | None) -> None:
        assert self.state is not None
        state = svc.load_state(
            self.app.store, self.app.viewer, self.state.screening_id, self.script
        )
        self.app.call_from_thread(self._reloaded, state, at)

    def _reloaded(self, state: svc.ScreeningState, at: str | None) -> None:
        assert self.script is not None
        self.state = state
        if state.status != "in_progress":
            self._close_with(f"This screening is {label(state.status)}.")
            return
        self._go(at or svc.resume_position(self.script, state), saved=True)

    # ------------------------------------------------------------ palette

    def screen_commands(self) -> list[SystemCommand]:
        cmds: list[SystemCommand] = []
        if self.phase == "question":
            cmds += [
                SystemCommand(
                    "Screening: prefers not to answer",
                    "Record this question as declined (d)",
                    self.action_decline_item,
                ),
                SystemCommand("Screening: back", "The previous question (b)", self.action_back),
            ]
        if self.phase == "summary":
            cmds += [
                SystemCommand(
                    "Screening: accept all proposals",
                    "Accept every undecided one (A)",
                    self.action_accept_all,
                ),
                SystemCommand(
                    "Screening: finish", "Complete and save the screening (f)", self.action_finish
                ),
            ]
        cmds.append(
            SystemCommand(
                "Screening: save and leave", "It stays in progress (escape)", self.action_leave
            )
        )
        return cmds
