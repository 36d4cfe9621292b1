"""Two processes writing one SQLite file at once (DESIGN §4, §9): no error reaches anyone,
every row each one committed is there, and the audit chain has not forked.

Each process is ``tests/crash_driver.py`` with a transaction count: contacts with a
follow-up, screening answers and completions, CSV panel imports, all through the
services, as two people on one database would. ``CM_TUI_CONCURRENCY_TX`` sets the
transactions per process (default 1,000).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import crash_driver as drv
from tests.test_crash_safety import DRIVER, Ledger, check

# Two processes on one SQLite file: not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

TRANSACTIONS = int(os.environ.get("CM_TUI_CONCURRENCY_TX", "1000"))
PROCESSES = 2


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")
def test_two_processes_writing_one_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    drv.setup_quietly(db)
    started = time.monotonic()
    procs = []
    for index in range(PROCESSES):
        seed = PROCESSES + index  # seed % PROCESSES == index: each keeps to its share
        err = (tmp_path / f"writer{index}.err").open("w")
        procs.append(
            (
                subprocess.Popen(
                    [
                        sys.executable,
                        str(DRIVER),
                        str(db),
                        "mixed",
                        str(seed),
                        str(TRANSACTIONS),
                        f"{index}/{PROCESSES}",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                ),
                err,
            )
        )
    ledger = Ledger()
    for proc, err in procs:
        out, _ = proc.communicate(timeout=600)
        err.close()
        assert proc.returncode == 0, Path(err.name).read_text()[-2000:]
        lines = out.splitlines()
        assert lines[-1] == f"DONE {TRANSACTIONS}"
        assert sum(line.startswith("COMMITTED ") for line in lines) == TRANSACTIONS
        for line in lines:
            ledger.add(line)
    seconds = time.monotonic() - started
    stderr = "".join(Path(err.name).read_text() for _p, err in procs)
    retries = stderr.count("database busy at BEGIN")
    # Nothing but logged BEGIN retries may be said: no error, no traceback, no warning.
    others = [ln for ln in stderr.splitlines() if ln and "database busy at BEGIN" not in ln]
    assert others == []

    found = check(db, ledger)
    assert (found.lost, found.half, found.broken) == ([], [], [])
    con = sqlite3.connect(db)
    try:
        contacts = con.execute("SELECT count(*) FROM contacts").fetchone()[0]
        answers = con.execute("SELECT count(*) FROM screening_answers").fetchone()[0]
        panel_rows = con.execute("SELECT count(*) FROM clients WHERE mrn LIKE 'P%'").fetchone()[0]
    finally:
        con.close()
    assert contacts == len(ledger.contacts)  # every one there, none twice
    assert answers == len(ledger.answers)
    assert panel_rows == len(ledger.imports) * drv.PANEL_ROWS
    print(
        f"\nconcurrency: {PROCESSES} processes x {TRANSACTIONS} transactions in {seconds:.1f} s; "
        f"{ledger.reported} committed, {found.rows} rows checked, 0 errors, "
        f"{retries} BEGIN retries logged; contacts {contacts}, answers {answers}, "
        f"imported clients {panel_rows}"
    )
