"""A migration that fails half-way leaves the database exactly as it was (DESIGN §4).

The real migration scripts are copied to a temporary folder with one more script
on top that changes data and schema and then raises. A database at the baseline
revision is opened: the start path backs it up, runs every later real migration
and then the failing one, all in one transaction - so nothing of it may remain.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from cm_tui.store import db as store_db
from cm_tui.store import migrate
from cm_tui.store.db import StoreError, open_store
from tests.test_migrations import database_at, revision_of

# Copies migration scripts onto SQLite files: not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

FAILING = '''
"""Test only: changes schema and data, then fails."""
import sqlalchemy as sa
from alembic import op

revision = "9999_fails_midway"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO half_done (id) VALUES (1)")
    op.execute("UPDATE clients SET family_name = 'CHANGED'")
    op.add_column("contacts", sa.Column("half_column", sa.Text))
    raise RuntimeError("step 3 of 4 failed (simulated)")


def downgrade() -> None:
    pass
'''


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def failing_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real scripts plus a failing one on top; the store believes it is the head."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrate.script_revisions()[-1]
    (folder / "versions" / "9999_fails_midway.py").write_text(FAILING.format(head=head))
    monkeypatch.setattr(migrate, "MIGRATIONS", folder)
    monkeypatch.setattr(
        store_db, "KNOWN_REVISIONS", (*store_db.KNOWN_REVISIONS, "9999_fails_midway")
    )
    monkeypatch.setattr(store_db, "SCHEMA_HEAD", "9999_fails_midway")
    return head


def test_a_failed_migration_leaves_the_original_untouched(
    tmp_path: Path, failing_migrations: str
) -> None:
    db = tmp_path / "cm.db"
    database_at(db, "0001_baseline")  # every later real migration will run, then the failing one
    before_dump, before_bytes = dump(db), digest(db)

    with pytest.raises(StoreError) as exc:
        open_store(f"sqlite:///{db}")
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(
        "schema upgrade failed: step 3 of 4 failed (simulated). Nothing was changed. "
        "The backup is at "
    )

    assert digest(db) == before_bytes  # byte for byte
    assert dump(db) == before_dump
    assert revision_of(db) == "0001_baseline"

    [backup] = tmp_path.glob("cm.db.pre-upgrade-*.bak")
    assert str(backup) in message
    assert dump(backup) == before_dump  # the backup is the original, taken before any step


def test_after_a_failed_migration_the_real_upgrade_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_migrations: str
) -> None:
    db = tmp_path / "cm.db"
    database_at(db, "0001_baseline")
    with pytest.raises(StoreError):
        open_store(f"sqlite:///{db}")
    # (Backup names have one-second resolution: a retry within the same second is
    # refused with "already exists", so the first backup is moved aside here.)
    [backup] = tmp_path.glob("cm.db.pre-upgrade-*.bak")
    backup.rename(tmp_path / "kept.bak")
    monkeypatch.undo()  # the next cm-tui release, without the broken script
    store = open_store(f"sqlite:///{db}")
    store.close()
    assert revision_of(db) == failing_migrations
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT family_name FROM clients").fetchall() == [("Zapata",)]
    finally:
        con.close()
