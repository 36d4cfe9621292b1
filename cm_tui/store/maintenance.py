"""Backups and integrity checks."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from cm_tui.store.db import Store, StoreError


def backup_sqlite(store: Store, dest: Path) -> Path:
    """A consistent copy through SQLite's online backup API, safe while the app is in use.

    The copy is created 0600 and written to a temporary name first, so a failed
    backup never leaves a half-written file under the destination name.
    """
    if store.path is None:
        raise StoreError(
            "backups of a PostgreSQL database are made with pg_dump (see README, Team mode)."
        )
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        dest = dest / f"{store.path.stem}-backup.db"
    if dest.exists():
        raise StoreError(f"{dest} already exists; choose a new name.")
    if not dest.parent.is_dir():
        raise StoreError(f"{dest.parent}: no such folder.")
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        src = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup to {dest} failed: {exc}") from exc
    return dest


@dataclass
class CheckReport:
    integrity: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.foreign_keys


def check(store: Store) -> CheckReport:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` (SQLite); a ping on PostgreSQL."""
    report = CheckReport()
    with store.engine.connect() as conn:
        if store.is_sqlite:
            report.integrity = [str(r[0]) for r in conn.execute(text("PRAGMA integrity_check"))]
            report.foreign_keys = [
                f"{r[0]} row {r[1]} → {r[2]}"
                for r in conn.execute(text("PRAGMA foreign_key_check"))
            ]
        else:
            conn.execute(text("SELECT 1"))
            report.integrity = ["ok"]
    return report
