"""The small dialogs of the follow-up queue: add/edit, snooze, reassign, complete, and
the conflict screen (someone changed the follow-up first: both versions, the user chooses)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from cm_tui.dates import format_due
from cm_tui.screens.base import BaseModal, describe_error
from cm_tui.screens.confirm import close_or_ask
from cm_tui.services import followups as fs
from cm_tui.services.clients import NotAllowed
from cm_tui.store import followup_queries as fq
from cm_tui.store.followup_queries import Person, QueueRow
from cm_tui.store.types import utcnow
from cm_tui.widgets.choice import Choice, ChoiceBar
from cm_tui.widgets.safe import SafeInput, literal

PRIORITY_CHOICES = [
    Choice("urgent", "urgent", "u"),
    Choice("high", "high", "h"),
    Choice("normal", "normal", "n"),
    Choice("low", "low", "l"),
]
KIND_CHOICES = [
    Choice("call", "call", "c"),
    Choice("callback", "callback", "b"),
    Choice("visit", "visit", "v"),
    Choice("pcp_coordination", "PCP", "p"),
    Choice("referral_check", "referral", "r"),
    Choice("screening", "screening", "s"),
    Choice("other", "other", "o"),
]
CUSTOM = "custom"
NO_REPEAT = "none"
DUE_HINT = "tomorrow, +2w, next tue 10am, 2026-12-01"
RRULE_HINT = "an RRULE, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"


# ---------------------------------------------------------------- add / edit


@dataclass(frozen=True)
class FormStart:
    """What the form opens with: a new follow-up for a client, or one to edit."""

    client_id: int
    client_name: str
    row: QueueRow | None = None  # editing this one


class FollowUpForm(BaseModal[Any]):
    """Add or edit a follow-up. Dismisses with the service's result, or None."""

    CSS_PATH = "followups.tcss"
    TITLE = "Follow-up"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    blocks_navigation = True

    def __init__(self, start: FormStart) -> None:
        super().__init__()
        self.start = start
        self._saving = False

    def compose(self) -> ComposeResult:
        row = self.start.row
        what = "Edit follow-up" if row else "Add follow-up"
        rule = row.recurrence if row else None
        known = {r for _, r in fs.RECURRENCE_CHOICES}
        repeat = NO_REPEAT if not rule else (rule if rule in known else CUSTOM)
        with Vertical(id="fu-form"):
            yield Static(
                Text.assemble((f"{what} — ", "bold"), literal(self.start.client_name, "bold")),
                id="fu-form-title",
            )
            with Horizontal(classes="row"):
                yield Label("What", classes="field-label")
                yield SafeInput(
                    row.title if row else "",
                    id="fu-title",
                    compact=True,
                    placeholder="e.g. Call re: BP log",
                    max_length=fs.TITLE_MAX,
                )
            with Horizontal(classes="row"):
                yield Label("Due", classes="field-label")
                yield Input(
                    self._due_text(row.due_at) if row else "",
                    id="fu-due",
                    compact=True,
                    placeholder=DUE_HINT,
                )
            yield Static(id="fu-due-echo", classes="echo")
            with Horizontal(classes="row"):
                yield Label("Priority", classes="field-label")
                yield ChoiceBar(PRIORITY_CHOICES, row.priority if row else "normal", id="fu-prio")
            with Horizontal(classes="row"):
                yield Label("Kind", classes="field-label")
                yield ChoiceBar(KIND_CHOICES, row.kind if row else "call", id="fu-kind")
            with Horizontal(classes="row"):
                yield Label("Repeat", classes="field-label")
                yield Select(
                    [("does not repeat", NO_REPEAT)]
                    + [(shown, rule) for shown, rule in fs.RECURRENCE_CHOICES]
                    + [("typed RRULE…", CUSTOM)],
                    value=repeat,
                    allow_blank=False,
                    id="fu-repeat",
                    compact=True,
                )
            with Horizontal(classes="row", id="fu-rrule-row"):
                yield Label("RRULE", classes="field-label")
                yield Input(
                    rule if repeat == CUSTOM and rule else "",
                    id="fu-rrule",
                    compact=True,
                    placeholder=RRULE_HINT,
                )
            yield Static(id="fu-repeat-echo", classes="echo")
            yield Static(id="fu-error", classes="error")
            yield Static(
                Text("ctrl+s save · esc cancel · tab next field", style="dim"), id="fu-keys"
            )

    @staticmethod
    def _due_text(due: datetime) -> str:
        from dateutil import tz

        return due.astimezone(tz.tzlocal()).strftime("%Y-%m-%d %H:%M")

    def on_mount(self) -> None:
        self._initial = self._state()
        self._show_rrule_row()
        self._update_echoes()
        self.query_one("#fu-title" if not self.start.row else "#fu-due", Input).focus()

    def _state(self) -> tuple[Any, ...]:
        return (
            self.query_one("#fu-title", Input).value,
            self.query_one("#fu-due", Input).value,
            self.query_one("#fu-prio", ChoiceBar).value,
            self.query_one("#fu-kind", ChoiceBar).value,
            self.query_one("#fu-repeat", Select).value,
            self.query_one("#fu-rrule", Input).value,
        )

    # ------------------------------------------------------------ live feedback

    def _due(self) -> tuple[fs.DueReading | None, str | None]:
        text = self.query_one("#fu-due", Input).value.strip()
        if not text:
            return None, f"Enter a due date — {DUE_HINT}."
        try:
            return fs.read_due(text, utcnow(), allow_past=True), None
        except ValueError as exc:
            return None, str(exc)

    def _rule(self) -> tuple[str | None, str | None]:
        choice = self.query_one("#fu-repeat", Select).value
        if choice == NO_REPEAT or choice is Select.NULL:
            return None, None
        text = str(choice)
        if choice == CUSTOM:
            text = self.query_one("#fu-rrule", Input).value
            if not text.strip():
                return None, f"Type {RRULE_HINT} (or choose from the list)."
        try:
            return fs.parse_recurrence(text), None
        except fs.FollowUpError as exc:
            return None, str(exc)

    def _update_echoes(self) -> None:
        now = utcnow()
        reading, error = self._due()
        echo = self.query_one("#fu-due-echo", Static)
        self.query_one("#fu-due", Input).set_class(error is not None, "-invalid")
        if error or reading is None:
            style = "dim" if not self.query_one("#fu-due", Input).value.strip() else "bold red"
            echo.update(literal(error or "", style))
        else:
            parts: list[Any] = [("→ ", "green"), (format_due(reading.due_at, now), "bold green")]
            if reading.warning:
                parts.append(literal(f"  ⚠ {reading.warning}", "bold yellow"))
            echo.update(Text.assemble(*parts))
        rule, rule_error = self._rule()
        r_echo = self.query_one("#fu-repeat-echo", Static)
        self.query_one("#fu-rrule", Input).set_class(rule_error is not None, "-invalid")
        if rule_error:
            r_echo.update(literal(rule_error, "bold red"))
        elif rule and reading is not None:
            try:
                nxt = fs.next_occurrence(rule, reading.due_at, max(now, reading.due_at))
            except (ValueError, TypeError):
                nxt = None
            then = f"then {format_due(nxt, now)}" if nxt else "no later occurrence"
            r_echo.update(
                Text.assemble(("↻ ", "green"), literal(fs.describe_recurrence(rule)), f" · {then}")
            )
        else:
            r_echo.update("")

    def _show_rrule_row(self) -> None:
        custom = self.query_one("#fu-repeat", Select).value == CUSTOM
        self.query_one("#fu-rrule-row").display = custom

    @on(Input.Changed)
    def _typed(self) -> None:
        self._update_echoes()

    @on(Select.Changed, "#fu-repeat")
    def _repeat_changed(self) -> None:
        self._show_rrule_row()
        self._update_echoes()
        if self.query_one("#fu-repeat", Select).value == CUSTOM:
            self.query_one("#fu-rrule", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def _set_error(self, message: str) -> None:
        self.query_one("#fu-error", Static).update(literal(message, "bold red"))

    # ------------------------------------------------------------ save / cancel

    def action_save(self) -> None:
        if self._saving:
            return
        title = self.query_one("#fu-title", Input).value
        if not title.strip():
            self._set_error("Say what the follow-up is for (a short title).")
            self.query_one("#fu-title", Input).focus()
            return
        reading, error = self._due()
        if error or reading is None:
            self._set_error(f"Fix the due date to save: {error}")
            self.query_one("#fu-due", Input).focus()
            return
        rule, rule_error = self._rule()
        if rule_error:
            self._set_error(f"Fix the repeat to save: {rule_error}")
            return
        self._saving = True
        self._set_error("")
        self.query_one("#fu-keys", Static).update(Text("Saving…", style="bold"))
        self._save(
            title=title,
            due_at=reading.due_at,
            priority=self.query_one("#fu-prio", ChoiceBar).value,
            kind=self.query_one("#fu-kind", ChoiceBar).value,
            recurrence=rule,
        )

    @work(thread=True, exclusive=True, group="followup-save", exit_on_error=False)
    def _save(self, **values: Any) -> None:
        app: Any = self.app
        row = self.start.row
        try:
            if row is None:
                result: Any = fs.create_followup(
                    app.store, app.viewer, self.start.client_id, **values
                )
            else:
                result = fs.update_followup(app.store, app.viewer, row.id, row.version, **values)
        except fs.FollowUpConflict as exc:
            assert row is not None
            app.call_from_thread(
                self.dismiss, Conflicted(self._edit_attempt(row, values), exc.current)
            )
            return
        except (fs.FollowUpError, NotAllowed) as exc:
            app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:
            app.call_from_thread(self._failed, describe_error(exc))
            return
        app.call_from_thread(self.dismiss, result)

    @staticmethod
    def _edit_attempt(row: QueueRow, values: dict[str, Any]) -> Attempt:
        def run(app: Any, version: int) -> Any:
            return fs.update_followup(app.store, app.viewer, row.id, version, **values)

        wanted = (
            f"save your edit: \u201c{' '.join(str(values['title']).split())}\u201d, "
            f"{values['priority']}, due {format_due(values['due_at'], utcnow())}"
        )
        return Attempt(state_of(row), wanted, "edit", run)

    def _failed(self, message: str) -> None:
        self._saving = False
        self._set_error(f"Not saved: {message}")
        self.query_one("#fu-keys", Static).update(
            Text("ctrl+s try again · esc cancel", style="dim")
        )

    def action_cancel(self) -> None:
        typed = self._state() != self._initial
        close_or_ask(self, typed, "Discard this follow-up?", "What you typed here will be lost.")


# ---------------------------------------------------------------- snooze


class SnoozeDialog(BaseModal[Any]):
    """Type when (``+1d``, ``next mon``, ``fri 2pm``); dismisses with the result or None."""

    CSS_PATH = "followups.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, row: QueueRow) -> None:
        super().__init__()
        self.row = row
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="fu-dialog"):
            yield Static(
                Text.assemble(("Snooze — ", "bold"), literal(self.row.title, "bold", one_line=True))
            )
            yield Input(id="snooze-when", placeholder="+1d, next mon, fri 2pm", compact=True)
            yield Static(Text(DUE_HINT, style="dim"), id="snooze-echo", classes="echo")
            yield Static(Text("enter snooze · esc cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#snooze-when", Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        echo = self.query_one("#snooze-echo", Static)
        if not event.value.strip():
            echo.update(Text(DUE_HINT, style="dim"))
            event.input.set_class(False, "-invalid")
            return
        try:
            due = fs.read_due(event.value, utcnow()).due_at
        except ValueError as exc:
            echo.update(literal(str(exc), "bold red"))
            event.input.set_class(True, "-invalid")
            return
        event.input.set_class(False, "-invalid")
        echo.update(Text.assemble(("→ ", "green"), (format_due(due, utcnow()), "bold green")))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if not self._saving:
            self._saving = True
            self._snooze(event.value)

    @work(thread=True, exclusive=True, group="snooze", exit_on_error=False)
    def _snooze(self, text: str) -> None:
        app: Any = self.app
        try:
            result = fs.snooze_followup(app.store, app.viewer, self.row.id, self.row.version, text)
        except fs.FollowUpConflict as exc:
            app.call_from_thread(self.dismiss, Conflicted(self._attempt(text), exc.current))
            return
        except (fs.FollowUpError, NotAllowed) as exc:
            app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:
            app.call_from_thread(self._failed, describe_error(exc))
            return
        app.call_from_thread(self.dismiss, result)

    def _attempt(self, text: str) -> Attempt:
        row = self.row
        try:
            when = f"{format_due(fs.read_due(text, utcnow()).due_at, utcnow())} ({text.strip()})"
        except ValueError:
            when = text.strip()

        def run(app: Any, version: int) -> Any:
            return fs.snooze_followup(app.store, app.viewer, row.id, version, text)

        return Attempt(state_of(row), f"snooze it to {when}", "snooze", run)

    def _failed(self, message: str) -> None:
        self._saving = False
        self.query_one("#snooze-echo", Static).update(literal(message, "bold red"))
        self.query_one("#snooze-when", Input).set_class(True, "-invalid")

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------- reassign


class PersonPicker(BaseModal[int | None]):
    """Choose who takes the follow-up(s): active staff with their open/overdue counts."""

    CSS_PATH = "followups.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, *, exclude: int | None = None) -> None:
        super().__init__()
        self.question = question
        self.exclude = exclude
        self.people: list[Person] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="fu-dialog"):
            yield Static(literal(self.question, "bold"))
            yield Input(id="person-filter", placeholder="type to filter", compact=True)
            yield OptionList(id="people")
            yield Static(
                Text("enter picks · ↓ to the list · esc cancel", style="dim"), id="person-hint"
            )

    def on_mount(self) -> None:
        self.query_one("#person-filter", Input).focus()
        self._load()

    @work(thread=True, exclusive=True, group="people", exit_on_error=False)
    def _load(self) -> None:
        app: Any = self.app
        with app.store.read() as session:
            people = fq.assignable_people(session)
        app.call_from_thread(self._loaded, people)

    def name_of(self, user_id: int) -> str:
        who = next((p for p in self.people if p.id == user_id), None)
        return who.display_name if who is not None else f"user {user_id}"

    def _loaded(self, people: list[Person]) -> None:
        self.people = [p for p in people if p.id != self.exclude]
        self._fill("")

    def _fill(self, text: str) -> None:
        options = self.query_one("#people", OptionList)
        options.clear_options()
        words = text.lower().split()
        for p in self.people:
            if words and not all(w in p.display_name.lower() for w in words):
                continue
            line = Text.assemble(
                literal(p.display_name, one_line=True),
                (f"  {fq_role(p.role)} · {p.open_followups:,} open", "dim"),
                (f", {p.overdue:,} overdue" if p.overdue else "", "dim red"),
            )
            options.add_option(Option(line, id=str(p.id)))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#person-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#person-filter")
    def _pick_first(self) -> None:
        options = self.query_one("#people", OptionList)
        if options.option_count:
            option = options.get_option_at_index(options.highlighted or 0)
            self.dismiss(int(option.id or 0))

    def on_key(self, event: Any) -> None:
        if event.key == "down" and self.focused is self.query_one("#person-filter", Input):
            self.query_one("#people", OptionList).focus()
            event.stop()

    @on(OptionList.OptionSelected, "#people")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)


def fq_role(role: str) -> str:
    from cm_tui.store.vocab import label

    return label(role)


# ---------------------------------------------------------------- complete


class CompleteChoice(BaseModal[str | None]):
    """Complete: log the contact that did it (l), or just mark it done (d)."""

    CSS_PATH = "followups.tcss"
    BINDINGS = [
        Binding("l,enter", "answer('log')", "Log the contact"),
        Binding("d", "answer('done')", "Just done"),
        Binding("escape,n", "answer(None)", "Cancel"),
    ]

    def __init__(self, row: QueueRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical(id="fu-dialog"):
            yield Static(
                Text.assemble(
                    ("Complete — ", "bold"), literal(self.row.title, "bold", one_line=True)
                )
            )
            yield Static(literal(self.row.client_name, one_line=True), classes="dim-line")
            if self.row.recurrence:
                yield Static(
                    literal(
                        f"↻ {fs.describe_recurrence(self.row.recurrence)}: the next one is "
                        "added when this is done.",
                        "green",
                    )
                )
            yield Static(
                Text.assemble(
                    ("l", "bold underline"),
                    "/enter  log the contact that completed it\n",
                    ("d", "bold underline"),
                    "        done, no contact to log\n",
                    ("esc", "bold"),
                    "      not yet",
                ),
                id="complete-keys",
            )

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)


# ---------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class Attempt:
    """A change the user asked for: what they saw, what they wanted, and how to do it
    again against another version (``run(app, version)`` returns the service's result)."""

    seen: fs.FollowUpState
    wanted: str  # e.g. "reassign it to Dana Smith", worded after "You were about to"
    verb: str  # "snooze", "reassign", "complete", "cancel", "edit", "reopen"
    run: Callable[[Any, int], Any]
    needs: str = "open"  # the status the change applies to

    @property
    def id(self) -> int:
        return self.seen.id


@dataclass(frozen=True)
class Conflicted:
    """What a dialog dismisses with when its change met someone else's."""

    attempt: Attempt
    current: fs.FollowUpState | None


def state_of(row: QueueRow) -> fs.FollowUpState:
    """A queue row as the version this user saw."""
    return fs.FollowUpState(
        id=row.id,
        version=row.version,
        client_id=row.client_id,
        title=row.title,
        status=row.status,
        due_at=row.due_at,
        priority=row.priority,
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        snoozed_until=row.snoozed_until,
        completed_at=row.completed_at,
    )


def _facts(state: fs.FollowUpState, now: datetime) -> list[tuple[str, str]]:
    snoozed = "—"
    if state.snoozed_until is not None and state.status == "open":
        snoozed = f"until {format_due(state.snoozed_until, now)}"
    status = state.status
    if state.status == "done" and state.completed_at is not None:
        status = f"done {format_due(state.completed_at, now)}"
    return [
        ("Status", status),
        ("Due", format_due(state.due_at, now)),
        ("Who", state.assignee_name or "unassigned"),
        ("Priority", state.priority),
        ("Snoozed", snoozed),
    ]


class FollowUpConflictScreen(BaseModal[str | None]):
    """Someone changed the follow-up first: both versions side by side; the user chooses.

    Dismisses with "mine" (apply my change on top of theirs), "reopen" (theirs is
    cancelled: reopen it, then apply mine), "fallback" (only when ``fallback`` is
    given and mine can't be applied: the caller's other way to keep the user's work,
    e.g. "save my contact note without completing it") or "theirs" (drop mine;
    ``theirs`` words what that means for the caller).
    """

    CSS_PATH = "followups.tcss"
    BINDINGS = [
        Binding("m", "choose('mine')", "Apply mine on top"),
        Binding("o", "choose('reopen')", "Reopen, then mine", show=False),
        Binding("s", "choose('fallback')", "Save without", show=False),
        Binding("t,escape", "choose('theirs')", "Keep theirs"),
    ]

    def __init__(
        self,
        attempt: Attempt,
        current: fs.FollowUpState,
        *,
        fallback: str | None = None,
        theirs: str = "keep theirs (drop mine)",
    ) -> None:
        super().__init__()
        self.attempt = attempt
        self.current = current
        self.fallback = fallback
        self.theirs = theirs

    @property
    def may_apply(self) -> bool:
        return self.current.status == self.attempt.needs

    @property
    def may_reopen(self) -> bool:
        return self.attempt.needs == "open" and self.current.status == "cancelled"

    @property
    def may_fall_back(self) -> bool:
        return self.fallback is not None and not self.may_apply

    def compose(self) -> ComposeResult:
        now = utcnow()
        with Vertical(id="fu-conflict"):
            yield Static(
                Text.assemble(
                    ("Changed by someone else meanwhile — ", "bold"),
                    literal(self.current.title, "bold", one_line=True),
                ),
                id="conflict-title",
            )
            yield Static(
                Text("Nothing of yours was saved. Compare, then choose.", style="dim"),
                classes="dim-line",
            )
            with Horizontal(id="conflict-sides"):
                yield Static(self._side("Now (theirs)", self.current, now), id="conflict-theirs")
                yield Static(self._side("You saw", self.attempt.seen, now), id="conflict-seen")
            yield Static(self._who(now), id="conflict-who")
            yield Static(
                Text.assemble(
                    ("You were about to: ", "bold"), literal(self.attempt.wanted, one_line=True)
                ),
                id="conflict-mine",
            )
            yield Static(self._choices(), id="conflict-keys")

    def _side(self, heading: str, state: fs.FollowUpState, now: datetime) -> Text:
        other = self.attempt.seen if state is self.current else self.current
        theirs = dict(_facts(other, now))
        text = Text(heading, style="bold underline")
        for name, value in _facts(state, now):
            text.append(f"\n{name:<9}", style="dim")
            changed = theirs.get(name) != value
            text.append_text(literal(value, "bold yellow" if changed else "", one_line=True))
        return text

    def _who(self, now: datetime) -> Text:
        c = self.current
        if c.changed_by is None and c.changed_at is None:
            return Text("Who changed it last is not on record (e.g. a bulk reassign).", "dim")
        text = Text("Changed by ", style="dim")
        text.append_text(literal(c.changed_by or "someone", one_line=True))
        if c.changed_at is not None:
            text.append(f", {format_due(c.changed_at, now)}", style="dim")
        if c.change:
            text.append(": ", style="dim")
            text.append_text(literal(_readable_times(c.change, now), "dim", one_line=True))
        return text

    def _choices(self) -> Text:
        text = Text()
        if self.may_apply:
            text.append("m", "bold underline")
            text.append("  apply mine on top of theirs\n")
        elif self.attempt.verb == "complete" and self.current.status == "done":
            text.append("It is already done: there is nothing left to apply.\n", "yellow")
        else:
            text.append(
                f"It is {self.current.status} now: a {self.current.status} follow-up can't "
                f"be {_past(self.attempt.verb)}.\n",
                "yellow",
            )
        if self.may_reopen:
            text.append("o", "bold underline")
            text.append("  reopen it, then apply mine\n")
        if self.may_fall_back and self.fallback is not None:
            text.append("s", "bold underline")
            text.append(f"  {self.fallback}\n")
        text.append("t", "bold underline")
        text.append(f"/esc  {self.theirs}")
        return text

    def action_choose(self, answer: str) -> None:
        if answer == "mine" and not self.may_apply:
            self.app.bell()
            return
        if answer == "reopen" and not self.may_reopen:
            self.app.bell()
            return
        if answer == "fallback" and not self.may_fall_back:
            self.app.bell()
            return
        self.dismiss(answer)


_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)")


def _readable_times(detail: str, now: datetime) -> str:
    """The audit trail's ISO times ("snoozed from 2026-11-20T20:03:56+00:00 to ...") as
    the app shows times everywhere else."""

    def one(match: re.Match[str]) -> str:
        try:
            return format_due(datetime.fromisoformat(match.group(0)), now)
        except ValueError:
            return match.group(0)

    return _ISO_TIME.sub(one, detail)


def _past(verb: str) -> str:
    return {
        "snooze": "snoozed",
        "reassign": "reassigned",
        "complete": "completed",
        "cancel": "cancelled",
        "edit": "edited",
        "reopen": "reopened",
    }.get(verb, f"{verb}ed")
