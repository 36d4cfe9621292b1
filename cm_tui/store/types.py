"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_frozen: datetime | None = None


def utcnow() -> datetime:
    """The current time, aware UTC: the app's one clock (tests and snapshots may freeze it)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze_clock(at: datetime | None) -> None:
    """Stop the clock at ``at`` (None restarts it). For tests, snapshots and benchmarks."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze_clock needs an aware datetime")
    _frozen = at


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every engine.

    PostgreSQL stores ``timestamptz``; SQLite has no zone, so values are stored as
    naive UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``, which sorts correctly) and
    come back aware. Naive datetimes are refused: a time without a zone is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware UTC datetime")
        aware: datetime = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return aware.replace(tzinfo=None)
        return aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """The text SQLite stores for a UTC timestamp (for bulk inserts that skip the ORM)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
