"""kill -9 with a typed-in contact form: the draft comes back on the next open (DESIGN §9).

The first session is a real `python -m cm_tui` process in a pseudo-terminal, driven by
keystrokes written to the terminal, exactly as a person would; it is killed with
SIGKILL once its debounced draft has reached the database. The second session opens
the same database and must offer the note back.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, TextArea

from cm_tui.app import make_app
from cm_tui.config import Settings
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.contact_form import ContactForm
from cm_tui.store.types import freeze_clock
from tests.snapshot_app import build_store
from tests.test_ui import settle, shown, table_names

pytestmark = [
    pytest.mark.crash,
    pytest.mark.sqlite_only,
    pytest.mark.skipif(sys.platform == "win32", reason="pty"),
]

NOTE = "Crash test: pt asked for a ride to dialysis Thu"


class Terminal:
    """A child process on a pseudo-terminal whose output is drained continuously."""

    def __init__(self, argv: list[str], env: dict[str, str], size: tuple[int, int]) -> None:
        master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output += chunk

    def seen(self, text: str) -> bool:
        with self._lock:
            return text.encode() in self.output

    def type(self, text: str) -> None:
        for ch in text:
            os.write(self.master, ch.encode())
            time.sleep(0.01)

    def kill9(self) -> int:
        os.kill(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.close(self.master)
        return code


def wait_for(check: Any, what: str, timeout: float = 30.0, detail: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f"; {detail()}" if detail else ""))


def draft_notes(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT payload FROM drafts WHERE kind = 'contact'").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    return [json.loads(r[0]).get("note", "") for r in rows if r[0]]


async def test_kill_9_with_a_typed_form_keeps_the_draft(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    build_store(db).close()
    freeze_clock(None)  # the child runs on the real clock; so does the second session

    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    argv = [sys.executable, "-m", "cm_tui", "--demo", "--db", str(db), "--user", "ann"]
    term = Terminal(argv, env, (100, 30))
    try:
        wait_for(lambda: term.seen("Alvarez, Rosa"), "the caseload", timeout=60)
        time.sleep(0.3)
        term.type("l")
        wait_for(lambda: term.seen("Next follow-up"), "the contact form")
        time.sleep(0.3)
        term.type(NOTE)
        term.type("\t7\t+2w")
        # The draft is saved as typed (debounced): wait until it is in the database,
        # then kill the process without any chance to clean up.
        wait_for(
            lambda: NOTE in draft_notes(db),
            "the draft in the database",
            detail=lambda: f"drafts: {draft_notes(db)!r}",
        )
        assert term.proc.poll() is None, "the app exited on its own"
    finally:
        code = term.kill9()
    assert code == -signal.SIGKILL

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert (
            conn.execute("SELECT count(*) FROM contacts WHERE note = ?", (NOTE,)).fetchone()[0] == 0
        )  # nothing was logged: it was only typed
    finally:
        conn.close()

    app = make_app(db=str(db), demo=True, user="ann", settings=Settings(idle_lock_minutes=0))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
        await settle(pilot, lambda: len(table_names(app)) == 7)
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        form = app.screen
        assert form.query_one("#note", TextArea).text == NOTE
        assert form.query_one("#minutes", Input).value == "7"
        assert form.query_one("#due", Input).value == "+2w"
        assert "Restored your unsaved draft" in shown(form.query_one("#restored", Static))
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    conn = sqlite3.connect(db)
    try:
        saved = conn.execute("SELECT duration_min FROM contacts WHERE note = ?", (NOTE,)).fetchall()
        assert saved == [(7,)]
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0
    finally:
        conn.close()
