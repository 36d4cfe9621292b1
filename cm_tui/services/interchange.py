"""What import and export share: the interchange columns and how values are written.

The columns come from the table models (`cm_tui.store.models` is the one place
that knows them); this module only says which of them are bookkeeping that a
panel file neither carries nor sets, and how a user reference travels (as a
username, since database ids mean nothing in another database).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table

from cm_tui.store.models import Client

ProgressFn = Callable[[str, int, int], None]


class InterchangeError(Exception):
    """A file cannot be read or written; the message is one line, fit to show the user."""


def table_of(model: Any) -> Table:
    table: Table = model.__table__
    return table


# Client columns a panel file does not carry: set by the database and the app.
CLIENT_BOOKKEEPING = frozenset(
    {"id", "created_at", "updated_at", "version", "last_contact_at", "last_reached_at"}
)
# User references travel as usernames under these names.
USER_REFERENCES = {"care_manager_id": "care_manager", "chw_id": "chw"}


def client_fields() -> tuple[str, ...]:
    """The interchange columns of a client, in model order (the CSV header)."""
    return tuple(
        USER_REFERENCES.get(c.name, c.name)
        for c in table_of(Client).columns
        if c.name not in CLIENT_BOOKKEEPING
    )


def client_column(field: str) -> str:
    """The table column behind an interchange field (``care_manager`` -> ``care_manager_id``)."""
    for column, name in USER_REFERENCES.items():
        if name == field:
            return column
    return field


# Utilization events travel keyed by the client's MRN; the source is "import".
EVENT_BOOKKEEPING = frozenset({"id", "client_id", "source"})


def event_fields() -> tuple[str, ...]:
    from cm_tui.store.models import UtilizationEvent

    return (
        "mrn",
        *(c.name for c in table_of(UtilizationEvent).columns if c.name not in EVENT_BOOKKEEPING),
    )


# ---------------------------------------------------------------- values


def csv_text(value: Any) -> str:
    """A stored value as CSV text: empty for NULL, ISO 8601 for times, JSON for structures."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def json_value(value: Any) -> Any:
    """A stored value as JSON: times as ISO 8601 text, everything else as is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- files


def open_private(path: Path) -> IO[str]:
    """Create or truncate ``path`` for writing text, readable by its owner only (0600).

    PHI leaves the database through these files, so they are never created with
    the umask's permissions, and an existing file is tightened before it is written.
    """
    if path.is_dir():
        raise InterchangeError(f"{path} is a folder; give a file name.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise InterchangeError(f"{path}: cannot write ({exc.strerror}).") from exc
    with contextlib.suppress(OSError):  # e.g. a file system without modes
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def private_dir(path: Path) -> Path:
    """A folder for export files (created 0700 when new)."""
    if path.exists() and not path.is_dir():
        raise InterchangeError(f"{path} is a file; give a folder for the FHIR bundles.")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InterchangeError(f"{path}: cannot create folder ({exc.strerror}).") from exc
    if not os.access(path, os.W_OK):
        raise InterchangeError(f"{path}: permission denied (cannot write here).")
    return path
