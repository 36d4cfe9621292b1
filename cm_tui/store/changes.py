"""Live refresh: notice when anyone (a colleague, the CLI, an import) changed the data.

:class:`ChangeWatcher` runs in a thread and calls ``callback(topics)`` with the set
of tables that changed (``follow_ups``, ``clients``, ``contacts``, ``needs``). The
database keeps the feed (migration ``0005_change_feed``), so every writer counts:

- SQLite: every ``interval`` seconds a dedicated read-only connection asks
  ``PRAGMA data_version`` (changes when any other connection commits) and, only
  then, one cheap single-row read of the signals: ``max(id)`` of each table (inserts)
  and the ``meta`` counters its UPDATE/DELETE triggers bump.
- PostgreSQL: a dedicated connection ``LISTEN``s on ``cm_tui_changes``; statement
  triggers notify ``<schema>:<table>`` at commit. Notifications arriving within
  ``batch`` seconds are reported together. If the connection drops it reconnects
  with a backoff, and then reports every topic as changed (what was missed while
  disconnected is unknown).

Writes by the watching process itself are reported too: a caller that already
reloaded after its own write gets a cheap no-op reload.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from cm_tui.store.db import Store

log = logging.getLogger(__name__)

TOPICS: tuple[str, ...] = ("follow_ups", "clients", "contacts", "needs")
CHANNEL = "cm_tui_changes"
COUNTER_PREFIX = "change_seq."
POLL_INTERVAL = 2.0  # seconds between SQLite polls
PG_BATCH = 0.5  # seconds of PostgreSQL notifications reported together
RECONNECT_MAX = 30.0  # seconds: the longest wait between reconnect attempts

Callback = Callable[[frozenset[str]], None]

_SIGNALS_SQL = "SELECT " + ", ".join(
    f"(SELECT max(id) FROM {t}), (SELECT value FROM meta WHERE key = '{COUNTER_PREFIX}{t}')"
    for t in TOPICS
)


class ChangeWatcher:
    """Watches the store for changes by anyone; ``start()`` once, ``stop()`` at exit."""

    def __init__(
        self,
        store: Store,
        callback: Callback,
        *,
        interval: float = POLL_INTERVAL,
        batch: float = PG_BATCH,
        reconnect_max: float = RECONNECT_MAX,
    ) -> None:
        self.store = store
        self.callback = callback
        self.interval = interval
        self.batch = batch
        self.reconnect_max = reconnect_max
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._seen: dict[str, tuple[Any, Any]] | None = None  # SQLite: the last signals
        self._healthy = False  # connected since the last failure

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cm-tui-change-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        backoff = min(1.0, self.reconnect_max)
        failed = False
        while not self._stop.is_set():
            try:
                if self.store.is_sqlite:
                    self._poll_sqlite()
                else:
                    self._listen_postgresql(report_all_first=failed)
                return  # only returns when asked to stop
            except Exception as exc:
                if self._healthy:  # it had worked: start the backoff again
                    backoff = min(1.0, self.reconnect_max)
                self._healthy = False
                log.warning("change watcher: %s; retrying in %.1f s", exc, backoff)
                failed = True
            finally:
                self._close()
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self.reconnect_max)

    def _report(self, topics: set[str]) -> None:
        if not topics or self._stop.is_set():
            return
        try:
            self.callback(frozenset(topics))
        except Exception:
            log.exception("change watcher: the callback failed")

    def _close(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pragma: no cover - closing a broken connection
                log.debug("change watcher: closing the connection failed", exc_info=True)

    # SQLite --------------------------------------------------------------

    def _poll_sqlite(self) -> None:
        path = self.store.path
        assert path is not None
        conn = sqlite3.connect(
            str(path),
            timeout=self.store.busy_timeout_ms / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
        self._connection = conn
        conn.execute("PRAGMA query_only=1")
        seen_version: int | None = None
        if self._seen is None:
            self._seen = self._signals(conn)
        self._healthy = True
        while not self._stop.wait(self.interval):
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            if version == seen_version:
                continue
            seen_version = version
            now, before = self._signals(conn), self._seen
            self._seen = now
            self._report({t for t in TOPICS if now[t] != before[t]})

    @staticmethod
    def _signals(conn: sqlite3.Connection) -> dict[str, tuple[Any, Any]]:
        row = conn.execute(_SIGNALS_SQL).fetchone()
        return {t: (row[2 * i], row[2 * i + 1]) for i, t in enumerate(TOPICS)}

    # PostgreSQL ----------------------------------------------------------

    def _listen_postgresql(self, *, report_all_first: bool) -> None:
        engine = self.store.engine
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        conn = engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
        self._connection = conn
        conn.autocommit = True
        conn.execute(f"LISTEN {CHANNEL}")
        schema = str(conn.execute("SELECT current_schema()").fetchone()[0])
        self._healthy = True
        if report_all_first:  # reconnected: whatever happened meanwhile is unknown
            self._report(set(TOPICS))
        while not self._stop.is_set():
            topics: set[str] = set()
            for note in conn.notifies(timeout=self.batch):
                where, _, table = note.payload.partition(":")
                if where == schema and table in TOPICS:
                    topics.add(table)
            self._report(topics)
