"""Demo care plans, TCM discharges and outreach states (issue #13), added after the
rest of the demo organisation.

Drawn from their own seeded ``random.Random`` and written after every other demo
row, so the rows the older generator makes stay exactly as they were for a seed.
Most high-risk clients who are not discharged get a plan: goals in their own words
(Spanish speakers' in Spanish), a measurable form, interventions owned by their
care manager or CHW, barriers and some progress. TCM enrolments get their
discharge date and complexity; a few unreached clients are in outreach, a few
flagged unable to reach. No follow-up is added, so queues look as before.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, or_, select, update

from cm_tui.store.db import Store
from cm_tui.store.models import (
    Barrier,
    CarePlan,
    Client,
    Goal,
    GoalProgress,
    Intervention,
    ProgramEnrollment,
    User,
)

BATCH = 2000
PLAN_SHARE = 0.85  # of high-risk, not discharged clients

PLAN_COLS = (
    "id",
    "client_id",
    "status",
    "created_by_id",
    "created_at",
    "updated_at",
    "reviewed_at",
    "summary",
    "version",
)
GOAL_COLS = (
    "id",
    "care_plan_id",
    "client_words",
    "measurable",
    "target_date",
    "status",
    "position",
    "created_by_id",
    "created_at",
    "updated_at",
    "closed_at",
    "version",
)
PROGRESS_COLS = ("id", "goal_id", "user_id", "at", "note")
INTERVENTION_COLS = (
    "id",
    "care_plan_id",
    "goal_id",
    "description",
    "owner_id",
    "status",
    "created_at",
    "updated_at",
)
BARRIER_COLS = ("id", "care_plan_id", "goal_id", "description", "status", "created_at")


@dataclass(frozen=True)
class _GoalIdea:
    words: str
    words_es: str
    measurable: str
    interventions: tuple[str, ...]
    barriers: tuple[str, ...] = ()
    progress: tuple[str, ...] = ()
    chw: bool = False  # a social goal: the CHW owns its interventions


GENERAL = (
    _GoalIdea(
        "I want to walk to church on Sundays again",
        "Quiero volver a caminar a la iglesia los domingos",
        "Walks 10 minutes without stopping, 5 days a week",
        ("Refer to PT for a walking programme", "Review pain medicine with PCP"),
        ("Knee pain in the mornings", "No sidewalk on her street"),
        ("Walked to the corner and back twice this week", "Up to 8 minutes, knee better"),
    ),
    _GoalIdea(
        "Stay out of the hospital so I can look after my wife",
        "No volver al hospital para poder cuidar a mi esposa",
        "No ED visits or admissions for 90 days",
        ("Weekly check-in calls", "Teach-back on warning signs and who to call"),
        ("Wife's dementia leaves little time for himself",),
        ("Knows to call the nurse line before going to the ED", "No ED visits this month"),
    ),
    _GoalIdea(
        "Get my sugar under control so I don't lose my feet like my dad",
        "Controlar mi azúcar para no perder los pies como mi papá",
        "A1c below 8% by the next lab draw",
        (
            "Diabetes education referral",
            "Glucose log review every 2 weeks",
            "Schedule podiatry exam",
        ),
        ("Can't afford test strips", "Eats at irregular times on night shifts"),
        ("Checking sugar twice a day now", "Fasting readings mostly 130-160"),
    ),
    _GoalIdea(
        "Take my pills right without getting confused",
        "Tomar mis pastillas bien sin confundirme",
        "Uses pill organiser daily; no missed doses in 2 weeks",
        (
            "Medication reconciliation with pharmacy",
            "Set up weekly pill organiser",
            "Large-print medication list",
        ),
        ("Eleven different medicines", "Vision makes labels hard to read"),
        ("Daughter fills the organiser on Sundays", "Missed one evening dose this week"),
    ),
    _GoalIdea(
        "Breathe well enough to play with my grandkids",
        "Respirar bien para jugar con mis nietos",
        "Uses controller inhaler daily; rescue inhaler under 2 times a week",
        ("Inhaler technique teach-back", "Asthma/COPD action plan with PCP"),
        ("Smokes half a pack a day", "Mold in the bathroom"),
        ("Cut down to 5 cigarettes a day", "Used rescue inhaler once this week"),
    ),
    _GoalIdea(
        "Keep my apartment",
        "No perder mi apartamento",
        "Rent paid through the next 3 months; landlord agreement in writing",
        ("Apply for emergency rental assistance", "Connect with legal aid tenant line"),
        ("Owes two months of rent", "Landlord only answers texts"),
        ("Application submitted to the county", "Landlord agreed to a payment plan"),
        True,
    ),
    _GoalIdea(
        "Have enough food for me and the kids at the end of the month",
        "Tener comida suficiente para mí y los niños a fin de mes",
        "Enrolled in SNAP; uses the food pantry twice a month",
        ("Help with the SNAP application", "Refer to the neighbourhood food pantry"),
        ("No car to get to the pantry",),
        ("SNAP interview scheduled", "Went to the pantry with her neighbour"),
        True,
    ),
    _GoalIdea(
        "Get to my dialysis and doctor appointments without begging for rides",
        "Llegar a mis citas sin tener que rogar que me lleven",
        "Medicaid ride benefit set up; no missed appointments for 60 days",
        ("Enrol in the Medicaid transportation benefit", "Give the ride line number"),
        ("Rides come late and she misses her slot",),
        ("Ride benefit approved", "Made every dialysis session this month"),
        True,
    ),
)
BEHAVIOURAL = (
    _GoalIdea(
        "Feel like myself again and get out of bed in the morning",
        "Volver a sentirme yo y poder levantarme en la mañana",
        "PHQ-9 below 10 at the 12-week rescreen",
        (
            "Warm handoff to the behavioural health clinician",
            "Weekly check-in calls",
            "Rescreen PHQ-9 in 4 weeks",
        ),
        ("Doesn't want to take 'another pill'", "Lost his job in the spring"),
        ("Went to the first counselling visit", "Says mornings are a little easier"),
    ),
    _GoalIdea(
        "Sleep through the night without drinking",
        "Dormir toda la noche sin tomar",
        "Sleeps 6 hours on 5 nights a week, no alcohol to fall asleep",
        ("Sleep hygiene education", "Refer to the substance use counsellor"),
        ("Works late shifts",),
        ("Three nights this week without a drink",),
    ),
)
MATERNITY = (
    _GoalIdea(
        "Have a healthy baby and make it to all my checkups",
        "Tener un bebé sano y no faltar a mis citas",
        "Attends every prenatal visit; blood pressure checked at each",
        ("Prenatal visit reminders by text", "Arrange rides to the clinic"),
        ("Morning sickness makes the bus hard", "Works two part-time jobs"),
        ("Went to the 28-week visit", "BP normal at the last visit"),
    ),
    _GoalIdea(
        "Breastfeed if I can",
        "Dar pecho si puedo",
        "Lactation consult booked before the due date",
        ("Refer to the lactation consultant", "WIC enrolment"),
        ("Going back to work 6 weeks after birth",),
        ("WIC appointment done",),
        True,
    ),
)
PLAN_SUMMARIES = (
    "Care plan made with the client at the enrolment visit.",
    "Reviewed with client and daughter by phone.",
    "Plan built at home visit; client chose the goals.",
    None,
)


@dataclass
class _Rows:
    plans: list[tuple[Any, ...]] = field(default_factory=list)
    goals: list[tuple[Any, ...]] = field(default_factory=list)
    progress: list[tuple[Any, ...]] = field(default_factory=list)
    interventions: list[tuple[Any, ...]] = field(default_factory=list)
    barriers: list[tuple[Any, ...]] = field(default_factory=list)


def _ideas(program: str | None) -> tuple[_GoalIdea, ...]:
    if program == "behavioural health":
        return BEHAVIOURAL + GENERAL[:4]
    if program == "maternity":
        return MATERNITY + GENERAL[5:7]
    return GENERAL


def add_care_plans(
    store: Store,
    sink: Any,
    *,
    seed: int,
    now: datetime,
    today: date,
    next_id: Callable[[str], int],
) -> int:
    """Care plans for most high-risk clients; returns how many plans were made.

    ``sink`` is demo's ``_Sink`` (bulk inserts, value encoders); ``now`` is naive UTC
    like the rest of the demo's timestamps; ``next_id`` hands out ids per table.
    """
    rng = random.Random(f"cm-tui care plans {seed}")
    r = rng.random
    ts, day = sink.ts, sink.day
    clients: Table = Client.__table__  # type: ignore[attr-defined]
    made = 0
    last = 0
    while True:
        with store.read() as session:
            batch = session.execute(
                select(
                    clients.c.id,
                    clients.c.program,
                    clients.c.language,
                    clients.c.care_manager_id,
                    clients.c.chw_id,
                    clients.c.enrolled_on,
                )
                .where(
                    clients.c.id > last,
                    clients.c.risk_tier == "high",
                    clients.c.status != "discharged",
                )
                .order_by(clients.c.id)
                .limit(BATCH)
            ).all()
        if not batch:
            return made
        last = batch[-1][0]
        rows = _Rows()
        for cid, program, language, cm_id, chw_id, enrolled_on in batch:
            if r() >= PLAN_SHARE:
                continue
            made += 1
            enrolled = enrolled_on or today - timedelta(days=60)
            age_days = max(1, (today - enrolled).days)
            created = now - timedelta(days=min(age_days, 365) * (0.2 + 0.6 * r()), hours=r() * 6)
            updated = created + (now - created) * (0.5 + 0.5 * r())
            pid = next_id("care_plans")
            rows.plans.append(
                (
                    pid,
                    cid,
                    "active",
                    cm_id,
                    ts(created),
                    ts(updated),
                    ts(updated) if r() < 0.6 else None,
                    rng.choice(PLAN_SUMMARIES),
                    1,
                )
            )
            ideas = rng.sample(_ideas(program), k=min(len(_ideas(program)), 2 + int(r() * 3)))
            for position, idea in enumerate(ideas, 1):
                gid = next_id("goals")
                words = idea.words_es if language == "Spanish" else idea.words
                u = r()
                status = "met" if u < 0.18 else "not_met" if u < 0.22 else "active"
                goal_at = created + timedelta(minutes=position)
                closed = updated if status != "active" else None
                target = goal_at.date() + timedelta(days=30 * (2 + int(r() * 5)))
                rows.goals.append(
                    (
                        gid,
                        pid,
                        words,
                        idea.measurable,
                        day(target),
                        status,
                        position,
                        cm_id,
                        ts(goal_at),
                        ts(updated),
                        ts(closed) if closed else None,
                        1,
                    )
                )
                owner = chw_id if idea.chw and chw_id else cm_id
                for iv in idea.interventions[: 1 + int(r() * len(idea.interventions))]:
                    done = status == "met" or r() < 0.25
                    rows.interventions.append(
                        (
                            next_id("interventions"),
                            pid,
                            gid,
                            iv,
                            owner,
                            "done" if done else "active",
                            ts(goal_at),
                            ts(updated),
                        )
                    )
                if idea.barriers and r() < 0.7:
                    rows.barriers.append(
                        (
                            next_id("barriers"),
                            pid,
                            gid,
                            rng.choice(idea.barriers),
                            "resolved" if status == "met" else "open",
                            ts(goal_at),
                        )
                    )
                n_progress = len(idea.progress) if status == "met" else int(r() * 3)
                span = (updated - goal_at) / (n_progress + 1)
                for k, note in enumerate(idea.progress[:n_progress], 1):
                    rows.progress.append(
                        (next_id("goal_progress"), gid, owner, ts(goal_at + span * k), note)
                    )
                if status == "met":
                    rows.progress.append(
                        (next_id("goal_progress"), gid, owner, ts(updated), "Goal met.")
                    )
        with store.write() as session:
            sink.insert(session, CarePlan.__table__, PLAN_COLS, rows.plans)  # type: ignore[attr-defined]
            sink.insert(session, Goal.__table__, GOAL_COLS, rows.goals)  # type: ignore[attr-defined]
            sink.insert(session, GoalProgress.__table__, PROGRESS_COLS, rows.progress)  # type: ignore[attr-defined]
            sink.insert(session, Intervention.__table__, INTERVENTION_COLS, rows.interventions)  # type: ignore[attr-defined]
            sink.insert(session, Barrier.__table__, BARRIER_COLS, rows.barriers)  # type: ignore[attr-defined]


def add_programme_states(
    store: Store, *, seed: int, now: datetime, today: date, demo_username: str
) -> tuple[int, int]:
    """TCM discharge dates and complexity; a few unreached clients in outreach and a few
    flagged unable to reach (the demo user's own first). Returns (in outreach, flagged).
    ``now`` is aware UTC."""
    rng = random.Random(f"cm-tui outreach {seed}")
    enr: Table = ProgramEnrollment.__table__  # type: ignore[attr-defined]
    clients: Table = Client.__table__  # type: ignore[attr-defined]
    users: Table = User.__table__  # type: ignore[attr-defined]
    with store.write() as session:
        # TCM: enrolled on the day after discharge; complexity varies.
        session.execute(
            update(enr)
            .where(enr.c.program == "TCM", enr.c.discharge_on.is_(None))
            .values(discharge_on=enr.c.start_on, complexity="moderate")
        )
        session.execute(
            update(enr).where(enr.c.program == "TCM", enr.c.id % 3 == 0).values(complexity="high")
        )
        demo_id = session.execute(
            select(users.c.id).where(users.c.username == demo_username)
        ).scalar()
        stale = now - timedelta(days=45)
        candidates = session.execute(
            select(enr.c.id, clients.c.care_manager_id, clients.c.last_contact_at)
            .join(clients, clients.c.id == enr.c.client_id)
            .where(
                enr.c.end_on.is_(None),
                clients.c.status == "active",
                or_(clients.c.last_reached_at.is_(None), clients.c.last_reached_at < stale),
                and_(clients.c.last_contact_at.is_not(None)),
            )
            .order_by(enr.c.id)
            .limit(20_000)
        ).all()
        if not candidates:
            return 0, 0
        mine = [c for c in candidates if c[1] == demo_id]
        others = [c for c in candidates if c[1] != demo_id]
        rng.shuffle(mine)
        rng.shuffle(others)
        n = max(2, len(candidates) // 40)
        chosen = (mine[:4] + others)[: 2 * n]
        flagged, in_outreach = chosen[:n], chosen[n:]

        def set_outreach(rows: list[dict[str, Any]], **values: Any) -> None:
            """One UPDATE per row of ``rows`` (each with its enrolment ``eid``)."""
            if rows:
                session.execute(
                    update(enr).where(enr.c.id == bindparam("eid")).values(**values), rows
                )

        set_outreach(
            [
                {"eid": eid, "started": (last_at - timedelta(days=9)).date(), "flagged": last_at}
                for eid, _cm, last_at in flagged
            ],
            outreach_status="unable_to_reach",
            outreach_attempts=3,
            outreach_started_on=bindparam("started"),
            unable_to_reach_at=bindparam("flagged"),
        )
        set_outreach(
            [
                {
                    "eid": eid,
                    "attempts": 1 + int(rng.random() * 2),
                    "started": today - timedelta(days=1 + int(rng.random() * 6)),
                }
                for eid, _cm, _last in in_outreach
            ],
            outreach_status="in_progress",
            outreach_attempts=bindparam("attempts"),
            outreach_started_on=bindparam("started"),
        )
        return len(in_outreach), len(flagged)
