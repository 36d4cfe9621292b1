"""A worker that fails shows one clear line and the typed text stays (DESIGN §9).

The database is made read-only under a running app (every new connection gets
``PRAGMA query_only``) while the contact form holds typed text: the draft-saving
worker fails and goes through the one handler of every screen
(``screens.base._ReportsWorkerErrors``); the save fails in its own worker and says
so beside the field. Neither loses the text; once the database can be written
again, the same form saves it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from textual.widgets import Static, TextArea

from cm_tui.screens.base import describe_error
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.contact_form import ContactForm
from cm_tui.services import drafts
from cm_tui.store.db import Store
from cm_tui.store.types import freeze_clock
from tests.snapshot_app import NOW, build_app
from tests.test_ui import settle, shown, table_names

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def notifications(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


class ReadOnly:
    """Make the store read-only (and writable again) under the running app."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _on_connect(self, dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only=ON")

    def __enter__(self) -> ReadOnly:
        event.listen(self.store.engine, "connect", self._on_connect)
        self.store.engine.dispose()
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.store.engine, "connect", self._on_connect)
        self.store.engine.dispose()


async def _form(pilot: Any) -> ContactForm:
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
    await settle(pilot, lambda: len(table_names(app)) == 7)
    await pilot.press("l")
    await settle(pilot, lambda: isinstance(app.screen, ContactForm))
    return app.screen


@pytest.mark.sqlite_only  # a read-only SQLite file
async def test_a_read_only_database_under_a_typed_form_keeps_the_text(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot)
        note = form.query_one("#note", TextArea)
        with ReadOnly(app.store):
            await pilot.press(*"Pt asked for a ride to dialysis")
            form.flush_draft()  # the draft write now, not after the typing pause
            await settle(pilot, lambda: any("read-only" in m for m in notifications(app)))
            [message] = [m for m in notifications(app) if "read-only" in m]
            assert message == (
                f"{db} is read-only (file permissions, a read-only disk, or another "
                "program). Nothing was saved."
            )
            assert app.screen is form and note.text == "Pt asked for a ride to dialysis"

            await pilot.press(*" Thu")  # typing on is fine; the same failure is not repeated
            form.flush_draft()
            await settle(pilot)
            assert sum("read-only" in m for m in notifications(app)) == 1

            await pilot.press("ctrl+s")  # the save fails too, and says so beside the field
            error = form.query_one("#form-error", Static)
            await settle(pilot, lambda: "Not saved" in shown(error))
            assert "read-only" in shown(error) and "Your text is still here" in shown(error)
            assert app.screen is form and note.text == "Pt asked for a ride to dialysis Thu"
        await pilot.press("ctrl+s")  # writable again: the same form saves it
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    con = sqlite3.connect(db)
    try:
        notes = [r[0] for r in con.execute("SELECT note FROM contacts ORDER BY id DESC LIMIT 1")]
    finally:
        con.close()
    assert notes == ["Pt asked for a ride to dialysis Thu"]


async def test_an_unexpected_error_in_a_worker_is_one_literal_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No traceback and no markup on screen (the traceback goes to the log)."""

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("[bold]boom[/bold] in the draft store\nTraceback (most recent call)")

    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot)
        monkeypatch.setattr(drafts, "save_draft", broken)
        await pilot.press(*"Left a message")
        form.flush_draft()
        await settle(pilot, lambda: any("boom" in m for m in notifications(app)))
        assert [m for m in notifications(app) if "boom" in m] == [
            "RuntimeError: [bold]boom[/bold] in the draft store"
        ]
        assert app.screen is form and form.query_one("#note", TextArea).text == "Left a message"
    assert any("worker" in r.getMessage() and r.exc_info for r in caplog.records)


def test_describe_error_is_one_short_line() -> None:
    from sqlalchemy.exc import OperationalError

    wrapped = OperationalError("INSERT INTO contacts ...", {}, sqlite3.OperationalError("nope"))
    assert describe_error(wrapped) == "OperationalError: nope"
    assert describe_error(ValueError("x" * 1000)).endswith("…")
    assert len(describe_error(ValueError("x" * 1000))) == 240
    assert describe_error(KeyError()) == "KeyError"
    assert describe_error(ValueError("esc \x1b[31m")) == "ValueError: esc ␛[31m"


@pytest.mark.sqlite_only  # on SQLite a caseload search reads on the UI thread
async def test_a_search_whose_read_fails_says_so_and_the_app_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read on the UI thread (read_here) that fails is reported like a failed
    worker's, not raised into the key handler, which would end the app."""
    from sqlalchemy.exc import OperationalError

    from cm_tui.store import queries

    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
        await settle(pilot, lambda: len(table_names(app)) == 7)
        before = table_names(app)

        def broken(*_a: Any, **_k: Any) -> Any:
            raise OperationalError("SELECT …", {}, sqlite3.OperationalError("disk I/O error"))

        monkeypatch.setattr(queries, "caseload_count", broken)
        await pilot.press("slash", "c")
        await settle(pilot, lambda: any("disk I/O error" in m for m in notifications(app)))
        assert app.is_running and isinstance(app.screen, CaseloadScreen)
        assert table_names(app) == before  # the rows it had, not half a result
        monkeypatch.undo()
        await pilot.press("h")
        await settle(pilot, lambda: table_names(app) == ["Chen, Mei"])
