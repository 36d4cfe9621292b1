"""Needs & referrals of one client: the closed loop at a glance (DESIGN §1, issue 11).

Top: the client's open needs, each with its referrals and their state. Below: the
referrals of the highlighted need, and the resources suggested for it (those that
speak the client's language first). Keys: `a` add a need, `r` refer to the
highlighted suggestion, `s` move the highlighted referral on (accepted, completed,
closed unmet), `x` resolve the need. When a need's last open referral closes, the
screen offers to resolve the need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Header, Input, Select, Static

from cm_tui.screens.base import BaseModal, BaseScreen, describe_error, open_when_read
from cm_tui.services import referrals as rs
from cm_tui.services.clients import NotAllowed
from cm_tui.store.vocab import NEED_DOMAINS, label
from cm_tui.widgets.keybar import KeyBar
from cm_tui.widgets.list_table import ListTable
from cm_tui.widgets.safe import literal

_MODAL_CSS = """
ReferralsModal {
    align: center middle;
}
ReferralsModal > Vertical {
    width: 76;
    max-width: 100%;
    height: auto;
    border: thick $primary;
    background: $surface;
    padding: 0 1;
}
ReferralsModal .field-label {
    margin-top: 1;
    color: $text-muted;
}
ReferralsModal .error {
    color: $error;
    height: auto;
}
ReferralsModal Horizontal {
    height: auto;
    margin-top: 1;
}
ReferralsModal Button {
    margin-right: 2;
}
"""

STATE_CHOICES = ("accepted", "completed", "closed_unmet")


def _app(widget: Any) -> Any:
    return widget.app


class ReferralsModal(BaseModal[Any]):
    """The small forms of this screen: Enter or ctrl+s saves, Esc cancels."""

    DEFAULT_CSS = _MODAL_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def _set_error(self, message: str) -> None:
        self.query_one(".error", Static).update(literal(message, "bold"))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:  # pragma: no cover - every form has its own
        raise NotImplementedError

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def _buttons(self, save: str = "Save (ctrl+s)") -> ComposeResult:
        with Horizontal():
            yield Button(save, id="save", variant="primary", compact=True)
            yield Button("Cancel (esc)", id="cancel", compact=True)

    def run_service(self, call: Any) -> None:
        self._run(call)

    @work(thread=True, exclusive=True, group="referral-save", exit_on_error=False)
    def _run(self, call: Any) -> None:
        app = _app(self)
        try:
            result = call(app)
        except (rs.ReferralError, NotAllowed, ValueError) as exc:
            app.call_from_thread(self._set_error, f"Not saved: {exc}")
            return
        except Exception as exc:
            app.call_from_thread(self._set_error, f"Not saved: {describe_error(exc)}")
            return
        app.call_from_thread(self.dismiss, result if result is not None else True)


class AddNeedForm(ReferralsModal):
    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id

    def compose(self) -> ComposeResult:
        with Vertical(id="need-form"):
            yield Static(Text("Add a need", style="bold"))
            yield Static("Domain", classes="field-label")
            yield Select([(label(d), d) for d in NEED_DOMAINS], prompt="Domain", id="need-domain")
            yield Static("Note (optional)", classes="field-label")
            yield Input(id="need-note", placeholder="what they told you", compact=True)
            yield Static(classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#need-domain", Select).focus()

    def action_save(self) -> None:
        value = self.query_one("#need-domain", Select).value
        if value is Select.NULL:
            self._set_error("Pick the need's domain (housing, food, ...).")
            return
        note = self.query_one("#need-note", Input).value
        domain = str(value)
        self.run_service(
            lambda app: rs.add_need(app.store, app.viewer, self.client_id, domain, note)
        )


class SendReferralForm(ReferralsModal):
    def __init__(self, need: rs.NeedView, suggestion: rs.Suggestion) -> None:
        super().__init__()
        self.need = need
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(id="send-form"):
            yield Static(
                Text.assemble(
                    ("Refer for ", "bold"),
                    literal(label(self.need.domain), "bold"),
                    (" to ", "bold"),
                    literal(self.suggestion.name, "bold", one_line=True),
                )
            )
            yield Static("How it was sent", classes="field-label")
            yield Select([(label(m), m) for m in rs.METHODS], prompt="Method", id="ref-method")
            yield Static("Note (optional)", classes="field-label")
            yield Input(id="ref-note", placeholder="who you spoke to, what was sent", compact=True)
            yield Static("Check back in (days)", classes="field-label")
            yield Input(str(rs.CHECK_DAYS), id="ref-days", compact=True)
            yield Static(classes="error")
            yield from self._buttons("Send (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#ref-method", Select).focus()

    def action_save(self) -> None:
        method = self.query_one("#ref-method", Select).value
        if method is Select.NULL:
            self._set_error("Say how the referral was sent (phone, fax, email, ...).")
            return
        days_text = self.query_one("#ref-days", Input).value.strip() or str(rs.CHECK_DAYS)
        if not days_text.isdigit():
            self._set_error(f"'{days_text[:20]}' is not a number of days (e.g. 7).")
            self.query_one("#ref-days", Input).focus()
            return
        note = self.query_one("#ref-note", Input).value
        need_id, resource_id, days = self.need.id, self.suggestion.resource_id, int(days_text)
        self.run_service(
            lambda app: rs.send_referral(
                app.store,
                app.viewer,
                need_id,
                resource_id,
                method=str(method),
                note=note,
                check_days=days,
            )
        )


class ReferralStateForm(ReferralsModal):
    def __init__(self, referral: rs.ReferralView) -> None:
        super().__init__()
        self.referral = referral

    def compose(self) -> ComposeResult:
        with Vertical(id="state-form"):
            yield Static(
                Text.assemble(
                    ("Referral to ", "bold"),
                    literal(self.referral.resource_name, "bold", one_line=True),
                    "  now ",
                    literal(label(self.referral.status), "yellow"),
                )
            )
            yield Static("New state", classes="field-label")
            yield Select([(label(s), s) for s in STATE_CHOICES], prompt="State", id="ref-state")
            yield Static("Reason (needed when it closed unmet)", classes="field-label")
            yield Input(id="ref-reason", placeholder="e.g. waitlist full", compact=True)
            yield Static(classes="error")
            yield from self._buttons()

    def on_mount(self) -> None:
        self.query_one("#ref-state", Select).focus()

    def action_save(self) -> None:
        state = self.query_one("#ref-state", Select).value
        if state is Select.NULL:
            self._set_error("Pick the referral's new state.")
            return
        reason = self.query_one("#ref-reason", Input).value
        rid = self.referral.id
        self.run_service(
            lambda app: rs.update_referral(app.store, app.viewer, rid, str(state), reason=reason)
        )


class ConfirmResolve(ReferralsModal):
    """Yes (y) resolves the need; No (n, esc) leaves it open."""

    BINDINGS = [
        Binding("y", "save", "Resolve"),
        Binding("n,escape", "cancel", "Not now"),
    ]

    def __init__(self, need: rs.NeedView | None, question: str) -> None:
        super().__init__()
        self.need = need
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="resolve-confirm"):
            yield Static(literal(self.question, "bold"))
            yield Static(classes="error")
            with Horizontal():
                yield Button("Resolve the need (y)", id="save", variant="success", compact=True)
                yield Button("Not now (n)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def action_save(self) -> None:
        if self.need is None:
            self.dismiss(None)
            return
        need_id = self.need.id
        self.run_service(lambda app: rs.resolve_need(app.store, app.viewer, need_id))


@dataclass(frozen=True)
class NeedsRead:
    """What the screen shows first: the open needs, and the resources suggested for
    the first of them (the need highlighted as it opens)."""

    needs: list[rs.NeedView]
    suggestions: list[rs.Suggestion]


def read_needs(store: Any, viewer: Any, client_id: int) -> NeedsRead | str:
    try:
        needs = rs.client_needs(store, viewer, client_id)
        found = rs.suggest_resources(store, viewer, needs[0].id) if needs else []
    except (NotAllowed, rs.ReferralError) as exc:
        return str(exc)
    return NeedsRead(needs, found)


def open_referrals(app: Any, client_id: int, client_name: str, on_closed: Any = None) -> None:
    """Open a client's needs and referrals with them in its first frame (issue 8:
    read, then pushed, as screens.base.open_when_read explains)."""
    store, viewer = app.store, app.viewer
    open_when_read(
        app,
        lambda: read_needs(store, viewer, client_id),
        lambda read: ReferralsScreen(client_id, client_name, read),
        what="needs and referrals",
        on_closed=on_closed,
    )


class ReferralsScreen(BaseScreen[None]):
    TITLE = "Needs & referrals"
    DEFAULT_CSS = """
    ReferralsScreen #ref-head { height: auto; padding: 0 1; }
    ReferralsScreen .ref-box { height: 1fr; border: round $primary-darken-2; }
    ReferralsScreen #ref-lower { height: 2fr; }
    ReferralsScreen #ref-hint { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add_need", "Add need"),
        Binding("r", "refer", "Refer"),
        Binding("s", "state", "Referral state"),
        Binding("x", "resolve", "Resolve need"),
    ]

    def __init__(self, client_id: int, client_name: str, first: NeedsRead) -> None:
        """``first``: the needs as read before the screen was pushed (open_referrals)."""
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.needs: list[rs.NeedView] = []
        self.suggestions: list[rs.Suggestion] = []
        self.loaded = False
        self._want_need: int | None = None
        self._first = first

    def compose(self) -> ComposeResult:
        yield Header(show_clock=getattr(self.app, "show_clock", False))
        yield Static(id="ref-head")
        with Vertical(id="needs-list", classes="ref-box"):
            yield ListTable(id="ref-needs")
        with Horizontal(id="ref-lower"):
            with Vertical(id="referrals-list", classes="ref-box"):
                yield ListTable(id="ref-referrals")
            with Vertical(id="suggestions-list", classes="ref-box"):
                yield ListTable(id="ref-suggestions")
        yield Static(
            "a add need · r refer to the highlighted resource · s referral state · "
            "x resolve need · tab next list",
            id="ref-hint",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = self.client_name
        needs = self.query_one("#ref-needs", DataTable)
        for title, width in (("Need", 16), ("Status", 12), ("Opened", 10), ("Referrals", 40)):
            needs.add_column(title, width=width)
        refs = self.query_one("#ref-referrals", DataTable)
        for title, width in (("Resource", 24), ("State", 13), ("Sent", 10), ("Note", 30)):
            refs.add_column(title, width=width)
        sug = self.query_one("#ref-suggestions", DataTable)
        for title, width in (("Resource", 26), ("Language", 16), ("Phone", 14), ("Hours", 20)):
            sug.add_column(title, width=width)
        self.query_one("#needs-list").border_title = "Open needs"
        self.query_one("#referrals-list").border_title = "Referrals"
        self.query_one("#suggestions-list").border_title = "Suggested resources"
        needs.focus()
        self._show_needs(self._first.needs, self._first.suggestions)

    # ------------------------------------------------------------ loading

    def refresh_needs(self, select_need: int | None = None) -> None:
        self._want_need = select_need
        self._load()

    @work(thread=True, exclusive=True, group="referrals-load", exit_on_error=False)
    def _load(self) -> None:
        app = _app(self)
        needs = rs.client_needs(app.store, app.viewer, self.client_id)
        app.call_from_thread(self._show_needs, needs)

    def _show_needs(
        self, needs: list[rs.NeedView], suggestions: list[rs.Suggestion] | None = None
    ) -> None:
        """``suggestions``: already read for the first need (as the screen opens)."""
        keep = self._want_need
        if keep is None:
            before = self.current_need()
            keep = before.id if before is not None else None
        self.needs = needs
        table = self.query_one("#ref-needs", DataTable)
        table.clear()
        for need in needs:
            summary = ", ".join(
                f"{r.resource_name} ({label(r.status)})" for r in need.referrals[:3]
            ) + (f" +{len(need.referrals) - 3}" if len(need.referrals) > 3 else "")
            table.add_row(
                literal(label(need.domain), "bold"),
                literal(label(need.status), "yellow"),
                literal(f"{need.opened_at:%Y-%m-%d}"),
                literal(summary or "none yet", "" if summary else "dim", one_line=True),
            )
        if keep is not None:
            for i, need in enumerate(needs):
                if need.id == keep:
                    table.move_cursor(row=i)
        self.query_one("#needs-list").border_title = f"Open needs ({len(needs)})"
        head = Text.assemble(literal(self.client_name or "Client", "bold"))
        if not needs:
            head.append("   No open needs: press a to add one.", style="dim")
        self.query_one("#ref-head", Static).update(head)
        self.loaded = True
        self._show_need_detail(suggestions)

    def current_need(self) -> rs.NeedView | None:
        table = self.query_one("#ref-needs", DataTable)
        row = table.cursor_row
        if not self.needs or not 0 <= row < len(self.needs):
            return None
        return self.needs[row]

    def current_referral(self) -> rs.ReferralView | None:
        need = self.current_need()
        table = self.query_one("#ref-referrals", DataTable)
        if need is None or not 0 <= table.cursor_row < len(need.referrals):
            return None
        return need.referrals[table.cursor_row]

    def current_suggestion(self) -> rs.Suggestion | None:
        table = self.query_one("#ref-suggestions", DataTable)
        if not self.suggestions or not 0 <= table.cursor_row < len(self.suggestions):
            return None
        return self.suggestions[table.cursor_row]

    @on(DataTable.RowHighlighted, "#ref-needs")
    def _need_highlighted(self) -> None:
        if self.loaded:
            self._show_need_detail()

    def _show_need_detail(self, suggestions: list[rs.Suggestion] | None = None) -> None:
        """``suggestions``: read already for the highlighted need (else read now)."""
        need = self.current_need()
        refs = self.query_one("#ref-referrals", DataTable)
        refs.clear()
        if need is None:
            self.suggestions = []
            self.query_one("#ref-suggestions", DataTable).clear()
            return
        for r in need.referrals:
            refs.add_row(
                literal(r.resource_name, one_line=True),
                literal(label(r.status), "green" if r.status == "completed" else "yellow"),
                literal(f"{r.sent_at:%Y-%m-%d}"),
                literal(r.note or "", one_line=True),
            )
        self.query_one("#referrals-list").border_title = f"Referrals for {label(need.domain)}"
        self.query_one(
            "#suggestions-list"
        ).border_title = f"Suggested {label(need.domain)} resources"
        if suggestions is not None and self.needs and need is self.needs[0]:
            self._show_suggestions(need.id, suggestions)
        else:
            self._load_suggestions(need.id)

    @work(thread=True, exclusive=True, group="referrals-suggest", exit_on_error=False)
    def _load_suggestions(self, need_id: int) -> None:
        app = _app(self)
        found = rs.suggest_resources(app.store, app.viewer, need_id)
        app.call_from_thread(self._show_suggestions, need_id, found)

    def _show_suggestions(self, need_id: int, found: list[rs.Suggestion]) -> None:
        need = self.current_need()
        if need is None or need.id != need_id:
            return
        self.suggestions = found
        table = self.query_one("#ref-suggestions", DataTable)
        table.clear()
        for s in found:
            table.add_row(
                literal(s.name, "bold" if s.language_match else "", one_line=True),
                literal(", ".join(s.languages) or "—", "green" if s.language_match else "dim"),
                literal(s.phone or "—"),
                literal(s.hours or "", one_line=True),
            )
        if not found:
            table.add_row(
                Text("No resources for this domain in the directory.", style="dim"), "", "", ""
            )

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss(None)  # the brief reloads its needs and follow-ups

    def action_add_need(self) -> None:
        def added(result: Any) -> None:
            if result:
                self.notify("Need added.")
                self.refresh_needs(result if isinstance(result, int) else None)

        self.app.push_screen(AddNeedForm(self.client_id), added)

    def action_refer(self) -> None:
        need = self.current_need()
        if need is None:
            self.notify("Add or highlight a need first.")
            return
        suggestion = self.current_suggestion()
        if suggestion is None:
            self.notify("Highlight a suggested resource (tab to the list on the right).")
            return

        def sent(result: Any) -> None:
            if isinstance(result, rs.Sent):
                self.notify(
                    f"Referral sent; check-back follow-up due {result.due_at:%Y-%m-%d}.",
                    markup=False,
                )
                self.refresh_needs(need.id)

        self.app.push_screen(SendReferralForm(need, suggestion), sent)

    def action_state(self) -> None:
        need = self.current_need()
        referral = self.current_referral()
        if need is None or referral is None:
            self.notify("Highlight a referral first (tab to the referrals list).")
            return

        def changed(result: Any) -> None:
            if not isinstance(result, rs.Updated):
                return
            self.refresh_needs(need.id)
            if result.offer_resolve:
                self.app.push_screen(
                    ConfirmResolve(
                        need,
                        f"That was the last open referral for {label(need.domain)}. "
                        "Resolve the need?",
                    ),
                    self._resolved,
                )

        self.app.push_screen(ReferralStateForm(referral), changed)

    def action_resolve(self) -> None:
        need = self.current_need()
        if need is None:
            self.notify("Highlight a need first.")
            return
        self.app.push_screen(
            ConfirmResolve(need, f"Resolve the {label(need.domain)} need?"), self._resolved
        )

    def _resolved(self, result: Any) -> None:
        if result:
            self.notify("Need resolved.")
            self.refresh_needs()
