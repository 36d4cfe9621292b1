"""The community resource directory: search, add, edit, and ``cm-tui import resources``.

A resource serves one or more need domains (``store.vocab.NEED_DOMAINS``) and speaks
one or more languages. Every change is one transaction with its audit event. The CSV
import is UTF-8 only, checks every row first and writes the whole file in one
transaction, or nothing when any row has a problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import String, cast, func, or_
from sqlmodel import Session, col, select

from cm_tui.services.contacts import ContactError, refuse_nul
from cm_tui.services.importer import (
    IMPORT_ROLES,
    ImportFailed,
    RowError,
    _check_encoding,
    _records,
    normalize_header,
)
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import Resource
from cm_tui.store.vocab import NEED_DOMAINS, label

__all__ = [
    "CSV_HEADERS",
    "ResourceError",
    "ResourceImport",
    "ResourceInput",
    "create_resource",
    "get_resource",
    "import_resources",
    "parse_domains",
    "parse_languages",
    "search_resources",
    "update_resource",
]

NAME_MAX = 200
FIELD_MAX = 500
NOTES_MAX = 2000
PAGE = 50
CSV_HEADERS = (
    "name",
    "domains",
    "phone",
    "address",
    "hours",
    "eligibility",
    "languages",
    "notes",
)
_PHONE = re.compile(r"^[0-9+()\-. ]+((x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
_DOMAIN_WORDS = {label(d).lower(): d for d in NEED_DOMAINS}


class ResourceError(ValueError):
    """Input the directory refuses, worded for the person at the keyboard."""


@dataclass
class ResourceInput:
    """A resource as typed (form) or read (CSV): text fields, lists already split."""

    name: str
    domains: list[str]
    phone: str | None = None
    address: str | None = None
    hours: str | None = None
    eligibility: str | None = None
    languages: list[str] = field(default_factory=list)
    notes: str | None = None


# ---------------------------------------------------------------- checks


def parse_domains(text: str | Iterable[str]) -> list[str]:
    """``"food; housing"`` -> ``["food", "housing"]``; unknown domains are refused."""
    items = text.split(";") if isinstance(text, str) else list(text)
    out: list[str] = []
    for raw in items:
        word = " ".join(raw.split()).lower()
        if not word:
            continue
        code = _DOMAIN_WORDS.get(word) or word.replace(" ", "_").replace("-", "_")
        if code not in NEED_DOMAINS:
            raise ResourceError(
                f"'{_short(raw.strip())}' is not a domain; use "
                f"{', '.join(NEED_DOMAINS)} (separate several with ';')."
            )
        if code not in out:
            out.append(code)
    if not out:
        raise ResourceError("Say which need domains it serves (e.g. food; housing).")
    return out


def parse_languages(text: str | Iterable[str]) -> list[str]:
    """``"English; spanish"`` -> ``["English", "Spanish"]`` (repeats dropped)."""
    items = text.split(";") if isinstance(text, str) else list(text)
    out: list[str] = []
    seen: set[str] = set()
    for raw in items:
        word = " ".join(raw.split())
        if not word:
            continue
        if len(word) > 40:
            raise ResourceError(f"'{_short(word)}' is too long for a language name.")
        if word.lower() not in seen:
            seen.add(word.lower())
            out.append(word[:1].upper() + word[1:])
    return out


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def _text(value: str | None, what: str, limit: int = FIELD_MAX) -> str | None:
    if value is None:
        return None
    try:
        refuse_nul(value, what)
    except ContactError as exc:
        raise ResourceError(str(exc)) from None
    value = value.strip()
    if len(value) > limit:
        raise ResourceError(f"{what} holds at most {limit} characters.")
    return value or None


def _clean(data: ResourceInput) -> ResourceInput:
    name = _text(" ".join(data.name.split()), "The name", NAME_MAX)
    if not name:
        raise ResourceError("Give the resource a name.")
    phone = _text(data.phone, "The phone number", 40)
    if phone is not None and (not _PHONE.match(phone) or not re.search(r"\d{3}", phone)):
        raise ResourceError(
            f"'{_short(phone)}' is not a phone number (digits, spaces, + ( ) - . and 'ext')."
        )
    return ResourceInput(
        name=name,
        domains=parse_domains(data.domains),
        phone=phone,
        address=_text(data.address, "The address"),
        hours=_text(data.hours, "The hours"),
        eligibility=_text(data.eligibility, "Eligibility"),
        languages=parse_languages(data.languages),
        notes=_text(data.notes, "Notes", NOTES_MAX),
    )


def _apply(row: Resource, data: ResourceInput) -> None:
    row.name = data.name
    row.domains = list(data.domains)
    row.phone = data.phone
    row.address = data.address
    row.hours = data.hours
    row.eligibility = data.eligibility
    row.languages = list(data.languages)
    row.notes = data.notes


def _same_name(session: Session, name: str, except_id: int | None = None) -> Resource | None:
    query = select(Resource).where(func.lower(Resource.name) == name.lower())
    if except_id is not None:
        query = query.where(col(Resource.id) != except_id)
    return session.exec(query.limit(1)).first()


def _may_edit(viewer: Viewer | None) -> None:
    if viewer is not None and viewer.role not in ("care_manager", "chw", "supervisor", "admin"):
        raise ResourceError("You may not change the resource directory.")


# ---------------------------------------------------------------- read


def get_resource(store: Store, resource_id: int) -> Resource | None:
    with store.read() as session:
        return session.get(Resource, resource_id)


def json_has(column: object, value: str) -> object:
    """A JSON list column contains ``value`` (plain text search on its JSON form)."""
    token = json.dumps(value)  # the quoted form, as stored
    return cast(column, String).contains(token, autoescape=True)


def search_resources(
    store: Store,
    text: str = "",
    *,
    domain: str | None = None,
    language: str | None = None,
    after: tuple[str, int] | None = None,
    limit: int = PAGE,
) -> list[Resource]:
    """One window of the directory, by name: ``text`` matches name, domain or language.

    ``after`` is the (name, id) of the last row shown (keyset pagination).
    """
    query = select(Resource)
    words = " ".join(text.split()).lower()
    if words:
        code = _DOMAIN_WORDS.get(words) or words.replace(" ", "_")
        clauses = [func.lower(Resource.name).contains(words, autoescape=True)]
        if code in NEED_DOMAINS:
            clauses.append(json_has(Resource.domains, code))  # type: ignore[arg-type]
        languages = func.lower(cast(Resource.languages, String))
        clauses.append(languages.contains(words, autoescape=True))
        escaped = json.dumps(words)[1:-1].lower()  # "español" as the JSON text holds it
        if escaped != words:
            clauses.append(languages.contains(escaped, autoescape=True))
        query = query.where(or_(*clauses))
    if domain:
        query = query.where(json_has(Resource.domains, domain))  # type: ignore[arg-type]
    if language:
        query = query.where(
            func.lower(cast(Resource.languages, String)).contains(language.lower(), autoescape=True)
        )
    if after is not None:
        name, rid = after
        query = query.where(
            or_(
                col(Resource.name) > name,
                (col(Resource.name) == name) & (col(Resource.id) > rid),
            )
        )
    query = query.order_by(col(Resource.name), col(Resource.id)).limit(max(1, min(limit, 500)))
    with store.read() as session:
        return list(session.exec(query).all())


# ---------------------------------------------------------------- write


def create_resource(store: Store, viewer: Viewer | None, data: ResourceInput) -> int:
    """Add a directory entry; a name already in the directory is refused."""
    _may_edit(viewer)
    clean = _clean(data)
    with store.write() as session:
        if _same_name(session, clean.name) is not None:
            raise ResourceError(f"'{_short(clean.name)}' is already in the directory.")
        row = Resource(name=clean.name)
        _apply(row, clean)
        session.add(row)
        session.flush()
        assert row.id is not None
        audit.record_by(
            session, viewer, "create", "resource", row.id, f"resource: {', '.join(clean.domains)}"
        )
        return row.id


def update_resource(
    store: Store, viewer: Viewer | None, resource_id: int, data: ResourceInput
) -> None:
    _may_edit(viewer)
    clean = _clean(data)
    with store.write() as session:
        row = session.get(Resource, resource_id)
        if row is None:
            raise ResourceError("That resource no longer exists.")
        if _same_name(session, clean.name, resource_id) is not None:
            raise ResourceError(f"Another resource is already called '{_short(clean.name)}'.")
        _apply(row, clean)
        session.add(row)
        detail = f"resource edited: {', '.join(clean.domains)}"
        audit.record_by(session, viewer, "update", "resource", resource_id, detail)


# ---------------------------------------------------------------- CSV import


@dataclass
class ResourceImport:
    path: Path
    dry_run: bool
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            bad = len({e.line for e in self.errors})
            return (
                f"{self.path.name}: {bad:,} of {self.rows:,} rows have problems "
                f"(first: {self.errors[0]}); nothing was imported."
            )
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.path.name}: {self.rows:,} row{'s' if self.rows != 1 else ''} checked; "
            f"{self.inserted:,} new, {self.updated:,} updated {verb} imported"
            + (" (dry run: nothing written)." if self.dry_run else ".")
        )


def _header(header: Sequence[str], name: str) -> list[str | None]:
    targets: list[str | None] = []
    unknown: list[str] = []
    for h in header:
        key = normalize_header(h)
        if not key:
            targets.append(None)
        elif key in CSV_HEADERS:
            if key in targets:
                raise ImportFailed(f"{name}: the column '{h.strip()}' appears twice.")
            targets.append(key)
        else:
            unknown.append(h.strip())
            targets.append(None)
    if unknown:
        raise ImportFailed(
            f"{name}: unknown column(s) {', '.join(repr(u) for u in unknown)}; "
            f"the columns are {', '.join(CSV_HEADERS)}."
        )
    missing = [h for h in ("name", "domains") if h not in targets]
    if missing:
        raise ImportFailed(f"{name}: the header has no {' or '.join(missing)} column.")
    return targets


def import_resources(
    store: Store, path: Path, *, dry_run: bool = False, viewer: Viewer | None = None
) -> ResourceImport:
    """Import a directory CSV (headers: name, domains, phone, address, hours,
    eligibility, languages, notes; domains and languages separated by ';').

    A row whose name is already in the directory updates that entry. Raises only
    :class:`ImportFailed` (the file as a whole cannot be read); row problems are
    listed in the result, and then nothing is written.
    """
    if viewer is not None and viewer.role not in IMPORT_ROLES:
        raise ImportFailed("Only supervisors and admins import files.")
    path = Path(path)
    _lines, delimiter = _check_encoding(path)
    header, records = _records(path, delimiter)
    targets = _header(header, path.name)
    result = ResourceImport(path, dry_run)
    parsed: list[tuple[int, ResourceInput]] = []
    names: dict[str, int] = {}
    for rec in records:
        result.rows += 1
        if len(rec.cells) > len(header):
            result.errors.append(
                RowError(rec.line, None, f"{len(rec.cells)} cells, the header has {len(header)}")
            )
            continue
        values = {t: rec.cells[i] for i, t in enumerate(targets) if t and i < len(rec.cells)}
        try:
            data = _clean(
                ResourceInput(
                    name=values.get("name", ""),
                    domains=values.get("domains", "").split(";"),
                    phone=values.get("phone"),
                    address=values.get("address"),
                    hours=values.get("hours"),
                    eligibility=values.get("eligibility"),
                    languages=values.get("languages", "").split(";"),
                    notes=values.get("notes"),
                )
            )
        except ResourceError as exc:
            result.errors.append(RowError(rec.line, _column_of(str(exc)), str(exc)))
            continue
        key = data.name.lower()
        if key in names:
            result.errors.append(
                RowError(rec.line, "name", f"'{_short(data.name)}' is also on line {names[key]}")
            )
            continue
        names[key] = rec.line
        parsed.append((rec.line, data))
    if result.rows == 0:
        raise ImportFailed(f"{path.name} has a header but no rows.")
    if result.errors:
        return result
    if dry_run:
        with store.read() as session:
            for _line, data in parsed:
                if _same_name(session, data.name) is None:
                    result.inserted += 1
                else:
                    result.updated += 1
        return result
    with store.write() as session:
        for _line, data in parsed:
            existing = _same_name(session, data.name)
            if existing is None:
                row = Resource(name=data.name)
                result.inserted += 1
            else:
                row = existing
                result.updated += 1
            _apply(row, data)
            session.add(row)
        session.flush()
        audit.record_by(
            session,
            viewer,
            "create",
            "resource",
            detail=f"imported {path.name}: {result.inserted} new, {result.updated} updated",
        )
    return result


def _column_of(message: str) -> str | None:
    lowered = message.lower()
    for word, column in (
        ("domain", "domains"),
        ("phone", "phone"),
        ("language", "languages"),
        ("name", "name"),
        ("address", "address"),
        ("hours", "hours"),
        ("eligibility", "eligibility"),
        ("notes", "notes"),
    ):
        if word in lowered:
            return column
    return None
