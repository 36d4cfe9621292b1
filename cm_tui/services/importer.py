"""CSV import: a panel list of clients, and ED visits / admissions (DESIGN §7).

A file is imported whole or not at all:

1. The header is resolved: each column is a client field (case and spaces do not
   matter: ``Given Name`` is ``given_name``), or mapped to one (``--map`` or a
   mapping file), or mapped to nothing (skipped). Anything else stops the import
   with one line naming the column (:class:`ImportFailed`).
2. Every row is checked (dates, codes, usernames, duplicate MRNs, ragged rows)
   before anything is written; problems are collected as :class:`RowError` with
   the line number, and a file with any of them writes nothing.
3. The rows are written in one transaction, with bulk statements (``executemany``
   on SQLite, Core on PostgreSQL): new MRNs are inserted, known ones updated
   only where something changed (version + 1), so importing the same file again
   changes nothing.

Update rule: a blank cell in a column that may be empty clears the stored
value (the file is the truth for the columns it carries); a blank cell in a
column that may not be empty (``preferred_contact``, ``risk_tier``, ``status``)
keeps the stored value, or takes the default for a new client. Columns the file
does not carry are never touched.
"""

from __future__ import annotations

import codecs
import csv
import re
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from datetime import time as dtime
from pathlib import Path
from typing import Any

from dateutil import tz as dateutil_tz
from sqlalchemy import Date, bindparam, select, update
from sqlmodel import Session

from cm_tui.dates import parse_date
from cm_tui.services.interchange import (
    InterchangeError,
    ProgressFn,
    client_column,
    client_fields,
    event_fields,
    open_private,
    table_of,
)
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import Client, User, UtilizationEvent
from cm_tui.store.types import sqlite_text, utcnow
from cm_tui.store.vocab import (
    CLIENT_STATUSES,
    PREFERRED_CONTACT,
    PROGRAMS,
    RISK_TIERS,
    UTILIZATION_KINDS,
)

BATCH = 5000  # rows per executemany and per MRN look-up
BULK_CACHE_KIB = 256 * 1024  # SQLite page cache while a file is written
IMPORT_ROLES = ("supervisor", "admin")


class ImportFailed(InterchangeError):
    """The file cannot be imported at all (encoding, header, mapping); nothing was written."""


@dataclass(frozen=True)
class RowError:
    """One problem in one row. ``line`` is the line of the file where the row starts."""

    line: int
    column: str | None
    message: str
    mrn: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    kind: str
    path: Path
    dry_run: bool
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: tuple[str, ...] = ()  # the fields the file carries, after mapping
    skipped_columns: tuple[str, ...] = ()  # headers mapped to nothing
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            rows = len({e.line for e in self.errors})
            return (
                f"{self.path.name}: {rows:,} of {self.rows:,} rows have problems "
                f"(first: {self.errors[0]}); nothing was imported."
            )
        verb = "would be" if self.dry_run else "were"
        noun = "clients" if self.kind == "clients" else "events"
        return (
            f"{self.path.name}: {self.rows:,} rows checked; {self.inserted:,} new {noun}, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged {verb} imported"
            + (" (dry run: nothing written)." if self.dry_run else f" in {self.seconds:.1f} s.")
        )


# ---------------------------------------------------------------- mapping


def normalize_header(name: str) -> str:
    """``" Given Name "`` -> ``given_name``: how headers and mapping targets are compared."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_map_options(items: Iterable[str]) -> dict[str, str]:
    """``["Member ID=mrn", "Notes="]`` -> a mapping; ``X=`` skips column X."""
    mapping: dict[str, str] = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source.strip():
            raise ImportFailed(
                f"--map {item!r}: write it as 'COLUMN IN FILE=client_field' (or 'COLUMN=' to skip)."
            )
        mapping[source.strip()] = target.strip()
    return mapping


def load_mapping(path: Path) -> dict[str, str]:
    """A mapping file: TOML with a ``[columns]`` table of ``"Column in file" = "field"``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ImportFailed(f"{path}: no such mapping file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{path}: cannot read the mapping file ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ImportFailed(f"{path}: not a valid TOML mapping file ({exc}).") from None
    table = data.get("columns", data)
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ImportFailed(
            f'{path}: expected a [columns] table of "Column in file" = "client_field" lines.'
        )
    return {k.strip(): v.strip() for k, v in table.items()}


@dataclass(frozen=True)
class Schema:
    """What a kind of import accepts."""

    kind: str
    fields: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def noun(self) -> str:
        return "client" if self.kind == "clients" else "event"


def clients_schema() -> Schema:
    return Schema("clients", client_fields(), ("mrn", "given_name", "family_name"))


def events_schema() -> Schema:
    return Schema("events", event_fields(), ("mrn", "kind", "occurred_at"))


def resolve_header(
    headers: Sequence[str], schema: Schema, mapping: Mapping[str, str] | None, name: str
) -> list[str | None]:
    """The field each column feeds (None: skipped). Raises ImportFailed for any doubt."""
    by_norm = {normalize_header(k): v for k, v in (mapping or {}).items()}
    targets: list[str | None] = []
    unknown: list[str] = []
    for raw in headers:
        header = raw.strip()
        if mapping and header in mapping:
            wanted: str | None = mapping[header]
        else:
            wanted = by_norm.get(normalize_header(header)) if header else None
        if wanted is not None:
            if wanted == "":
                targets.append(None)
                continue
            target = normalize_header(wanted)
            if target not in schema.fields:
                raise ImportFailed(
                    f"mapping {header!r} -> {wanted!r}: {wanted!r} is not a {schema.noun} "
                    f"column; use one of: {', '.join(schema.fields)}."
                )
            targets.append(target)
            continue
        if not header:
            targets.append(None)  # a nameless column (spreadsheets add them): must stay empty
            continue
        norm = normalize_header(header)
        if norm in schema.fields:
            targets.append(norm)
        else:
            unknown.append(header)
            targets.append(None)
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        first = unknown[0]
        raise ImportFailed(
            f"{name}: unknown column {first!r}{more}; map it with --map '{first}=FIELD' "
            f"or skip it with --map '{first}='. {schema.noun.capitalize()} columns: "
            f"{', '.join(schema.fields)}."
        )
    seen: dict[str, int] = {}
    for index, given in enumerate(targets):
        if given is None:
            continue
        if given in seen:
            raise ImportFailed(
                f"{name}: columns {seen[given] + 1} ({headers[seen[given]].strip()!r}) and "
                f"{index + 1} ({headers[index].strip()!r}) both give {given!r}."
            )
        seen[given] = index
    missing = [f for f in schema.required if f not in seen]
    if missing:
        raise ImportFailed(
            f"{name}: no {', '.join(repr(m) for m in missing)} column"
            f"{'s' if len(missing) > 1 else ''}; every row needs "
            f"{', '.join(schema.required)} (map another column with --map 'COLUMN={missing[0]}')."
        )
    return targets


# ---------------------------------------------------------------- reading


_BOMS = {
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
}


def _check_encoding(path: Path) -> tuple[int, str]:
    """Refuse anything but UTF-8 (a BOM is fine); return the line count and the delimiter."""
    name = path.name
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise ImportFailed(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} is a folder, not a CSV file.") from None
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read ({exc.strerror}).") from None
    hint = 'save it as "CSV UTF-8" and import again'
    with fh:
        head = fh.read(4)
        for bom, enc in sorted(_BOMS.items(), key=lambda kv: -len(kv[0])):
            if head.startswith(bom):
                raise ImportFailed(f"{name} is {enc} text, not UTF-8; {hint}.")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        lines = 0
        first = b""
        for raw in fh:
            if lines == 0:
                first = raw
            lines += 1
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1]
                raise ImportFailed(
                    f"{name}, line {lines}: byte 0x{bad.hex()} is not UTF-8 (the file "
                    f"looks like Latin-1 or Windows-1252); {hint}."
                ) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(
                f"{name}: the file ends in the middle of a character; {hint}."
            ) from None
    header = first.decode("utf-8-sig", errors="replace")
    if not header.strip() and lines <= 1:
        raise ImportFailed(f"{name} is empty.")
    delimiter = ","
    if "," not in header:
        if "\t" in header:
            delimiter = "\t"
        elif ";" in header:
            delimiter = ";"
    return lines, delimiter


@dataclass
class _Record:
    line: int
    cells: list[str]


def _records(path: Path, delimiter: str) -> tuple[list[str], Iterator[_Record]]:
    fh = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        fh.close()
        raise ImportFailed(f"{path.name}, line 1: {exc}.") from None
    while header is not None and not any(c.strip() for c in header):
        try:
            header = next(reader, None)
        except csv.Error as exc:
            fh.close()
            raise ImportFailed(f"{path.name}, line {reader.line_num}: {exc}.") from None
    if header is None:
        fh.close()
        raise ImportFailed(f"{path.name} is empty.")

    def rows() -> Iterator[_Record]:
        with fh:
            line = reader.line_num + 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportFailed(f"{path.name}, line {line}: {exc}.") from None
                if cells and any(c.strip() for c in cells):
                    yield _Record(line, cells)
                line = reader.line_num + 1

    return header, rows()


# ---------------------------------------------------------------- preview (for the screen)


@dataclass
class Preview:
    path: Path
    headers: list[str]
    rows: list[list[str]]
    targets: list[str | None]  # resolved field per column (None: skipped or unknown)
    unknown: list[str]  # headers that need a mapping
    lines: int
    fields: tuple[str, ...]


def _open_for_import(
    kind: str,
    path: Path,
    schema: Schema,
    mapping: Mapping[str, str] | None,
    dry_run: bool,
) -> tuple[int, list[str], Iterator[_Record], list[str | None], ImportResult]:
    """What every import starts with: encoding check, header resolved, an empty result."""
    lines, delimiter = _check_encoding(path)
    header, records = _records(path, delimiter)
    targets = resolve_header(header, schema, mapping, path.name)
    result = ImportResult(
        kind,
        path,
        dry_run,
        columns=tuple(t for t in targets if t is not None),
        skipped_columns=tuple(h for h, t in zip(header, targets, strict=True) if t is None and h),
    )
    return lines, header, records, targets, result


def preview_file(
    path: Path, mapping: Mapping[str, str] | None = None, *, kind: str = "clients", limit: int = 8
) -> Preview:
    """The header and first rows of a file, with what each column would feed."""
    schema = clients_schema() if kind == "clients" else events_schema()
    lines, delimiter = _check_encoding(path)
    header, records = _records(path, delimiter)
    rows: list[list[str]] = []
    for record in records:
        rows.append(record.cells)
        if len(rows) >= limit:
            break
    records.close()  # type: ignore[attr-defined]
    by_norm = {normalize_header(k): v for k, v in (mapping or {}).items()}
    targets: list[str | None] = []
    unknown: list[str] = []
    for raw in header:
        h = raw.strip()
        wanted = (mapping or {}).get(h, by_norm.get(normalize_header(h)) if h else None)
        if wanted is not None:
            norm = normalize_header(wanted) if wanted else None
            targets.append(norm if norm in schema.fields else None)
            continue
        norm = normalize_header(h)
        if norm in schema.fields:
            targets.append(norm)
        else:
            targets.append(None)
            if h:
                unknown.append(h)
    return Preview(path, list(header), rows, targets, unknown, lines, schema.fields)


# ---------------------------------------------------------------- value parsing

_KEEP: Any = object()  # a blank cell in a NOT NULL column: keep the stored value / default


def _code(vocab: Sequence[str]) -> Any:
    allowed = {normalize_header(v): v for v in vocab}
    exact = {v: v for v in vocab}

    def parse(text: str) -> str:
        value = exact.get(text) or allowed.get(normalize_header(text))
        if value is None:
            raise ValueError(f"{text!r} is not one of {', '.join(vocab)}")
        return value

    return parse


def _program(text: str) -> str:
    for program in PROGRAMS:
        if program.lower() == text.lower():
            return program
    return text


def _dates() -> Any:
    """``parse_date`` with a memo: a panel repeats the same dates many times over."""
    seen: dict[str, date] = {}

    def parse(text: str) -> date:
        day = seen.get(text)
        if day is None:
            try:
                day = seen[text] = parse_date(text)
            except ValueError as exc:
                raise ValueError(str(exc).rstrip(".")) from None
        return day

    return parse


def _text(text: str) -> str:
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    return text


def _client_parsers(store: Store) -> dict[str, Any]:
    table = table_of(Client)
    parsers: dict[str, Any] = {}
    for name in client_fields():
        column = table.columns[client_column(name)]
        if isinstance(column.type, Date):
            parsers[name] = _dates()
        else:
            parsers[name] = _text
    parsers["preferred_contact"] = _code(PREFERRED_CONTACT)
    parsers["risk_tier"] = _code(RISK_TIERS)
    parsers["status"] = _code(CLIENT_STATUSES)
    parsers["program"] = _program
    users = _usernames(store)
    for name in ("care_manager", "chw"):
        parsers[name] = _user_parser(users)
    return parsers


def _usernames(store: Store) -> dict[str, tuple[int, bool]]:
    with store.read() as session:
        users = table_of(User)
        rows = session.execute(select(users.c.id, users.c.username, users.c.active)).all()
    return {str(r[1]).lower(): (int(r[0]), bool(r[2])) for r in rows}


def _user_parser(users: Mapping[str, tuple[int, bool]]) -> Any:
    def parse(text: str) -> int:
        found = users.get(text.lower())
        if found is None:
            raise ValueError(f"no user {text!r} (give a username)")
        if not found[1]:
            raise ValueError(f"user {text!r} is deactivated")
        return found[0]

    return parse


# ---------------------------------------------------------------- import: clients


def _check_viewer(viewer: Viewer | None) -> None:
    if viewer is not None and viewer.role not in IMPORT_ROLES:
        raise ImportFailed("Only supervisors and admins import files.")


def _noop(_stage: str, _done: int, _total: int) -> None:
    pass


def import_clients(
    store: Store,
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    viewer: Viewer | None = None,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Import a panel CSV; see the module docstring. Raises only :class:`ImportFailed`.

    ``viewer`` None is the operating-system user (CLI on a local file), who is
    recorded in the audit event.
    """
    started = time.perf_counter()
    report = progress or _noop
    _check_viewer(viewer)
    path = Path(path)
    schema = clients_schema()
    lines, header, records, targets, result = _open_for_import(
        "clients", path, schema, mapping, dry_run
    )
    parsers = _client_parsers(store)
    table = table_of(Client)
    nullable = {name: table.columns[client_column(name)].nullable for name in schema.fields}
    plan = [(i, t, parsers[t], nullable[t]) for i, t in enumerate(targets) if t is not None]
    blank_columns = [i for i, t in enumerate(targets) if t is None and not header[i].strip()]
    mrn_at = result.columns.index("mrn")
    width = len(header)
    total = max(lines - 1, 0)

    parsed: list[tuple[int, tuple[Any, ...]]] = []  # (line, values in result.columns order)
    first_line: dict[str, int] = {}
    errors = result.errors
    report("reading", 0, total)
    for record in records:
        result.rows += 1
        if result.rows % 2000 == 0:
            report("reading", min(result.rows, total), total)
        cells = record.cells
        if len(cells) != width:
            errors.append(
                RowError(
                    record.line,
                    None,
                    f"{len(cells)} values, but the header has {width} columns",
                    cells[targets.index("mrn")].strip()
                    if len(cells) > targets.index("mrn")
                    else None,
                )
            )
            continue
        values: list[Any] = []
        bad = False
        for index, name, parse, may_be_null in plan:
            text = cells[index].strip()
            if not text:
                if name in schema.required:
                    errors.append(RowError(record.line, name, "is empty; every row needs one"))
                    bad = True
                values.append(None if may_be_null else _KEEP)
                continue
            try:
                values.append(parse(text))
            except ValueError as exc:
                errors.append(RowError(record.line, name, str(exc), cells[plan[mrn_at][0]].strip()))
                bad = True
                values.append(None)
        for index in blank_columns:
            if cells[index].strip():
                errors.append(
                    RowError(record.line, f"column {index + 1}", "has a value but no header")
                )
                bad = True
        mrn = values[mrn_at]
        if isinstance(mrn, str) and mrn:
            if mrn in first_line:
                errors.append(
                    RowError(record.line, "mrn", f"{mrn!r} is also on line {first_line[mrn]}", mrn)
                )
                bad = True
            else:
                first_line[mrn] = record.line
        if not bad:
            parsed.append((record.line, tuple(values)))
    report("reading", total, total)
    if errors:
        result.seconds = time.perf_counter() - started
        return result

    if dry_run:
        with store.read() as session:
            existing = _existing_clients(session, result.columns, list(first_line))
        for _line, row in parsed:
            found = existing.get(row[mrn_at])
            if found is None:
                result.inserted += 1
            elif _changes(result.columns, row, found):
                result.updated += 1
            else:
                result.unchanged += 1
        result.seconds = time.perf_counter() - started
        return result

    with store.write() as session:
        if store.is_sqlite:  # a bigger page cache for this bulk transaction only
            conn = session.connection()
            cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        existing = _existing_clients(session, result.columns, list(first_line))
        _write_clients(session, store, result, parsed, existing, report)
        if store.is_sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size or -2000)}")
        detail = (
            f"import clients from {path.name}: {result.inserted} new, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
        action = "create" if result.inserted else "update"
        audit.record_by(session, viewer, action, "client", detail=detail)
    result.seconds = time.perf_counter() - started
    return result


def _existing_clients(
    session: Session, fields: Sequence[str], mrns: list[str]
) -> dict[str, tuple[Any, ...]]:
    """Stored values (id first, then ``fields``) of the clients with these MRNs."""
    table = table_of(Client)
    columns = [table.c.id, *(table.c[client_column(f)] for f in fields)]
    found: dict[str, tuple[Any, ...]] = {}
    if session.execute(select(table.c.id).limit(1)).first() is None:
        return found  # an empty database: nothing to look up
    mrn_at = list(fields).index("mrn") + 1
    for start in range(0, len(mrns), BATCH):
        batch = mrns[start : start + BATCH]
        for row in session.execute(select(*columns).where(table.c.mrn.in_(batch))):
            found[str(row[mrn_at])] = tuple(row)
    return found


def _changes(
    fields: Sequence[str], values: tuple[Any, ...], stored: tuple[Any, ...]
) -> dict[str, Any]:
    """The fields whose new value differs from the stored one."""
    return {
        name: new
        for name, new, old in zip(fields, values, stored[1:], strict=True)
        if new is not _KEEP and new != old
    }


class _DeferredNameSearch:
    """Index the new clients for name search in one statement instead of row by row.

    On SQLite the FTS5 index is kept by triggers; fired once per inserted row in a
    bulk load they cost three times the insert itself. Inside the import's
    transaction the insert trigger is set aside (its own stored SQL is kept),
    the rows are inserted, the index is filled from the new rows in one
    ``INSERT ... SELECT``, and the trigger is put back - all before the commit, so
    no other connection ever sees the schema without it, and a crash rolls it all back.
    """

    TRIGGER = "clients_fts_ai"
    INDEX = "client_fts"

    def __init__(self, session: Session, trigger_sql: str, after_id: int) -> None:
        self.trigger_sql = trigger_sql
        self.after_id = after_id
        conn = session.connection()
        self.columns = [
            str(r[1]) for r in conn.exec_driver_sql(f'PRAGMA table_info("{self.INDEX}")')
        ]
        conn.exec_driver_sql(f'DROP TRIGGER "{self.TRIGGER}"')

    def catch_up(self, session: Session) -> None:
        conn = session.connection()
        cols = ", ".join(f'"{c}"' for c in self.columns)
        conn.exec_driver_sql(
            f'INSERT INTO "{self.INDEX}"(rowid, {cols}) '
            f'SELECT "id", {cols} FROM "clients" WHERE "id" > ? ORDER BY "id"',
            (self.after_id,),
        )
        conn.exec_driver_sql(self.trigger_sql)


def _deferred_name_search(session: Session) -> _DeferredNameSearch | None:
    conn = session.connection()
    row = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
        (_DeferredNameSearch.TRIGGER,),
    ).first()
    if row is None or not row[0]:
        return None
    after_id = int(
        conn.exec_driver_sql('SELECT COALESCE(MAX("id"), 0) FROM "clients"').scalar() or 0
    )
    return _DeferredNameSearch(session, str(row[0]), after_id)


def _copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: rows in with COPY (psycopg adapts dates, times and NULLs), in the
    session's transaction."""
    listed = ", ".join(f'"{c}"' for c in columns)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({listed}) FROM STDIN') as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def _write_clients(
    session: Session,
    store: Store,
    result: ImportResult,
    parsed: list[tuple[int, tuple[Any, ...]]],
    existing: Mapping[str, tuple[Any, ...]],
    report: ProgressFn,
) -> None:
    table = table_of(Client)
    fields = result.columns
    mrn_at = fields.index("mrn")
    now = utcnow()
    raw = store.is_sqlite
    defaults: dict[str, Any] = {
        c.name: getattr(c.default, "arg", None) for c in table.columns if c.default is not None
    }
    keep_defaults = [defaults.get(client_column(f)) for f in fields]
    # NOT NULL columns the file does not carry take their defaults on insert.
    given = {client_column(f) for f in fields} | {"id", "created_at", "updated_at", "version"}
    filled = [
        c.name
        for c in table.columns
        if c.name not in given and not c.nullable and c.name in defaults
    ]
    fill_values = [defaults[name] for name in filled]
    insert_columns = [
        *(client_column(f) for f in fields),
        *filled,
        "created_at",
        "updated_at",
        "version",
    ]

    def encode(value: Any) -> Any:
        if raw and isinstance(value, date):
            return value.isoformat()
        return value

    # Only these positions can hold a date or a blank NOT NULL cell: the rest of a
    # row goes to the database as parsed.
    date_at = [i for i, f in enumerate(fields) if isinstance(table.c[client_column(f)].type, Date)]
    keep_at = [i for i, f in enumerate(fields) if not table.c[client_column(f)].nullable]
    stamp = sqlite_text(now) if raw else now
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    for _line, values in parsed:
        stored = existing.get(values[mrn_at]) if existing else None
        if stored is None:
            new = [*values, *fill_values, stamp, stamp, 1]
            for i in keep_at:
                if new[i] is _KEEP:
                    new[i] = keep_defaults[i]
            if raw:
                for i in date_at:
                    if new[i] is not None:
                        new[i] = new[i].isoformat()
            inserts.append(tuple(new))
            continue
        changed = _changes(fields, values, stored)
        if changed:
            updates.append((int(stored[0]), changed))
        else:
            result.unchanged += 1
    total = len(inserts) + len(updates)
    done = 0
    report("writing", 0, total)
    search = _deferred_name_search(session) if raw and inserts else None
    for start in range(0, len(inserts), BATCH):
        batch = inserts[start : start + BATCH]
        if raw:
            listed = ", ".join(f'"{c}"' for c in insert_columns)
            marks = ", ".join("?" for _ in insert_columns)
            cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(f'INSERT INTO "clients" ({listed}) VALUES ({marks})', batch)
            finally:
                cursor.close()
        elif store.dialect == "postgresql":
            _copy_rows(session, "clients", insert_columns, batch)
        else:
            session.execute(
                table.insert(), [dict(zip(insert_columns, r, strict=True)) for r in batch]
            )
        done += len(batch)
        result.inserted += len(batch)
        report("writing", done, total)
    if search is not None:
        search.catch_up(session)
    # Updates are grouped by the set of columns they change, so each group is one
    # executemany of the same statement.
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for client_id, changed in updates:
        groups.setdefault(tuple(sorted(changed)), []).append((client_id, changed))
    for names, group in groups.items():
        targets = [client_column(n) for n in names]
        for start in range(0, len(group), BATCH):
            batch = group[start : start + BATCH]
            if raw:
                sets = ", ".join(f'"{c}" = ?' for c in targets)
                sql = (
                    f'UPDATE "clients" SET {sets}, "updated_at" = ?, '
                    '"version" = "version" + 1 WHERE "id" = ?'
                )
                rows = [(*(encode(ch[n]) for n in names), stamp, cid) for cid, ch in batch]
                cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.executemany(sql, rows)
                finally:
                    cursor.close()
            else:
                stmt = (
                    update(table)
                    .where(table.c.id == bindparam("p_id"))
                    .values(
                        {c: bindparam(f"p_{c}") for c in targets}
                        | {"updated_at": bindparam("p_updated_at"), "version": table.c.version + 1}
                    )
                )
                session.execute(
                    stmt,
                    [
                        {"p_id": cid, "p_updated_at": now}
                        | {f"p_{client_column(n)}": ch[n] for n in names}
                        for cid, ch in batch
                    ],
                )
            done += len(batch)
            result.updated += len(batch)
            report("writing", done, total)


# ---------------------------------------------------------------- import: events


def _kind(text: str) -> str:
    words = normalize_header(text).replace(".", "")
    aliases = {
        "ed": "ed_visit",
        "er": "ed_visit",
        "ed_visit": "ed_visit",
        "er_visit": "ed_visit",
        "emergency": "ed_visit",
        "emergency_department": "ed_visit",
        "admission": "admission",
        "admit": "admission",
        "inpatient": "admission",
        "inpatient_admission": "admission",
        "readmission": "readmission",
        "readmit": "readmission",
    }
    kind = aliases.get(words)
    if kind is None:
        raise ValueError(f"{text!r} is not one of {', '.join(UTILIZATION_KINDS)}")
    return kind


def _moment(zone: tzinfo) -> Any:
    def parse(text: str) -> datetime:
        try:
            day = parse_date(text)
        except ValueError:
            pass
        else:  # a date alone: midday local time, so it stays on its day in nearby zones
            return datetime.combine(day, dtime(12, 0), tzinfo=zone).astimezone(UTC)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"can't read {text!r} as a date or time; use 2026-10-03 or 2026-10-03T14:30"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    return parse


def import_events(
    store: Store,
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    viewer: Viewer | None = None,
    progress: ProgressFn | None = None,
    tz: tzinfo | None = None,
) -> ImportResult:
    """Import ED visits and admissions by MRN (one transaction; an event already
    stored, same client, kind, time and facility, is left alone)."""
    started = time.perf_counter()
    report = progress or _noop
    _check_viewer(viewer)
    path = Path(path)
    schema = events_schema()
    lines, header, records, targets, result = _open_for_import(
        "events", path, schema, mapping, dry_run
    )
    parsers: dict[str, Any] = {
        "mrn": _text,
        "kind": _kind,
        "occurred_at": _moment(tz if tz is not None else dateutil_tz.tzlocal()),
        "facility": _text,
    }
    plan = [(i, t, parsers.get(t, _text)) for i, t in enumerate(targets) if t is not None]
    width = len(header)
    total = max(lines - 1, 0)
    parsed: list[tuple[int, dict[str, Any]]] = []
    report("reading", 0, total)
    for record in records:
        result.rows += 1
        cells = record.cells
        if len(cells) != width:
            result.errors.append(
                RowError(
                    record.line, None, f"{len(cells)} values, but the header has {width} columns"
                )
            )
            continue
        values: dict[str, Any] = {}
        bad = False
        for index, name, parse in plan:
            text = cells[index].strip()
            if not text:
                if name in schema.required:
                    result.errors.append(
                        RowError(record.line, name, "is empty; every row needs one")
                    )
                    bad = True
                values[name] = None
                continue
            try:
                values[name] = parse(text)
            except ValueError as exc:
                result.errors.append(RowError(record.line, name, str(exc)))
                bad = True
        if not bad:
            parsed.append((record.line, values))
    report("reading", total, total)

    mrns = sorted({v["mrn"] for _l, v in parsed})
    session_cm = store.read() if dry_run else store.write()
    with session_cm as session:
        clients = _client_ids(session, mrns)
        for line, values in parsed:
            if values["mrn"] not in clients:
                result.errors.append(RowError(line, "mrn", f"no client with MRN {values['mrn']!r}"))
        if result.errors:
            result.errors.sort(key=lambda e: e.line)
            result.seconds = time.perf_counter() - started
            return result
        stored = _existing_events(session, sorted(set(clients.values())))
        new_rows: list[dict[str, Any]] = []
        seen: dict[tuple[Any, ...], int] = {}
        for line, values in parsed:
            key = (
                clients[values["mrn"]],
                values["kind"],
                values["occurred_at"],
                values.get("facility"),
            )
            if key in seen:
                result.errors.append(
                    RowError(line, None, f"the same event as line {seen[key]}", values["mrn"])
                )
                continue
            seen[key] = line
            if key in stored:
                result.unchanged += 1
                continue
            new_rows.append(
                {
                    "client_id": key[0],
                    "kind": key[1],
                    "occurred_at": key[2],
                    "facility": key[3],
                    "source": "import",
                }
            )
        if result.errors:
            result.seconds = time.perf_counter() - started
            return result
        result.inserted = len(new_rows)
        if not dry_run:
            table = table_of(UtilizationEvent)
            report("writing", 0, len(new_rows))
            for start in range(0, len(new_rows), BATCH):
                session.execute(table.insert(), new_rows[start : start + BATCH])
                report("writing", min(start + BATCH, len(new_rows)), len(new_rows))
            detail = (
                f"import events from {path.name}: {result.inserted} new, "
                f"{result.unchanged} already recorded"
            )
            audit.record_by(session, viewer, "create", "utilization_event", detail=detail)
    result.seconds = time.perf_counter() - started
    return result


def _client_ids(session: Session, mrns: list[str]) -> dict[str, int]:
    table = table_of(Client)
    found: dict[str, int] = {}
    for start in range(0, len(mrns), BATCH):
        batch = mrns[start : start + BATCH]
        for mrn, cid in session.execute(
            select(table.c.mrn, table.c.id).where(table.c.mrn.in_(batch))
        ):
            found[str(mrn)] = int(cid)
    return found


def _existing_events(session: Session, client_ids: list[int]) -> set[tuple[Any, ...]]:
    table = table_of(UtilizationEvent)
    found: set[tuple[Any, ...]] = set()
    for start in range(0, len(client_ids), BATCH):
        batch = client_ids[start : start + BATCH]
        rows = session.execute(
            select(table.c.client_id, table.c.kind, table.c.occurred_at, table.c.facility).where(
                table.c.client_id.in_(batch)
            )
        )
        found.update(tuple(r) for r in rows)
    return found


# ---------------------------------------------------------------- error report


def write_error_report(result: ImportResult, path: Path) -> Path:
    """The per-row problems as CSV (line, column, mrn, problem), created 0600."""
    with open_private(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "column", "mrn", "problem"])
        for error in result.errors:
            writer.writerow([error.line, error.column or "", error.mrn or "", error.message])
    return path


def default_error_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.errors.csv")
