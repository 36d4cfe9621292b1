"""Use cases around a client's record: view (audited), add, edit.

An edit is checked against the version the user started from (``Client.version``):
``UPDATE ... WHERE id = ? AND version = ?``. If someone saved the record in the
meantime nothing is written and :class:`ClientConflict` carries both versions
(what the user started from, what they changed, what is stored now and who saved
it), so the user can choose field by field; :func:`resolve_conflict` saves the
merge against the version now stored, and can meet a newer save the same way.
Nothing is ever silently overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cm_tui.dates import parse_date
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, Client, User
from cm_tui.store.queries import ClientBrief, client_brief, open_client
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import (
    CLIENT_STATUSES,
    PREFERRED_CONTACT,
    PROGRAMS,
    RISK_TIERS,
    label,
)

__all__ = [
    "FIELDS",
    "ClientConflict",
    "ClientError",
    "ClientField",
    "EditableClient",
    "FieldDiff",
    "NotAllowed",
    "clean_changes",
    "create_client",
    "field_spec",
    "load_for_edit",
    "may_edit",
    "resolve_conflict",
    "show_value",
    "update_client",
    "view_client",
]


class NotAllowed(Exception):
    """The viewer may not open this record."""


class ClientError(ValueError):
    """Input the service refuses, worded for the person at the keyboard.

    ``field`` names the field at fault (None: the record as a whole), so a form can
    show the message beside it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- the fields

Kind = Literal["text", "long", "date", "code", "phone", "email", "program"]


@dataclass(frozen=True)
class ClientField:
    name: str
    label: str
    kind: Kind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    max_len: int = 200


# The fields a person edits, in the order a form shows them. Assignment (care
# manager, CHW) is the supervisors' reassign work, not part of this form.
FIELDS: tuple[ClientField, ...] = (
    ClientField("given_name", "Given name", required=True, max_len=100),
    ClientField("family_name", "Family name", required=True, max_len=100),
    ClientField("preferred_name", "Preferred name", max_len=100),
    ClientField("dob", "Date of birth", "date"),
    ClientField("sex", "Sex", max_len=30),
    ClientField("mrn", "MRN", max_len=64),
    ClientField("language", "Language", max_len=60),
    ClientField("phone", "Phone", "phone", max_len=40),
    ClientField("alt_phone", "Alt phone", "phone", max_len=40),
    ClientField("email", "Email", "email", max_len=254),
    ClientField("address", "Address", max_len=500),
    ClientField("preferred_contact", "Prefers", "code", True, PREFERRED_CONTACT),
    ClientField("best_time", "Best time", max_len=100),
    ClientField("risk_tier", "Risk", "code", True, RISK_TIERS),
    ClientField("program", "Program", "program", max_len=60),
    ClientField("status", "Status", "code", True, CLIENT_STATUSES),
    ClientField("enrolled_on", "Enrolled on", "date"),
    ClientField("consent_on", "Consent on", "date"),
    ClientField("pcp_name", "PCP", max_len=200),
    ClientField("pcp_practice", "PCP practice", max_len=200),
    ClientField("pcp_phone", "PCP phone", "phone", max_len=40),
    ClientField("what_matters", "What matters", "long", max_len=4000),
)
_BY_NAME = {f.name: f for f in FIELDS}
DEFAULTS: dict[str, Any] = {"preferred_contact": "phone", "risk_tier": "low", "status": "active"}

_PHONE = re.compile(r"^[0-9+()\-. /]+((x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def field_spec(name: str) -> ClientField:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ClientError(f"'{name}' is not a client field that can be edited.") from None


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"


def _clean(spec: ClientField, value: Any) -> Any:
    """One field's value as typed (text) or given (date, None), checked and stored-shaped."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if spec.required:
            raise ClientError(f"{spec.label} is required.", spec.name)
        return None
    if spec.kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        else:
            try:
                day = parse_date(str(value))
            except ValueError as exc:
                raise ClientError(f"{spec.label}: {exc}", spec.name) from None
        if day > utcnow().date() and spec.name in ("dob", "consent_on"):
            raise ClientError(f"{spec.label} can't be in the future.", spec.name)
        if day.year < 1880:
            raise ClientError(f"{spec.label}: {day.isoformat()} is too long ago.", spec.name)
        return day
    if not isinstance(value, str):
        raise ClientError(f"{spec.label} must be text.", spec.name)
    if "\x00" in value:
        raise ClientError(
            f"{spec.label} contains an invisible NUL character (usually left by a paste); "
            "delete it and save again.",
            spec.name,
        )
    text = value.strip() if spec.kind == "long" else " ".join(value.split())
    if len(text) > spec.max_len:
        raise ClientError(f"{spec.label} holds at most {spec.max_len} characters.", spec.name)
    if spec.kind == "code":
        word = text.lower().replace(" ", "_").replace("-", "_")
        if word not in spec.choices:
            raise ClientError(
                f"{spec.label} must be one of: {', '.join(label(c) for c in spec.choices)}.",
                spec.name,
            )
        return word
    if spec.kind == "program":
        return next((p for p in PROGRAMS if p.lower() == text.lower()), text)
    if spec.kind == "phone" and (not _PHONE.match(text) or len(re.findall(r"\d", text)) < 7):
        raise ClientError(
            f"'{_short(text)}' is not a phone number (at least 7 digits; spaces, + ( ) - . "
            "and 'ext' allowed).",
            spec.name,
        )
    if spec.kind == "email" and not _EMAIL.match(text):
        raise ClientError(f"'{_short(text)}' is not an email address.", spec.name)
    return text


def clean_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Every given field checked and converted (text to date, codes as stored).

    Raises :class:`ClientError` (with ``field``) for the first field in form order
    that is wrong.
    """
    unknown = [name for name in changes if name not in _BY_NAME]
    if unknown:
        field_spec(unknown[0])
    return {spec.name: _clean(spec, changes[spec.name]) for spec in FIELDS if spec.name in changes}


def show_value(name: str, value: Any) -> str:
    """A stored value as a form or the conflict screen shows it (text, no markup)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    spec = _BY_NAME.get(name)
    if spec is not None and spec.kind == "code":
        return label(str(value))
    return str(value)


def _values(client: Client) -> dict[str, Any]:
    return {spec.name: getattr(client, spec.name) for spec in FIELDS}


# ---------------------------------------------------------------- who may edit


def may_edit(viewer: Viewer, client: Any) -> bool:
    """Care managers edit their own clients, CHWs the clients assigned to them,
    supervisors and admins anyone's."""
    if viewer.sees_everyone:
        return True
    if viewer.role == "care_manager":
        return bool(client.care_manager_id == viewer.id)
    if viewer.role == "chw":
        return bool(client.chw_id == viewer.id)
    return False


def _editable(session: Session, viewer: Viewer, client_id: int) -> Client:
    client = open_client(session, viewer, client_id)
    if client is None:
        if session.get(Client, client_id) is None:
            raise ClientError("That client record no longer exists.")
        raise NotAllowed("You do not have access to this client's record.")
    if not may_edit(viewer, client):
        raise NotAllowed(
            "Only the client's own care manager (or CHW) or a supervisor edits this record."
        )
    return client


def _mrn_taken(session: Session, mrn: str, except_id: int | None = None) -> bool:
    query = select(Client.id).where(Client.mrn == mrn)
    if except_id is not None:
        query = query.where(col(Client.id) != except_id)
    return session.exec(query.limit(1)).first() is not None


def _mrn_error(mrn: str) -> ClientError:
    return ClientError(f"MRN '{_short(mrn)}' already belongs to another client.", "mrn")


# ---------------------------------------------------------------- view


def view_client(store: Store, viewer: Viewer, client_id: int) -> ClientBrief:
    """The pre-call brief; the view is audited in the same transaction that reads it."""
    with store.write() as session:
        brief = client_brief(session, viewer, client_id)
        detail = None if brief is not None else "refused: outside this user's access"
        audit.record_by(session, viewer, "view", "client", client_id, detail)
    if brief is None:
        raise NotAllowed("You do not have access to this client's record.")
    return brief


@dataclass(frozen=True)
class EditableClient:
    """A client's editable values as read, with the version they belong to."""

    id: int
    version: int
    values: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.values.get('family_name') or ''}, {self.values.get('given_name') or ''}"


def load_for_edit(store: Store, viewer: Viewer, client_id: int) -> EditableClient:
    """The record as it is now, for an edit form (an audited view)."""
    with store.write() as session:
        client = _editable(session, viewer, client_id)
        audit.record_by(session, viewer, "view", "client", client_id, "opened for editing")
        return EditableClient(client_id, client.version, _values(client))


# ---------------------------------------------------------------- create


def create_client(store: Store, viewer: Viewer, fields: Mapping[str, Any]) -> int:
    """A new client on the viewer's own list (a CHW's as their CHW); returns its id."""
    if viewer.role not in ("care_manager", "chw", "supervisor", "admin"):
        raise NotAllowed("You may not add clients.")
    values = {**DEFAULTS, **clean_changes(fields)}
    for spec in FIELDS:
        if spec.required and values.get(spec.name) is None:
            raise ClientError(f"{spec.label} is required.", spec.name)
    now = utcnow()
    assigned: dict[str, Any] = (
        {"chw_id": viewer.id} if viewer.role == "chw" else {"care_manager_id": viewer.id}
    )
    try:
        with store.write() as session:
            if values.get("mrn") and _mrn_taken(session, values["mrn"]):
                raise _mrn_error(values["mrn"])
            client = Client(**values, **assigned, created_at=now, updated_at=now)
            session.add(client)
            session.flush()
            assert client.id is not None
            added = ", ".join(sorted(k for k, v in values.items() if v))
            audit.record_by(
                session, viewer, "create", "client", client.id, f"client added: {added}"
            )
            return client.id
    except IntegrityError:  # another session took the MRN between the check and the insert
        if not values.get("mrn"):
            raise
        raise _mrn_error(str(values["mrn"])) from None


# ---------------------------------------------------------------- update and conflicts


@dataclass(frozen=True)
class FieldDiff:
    """One field of a conflict: what the user started from, theirs now, the user's.

    ``state`` is ``"conflict"`` (both changed it, differently: the user chooses),
    ``"mine"`` (only the user changed it, or both the same way: kept),
    ``"theirs"`` (only the other person changed it: kept).
    """

    name: str
    label: str
    base: Any
    mine: Any
    theirs: Any
    state: Literal["conflict", "mine", "theirs"]


_UNKNOWN: Any = object()


class ClientConflict(ClientError):
    """Someone saved this client after the user loaded it; nothing was written.

    ``base``: the values the user started from (a field missing: not known);
    ``mine``: the user's changes; ``theirs``: every editable field as stored now, at
    ``version``, last saved by ``changed_by`` at ``changed_at`` (when known).
    """

    def __init__(
        self,
        client_id: int,
        base: Mapping[str, Any],
        mine: Mapping[str, Any],
        theirs: Mapping[str, Any],
        version: int,
        changed_by: str | None = None,
        changed_at: datetime | None = None,
    ) -> None:
        who = f" by {changed_by}" if changed_by else ""
        super().__init__(
            f"Someone else saved this client{who} while you were editing; nothing of yours "
            "was saved yet. Choose, field by field, what to keep."
        )
        self.client_id = client_id
        self.base = dict(base)
        self.mine = dict(mine)
        self.theirs = dict(theirs)
        self.version = version
        self.changed_by = changed_by
        self.changed_at = changed_at

    def rows(self) -> list[FieldDiff]:
        """Every field either side changed, in form order."""
        rows: list[FieldDiff] = []
        for spec in FIELDS:
            name = spec.name
            base = self.base.get(name, _UNKNOWN)
            theirs = self.theirs.get(name)
            if name in self.mine:
                mine = self.mine[name]
                if mine == theirs:
                    state: Literal["conflict", "mine", "theirs"] = "mine"
                elif base is not _UNKNOWN and base == theirs:
                    state = "mine"
                else:
                    state = "conflict"
            elif base is not _UNKNOWN and base != theirs:
                mine, state = theirs, "theirs"
            else:
                continue
            rows.append(
                FieldDiff(name, spec.label, None if base is _UNKNOWN else base, mine, theirs, state)
            )
        return rows

    def conflicts(self) -> list[FieldDiff]:
        return [r for r in self.rows() if r.state == "conflict"]

    def merged(self, choices: Mapping[str, str]) -> dict[str, Any]:
        """The changes to save: the user's where they chose ``"mine"`` (or only they
        changed the field), nothing where they take theirs (already stored)."""
        out: dict[str, Any] = {}
        for row in self.rows():
            if row.state == "mine" and row.mine != row.theirs:
                out[row.name] = row.mine
            elif row.state == "conflict":
                choice = choices.get(row.name)
                if choice not in ("mine", "theirs"):
                    raise ClientError(f"Choose mine or theirs for {row.label}.", row.name)
                if choice == "mine":
                    out[row.name] = row.mine
        return out


def _last_change(session: Session, client_id: int) -> tuple[str | None, datetime | None]:
    """Who saved the client last, and when (from the audit trail)."""
    row = session.exec(
        select(AuditEvent.user_id, AuditEvent.actor, AuditEvent.at)
        .where(
            AuditEvent.entity == "client",
            AuditEvent.entity_id == client_id,
            col(AuditEvent.action).in_(("update", "create")),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    if row is None:
        return None, None
    user_id, actor, at = row
    user = session.get(User, user_id) if user_id is not None else None
    return (user.display_name if user is not None else actor), at


def _conflict(
    session: Session,
    client: Client,
    base: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
) -> ClientConflict:
    session.refresh(client)
    assert client.id is not None
    who, when = _last_change(session, client.id)
    return ClientConflict(
        client.id, base or {}, changes, _values(client), client.version, who, when
    )


def update_client(
    store: Store,
    viewer: Viewer,
    client_id: int,
    base_version: int,
    changes: Mapping[str, Any],
    *,
    base: Mapping[str, Any] | None = None,
) -> int:
    """Save ``changes`` made to the record as it was at ``base_version``; returns the
    new version.

    ``base`` is what the user started from (the values of ``load_for_edit``); it is
    what lets a conflict tell the fields only the other person changed (merged
    without asking) from those both changed (the user chooses). Changes equal to
    ``base`` are no changes. If nothing is left to save the version is returned
    unchanged (after the same conflict check).
    """
    clean = clean_changes(changes)
    if base is not None:
        clean = {k: v for k, v in clean.items() if k not in base or base[k] != v}
    try:
        with store.write() as session:
            client = _editable(session, viewer, client_id)
            if client.version != base_version:
                raise _conflict(session, client, base, clean)
            if not clean:
                return base_version
            if clean.get("mrn") and _mrn_taken(session, clean["mrn"], client_id):
                raise _mrn_error(clean["mrn"])
            new_version = base_version + 1
            result = session.execute(
                update(Client)
                .where(col(Client.id) == client_id, col(Client.version) == base_version)
                .values(version=new_version, updated_at=utcnow(), **clean)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 1) != 1:  # saved by someone since the read
                raise _conflict(session, client, base, clean)
            detail = f"edited (version {new_version}): {', '.join(clean)}"
            audit.record_by(session, viewer, "update", "client", client_id, detail)
            return new_version
    except IntegrityError:  # another session took the MRN between the check and the write
        if not clean.get("mrn"):
            raise
        raise _mrn_error(str(clean["mrn"])) from None


def resolve_conflict(
    store: Store, viewer: Viewer, conflict: ClientConflict, choices: Mapping[str, str]
) -> int:
    """Save the merge the user chose (``{field: "mine" | "theirs"}`` for each field
    in conflict) against the version now stored; returns the new version.

    If yet another save came in meanwhile this raises a new :class:`ClientConflict`
    whose base is the version the user just merged against, with the merge as their
    changes.
    """
    merged = conflict.merged(choices)
    return update_client(
        store, viewer, conflict.client_id, conflict.version, merged, base=conflict.theirs
    )
