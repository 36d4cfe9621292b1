"""The tables the first screen does not read (see cm_tui.store.models, where every
table is imported from). Loaded on first use, or by models.load_all()."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cm_tui.store.models import _created, _ts
from cm_tui.store.types import UTCDateTime


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_client_at", "client_id", "occurred_at", "id"),
        # Covering for the team view's contact figures (migration 0003).
        Index(
            "ix_contacts_user_at_outcome",
            "user_id",
            "occurred_at",
            "outcome",
            "party",
            "duration_min",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id")
    user_id: int | None = Field(default=None, foreign_key="users.id")
    occurred_at: datetime = _created()
    method: str = "phone"
    direction: str = "outbound"
    party: str = "client"
    outcome: str = "reached"
    duration_min: int | None = None
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = _created()
    service_type: str | None = None  # vocab.SERVICE_TYPES (care-plan work), optional


class ContactHour(SQLModel, table=True):
    """Contacts each person logged in one UTC hour, kept by the database's triggers
    as contacts change (migration 0007): the team view's activity figures."""

    __tablename__ = "contact_hours"
    __table_args__ = {"sqlite_with_rowid": False}
    user_id: int = Field(primary_key=True)
    hour_at: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    contacts: int
    with_person: int  # with the client or caregiver (followup_queries.REACHED_PARTIES)
    reached: int  # of those, reached
    minutes: int


class PersonCounts(SQLModel, table=True):
    """Per person, kept by the database's triggers as clients, needs and follow-ups
    change (migration 0007): the team view's counts."""

    __tablename__ = "person_counts"
    __table_args__ = {"sqlite_with_rowid": False}
    user_id: int = Field(primary_key=True)
    open_needs: int = 0  # of their active clients, as care manager or CHW (once)
    cm_clients: int = 0  # active clients they are care manager of
    chw_clients: int = 0  # active clients they are CHW of
    open_followups: int = 0  # assigned to them


class ContactAddendum(SQLModel, table=True):
    """Notes are append-only: an edit of a saved contact is an addendum."""

    __tablename__ = "contact_addenda"
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    text: str = Field(sa_type=Text)
    created_at: datetime = _created()


class Screening(SQLModel, table=True):
    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_client_started", "client_id", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id")
    user_id: int | None = Field(default=None, foreign_key="users.id")
    script_id: str
    script_version: str
    status: str = "in_progress"
    started_at: datetime = _created()
    completed_at: datetime | None = _ts()
    opt_out_acknowledged: bool = False
    result_json: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )


class ScreeningAnswer(SQLModel, table=True):
    __tablename__ = "screening_answers"
    screening_id: int = Field(foreign_key="screenings.id", primary_key=True)
    item_id: str = Field(primary_key=True)
    option_ids: list[str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    free_text: str | None = None
    declined: bool = False
    answered_at: datetime = _created()


class Resource(SQLModel, table=True):
    __tablename__ = "resources"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    domains: list[str] = Field(default_factory=list, sa_column=Column(JSON(none_as_null=True)))
    phone: str | None = None
    address: str | None = None
    hours: str | None = None
    eligibility: str | None = None
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON(none_as_null=True)))
    notes: str | None = None


class Referral(SQLModel, table=True):
    __tablename__ = "referrals"
    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="needs.id", index=True)
    resource_id: int | None = Field(default=None, foreign_key="resources.id")
    status: str = "sent"
    sent_at: datetime = _created()
    closed_at: datetime | None = _ts()
    note: str | None = None


class UtilizationEvent(SQLModel, table=True):
    __tablename__ = "utilization_events"
    __table_args__ = (Index("ix_util_client_at", "client_id", "occurred_at"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id")
    kind: str
    occurred_at: datetime = _created()
    facility: str | None = None
    source: str = "manual"


class CarePlan(SQLModel, table=True):
    """A client's care plan. One ``active`` plan per client (a partial unique index);
    a new plan supersedes the old one, which is kept (``superseded``) as history."""

    __tablename__ = "care_plans"
    __table_args__ = (
        Index("ix_care_plans_client_created", "client_id", "created_at", "id"),
        # Partial: at most one *active* plan. Migration 0006 makes it on both engines
        # (postgresql_where there); naming the PostgreSQL option here would load that
        # dialect whenever the tables are defined, ~25 ms of every start (issue 8).
        # The schema always comes from the migrations, never from this metadata.
        Index(
            "ux_care_plans_one_active",
            "client_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id")
    status: str = "active"  # vocab.CARE_PLAN_STATUSES
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _created()
    updated_at: datetime = _created()
    reviewed_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    supersedes_id: int | None = Field(default=None, foreign_key="care_plans.id")
    summary: str | None = Field(default=None, sa_type=Text)
    version: int = 1


class Goal(SQLModel, table=True):
    """A goal in the client's own words first, then a measurable form."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_plan_position", "care_plan_id", "position", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    care_plan_id: int = Field(foreign_key="care_plans.id")
    client_words: str = Field(sa_type=Text)
    measurable: str | None = None
    target_date: date | None = None
    status: str = "active"  # vocab.GOAL_STATUSES
    position: int = 0
    revised_from_id: int | None = Field(default=None, foreign_key="goals.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = _created()
    updated_at: datetime = _created()
    closed_at: datetime | None = _ts()
    version: int = 1


class GoalProgress(SQLModel, table=True):
    """A dated progress note on a goal (append-only), optionally from a contact."""

    __tablename__ = "goal_progress"
    __table_args__ = (Index("ix_goal_progress_goal_at", "goal_id", "at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goals.id")
    user_id: int | None = Field(default=None, foreign_key="users.id")
    at: datetime = _created()
    note: str = Field(sa_type=Text)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id")


class Intervention(SQLModel, table=True):
    """What the team does for a goal: an owner, optionally a follow-up that carries it."""

    __tablename__ = "interventions"
    __table_args__ = (
        Index("ix_interventions_goal", "goal_id", "id"),
        Index("ix_interventions_follow_up", "follow_up_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    care_plan_id: int = Field(foreign_key="care_plans.id", index=True)
    goal_id: int | None = Field(default=None, foreign_key="goals.id")
    description: str
    owner_id: int | None = Field(default=None, foreign_key="users.id")
    follow_up_id: int | None = Field(default=None, foreign_key="follow_ups.id")
    status: str = "active"  # vocab.INTERVENTION_STATUSES
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Barrier(SQLModel, table=True):
    """What might get in the way, for the plan or for one goal."""

    __tablename__ = "barriers"
    id: int | None = Field(default=None, primary_key=True)
    care_plan_id: int = Field(foreign_key="care_plans.id", index=True)
    goal_id: int | None = Field(default=None, foreign_key="goals.id")
    description: str
    status: str = "open"  # vocab.BARRIER_STATUSES
    created_at: datetime = _created()
    resolved_at: datetime | None = _ts()


class ContactGoal(SQLModel, table=True):
    """A contact tagged with a goal it worked on."""

    __tablename__ = "contact_goals"
    __table_args__ = (Index("ix_contact_goals_goal", "goal_id", "contact_id"),)
    contact_id: int = Field(foreign_key="contacts.id", primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", primary_key=True)


class ProgramEnrollment(SQLModel, table=True):
    """Enrolment in a programme (CCM, TCM, ...), with the outreach state while the
    client is being reached (services.programmes)."""

    __tablename__ = "program_enrollments"
    __table_args__ = (
        Index("ix_enrollments_outreach", "outreach_status", "unable_to_reach_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    program: str
    start_on: date
    end_on: date | None = None
    entry_reason: str | None = None
    exit_reason: str | None = None
    consent_on: date | None = None
    discharge_on: date | None = None  # TCM: the hospital discharge date
    complexity: str | None = None  # TCM: vocab.TCM_COMPLEXITY
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime | None = _ts()
    outreach_status: str | None = None  # vocab.OUTREACH_STATUSES; None: no outreach
    outreach_started_on: date | None = None
    outreach_attempts: int = 0
    outreach_next_at: datetime | None = _ts()
    outreach_followup_id: int | None = Field(default=None, foreign_key="follow_ups.id")
    unable_to_reach_at: datetime | None = _ts()
    reviewed_by_id: int | None = Field(default=None, foreign_key="users.id")
    reviewed_at: datetime | None = _ts()
    review_note: str | None = Field(default=None, sa_type=Text)


class Draft(SQLModel, table=True):
    """Half-typed form text, saved as it is typed so a crash loses nothing."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "kind", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    kind: str
    key: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON(none_as_null=True)))
    updated_at: datetime = _created()
