"""Programme report for supervisors: the month's measures (services/measures.py) on one page.

`[` and `]` step through months; the figures are computed in a thread worker and the
view is audited (the per-person lines name staff).
"""

from __future__ import annotations

from typing import Any

from dateutil.relativedelta import relativedelta
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer
from textual.widgets import Button, Header, Input, Static
from textual.worker import get_current_worker

from cm_tui.screens.base import BaseScreen
from cm_tui.services.measures import (
    Period,
    Report,
    current_period,
    parse_period,
    report_lines,
    view_report,
)
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.safe import literal

REPORT_ROLES = ("supervisor", "admin")


def open_report(app: App[Any]) -> None:
    """Open the programme report (supervisors and admins; others are told why not)."""
    viewer = getattr(app, "viewer", None)
    if viewer is None or viewer.role not in REPORT_ROLES:
        app.notify("The programme report is for supervisors and admins.", severity="warning")
        return
    app.push_screen(ReportScreen())


class ReportScreen(BaseScreen[None]):
    TITLE = "Programme report"
    CSS_PATH = "report.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("left_square_bracket", "step(-1)", "Previous month"),
        Binding("right_square_bracket", "step(1)", "Next month"),
        Binding("ctrl+r", "refresh_report", "Refresh"),
    ]

    def __init__(self, period: Period | None = None) -> None:
        super().__init__()
        self.period = period or current_period()
        self.report: Report | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=getattr(self.app, "show_clock", False))
        with Horizontal(id="report-bar"):
            yield Static("Month", id="report-label")
            yield Input(value=self.period.label, id="report-period", compact=True)
            yield Button("Show", id="report-show", compact=True)
            yield Static(literal("[ ] previous / next month"), id="report-hint")
        with ScrollableContainer(id="report-body"):
            yield Static(id="report-text")
        yield KeyBar()

    def on_mount(self) -> None:
        viewer = getattr(self.app, "viewer", None)
        self.sub_title = viewer.display_name if viewer else ""
        self.query_one("#report-body").focus()
        self._start(self.period)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_step(self, months: int) -> None:
        first = self.period.first_day + relativedelta(months=months)
        self._show_period(f"{first:%Y-%m}")

    def action_refresh_report(self) -> None:
        self._start(self.period)

    @on(Input.Submitted, "#report-period")
    @on(Button.Pressed, "#report-show")
    def _typed(self) -> None:
        self._show_period(self.query_one("#report-period", Input).value)
        self.query_one("#report-body").focus()

    def _show_period(self, text: str) -> None:
        try:
            period = parse_period(text)
        except ValueError as exc:
            self._show_text(str(exc), error=True)
            return
        self.period = period
        self.query_one("#report-period", Input).value = period.label
        self._start(period)

    def _start(self, period: Period) -> None:
        self._show_text(f"Computing {period.label}…")  # in the screen's first frame
        self._load(period)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _load(self, period: Period) -> None:
        # A month of a large organisation is long work (about a second on 100,000
        # clients): each step is shown as it starts.
        viewer = self.app.viewer  # type: ignore[attr-defined]
        worker = get_current_worker()

        def progress(step: int, steps: int, what: str) -> None:
            if not worker.is_cancelled:
                text = f"Computing {period.label}: {what} ({step} of {steps})…"
                self.app.call_from_thread(self._show_progress, period, text)

        report = view_report(self.app.store, period, viewer, progress)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show_report, report)

    def _show_progress(self, period: Period, text: str) -> None:
        if period == self.period:  # not a month since left
            self._show_text(text)

    def _show_report(self, report: Report) -> None:
        if report.period != self.period:  # a later request superseded this one
            return
        self.report = report
        self._show_text("\n".join(report_lines(report)))

    def _show_text(self, text: str, *, error: bool = False) -> None:
        content = literal(text, "bold red" if error else "")
        content.no_wrap = True
        self.query_one("#report-text", Static).update(content)
