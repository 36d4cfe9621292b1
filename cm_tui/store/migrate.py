"""Alembic, run programmatically (no alembic.ini). Imported only when the schema is behind."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from cm_tui.store.db import Store, StoreError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(store: Store) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["store"] = store
    return cfg


def script_revisions() -> list[str]:
    """Revision ids of the migration scripts, oldest first."""
    script = ScriptDirectory.from_config(alembic_config_without_store())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def alembic_config_without_store() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(store: Store, *, backup_first: bool, target: str = "head") -> Path | None:
    """Bring the schema to ``target``; back the database up first when it holds data.

    Each migration runs in a transaction; on SQLite the whole upgrade is one
    transaction, so a failed migration leaves the original untouched.
    """
    backup: Path | None = None
    if backup_first and store.path is not None:
        from cm_tui.store.maintenance import backup_sqlite

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = store.path.with_name(f"{store.path.name}.pre-upgrade-{stamp}.bak")
        n = 1
        while backup.exists():  # a retry within the same microsecond: never overwrite
            n += 1
            backup = store.path.with_name(f"{store.path.name}.pre-upgrade-{stamp}-{n}.bak")
        backup_sqlite(store, backup)
        log.info("backed up %s to %s before upgrading", store.path, backup)
    try:
        command.upgrade(alembic_config(store), target)
    except Exception as exc:
        where = f" The backup is at {backup}." if backup else ""
        raise StoreError(f"schema upgrade failed: {exc}. Nothing was changed.{where}") from exc
    return backup
