"""The contact log as a care manager drives it (Textual Pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Static, TextArea

from cm_tui.app import CmTuiApp
from cm_tui.dates import format_due, parse_due
from cm_tui.screens.addendum import AddendumForm
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.screens.confirm import ConfirmDiscard
from cm_tui.screens.contact_form import ContactForm
from cm_tui.screens.inbound import ClientPicker
from cm_tui.services import contacts
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import Client, Contact, ContactAddendum, Draft, FollowUp
from cm_tui.store.types import freeze_clock
from cm_tui.widgets.choice import ChoiceBar
from tests.engine import db_url
from tests.snapshot_app import NOW, build_app
from tests.test_ui import settle, shown, table_names

SIZE = (120, 40)
NOTE = "Spoke with pt. BP log 130s/80s, refill due Fri; will bring meds list."


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _store(db: Path) -> Store:
    return open_store(db_url(db))


def _rows(db: Path, model: Any) -> list[Any]:
    store = _store(db)
    try:
        with store.read() as s:
            return list(s.exec(select(model).order_by(col(model.id))).all())
    finally:
        store.close()


async def _on_caseload(pilot: Any) -> None:
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
    await settle(pilot, lambda: len(table_names(app)) == 7)


async def _open_form(pilot: Any, key: str = "l") -> ContactForm:
    await pilot.press(key)
    await settle(pilot, lambda: isinstance(pilot.app.screen, ContactForm))
    return pilot.app.screen


async def _open_rosa(pilot: Any) -> ClientScreen:
    await _on_caseload(pilot)
    await pilot.press("enter")
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief)
    return app.screen


# ---------------------------------------------------------------- the routine call


async def test_routine_call_takes_at_most_15_keys_plus_the_note(tmp_path: Path) -> None:
    """DESIGN §5.3: "reached, 10 min, note, follow up +2w" in ≤ 15 keys plus the note."""
    db = tmp_path / "demo.db"
    app = build_app(db)
    keys_pressed = 0

    async def press(*keys: str) -> None:
        nonlocal keys_pressed
        keys_pressed += len(keys)
        await app_pilot.press(*keys)

    async with app.run_test(size=SIZE) as app_pilot:
        await _on_caseload(app_pilot)
        assert table_names(app)[0] == "Alvarez, Rosa (Rosie)"  # highlighted

        await press("l")  # log a contact with the highlighted client
        await settle(app_pilot, lambda: isinstance(app.screen, ContactForm))
        form = app.screen
        assert app.focused is form.query_one("#note", TextArea)  # focus starts in the note
        await press(*NOTE)  # the note text (not counted against the budget)
        await press("tab", "1", "0")  # minutes
        await press("tab", "+", "2", "w")  # next follow-up
        await settle(app_pilot)
        echo = shown(form.query_one("#due-echo", Static))
        assert format_due(parse_due("+2w", NOW), NOW) in echo  # "Wed 9 Dec 2026 09:00"
        await press("ctrl+s")
        await settle(app_pilot, lambda: isinstance(app.screen, CaseloadScreen))

        other_keys = keys_pressed - len(NOTE)
        assert other_keys <= 15, f"{other_keys} keys besides the note"
        assert other_keys == 9  # l, tab, 1, 0, tab, +, 2, w, ctrl+s

        # The caseload row refreshed at once: Rosa's last contact is now.
        table = app.screen.query_one("#caseload", DataTable)
        await settle(app_pilot, lambda: str(table.get_row_at(0)[4]) == "just now")

    [contact] = [c for c in _rows(db, Contact) if c.occurred_at == NOW]
    assert (contact.outcome, contact.method, contact.party, contact.direction) == (
        "reached",
        "phone",  # Rosa prefers phone
        "client",
        "outbound",
    )
    assert contact.duration_min == 10 and contact.note == NOTE
    fu = _rows(db, FollowUp)[-1]
    assert len(_rows(db, FollowUp)) == 4
    assert fu.due_at == parse_due("+2w", NOW) and fu.title == "Follow-up call"
    rosa = _rows(db, Client)[0]
    assert rosa.last_contact_at == NOW and rosa.last_reached_at == NOW
    assert _rows(db, Draft) == []  # saved: the draft is gone


async def test_defaults_follow_the_clients_preferred_method(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        await pilot.press("down", "down")  # Chen, Mei prefers text
        form = await _open_form(pilot)
        values = {b.id: b.value for b in form.query(ChoiceBar)}
        assert values == {
            "outcome": "reached",
            "method": "text",
            "party": "client",
            "direction": "outbound",
            "callback": "no",
            "service": "none",
        }


async def test_single_keys_pick_choices_and_tab_reaches_every_field(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        form = await _open_form(pilot)
        order = []
        for _ in range(9):
            order.append(app.focused.id)
            await pilot.press("tab")
        assert order == [
            "note",
            "minutes",
            "due",
            "about",
            "outcome",
            "method",
            "party",
            "direction",
            "service",
        ]
        assert app.focused.id == "note"  # round again (callback is hidden for outbound)
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
        assert app.focused.id == "outcome"
        await pilot.press("l", "tab", "i", "tab", "g", "tab")  # left message, in person, caregiver
        await pilot.press("c")  # not an option of "direction": swallowed, no caseload jump
        assert isinstance(app.screen, ContactForm)
        await pilot.press("right")  # inbound: the callback question appears
        assert form.has_class("-inbound")
        await pilot.press("tab")
        assert app.focused.id == "callback"
        await pilot.press("ctrl+s")  # saves from any field
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    contact = _rows(db, Contact)[-1]
    assert (contact.outcome, contact.method, contact.party, contact.direction) == (
        "left_message",
        "in_person",
        "caregiver",
        "inbound",
    )
    assert contact.note == "" and contact.duration_min is None


async def test_invalid_due_explains_itself_and_blocks_nothing_else(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        form = await _open_form(pilot)
        await pilot.press(*"LVM", "tab", "2", "tab", *"next blursday")
        await settle(pilot)
        assert "Can't read 'next blursday'" in shown(form.query_one("#due-echo", Static))
        assert form.query_one("#due", Input).has_class("-invalid")
        await pilot.press("tab", "tab", "l")  # other fields still work
        assert form.query_one("#outcome", ChoiceBar).value == "left_message"
        await pilot.press("ctrl+s")  # refused, with the reason, and focus on the field
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)
        assert "Fix the next follow-up" in shown(form.query_one("#form-error", Static))
        assert app.focused is form.query_one("#due", Input)
        assert _rows(db, Contact)[-1].note != "LVM"
        await pilot.press("ctrl+u", *"yesterday")
        await settle(pilot)
        assert "Can't read" in shown(form.query_one("#due-echo", Static))
        form.query_one("#due", Input).value = "next tue 10am"
        await settle(pilot)
        assert "Tue 1 Dec 2026 10:00" in shown(form.query_one("#due-echo", Static))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    contact = _rows(db, Contact)[-1]
    assert (contact.note, contact.outcome, contact.duration_min) == ("LVM", "left_message", 2)
    # last_reached_at did not move: a message is not reaching the person
    rosa = _rows(db, Client)[0]
    assert rosa.last_contact_at == NOW and rosa.last_reached_at < NOW


# ---------------------------------------------------------------- never lose a note


async def test_escape_asks_before_discarding_typed_text(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        await _open_form(pilot)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))

        form = await _open_form(pilot)
        await pilot.press(*"Pt asked about")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
        await pilot.press("n")  # keep editing
        await settle(pilot, lambda: app.screen is form)
        assert form.query_one("#note", TextArea).text == "Pt asked about"
        await pilot.press(*" rides")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
        await pilot.press("enter")  # the focused, safe button: keep
        await settle(pilot, lambda: app.screen is form)
        await settle(pilot, lambda: len(_rows(db, Draft)) == 1)  # the draft was written
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
        await pilot.press("d")  # discard
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot, lambda: _rows(db, Draft) == [])
    assert all(c.occurred_at != NOW for c in _rows(db, Contact))


async def test_draft_is_offered_back_on_the_next_open(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        form = await _open_form(pilot)
        await pilot.press(*"Daughter says", "tab", "7", "tab", *"fri", "tab", "tab", "n")
        await settle(pilot, lambda: form.drafts_written > 0 and not form._draft_timer)
    # The app went away without saving (no escape, no ctrl+s).
    [draft] = _rows(db, Draft)
    assert draft.kind == "contact" and draft.payload["note"] == "Daughter says"

    app2 = build_app_again(db)
    async with app2.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        form = await _open_form(pilot)
        assert form.query_one("#note", TextArea).text == "Daughter says"
        assert form.query_one("#minutes", Input).value == "7"
        assert form.query_one("#due", Input).value == "fri"
        assert form.query_one("#outcome", ChoiceBar).value == "no_answer"
        assert "Restored your unsaved draft" in shown(form.query_one("#restored", Static))
        assert "Fri 27 Nov 2026 09:00" in shown(form.query_one("#due-echo", Static))
        assert app2.focused is form.query_one("#note", TextArea)
        await pilot.press(*" pt napping", "ctrl+s")
        await settle(pilot, lambda: isinstance(app2.screen, CaseloadScreen))
    assert _rows(db, Contact)[-1].note == "Daughter says pt napping"
    assert _rows(db, Draft) == []


async def test_the_kept_form_opens_as_if_built_anew_for_each_client(tmp_path: Path) -> None:
    """Issue 8: the app keeps one contact form and loads it for each client. Nothing
    of the last client's shows or is saved for the next: not the note (nor its undo
    history), a choice, an invalid field, an error line, a restored-draft line; the
    next client's own draft is offered back; what is saved is theirs alone."""
    from cm_tui.services import drafts
    from cm_tui.store.access import Viewer
    from cm_tui.store.models import User

    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        caseload = app.screen
        assert isinstance(caseload, CaseloadScreen)
        first, second, third = table_names(app)[:3]
        form = await _open_form(pilot)
        first_id = form.client.id
        assert first in shown(form.query_one("#form-title", Static))
        await pilot.press(*"For the first client", "tab", *"9999", "tab", *"zzz")
        await pilot.press("tab", "tab", "n", "tab", "t")  # no answer, by text
        await pilot.press("ctrl+s")  # refused: minutes out of range
        await settle(pilot, lambda: "Minutes" in shown(form.query_one("#form-error", Static)))
        assert form.query_one("#minutes", Input).has_class("-invalid")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
        await pilot.press("d")
        await settle(pilot, lambda: app.screen is caseload)

        # The second client has a draft of their own, from an earlier session.
        store = _store(db)
        try:
            with store.read() as s:
                ann = Viewer.of(s.exec(select(User).where(User.username == "ann")).one())
            table = caseload.query_one("#caseload", DataTable)
            table.move_cursor(row=1, animate=False)
            await settle(pilot)
            second_id = caseload._highlighted_id()
            assert second_id is not None
            payload = {"note": "Left word with son", "outcome": "left_message"}
            drafts.save_draft(store, ann.id, drafts.CONTACT, str(second_id), payload)
        finally:
            store.close()
        await settle(pilot, lambda: _rows(db, Draft) and True)
        again = await _open_form(pilot)
        assert again is form  # the same form, loaded for the second client
        assert form.client.id == second_id
        title = shown(form.query_one("#form-title", Static))
        assert second in title and first not in title
        assert form.query_one("#note", TextArea).text == "Left word with son"
        assert form.query_one("#outcome", ChoiceBar).value == "left_message"
        assert form.query_one("#method", ChoiceBar).value == form.defaults.method
        assert [form.query_one(f"#{f}", Input).value for f in ("minutes", "due", "about")] == [
            "",
            "",
            "",
        ]
        assert not form.query_one("#minutes", Input).has_class("-invalid")
        assert shown(form.query_one("#form-error", Static)).strip() == ""
        assert "Restored your unsaved draft" in shown(form.query_one("#restored", Static))
        assert app.focused is form.query_one("#note", TextArea)
        await pilot.press("ctrl+z")  # the undo history is this client's: nothing to undo
        await settle(pilot)
        assert form.query_one("#note", TextArea).text == "Left word with son"
        written = form.drafts_written
        await pilot.press(*"; call back Mon")  # kept as a draft as it is typed, as ever
        await settle(pilot, lambda: form.drafts_written > written and not form._draft_timer)
        [draft] = _rows(db, Draft)
        assert (draft.key, draft.payload["note"]) == (
            str(second_id),
            "Left word with son; call back Mon",
        )
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: app.screen is caseload)
        saved = [c for c in _rows(db, Contact) if c.occurred_at == NOW]
        assert [(c.client_id, c.note, c.outcome) for c in saved] == [
            (second_id, "Left word with son; call back Mon", "left_message")
        ]
        assert _rows(db, Draft) == []
        assert first_id != second_id

        # The third: nothing restored, every field at its default.
        caseload.query_one("#caseload", DataTable).move_cursor(row=2, animate=False)
        await settle(pilot)
        again = await _open_form(pilot)
        assert again is form and third in shown(form.query_one("#form-title", Static))
        assert form.query_one("#restored", Static).has_class("-hidden")
        assert form.query_one("#note", TextArea).text == ""
        assert form.query_one("#outcome", ChoiceBar).value == "reached"
        assert not form.is_dirty()
        # A draft write asked for before the form was loaded again (still queued for
        # its thread then) writes nothing: not the last client's text under any key.
        stale = form._write_draft({"note": "For the first client"}, str(first_id), form._round - 1)
        await stale.wait()
        assert _rows(db, Draft) == []
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot, lambda: app.screen is caseload)
    assert _rows(db, Draft) == []


def build_app_again(db: Path) -> CmTuiApp:
    """A second session on the same database (the organisation is already there)."""
    from cm_tui.app import make_app
    from cm_tui.config import Settings

    app = make_app(db_url(db), demo=True, user="ann", settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    return app


async def test_a_failed_save_keeps_the_text(tmp_path: Path, monkeypatch: Any) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)

    def broken(*_a: Any, **_k: Any) -> Any:
        from cm_tui.store.db import StoreError

        raise StoreError("The database is busy. Nothing was saved; try again.")

    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        form = await _open_form(pilot)
        await pilot.press(*"Important")
        monkeypatch.setattr(contacts, "log_contact", broken)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: "Not saved" in shown(form.query_one("#form-error", Static)))
        assert app.screen is form and form.query_one("#note", TextArea).text == "Important"
        monkeypatch.undo()
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    assert _rows(db, Contact)[-1].note == "Important"


# ---------------------------------------------------------------- literal text


async def test_notes_with_markup_and_escapes_are_stored_and_shown_literally(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    note = "[bold]x[/bold] [link=http://a]b[/link] \x1b[31mred\x1b]8;;http://e\x07"
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open_rosa(pilot)
        form = await _open_form(pilot)
        form.query_one("#note", TextArea).load_text(note)  # escapes can't be typed by Pilot
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: screen.brief.contact_count == 16)
        table = screen.query_one("#timeline", DataTable)
        cell = str(table.get_row_at(0)[-1])
        assert "[bold]x[/bold] [link=http://a]b[/link] ␛[31mred␛]8;;http://e␇" in cell
        detail = shown(screen.query_one("#detail", Static))
        assert "[bold]x[/bold] [link=http://a]b[/link] ␛[31mred" in detail

        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AddendumForm))
        app.screen.query_one("#note", TextArea).load_text("[i]also[/i] \x1b[2J")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: "[i]also[/i]" in shown(screen.query_one("#detail", Static)))
        assert "␛[2J" in shown(screen.query_one("#detail", Static))
    saved = _rows(db, Contact)[-1]
    assert saved.note == note
    assert _rows(db, ContactAddendum)[-1].text == "[i]also[/i] \x1b[2J"


# ---------------------------------------------------------------- client screen


async def test_log_from_the_client_screen_refreshes_the_brief(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open_rosa(pilot)
        assert screen.query_one("#followups", DataTable).row_count == 2
        form = await _open_form(pilot)
        assert form.query_one("#method", ChoiceBar).value == "phone"
        await pilot.press(*"Faxed med list", "tab", "tab", *"tomorrow", "tab", *"Ask re: fax")
        await pilot.press("tab", "tab", "tab", "p")  # with: PCP
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: screen.brief.contact_count == 16)
        assert screen.query_one("#followups", DataTable).row_count == 3
        assert "Contacts (16)" in shown(screen.query_one("#timeline-title", Static))
        top = screen.query_one("#timeline", DataTable).get_row_at(0)
        assert str(top[3]) == "✚ PCP" and "Faxed med list" in str(top[-1])
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        table = app.screen.query_one("#caseload", DataTable)
        await settle(pilot, lambda: str(table.get_row_at(0)[4]) == "just now")
    fu = _rows(db, FollowUp)[-1]
    assert (fu.title, fu.kind) == ("Ask re: fax", "pcp_coordination")
    # reached the PCP office: that is a contact, not reaching the client
    rosa = _rows(db, Client)[0]
    assert rosa.last_contact_at == NOW and rosa.last_reached_at < NOW


async def test_addendum_from_the_timeline(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open_rosa(pilot)
        await pilot.press("down")  # the second contact
        entry = screen._entries[1]
        original = entry.contact.note
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AddendumForm))
        form = app.screen
        await pilot.press("escape")  # nothing typed: no question
        await settle(pilot, lambda: app.screen is screen)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AddendumForm))
        form = app.screen
        assert original in shown(form.query_one("#original Static", Static))
        await pilot.press("ctrl+s")  # empty: refused
        await settle(pilot)
        assert "Type the addendum" in shown(form.query_one("#form-error", Static))
        await pilot.press(*"She called back, all fine.")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: app.screen is screen)
        await settle(pilot, lambda: "She called back" in shown(screen.query_one("#detail", Static)))
        detail = shown(screen.query_one("#detail", Static))
        assert "Addendum Wed 25 Nov 2026" in detail and "by Ann Lee, RN" in detail
        assert original in detail
        row = screen.query_one("#timeline", DataTable).get_row_at(1)
        assert str(row[-1]).startswith("[+1 addend.]")
    contact = next(c for c in _rows(db, Contact) if c.id == entry.contact.id)
    assert contact.note == original  # never rewritten
    [add] = [a for a in _rows(db, ContactAddendum) if a.contact_id == contact.id]
    assert add.text == "She called back, all fine." and add.created_at == NOW


async def test_timeline_filters_and_marks_pcp_contacts(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open_rosa(pilot)
        table = screen.query_one("#timeline", DataTable)
        with_column = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
        assert with_column.count("✚ PCP") == 3
        from textual.widgets import Select

        screen.query_one("#tl-party", Select).value = "pcp"
        await settle(pilot, lambda: table.row_count == 3)
        assert "3 of 15 (PCP)" in shown(screen.query_one("#timeline-title", Static))
        screen.query_one("#tl-method", Select).value = "phone"
        screen.query_one("#tl-outcome", Select).value = "no_answer"
        await settle(pilot, lambda: table.row_count == 0)
        assert "No contacts match" in shown(screen.query_one("#detail", Static))
        from cm_tui.store.contact_queries import TimelineFilter

        screen.set_timeline_filter(TimelineFilter(outcome="reached"))
        await settle(pilot, lambda: table.row_count == 9)
        assert screen.query_one("#tl-party", Select).value == Select.NULL
        screen.set_timeline_filter(TimelineFilter())
        await settle(pilot, lambda: table.row_count == 15)
        assert "Contacts (15)" in shown(screen.query_one("#timeline-title", Static))


# ---------------------------------------------------------------- inbound calls


async def test_quick_inbound_call_with_a_callback(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        app.action_log_inbound()  # the palette's "Log inbound call"
        await settle(pilot, lambda: isinstance(app.screen, ClientPicker))
        picker = app.screen
        await pilot.press(*"010-2007")  # Hassan Haddad's phone: Bob's client, not on Ann's list
        await settle(pilot, lambda: len(picker.found) == 1)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        form = app.screen
        assert "Log inbound call — Haddad, Hassan" in shown(form.query_one("#form-title", Static))
        assert form.query_one("#direction", ChoiceBar).value == "inbound"
        assert form.query_one("#method", ChoiceBar).value == "phone"  # the phone rang
        assert form.has_class("-inbound")
        await pilot.press(*"Needs ride to dialysis Thu")
        for _ in range(8):
            await pilot.press("tab")
        assert app.focused is form.query_one("#callback", ChoiceBar)
        await pilot.press("y")
        await settle(pilot)
        due = contacts.callback_due("same business day", NOW)
        assert format_due(due, NOW) in shown(form.query_one("#callback-echo", Static))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    contact = _rows(db, Contact)[-1]
    assert contact.direction == "inbound" and contact.note == "Needs ride to dialysis Thu"
    fu = _rows(db, FollowUp)[-1]
    assert len(_rows(db, FollowUp)) == 4
    assert (fu.kind, fu.source, fu.priority) == ("callback", "inbound_call", "high")
    assert fu.due_at == due and fu.title == "Call back: Needs ride to dialysis Thu"
    assert fu.client_id == contact.client_id


async def test_inbound_picker_lists_matches_and_escape_cancels(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        app.action_log_inbound()
        await settle(pilot, lambda: isinstance(app.screen, ClientPicker))
        picker = app.screen
        await pilot.press(*"MRN100")
        await settle(pilot, lambda: len(picker.found) == 8)
        await pilot.press("down", "down", "enter")  # to the list, then the second row
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        assert "Brooks, Walter" in shown(app.screen.query_one("#form-title", Static))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        app.action_log_inbound()
        await settle(pilot, lambda: isinstance(app.screen, ClientPicker))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        # A fast "name, enter" before the search has answered still picks the caller.
        app.action_log_inbound()
        await settle(pilot, lambda: isinstance(app.screen, ClientPicker))
        await pilot.press(*"fisch", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        assert "Fischer, Frank" in shown(app.screen.query_one("#form-title", Static))


async def test_palette_offers_logging_for_any_client(tmp_path: Path) -> None:
    from cm_tui.contact_commands import ContactCommands

    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        provider = ContactCommands(app.screen)
        hits = [hit async for hit in provider.search("haddad")]
        texts = [str(h.match_display) for h in hits]
        assert texts == [
            "Log contact: Haddad, Hassan · MRN MRN1007",
            "Log inbound call: Haddad, Hassan · MRN MRN1007",
        ]
        hits[1].command()
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        assert app.screen.query_one("#direction", ChoiceBar).value == "inbound"
        names = [c.title for c in app.get_system_commands(app.screen)]
        assert "Log inbound call" in names
        app.action_caseload()  # a form with no text yet is still a form: finish it first
        assert isinstance(app.screen, ContactForm)


async def test_lock_hides_the_form_and_gives_it_back(tmp_path: Path) -> None:
    from cm_tui.screens.login import LockScreen

    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await _on_caseload(pilot)
        form = await _open_form(pilot)
        await pilot.press(*"Half a note")
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, LockScreen))
        assert not app.screen.query(TextArea)  # nothing of the note is on screen
        await pilot.press(*"ann-password", "enter")
        await settle(pilot, lambda: app.screen is form, tries=100)
        assert form.query_one("#note", TextArea).text == "Half a note"
