"""Care plans on every engine: goals in the client's words, interventions, barriers,
progress, contacts tagged with goals, revisions and plan history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from cm_tui.services import careplans as cp
from cm_tui.services import contacts
from cm_tui.services.clients import NotAllowed
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, CarePlan, Contact, ContactGoal, FollowUp
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    ann = add_user(any_store, "ann")
    chw = add_user(any_store, "cam", role="chw")
    client = add_client(
        any_store, "Rosa", "Alvarez", ann, what_matters="Dance at my granddaughter's quinceañera"
    )
    return {"store": any_store, "ann": ann, "chw": chw, "client": client}


def audit_of(store: Store, entity: str) -> list[tuple[str, str]]:
    with store.read() as s:
        return [
            (e.action, e.detail or "")
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.entity == entity).order_by(col(AuditEvent.id))
            ).all()
        ]


def test_goal_intervention_tagged_contact_progress_met(org: dict[str, Any]) -> None:
    """The Done-when flow at service level."""
    store, ann, client = org["store"], org["ann"], org["client"]
    assert cp.active_plan(store, ann, client) is None

    goal = cp.add_goal(
        store,
        ann,
        client,
        client_words="  I want to walk to church again  ",
        measurable="Walks 10 minutes without stopping, 5 days a week",
        target_date=date(2027, 2, 1),
    )
    assert goal.client_words == "I want to walk to church again"
    assert (goal.status, goal.position, goal.version) == ("active", 1, 1)
    plan = cp.active_plan(store, ann, client)
    assert plan is not None and plan.status == "active" and plan.goals_total == 1

    iv = cp.add_intervention(
        store,
        ann,
        goal.id,
        "Refer to PT for a walking programme",
        followup_due=NOW + timedelta(days=7),
        followup_title="Check the PT referral went through",
    )
    assert iv.owner_id == ann.id and iv.owner_name == "Ann"
    assert iv.follow_up_id is not None and iv.follow_up_status == "open"
    assert iv.follow_up_due_at == NOW + timedelta(days=7)
    with store.read() as s:
        fu = s.get(FollowUp, iv.follow_up_id)
        assert fu is not None
        assert (fu.client_id, fu.assignee_id, fu.source) == (client, ann.id, "care_plan")

    logged = contacts.log_contact(
        store,
        ann,
        client,
        note="Walked to the corner twice this week",
        duration_min=15,
        goal_ids=[goal.id],
        service_type="self_management",
    )
    assert logged.goal_ids == (goal.id,)
    with store.read() as s:
        c = s.get(Contact, logged.contact_id)
        assert c is not None and c.service_type == "self_management"
        assert s.exec(select(ContactGoal)).all() == [
            ContactGoal(contact_id=logged.contact_id, goal_id=goal.id)
        ]

    note = cp.record_progress(
        store, ann, goal.id, "Walked 10 minutes, 3 days", contact_id=logged.contact_id
    )
    assert (note.user_name, note.contact_id) == ("Ann", logged.contact_id)

    met = cp.set_goal_status(store, ann, goal.id, goal.version, "met", note="Walked to Mass!")
    assert met.status == "met" and met.closed_at == NOW and met.progress_count == 2
    assert met.last_progress_note == "Walked to Mass!"

    detail = cp.goal_detail(store, ann, goal.id)
    assert [p.note for p in detail.progress] == ["Walked to Mass!", "Walked 10 minutes, 3 days"]
    assert [c.id for c in detail.contacts] == [logged.contact_id]
    assert detail.contacts[0].service_type == "self_management"
    assert [i.id for i in detail.interventions] == [iv.id]

    plan = cp.active_plan(store, ann, client)
    assert plan is not None and plan.goals_met == 1
    goal_audit = audit_of(store, "goal")
    assert ("create", f"client {client}: plan {plan.id}") in goal_audit
    assert ("update", "status met") in goal_audit
    assert any(a == "view" for a, _ in audit_of(store, "care_plan"))


def test_client_words_come_first(org: dict[str, Any]) -> None:
    with pytest.raises(cp.CarePlanError, match="client's own words"):
        cp.add_goal(
            org["store"], org["ann"], org["client"], client_words="  ", measurable="A1c < 8"
        )
    with pytest.raises(cp.CarePlanError, match="NUL"):
        cp.add_goal(org["store"], org["ann"], org["client"], client_words="walk\x00")
    with org["store"].read() as s:
        assert s.exec(select(CarePlan)).all() == []  # nothing half-written


def test_revise_keeps_the_old_goal(org: dict[str, Any]) -> None:
    store, ann, client = org["store"], org["ann"], org["client"]
    first = cp.add_goal(store, ann, client, client_words="Lose weight")
    second = cp.add_goal(store, ann, client, client_words="Sleep through the night")
    new = cp.revise_goal(
        store,
        ann,
        first.id,
        first.version,
        client_words="Fit into my wedding dress for my son's wedding",
        measurable="Lose 5 kg by June",
        note="She said weight is really about the wedding",
    )
    assert new.revised_from_id == first.id and new.position == first.position
    detail = cp.goal_detail(store, ann, first.id)
    assert detail.goal.status == "revised" and detail.revised_to_id == new.id
    assert detail.progress[0].note == "She said weight is really about the wedding"
    # The panel shows the plan in order, without the revised goal.
    panel = cp.plan_panel(store, ann, client)
    assert [g.id for g in panel.goals] == [new.id, second.id]
    assert panel.what_matters == "Dance at my granddaughter's quinceañera"
    # A stale version is refused, nothing written.
    with pytest.raises(cp.CarePlanConflict):
        cp.edit_goal(store, ann, second.id, 99, client_words="x", measurable=None, target_date=None)
    with pytest.raises(cp.CarePlanError, match="revised"):
        cp.set_goal_status(store, ann, first.id, detail.goal.version, "met")


def test_windowed_goals_and_progress(org: dict[str, Any]) -> None:
    store, ann, client = org["store"], org["ann"], org["client"]
    ids = [cp.add_goal(store, ann, client, client_words=f"Goal {i}").id for i in range(5)]
    page1 = cp.goals_page(store, ann, client, limit=2)
    page2 = cp.goals_page(store, ann, client, limit=2, after=(page1[-1].position, page1[-1].id))
    page3 = cp.goals_page(store, ann, client, limit=2, after=(page2[-1].position, page2[-1].id))
    assert [g.id for g in page1 + page2 + page3] == ids
    panel = cp.plan_panel(store, ann, client, goal_limit=3)
    assert len(panel.goals) == 3 and panel.more_goals
    for i in range(3):
        freeze_clock(NOW + timedelta(minutes=i))
        cp.record_progress(store, ann, ids[0], f"note {i}")
    newest = cp.progress_page(store, ann, ids[0], limit=2)
    assert [p.note for p in newest] == ["note 2", "note 1"]
    older = cp.progress_page(store, ann, ids[0], before=(newest[-1].at, newest[-1].id), limit=2)
    assert [p.note for p in older] == ["note 0"]
    assert [c.id for c in cp.goal_choices(store, ann, client)] == ids


def test_new_plan_supersedes_and_keeps_history(org: dict[str, Any]) -> None:
    store, ann, client = org["store"], org["ann"], org["client"]
    g1 = cp.add_goal(store, ann, client, client_words="Keep my apartment")
    g2 = cp.add_goal(store, ann, client, client_words="See my grandkids")
    cp.set_goal_status(store, ann, g2.id, g2.version, "met")
    cp.add_barrier(store, ann, client, "No bus on Sundays", goal_id=g1.id)
    old = cp.active_plan(store, ann, client)
    assert old is not None
    freeze_clock(NOW + timedelta(days=90))
    new = cp.new_plan(store, ann, client, summary="Quarterly review")
    assert new.supersedes_id == old.id and new.goals_total == 1  # the open goal carried over
    history = cp.plan_history(store, ann, client)
    assert [(p.id, p.status) for p in history] == [(new.id, "active"), (old.id, "superseded")]
    assert [g.client_words for g in cp.goals_page(store, ann, client)] == ["Keep my apartment"]
    assert [g.client_words for g in cp.goals_page(store, ann, client, plan_id=old.id)] == [
        "Keep my apartment",
        "See my grandkids",
    ]
    # One active plan per client, whatever writes it.
    with pytest.raises(IntegrityError), store.write() as s:
        s.add(CarePlan(client_id=client, status="active"))
        s.flush()


def test_barriers_and_interventions(org: dict[str, Any]) -> None:
    store, ann, client = org["store"], org["ann"], org["client"]
    b = cp.add_barrier(store, ann, client, "Can't read small print")
    assert b.goal_id is None and b.status == "open"
    plan = cp.active_plan(store, ann, client)
    assert plan is not None  # a barrier alone starts the plan
    goal = cp.add_goal(store, ann, client, client_words="Take my pills right")
    iv = cp.add_intervention(store, ann, goal.id, "Pill organiser and large-print list")
    assert iv.follow_up_id is None
    panel = cp.plan_panel(store, ann, client)
    assert [x.id for x in panel.interventions] == [iv.id]
    assert [x.id for x in panel.barriers] == [b.id]
    assert panel.goals[0].interventions_open == 1
    assert cp.set_intervention_status(store, ann, iv.id, "done").status == "done"
    assert cp.resolve_barrier(store, ann, b.id).status == "resolved"
    panel = cp.plan_panel(store, ann, client)
    assert panel.interventions == [] and panel.barriers == []
    # A care manager cannot put an intervention's follow-up on a CHW's list.
    with pytest.raises(NotAllowed):
        cp.add_intervention(
            store, ann, goal.id, "Home visit", owner_id=org["chw"].id, followup_due=NOW
        )


def test_access_and_contact_goal_checks(org: dict[str, Any]) -> None:
    store, ann, client = org["store"], org["ann"], org["client"]
    goal = cp.add_goal(store, ann, client, client_words="Walk")
    with pytest.raises(NotAllowed):
        cp.plan_panel(store, org["chw"], client)  # not the CHW's client
    with pytest.raises(NotAllowed):
        cp.add_goal(store, org["chw"], client, client_words="x")
    other = add_client(store, "Walter", "Brooks", ann)
    with pytest.raises(contacts.ContactError, match="not an open goal"):
        contacts.log_contact(store, ann, other, goal_ids=[goal.id])
    with pytest.raises(contacts.ContactError, match="Service type"):
        contacts.log_contact(store, ann, client, service_type="massage")
    with store.read() as s:
        assert s.exec(select(Contact)).all() == []


def test_demo_data_has_care_plans_for_most_high_risk_clients(sqlite_store: Store) -> None:
    from cm_tui.services import demo
    from cm_tui.store.models import Client, Goal, ProgramEnrollment

    summary = demo.generate_demo(sqlite_store, clients=200, seed=5, now=NOW)
    with sqlite_store.read() as s:
        high = s.exec(
            select(Client.id).where(Client.risk_tier == "high", Client.status != "discharged")
        ).all()
        with_plan = set(s.exec(select(CarePlan.client_id).where(CarePlan.status == "active")).all())
        goals = s.exec(select(Goal)).all()
        tcm = s.exec(select(ProgramEnrollment).where(ProgramEnrollment.program == "TCM")).all()
        flagged = s.exec(
            select(ProgramEnrollment).where(ProgramEnrollment.outreach_status == "unable_to_reach")
        ).all()
    assert high and len(with_plan & set(high)) >= 0.7 * len(high)
    assert with_plan <= set(high)
    assert summary.care_plans == len(with_plan)
    assert all(g.client_words and g.measurable for g in goals)
    assert {g.status for g in goals} >= {"active", "met"}
    assert tcm and all(e.discharge_on is not None and e.complexity for e in tcm)
    assert flagged and summary.unable_to_reach == len(flagged)
    # The supervisor's list shows them.
    from cm_tui.services import programmes
    from cm_tui.store.access import Viewer
    from cm_tui.store.models import User

    with sqlite_store.read() as s:
        sup = s.exec(select(User).where(User.role == "supervisor")).first()
        assert sup is not None
    assert len(programmes.unable_to_reach(sqlite_store, Viewer.of(sup))) == len(flagged)
