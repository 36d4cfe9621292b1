"""The benchmark databases: built once with `cm-tui demo-data`, cached in benchmarks/.data/."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).with_name(".data")
SEED = 1
DEMO_VERSION = 2  # bumped when `demo-data` makes a different organisation (2: up to 50 staff)


@dataclass
class Database:
    path: Path
    clients: int
    contacts: int
    followups: int
    built_seconds: float | None  # None: reused from the cache

    def describe(self) -> str:
        how = "reused" if self.built_seconds is None else f"built in {self.built_seconds:.0f} s"
        return (
            f"{self.clients:,} clients, {self.contacts:,} contacts, "
            f"{self.followups:,} follow-ups ({how}; {self.path})"
        )


def _counts(path: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return tuple(  # type: ignore[return-value]
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("clients", "contacts", "follow_ups")
        )
    finally:
        con.close()


def _bring_up_to_date(path: Path) -> None:
    """Apply any new migration now, so no timed start pays for it; drop the cache's backup."""
    from cm_tui.store.db import open_store

    before = set(path.parent.glob(f"{path.name}.pre-upgrade-*.bak"))
    open_store(f"sqlite:///{path}").close()
    for backup in set(path.parent.glob(f"{path.name}.pre-upgrade-*.bak")) - before:
        backup.unlink()


def demo_database(clients: int, data_dir: Path = DATA_DIR, *, log=print) -> Database:  # type: ignore[no-untyped-def]
    """The cached demo database with ``clients`` clients, built if missing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"demo-{clients}-seed{SEED}-v{DEMO_VERSION}.db"
    built: float | None = None
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        for leftover in data_dir.glob(partial.name + "*"):
            leftover.unlink()
        log(f"building {path.name}: cm-tui demo-data --clients {clients:,} (one time) …")
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cm_tui",
                "demo-data",
                "--db",
                str(partial),
                "--clients",
                str(clients),
                "--seed",
                str(SEED),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "CM_TUI_CONFIG": str(data_dir / "no-config.toml")},
        )
        built = time.monotonic() - started
        con = sqlite3.connect(partial)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(path)
    _bring_up_to_date(path)
    n_clients, n_contacts, n_followups = _counts(path)
    return Database(path, n_clients, n_contacts, n_followups, built)


def search_words(path: Path, username: str = "demo") -> list[str]:
    """Words a care manager would type: a common family name and given name on their list."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT c.family_name, c.given_name FROM clients c JOIN users u "
            "ON u.id = c.care_manager_id WHERE u.username = ? AND c.status = 'active' "
            "ORDER BY c.id LIMIT 400",
            (username,),
        ).fetchall()
    finally:
        con.close()
    words: list[str] = []
    for index in (0, 1):
        counts: dict[str, int] = {}
        for row in rows:
            word = row[index].split()[0].split("-")[0].lower()
            if word.isalpha() and len(word) >= 4:
                counts[word] = counts.get(word, 0) + 1
        if counts:
            words.append(max(sorted(counts), key=lambda w: counts[w])[:6])
    return words or ["smith"]
