"""Add (`n` on the caseload) or edit (`e` on the client brief) a client's record.

Keyboard first: tab / enter move between fields, ctrl+s saves, escape asks before
throwing typed changes away. Every field is checked before saving and a problem is
shown beside its field; the service has the last word. An edit is saved against
the version it started from: if someone else saved the client meanwhile, the
conflict screen shows both versions and the user chooses (screens/conflict.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from cm_tui.dates import format_due
from cm_tui.screens.base import BaseModal, describe_error, kept_screen
from cm_tui.screens.confirm import close_or_ask
from cm_tui.screens.conflict import ConflictRow, ConflictScreen
from cm_tui.services import clients as cs
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets.choice import Choice, ChoiceBar, lettered
from cm_tui.widgets.safe import SafeInput, literal, plain
from cm_tui.widgets.safe_text_area import SafeTextArea

HINTS = {
    "dob": "1950-01-31 or 01/31/1950",
    "enrolled_on": "1950-01-31 or 01/31/1950",
    "consent_on": "1950-01-31 or 01/31/1950",
    "phone": "(555) 010-1000",
    "alt_phone": "(555) 010-1000",
    "pcp_phone": "(555) 010-1000",
    "program": "CCM, TCM, complex, …",
    "best_time": "e.g. mornings, after 3pm",
}


KEYS = Text("ctrl+s save · tab / enter next field · esc cancel", style="dim")


def _first_field(start: cs.EditableClient | None) -> str:
    """Where typing starts: a new client's name; an existing client's phone."""
    return "#cf-given_name" if start is None else "#cf-phone"


@dataclass(frozen=True)
class Saved:
    """What the form did: the client saved (``created`` or edited) at ``version``;
    ``discarded``: the user gave up their edit after a conflict (theirs stands)."""

    client_id: int
    version: int
    created: bool = False
    discarded: bool = False


class ClientForm(BaseModal[Saved | None]):
    """The client's record as fields; ``start`` None adds a new client."""

    CSS_PATH = "client_form.tcss"
    TITLE = "Client record"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
        # On a choice (an Input submits, and a text area takes enter, before this).
        Binding("enter", "next_field", "Next field", show=False),
    ]
    blocks_navigation = True

    def __init__(self, start: cs.EditableClient | None = None) -> None:
        super().__init__()
        self.start = start
        # Focused once, as it mounts (on_mount focusing it after the default had a
        # field focused and blurred again).
        self.AUTO_FOCUS = _first_field(start)
        self._saving = False
        self._initial: dict[str, str] = {}

    # ------------------------------------------------------------ layout

    def _text(self, spec: cs.ClientField) -> str:
        if self.start is None:
            return str(cs.DEFAULTS.get(spec.name, ""))
        value = self.start.values.get(spec.name)
        if spec.kind == "code":
            return str(value or cs.DEFAULTS[spec.name])
        return cs.show_value(spec.name, value)

    def _title(self) -> Text:
        if self.start is None:
            return Text("Add a client", style="bold")
        return Text.assemble(("Edit — ", "bold"), literal(self.start.name, "bold"))

    def _choices(self, spec: cs.ClientField, value: str) -> list[Choice]:
        # A stored code from before the vocabulary changed stays choosable.
        codes = spec.choices if value in spec.choices else (*spec.choices, value)
        return lettered([(c, " ".join(plain(label(c)).split())) for c in codes])

    def compose(self) -> ComposeResult:
        with Vertical(id="cf-box"):
            yield Static(self._title(), id="cf-title")
            with VerticalScroll(id="cf-fields"):
                for spec in cs.FIELDS:
                    yield from self._field(spec)
            yield Static(id="cf-error")
            yield Static(KEYS, id="cf-keys")

    def _field(self, spec: cs.ClientField) -> ComposeResult:
        value = self._text(spec)
        wid = f"cf-{spec.name}"
        shown = spec.label + (" *" if spec.required else "")
        widget: Widget
        if spec.kind == "code":
            # One widget and one key a choice (a Select is six widgets: three of them
            # cost a third of the time the form took to open).
            widget = ChoiceBar(self._choices(spec, value), value, id=wid, classes="field")
        elif spec.kind == "long":
            widget = SafeTextArea(
                value, id=wid, classes="field", soft_wrap=True, show_line_numbers=False
            )
        else:
            widget = SafeInput(
                value,
                id=wid,
                classes="field",
                compact=True,
                placeholder=HINTS.get(spec.name, ""),
                max_length=spec.max_len,
            )
        # Two grid columns, label and field (no container per row: fewer widgets to
        # build and style as the form opens). A field's error line is mounted below
        # it, across both columns, when it has one (_field_error).
        yield Label(shown, classes="field-label", id=f"{wid}-label")
        yield widget

    # Opening the form is one of DESIGN §8's screens (< 100 ms). Its ~90 widgets are
    # styled once as it opens; the field being typed in is marked by a class on its
    # label, not by a :focus-within rule, which had Textual restyle the whole form on
    # every focus change (three times as it opened, ~25 ms each, and at every tab).

    def on_mount(self) -> None:
        self._initial = self._values()

    def load(self, start: cs.EditableClient | None) -> None:
        """Ready the form again, for ``start`` (None: a new client), as if it had just
        been built: every field as ``start`` has it, no error shown, nothing typed,
        the first field to fill focused (open_client_form keeps one form per app)."""
        self.start = start
        self._saving = False
        self.AUTO_FOCUS = _first_field(start)
        self.query_one("#cf-title", Static).update(self._title())
        for spec in cs.FIELDS:
            value = self._text(spec)
            widget = self.query_one(f"#cf-{spec.name}")
            if isinstance(widget, ChoiceBar):
                widget.set_choices(self._choices(spec, value), value)
            elif isinstance(widget, TextArea):
                widget.load_text(value)  # and its undo history goes
            else:
                assert isinstance(widget, Input)
                widget.value = value
                widget.cursor_position = len(value)
            self._field_error(spec.name, "")
        self._set_error("")
        self.query_one("#cf-keys", Static).update(KEYS)
        self.query_one("#cf-fields", VerticalScroll).scroll_home(animate=False)
        self._initial = self._values()
        self.set_focus(self.query_one(self.AUTO_FOCUS))

    def on_descendant_focus(self, event: Any) -> None:
        field = event.widget
        while field is not None and not field.has_class("field"):
            field = field.parent
        current = f"{field.id}-label" if field is not None else None
        for marked in self.query(".field-label.-current"):
            if marked.id != current:
                marked.remove_class("-current")
        if current is not None:
            self.query_one(f"#{current}").add_class("-current")

    def _values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for spec in cs.FIELDS:
            widget = self.query_one(f"#cf-{spec.name}")
            if isinstance(widget, ChoiceBar):
                out[spec.name] = widget.value
            elif isinstance(widget, TextArea):
                out[spec.name] = widget.text
            else:
                assert isinstance(widget, Input)
                out[spec.name] = widget.value
        return out

    def _changes(self) -> dict[str, str]:
        now = self._values()
        if self.start is None:
            return {k: v for k, v in now.items() if v.strip()}
        return {k: v for k, v in now.items() if v != self._initial.get(k)}

    # ------------------------------------------------------------ feedback

    def _field_error(self, name: str, message: str) -> None:
        box = self.query_one_optional(f"#cf-{name}-error", Static)
        if box is None and message:
            box = Static(id=f"cf-{name}-error", classes="field-error")
            self.query_one("#cf-fields").mount(box, after=self.query_one(f"#cf-{name}"))
        if box is not None:
            box.update(literal(message))
            box.set_class(bool(message), "-shown")
        widget = self.query_one(f"#cf-{name}")
        widget.set_class(bool(message), "-invalid")

    def _set_error(self, message: str) -> None:
        self.query_one("#cf-error", Static).update(literal(message))

    def _check(self, changes: dict[str, str]) -> dict[str, str]:
        """Every field's problem at once (field -> message)."""
        problems: dict[str, str] = {}
        for spec in cs.FIELDS:
            if spec.name in changes or (
                self.start is None and spec.required and spec.name not in changes
            ):
                try:
                    cs.clean_changes({spec.name: changes.get(spec.name, "")})
                except cs.ClientError as exc:
                    problems[spec.name] = str(exc)
        return problems

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """Typing into a field with an error clears it (checked again on save). Its
        error line tells, not the Input's "-invalid" class, which Input's own
        validation (max_length) sets and clears as it pleases."""
        name = (event.input.id or "").removeprefix("cf-")
        if self.query(f"#cf-{name}-error.-shown"):
            self._field_error(name, "")

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.action_next_field()

    def action_next_field(self) -> None:
        self.focus_next()

    # ------------------------------------------------------------ save

    def action_save(self) -> None:
        if self._saving:
            return
        for spec in cs.FIELDS:
            self._field_error(spec.name, "")
        changes = self._changes()
        problems = self._check(changes)
        if problems:
            first = next(s.name for s in cs.FIELDS if s.name in problems)
            for name, message in problems.items():
                self._field_error(name, message)
            count = len(problems)
            self._set_error(
                f"Not saved: {count} field{'s' if count != 1 else ''} to fix (marked above)."
            )
            self.query_one(f"#cf-{first}").focus()
            return
        if self.start is not None and not changes:
            self.dismiss(None)  # nothing changed: nothing to save
            return
        self._saving = True
        self._set_error("")
        self.query_one("#cf-keys", Static).update(Text("Saving…", style="bold"))
        self._save(changes)

    @work(thread=True, exclusive=True, group="client-save", exit_on_error=False)
    def _save(self, changes: dict[str, str]) -> None:
        app: Any = self.app
        start = self.start
        try:
            if start is None:
                client_id = cs.create_client(app.store, app.viewer, changes)
                result = Saved(client_id, 1, created=True)
            else:
                version = cs.update_client(
                    app.store, app.viewer, start.id, start.version, changes, base=start.values
                )
                result = Saved(start.id, version)
        except cs.ClientConflict as conflict:
            app.call_from_thread(self._conflict, conflict)
            return
        except (cs.ClientError, cs.NotAllowed) as exc:
            app.call_from_thread(self._failed, str(exc), getattr(exc, "field", None))
            return
        except Exception as exc:
            app.call_from_thread(self._failed, describe_error(exc), None)
            return
        app.call_from_thread(self.dismiss, result)

    def _failed(self, message: str, field: str | None) -> None:
        self._saving = False
        if field is not None:
            self._field_error(field, message)
            self.query_one(f"#cf-{field}").focus()
        self._set_error(f"Not saved: {message}")
        self.query_one("#cf-keys", Static).update(
            Text("ctrl+s try again · esc cancel", style="dim")
        )

    # ------------------------------------------------------------ conflicts

    def _conflict(self, conflict: cs.ClientConflict) -> None:
        rows = [
            ConflictRow(
                key=d.name,
                label=d.label,
                base=cs.show_value(d.name, d.base),
                mine=cs.show_value(d.name, d.mine),
                theirs=cs.show_value(d.name, d.theirs),
                auto=None if d.state == "conflict" else d.state,
            )
            for d in conflict.rows()
        ]
        who = conflict.changed_by or "Someone else"
        when = ""
        if conflict.changed_at is not None:
            when = f" ({format_due(conflict.changed_at, utcnow())})"
        explanation = (
            f"{who} saved this client{when} while you were editing. Nothing of yours is "
            "saved yet. Fields only one of you changed are merged; choose for the rest."
        )
        name = self.start.name if self.start is not None else ""
        screen = ConflictScreen(f"Both changed — {name}", plain(explanation), rows)
        self.app.push_screen(screen, lambda choices: self._chosen(conflict, choices))

    def _chosen(self, conflict: cs.ClientConflict, choices: dict[str, str] | None) -> None:
        if choices is None:
            self.dismiss(Saved(conflict.client_id, conflict.version, discarded=True))
            return
        self.query_one("#cf-keys", Static).update(Text("Saving the merge…", style="bold"))
        self._resolve(conflict, choices)

    @work(thread=True, exclusive=True, group="client-save", exit_on_error=False)
    def _resolve(self, conflict: cs.ClientConflict, choices: dict[str, str]) -> None:
        app: Any = self.app
        try:
            version = cs.resolve_conflict(app.store, app.viewer, conflict, choices)
        except cs.ClientConflict as again:
            app.call_from_thread(self._conflict, again)
            return
        except (cs.ClientError, cs.NotAllowed) as exc:
            app.call_from_thread(self._failed, str(exc), getattr(exc, "field", None))
            return
        except Exception as exc:
            app.call_from_thread(self._failed, describe_error(exc), None)
            return
        app.call_from_thread(self.dismiss, Saved(conflict.client_id, version))

    # ------------------------------------------------------------ cancel

    def action_cancel(self) -> None:
        if self._saving:
            return
        what = "this new client" if self.start is None else "your changes"
        typed = self._values() != self._initial
        close_or_ask(self, typed, f"Discard {what}?", "What you typed here will be lost.")


KEPT_FORM = "client-form"


def _ready_form(app: App[Any], start: cs.EditableClient | None) -> ClientForm:
    """The app's one client form (kept_screen), loaded with ``start``: opening it sets
    its 22 fields (ClientForm.load) instead of building and styling its ~50 widgets
    anew, which took 35-55 ms of the 100 a screen may take (DESIGN §8)."""
    return kept_screen(app, KEPT_FORM, lambda: ClientForm(start), lambda f: f.load(start))


def open_client_form(
    app: App[Any], client_id: int | None, on_saved: Callable[[Saved], None]
) -> None:
    """The form to add a client (``client_id`` None) or edit one (its current values
    read in a thread); ``on_saved`` hears what was saved."""
    if getattr(app, "viewer", None) is None or getattr(app, "locked", False):
        return

    def done(result: Saved | None) -> None:
        if result is None:
            return
        if result.discarded:
            app.notify("Your edit was discarded; the record shows their version.", timeout=6)
        elif result.created:
            app.notify("Client added.", timeout=3)
        else:
            app.notify("Saved.", timeout=3)
        on_saved(result)

    def show(start: cs.EditableClient | None) -> None:
        if getattr(app, "locked", False) or isinstance(app.screen, ClientForm):
            return
        app.push_screen(_ready_form(app, start), done)

    if client_id is None:
        show(None)
        return
    store: Any = getattr(app, "store", None)
    viewer: Any = getattr(app, "viewer", None)

    def load() -> None:
        try:
            start = cs.load_for_edit(store, viewer, client_id)
        except (cs.ClientError, cs.NotAllowed) as exc:
            app.call_from_thread(app.notify, str(exc), severity="error")
            return
        except Exception as exc:
            app.call_from_thread(app.notify, describe_error(exc), severity="error")
            return
        app.call_from_thread(show, start)

    app.run_worker(load, thread=True, group="client-form-open", exit_on_error=False)
