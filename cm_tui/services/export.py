"""`cm-tui export TABLE`: CSV or JSON Lines, role-scoped, streamed, audited (DESIGN §7).

Every table is read in windows of :data:`WINDOW` rows by keyset on its id, so an
export of a million contacts holds one window in memory at a time. The columns
are the model's (``cm_tui.store.models``), plus ``client_mrn`` beside each
``client_id`` so rows can be joined to a panel in another system. Clients travel
as the panel columns the importer reads (see ``interchange.client_fields``), so
an export imports back unchanged.

Scope: the clients the viewer may open (``access.record_scope``; a CHW only
theirs). ``viewer`` None is the operating-system user of a local file, who sees
everything. The audit trail is exported only by supervisors, admins and the
operating-system user. Every export, finished or not, is an audit event.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import ColumnElement, Select, Table, func, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session

from cm_tui.services import careplan_export
from cm_tui.services.interchange import (
    InterchangeError,
    ProgressFn,
    client_column,
    client_fields,
    csv_text,
    json_value,
    table_of,
)
from cm_tui.store import audit
from cm_tui.store.access import Viewer, record_scope
from cm_tui.store.db import Store
from cm_tui.store.models import (
    AuditEvent,
    Client,
    Contact,
    ContactAddendum,
    FollowUp,
    Need,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
    User,
    UtilizationEvent,
)

WINDOW = 2000
FORMATS = ("csv", "jsonl")
TABLES = (
    "clients",
    "contacts",
    "screenings",
    "needs",
    "referrals",
    "follow-ups",
    "utilization-events",
    "audit",
)
ALIASES = {
    "followups": "follow-ups",
    "follow_ups": "follow-ups",
    "utilization": "utilization-events",
    "utilization_events": "utilization-events",
    "events": "utilization-events",
    "audit-events": "audit",
    "audit_events": "audit",
}


class ExportError(InterchangeError):
    """The export cannot be done (unknown table, not allowed); nothing was written."""


@dataclass
class ExportResult:
    table: str
    format: str
    rows: int
    destination: str
    seconds: float


def canonical_table(name: str) -> str:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in TABLES:
        raise ExportError(f"no table {name!r} to export; choose one of: {', '.join(TABLES)}.")
    return key


def scope_clause(viewer: Viewer | None) -> ColumnElement[bool]:
    """The client rows this export may include."""
    return true() if viewer is None else record_scope(viewer)


def _with_mrn(names: Sequence[str]) -> list[str]:
    """Model columns with ``client_mrn`` right after ``client_id``."""
    out: list[str] = []
    for name in names:
        out.append(name)
        if name == "client_id":
            out.append("client_mrn")
    return out


def _names(model: Any) -> list[str]:
    return [c.name for c in table_of(model).columns]


# ---------------------------------------------------------------- table specs


RowDict = dict[str, Any]


@dataclass
class _Spec:
    columns: list[str]
    base: Table
    select: Callable[[Viewer | None], Select[Any]]
    enrich: Callable[[Session, list[RowDict]], None] | None = None


def _clients_spec() -> _Spec:
    clients = table_of(Client)
    users = table_of(User)
    cm = aliased(users, name="cm")
    chw = aliased(users, name="chw_user")
    fields = list(client_fields())
    refs = {"care_manager": cm.c.username, "chw": chw.c.username}

    def stmt(viewer: Viewer | None) -> Select[Any]:
        cols = [clients.c.id.label("_id")]
        for f in fields:
            cols.append(refs[f].label(f) if f in refs else clients.c[client_column(f)].label(f))
        return (
            select(*cols)
            .select_from(clients)
            .outerjoin(cm, cm.c.id == clients.c.care_manager_id)
            .outerjoin(chw, chw.c.id == clients.c.chw_id)
            .where(scope_clause(viewer))
        )

    return _Spec(fields, clients, stmt)


def _client_child_spec(model: Any) -> _Spec:
    base = table_of(model)
    clients = table_of(Client)
    names = _names(model)

    def stmt(viewer: Viewer | None) -> Select[Any]:
        return (
            select(base.c.id.label("_id"), *base.c, clients.c.mrn.label("client_mrn"))
            .select_from(base)
            .join(clients, clients.c.id == base.c.client_id)
            .where(scope_clause(viewer))
        )

    return _Spec(_with_mrn(names), base, stmt)


def _contacts_spec() -> _Spec:
    spec = _client_child_spec(Contact)
    spec.columns.append("addenda")
    addenda = table_of(ContactAddendum)

    def enrich(session: Session, rows: list[RowDict]) -> None:
        by_contact: dict[int, list[RowDict]] = {}
        ids = [r["id"] for r in rows]
        stmt = (
            select(addenda)
            .where(addenda.c.contact_id.in_(ids))
            .order_by(addenda.c.contact_id, addenda.c.created_at, addenda.c.id)
        )
        for a in session.execute(stmt).mappings():
            by_contact.setdefault(a["contact_id"], []).append(
                {
                    "text": a["text"],
                    "user_id": a["user_id"],
                    "created_at": json_value(a["created_at"]),
                }
            )
        for r in rows:
            r["addenda"] = by_contact.get(r["id"], [])

    spec.enrich = enrich
    return spec


def _screenings_spec() -> _Spec:
    spec = _client_child_spec(Screening)
    spec.columns += ["answers", "declined_items"]
    answers = table_of(ScreeningAnswer)

    def enrich(session: Session, rows: list[RowDict]) -> None:
        by_screening: dict[int, list[RowDict]] = {}
        ids = [r["id"] for r in rows]
        stmt = (
            select(answers)
            .where(answers.c.screening_id.in_(ids))
            .order_by(answers.c.screening_id, answers.c.answered_at, answers.c.item_id)
        )
        for a in session.execute(stmt).mappings():
            by_screening.setdefault(a["screening_id"], []).append(
                {
                    "item_id": a["item_id"],
                    "option_ids": a["option_ids"],
                    "free_text": a["free_text"],
                    "declined": bool(a["declined"]),
                    "answered_at": json_value(a["answered_at"]),
                }
            )
        for r in rows:
            given = by_screening.get(r["id"], [])
            r["answers"] = given
            r["declined_items"] = [a["item_id"] for a in given if a["declined"]]

    spec.enrich = enrich
    return spec


def _referrals_spec() -> _Spec:
    base = table_of(Referral)
    needs = table_of(Need)
    clients = table_of(Client)
    resources = table_of(Resource)
    names = _names(Referral)
    columns = [*names, "client_id", "client_mrn", "resource_name"]

    def stmt(viewer: Viewer | None) -> Select[Any]:
        return (
            select(
                base.c.id.label("_id"),
                *base.c,
                needs.c.client_id,
                clients.c.mrn.label("client_mrn"),
                resources.c.name.label("resource_name"),
            )
            .select_from(base)
            .join(needs, needs.c.id == base.c.need_id)
            .join(clients, clients.c.id == needs.c.client_id)
            .outerjoin(resources, resources.c.id == base.c.resource_id)
            .where(scope_clause(viewer))
        )

    return _Spec(columns, base, stmt)


def _audit_spec() -> _Spec:
    base = table_of(AuditEvent)

    def stmt(viewer: Viewer | None) -> Select[Any]:
        return select(base.c.id.label("_id"), *base.c)

    return _Spec(_names(AuditEvent), base, stmt)


def table_spec(table: str) -> _Spec:
    table = canonical_table(table)
    if table == "clients":
        return _clients_spec()
    if table == "contacts":
        return _contacts_spec()
    if table == "screenings":
        return _screenings_spec()
    if table == "needs":
        return _client_child_spec(Need)
    if table == "referrals":
        return _referrals_spec()
    if table == "follow-ups":
        return _client_child_spec(FollowUp)
    if table == "utilization-events":
        return _client_child_spec(UtilizationEvent)
    return _audit_spec()


def columns_of(table: str) -> list[str]:
    """The header of an export (CSV) / the keys of each line (JSON Lines)."""
    return list(table_spec(table).columns)


# ---------------------------------------------------------------- streaming


def iter_rows(
    session: Session, table: str, viewer: Viewer | None, *, window: int = WINDOW
) -> Iterator[RowDict]:
    """Every row of the export, window by window (keyset on id)."""
    spec = table_spec(table)
    base_stmt = spec.select(viewer)
    last: Any = None
    while True:
        stmt = base_stmt
        if last is not None:
            stmt = stmt.where(spec.base.c.id > last)
        stmt = stmt.order_by(spec.base.c.id).limit(window)
        rows = [dict(m) for m in session.execute(stmt).mappings()]
        if not rows:
            return
        last = rows[-1]["_id"]
        if spec.enrich is not None:
            spec.enrich(session, rows)
        for row in rows:
            yield {name: row.get(name) for name in spec.columns}
        if len(rows) < window:
            return


def count_rows(session: Session, table: str, viewer: Viewer | None) -> int:
    spec = table_spec(table)
    sub = spec.select(viewer).subquery()
    return int(session.execute(select(func.count()).select_from(sub)).scalar_one())


def _check_allowed(table: str, viewer: Viewer | None) -> None:
    if table == "audit" and viewer is not None and not viewer.sees_everyone:
        raise ExportError("Only supervisors and admins export the audit trail.")


def _noop(_stage: str, _done: int, _total: int) -> None:
    pass


def export_table(
    store: Store,
    table: str,
    out: IO[str],
    *,
    fmt: str = "csv",
    viewer: Viewer | None = None,
    destination: str = "stdout",
    actor: str | None = None,
    progress: ProgressFn | None = None,
    window: int = WINDOW,
) -> ExportResult:
    """Write one table to ``out``; audited whether it finishes or not.

    ``actor`` names who ran it when that is not ``viewer`` alone (the CLI passes
    the operating-system user).
    """
    started = time.perf_counter()
    table = canonical_table(table)
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    _check_allowed(table, viewer)
    report = progress or _noop
    columns = columns_of(table)
    rows = 0
    finished = False
    try:
        with store.read() as session:
            total = count_rows(session, table, viewer)
            report(table, 0, total)
            if fmt == "csv":
                writer = csv.writer(out)  # RFC 4180: CRLF, and a CR inside a value is quoted
                writer.writerow(columns)
                for row in iter_rows(session, table, viewer, window=window):
                    writer.writerow([csv_text(row[c]) for c in columns])
                    rows += 1
                    if rows % window == 0:
                        report(table, rows, total)
            else:
                for row in iter_rows(session, table, viewer, window=window):
                    out.write(
                        json.dumps(
                            {c: json_value(row[c]) for c in columns},
                            ensure_ascii=False,
                            separators=(",", ":"),
                        )
                    )
                    out.write("\n")
                    rows += 1
                    if rows % window == 0:
                        report(table, rows, total)
            report(table, rows, max(total, rows))
        out.flush()
        finished = True
    finally:
        record_export(
            store,
            viewer=viewer,
            actor=actor,
            entity=table,
            detail=(
                f"{table} as {fmt} to {destination}: {rows} rows"
                + ("" if finished else " (stopped before the end)")
                + _scope_note(viewer)
            ),
        )
    return ExportResult(table, fmt, rows, destination, time.perf_counter() - started)


def _scope_note(viewer: Viewer | None) -> str:
    if viewer is None:
        return "; scope: all records"
    return f"; scope: records open to {viewer.username} ({viewer.role})"


def record_export(
    store: Store,
    *,
    viewer: Viewer | None,
    actor: str | None,
    entity: str,
    detail: str,
) -> None:
    with store.write() as session:
        audit.record(
            session,
            action="export",
            user_id=viewer.id if viewer else None,
            actor=actor,
            entity=entity,
            detail=detail,
        )


# ---------------------------------------------------------------- care-plan printout


def find_client(session: Session, ref: str, viewer: Viewer | None) -> Client:
    """A client by MRN, else by id, if the viewer may open their record."""
    from sqlmodel import col

    ref = ref.strip()
    query = select(Client).where(scope_clause(viewer))
    client = session.execute(query.where(col(Client.mrn) == ref)).scalars().first()
    if client is None and ref.isdigit() and len(ref) < 19:
        client = session.execute(query.where(col(Client.id) == int(ref))).scalars().first()
    if client is None:
        raise ExportError(f"No client with MRN or id {ref!r} that you may open.")
    assert isinstance(client, Client)
    return client


def export_careplan(
    store: Store,
    client_ref: str,
    out: IO[str],
    *,
    fmt: str = "md",
    viewer: Viewer | None = None,
    actor: str | None = None,
    destination: str = "standard output",
) -> careplan_export.CarePlanDocument:
    """Write a client's care plan as a take-home printout (``md`` or ``html``; see
    :mod:`cm_tui.services.careplan_export`); the export is an audit event, written
    with the read so nothing leaves without one."""
    from cm_tui.dates import local_date
    from cm_tui.store.types import utcnow

    if fmt not in careplan_export.FORMATS:
        raise ExportError(f"A care plan exports as {' or '.join(careplan_export.FORMATS)}.")
    with store.write() as session:
        client = find_client(session, client_ref, viewer)
        doc = careplan_export.render_careplan(session, client, fmt, today=local_date(utcnow()))
        audit.record(
            session,
            action="export",
            user_id=viewer.id if viewer else None,
            actor=actor,
            entity="client",
            entity_id=client.id,
            detail=f"care plan printout ({fmt}, labels {doc.language}, {doc.goals} goals) "
            f"to {destination}{_scope_note(viewer)}",
        )
    out.write(doc.text)
    return doc
