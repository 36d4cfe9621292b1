"""Concurrent edits of one follow-up (issue #12): the second person sees both versions
and chooses; nothing is silently overwritten. Two cm-tui instances on one database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from textual.widgets import Static

from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.followup_modals import (
    CompleteChoice,
    FollowUpConflictScreen,
    PersonPicker,
    SnoozeDialog,
)
from cm_tui.screens.followups import FollowUpQueueScreen
from cm_tui.services import followups as fs
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import AuditEvent, FollowUp
from cm_tui.store.types import utcnow
from tests.factories import add_client, add_followup, add_user
from tests.test_live_refresh import make_instance, shared_url  # noqa: F401  (fixture)
from tests.test_ui import settle, shown


def _seed(url: str) -> dict[str, Any]:
    store = open_store(url)
    try:
        store.set_meta("demo", "1")
        sue = add_user(store, "sue", role="supervisor", display_name="Sue Park")
        ann = add_user(store, "ann", display_name="Ann Lee")
        bob = add_user(store, "bob", display_name="Bob Ortiz")
        rosa = add_client(store, "Rosa", "Alvarez", ann)
        fid = add_followup(store, rosa, utcnow() - timedelta(days=1), ann, title="Call re: BP")
        return {"sue": sue, "ann": ann, "bob": bob, "fid": fid}
    finally:
        store.close()


def _stored(url: str, fid: int) -> FollowUp:
    store = open_store(url)
    try:
        with store.read() as s:
            fu = s.get(FollowUp, fid)
            assert fu is not None
            return fu
    finally:
        store.close()


async def _queue(pilot: Any) -> FollowUpQueueScreen:
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
    await pilot.press("f")
    await settle(pilot, lambda: isinstance(app.screen, FollowUpQueueScreen) and app.screen.rows)
    return app.screen


@pytest.mark.parametrize("choice", ["mine", "theirs"])
async def test_stale_reassign_after_a_snooze_shows_both_and_keeps_the_choice(
    shared_url: str,  # noqa: F811
    choice: str,
) -> None:
    org = _seed(shared_url)
    fid = org["fid"]
    # B acts on what it loaded before A's change reached it (no live refresh).
    a, b = make_instance(shared_url, "ann"), make_instance(shared_url, "sue", refresh_s=0)
    async with a.run_test(size=(120, 36)) as pa, b.run_test(size=(120, 36)) as pb:
        qa, qb = await _queue(pa), await _queue(pb)
        assert qa.highlighted_id() == qb.highlighted_id() == fid

        await pa.press("z")  # A (Ann) snoozes it two days
        await settle(pa, lambda: isinstance(a.screen, SnoozeDialog))
        await pa.press(*"+2d", "enter")
        await settle(pa, lambda: isinstance(a.screen, FollowUpQueueScreen) and not qa.rows)
        snoozed = _stored(shared_url, fid)
        assert snoozed.version == 2 and snoozed.snoozed_until is not None

        await pb.press("r")  # B (Sue), stale, gives it to Bob
        await settle(pb, lambda: isinstance(b.screen, PersonPicker) and b.screen.people)
        await pb.press(*"bob", "enter")
        await settle(pb, lambda: isinstance(b.screen, FollowUpConflictScreen))
        dialog = b.screen
        theirs = shown(dialog.query_one("#conflict-theirs", Static))
        seen = shown(dialog.query_one("#conflict-seen", Static))
        who = shown(dialog.query_one("#conflict-who", Static))
        mine = shown(dialog.query_one("#conflict-mine", Static))
        assert "Now (theirs)" in theirs and "until" in theirs  # snoozed, as stored now
        assert "You saw" in seen and "until" not in seen
        assert "Ann Lee" in theirs and "Ann Lee" in seen  # still Ann's in both
        assert "Changed by Ann Lee" in who and "snoozed from" in who
        assert "reassign it to Bob Ortiz" in mine
        assert _stored(shared_url, fid).assignee_id == org["ann"].id  # nothing saved yet

        await pb.press("m" if choice == "mine" else "t")
        await settle(pb, lambda: isinstance(b.screen, FollowUpQueueScreen))
        await settle(pb)

    final = _stored(shared_url, fid)
    assert final.due_at == snoozed.due_at and final.snoozed_until == snoozed.snoozed_until
    if choice == "mine":  # both changes stand: Ann's snooze and Sue's reassign
        assert (final.assignee_id, final.version) == (org["bob"].id, 3)
    else:  # Sue's reassign was dropped, Ann's snooze untouched
        assert (final.assignee_id, final.version) == (org["ann"].id, 2)
    store = open_store(shared_url)
    try:
        with store.read() as s:
            details = [
                e.detail or ""
                for e in s.exec(select(AuditEvent).where(AuditEvent.entity_id == fid)).all()
                if e.action == "update"
            ]
    finally:
        store.close()
    assert [d.split(" ")[0] for d in details] == (
        ["snoozed", "reassigned"] if choice == "mine" else ["snoozed"]
    )


async def test_a_done_follow_up_cannot_be_snoozed_over(shared_url: str) -> None:  # noqa: F811
    org = _seed(shared_url)
    fid = org["fid"]
    a, b = make_instance(shared_url, "ann"), make_instance(shared_url, "sue", refresh_s=0)
    async with a.run_test(size=(120, 36)) as pa, b.run_test(size=(120, 36)) as pb:
        qa, qb = await _queue(pa), await _queue(pb)
        await pa.press("x")  # A completes it
        await settle(pa, lambda: isinstance(a.screen, CompleteChoice))
        await pa.press("d")
        await settle(pa, lambda: isinstance(a.screen, FollowUpQueueScreen) and not qa.rows)

        await pb.press("z")  # B, stale, snoozes it
        await settle(pb, lambda: isinstance(b.screen, SnoozeDialog))
        await pb.press(*"+1d", "enter")
        await settle(pb, lambda: isinstance(b.screen, FollowUpConflictScreen))
        dialog = b.screen
        keys = shown(dialog.query_one("#conflict-keys", Static))
        assert "can't be snoozed" in keys and "apply mine" not in keys
        assert "done" in shown(dialog.query_one("#conflict-theirs", Static))
        await pb.press("m")  # refused: nothing happens, the choice is still open
        await settle(pb)
        assert isinstance(b.screen, FollowUpConflictScreen)
        await pb.press("escape")  # keep theirs
        await settle(pb, lambda: isinstance(b.screen, FollowUpQueueScreen) and not qb.rows)
    final = _stored(shared_url, fid)
    assert (final.status, final.version, final.snoozed_until) == ("done", 2, None)


def test_conflict_carries_the_stored_version_and_who_changed_it(any_store: Store) -> None:
    sue = add_user(any_store, "sue", role="supervisor", display_name="Sue Park")
    ann = add_user(any_store, "ann", display_name="Ann Lee")
    rosa = add_client(any_store, "Rosa", "Alvarez", ann)
    fid = add_followup(any_store, rosa, utcnow(), ann, title="Call")
    fs.cancel_followup(any_store, ann, fid, 1)
    with pytest.raises(fs.FollowUpConflict) as caught:
        fs.reassign_followup(any_store, sue, fid, 1, sue.id)
    now = caught.value.current
    assert now is not None
    assert (now.id, now.version, now.status, now.assignee_name) == (fid, 2, "cancelled", "Ann Lee")
    assert (now.changed_by, now.change) == ("Ann Lee", "cancelled")
    # After a bulk reassign (one audit event for many) the last change is not known.
    other = add_followup(any_store, rosa, utcnow(), ann, title="Other")
    fs.bulk_reassign(any_store, sue, [(other, 1)], sue.id)
    with pytest.raises(fs.FollowUpConflict) as caught:
        fs.snooze_followup(any_store, sue, other, 1, "+1d")
    assert caught.value.current is not None and caught.value.current.changed_by is None
