"""Backups, integrity checks, and the counts the database keeps for the team view."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal_column, or_, select, text
from sqlmodel import Session, col

from cm_tui.store.db import Store, StoreError


def backup_sqlite(store: Store, dest: Path) -> Path:
    """A consistent copy through SQLite's online backup API, safe while the app is in use.

    The copy is created 0600 and written to a temporary name first, so a failed
    backup never leaves a half-written file under the destination name.
    """
    if store.path is None:
        raise StoreError(
            "backups of a PostgreSQL database are made with pg_dump (see README, Team mode)."
        )
    dest = dest.expanduser().absolute()
    if dest.is_dir():
        dest = dest / f"{store.path.stem}-backup.db"
    if dest.exists():
        raise StoreError(f"{dest} already exists; choose a new name.")
    if not dest.parent.is_dir():
        raise StoreError(f"{dest.parent}: no such folder.")
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        src = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup to {dest} failed: {exc}") from exc
    return dest


@dataclass
class CheckReport:
    integrity: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.foreign_keys


def check(store: Store) -> CheckReport:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` (SQLite); a ping on PostgreSQL."""
    report = CheckReport()
    with store.engine.connect() as conn:
        if store.is_sqlite:
            report.integrity = [str(r[0]) for r in conn.execute(text("PRAGMA integrity_check"))]
            report.foreign_keys = [
                f"{r[0]} row {r[1]} → {r[2]}"
                for r in conn.execute(text("PRAGMA foreign_key_check"))
            ]
        else:
            conn.execute(text("SELECT 1"))
            report.integrity = ["ok"]
    return report


# ---------------------------------------------------------------- the team view's counts

Figures = tuple[int, int, int, int]
# person_counts' columns, in the order of Figures, and what they count.
PERSON_COUNTS = (
    ("open_needs", "open needs"),
    ("cm_clients", "clients as care manager"),
    ("chw_clients", "clients as CHW"),
    ("open_followups", "open follow-ups"),
)


def _person_counts_from_rows(session: Session) -> dict[int, Figures]:
    """What ``person_counts`` should hold (migration 0007), counted from the rows:
    per person, open needs of their active clients (as care manager or CHW, once),
    active clients as care manager, as CHW, and open follow-ups."""
    from cm_tui.store.models import Client, FollowUp, Need
    from cm_tui.store.vocab import OPEN_NEED_STATUSES

    cm, chw = col(Client.care_manager_id), col(Client.chw_id)
    active = col(Client.status) == "active"
    out: dict[int, list[int]] = {}

    def add(at: int, rows: Any) -> None:  # rows of (count, person)
        for n, user_id in rows:
            out.setdefault(int(user_id), [0, 0, 0, 0])[at] += int(n)

    open_needs = (
        select(func.count())
        .select_from(Need)
        .join(Client, col(Client.id) == col(Need.client_id))
        .where(col(Need.status).in_(OPEN_NEED_STATUSES), active)
    )
    add(0, session.execute(open_needs.add_columns(cm).where(cm.is_not(None)).group_by(cm)))
    once = and_(chw.is_not(None), or_(cm.is_(None), chw != cm))
    add(0, session.execute(open_needs.add_columns(chw).where(once).group_by(chw)))
    clients = select(func.count()).select_from(Client).where(active)
    add(1, session.execute(clients.add_columns(cm).where(cm.is_not(None)).group_by(cm)))
    add(2, session.execute(clients.add_columns(chw).where(chw.is_not(None)).group_by(chw)))
    who = col(FollowUp.assignee_id)
    add(
        3,
        session.execute(
            select(func.count(), who)
            .where(col(FollowUp.status) == "open", who.is_not(None))
            .group_by(who)
        ),
    )
    return {u: (f[0], f[1], f[2], f[3]) for u, f in out.items() if any(f)}


def _contact_figures(hour: Any = None) -> Any:
    """Contacts, with the client or caregiver, reached, minutes: per person (and
    ``hour``, an expression of the contact's UTC hour, when given)."""
    from cm_tui.store.followup_queries import contact_figures
    from cm_tui.store.models import Contact

    keys = [col(Contact.user_id)] + ([hour] if hour is not None else [])
    return (
        select(*keys, *contact_figures()).where(col(Contact.user_id).is_not(None)).group_by(*keys)
    )


def counts_drift(store: Store) -> list[str]:
    """Where the counts kept for the team view differ from the rows they count, one
    line each: every person's counts, and each person's contact totals (the hours
    themselves are not compared). Empty when they agree. Reads every contact: for a
    maintenance check, not the app."""
    from cm_tui.store.followup_queries import kept_hour_figures
    from cm_tui.store.models import ContactHour, PersonCounts

    def by_person(rows: Any) -> dict[int, tuple[int, ...]]:
        return {int(r[0]): tuple(int(v or 0) for v in r[1:]) for r in rows}

    lines: list[str] = []
    with store.read() as session:
        expected = _person_counts_from_rows(session)
        kept = by_person(
            session.execute(
                select(
                    col(PersonCounts.user_id),
                    *(getattr(PersonCounts, name) for name, _ in PERSON_COUNTS),
                )
            )
        )
        for user_id in sorted(set(expected) | set(kept)):
            want, have = expected.get(user_id, (0, 0, 0, 0)), kept.get(user_id, (0, 0, 0, 0))
            for (_, what), w, h in zip(PERSON_COUNTS, want, have, strict=True):
                if w != h:
                    lines.append(f"user {user_id}: {what} kept {h}, counted {w}")
        counted = by_person(session.execute(_contact_figures()))
        user = col(ContactHour.user_id)
        summed = by_person(session.execute(select(user, *kept_hour_figures()).group_by(user)))
        for user_id in sorted(set(counted) | set(summed)):
            want_c, have_c = counted.get(user_id, (0,) * 4), summed.get(user_id, (0,) * 4)
            if want_c != have_c:
                lines.append(
                    f"user {user_id}: contacts (all, with the person, reached, minutes) "
                    f"kept {have_c}, counted {want_c}"
                )
    return lines


def recount(store: Store) -> None:
    """Rebuild the team view's counts from the rows, in one transaction: after a
    restore or a bulk load that bypassed the database's triggers (``pg_restore
    --disable-triggers``), or when ``counts_drift`` finds a difference. Safe while
    the app is in use: writers wait for it (SQLite's write lock; on PostgreSQL an
    exclusive lock on the two count tables), then count on top of it."""
    from cm_tui.store.models import Contact, ContactHour, PersonCounts

    with store.write() as session:
        if not store.is_sqlite:
            session.execute(text("LOCK TABLE person_counts, contact_hours IN EXCLUSIVE MODE"))
        at = col(Contact.occurred_at)
        if store.is_sqlite:  # UTCDateTime text, cut to the hour (as migration 0007)
            hour: Any = func.substr(at, 1, 13).op("||")(literal_column("':00:00.000000'"))
        else:
            hour = func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", at)))
        session.execute(delete(ContactHour))
        session.execute(
            insert(ContactHour).from_select(
                ["user_id", "hour_at", "contacts", "with_person", "reached", "minutes"],
                _contact_figures(hour),
            )
        )
        rows = _person_counts_from_rows(session)
        session.execute(delete(PersonCounts))
        if rows:
            session.execute(
                insert(PersonCounts),
                [
                    {"user_id": u, **{c: n for (c, _), n in zip(PERSON_COUNTS, f, strict=True)}}
                    for u, f in rows.items()
                ],
            )
