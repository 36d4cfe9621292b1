"""Completing a follow-up by logging its contact (x, l) when someone changed the
follow-up meanwhile: both versions are shown, the typed note is never lost.
Two cm-tui instances on one database (SQLite file, or PostgreSQL schema)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from textual.widgets import Static, TextArea

from cm_tui.screens.followup_modals import CompleteChoice, FollowUpConflictScreen, SnoozeDialog
from cm_tui.screens.followups import CompletingContactForm, FollowUpQueueScreen
from cm_tui.services import drafts
from cm_tui.store.db import open_store
from cm_tui.store.models import Contact
from tests.test_followup_conflict import _queue, _seed, _stored
from tests.test_live_refresh import make_instance, shared_url  # noqa: F401  (fixture)
from tests.test_ui import settle, shown

NOTE = "Reached Rosa; BP 128/78, [bold]meds[/] ok."


def _contacts(url: str) -> list[Contact]:
    store = open_store(url)
    try:
        with store.read() as s:
            return list(s.exec(select(Contact).where(Contact.note == NOTE)).all())
    finally:
        store.close()


def _draft_note(url: str, user_id: int, client_id: int) -> str | None:
    store = open_store(url)
    try:
        with store.read() as s:
            draft = drafts.read_draft(s, user_id, drafts.CONTACT, str(client_id))
    finally:
        store.close()
    return None if draft is None else str(draft.payload.get("note"))


async def _stale_log_and_save(pilot: Any) -> FollowUpConflictScreen:
    """B (stale) presses x, l, types the note and ctrl+s: the conflict screen opens."""
    app = pilot.app
    await pilot.press("x")
    await settle(pilot, lambda: isinstance(app.screen, CompleteChoice))
    await pilot.press("l")
    await settle(pilot, lambda: isinstance(app.screen, CompletingContactForm))
    await pilot.press(*NOTE, "tab", "5", "ctrl+s")
    await settle(pilot, lambda: isinstance(app.screen, FollowUpConflictScreen), tries=100)
    assert isinstance(app.screen, FollowUpConflictScreen)
    return app.screen


async def test_snoozed_meanwhile_mine_logs_the_contact_and_completes(
    shared_url: str,  # noqa: F811
) -> None:
    org = _seed(shared_url)
    fid = org["fid"]
    client_id = _stored(shared_url, fid).client_id
    a, b = make_instance(shared_url, "ann"), make_instance(shared_url, "sue", refresh_s=0)
    async with a.run_test(size=(120, 36)) as pa, b.run_test(size=(120, 36)) as pb:
        qa, qb = await _queue(pa), await _queue(pb)
        assert qa.highlighted_id() == qb.highlighted_id() == fid
        await pa.press("z")  # A (Ann) snoozes it two days
        await settle(pa, lambda: isinstance(a.screen, SnoozeDialog))
        await pa.press(*"+2d", "enter")
        await settle(pa, lambda: isinstance(a.screen, FollowUpQueueScreen) and not qa.rows)
        assert _stored(shared_url, fid).version == 2

        dialog = await _stale_log_and_save(pb)
        theirs = shown(dialog.query_one("#conflict-theirs", Static))
        seen = shown(dialog.query_one("#conflict-seen", Static))
        assert "Now (theirs)" in theirs and "until" in theirs  # snoozed, as stored now
        assert "You saw" in seen and "until" not in seen
        assert "Changed by Ann Lee" in shown(dialog.query_one("#conflict-who", Static))
        assert "log this contact and complete" in shown(dialog.query_one("#conflict-mine", Static))
        assert "apply mine" in shown(dialog.query_one("#conflict-keys", Static))
        # Nothing saved yet, but the note is safe in the database as a draft.
        assert _contacts(shared_url) == []
        assert _stored(shared_url, fid).status == "open"
        await settle(pb, lambda: _draft_note(shared_url, org["sue"].id, client_id) == NOTE)

        await pb.press("m")  # mine, on top of Ann's snooze
        await settle(pb, lambda: isinstance(b.screen, FollowUpQueueScreen), tries=100)
        await settle(pb)

    [contact] = _contacts(shared_url)
    final = _stored(shared_url, fid)
    assert (final.status, final.version, final.completed_contact_id) == ("done", 3, contact.id)
    assert contact.duration_min == 5 and contact.client_id == client_id
    assert _draft_note(shared_url, org["sue"].id, client_id) is None  # the save ended it


@pytest.mark.parametrize("choice", ["save_contact", "theirs"])
async def test_completed_meanwhile_the_note_is_never_lost(
    shared_url: str,  # noqa: F811
    choice: str,
) -> None:
    org = _seed(shared_url)
    fid = org["fid"]
    client_id = _stored(shared_url, fid).client_id
    a, b = make_instance(shared_url, "ann"), make_instance(shared_url, "sue", refresh_s=0)
    async with a.run_test(size=(120, 36)) as pa, b.run_test(size=(120, 36)) as pb:
        qa, _ = await _queue(pa), await _queue(pb)
        await pa.press("x")  # A completes it, no contact
        await settle(pa, lambda: isinstance(a.screen, CompleteChoice))
        await pa.press("d")
        await settle(pa, lambda: isinstance(a.screen, FollowUpQueueScreen) and not qa.rows)
        assert _stored(shared_url, fid).status == "done"

        dialog = await _stale_log_and_save(pb)
        assert "done" in shown(dialog.query_one("#conflict-theirs", Static))
        keys = shown(dialog.query_one("#conflict-keys", Static))
        assert "already done" in keys and "apply mine" not in keys
        assert "save my contact note without completing it" in keys
        await pb.press("m")  # refused: nothing to apply, the choice stays open
        await settle(pb)
        assert isinstance(b.screen, FollowUpConflictScreen)
        assert _contacts(shared_url) == []
        await settle(pb, lambda: _draft_note(shared_url, org["sue"].id, client_id) == NOTE)

        if choice == "save_contact":
            await pb.press("s")
            await settle(pb, lambda: isinstance(b.screen, FollowUpQueueScreen), tries=100)
            await settle(pb)
        else:
            await pb.press("t")  # theirs: back to the form, the text as typed
            await settle(pb, lambda: isinstance(b.screen, CompletingContactForm))
            form = b.screen
            assert form.query_one("#note", TextArea).text == NOTE
            assert "Not saved" in shown(form.query_one("#form-error", Static))
            await settle(pb)

    final = _stored(shared_url, fid)
    assert (final.status, final.version, final.completed_contact_id) == ("done", 2, None)
    if choice == "save_contact":
        [contact] = _contacts(shared_url)
        assert contact.client_id == client_id and contact.duration_min == 5
        assert _draft_note(shared_url, org["sue"].id, client_id) is None
    else:  # nothing saved, the note is kept as a draft the form restores
        assert _contacts(shared_url) == []
        assert _draft_note(shared_url, org["sue"].id, client_id) == NOTE
