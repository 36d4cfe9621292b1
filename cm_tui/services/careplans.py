"""Care plans: what matters to the person, as goals in their own words, with what the
team does (interventions) and what might get in the way (barriers).

* One ``active`` plan per client (a partial unique index guards it); the plan is
  created with the first goal. :func:`new_plan` starts a fresh plan that
  supersedes the current one, which is kept as history (:func:`plan_history`).
* A goal is the client's words first (required), then a measurable form and a
  target date. Small wording fixes are edits (:func:`edit_goal`); a changed goal is
  a revision (:func:`revise_goal`): the old goal is kept with status ``revised``
  and the new one points back at it.
* Progress notes are append-only (:func:`record_progress`), optionally tied to the
  contact where the work happened; :func:`set_goal_status` marks a goal ``met`` or
  ``not_met`` (or back to ``active``).
* An intervention has an owner and may carry a follow-up, made through
  :func:`cm_tui.services.followups.create_followup` in the same transaction.
* Every read of the plan is an audited view; every change one transaction with its
  audit event. Goal edits are checked against the version the user saw
  (:class:`CarePlanConflict`).

Reads return small frozen dataclasses for display; lists are windowed (``limit``,
keyset ``after``/``before``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import func, update
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from cm_tui.services import followups
from cm_tui.services.clients import NotAllowed
from cm_tui.services.contacts import ContactError, refuse_nul
from cm_tui.services.followups import _InTransaction
from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import (
    Barrier,
    CarePlan,
    Client,
    Contact,
    ContactGoal,
    FollowUp,
    Goal,
    GoalProgress,
    Intervention,
    User,
)
from cm_tui.store.queries import open_client
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import INTERVENTION_STATUSES, label

__all__ = [
    "BarrierRow",
    "CarePlanConflict",
    "CarePlanError",
    "GoalChoice",
    "GoalDetail",
    "GoalRow",
    "InterventionRow",
    "NotAllowed",
    "PlanInfo",
    "PlanPanel",
    "ProgressRow",
    "TaggedContact",
    "active_plan",
    "add_barrier",
    "add_goal",
    "add_intervention",
    "close_plan",
    "edit_goal",
    "goal_choices",
    "goal_detail",
    "goals_page",
    "new_plan",
    "plan_history",
    "plan_panel",
    "progress_page",
    "record_progress",
    "resolve_barrier",
    "revise_goal",
    "set_goal_status",
    "set_intervention_status",
]

WORDS_MAX = 1000
MEASURABLE_MAX = 500
NOTE_MAX = 4000
DESCRIPTION_MAX = 500
GOAL_SET_STATUSES = ("active", "met", "not_met")


class CarePlanError(ValueError):
    """Input the service refuses, worded for the person at the keyboard."""


class CarePlanConflict(CarePlanError):
    """Someone changed the goal since this user loaded it; nothing was saved."""


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class PlanInfo:
    id: int
    client_id: int
    status: str  # active | superseded | closed
    created_at: datetime
    created_by: str | None  # display name
    updated_at: datetime
    closed_at: datetime | None
    supersedes_id: int | None
    version: int
    goals_total: int = 0
    goals_met: int = 0


@dataclass(frozen=True)
class GoalRow:
    id: int
    care_plan_id: int
    position: int
    client_words: str
    measurable: str | None
    target_date: date | None
    status: str  # active | met | not_met | revised
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int
    revised_from_id: int | None = None
    progress_count: int = 0
    last_progress_at: datetime | None = None
    last_progress_note: str | None = None
    interventions_open: int = 0
    barriers_open: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class ProgressRow:
    id: int
    goal_id: int
    at: datetime
    user_name: str | None
    note: str
    contact_id: int | None


@dataclass(frozen=True)
class InterventionRow:
    id: int
    care_plan_id: int
    goal_id: int | None
    description: str
    owner_id: int | None
    owner_name: str | None
    status: str  # active | done | stopped
    follow_up_id: int | None
    follow_up_due_at: datetime | None
    follow_up_status: str | None
    created_at: datetime


@dataclass(frozen=True)
class BarrierRow:
    id: int
    care_plan_id: int
    goal_id: int | None
    description: str
    status: str  # open | resolved
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class TaggedContact:
    """A contact tagged with a goal (the goal detail's "worked on in" list)."""

    id: int
    occurred_at: datetime
    method: str
    outcome: str
    service_type: str | None
    user_name: str | None
    note: str


@dataclass(frozen=True)
class PlanPanel:
    """What the client screen's care-plan panel shows."""

    client_id: int
    what_matters: str | None
    plan: PlanInfo | None
    goals: list[GoalRow] = field(default_factory=list)
    interventions: list[InterventionRow] = field(default_factory=list)
    barriers: list[BarrierRow] = field(default_factory=list)
    more_goals: bool = False


@dataclass(frozen=True)
class GoalDetail:
    goal: GoalRow
    progress: list[ProgressRow]
    interventions: list[InterventionRow]
    barriers: list[BarrierRow]
    contacts: list[TaggedContact]
    revised_to_id: int | None = None  # the goal that replaced this one, if revised


@dataclass(frozen=True)
class GoalChoice:
    """An open goal to tag a contact with (the contact form's picker)."""

    id: int
    label: str  # the client's words, shortened to one line


# ---------------------------------------------------------------- checks


def _text(value: str | None, what: str, limit: int, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise CarePlanError(f"{what} is required.")
        return None
    try:
        refuse_nul(value, what)
    except ContactError as exc:
        raise CarePlanError(str(exc)) from None
    text = value.strip()
    if len(text) > limit:
        raise CarePlanError(f"{what} holds at most {limit:,} characters.")
    return text


def _words(value: str) -> str:
    text = _text(value, "The client's own words", WORDS_MAX, required=True)
    assert text is not None
    return text


def _client(session: Session, viewer: Viewer, client_id: int) -> Client:
    client = open_client(session, viewer, client_id)
    if client is None:
        if session.get(Client, client_id) is None:
            raise CarePlanError("That client record no longer exists.")
        raise NotAllowed("You do not have access to this client's record.")
    return client


_PlanItem = TypeVar("_PlanItem", Goal, Intervention, Barrier)
_Row = TypeVar("_Row")


def _plan_item(
    session: Session, viewer: Viewer, model: type[_PlanItem], item_id: int, what: str
) -> _PlanItem:
    """A goal, intervention or barrier, after checking the viewer may see its client."""
    item = session.get(model, item_id)
    if item is None:
        raise CarePlanError(f"That {what} no longer exists.")
    plan = session.get(CarePlan, item.care_plan_id)
    assert plan is not None
    _client(session, viewer, plan.client_id)
    return item


def _goal(session: Session, viewer: Viewer, goal_id: int, version: int | None = None) -> Goal:
    goal = _plan_item(session, viewer, Goal, goal_id, "goal")
    if version is not None and goal.version != version:
        raise CarePlanConflict(
            f"Someone else changed this goal a moment ago (it is now {label(goal.status)}). "
            "Nothing was saved; look again and retry."
        )
    return goal


def _plan_of(session: Session, goal: Goal) -> CarePlan:
    plan = session.get(CarePlan, goal.care_plan_id)
    assert plan is not None
    return plan


def _active(session: Session, client_id: int) -> CarePlan | None:
    return session.exec(
        select(CarePlan).where(CarePlan.client_id == client_id, CarePlan.status == "active")
    ).first()


def _lock_client(session: Session, client_id: int) -> None:
    """Serialise plan creation per client (FOR UPDATE on PostgreSQL; SQLite writers
    are already serial)."""
    session.execute(select(Client.id).where(col(Client.id) == client_id).with_for_update())


def _ensure_plan(session: Session, viewer: Viewer, client_id: int) -> CarePlan:
    plan = _active(session, client_id)
    if plan is not None:
        return plan
    _lock_client(session, client_id)
    plan = _active(session, client_id)
    if plan is not None:
        return plan
    now = utcnow()
    plan = CarePlan(client_id=client_id, created_by_id=viewer.id, created_at=now, updated_at=now)
    session.add(plan)
    session.flush()
    audit.record_by(
        session, viewer, "create", "care_plan", plan.id, f"client {client_id}: care plan"
    )
    return plan


def _touch(session: Session, plan_id: int) -> None:
    session.execute(
        update(CarePlan)
        .where(col(CarePlan.id) == plan_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _bump_goal(session: Session, goal: Goal, **values: object) -> None:
    assert goal.id is not None
    result = session.execute(
        update(Goal)
        .where(col(Goal.id) == goal.id, col(Goal.version) == goal.version)
        .values(version=goal.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise CarePlanConflict(
            "Someone else changed this goal a moment ago. Nothing was saved; look again."
        )
    session.expire(goal)


def _names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(wanted))).all()
    return {uid: name for uid, name in rows if uid is not None}


def _newest_first(
    query: SelectOfScalar[_Row],
    at: Mapped[datetime],
    key: Mapped[int | None],
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> SelectOfScalar[_Row]:
    """``query`` newest first by (at, key), ``limit`` rows; keyset: ``before`` = (at,
    key) of the last row shown."""
    if before is not None:
        last_at, last_key = before
        query = query.where((at < last_at) | ((at == last_at) & (key < last_key)))
    return query.order_by(at.desc(), key.desc()).limit(limit)


def _open_counts(
    session: Session, model: type[Intervention] | type[Barrier], ids: list[int], status: str
) -> dict[int | None, int]:
    """How many of ``model`` with ``status`` each goal in ``ids`` has."""
    return dict(
        session.execute(
            select(model.goal_id, func.count())
            .where(col(model.goal_id).in_(ids), model.status == status)
            .group_by(col(model.goal_id))
        ).all()
    )


def _on_plan(
    session: Session, model: type[_PlanItem], plan_id: int, status: str, limit: int
) -> Sequence[_PlanItem]:
    """The first ``limit`` of a plan's ``model`` rows with ``status``, oldest first."""
    return session.exec(
        select(model)
        .where(model.care_plan_id == plan_id, model.status == status)
        .order_by(col(model.id))
        .limit(limit)
    ).all()


def _record_plan_view(
    session: Session, viewer: Viewer, client_id: int, plan: CarePlan | None, what: str
) -> None:
    detail = f"client {client_id}: {what}"
    audit.record_by(session, viewer, "view", "care_plan", plan.id if plan else None, detail)


# ---------------------------------------------------------------- row builders


def _plan_info(session: Session, plan: CarePlan) -> PlanInfo:
    assert plan.id is not None
    counts = dict(
        session.execute(
            select(Goal.status, func.count())
            .where(Goal.care_plan_id == plan.id)
            .group_by(col(Goal.status))
        ).all()
    )
    names = _names(session, [plan.created_by_id])
    return PlanInfo(
        id=plan.id,
        client_id=plan.client_id,
        status=plan.status,
        created_at=plan.created_at,
        created_by=names.get(plan.created_by_id) if plan.created_by_id else None,
        updated_at=plan.updated_at,
        closed_at=plan.closed_at,
        supersedes_id=plan.supersedes_id,
        version=plan.version,
        goals_total=sum(n for s, n in counts.items() if s != "revised"),
        goals_met=counts.get("met", 0),
    )


def _goal_rows(session: Session, goals: Sequence[Goal]) -> list[GoalRow]:
    ids = [g.id for g in goals if g.id is not None]
    if not ids:
        return []
    progress = {
        gid: (n, last)
        for gid, n, last in session.execute(
            select(GoalProgress.goal_id, func.count(), func.max(GoalProgress.at))
            .where(col(GoalProgress.goal_id).in_(ids))
            .group_by(col(GoalProgress.goal_id))
        )
    }
    last_notes: dict[int, str] = {}
    for gid in ids:
        if gid in progress:
            note = session.exec(
                _newest_first(
                    select(GoalProgress.note).where(GoalProgress.goal_id == gid),
                    col(GoalProgress.at),
                    col(GoalProgress.id),
                    1,
                )
            ).first()
            if note is not None:
                last_notes[gid] = note
    open_iv = _open_counts(session, Intervention, ids, "active")
    open_bar = _open_counts(session, Barrier, ids, "open")
    out = []
    for g in goals:
        assert g.id is not None
        n, last = progress.get(g.id, (0, None))
        out.append(
            GoalRow(
                id=g.id,
                care_plan_id=g.care_plan_id,
                position=g.position,
                client_words=g.client_words,
                measurable=g.measurable,
                target_date=g.target_date,
                status=g.status,
                created_at=g.created_at,
                updated_at=g.updated_at,
                closed_at=g.closed_at,
                version=g.version,
                revised_from_id=g.revised_from_id,
                progress_count=n,
                last_progress_at=last,
                last_progress_note=last_notes.get(g.id),
                interventions_open=open_iv.get(g.id, 0),
                barriers_open=open_bar.get(g.id, 0),
            )
        )
    return out


def _goal_row(session: Session, goal: Goal) -> GoalRow:
    session.refresh(goal)
    return _goal_rows(session, [goal])[0]


def _intervention_rows(session: Session, rows: Sequence[Intervention]) -> list[InterventionRow]:
    names = _names(session, [r.owner_id for r in rows])
    fu_ids = [r.follow_up_id for r in rows if r.follow_up_id is not None]
    fus = {
        fid: (due, status)
        for fid, due, status in session.execute(
            select(FollowUp.id, FollowUp.due_at, FollowUp.status).where(
                col(FollowUp.id).in_(fu_ids)
            )
        )
    }
    out = []
    for r in rows:
        assert r.id is not None
        due, status = fus.get(r.follow_up_id or -1, (None, None))
        out.append(
            InterventionRow(
                id=r.id,
                care_plan_id=r.care_plan_id,
                goal_id=r.goal_id,
                description=r.description,
                owner_id=r.owner_id,
                owner_name=names.get(r.owner_id) if r.owner_id else None,
                status=r.status,
                follow_up_id=r.follow_up_id,
                follow_up_due_at=due,
                follow_up_status=status,
                created_at=r.created_at,
            )
        )
    return out


def _barrier_row(b: Barrier) -> BarrierRow:
    assert b.id is not None
    return BarrierRow(
        b.id, b.care_plan_id, b.goal_id, b.description, b.status, b.created_at, b.resolved_at
    )


def _progress_rows(session: Session, rows: Sequence[GoalProgress]) -> list[ProgressRow]:
    names = _names(session, [r.user_id for r in rows])
    out = []
    for r in rows:
        assert r.id is not None
        who = names.get(r.user_id) if r.user_id else None
        out.append(ProgressRow(r.id, r.goal_id, r.at, who, r.note, r.contact_id))
    return out


# ---------------------------------------------------------------- plans


def active_plan(store: Store, viewer: Viewer, client_id: int) -> PlanInfo | None:
    """The client's active plan (None: no plan yet). An audited view."""
    with store.write() as session:
        _client(session, viewer, client_id)
        plan = _active(session, client_id)
        _record_plan_view(session, viewer, client_id, plan, "care plan")
        return _plan_info(session, plan) if plan is not None else None


def new_plan(
    store: Store,
    viewer: Viewer,
    client_id: int,
    *,
    summary: str | None = None,
    carry_over_goals: bool = True,
) -> PlanInfo:
    """Start a new plan; the current active plan (if any) becomes ``superseded`` and
    is kept. With ``carry_over_goals`` the open goals are copied into the new plan
    (same words, measure and target; their history stays on the old plan)."""
    summary = _text(summary, "The summary", NOTE_MAX, required=False)
    now = utcnow()
    with store.write() as session:
        _client(session, viewer, client_id)
        _lock_client(session, client_id)
        old = _active(session, client_id)
        carried: list[Goal] = []
        if old is not None:
            if carry_over_goals:
                carried = list(
                    session.exec(
                        select(Goal)
                        .where(Goal.care_plan_id == old.id, Goal.status == "active")
                        .order_by(col(Goal.position), col(Goal.id))
                    ).all()
                )
            session.execute(
                update(CarePlan)
                .where(col(CarePlan.id) == old.id)
                .values(status="superseded", closed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            session.flush()
        plan = CarePlan(
            client_id=client_id,
            created_by_id=viewer.id,
            created_at=now,
            updated_at=now,
            supersedes_id=old.id if old else None,
            summary=summary,
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        for i, g in enumerate(carried, 1):
            session.add(
                Goal(
                    care_plan_id=plan.id,
                    client_words=g.client_words,
                    measurable=g.measurable,
                    target_date=g.target_date,
                    position=i,
                    created_by_id=viewer.id,
                    created_at=now,
                    updated_at=now,
                )
            )
        session.flush()
        detail = f"client {client_id}: new care plan" + (
            f", supersedes plan {old.id} ({len(carried)} goals carried over)" if old else ""
        )
        audit.record_by(session, viewer, "create", "care_plan", plan.id, detail)
        return _plan_info(session, plan)


def close_plan(store: Store, viewer: Viewer, plan_id: int) -> PlanInfo:
    """Close the active plan (the client leaves care management); kept as history."""
    now = utcnow()
    with store.write() as session:
        plan = session.get(CarePlan, plan_id)
        if plan is None:
            raise CarePlanError("That care plan no longer exists.")
        _client(session, viewer, plan.client_id)
        if plan.status != "active":
            raise CarePlanError(f"This plan is already {plan.status}.")
        plan.status, plan.closed_at, plan.updated_at = "closed", now, now
        plan.version += 1
        session.add(plan)
        session.flush()
        audit.record_by(session, viewer, "update", "care_plan", plan_id, "closed")
        return _plan_info(session, plan)


def plan_history(
    store: Store,
    viewer: Viewer,
    client_id: int,
    *,
    before: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> list[PlanInfo]:
    """The client's plans, newest first (keyset: ``before`` = (created_at, id) of the
    last row shown). An audited view."""
    with store.write() as session:
        _client(session, viewer, client_id)
        plans = session.exec(
            _newest_first(
                select(CarePlan).where(CarePlan.client_id == client_id),
                col(CarePlan.created_at),
                col(CarePlan.id),
                limit,
                before,
            )
        ).all()
        audit.record_by(
            session, viewer, "view", "care_plan", None, f"client {client_id}: plan history"
        )
        return [_plan_info(session, p) for p in plans]


# ---------------------------------------------------------------- goals


def add_goal(
    store: Store,
    viewer: Viewer,
    client_id: int,
    *,
    client_words: str,
    measurable: str | None = None,
    target_date: date | None = None,
) -> GoalRow:
    """A new goal on the active plan (the plan is created with the first goal).

    ``client_words`` (what the person said, as they said it) is required;
    ``measurable`` (how the team will know) and ``target_date`` are optional.
    """
    words = _words(client_words)
    measure = _text(measurable, "The measurable form", MEASURABLE_MAX, required=False)
    now = utcnow()
    with store.write() as session:
        _client(session, viewer, client_id)
        plan = _ensure_plan(session, viewer, client_id)
        assert plan.id is not None
        top = session.exec(
            select(func.max(Goal.position)).where(Goal.care_plan_id == plan.id)
        ).first()
        goal = Goal(
            care_plan_id=plan.id,
            client_words=words,
            measurable=measure,
            target_date=target_date,
            position=(top or 0) + 1,
            created_by_id=viewer.id,
            created_at=now,
            updated_at=now,
        )
        session.add(goal)
        session.flush()
        _touch(session, plan.id)
        audit.record_by(
            session, viewer, "create", "goal", goal.id, f"client {client_id}: plan {plan.id}"
        )
        return _goal_row(session, goal)


def edit_goal(
    store: Store,
    viewer: Viewer,
    goal_id: int,
    version: int,
    *,
    client_words: str,
    measurable: str | None,
    target_date: date | None,
) -> GoalRow:
    """Correct an open goal's wording, measure or target (same goal). To change what
    the goal is, use :func:`revise_goal`, which keeps the old one."""
    words = _words(client_words)
    measure = _text(measurable, "The measurable form", MEASURABLE_MAX, required=False)
    with store.write() as session:
        goal = _goal(session, viewer, goal_id, version)
        if goal.status != "active":
            raise CarePlanError(f"This goal is {label(goal.status)}; only an open goal is edited.")
        _bump_goal(session, goal, client_words=words, measurable=measure, target_date=target_date)
        _touch(session, goal.care_plan_id)
        audit.record_by(session, viewer, "update", "goal", goal_id, "edited")
        return _goal_row(session, goal)


def revise_goal(
    store: Store,
    viewer: Viewer,
    goal_id: int,
    version: int,
    *,
    client_words: str,
    measurable: str | None = None,
    target_date: date | None = None,
    note: str | None = None,
) -> GoalRow:
    """Replace an open goal by a new one: the old is kept with status ``revised``
    (and a progress note saying why, if given); the new goal takes its place in the
    plan and points back at it (``revised_from_id``). Returns the new goal."""
    words = _words(client_words)
    measure = _text(measurable, "The measurable form", MEASURABLE_MAX, required=False)
    why = _text(note, "The note", NOTE_MAX, required=False)
    now = utcnow()
    with store.write() as session:
        old = _goal(session, viewer, goal_id, version)
        if old.status != "active":
            raise CarePlanError(f"This goal is {label(old.status)}; only an open goal is revised.")
        plan = _plan_of(session, old)
        if plan.status != "active":
            raise CarePlanError("This goal belongs to an old plan; revise it on the current one.")
        position = old.position
        _bump_goal(session, old, status="revised", closed_at=now)
        if why:
            session.add(GoalProgress(goal_id=goal_id, user_id=viewer.id, at=now, note=why))
        new = Goal(
            care_plan_id=plan.id,  # type: ignore[arg-type]
            client_words=words,
            measurable=measure,
            target_date=target_date,
            position=position,
            revised_from_id=goal_id,
            created_by_id=viewer.id,
            created_at=now,
            updated_at=now,
        )
        session.add(new)
        session.flush()
        assert plan.id is not None
        _touch(session, plan.id)
        audit.record_by(
            session, viewer, "update", "goal", goal_id, f"revised: replaced by goal {new.id}"
        )
        audit.record_by(session, viewer, "create", "goal", new.id, f"revision of goal {goal_id}")
        return _goal_row(session, new)


def record_progress(
    store: Store,
    viewer: Viewer,
    goal_id: int,
    note: str,
    *,
    contact_id: int | None = None,
    at: datetime | None = None,
) -> ProgressRow:
    """Append a progress note to a goal, optionally tied to the contact where it
    happened (which is then also tagged with the goal)."""
    text = _text(note, "The progress note", NOTE_MAX, required=True)
    assert text is not None
    when = at or utcnow()
    if when.tzinfo is None:
        raise CarePlanError("The time of a progress note must be timezone-aware.")
    with store.write() as session:
        goal = _goal(session, viewer, goal_id)
        plan = _plan_of(session, goal)
        if contact_id is not None:
            _tag_contact(session, plan.client_id, contact_id, goal_id)
        row = GoalProgress(
            goal_id=goal_id, user_id=viewer.id, at=when, note=text, contact_id=contact_id
        )
        session.add(row)
        session.flush()
        assert plan.id is not None
        _touch(session, plan.id)
        detail = "progress noted" + (f" (contact {contact_id})" if contact_id else "")
        audit.record_by(session, viewer, "update", "goal", goal_id, detail)
        return _progress_rows(session, [row])[0]


def _tag_contact(session: Session, client_id: int, contact_id: int, goal_id: int) -> None:
    owner = session.exec(select(Contact.client_id).where(col(Contact.id) == contact_id)).first()
    if owner != client_id:
        raise CarePlanError("That contact is not with this goal's client.")
    exists = session.get(ContactGoal, (contact_id, goal_id))
    if exists is None:
        session.add(ContactGoal(contact_id=contact_id, goal_id=goal_id))
        session.flush()


def set_goal_status(
    store: Store,
    viewer: Viewer,
    goal_id: int,
    version: int,
    status: str,
    *,
    note: str | None = None,
) -> GoalRow:
    """Mark a goal ``met`` or ``not_met`` (or reopen it as ``active``), with an
    optional progress note saying so."""
    if status not in GOAL_SET_STATUSES:
        raise CarePlanError("A goal is marked met, not met, or active again.")
    why = _text(note, "The note", NOTE_MAX, required=False)
    now = utcnow()
    with store.write() as session:
        goal = _goal(session, viewer, goal_id, version)
        if goal.status == "revised":
            raise CarePlanError("This goal was revised; change the goal that replaced it.")
        if goal.status == status:
            raise CarePlanError(f"This goal is already {label(status)}.")
        _bump_goal(session, goal, status=status, closed_at=None if status == "active" else now)
        if why:
            session.add(GoalProgress(goal_id=goal_id, user_id=viewer.id, at=now, note=why))
        _touch(session, goal.care_plan_id)
        audit.record_by(session, viewer, "update", "goal", goal_id, f"status {status}")
        return _goal_row(session, goal)


# ---------------------------------------------------------------- interventions, barriers


def add_intervention(
    store: Store,
    viewer: Viewer,
    goal_id: int,
    description: str,
    *,
    owner_id: int | None = None,
    followup_due: datetime | None = None,
    followup_title: str | None = None,
    followup_kind: str = "call",
    followup_id: int | None = None,
) -> InterventionRow:
    """What the team will do for a goal. ``owner_id`` defaults to the viewer.

    With ``followup_due`` a follow-up is created for the owner through
    :func:`cm_tui.services.followups.create_followup` in the same transaction
    (title: ``followup_title`` or the description); its rules apply (a care manager
    or CHW adds to their own list, a supervisor to anyone's). Alternatively
    ``followup_id`` links an existing follow-up of the same client.
    """
    text = _text(description, "What the team will do", DESCRIPTION_MAX, required=True)
    assert text is not None
    if followup_due is not None and followup_id is not None:
        raise CarePlanError("Either create a follow-up or link one, not both.")
    owner = owner_id if owner_id is not None else viewer.id
    now = utcnow()
    with store.write() as session:
        goal = _goal(session, viewer, goal_id)
        if goal.status != "active":
            raise CarePlanError(f"This goal is {label(goal.status)}; add to an open goal.")
        plan = _plan_of(session, goal)
        user = session.get(User, owner)
        if user is None or not user.active:
            raise CarePlanError("The owner must be an active user.")
        link = followup_id
        if followup_due is not None:
            title = followup_title or text
            created = followups.create_followup(
                _InTransaction(store, session),
                viewer,
                plan.client_id,
                title=title[: followups.TITLE_MAX],
                due_at=followup_due,
                kind=followup_kind,
                assignee_id=owner,
                source="care_plan",
            )
            link = created.id
        elif link is not None:
            fu_client = session.exec(
                select(FollowUp.client_id).where(col(FollowUp.id) == link)
            ).first()
            if fu_client != plan.client_id:
                raise CarePlanError("That follow-up is not this client's.")
        row = Intervention(
            care_plan_id=goal.care_plan_id,
            goal_id=goal_id,
            description=text,
            owner_id=owner,
            follow_up_id=link,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        _touch(session, goal.care_plan_id)
        detail = f"goal {goal_id}, owner user {owner}" + (f", follow-up {link}" if link else "")
        audit.record_by(session, viewer, "create", "intervention", row.id, detail)
        return _intervention_rows(session, [row])[0]


def set_intervention_status(
    store: Store, viewer: Viewer, intervention_id: int, status: str
) -> InterventionRow:
    """Mark an intervention ``done`` or ``stopped`` (or ``active`` again)."""
    if status not in INTERVENTION_STATUSES:
        raise CarePlanError(
            f"Status must be one of: {', '.join(label(s) for s in INTERVENTION_STATUSES)}."
        )
    with store.write() as session:
        row = _plan_item(session, viewer, Intervention, intervention_id, "intervention")
        row.status, row.updated_at = status, utcnow()
        session.add(row)
        session.flush()
        audit.record_by(
            session, viewer, "update", "intervention", intervention_id, f"status {status}"
        )
        return _intervention_rows(session, [row])[0]


def add_barrier(
    store: Store,
    viewer: Viewer,
    client_id: int,
    description: str,
    *,
    goal_id: int | None = None,
) -> BarrierRow:
    """What might get in the way, for the whole plan or for one goal (the plan is
    created if there is none yet)."""
    text = _text(description, "The barrier", DESCRIPTION_MAX, required=True)
    assert text is not None
    with store.write() as session:
        _client(session, viewer, client_id)
        if goal_id is not None:
            goal = _goal(session, viewer, goal_id)
            plan = _plan_of(session, goal)
            if plan.client_id != client_id:
                raise CarePlanError("That goal is not this client's.")
        else:
            plan = _ensure_plan(session, viewer, client_id)
        assert plan.id is not None
        row = Barrier(care_plan_id=plan.id, goal_id=goal_id, description=text)
        session.add(row)
        session.flush()
        _touch(session, plan.id)
        audit.record_by(session, viewer, "create", "barrier", row.id, f"client {client_id}")
        return _barrier_row(row)


def resolve_barrier(store: Store, viewer: Viewer, barrier_id: int) -> BarrierRow:
    with store.write() as session:
        row = _plan_item(session, viewer, Barrier, barrier_id, "barrier")
        if row.status == "resolved":
            raise CarePlanError("This barrier is already resolved.")
        row.status, row.resolved_at = "resolved", utcnow()
        session.add(row)
        session.flush()
        audit.record_by(session, viewer, "update", "barrier", barrier_id, "resolved")
        return _barrier_row(row)


# ---------------------------------------------------------------- windowed reads


def _goals_query(
    plan_id: int, *, open_only: bool, after: tuple[int, int] | None, limit: int
) -> SelectOfScalar[Goal]:
    query = select(Goal).where(Goal.care_plan_id == plan_id)
    if open_only:
        query = query.where(Goal.status == "active")
    else:
        query = query.where(Goal.status != "revised")
    if after is not None:
        pos, gid = after
        query = query.where(
            (col(Goal.position) > pos) | ((col(Goal.position) == pos) & (col(Goal.id) > gid))
        )
    return query.order_by(col(Goal.position), col(Goal.id)).limit(limit)


def _progress_query(
    goal_id: int, limit: int, before: tuple[datetime, int] | None = None
) -> SelectOfScalar[GoalProgress]:
    query = select(GoalProgress).where(GoalProgress.goal_id == goal_id)
    return _newest_first(query, col(GoalProgress.at), col(GoalProgress.id), limit, before)


def plan_panel(
    store: Store, viewer: Viewer, client_id: int, *, goal_limit: int = 8, audited: bool = True
) -> PlanPanel:
    """The client screen's care-plan panel: "what matters", the active plan, its first
    ``goal_limit`` goals in plan order (revised ones left out), their
    open interventions and the open barriers. An audited view (``audited=False``: part
    of a view audited by its caller, e.g. the client brief's own event)."""
    with store.write() as session:
        client = _client(session, viewer, client_id)
        plan = _active(session, client_id)
        if audited:
            _record_plan_view(session, viewer, client_id, plan, "care-plan panel")
        if plan is None or plan.id is None:
            return PlanPanel(client_id, client.what_matters, None)
        goals = list(
            session.exec(
                _goals_query(plan.id, open_only=False, after=None, limit=goal_limit + 1)
            ).all()
        )
        more = len(goals) > goal_limit
        goals = goals[:goal_limit]
        interventions = _on_plan(session, Intervention, plan.id, "active", goal_limit * 4)
        barriers = _on_plan(session, Barrier, plan.id, "open", goal_limit * 2)
        return PlanPanel(
            client_id,
            client.what_matters,
            _plan_info(session, plan),
            _goal_rows(session, goals),
            _intervention_rows(session, interventions),
            [_barrier_row(b) for b in barriers],
            more,
        )


def goals_page(
    store: Store,
    viewer: Viewer,
    client_id: int,
    *,
    plan_id: int | None = None,
    open_only: bool = False,
    after: tuple[int, int] | None = None,
    limit: int = 20,
) -> list[GoalRow]:
    """A window of a plan's goals in plan order (default: the active plan; revised
    goals left out). Keyset: ``after`` = (position, id) of the last row shown."""
    with store.write() as session:
        _client(session, viewer, client_id)
        if plan_id is None:
            plan = _active(session, client_id)
            if plan is None:
                return []
            plan_id = plan.id
        else:
            plan = session.get(CarePlan, plan_id)
            if plan is None or plan.client_id != client_id:
                raise CarePlanError("That plan is not this client's.")
        assert plan_id is not None
        goals = session.exec(
            _goals_query(plan_id, open_only=open_only, after=after, limit=limit)
        ).all()
        audit.record_by(session, viewer, "view", "care_plan", plan_id, f"client {client_id}: goals")
        return _goal_rows(session, goals)


def goal_detail(store: Store, viewer: Viewer, goal_id: int, *, limit: int = 20) -> GoalDetail:
    """One goal with its newest ``limit`` progress notes, interventions, barriers and
    tagged contacts. An audited view."""
    with store.write() as session:
        goal = _goal(session, viewer, goal_id)
        progress = session.exec(_progress_query(goal_id, limit)).all()
        ivs = session.exec(
            select(Intervention)
            .where(Intervention.goal_id == goal_id)
            .order_by(col(Intervention.id))
            .limit(limit)
        ).all()
        bars = session.exec(
            select(Barrier).where(Barrier.goal_id == goal_id).order_by(col(Barrier.id)).limit(limit)
        ).all()
        contacts = session.exec(
            _newest_first(
                select(Contact)
                .join(ContactGoal, col(ContactGoal.contact_id) == col(Contact.id))
                .where(ContactGoal.goal_id == goal_id),
                col(Contact.occurred_at),
                col(Contact.id),
                limit,
            )
        ).all()
        names = _names(session, [c.user_id for c in contacts])
        revised_to = session.exec(
            select(Goal.id).where(Goal.revised_from_id == goal_id).limit(1)
        ).first()
        audit.record_by(session, viewer, "view", "goal", goal_id, "goal detail")
        return GoalDetail(
            _goal_rows(session, [goal])[0],
            _progress_rows(session, progress),
            _intervention_rows(session, ivs),
            [_barrier_row(b) for b in bars],
            [
                TaggedContact(
                    c.id or 0,
                    c.occurred_at,
                    c.method,
                    c.outcome,
                    c.service_type,
                    names.get(c.user_id) if c.user_id else None,
                    c.note,
                )
                for c in contacts
            ],
            revised_to,
        )


def progress_page(
    store: Store,
    viewer: Viewer,
    goal_id: int,
    *,
    before: tuple[datetime, int] | None = None,
    limit: int = 20,
) -> list[ProgressRow]:
    """A goal's progress notes, newest first; ``before`` = (at, id) of the last shown."""
    with store.write() as session:
        _goal(session, viewer, goal_id)
        rows = session.exec(_progress_query(goal_id, limit, before)).all()
        audit.record_by(session, viewer, "view", "goal", goal_id, "progress notes")
        return _progress_rows(session, rows)


def goal_choices(
    store: Store, viewer: Viewer, client_id: int, *, limit: int = 30
) -> list[GoalChoice]:
    """The open goals of the client's active plan, for tagging a contact (no audit
    event of its own: the contact form is part of an audited client view)."""
    with store.read() as session:
        _client(session, viewer, client_id)
        plan = _active(session, client_id)
        if plan is None or plan.id is None:
            return []
        goals = session.exec(_goals_query(plan.id, open_only=True, after=None, limit=limit)).all()
        return [GoalChoice(g.id or 0, _one_line(g.client_words)) for g in goals]


def _one_line(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
