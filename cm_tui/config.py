"""Paths and settings: options, then environment, then the TOML config file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "cm-tui"


def data_dir() -> Path:
    if env := os.environ.get("CM_TUI_DATA_DIR"):
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    if env := os.environ.get("CM_TUI_CONFIG"):
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_db_path(demo: bool = False) -> Path:
    return data_dir() / ("demo.db" if demo else "cm-tui.db")


@dataclass
class Settings:
    database_url: str | None = None
    db_path: str | None = None
    idle_lock_minutes: float = 10.0
    callback_window: str = "same business day"
    flag_protocol: str = (
        "Follow your organisation's safety protocol now: stay with the person, "
        "ask about immediate danger, and contact your supervisor or the crisis line "
        "(988 in the US) before you end the call."
    )
    scripts_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file if there is one; a broken file is an error the user sees."""
    path = path or config_path()
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"config file {path}: {exc}") from exc
    settings = Settings()
    for key, value in values.items():
        if hasattr(settings, key) and key != "extra":
            setattr(settings, key, value)
        else:
            settings.extra[key] = value
    return settings


def resolve_database_url(db: str | None, database_url: str | None, *, demo: bool = False) -> str:
    """Options first, then environment, then config file, then the default file."""
    if database_url:
        return database_url
    if db:
        return sqlite_url(Path(db))
    if demo:
        return sqlite_url(default_db_path(demo=True))
    if env := os.environ.get("CM_TUI_DATABASE_URL"):
        return env
    if env := os.environ.get("CM_TUI_DB"):
        return sqlite_url(Path(env))
    settings = load_settings()
    if settings.database_url:
        return settings.database_url
    if settings.db_path:
        return sqlite_url(Path(settings.db_path).expanduser())
    return sqlite_url(default_db_path())


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().absolute()}"
