"""The contact log form (DESIGN §5.3): log a call or visit in a few keys, lose nothing.

Focus starts in the note. Tab order: note → minutes → next follow-up → about →
outcome → method → with → direction (→ callback, for inbound calls). Choices are
single keys (the underlined letter) and default to reached / the client's preferred
method / client / outbound, so a routine call is: type the note, tab, minutes, tab,
"+2w", ctrl+s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from cm_tui.dates import format_due, parse_due
from cm_tui.screens.base import describe_error, kept_screen
from cm_tui.screens.drafting import DraftingModal
from cm_tui.services import careplans, contacts, drafts
from cm_tui.services.careplans import GoalChoice
from cm_tui.services.contacts import ContactError, FollowUpRequest, LoggedContact, NotAllowed
from cm_tui.store import contact_queries
from cm_tui.store.contact_queries import FormClient
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import CONTACT_METHODS, label
from cm_tui.widgets import cells
from cm_tui.widgets.choice import Choice, ChoiceBar
from cm_tui.widgets.safe import SafeInput, literal, plain
from cm_tui.widgets.safe_text_area import SafeTextArea

OUTCOME_CHOICES = [
    Choice("reached", "reached", "r"),
    Choice("left_message", "left message", "l"),
    Choice("no_answer", "no answer", "n"),
    Choice("wrong_number", "wrong number", "w"),
    Choice("declined", "declined", "d"),
]
METHOD_CHOICES = [
    Choice("phone", "phone", "p"),
    Choice("text", "text", "t"),
    Choice("letter", "letter", "l"),
    Choice("in_person", "in person", "i"),
    Choice("video", "video", "v"),
    Choice("portal", "portal", "o"),
]
PARTY_CHOICES = [
    Choice("client", "client", "c"),
    Choice("caregiver", "caregiver", "g"),
    Choice("pcp", "PCP", "p"),
    Choice("specialist", "specialist", "s"),
    Choice("community_org", "community org", "o"),
    Choice("other", "other", "t"),
]
DIRECTION_CHOICES = [Choice("outbound", "outbound", "o"), Choice("inbound", "inbound", "i")]
CALLBACK_CHOICES = [Choice("no", "no", "n"), Choice("yes", "yes, call back", "y")]
NO_SERVICE = "none"
SERVICE_CHOICES = [  # short labels: the row fits 80 columns
    Choice(NO_SERVICE, "none", "n"),
    Choice("education", "educ.", "e"),
    Choice("self_management", "self-mgmt", "s"),
    Choice("care_coordination", "coord.", "c"),
    Choice("medication_reconciliation", "med rec", "m"),
    Choice("social_work", "social", "o"),
    Choice("behavioural_health", "behav.", "b"),
]


class GoalTags(Widget, can_focus=True):
    """The client's open goals as numbered toggles: with the row focused, 1–9 tag or
    untag a goal (space toggles the first). Every printable key is consumed."""

    DEFAULT_CSS = """
    GoalTags {
        height: 1;
        width: 1fr;
    }
    GoalTags:focus {
        background: $boost;
    }
    """

    tagged: reactive[frozenset[int]] = reactive(frozenset, init=False)

    def __init__(self, goals: Sequence[GoalChoice], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.goals = list(goals)[:9]

    def show(self, goals: Sequence[GoalChoice]) -> None:
        """Other goals, none tagged (the kept form loaded for another client)."""
        self.goals = list(goals)[:9]
        self.tagged = frozenset()
        self.refresh()

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        width = max(8, (self.size.width or 80) // max(1, len(self.goals)) - 7)
        for n, g in enumerate(self.goals, 1):
            on_ = g.id in self.tagged
            if n > 1:
                out.append("  ")
            out.append(f"{n}", style="underline")
            out.append(" ☑ " if on_ else " ☐ ", style="bold green" if on_ else "dim")
            words = g.label if len(g.label) <= width else g.label[: width - 1] + "…"
            out.append_text(literal(words, "bold" if on_ else "", one_line=True))
        return out

    class Changed(Message):
        """The tags changed."""

    def watch_tagged(self) -> None:
        self.post_message(self.Changed())

    def toggle(self, n: int) -> None:
        if 1 <= n <= len(self.goals):
            gid = self.goals[n - 1].id
            self.tagged = self.tagged ^ {gid}

    def on_key(self, event: events.Key) -> None:
        char = event.character or ""
        if char.isdigit() and char != "0":
            self.toggle(int(char))
        elif event.key == "space":
            self.toggle(1)
        elif event.is_printable:
            self.app.bell()
        else:
            return
        event.stop()
        event.prevent_default()


DUE_HINT = "optional — tomorrow, +2w, next tue 10am, 2026-12-01"
MAX_MINUTES = contacts.MAX_DURATION_MIN


FORM_KEYS = Text(
    "ctrl+s save · esc cancel · tab next field · a field's underlined letter picks", style="dim"
)


@dataclass(frozen=True)
class FormDefaults:
    outcome: str = "reached"
    method: str = "phone"
    party: str = "client"
    direction: str = "outbound"
    callback: str = "no"


class ContactForm(DraftingModal[LoggedContact | None]):
    """Dismisses with the :class:`LoggedContact`, or None when cancelled."""

    CSS_PATH = "contact_form.tcss"
    SIZE_CLASSES = {
        "-short": lambda s: s.height < 30,
    }
    TITLE = "Log contact"
    DRAFT_KIND = drafts.CONTACT
    DISCARD_QUESTION = "Discard this contact note?"

    def __init__(
        self,
        client: FormClient,
        *,
        direction: str = "outbound",
        draft: drafts.SavedDraft | None = None,
        goals: Sequence[GoalChoice] = (),
    ) -> None:
        super().__init__(str(client.id))
        self._for(client, direction, draft, goals)

    def _for(
        self,
        client: FormClient,
        direction: str,
        draft: drafts.SavedDraft | None,
        goals: Sequence[GoalChoice],
    ) -> None:
        self.draft_key = str(client.id)
        self.client = client
        self.goals = list(goals)
        method = (
            client.preferred_contact if client.preferred_contact in CONTACT_METHODS else "phone"
        )
        if direction == "inbound":
            method = "phone"  # "log inbound call": the phone rang
        self.defaults = FormDefaults(method=method, direction=direction)
        self.draft = draft
        self._saving = False

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        d = self.defaults
        with Vertical(id="form"):
            yield Static(self._title(), id="form-title")
            yield Static(self._facts(), id="form-facts")
            yield Static(id="restored", classes="-hidden")
            with Vertical(id="note-box"):
                yield SafeTextArea(id="note", soft_wrap=True, tab_behavior="focus", compact=True)
            with Horizontal(classes="row"):
                yield Label("Minutes", classes="field-label")
                yield Input(
                    id="minutes", restrict=r"[0-9]*", max_length=4, compact=True, placeholder="—"
                )
                yield Label("Next follow-up", classes="field-label", id="due-label")
                yield Input(id="due", compact=True, placeholder="none")
            yield Static(Text(DUE_HINT, style="dim"), id="due-echo")
            with Horizontal(classes="row"):
                yield Label("About", classes="field-label")
                yield SafeInput(id="about", compact=True, placeholder=self._default_title())
            yield self._choice_row("Outcome", OUTCOME_CHOICES, d.outcome, "outcome")
            yield self._choice_row("Method", METHOD_CHOICES, d.method, "method")
            yield self._choice_row("With", PARTY_CHOICES, d.party, "party")
            yield self._choice_row("Direction", DIRECTION_CHOICES, d.direction, "direction")
            with Horizontal(classes="row", id="callback-row"):
                yield Label("Callback", classes="field-label")
                yield ChoiceBar(CALLBACK_CHOICES, d.callback, id="callback")
            yield Static(id="callback-echo")
            with Horizontal(classes="row", id="goals-row"):
                yield Label("Goals", classes="field-label")
                yield GoalTags(self.goals, id="goals")
            yield self._choice_row("Service", SERVICE_CHOICES, NO_SERVICE, "service")
            yield Static(id="form-error", classes="error")
            yield Static(FORM_KEYS, id="form-keys")

    def _choice_row(self, title: str, choices: list[Choice], value: str, id_: str) -> Horizontal:
        return Horizontal(
            Label(title, classes="field-label"),
            ChoiceBar(choices, value, id=id_),
            classes="row",
        )

    def _title(self) -> Text:
        what = "Log inbound call" if self.defaults.direction == "inbound" else "Log contact"
        return Text.assemble((f"{what} — ", "bold"), literal(self.client.name, "bold"))

    def _facts(self) -> Text:
        c = self.client
        parts: list[Text | str] = [
            "Phone ",  # not ☎: its width is ambiguous, and some terminals draw it double
            literal(c.phone or "none on file", "bold"),
            " · prefers ",
            literal(label(c.preferred_contact)),
        ]
        if c.best_time:
            parts += [", ", literal(c.best_time)]
        if c.language:
            parts += [" · ", literal(c.language, "cyan")]
        if c.pcp_name:
            parts += [" · PCP ", literal(c.pcp_name)]
            if c.pcp_phone:
                parts += [" ", literal(c.pcp_phone)]
        text = Text.assemble(*parts)
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def load(
        self,
        client: FormClient,
        *,
        direction: str = "outbound",
        draft: drafts.SavedDraft | None = None,
        goals: Sequence[GoalChoice] = (),
    ) -> None:
        """Ready the form again for ``client``, as if it had just been built
        (open_contact_form keeps one per app): every field empty or at its default, no
        error or restored-draft line, the note's undo history gone, ``draft`` restored
        if there is one. Nothing of this setting is taken for an edit (no draft write)."""
        self.restart_drafts(str(client.id))
        self._for(client, direction, draft, goals)
        d = self.defaults
        with self.prevent(TextArea.Changed, Input.Changed, ChoiceBar.Changed, GoalTags.Changed):
            self.query_one("#form-title", Static).update(self._title())
            self.query_one("#form-facts", Static).update(self._facts())
            restored = self.query_one("#restored", Static)
            restored.update("")
            restored.add_class("-hidden")
            self.query_one("#note", TextArea).load_text("")  # and its undo history goes
            for id_ in ("minutes", "due", "about"):
                self.query_one(f"#{id_}", Input).value = ""  # (not "-invalid" then)
            for id_ in ("outcome", "method", "party", "direction", "callback"):
                self.query_one(f"#{id_}", ChoiceBar).value = getattr(d, id_)
            self.query_one("#service", ChoiceBar).value = NO_SERVICE
            self.query_one("#goals", GoalTags).show(self.goals)
            self.query_one("#about", Input).placeholder = self._default_title()
            self._set_error("")
            self.query_one("#form-keys", Static).update(FORM_KEYS)
            self._ready()

    def on_mount(self) -> None:
        self.query_one("#note-box").border_title = "Note"
        self._ready()

    def _ready(self) -> None:
        """What depends on the client (built or loaded): the goals row, the callback
        row, their draft restored, the due echo; the note focused, at its end."""
        self.query_one("#goals-row").display = bool(self.goals)
        self._show_callback_row()
        if self.draft is not None:
            self._restore(self.draft)
        self._update_due_echo()
        note = self.query_one("#note", TextArea)
        note.focus()
        note.move_cursor(note.document.end)

    # ------------------------------------------------------------ state

    def _value(self, id_: str) -> str:
        widget = self.query_one(f"#{id_}")
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Input | ChoiceBar):
            return widget.value
        raise TypeError(id_)

    def draft_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for id_ in ("note", "minutes", "due", "about"):
            if value := self._value(id_):
                payload[id_] = value
        for id_ in ("outcome", "method", "party", "direction", "callback"):
            value = self._value(id_)
            if value != getattr(self.defaults, id_):
                payload[id_] = value
        if (service := self._value("service")) != NO_SERVICE:
            payload["service"] = service
        if tagged := self.query_one("#goals", GoalTags).tagged:
            payload["goals"] = sorted(tagged)
        return payload

    def _restore(self, draft: drafts.SavedDraft) -> None:
        self._suspend_drafts = True
        try:
            p = draft.payload
            self.query_one("#note", TextArea).load_text(str(p.get("note", "")))
            for id_ in ("minutes", "due", "about"):
                self.query_one(f"#{id_}", Input).value = str(p.get(id_, ""))
            for id_ in ("outcome", "method", "party", "direction", "callback", "service"):
                if id_ in p:
                    self.query_one(f"#{id_}", ChoiceBar).value = str(p[id_])
            open_ids = {g.id for g in self.goals}
            tags = self.query_one("#goals", GoalTags)
            tags.tagged = frozenset(
                int(g) for g in p.get("goals", []) if isinstance(g, int) and g in open_ids
            )
        finally:
            self._suspend_drafts = False
        when = cells.when(draft.updated_at, utcnow())
        banner = self.query_one("#restored", Static)
        banner.update(
            Text.assemble(
                "Restored your unsaved draft from ",
                when,
                " — escape discards it.",
            )
        )
        banner.remove_class("-hidden")

    # ------------------------------------------------------------ live feedback

    @on(TextArea.Changed, "#note")
    @on(Input.Changed, "#about")
    def _text_changed(self) -> None:
        self.changed()

    @on(Input.Changed, "#minutes")
    def _minutes_changed(self) -> None:
        self._minutes_error()
        self.changed()

    @on(Input.Changed, "#due")
    def _due_changed(self) -> None:
        self._update_due_echo()
        self.changed()

    @on(GoalTags.Changed)
    def _tags_changed(self) -> None:
        self.changed()

    @on(ChoiceBar.Changed)
    def _choice_changed(self, event: ChoiceBar.Changed) -> None:
        if event.bar.id == "direction":
            self._show_callback_row()
        if event.bar.id in ("method", "party"):
            self.query_one("#about", Input).placeholder = self._default_title()
        if event.bar.id == "callback":
            self._update_callback_echo()
        self.changed()

    def _default_title(self) -> str:
        try:
            method, party = self._value("method"), self._value("party")
        except Exception:  # before compose finished
            method, party = self.defaults.method, self.defaults.party
        return contacts.followup_defaults(method, party)[1]

    def _show_callback_row(self) -> None:
        inbound = self._value("direction") == "inbound"
        self.set_class(inbound, "-inbound")
        self._update_callback_echo()

    def _callback_due(self) -> Any:
        return contacts.callback_due(self.app.settings.callback_window, utcnow())

    def _update_callback_echo(self) -> None:
        echo = self.query_one("#callback-echo", Static)
        if self._value("callback") != "yes":
            echo.update(Text("Promised a callback? y adds one to your queue", style="dim"))
            return
        try:
            due = self._callback_due()
        except ValueError as exc:
            echo.update(literal(str(exc), "bold red"))
            return
        echo.update(
            Text.assemble(
                ("→ call back by ", "green"),
                (format_due(due, utcnow()), "bold green"),
                literal(f"  ({self.app.settings.callback_window})", "dim"),
            )
        )

    def _parsed_due(self) -> tuple[Any, str | None]:
        text = self._value("due").strip()
        if not text:
            return None, None
        try:
            return parse_due(text, utcnow()), None
        except ValueError as exc:
            return None, str(exc)

    def _update_due_echo(self) -> None:
        echo = self.query_one("#due-echo", Static)
        due, error = self._parsed_due()
        self.query_one("#due", Input).set_class(error is not None, "-invalid")
        if error:
            echo.update(literal(error, "bold red"))
        elif due is not None:
            echo.update(Text.assemble(("→ ", "green"), (format_due(due, utcnow()), "bold green")))
        else:
            echo.update(Text(DUE_HINT, style="dim"))

    def _minutes_error(self) -> str | None:
        text = self._value("minutes").strip()
        error = None
        if text and (not text.isdigit() or int(text) > MAX_MINUTES):
            error = f"Minutes: a whole number up to {MAX_MINUTES}."
        self.query_one("#minutes", Input).set_class(error is not None, "-invalid")
        self._set_error(error or "")
        return error

    def _set_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(literal(message))

    # ------------------------------------------------------------ save

    def action_save(self) -> None:
        if self._saving:
            return
        if error := self._minutes_error():
            self.query_one("#minutes", Input).focus()
            return
        due, error = self._parsed_due()
        if error:
            self._set_error("Fix the next follow-up date (or clear it) to save.")
            self.query_one("#due", Input).focus()
            return
        note = self._value("note")
        method, party = self._value("method"), self._value("party")
        follow_ups = []
        if due is not None:
            follow_ups.append(FollowUpRequest(due_at=due, title=self._value("about")))
        inbound = self._value("direction") == "inbound"
        if inbound and self._value("callback") == "yes":
            try:
                callback = self._callback_due()
            except ValueError as exc:
                self._set_error(str(exc))
                return
            follow_ups.append(
                FollowUpRequest(
                    due_at=callback,
                    title=contacts.callback_title(note),
                    kind="callback",
                    priority="high",
                    source="inbound_call",
                )
            )
        minutes = self._value("minutes").strip()
        extra: dict[str, Any] = {}
        if tagged := self.query_one("#goals", GoalTags).tagged:
            extra["goal_ids"] = sorted(tagged)
        if (service := self._value("service")) != NO_SERVICE:
            extra["service_type"] = service
        self.submit(
            dict(
                outcome=self._value("outcome"),
                method=method,
                party=party,
                direction=self._value("direction"),
                duration_min=int(minutes) if minutes else None,
                note=note,
                follow_ups=follow_ups,
                **extra,
            )
        )

    # ------------------------------------------------------------ the save hooks
    #
    # A form that saves differently (e.g. logs the contact and completes a follow-up
    # in one transaction) overrides ``save_call`` and, to handle its own errors,
    # ``save_refused``; it never needs the draft machinery underneath.

    def save_call(self, values: dict[str, Any]) -> LoggedContact:
        """Store the contact; runs in a worker thread, ordered against draft writes.

        ``values`` are :func:`services.contacts.log_contact`'s keyword arguments.
        Raise to refuse (nothing saved): :meth:`save_refused` hears about it.
        """
        app: Any = self.app
        return contacts.log_contact(app.store, app.viewer, self.client.id, **values)

    def save_refused(self, error: Exception, values: dict[str, Any]) -> None:
        """The save raised ``error`` (nothing was stored): say so in the form, which
        keeps the text (and its draft). ``values`` can be given to :meth:`submit` again."""
        if isinstance(error, ContactError | NotAllowed):
            self.show_not_saved(str(error))
        else:
            self.show_not_saved(describe_error(error))

    def submit(self, values: dict[str, Any]) -> None:
        """Save ``values`` in a worker (:meth:`save_call`); on success the form
        dismisses with the result and its draft ends, else :meth:`save_refused`."""
        self._saving = True
        self._set_error("")
        self.query_one("#form-keys", Static).update(Text("Saving…", style="bold"))
        self._save(values)

    @work(thread=True, exclusive=True, group="contact-save", exit_on_error=False)
    def _save(self, values: dict[str, Any]) -> None:
        try:
            with self._draft_lock:
                logged = self.save_call(values)
                self._finished = True  # (the timer sees it; stopping it is UI work)
        except Exception as exc:
            self.app.call_from_thread(self.save_refused, exc, values)
            return
        self.app.call_from_thread(self.dismiss, logged)

    def show_not_saved(self, message: str) -> None:
        """Back to editing: ``message`` in the form, the text kept (and its draft written)."""
        self._saving = False
        self._set_error(f"Not saved: {message} Your text is still here (and kept as a draft).")
        self.query_one("#form-keys", Static).update(
            Text("ctrl+s try again · esc cancel", style="dim")
        )
        self.flush_draft()


# ---------------------------------------------------------------- opening the form


KEPT_FORM = "contact-form"  # the one form open_contact_form loads (a completing one is new)


def open_contact_form(screen: Screen[Any], client_id: int, *, direction: str = "outbound") -> None:
    """Load what the form needs (client, draft) in a thread, then show it.

    When a contact is saved, every screen in the stack that has a
    ``contact_logged(logged)`` method hears about it (the caseload row and the
    client brief refresh at once).
    """
    app = screen.app
    viewer = app.viewer
    if viewer is None or getattr(app, "locked", False):
        return

    def load() -> None:
        try:
            with app.store.read() as session:
                client = contact_queries.form_client(session, viewer, client_id)
                draft = drafts.read_draft(session, viewer.id, drafts.CONTACT, str(client_id))
            goals = careplans.goal_choices(app.store, viewer, client_id) if client else []
        except Exception as exc:
            app.call_from_thread(
                app.notify, plain(describe_error(exc)), severity="error", markup=False
            )
            return
        if client is None:
            app.call_from_thread(
                app.notify, "You do not have access to this client's record.", severity="error"
            )
            return
        app.call_from_thread(_show, client, draft, goals)

    def _show(client: FormClient, draft: drafts.SavedDraft | None, goals: list[GoalChoice]) -> None:
        if getattr(app, "locked", False) or isinstance(app.screen, ContactForm):
            return
        form = kept_screen(
            app,
            KEPT_FORM,
            lambda: ContactForm(client, direction=direction, draft=draft, goals=goals),
            lambda f: f.load(client, direction=direction, draft=draft, goals=goals),
        )
        app.push_screen(form, lambda logged: _saved(client, logged))

    def _saved(client: FormClient, logged: LoggedContact | None) -> None:
        if logged is None:
            return
        message = Text.assemble("Logged for ", literal(client.name))
        if logged.followup_ids:
            n = len(logged.followup_ids)
            message.append(f" · {n} follow-up{'s' if n > 1 else ''} added")
        app.notify(plain(message.plain), title="Contact saved", timeout=4, markup=False)
        for s in list(app.screen_stack):
            hook = getattr(s, "contact_logged", None)
            if callable(hook):
                hook(logged)

    app.run_worker(load, thread=True, group="contact-form-open", exit_on_error=False)
