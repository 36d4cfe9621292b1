"""The `cm-tui` command line: clear one-line errors, exit codes, db and user commands."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cm_tui.store.db import open_store
from cm_tui.store.schema_version import SCHEMA_HEAD
from tests.engine import ON_POSTGRESQL, db_args, db_url
from tests.factories import add_user


def cm(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    """Run the real entry point in a subprocess (no TTY, like CI)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cm_tui", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=120,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cm-tui: ")
    return lines[0]


@pytest.mark.sqlite_only
def test_db_that_is_a_directory(tmp_path: Path) -> None:
    line = one_clear_line(cm("--db", str(tmp_path)))
    assert "is a directory" in line


@pytest.mark.sqlite_only
def test_db_that_is_not_sqlite(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("Dear diary, this is not a database.\n")
    line = one_clear_line(cm("--db", str(bogus)))
    assert "not a SQLite file" in line


@pytest.mark.sqlite_only
def test_db_in_an_unwritable_place() -> None:
    # /proc is read-only for everyone, root included.
    line = one_clear_line(cm("--db", "/proc/cm-tui/cm.db"))
    assert "/proc" in line


@pytest.mark.sqlite_only
def test_db_from_a_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    open_store(f"sqlite:///{db}").close()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0099_future'")
    con.commit()
    con.close()
    line = one_clear_line(cm("--db", str(db)))
    assert "newer cm-tui" in line
    line = one_clear_line(cm("--db", str(db), "db", "check"))
    assert "newer cm-tui" in line


def test_demo_on_a_real_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    store = open_store(db_url(db))
    add_user(store, "ann")
    store.close()
    line = one_clear_line(cm(*db_args(db), "--demo"))
    assert "real data" in line


@pytest.mark.sqlite_only
def test_db_check_upgrade_and_backup(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    up = cm("--db", str(db), "db", "upgrade")
    assert up.returncode == 0 and SCHEMA_HEAD in up.stdout
    chk = cm("--db", str(db), "db", "check")
    assert chk.returncode == 0 and "integrity ok" in chk.stdout
    dest = tmp_path / "copy.db"
    bk = cm("--db", str(db), "db", "backup", str(dest))
    assert bk.returncode == 0, bk.stderr
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    again = cm("--db", str(db), "db", "backup", str(dest))
    assert "already exists" in one_clear_line(again)


def test_user_add_passwd_deactivate(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    env = {"CM_TUI_PASSWORD": "a-long-password"}
    add = cm(*db_args(db), "user", "add", "maria", "--role", "supervisor", env=env)
    assert add.returncode == 0, add.stderr
    dup = cm(*db_args(db), "user", "add", "maria", env=env)
    assert "already exists" in one_clear_line(dup)
    short = cm(*db_args(db), "user", "add", "li", env={"CM_TUI_PASSWORD": "short"})
    assert "at least" in one_clear_line(short)
    no_tty = cm(*db_args(db), "user", "add", "li", env={"CM_TUI_PASSWORD": ""})
    assert "CM_TUI_PASSWORD" in one_clear_line(no_tty)
    pw = cm(*db_args(db), "user", "passwd", "maria", env={"CM_TUI_PASSWORD": "another-pass1"})
    assert pw.returncode == 0
    off = cm(*db_args(db), "user", "deactivate", "maria")
    assert off.returncode == 0

    from cm_tui.services import auth

    store = open_store(db_url(db))
    try:
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, "maria", "another-pass1", sleep=False)
        auth.set_active(store, "maria", True)
        assert auth.authenticate(store, "maria", "another-pass1", sleep=False).role == "supervisor"
    finally:
        store.close()


def test_demo_data_builds_a_marked_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = cm(*db_args(db), "demo-data", "--clients", "60", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert "60 clients" in result.stdout and "password is 'demo'" in result.stdout
    if not ON_POSTGRESQL:
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    store = open_store(db_url(db))
    try:
        assert store.is_demo
    finally:
        store.close()
    again = cm(*db_args(db), "demo-data", "--clients", "10")
    assert again.returncode == 2 and "Traceback" not in again.stderr


def test_scripts_commands() -> None:
    listed = cm("scripts", "list")
    assert listed.returncode == 0 and "ahc-hrsn" in listed.stdout


def test_help_and_version() -> None:
    assert cm("--help").returncode == 0
    assert "cm-tui" in cm("--version").stdout
