"""Bad input to the contact services: a clear one-line refusal, nothing written.

Decisions (README, Crash safety):
- a note or addendum holds at most ``MAX_NOTE`` characters (after trimming); the
  message says to add the rest as an addendum;
- a NUL character is refused, not stored (PostgreSQL cannot hold one in text, and it
  is invisible): the message says on which line and column it is. Names with NUL
  are refused by the CSV import (test_import); text already stored by another
  program is shown literally (test_hostile).
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from cm_tui.services import contacts
from cm_tui.services.contacts import MAX_NOTE, ContactError, FollowUpRequest
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import Contact
from cm_tui.store.types import utcnow
from tests.factories import add_client, add_user

TABLES = ("contacts", "follow_ups", "contact_addenda", "audit_events")


def counts(store: Store) -> dict[str, int]:
    assert store.path is not None
    con = sqlite3.connect(store.path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def refused(store: Store, match: str, call: object, *args: object, **kw: object) -> str:
    before = counts(store)
    with pytest.raises(ContactError) as exc:
        call(*args, **kw)  # type: ignore[operator]
    message = str(exc.value)
    assert "\n" not in message
    assert match in message, message
    assert counts(store) == before
    return message


@pytest.fixture
def ctx(sqlite_store: Store) -> tuple[Store, Viewer, int]:
    sup = add_user(sqlite_store, "sam", role="supervisor")
    return sqlite_store, sup, add_client(sqlite_store, "Ana", "Zapata")


def followup(title: str = "") -> list[FollowUpRequest]:
    return [FollowUpRequest(due_at=utcnow() + timedelta(days=1), title=title)]


def test_an_over_long_note_is_refused_and_the_limit_itself_is_fine(
    ctx: tuple[Store, Viewer, int],
) -> None:
    store, sup, cid = ctx
    message = refused(
        store,
        "A note holds at most 100,000 characters; add the rest as an addendum.",
        contacts.log_contact,
        store,
        sup,
        cid,
        note="x" * (MAX_NOTE + 1),
        follow_ups=followup(),
    )
    assert message.startswith("A note holds")
    logged = contacts.log_contact(store, sup, cid, note="  " + "y" * MAX_NOTE + "\n")
    with store.read() as s:
        stored = s.get(Contact, logged.contact_id)
        assert stored is not None and stored.note == "y" * MAX_NOTE
    refused(
        store,
        "An addendum holds at most 100,000 characters.",
        contacts.add_addendum,
        store,
        sup,
        logged.contact_id,
        "z" * (MAX_NOTE + 1),
    )


def test_nul_characters_are_refused_with_where_they_are(ctx: tuple[Store, Viewer, int]) -> None:
    store, sup, cid = ctx
    message = refused(
        store,
        "The note contains an invisible NUL character (line 2, column 4)",
        contacts.log_contact,
        store,
        sup,
        cid,
        note="Called pt.\nLef\x00t a message",
        follow_ups=followup(),
    )
    assert message.endswith("usually left by a paste; delete it and save again.")
    refused(
        store,
        "The follow-up title contains an invisible NUL character (line 1, column 5)",
        contacts.log_contact,
        store,
        sup,
        cid,
        note="Called pt.",
        follow_ups=followup("Call\x00 back"),
    )
    logged = contacts.log_contact(store, sup, cid, note="Called pt.")
    refused(
        store,
        "The addendum contains an invisible NUL character (line 1, column 1)",
        contacts.add_addendum,
        store,
        sup,
        logged.contact_id,
        "\x00late entry",
    )


def test_a_note_of_control_characters_other_than_nul_is_stored_as_typed(
    ctx: tuple[Store, Viewer, int],
) -> None:
    """Only NUL is refused; other odd characters are a record's text and kept exactly."""
    store, sup, cid = ctx
    note = "bell\x07 esc\x1b[31m rtl\u202e tab\tend"
    logged = contacts.log_contact(store, sup, cid, note=note)
    with store.read() as s:
        stored = s.get(Contact, logged.contact_id)
        assert stored is not None and stored.note == note
