"""Alembic environment: runs on the store's own engine, one transaction for all steps."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from cm_tui.store import models
from cm_tui.store.schema_version import include_object

models.load_all()  # registers every table
config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    store = config.attributes.get("store")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if store is None:
        raise RuntimeError("cm-tui migrations run through cm_tui.store.migrate")
    with store.engine.connect() as conn:
        if store.is_sqlite:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        _run(conn)
        conn.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        include_object=include_object,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported")
run_migrations_online()
