"""Concurrent edits of one client (issue #12): detected, shown as both versions,
resolved by the user's choice, never silently overwritten - in the service (both
engines) and with two app instances on one database (SQLite file and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Static

from cm_tui.app import make_app
from cm_tui.config import Settings
from cm_tui.screens.client import ClientScreen
from cm_tui.screens.client_form import ClientForm
from cm_tui.screens.confirm import ConfirmDiscard
from cm_tui.screens.conflict import ConflictScreen
from cm_tui.screens.help import HelpScreen
from cm_tui.services import clients as cs
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import AuditEvent, Client, User
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_user
from tests.snapshot_app import NOW
from tests.test_ui import settle, shown

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _viewer(store: Store, username: str) -> Viewer:
    with store.read() as s:
        [user] = s.exec(select(User).where(User.username == username)).all()
    return Viewer.of(user)


def _client(store: Store, client_id: int) -> Client:
    with store.read() as s:
        client = s.get(Client, client_id)
        assert client is not None
        return client


def _updates(store: Store, client_id: int) -> list[AuditEvent]:
    with store.read() as s:
        return list(
            s.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.entity == "client",
                    AuditEvent.entity_id == client_id,
                    AuditEvent.action == "update",
                )
                .order_by(col(AuditEvent.id))
            ).all()
        )


# ---------------------------------------------------------------- service


def _setup(store: Store) -> tuple[Any, Any, int]:
    ann = add_user(store, "ann", display_name="Ann Lee")
    sue = add_user(store, "sue", role="supervisor", display_name="Sue Park")
    cid = add_client(
        store,
        "Rosa",
        "Alvarez",
        ann,
        phone="(555) 010-2000",
        language="Spanish",
        best_time="mornings",
        pcp_name="Dr. N",
    )
    return ann, sue, cid


def test_second_save_sees_both_versions(any_store: Store) -> None:
    ann, sue, cid = _setup(any_store)
    ann_start = cs.load_for_edit(any_store, ann, cid)
    sue_start = cs.load_for_edit(any_store, sue, cid)
    # Sue saves first: a new phone and a new PCP.
    assert (
        cs.update_client(
            any_store,
            sue,
            cid,
            sue_start.version,
            {"phone": "(555) 111-1111", "pcp_name": "Dr. Q"},
            base=sue_start.values,
        )
        == 2
    )
    # Ann, from version 1: another phone, a language, and the PCP the same way as Sue.
    with pytest.raises(cs.ClientConflict) as caught:
        cs.update_client(
            any_store,
            ann,
            cid,
            ann_start.version,
            {"phone": "(555) 222-2222", "language": "English", "pcp_name": "Dr. Q"},
            base=ann_start.values,
        )
    conflict = caught.value
    # Nothing of Ann's was written.
    c = _client(any_store, cid)
    assert (c.phone, c.language, c.pcp_name, c.version) == ("(555) 111-1111", "Spanish", "Dr. Q", 2)
    assert conflict.version == 2 and conflict.changed_by == "Sue Park"
    assert conflict.changed_at is not None
    assert conflict.base["phone"] == "(555) 010-2000"
    assert conflict.mine == {
        "phone": "(555) 222-2222",
        "language": "English",
        "pcp_name": "Dr. Q",
    }
    assert conflict.theirs["phone"] == "(555) 111-1111"
    rows = {r.name: r for r in conflict.rows()}
    assert set(rows) == {"phone", "language", "pcp_name"}
    assert rows["phone"].state == "conflict"
    assert (rows["phone"].base, rows["phone"].theirs, rows["phone"].mine) == (
        "(555) 010-2000",
        "(555) 111-1111",
        "(555) 222-2222",
    )
    assert rows["language"].state == "mine"  # only Ann changed it
    assert rows["pcp_name"].state == "mine"  # both the same way
    assert [r.name for r in conflict.conflicts()] == ["phone"]
    # A merge needs a choice for each field in conflict.
    with pytest.raises(cs.ClientError, match="Phone"):
        cs.resolve_conflict(any_store, ann, conflict, {})
    # Keep their phone, Ann's language: saved against version 2.
    assert cs.resolve_conflict(any_store, ann, conflict, {"phone": "theirs"}) == 3
    c = _client(any_store, cid)
    assert (c.phone, c.language, c.pcp_name, c.best_time, c.version) == (
        "(555) 111-1111",
        "English",
        "Dr. Q",
        "mornings",
        3,
    )
    events = _updates(any_store, cid)
    assert [e.user_id for e in events] == [sue.id, ann.id]
    assert events[-1].detail == "edited (version 3): language"


def test_field_only_they_changed_is_kept(any_store: Store) -> None:
    ann, sue, cid = _setup(any_store)
    start = cs.load_for_edit(any_store, ann, cid)
    cs.update_client(any_store, sue, cid, 1, {"best_time": "evenings"}, base=start.values)
    with pytest.raises(cs.ClientConflict) as caught:
        cs.update_client(any_store, ann, cid, 1, {"phone": "(555) 333-3333"}, base=start.values)
    rows = {r.name: r for r in caught.value.rows()}
    assert rows["best_time"].state == "theirs" and rows["best_time"].theirs == "evenings"
    assert rows["phone"].state == "mine"
    assert caught.value.merged({}) == {"phone": "(555) 333-3333"}
    assert cs.resolve_conflict(any_store, ann, caught.value, {}) == 3
    c = _client(any_store, cid)
    # Neither change is lost.
    assert (c.best_time, c.phone) == ("evenings", "(555) 333-3333")


def test_a_merge_can_conflict_again(any_store: Store) -> None:
    ann, sue, cid = _setup(any_store)
    start = cs.load_for_edit(any_store, ann, cid)
    cs.update_client(any_store, sue, cid, 1, {"phone": "(555) 111-1111"})
    with pytest.raises(cs.ClientConflict) as first:
        cs.update_client(any_store, ann, cid, 1, {"phone": "(555) 222-2222"}, base=start.values)
    # While Ann chooses, Sue saves again.
    cs.update_client(any_store, sue, cid, 2, {"phone": "(555) 444-4444", "language": "Catalan"})
    with pytest.raises(cs.ClientConflict) as second:
        cs.resolve_conflict(any_store, ann, first.value, {"phone": "mine"})
    again = second.value
    assert again.version == 3
    # The base is what Ann merged against; her change is the merge.
    assert again.base["phone"] == "(555) 111-1111"
    assert again.mine == {"phone": "(555) 222-2222"}
    rows = {r.name: r for r in again.rows()}
    assert rows["phone"].state == "conflict" and rows["phone"].theirs == "(555) 444-4444"
    assert rows["language"].state == "theirs"
    assert _client(any_store, cid).phone == "(555) 444-4444"
    assert cs.resolve_conflict(any_store, ann, again, {"phone": "mine"}) == 4
    c = _client(any_store, cid)
    assert (c.phone, c.language, c.version) == ("(555) 222-2222", "Catalan", 4)


def test_no_lost_update_without_a_base(any_store: Store) -> None:
    """A caller that does not say what it started from: every differing change of
    theirs is a conflict (never merged over)."""
    ann, sue, cid = _setup(any_store)
    cs.update_client(any_store, sue, cid, 1, {"language": "English"})
    with pytest.raises(cs.ClientConflict) as caught:
        cs.update_client(any_store, ann, cid, 1, {"language": "Portuguese"})
    assert [r.name for r in caught.value.conflicts()] == ["language"]
    assert _client(any_store, cid).language == "English"


# ---------------------------------------------------------------- two app instances


def _org(url: str) -> int:
    store = open_store(url)
    try:
        store.set_meta("demo", "1")
        ann, _sue, cid = _setup(store)
        # Ann's caseload has someone else too, so the brief is not the only row.
        add_client(store, "Walter", "Brooks", ann)
        return cid
    finally:
        store.close()


def _app(url: str, user: str) -> Any:
    app = make_app(url, demo=True, user=user, settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    return app


async def _open_edit_form(pilot: Any, client_id: int) -> ClientForm:
    app = pilot.app
    await settle(pilot, lambda: app.viewer is not None, tries=100)
    await settle(pilot)
    app.push_screen(ClientScreen(client_id))
    await settle(pilot, lambda: getattr(app.screen, "brief", None) is not None)
    await pilot.press("e")
    await settle(pilot, lambda: isinstance(app.screen, ClientForm))
    return app.screen  # type: ignore[no-any-return]


async def _set(pilot: Any, form: ClientForm, field: str, text: str) -> None:
    box = form.query_one(f"#cf-{field}", Input)
    box.focus()
    await pilot.pause()
    box.value = ""
    await pilot.press(*text)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'team.db'}"
    return str(request.getfixturevalue("pg_url"))


async def test_two_instances_conflict_resolved_without_loss(shared_url: str) -> None:
    cid = _org(shared_url)
    app1, app2 = _app(shared_url, "sue"), _app(shared_url, "ann")
    async with app1.run_test(size=SIZE) as p1, app2.run_test(size=SIZE) as p2:
        form1 = await _open_edit_form(p1, cid)
        form2 = await _open_edit_form(p2, cid)
        assert form1.start is not None and form2.start is not None
        assert form1.start.version == form2.start.version == 1
        # Instance 1 (Sue) changes the phone and saves.
        await _set(p1, form1, "phone", "555-111-1111")
        await p1.press("ctrl+s")
        await settle(p1, lambda: isinstance(app1.screen, ClientScreen))
        # Instance 2 (Ann) changes the phone and the language and saves.
        await _set(p2, form2, "phone", "555-222-2222")
        await _set(p2, form2, "language", "English")
        await p2.press("ctrl+s")
        await settle(p2, lambda: isinstance(app2.screen, ConflictScreen))
        screen = app2.screen
        assert isinstance(screen, ConflictScreen)
        # Both versions, side by side: what Ann started from, Sue's, Ann's.
        rows = {r.key: r for r in screen.rows}
        assert set(rows) == {"phone", "language"}
        assert (rows["phone"].base, rows["phone"].theirs, rows["phone"].mine) == (
            "(555) 010-2000",
            "555-111-1111",
            "555-222-2222",
        )
        assert rows["phone"].auto is None
        assert rows["language"].auto == "mine"
        assert "Sue Park" in shown(screen.query_one("#conflict-explanation", Static))
        table = screen.query_one("#conflict-rows", DataTable)
        assert table.row_count == 2
        # Saving before choosing: told which field still needs a choice.
        await p2.press("ctrl+s")
        await settle(p2)
        assert "Phone" in shown(screen.query_one("#conflict-error", Static))
        assert isinstance(app2.screen, ConflictScreen)
        # The cursor starts on the phone: take theirs, keep my (merged) language.
        await p2.press("t")
        await p2.press("ctrl+s")
        await settle(p2, lambda: isinstance(app2.screen, ClientScreen))
        await settle(p2)
    store = open_store(shared_url)
    try:
        c = _client(store, cid)
        assert (c.phone, c.language, c.version) == ("555-111-1111", "English", 3)
        assert (c.best_time, c.pcp_name) == ("mornings", "Dr. N")
        events = _updates(store, cid)
        assert len(events) == 2
        assert [e.detail for e in events] == [
            "edited (version 2): phone",
            "edited (version 3): language",
        ]
        assert events[0].user_id != events[1].user_id
    finally:
        store.close()


async def test_conflict_screen_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    cid = _org(url)
    store = open_store(url)
    app = _app(url, "ann")
    try:
        async with app.run_test(size=SIZE) as pilot:
            form = await _open_edit_form(pilot, cid)
            # Someone saves underneath (another process on the same file).
            cs.update_client(
                store,
                _viewer(store, "sue"),
                cid,
                1,
                {"phone": "555-111-1111", "best_time": "noon"},
            )
            await _set(pilot, form, "phone", "555-222-2222")
            await _set(pilot, form, "best_time", "evenings")
            await pilot.press("ctrl+s")
            await settle(pilot, lambda: isinstance(app.screen, ConflictScreen))
            screen = app.screen
            assert isinstance(screen, ConflictScreen)
            assert [r.key for r in screen.open_rows] == ["phone", "best_time"]
            await pilot.press("M")
            assert screen.choices == {"phone": "mine", "best_time": "mine"}
            await pilot.press("T")
            assert screen.choices == {"phone": "theirs", "best_time": "theirs"}
            await pilot.press("m")  # on the phone row
            assert screen.choices["phone"] == "mine"
            # ? lists this screen's keys (a modal does not reach the app's).
            await pilot.press("question_mark")
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            keys = dict(app.screen.rows)
            assert keys["m"] == "Keep mine" and keys["T"] == "All theirs"
            assert "Save merge" in keys.values() and "Discard my edit" in keys.values()
            await pilot.press("escape")
            await settle(pilot, lambda: app.screen is screen)
            # Escape asks first; "keep editing" goes back to the choices.
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
            await pilot.press("n")
            await settle(pilot, lambda: app.screen is screen)
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
            await pilot.press("d")
            await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
            await settle(pilot)
        c = _client(store, cid)
        # Discarded: theirs stands, nothing of the discarded edit was written.
        assert (c.phone, c.best_time, c.version) == ("555-111-1111", "noon", 2)
    finally:
        store.close()


async def test_form_and_conflict_show_stored_text_literally(tmp_path: Path) -> None:
    """Stored names, codes and a colleague's display name are text, never markup or
    terminal controls, in the edit form and on the conflict screen."""
    from cm_tui.store.db import open_store as _open
    from tests.hostile import HOSTILE
    from tests.test_hostile_screens import assert_screen_safe, typed_text

    url = f"sqlite:///{tmp_path / 'team.db'}"
    store = _open(url)
    store.set_meta("demo", "1")
    ann = add_user(store, "ann", display_name="Ann Lee")
    add_user(store, "sue", role="supervisor", display_name="[bold]Sue[/bold] \x1b[31mBoss")
    given, family, language = HOSTILE[0], HOSTILE[13], HOSTILE[1]
    cid = add_client(
        store, given, family, ann, language=language, status="[red]odd[/red]", phone="555 0100"
    )
    app = _app(url, "ann")
    try:
        async with app.run_test(size=SIZE) as pilot:
            form = await _open_edit_form(pilot, cid)
            assert_screen_safe(app, [family, "[red]odd[/red]"], "edit form")
            assert given in typed_text(app) and language in typed_text(app)
            cs.update_client(store, _viewer(store, "sue"), cid, 1, {"language": "x \x1b[2J y"})
            await _set(pilot, form, "language", "English")
            await pilot.press("ctrl+s")
            await settle(pilot, lambda: isinstance(app.screen, ConflictScreen))
            assert_screen_safe(app, ["[bold]Sue[/bold]", language, "x", "y"], "conflict")
            # An untouched stored code outside the vocabulary is kept as it was.
            await pilot.press("m", "ctrl+s")
            await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        c = _client(store, cid)
        assert (c.language, c.status, c.given_name, c.version) == (
            "English",
            "[red]odd[/red]",
            given,
            3,
        )
    finally:
        store.close()
