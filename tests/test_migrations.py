"""Schema upgrades: a database at an older revision is backed up, then brought to the head."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from cm_tui.store.db import Store, _sqlite_engine, current_revision, open_store
from cm_tui.store.migrate import upgrade
from cm_tui.store.models import Client
from cm_tui.store.schema_version import SCHEMA_HEAD

# File backups made before a SQLite upgrade: not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

NEW_0002 = {
    "ix_clients_cm_status_name",
    "ix_clients_cm_status_risk",
    "ix_clients_cm_status_last",
    "ix_clients_cm_status_dob",
    "ix_clients_chw_status_name",
    "ix_clients_status_name",
    "ix_clients_status_risk",
    "ix_clients_status_last",
    "ix_clients_status_dob",
    "ix_clients_program",
}
DROPPED_0002 = {"ix_clients_cm_last_contact", "ix_clients_cm_risk"}


def indexes(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clients'"
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def revision_of(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return str(con.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        con.close()


def database_at(path: Path, revision: str) -> None:
    """A database migrated only up to ``revision``, holding one client."""
    path.touch(mode=0o600)
    store = Store(engine=_sqlite_engine(path), url=f"sqlite:///{path}", path=path)
    try:
        upgrade(store, backup_first=False, target=revision)
        assert current_revision(store) == revision
        with store.write() as s:
            s.add(Client(given_name="Ana", family_name="Zapata", status="active"))
    finally:
        store.close()


def test_0001_database_is_backed_up_then_upgraded_to_0002(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    database_at(db, "0001_baseline")
    assert indexes(db) & NEW_0002 == set()
    assert indexes(db) >= DROPPED_0002

    store = open_store(f"sqlite:///{db}")  # the start path upgrades a database that is behind
    try:
        assert current_revision(store) == SCHEMA_HEAD  # 0002 and everything after it
        with store.read() as s:
            assert list(s.exec(select(Client.family_name)).all()) == ["Zapata"]
    finally:
        store.close()
    assert indexes(db) >= NEW_0002
    assert not DROPPED_0002 & indexes(db)

    [backup] = list(tmp_path.glob("cm.db.pre-upgrade-*.bak"))
    assert revision_of(backup) == "0001_baseline"  # taken before the upgrade touched anything
    assert indexes(backup) >= DROPPED_0002
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    con = sqlite3.connect(backup)
    try:
        assert con.execute("SELECT family_name FROM clients").fetchall() == [("Zapata",)]
    finally:
        con.close()


def test_0002_downgrades_to_0001(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    database_at(db, SCHEMA_HEAD)
    store = Store(engine=_sqlite_engine(db), url=f"sqlite:///{db}", path=db)
    try:
        from alembic import command

        from cm_tui.store.migrate import alembic_config

        command.downgrade(alembic_config(store), "0001_baseline")
        assert current_revision(store) == "0001_baseline"
    finally:
        store.close()
    assert indexes(db) >= DROPPED_0002
    assert not NEW_0002 & indexes(db)


def test_an_up_to_date_database_is_not_backed_up(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    open_store(f"sqlite:///{db}").close()
    open_store(f"sqlite:///{db}").close()
    assert list(tmp_path.glob("*.bak")) == []


def test_model_indexes_of_clients_are_the_migrated_ones(tmp_path: Path) -> None:
    """Guards against a model index without its migration (or the reverse)."""
    from sqlmodel import SQLModel

    declared = {ix.name for ix in SQLModel.metadata.tables["clients"].indexes}
    db = tmp_path / "cm.db"
    database_at(db, SCHEMA_HEAD)
    assert declared == indexes(db) - {None} - {
        n for n in indexes(db) if n.startswith("sqlite_autoindex")
    }
