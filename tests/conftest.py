"""Shared fixtures: a fresh store on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from cm_tui.store.db import Store, open_store
from tests.engine import (
    ON_POSTGRESQL,
    PG_URL,
    create_schema,
    db_url,
    drop_created_schemas,
    drop_schema,
)
from tests.engine import pg_schema_url as pg_schema_url  # re-exported for tests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: tests SQLite itself; left out of the PostgreSQL pass"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass (CM_TUI_TEST_ENGINE=postgresql) runs what the first pass ran
    on SQLite only: tests of SQLite itself, and tests that already ran on both engines
    (the any_store and pg_url fixtures), are left out."""
    if not ON_POSTGRESQL:
        return
    keep, drop = [], []
    for item in items:
        names = getattr(item, "fixturenames", ())
        both = "any_store" in names or "pg_url" in names
        (drop if both or item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    yield
    if ON_POSTGRESQL:
        drop_created_schemas()


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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped afterwards)."""
    if not PG_URL:
        pytest.skip("CM_TUI_TEST_DATABASE_URL not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield create_schema(schema)
    finally:
        drop_schema(schema)


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
def engine_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on the engine under test (see tests/engine.py)."""
    store = open_store(db_url(tmp_path / "test.db"))
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
