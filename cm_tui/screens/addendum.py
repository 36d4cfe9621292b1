"""Add to a saved contact's note: notes are append-only, an edit is an addendum."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TextArea

from cm_tui.screens.base import describe_error
from cm_tui.screens.drafting import DraftingModal
from cm_tui.services import contacts, drafts
from cm_tui.services.contacts import ContactError, LoggedAddendum, NotAllowed
from cm_tui.store.queries import TimelineEntry
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label
from cm_tui.widgets import cells
from cm_tui.widgets.safe import literal
from cm_tui.widgets.safe_text_area import SafeTextArea


def describe_entry(entry: TimelineEntry, *, one_line_header: bool = False) -> Group:
    """A contact with its full note and every addendum (author and time), literally."""
    c = entry.contact
    now = utcnow()
    header = Text.assemble(
        cells.when(c.occurred_at, now),
        " · ",
        literal(label(c.method)),
        " (inbound)" if c.direction == "inbound" else "",
        " · with ",
        literal("✚ PCP", "bold magenta") if c.party == "pcp" else literal(label(c.party)),
        " · ",
        literal(label(c.outcome)),
        f" · {c.duration_min} min" if c.duration_min is not None else "",
        " · ",
        literal(entry.author or "unknown"),
        style="bold",
    )
    if one_line_header:
        header.no_wrap = True
        header.overflow = "ellipsis"
    parts: list[Any] = [header, literal(c.note or "(no note)")]
    for add, who in entry.addenda:
        parts.append(
            Text.assemble(
                ("↳ Addendum ", "bold"),
                cells.when(add.created_at, now),
                " by ",
                literal(who or "unknown", "bold"),
                ": ",
                literal(add.text),
                style="italic",
            )
        )
    return Group(*parts)


class AddendumForm(DraftingModal[LoggedAddendum | None]):
    CSS_PATH = "contact_form.tcss"
    SIZE_CLASSES = {
        "-short": lambda s: s.height < 30,
    }
    TITLE = "Addendum"
    DRAFT_KIND = drafts.ADDENDUM
    DISCARD_QUESTION = "Discard this addendum?"

    def __init__(
        self, entry: TimelineEntry, client_name: str, draft: drafts.SavedDraft | None = None
    ) -> None:
        assert entry.contact.id is not None
        super().__init__(str(entry.contact.id))
        self.entry = entry
        self.client_name = client_name
        self.draft = draft
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(
                Text.assemble(("Addendum — ", "bold"), literal(self.client_name, "bold")),
                id="form-title",
            )
            yield Static(
                Text("The saved note stays as it is; your addendum is added below it.", "dim"),
                id="form-facts",
            )
            with VerticalScroll(id="original"):
                yield Static(describe_entry(self.entry))
            yield Static(id="restored", classes="-hidden")
            with Vertical(id="note-box"):
                yield SafeTextArea(id="note", soft_wrap=True, tab_behavior="focus", compact=True)
            yield Static(id="form-error", classes="error")
            yield Static(Text("ctrl+s save · esc cancel", style="dim"), id="form-keys")

    def on_mount(self) -> None:
        self.query_one("#note-box").border_title = "Addendum"
        note = self.query_one("#note", TextArea)
        if self.draft is not None:
            self._suspend_drafts = True
            note.load_text(str(self.draft.payload.get("text", "")))
            self._suspend_drafts = False
            banner = self.query_one("#restored", Static)
            banner.update(
                Text.assemble(
                    "Restored your unsaved addendum from ",
                    cells.when(self.draft.updated_at, utcnow()),
                    " — escape discards it.",
                )
            )
            banner.remove_class("-hidden")
        note.focus()
        note.move_cursor(note.document.end)

    def draft_payload(self) -> dict[str, Any]:
        text = self.query_one("#note", TextArea).text
        return {"text": text} if text.strip() else {}

    @on(TextArea.Changed, "#note")
    def _typed(self) -> None:
        self.changed()

    def action_save(self) -> None:
        if self._saving:
            return
        text = self.query_one("#note", TextArea).text
        if not text.strip():
            self.query_one("#form-error", Static).update(literal("Type the addendum first."))
            return
        self._saving = True
        self.query_one("#form-keys", Static).update(Text("Saving…", style="bold"))
        self._save(text)

    @work(thread=True, exclusive=True, group="addendum-save", exit_on_error=False)
    def _save(self, text: str) -> None:
        contact_id = self.entry.contact.id
        assert contact_id is not None
        try:
            with self._draft_lock:
                added = contacts.add_addendum(self.app.store, self.app.viewer, contact_id, text)
                self._finished = True  # (the timer sees it; stopping it is UI work)
        except (ContactError, NotAllowed) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:
            self.app.call_from_thread(self._failed, describe_error(exc))
            return
        self.app.call_from_thread(self.dismiss, added)

    def _failed(self, message: str) -> None:
        self._saving = False
        self.query_one("#form-error", Static).update(
            literal(f"Not saved: {message} Your text is still here (and kept as a draft).")
        )
        self.query_one("#form-keys", Static).update(Text("ctrl+s try again · esc cancel", "dim"))
        self.flush_draft()
