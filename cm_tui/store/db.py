"""Opening the database: the one function every caller uses is :func:`open_store`.

SQLite settings and why:
- ``journal_mode=WAL``: readers never block the writer, so two cm-tui processes
  on one file both work.
- ``synchronous=FULL``: a contact note is a legal record; FULL makes every
  commit durable against power loss as well as a process crash. Commits are
  interactive and small, so the extra fsync is not felt (bulk loads batch rows).
- ``foreign_keys=ON`` and ``busy_timeout``: integrity, and waiting for a lock
  instead of surfacing "database is locked". The wait is 30 s unless
  ``CM_TUI_BUSY_TIMEOUT_MS`` (or ``open_store(busy_timeout_ms=...)``) says otherwise.
- Write transactions start with ``BEGIN IMMEDIATE``, so a transaction that reads
  then writes never fails to upgrade its lock (the classic SQLITE_BUSY trap). The
  BEGIN is the only statement that waits for another writer; if it still meets
  SQLITE_BUSY it is retried a bounded number of times within the same timeout,
  each retry logged, and then the user gets one line (:class:`StoreError`).
- A failed write (busy, disk full, read-only, I/O error, damaged file) is rolled
  back and raised as a one-line :class:`StoreError` saying nothing was saved.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, create_engine

from cm_tui.store.schema_version import KNOWN_REVISIONS, SCHEMA_HEAD

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
BUSY_TIMEOUT_ENV = "CM_TUI_BUSY_TIMEOUT_MS"
BEGIN_ATTEMPTS = 5  # BEGIN IMMEDIATE tries per write transaction, all within the busy timeout


class StoreError(Exception):
    """A problem opening or using the database, worded for the person at the keyboard."""


@dataclass
class Store:
    engine: Engine
    url: str
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    busy_timeout_ms: int = BUSY_TIMEOUT_MS

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed.

        Closing (not rolling back) ends the transaction without expiring the
        loaded objects, so callers can use them after the block.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Database failures (busy past the timeout, disk full, read-only, I/O error,
        damaged file) are raised as a one-line :class:`StoreError`; nothing of the
        block is kept.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            if self.is_sqlite:
                self._begin_immediate(session)
            try:
                yield session
                session.commit()
            except (DBAPIError, sqlite3.Error) as exc:  # sqlite3's own: raw-cursor bulk writes
                session.rollback()
                problem = self.failure(exc)
                if problem is None:
                    raise
                raise problem from exc
            except BaseException:
                session.rollback()
                raise

    def _begin_immediate(self, session: Session) -> None:
        """``BEGIN IMMEDIATE``, retried (bounded, logged) if it meets SQLITE_BUSY.

        SQLite's busy handler already waits up to the busy timeout inside one BEGIN;
        a retry only happens when BUSY came back early (SQLite skips the handler
        when waiting could deadlock, or while another connection recovers the WAL).
        """
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            try:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                return
            except DBAPIError as exc:
                session.rollback()
                problem = self.failure(exc)
                if problem is None:
                    raise
                if sqlite_error_code(exc) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise problem from exc
                left = deadline - time.monotonic()
                if attempt == BEGIN_ATTEMPTS or left <= 0:
                    log.error(
                        "%s: no write lock after %d attempt(s) in %.1f s; giving up",
                        self.describe(),
                        attempt,
                        self.busy_timeout_ms / 1000 - left,
                    )
                    raise problem from exc
                pause = min(left, 0.05 * 2**attempt)
                log.warning(
                    "%s: database busy at BEGIN (attempt %d of %d); retrying in %.2f s",
                    self.describe(),
                    attempt,
                    BEGIN_ATTEMPTS,
                    pause,
                )
                time.sleep(pause)

    def failure(self, exc: BaseException) -> StoreError | None:
        """The one-line :class:`StoreError` for a database failure a user can meet."""
        code = sqlite_error_code(exc)
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            seconds = self.busy_timeout_ms / 1000
            return StoreError(
                f"The database is busy: another program has held it for over {seconds:g} s. "
                "Nothing was saved; try again."
            )
        if code == sqlite3.SQLITE_FULL:
            return StoreError(
                f"The disk holding {self.describe()} is full. "
                "Nothing was saved; free some space and try again."
            )
        if code == sqlite3.SQLITE_READONLY:
            return StoreError(
                f"{self.describe()} is read-only (file permissions, a read-only disk, or "
                "another program). Nothing was saved."
            )
        if code == sqlite3.SQLITE_IOERR:
            return StoreError(
                f"The disk reported an error writing {self.describe()}. "
                "Nothing was saved; check the disk and try again."
            )
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return StoreError(
                f"{self.describe()} is damaged; nothing was saved. "
                "Run `cm-tui db check` and restore from a backup."
            )
        return None

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key}).first()
            return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        from cm_tui.store.models import Meta

        with self.write() as session:
            session.merge(Meta(key=key, value=value))

    @property
    def is_demo(self) -> bool:
        return self.get_meta("demo") == "1"

    def close(self) -> None:
        self.engine.dispose()

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        return make_url(self.url).render_as_string(hide_password=True)


def sqlite_error_code(exc: BaseException) -> int | None:
    """The primary SQLite result code behind an error (SQLAlchemy-wrapped or not)."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def resolve_busy_timeout(explicit: int | None = None) -> int:
    """The lock wait: ``explicit``, else ``CM_TUI_BUSY_TIMEOUT_MS``, else 30 s."""
    if explicit is not None:
        value: int | str = explicit
    else:
        value = os.environ.get(BUSY_TIMEOUT_ENV, "").strip() or BUSY_TIMEOUT_MS
    try:
        ms = int(value)
    except ValueError:
        raise StoreError(
            f"{BUSY_TIMEOUT_ENV}={value!r}: give the lock wait in milliseconds, e.g. 30000."
        ) from None
    if ms < 0:
        raise StoreError(f"{BUSY_TIMEOUT_ENV}={ms}: the lock wait cannot be negative.")
    return ms


def _check_sqlite_path(path: Path, *, create: bool) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a database file.")
    if path.exists():
        if not os.access(path, os.R_OK):
            raise StoreError(f"{path}: permission denied (cannot read).")
        with path.open("rb") as fh:
            head = fh.read(16)
        if head and head != SQLITE_HEADER:
            raise StoreError(f"{path} is not a cm-tui database (not a SQLite file).")
        if not os.access(path, os.W_OK):
            raise StoreError(f"{path}: permission denied (cannot write).")
        if not os.access(path.parent, os.W_OK):
            raise StoreError(
                f"{path.parent}: folder is not writable (SQLite needs it for its journal)."
            )
        return
    if not create:
        raise StoreError(f"{path}: no such database.")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(f"{parent}: cannot create folder ({exc.strerror}).") from exc
    if not parent.is_dir():
        raise StoreError(f"{parent} is not a folder.")
    if not os.access(parent, os.W_OK):
        raise StoreError(f"{parent}: permission denied (cannot create the database here).")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot create ({exc.strerror}).") from exc
    os.close(fd)


def _sqlite_engine(path: Path, busy_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _secure_sqlite_files(path: Path) -> list[str]:
    """Narrow the database and its WAL/SHM to 0600; say so if they were open to others."""
    warnings: list[str] = []
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = candidate.stat().st_mode if candidate.exists() else 0
            if mode & 0o077:
                candidate.chmod(0o600)
                warnings.append(
                    f"{candidate} was readable by other users (mode {mode & 0o777:o}); "
                    "it holds health information, so it is now 600 (owner only)."
                )
        except OSError as exc:
            warnings.append(f"{candidate}: could not restrict access ({exc.strerror}).")
    if path.parent.exists() and path.parent.stat().st_mode & 0o077:
        warnings.append(
            f"{path.parent} can be listed by other users; consider `chmod 700 {path.parent}`."
        )
    return warnings


def open_store(
    url: str,
    *,
    create: bool = True,
    migrate: bool = True,
    busy_timeout_ms: int | None = None,
) -> Store:
    """Open (and, when asked, create and migrate) the database at ``url``.

    Raises :class:`StoreError` with a one-line message for every problem a user
    can cause: a folder instead of a file, no permission, not a database, a
    schema from a newer cm-tui.

    ``busy_timeout_ms``: how long a write waits for another program's lock (SQLite);
    default ``CM_TUI_BUSY_TIMEOUT_MS``, else 30 s.
    """
    busy_ms = resolve_busy_timeout(busy_timeout_ms)
    parsed = make_url(url)
    path: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError("an in-memory database cannot be shared; give a file path.")
        path = Path(parsed.database).expanduser().absolute()
        _check_sqlite_path(path, create=create)
        old_umask = os.umask(0o077)
        try:
            engine = _sqlite_engine(path, busy_ms)
            store = Store(engine=engine, url=url, path=path, busy_timeout_ms=busy_ms)
            _prepare(store, migrate=migrate)
        finally:
            os.umask(old_umask)
        store.warnings.extend(_secure_sqlite_files(path))
        return store
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_pre_ping=True)
        store = Store(engine=engine, url=url)
        _prepare(store, migrate=migrate)
        return store
    raise StoreError(
        f"unsupported database URL {parsed.drivername!r}: use a file path or postgresql"
    )


def current_revision(store: Store) -> str | None:
    """The schema revision recorded in the database, None for an empty database."""
    with store.engine.connect() as conn:
        insp = inspect(conn)
        if insp.has_table("alembic_version"):
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if row is None else str(row[0])
        if insp.get_table_names():
            raise StoreError(
                f"{store.describe()} holds tables but no cm-tui schema version; "
                "it is not a cm-tui database."
            )
    return None


def _prepare(store: Store, *, migrate: bool) -> None:
    try:
        revision = current_revision(store)
    except sqlite3.DatabaseError as exc:  # pragma: no cover - raised wrapped below
        raise StoreError(f"{store.describe()} is not a usable database ({exc}).") from exc
    except StoreError:
        store.close()
        raise
    except SQLAlchemyError as exc:
        store.close()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise StoreError(f"{store.describe()}: cannot open the database ({reason}).") from exc
    if revision == SCHEMA_HEAD:
        return
    if revision is not None and revision not in KNOWN_REVISIONS:
        store.close()
        raise StoreError(
            f"{store.describe()} was written by a newer cm-tui (schema {revision}); "
            "upgrade cm-tui to open it."
        )
    if not migrate:
        store.close()
        raise StoreError(
            f"{store.describe()} needs a schema upgrade; run `cm-tui db upgrade` first."
        )
    from cm_tui.store.migrate import upgrade

    try:
        upgrade(store, backup_first=revision is not None)
    except BaseException:
        store.close()  # no pooled connection outlives a failed upgrade
        raise
