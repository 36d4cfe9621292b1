"""kill -9 at random moments: nothing committed is lost, nothing is half-written (DESIGN §9).

Each round starts ``tests/crash_driver.py`` on a database that earlier rounds have
already written to and killed, lets it write through the real services (contacts
with follow-ups, screening answers and completions, CSV panel imports) for a random
moment, and kills it with SIGKILL - sometimes before it has even finished opening the
database. Then the database is opened afresh and checked:

- ``PRAGMA integrity_check`` is ``ok``, ``foreign_key_check`` is empty, the name-search
  index passes its own integrity check and the audit hash chain verifies;
- every transaction the driver reported committed (in any round so far) is present,
  in full and with the exact text written;
- no transaction is half-present: a contact has its follow-up, its audit events, the
  client's last-contact time and no leftover draft; an answer has its audit event and
  the reverse; a completed screening has its audit event; an imported panel has all
  its rows, all from the same import, and that import's audit event - and an audit
  event never speaks of something that is not there.

Rounds: ``CM_TUI_CRASH_ROUNDS`` (default 25; ``make crash-test`` runs 200). The kill
times come from ``CM_TUI_CRASH_SEED`` (random unless set; printed, to replay a run).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cm_tui.store import audit
from cm_tui.store.db import open_store
from tests import crash_driver as drv

pytestmark = [
    pytest.mark.crash,
    pytest.mark.sqlite_only,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
]

DRIVER = Path(drv.__file__)
ROUNDS = int(os.environ.get("CM_TUI_CRASH_ROUNDS", "25"))
CHAINS = 2  # databases, each killed round after round; the chains run side by side
MODES = ["mixed", "mixed", "mixed", "contacts", "screenings", "imports"]
MAX_RUN = 1.2  # seconds of writing before the kill, at most
EARLY_KILL = 0.15  # share of rounds killed while the process is still starting


@dataclass
class Ledger:
    """Everything a driver of this chain reported committed, over all its rounds."""

    contacts: dict[int, tuple[int, str, int]] = field(default_factory=dict)
    screenings: set[int] = field(default_factory=set)
    answers: dict[tuple[int, str], str] = field(default_factory=dict)
    completed: set[int] = field(default_factory=set)
    imports: dict[str, int] = field(default_factory=dict)  # panel -> newest committed tag
    reported: int = 0

    def add(self, line: str) -> None:
        parts = line.split()
        if not parts or parts[0] != "COMMITTED":
            return
        kind, args = parts[1], parts[2:]
        self.reported += 1
        if kind == "contact":
            self.contacts[int(args[0])] = (int(args[1]), args[2], int(args[3]))
        elif kind == "screening":
            self.screenings.add(int(args[0]))
        elif kind == "answer":
            self.answers[(int(args[0]), args[1])] = args[2]
        elif kind == "complete":
            self.completed.add(int(args[0]))
        elif kind == "import":
            panel, tag = args[0], int(args[3])
            self.imports[panel] = max(tag, self.imports.get(panel, 0))
        else:
            raise AssertionError(f"unknown line from the driver: {line!r}")


@dataclass
class Findings:
    rows: int = 0  # rows looked at and found as they must be
    lost: list[str] = field(default_factory=list)  # reported committed, but missing or wrong
    half: list[str] = field(default_factory=list)  # part of a transaction without the rest
    broken: list[str] = field(default_factory=list)  # integrity, foreign keys, index, chain


IMPORT_DETAIL = re.compile(r"import clients from (?P<panel>P\d+)-at-(?P<tag>\d+)\.csv: ")


def check(db: Path, ledger: Ledger) -> Findings:
    """Everything the module docstring promises, on the database as a kill left it."""
    found = Findings()
    con = sqlite3.connect(db, timeout=30)  # opening replays or discards the WAL, as the app does
    try:
        _check_structure(con, found)
        _check_contacts(con, ledger, found)
        _check_screenings(con, ledger, found)
        _check_imports(con, ledger, found)
    finally:
        con.close()
    store = open_store(f"sqlite:///{db}", create=False)
    try:
        with store.read() as session:
            events, problem = audit.verify(session)
        if problem is not None:
            found.broken.append(f"audit chain: event {problem.event_id}: {problem.reason}")
        found.rows += events
    finally:
        store.close()
    return found


def _check_structure(con: sqlite3.Connection, found: Findings) -> None:
    integrity = [r[0] for r in con.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        found.broken.append(f"integrity_check: {integrity[:5]}")
    fks = con.execute("PRAGMA foreign_key_check").fetchall()
    if fks:
        found.broken.append(f"foreign_key_check: {fks[:5]}")
    try:
        con.execute("INSERT INTO client_fts(client_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        found.broken.append(f"name-search index: {exc}")
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    if not {"clients_fts_ai", "clients_fts_ad", "clients_fts_au"} <= triggers:
        found.broken.append(f"name-search triggers missing: only {sorted(triggers)}")


def _audit(con: sqlite3.Connection, entity: str) -> dict[int, list[str]]:
    events: dict[int, list[str]] = defaultdict(list)
    for entity_id, detail in con.execute(
        "SELECT entity_id, detail FROM audit_events WHERE entity = ?", (entity,)
    ):
        events[entity_id].append(detail or "")
    return events


def _check_contacts(con: sqlite3.Connection, ledger: Ledger, found: Findings) -> None:
    contacts = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT c.id, c.client_id, c.note, c.occurred_at, k.last_contact_at "
            "FROM contacts c JOIN clients k ON k.id = c.client_id"
        )
    }
    followups = {
        r[0]: r[1:]
        for r in con.execute("SELECT id, client_id, title FROM follow_ups WHERE title LIKE 'fu %'")
    }
    followup_of = {
        title.removeprefix(drv.FOLLOWUP_PREFIX): fid for fid, (_c, title) in followups.items()
    }
    contact_events, followup_events = _audit(con, "contact"), _audit(con, "follow_up")
    draft_notes = {
        json.loads(p).get("note")
        for (p,) in con.execute("SELECT payload FROM drafts WHERE kind = 'contact'")
        if p
    }
    tokens = set()
    for cid, (client_id, note, occurred, last_contact) in contacts.items():
        token = note.removeprefix(drv.NOTE_PREFIX).split(" ", 1)[0]
        tokens.add(token)
        fid = followup_of.get(token)
        what = f"contact {cid} ({token})"
        if fid is None or followups[fid][0] != client_id:
            found.half.append(f"{what} without its follow-up")
            continue
        if not any(d.startswith(f"client {client_id}:") for d in contact_events.get(cid, [])):
            found.half.append(f"{what} without its audit event")
        if not any(f"(with contact {cid})" in d for d in followup_events.get(fid, [])):
            found.half.append(f"{what}: follow-up {fid} without its audit event")
        if last_contact is None or last_contact < occurred:
            found.half.append(f"{what}: the client's last contact was not moved forward")
        if note in draft_notes:
            found.half.append(f"{what}: its draft outlived the save")
        found.rows += 4
    for fid, (_client, title) in followups.items():
        if title.removeprefix(drv.FOLLOWUP_PREFIX) not in tokens:
            found.half.append(f"follow-up {fid} ({title}) without its contact")
    for cid in contact_events.keys() - contacts.keys():
        found.half.append(f"an audit event for contact {cid}, which is not there")
    for fid in followup_events.keys() - followups.keys():
        found.half.append(f"an audit event for follow-up {fid}, which is not there")
    for cid, (fid, token, length) in ledger.contacts.items():
        row = contacts.get(cid)
        if row is None:
            found.lost.append(f"contact {cid} ({token})")
        elif row[1] != drv.note_for(token, length):
            found.lost.append(f"contact {cid} ({token}): the note is not the note written")
        elif followup_of.get(token) != fid:
            found.lost.append(f"contact {cid} ({token}): follow-up {fid}")


def _check_screenings(con: sqlite3.Connection, ledger: Ledger, found: Findings) -> None:
    screenings = {
        r[0]: r[1:] for r in con.execute("SELECT id, status, result_json FROM screenings")
    }
    answers = {
        (r[0], r[1]): json.loads(r[2])
        for r in con.execute("SELECT screening_id, item_id, option_ids FROM screening_answers")
    }
    events = _audit(con, "screening")
    drafts = {int(k) for (k,) in con.execute("SELECT key FROM drafts WHERE kind != 'contact'")}
    recorded = Counter(
        (sid, d.split()[1].rstrip(":"))
        for sid, details in events.items()
        for d in details
        if d.startswith("recorded ")
    )
    for (sid, item), _options in answers.items():
        if recorded[(sid, item)] != 1:
            found.half.append(f"answer {sid}/{item} with {recorded[(sid, item)]} audit events")
        found.rows += 1
    for (sid, item), n in recorded.items():
        if n and (sid, item) not in answers:
            found.half.append(f"an audit event for answer {sid}/{item}, which is not there")
    for sid, (status, result) in screenings.items():
        details = events.get(sid, [])
        if not any(d.startswith("started ") for d in details):
            found.half.append(f"screening {sid} without its 'started' audit event")
        done = any(d.startswith(f"completed {drv.SCRIPT}") for d in details)
        if (status == "completed") != done or (done and not result):
            found.half.append(f"screening {sid}: status {status} but completion audited: {done}")
        if status == "completed" and sid in drafts:
            found.half.append(f"screening {sid}: completed, but its draft is still there")
        found.rows += 1
    for sid in events.keys() - screenings.keys():
        found.half.append(f"an audit event for screening {sid}, which is not there")
    for sid in ledger.screenings - screenings.keys():
        found.lost.append(f"screening {sid}")
    for (sid, item), option in ledger.answers.items():
        if answers.get((sid, item)) != [option]:
            found.lost.append(f"answer {sid}/{item}={option}: found {answers.get((sid, item))}")
    for sid in ledger.completed:
        if screenings.get(sid, ("",))[0] != "completed":
            found.lost.append(f"completion of screening {sid}")


def _check_imports(con: sqlite3.Connection, ledger: Ledger, found: Findings) -> None:
    panels: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for mrn, phone, family in con.execute(
        "SELECT mrn, phone, family_name FROM clients WHERE mrn LIKE ?",
        (f"{drv.PANEL_PREFIX}%",),
    ):
        panels[mrn.rsplit("-", 1)[0]].append((mrn, phone, family))
    audited: dict[str, int] = {}
    for (detail,) in con.execute("SELECT detail FROM audit_events WHERE entity = 'client'"):
        m = IMPORT_DETAIL.match(detail or "")
        if m is None:
            found.broken.append(f"unexpected client audit event: {detail!r}")
            continue
        panel, tag = m["panel"], int(m["tag"])
        audited[panel] = max(tag, audited.get(panel, 0))
    for panel, rows in panels.items():
        tags = {phone for _m, phone, _f in rows}
        if len(rows) != drv.PANEL_ROWS or len(tags) != 1:
            found.half.append(f"panel {panel}: {len(rows)} rows, phones {sorted(tags)[:3]}")
            continue
        tag = int(tags.pop().removeprefix("555-"))
        if audited.get(panel) != tag:
            found.half.append(
                f"panel {panel}: rows from import {tag}, audit says {audited.get(panel)}"
            )
        if {f for _m, _p, f in rows} != {f"Panel{tag}"}:
            found.half.append(f"panel {panel}: names and phones from different imports")
        hits = con.execute(
            "SELECT count(*) FROM client_fts WHERE client_fts MATCH ?", (f'"Panel{tag}"',)
        ).fetchone()[0]
        if hits != drv.PANEL_ROWS:
            found.half.append(f"panel {panel}: {hits} of {drv.PANEL_ROWS} rows in name search")
        found.rows += len(rows)
    for panel in audited.keys() - panels.keys():
        found.half.append(f"an import of panel {panel} is audited, but its rows are not there")
    for panel, tag in ledger.imports.items():
        rows = panels.get(panel, [])
        if len(rows) != drv.PANEL_ROWS:
            found.lost.append(f"panel {panel}: {len(rows)} of {drv.PANEL_ROWS} rows")
        elif int(rows[0][1].removeprefix("555-")) < tag:
            found.lost.append(f"panel {panel}: the re-import {tag} was undone")


# ---------------------------------------------------------------- running rounds


@dataclass
class Round:
    lines: list[str]
    killed: bool
    early: bool
    stderr: str


def run_round(
    db: Path, mode: str, seed: int, rng: random.Random, *, run: float | None = None
) -> Round:
    """Start the driver, let it write for a random moment (or ``run`` s), SIGKILL it."""
    err = db.with_suffix(f".{seed}.err")
    with err.open("w") as err_fh:
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(db), mode, str(seed)],
            stdout=subprocess.PIPE,
            stderr=err_fh,
            text=True,
            start_new_session=True,
        )
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.endswith("\n"):  # a line cut by the kill was never reported
                    lines.append(line.strip())
                if line.startswith("READY"):
                    ready.set()
            ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        early = run is None and rng.random() < EARLY_KILL
        if early:
            time.sleep(rng.uniform(0, 0.8))  # while importing, opening, recovering the WAL
        else:
            ready.wait(timeout=60)
            time.sleep(rng.uniform(0, MAX_RUN) if run is None else run)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait(timeout=30)
        reader.join(timeout=30)
    stderr = err.read_text()
    err.unlink()
    return Round(lines, killed and code == -signal.SIGKILL, early, stderr)


@dataclass
class Chain:
    db: Path
    ledger: Ledger = field(default_factory=Ledger)
    rounds: int = 0
    kills: int = 0
    early: int = 0  # kills before the driver had said READY
    rows: int = 0
    lost: list[str] = field(default_factory=list)
    half: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_chain(chain: Chain, index: int, rounds: int, seed: int) -> Chain:
    rng = random.Random(seed * 1000 + index)
    for r in range(rounds):
        driver_seed = 1 + r * CHAINS + index  # increases round by round (see Driver.tag)
        mode = MODES[r % len(MODES)]
        outcome = run_round(chain.db, mode, driver_seed, rng)
        chain.rounds += 1
        for line in outcome.lines:
            chain.ledger.add(line)
        if outcome.killed:
            chain.kills += 1
            chain.early += outcome.early
        else:
            chain.failures.append(f"round {r} ({mode}): the driver exited: {outcome.stderr[-800:]}")
        found = check(chain.db, chain.ledger)
        chain.rows += found.rows
        where = f"round {r} ({mode}, seed {driver_seed})"
        chain.lost += [f"{where}: {x}" for x in found.lost]
        chain.half += [f"{where}: {x}" for x in found.half]
        chain.broken += [f"{where}: {x}" for x in found.broken]
        if found.lost or found.half or found.broken or chain.failures:
            break  # the database is evidence now: stop writing to it
    return chain


def test_kill_9_at_random_points_loses_nothing_committed(tmp_path: Path) -> None:
    seed = int(os.environ.get("CM_TUI_CRASH_SEED") or random.randrange(1_000_000))
    per_chain = [ROUNDS // CHAINS + (1 if i < ROUNDS % CHAINS else 0) for i in range(CHAINS)]
    chains = [Chain(tmp_path / f"chain{i}.db") for i in range(CHAINS)]
    for chain in chains:  # one at a time: Alembic's context is not thread-safe
        drv.setup_quietly(chain.db)
    started = time.monotonic()
    with ThreadPoolExecutor(CHAINS) as pool:
        done = list(pool.map(lambda i: run_chain(chains[i], i, per_chain[i], seed), range(CHAINS)))
    rounds = sum(c.rounds for c in done)
    kills = sum(c.kills for c in done)
    early = sum(c.early for c in done)
    reported = sum(c.ledger.reported for c in done)
    rows = sum(c.rows for c in done)
    lost = [x for c in done for x in c.lost]
    half = [x for c in done for x in c.half]
    broken = [x for c in done for x in c.broken]
    failures = [x for c in done for x in c.failures]
    summary = (
        f"crash harness (CM_TUI_CRASH_SEED={seed}): {rounds} rounds, {kills} kills (SIGKILL; "
        f"{early} while starting), "
        f"{reported} transactions reported committed, {rows} rows checked, "
        f"lost {len(lost)}, half-written {len(half)}, integrity problems {len(broken)}, "
        f"{time.monotonic() - started:.0f} s"
    )
    print("\n" + summary)
    if report := os.environ.get("CM_TUI_CRASH_REPORT"):
        Path(report).write_text(summary + "\n")
    assert not failures, failures[:3]
    assert not broken, broken[:10]
    assert not lost, lost[:10]
    assert not half, half[:10]
    assert rounds == kills == ROUNDS
    assert reported > ROUNDS  # the kills landed while transactions were being written


def _copy(db: Path, dest: Path) -> Path:
    src, dst = sqlite3.connect(db), sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return dest


def _tampered(db: Path, dest: Path, sql: str, *args: object) -> Path:
    con = sqlite3.connect(_copy(db, dest))
    try:
        assert con.execute(sql, args).rowcount >= 1, sql
        con.commit()
    finally:
        con.close()
    return dest


def test_the_checks_notice_lost_and_half_written_transactions(tmp_path: Path) -> None:
    """The harness can fail: each kind of damage it looks for is noticed."""
    db = tmp_path / "c.db"
    drv.setup_quietly(db)
    ledger = Ledger()
    rng = random.Random(7)
    for seed in range(1, 6):
        for line in run_round(db, "mixed", seed, rng, run=1.0).lines:
            ledger.add(line)
        if ledger.contacts and ledger.answers and ledger.imports:
            break
    assert ledger.contacts and ledger.answers and ledger.imports
    clean = check(db, ledger)
    assert (clean.lost, clean.half, clean.broken) == ([], [], [])

    contact_id, (followup_id, _token, _n) = next(iter(ledger.contacts.items()))
    (sid, item), _option = next(iter(ledger.answers.items()))
    panel = next(iter(ledger.imports))

    found = check(
        _tampered(db, tmp_path / "1.db", "DELETE FROM follow_ups WHERE id=?", followup_id), ledger
    )
    assert any("without its follow-up" in x for x in found.half)
    found = check(
        _tampered(db, tmp_path / "2.db", "DELETE FROM contacts WHERE id=?", contact_id), ledger
    )
    assert any(f"contact {contact_id} " in x for x in found.lost)
    assert any("without its contact" in x for x in found.half)
    found = check(
        _tampered(
            db,
            tmp_path / "3.db",
            "DELETE FROM screening_answers WHERE screening_id=? AND item_id=?",
            sid,
            item,
        ),
        ledger,
    )
    assert any(f"answer {sid}/{item}" in x for x in found.lost)
    assert any(f"answer {sid}/{item}, which is not there" in x for x in found.half)
    found = check(
        _tampered(
            db, tmp_path / "4.db", "DELETE FROM clients WHERE mrn = ?", drv.panel_mrn(panel, 7)
        ),
        ledger,
    )
    assert any(f"panel {panel}: {drv.PANEL_ROWS - 1} rows" in x for x in found.half)
    assert any(f"panel {panel}" in x for x in found.lost)
    found = check(
        _tampered(
            db,
            tmp_path / "5.db",
            "DELETE FROM audit_events WHERE entity='contact' AND entity_id=?",
            contact_id,
        ),
        ledger,
    )
    assert any("without its audit event" in x for x in found.half)
    assert any("audit chain" in x for x in found.broken)
