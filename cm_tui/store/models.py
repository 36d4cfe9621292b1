"""The tables (DESIGN §3). Import any table from here: this module and
``models_later`` are the one place that knows their columns.

Start-up cost (issue 8): defining tables is on the path to the first frame, about
4 ms a table on the reference machine. This module defines the six the first
screen reads (meta, users, clients, follow-ups, needs, audit events); the other
seventeen are in ``models_later``, loaded the first time one of them is asked for
(``from cm_tui.store.models import Contact`` works as ever, through the module's
``__getattr__``), or by ``load_all()``, which the app calls once its first screen
is up and which migrations and schema checks call to see every table.
Annotations are real types here, not strings (no ``from __future__ import
annotations``), so Pydantic and SQLAlchemy do not parse and evaluate ~500 strings;
and no PostgreSQL-only option appears (see models_later.CarePlan), so defining them does not
load SQLAlchemy's PostgreSQL dialect for a SQLite user.
"""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from cm_tui.store.types import UTCDateTime, utcnow


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=UTCDateTime, index=index, nullable=nullable)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Meta(SQLModel, table=True):
    """Key/value facts about the database itself (demo marker, organisation name)."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str
    role: str = Field(default="care_manager")
    password_hash: str | None = None
    active: bool = True
    created_at: datetime = _created()
    failed_logins: int = 0
    last_failed_at: datetime | None = _ts()


class Client(SQLModel, table=True):
    __tablename__ = "clients"
    # Caseload windows come straight off these (scope, status, sort key..., id)
    # indexes for every sort of queries.caseload_page, and counts are covered by
    # them; the (scope, name) ones serve the list when no status is chosen.
    __table_args__ = (
        Index("ix_clients_cm_name", "care_manager_id", "family_name", "given_name", "id"),
        Index("ix_clients_chw_name", "chw_id", "family_name", "given_name", "id"),
        Index("ix_clients_name", "family_name", "given_name", "id"),
        Index(
            "ix_clients_cm_status_name",
            "care_manager_id",
            "status",
            "family_name",
            "given_name",
            "id",
        ),
        Index(
            "ix_clients_cm_status_risk",
            "care_manager_id",
            "status",
            "risk_tier",
            "family_name",
            "given_name",
            "id",
        ),
        Index("ix_clients_cm_status_last", "care_manager_id", "status", "last_contact_at", "id"),
        Index("ix_clients_cm_status_dob", "care_manager_id", "status", "dob", "id"),
        Index("ix_clients_chw_status_name", "chw_id", "status", "family_name", "given_name", "id"),
        Index("ix_clients_status_name", "status", "family_name", "given_name", "id"),
        Index("ix_clients_status_risk", "status", "risk_tier", "family_name", "given_name", "id"),
        Index("ix_clients_status_last", "status", "last_contact_at", "id"),
        Index("ix_clients_status_dob", "status", "dob", "id"),
        Index("ix_clients_program", "program"),
    )
    id: int | None = Field(default=None, primary_key=True)
    mrn: str | None = Field(default=None, unique=True)
    given_name: str
    family_name: str
    preferred_name: str | None = None
    dob: date | None = None
    sex: str | None = None
    language: str | None = None
    phone: str | None = None
    alt_phone: str | None = None
    email: str | None = None
    address: str | None = None
    preferred_contact: str = "phone"
    best_time: str | None = None
    risk_tier: str = "low"
    program: str | None = None
    status: str = "active"
    enrolled_on: date | None = None
    care_manager_id: int | None = Field(default=None, foreign_key="users.id")
    chw_id: int | None = Field(default=None, foreign_key="users.id")
    pcp_name: str | None = None
    pcp_practice: str | None = None
    pcp_phone: str | None = None
    what_matters: str | None = Field(default=None, sa_type=Text)
    consent_on: date | None = None
    # Denormalised by the services that write contacts, so the caseload can sort
    # and filter on them from an index instead of scanning contacts.
    last_contact_at: datetime | None = _ts()
    last_reached_at: datetime | None = _ts()
    created_at: datetime = _created()
    updated_at: datetime = _created()
    version: int = 1


class Need(SQLModel, table=True):
    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_client_status", "client_id", "status"),
        Index("ix_needs_status_client", "status", "client_id"),  # team view: open needs
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id")
    domain: str
    screening_id: int | None = Field(default=None, foreign_key="screenings.id")
    status: str = "identified"
    note: str | None = None
    opened_at: datetime = _created()
    closed_at: datetime | None = _ts()


class FollowUp(SQLModel, table=True):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_followups_assignee_status_due", "assignee_id", "status", "due_at"),
        Index("ix_followups_client_status_due", "client_id", "status", "due_at"),
        Index("ix_followups_status_due", "status", "due_at"),
        # The queue: windows sorted by priority then due, and the done tab (0003).
        Index(
            "ix_followups_assignee_open_queue", "assignee_id", "status", "priority", "due_at", "id"
        ),
        Index("ix_followups_open_queue", "status", "priority", "due_at", "id"),
        Index("ix_followups_assignee_done", "assignee_id", "status", "completed_at", "id"),
        Index("ix_followups_done", "status", "completed_at", "id"),
        Index("ix_followups_assignee_kind_created", "assignee_id", "status", "kind", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id")
    assignee_id: int | None = Field(default=None, foreign_key="users.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    title: str
    kind: str = "call"
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    priority: str = "normal"
    status: str = "open"
    recurrence: str | None = None
    snoozed_until: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    completed_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    source: str = "manual"
    created_at: datetime = _created()
    version: int = 1


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _created()
    user_id: int | None = Field(default=None, foreign_key="users.id")
    actor: str | None = None
    action: str
    entity: str | None = None
    entity_id: int | None = None
    detail: str | None = Field(default=None, sa_type=Text)
    prev_hash: str = ""
    hash: str = ""


# ---------------------------------------------------------------- the later tables

LATER = (
    "Contact",
    "ContactAddendum",
    "ContactHour",
    "PersonCounts",
    "Screening",
    "ScreeningAnswer",
    "Resource",
    "Referral",
    "UtilizationEvent",
    "CarePlan",
    "Goal",
    "GoalProgress",
    "Intervention",
    "Barrier",
    "ContactGoal",
    "ProgramEnrollment",
    "Draft",
)


def load_all() -> None:
    """Define every table (in SQLModel.metadata): for migrations, schema checks, and
    the app once its first screen is painted."""
    from cm_tui.store import models_later  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in LATER:
        from cm_tui.store import models_later

        return getattr(models_later, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:  # the later tables as this module's own, for type checkers
    from cm_tui.store.models_later import (
        Barrier as Barrier,
    )
    from cm_tui.store.models_later import (
        CarePlan as CarePlan,
    )
    from cm_tui.store.models_later import (
        Contact as Contact,
    )
    from cm_tui.store.models_later import (
        ContactAddendum as ContactAddendum,
    )
    from cm_tui.store.models_later import (
        ContactGoal as ContactGoal,
    )
    from cm_tui.store.models_later import (
        ContactHour as ContactHour,
    )
    from cm_tui.store.models_later import (
        Draft as Draft,
    )
    from cm_tui.store.models_later import (
        Goal as Goal,
    )
    from cm_tui.store.models_later import (
        GoalProgress as GoalProgress,
    )
    from cm_tui.store.models_later import (
        Intervention as Intervention,
    )
    from cm_tui.store.models_later import (
        PersonCounts as PersonCounts,
    )
    from cm_tui.store.models_later import (
        ProgramEnrollment as ProgramEnrollment,
    )
    from cm_tui.store.models_later import (
        Referral as Referral,
    )
    from cm_tui.store.models_later import (
        Resource as Resource,
    )
    from cm_tui.store.models_later import (
        Screening as Screening,
    )
    from cm_tui.store.models_later import (
        ScreeningAnswer as ScreeningAnswer,
    )
    from cm_tui.store.models_later import (
        UtilizationEvent as UtilizationEvent,
    )
