"""Programme enrolment for one client (issue #13): the client's enrolments, ``n`` enrols
(TCM creates its contact and visit follow-ups, on business days), ``d`` discharges
the highlighted enrolment with an exit reason."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Select, Static

from cm_tui.dates import format_due
from cm_tui.screens.base import BaseModal, describe_error
from cm_tui.screens.careplan import Field, FieldsForm, format_day, read_day
from cm_tui.screens.confirm import close_or_ask
from cm_tui.services import programmes
from cm_tui.services.clients import NotAllowed
from cm_tui.services.programmes import Enrolled, EnrollmentRow, ProgrammeError
from cm_tui.store.db import Store
from cm_tui.store.models import FollowUp
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets.choice import Choice, ChoiceBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import SafeInput, literal

CUSTOM = "custom"
COMPLEXITY_CHOICES = [
    Choice("moderate", "moderate (14 days)", "m"),
    Choice("high", "high (7 days)", "h"),
]


def _due_of(store: Store, ids: list[int]) -> list[tuple[str, Any]]:
    """(title, due) of the follow-ups just created (a read of rows this user made)."""
    out: list[tuple[str, Any]] = []
    with store.read() as session:
        for fid in ids:
            fu = session.get(FollowUp, fid)
            if fu is not None:
                out.append((fu.title, fu.due_at))
    return out


class EnrolForm(BaseModal[Enrolled | None]):
    CSS_PATH = ["careplan.tcss", "programme.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, client_id: int, client_name: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self._saving = False
        self.created: list[tuple[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="cp-form"):
            yield Static(
                Text.assemble(("Enrol in a programme — ", "bold"), literal(self.client_name)),
                id="cp-form-title",
            )
            with Horizontal(classes="row"):
                yield Label("Programme", classes="field-label")
                yield Select(
                    [(f"{d.name} — {d.title}", d.name) for d in programmes.PROGRAMMES.values()]
                    + [("another programme (type its name)", CUSTOM)],
                    value="CCM",
                    allow_blank=False,
                    id="pg-programme",
                    compact=True,
                )
            with Horizontal(classes="row", id="pg-custom-row"):
                yield Label("Name", classes="field-label")
                yield SafeInput(id="pg-custom", compact=True, placeholder="the programme's name")
            for fid, title, hint in (
                ("start", "Start", "today, yesterday, 2026-11-02"),
                ("consent", "Consent on", "optional — the date consent was given"),
            ):
                with Horizontal(classes="row"):
                    yield Label(title, classes="field-label")
                    yield Input(
                        "today" if fid == "start" else "",
                        id=f"pg-{fid}",
                        compact=True,
                        placeholder=hint,
                    )
                yield Static(id=f"echo-{fid}", classes="echo")
            with Horizontal(classes="row"):
                yield Label("Why", classes="field-label")
                yield SafeInput(
                    id="pg-reason",
                    compact=True,
                    placeholder="optional — entry reason, e.g. 2 admissions in 6 months",
                    max_length=programmes.REASON_MAX,
                )
            with Vertical(id="pg-tcm"):
                with Horizontal(classes="row"):
                    yield Label("Discharged", classes="field-label")
                    yield Input(
                        id="pg-discharge",
                        compact=True,
                        placeholder="hospital discharge date, e.g. 2026-11-19",
                    )
                yield Static(id="echo-discharge", classes="echo")
                with Horizontal(classes="row"):
                    yield Label("Complexity", classes="field-label")
                    yield ChoiceBar(COMPLEXITY_CHOICES, "moderate", id="pg-complexity")
            yield Static(id="cp-form-error", classes="error")
            yield Static(
                Text("ctrl+s enrol · esc cancel · tab next field", style="dim"), id="cp-form-keys"
            )

    def on_mount(self) -> None:
        self._show_parts()
        self._echo("start")
        self.query_one("#pg-programme", Select).focus()

    def programme(self) -> str:
        value = self.query_one("#pg-programme", Select).value
        if value == CUSTOM:
            return self.query_one("#pg-custom", Input).value
        return str(value)

    def _show_parts(self) -> None:
        value = self.query_one("#pg-programme", Select).value
        self.query_one("#pg-custom-row").display = value == CUSTOM
        self.query_one("#pg-tcm").display = programmes.definition(str(value)).tcm

    @on(Select.Changed, "#pg-programme")
    def _programme_changed(self) -> None:
        self._show_parts()

    def _day(self, fid: str) -> tuple[date | None, str | None]:
        text = self.query_one(f"#pg-{fid}", Input).value
        if not text.strip():
            return None, None
        try:
            return read_day(text, past=True), None
        except ValueError as exc:
            return None, str(exc)

    @on(Input.Changed, "#pg-start, #pg-consent, #pg-discharge")
    def _typed(self, event: Input.Changed) -> None:
        self._echo((event.input.id or "")[3:])

    def _echo(self, fid: str) -> None:
        day, error = self._day(fid)
        echo = self.query_one(f"#echo-{fid}", Static)
        if error:
            echo.update(literal(error, "bold red"))
        elif day is not None:
            echo.update(Text.assemble(("→ ", "green"), (format_day(day), "bold green")))
        else:
            echo.update("")

    def _error(self, message: str) -> None:
        self.query_one("#cp-form-error", Static).update(literal(message, "bold red"))

    def action_save(self) -> None:
        if self._saving:
            return
        days: dict[str, date | None] = {}
        for fid in ("start", "consent", "discharge"):
            day, error = self._day(fid)
            if error:
                self._error(error)
                self.query_one(f"#pg-{fid}", Input).focus()
                return
            days[fid] = day
        values: dict[str, Any] = dict(
            programme=self.programme(),
            start_on=days["start"],
            consent_on=days["consent"],
            entry_reason=self.query_one("#pg-reason", Input).value or None,
        )
        if programmes.definition(values["programme"] or "x").tcm:
            values["discharge_on"] = days["discharge"]
            values["complexity"] = self.query_one("#pg-complexity", ChoiceBar).value
        self._saving = True
        self._error("")
        self.query_one("#cp-form-keys", Static).update(Text("Saving…", style="bold"))
        self._save(values)

    @work(thread=True, exclusive=True, group="enrol-save", exit_on_error=False)
    def _save(self, values: dict[str, Any]) -> None:
        app = self.app
        programme = values.pop("programme")
        try:
            enrolled = programmes.enrol(app.store, app.viewer, self.client_id, programme, **values)
            self.created = _due_of(app.store, enrolled.followup_ids)
        except (ProgrammeError, NotAllowed, ValueError) as exc:
            app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:
            app.call_from_thread(self._failed, describe_error(exc))
            return
        app.call_from_thread(self.dismiss, enrolled)

    def _failed(self, message: str) -> None:
        self._saving = False
        self._error(f"Not enrolled: {message}")
        self.query_one("#cp-form-keys", Static).update(
            Text("ctrl+s try again · esc cancel", style="dim")
        )

    def action_cancel(self) -> None:
        typed = any(
            self.query_one(f"#pg-{f}", Input).value
            for f in ("custom", "consent", "reason", "discharge")
        )
        close_or_ask(self, typed, "Discard this enrolment?", "Nothing has been saved.")


class ProgrammesModal(BaseModal[None]):
    """The client's enrolments; n enrols, d discharges the highlighted one."""

    CSS_PATH = ["careplan.tcss", "programme.tcss"]
    TITLE = "Programmes"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("n", "enrol", "Enrol"),
        Binding("d", "discharge", "Discharge"),
    ]

    def __init__(self, client_id: int, client_name: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.rows: list[EnrollmentRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="pg-box"):
            yield Static(
                Text.assemble(("Programmes — ", "bold"), literal(self.client_name, "bold")),
                id="cp-form-title",
            )
            yield ListTable(id="pg-list")
            yield Static(id="pg-detail")
            yield Static(
                Text("n enrol · d discharge the highlighted · esc close", style="dim"),
                id="pg-keys",
            )

    def on_mount(self) -> None:
        table = self.query_one("#pg-list", DataTable)
        for title, width in (
            ("Programme", 16),
            ("Start", 10),
            ("End", 10),
            ("Outreach", 18),
            ("Consent", 10),
        ):
            table.add_column(title, width=width)
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="pg-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            rows = programmes.enrollments(self.app.store, self.app.viewer, self.client_id)
        except (ProgrammeError, NotAllowed) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[EnrollmentRow]) -> None:
        self.rows = rows
        table = self.query_one("#pg-list", DataTable)
        table.clear()
        for r in rows:
            outreach = label(r.outreach_status) if r.outreach_status else "—"
            if r.outreach_status == "in_progress":
                outreach += f" ({r.outreach_attempts}/{r.outreach_planned})"
            table.add_row(
                literal(r.programme, one_line=True),
                Text(r.start_on.isoformat()),
                Text(r.end_on.isoformat() if r.end_on else "open"),
                literal(outreach, "bold red" if r.outreach_status == "unable_to_reach" else ""),
                Text(r.consent_on.isoformat() if r.consent_on else "—"),
            )
        self._detail()

    @on(DataTable.RowHighlighted, "#pg-list")
    def _detail(self) -> None:
        detail = self.query_one("#pg-detail", Static)
        row = self.highlighted()
        if row is None:
            detail.update(Text("Not enrolled in any programme — n enrols.", style="dim"))
            return
        parts: list[Text | str] = []
        if row.entry_reason:
            parts += ["Why: ", literal(row.entry_reason)]
        if row.discharge_on:
            parts += [f"  Discharged {row.discharge_on.isoformat()} ({label(row.complexity)})"]
        if row.exit_reason:
            parts += ["  Left: ", literal(row.exit_reason)]
        detail.update(Text.assemble(*parts) if parts else Text(""))

    def highlighted(self) -> EnrollmentRow | None:
        table = self.query_one("#pg-list", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_enrol(self) -> None:
        form = EnrolForm(self.client_id, self.client_name)

        def done(enrolled: Enrolled | None) -> None:
            if enrolled is None:
                return
            now = utcnow()
            lines = [f"Enrolled in {enrolled.enrollment.programme}."]
            lines += [f"{title}: due {format_due(due, now)}" for title, due in form.created]
            lines += enrolled.warnings
            self.app.notify("\n".join(lines), title="Enrolled", timeout=12, markup=False)
            self._load()

        self.app.push_screen(form, done)

    def action_discharge(self) -> None:
        row = self.highlighted()
        if row is None or row.end_on is not None:
            self.notify("Highlight an open enrolment first.")
            return
        store, viewer = self.app.store, self.app.viewer

        def save(v: dict[str, Any]) -> Any:
            return programmes.discharge(
                store, viewer, row.id, exit_reason=v["why"], end_on=v["end"]
            )

        fields = [
            Field(
                "why",
                "Exit reason",
                required=True,
                hint="e.g. goals met, moved away",
                max_length=programmes.REASON_MAX,
            ),
            Field("end", "Ends on", "today", kind="past_day", hint="today, 2026-11-20"),
        ]
        title = Text.assemble(("Discharge from ", "bold"), literal(row.programme, "bold"))

        def done(result: Any) -> None:
            if result is not None:
                self.app.notify(f"Discharged from {row.programme}.", timeout=4, markup=False)
                self._load()

        self.app.push_screen(FieldsForm(title, fields, save), done)
