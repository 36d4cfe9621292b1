"""Shared fixtures: a fresh store on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from textual.app import App

from cm_tui.store.db import Store, open_store

PG_URL = os.environ.get("CM_TUI_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test ever reads or writes the real user's data or config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CM_TUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("CM_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.delenv("CM_TUI_DB", raising=False)
    monkeypatch.delenv("CM_TUI_DATABASE_URL", raising=False)


def pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped afterwards)."""
    if not PG_URL:
        pytest.skip("CM_TUI_TEST_DATABASE_URL not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(PG_URL, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _engines() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_engines())
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each configured engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        store = open_store(url)
        yield store
        store.close()
    else:
        url = request.getfixturevalue("pg_url")
        store = open_store(url)
        yield store
        store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield store
    store.close()


@pytest.fixture
def snap_compare(snap_compare: Any) -> Any:
    """pytest-textual-snapshot's snap_compare, with animations off in every app it shows.

    A tab underline caught mid-slide made snapshots flaky; with the animation level
    at "none" every animation jumps to its end, so a snapshot is what the user sees
    once the screen has settled.
    """

    def compare(app: Any, *args: Any, **kwargs: Any) -> bool:
        if isinstance(app, App):
            app.animation_level = "none"
        return bool(snap_compare(app, *args, **kwargs))

    return compare
