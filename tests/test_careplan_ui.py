"""Care plans and programmes as a care manager and a supervisor drive them (issue #13)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Static

from cm_tui.app import make_app
from cm_tui.config import Settings
from cm_tui.screens.careplan import CarePlanScreen, FieldsForm, YesNo
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.screens.contact_form import ContactForm, GoalTags
from cm_tui.screens.programme import EnrolForm, ProgrammesModal
from cm_tui.screens.team import TeamScreen, UnableToReachScreen
from cm_tui.services import programmes
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import (
    Client,
    Contact,
    ContactGoal,
    FollowUp,
    Goal,
    GoalProgress,
    Intervention,
    ProgramEnrollment,
    User,
)
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import NOW, build_app
from tests.test_ui import first_frame_of, settle, shown, table_names

SIZE = (120, 40)
WORDS = "I want to walk to church again [bold]on Sundays[/bold]"


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def _store(db: Path) -> Store:
    return open_store(db_url(db))


def _rows(db: Path, model: Any) -> list[Any]:
    store = _store(db)
    try:
        with store.read() as s:
            key = model.id if hasattr(model, "id") else model.contact_id
            return list(s.exec(select(model).order_by(col(key))).all())
    finally:
        store.close()


async def _open_rosa(pilot: Any) -> ClientScreen:
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
    await settle(pilot, lambda: len(table_names(app)) >= 7)
    await pilot.press("enter")
    await settle(pilot, lambda: isinstance(app.screen, ClientScreen) and app.screen.brief)
    await settle(pilot, lambda: app.screen.plan is not None)
    return app.screen


async def _form(pilot: Any, key: str) -> FieldsForm:
    if key:
        await pilot.press(key)
    await settle(pilot, lambda: isinstance(pilot.app.screen, FieldsForm))
    return pilot.app.screen


async def _save_back(pilot: Any, screen_type: type) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot, lambda: isinstance(pilot.app.screen, screen_type))


async def test_goal_intervention_tagged_contact_progress_met(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        client = await _open_rosa(pilot)
        assert "no care plan yet — p to start" in shown(client.query_one("#careplan", Static))

        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen) and app.screen.panel)
        plan = app.screen
        assert "garden" in shown(plan.query_one("#cp-what-matters", Static))

        # g: a goal, in the client's words first (the only required field).
        form = await _form(pilot, "g")
        assert app.focused is form.query_one("#f-words", Input)
        await pilot.press("ctrl+s")  # nothing typed: refused, stays open
        await settle(pilot)
        assert isinstance(app.screen, FieldsForm)
        assert "required" in shown(form.query_one("#cp-form-error", Static))
        await pilot.press(*WORDS, "tab", *"walks 10 minutes without stopping", "tab")
        await pilot.press(*"2027-03-01")
        await settle(pilot)
        assert "Mon 1 Mar 2027" in shown(form.query_one("#echo-target", Static))
        await _save_back(pilot, CarePlanScreen)
        await settle(pilot, lambda: len(plan.panel.goals) == 1)
        [goal] = _rows(db, Goal)
        assert goal.client_words == WORDS and goal.target_date == date(2027, 3, 1)
        assert goal.measurable == "walks 10 minutes without stopping"
        table = plan.query_one("#cp-goals", DataTable)
        assert WORDS in str(table.get_row_at(0)[1])  # literal, markup and all

        # i: an intervention for the highlighted goal, with a follow-up.
        form = await _form(pilot, "i")
        await pilot.press(*"Chair exercises handout", "tab", *"+1w")
        await settle(pilot)
        assert "→" in shown(form.query_one("#echo-due", Static))
        await _save_back(pilot, CarePlanScreen)
        [iv] = _rows(db, Intervention)
        assert (iv.goal_id, iv.description) == (goal.id, "Chair exercises handout")
        assert iv.follow_up_id is not None
        await settle(pilot, lambda: "Chair exercises" in shown(plan.query_one("#cp-goal-detail")))

        # Back on the brief, the panel shows the goal; l logs a contact tagged with it.
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await settle(pilot, lambda: "1 open goal" in shown(client.query_one("#careplan", Static)))
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        contact_form = app.screen
        await pilot.press(*"Walked to the mailbox twice this week.")
        tags = contact_form.query_one("#goals", GoalTags)
        assert "1 ☐ I want to walk to church" in tags.render().plain
        tags.focus()
        await pilot.press("1")  # tag goal 1
        assert tags.tagged == {goal.id} and "1 ☑" in tags.render().plain
        await pilot.press("tab")  # service type
        await pilot.press("s")  # self-management support
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        contact = _rows(db, Contact)[-1]
        assert contact.note == "Walked to the mailbox twice this week."
        assert contact.service_type == "self_management"
        assert [(t.contact_id, t.goal_id) for t in _rows(db, ContactGoal)] == [
            (contact.id, goal.id)
        ]

        # p on the goal: a progress note in one key; m: met.
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen) and app.screen.panel)
        plan = app.screen
        form = await _form(pilot, "p")
        await pilot.press(*"Walked half way to church with daughter")
        await _save_back(pilot, CarePlanScreen)
        [note] = _rows(db, GoalProgress)
        assert (note.goal_id, note.note) == (goal.id, "Walked half way to church with daughter")
        await pilot.press("m")
        await settle(pilot, lambda: _rows(db, Goal)[0].status == "met")
        await settle(pilot, lambda: str(plan.query_one(DataTable).get_row_at(0)[2]) == "met")

        # x asks first; n keeps the goal as it is.
        await pilot.press("a")  # reopen
        await settle(pilot, lambda: _rows(db, Goal)[0].status == "active")
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, YesNo))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        assert _rows(db, Goal)[0].status == "active"
        await pilot.press("m")
        await settle(pilot, lambda: _rows(db, Goal)[0].status == "met")


async def test_tcm_enrolment_creates_business_day_follow_ups(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    discharged = date(2026, 11, 19)  # a Thursday
    assert discharged.weekday() == 3
    async with app.run_test(size=SIZE) as pilot:
        await _open_rosa(pilot)
        await pilot.press("E")
        await settle(pilot, lambda: isinstance(app.screen, ProgrammesModal))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EnrolForm))
        form = app.screen
        form.query_one("#pg-programme").value = "TCM"
        await settle(pilot)
        assert form.query_one("#pg-tcm").display
        form.query_one("#pg-discharge", Input).focus()
        await pilot.press(*discharged.isoformat())
        await settle(pilot)
        assert "Thu 19 Nov 2026" in shown(form.query_one("#echo-discharge", Static))
        form.query_one("#pg-reason", Input).focus()
        await pilot.press(*"Admitted for CHF")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ProgrammesModal))
        await settle(pilot, lambda: len(app.screen.rows) == 1)

    [row] = _rows(db, ProgramEnrollment)
    assert (row.program, row.discharge_on, row.complexity) == ("TCM", discharged, "moderate")
    assert row.entry_reason == "Admitted for CHF"
    made = [f for f in _rows(db, FollowUp) if (f.title or "").startswith("TCM:")]
    contact_due, visit_due = programmes.tcm_deadlines(discharged, "moderate")
    assert sorted(f.due_at for f in made) == [contact_due, visit_due]
    # 2 business days after Thursday: Friday, then Monday (the weekend skipped).
    assert contact_due.astimezone().date() == date(2026, 11, 23)
    assert visit_due.astimezone().date() == date(2026, 12, 3)


async def test_three_failed_attempts_flag_unable_to_reach_for_the_supervisor(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    store = _store(db)
    try:
        with store.read() as s:
            ann = s.exec(select(User).where(User.username == "ann")).one()
            rosa = s.exec(select(Client).where(Client.family_name == "Alvarez")).one()
        enrolled = programmes.enrol(store, Viewer.of(ann), rosa.id or 0, "CCM")
    finally:
        store.close()
    assert enrolled.enrollment.outreach_planned == 3
    async with app.run_test(size=SIZE) as pilot:
        await _open_rosa(pilot)
        for attempt in range(1, 4):
            await pilot.press("l")
            await settle(pilot, lambda: isinstance(app.screen, ContactForm))
            await pilot.press(*f"Attempt {attempt}, no answer")
            await pilot.press("tab", "tab", "tab", "tab", "n")  # outcome: no answer
            await pilot.press("ctrl+s")
            await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
            [row] = _rows(db, ProgramEnrollment)
            assert row.outreach_attempts == attempt
        assert row.outreach_status == "unable_to_reach" and row.unable_to_reach_at is not None

    boss = make_app(db_url(db), demo=True, user="sue", settings=Settings(idle_lock_minutes=0))
    boss.show_clock = False
    async with boss.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(boss.screen, CaseloadScreen), tries=100)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(boss.screen, TeamScreen) and boss.screen.rows)
        team = boss.screen
        await settle(pilot, lambda: team.utr_count == 1)
        assert "1 waiting for review" in shown(team.query_one("#utr-summary", Static))
        # The list is read before its screen is pushed: its first frame has the row.
        first = first_frame_of(
            boss, UnableToReachScreen, lambda s, _: s.query_one(DataTable).row_count
        )
        await pilot.press("u")
        await settle(pilot, lambda: isinstance(boss.screen, UnableToReachScreen))
        utr = boss.screen
        await settle(pilot, lambda: len(utr.rows) == 1)
        assert first == [1]
        assert "Alvarez" in str(utr.query_one(DataTable).get_row_at(0)[0])
        assert str(utr.query_one(DataTable).get_row_at(0)[2]) == "3"
        # The app keeps the list's screen (issue 8): opened again, it is loaded.
        await pilot.press("escape")
        await settle(pilot, lambda: boss.screen is team)
        again = first_frame_of(
            boss, UnableToReachScreen, lambda s, _: (s.query_one(DataTable).row_count, list(s.rows))
        )
        await pilot.press("u")
        await settle(pilot, lambda: isinstance(boss.screen, UnableToReachScreen))
        assert boss.screen is utr and again == [(1, utr.rows)] and len(utr.rows) == 1
        await pilot.press("k")  # acknowledge
        await settle(pilot, lambda: _rows(db, ProgramEnrollment)[0].reviewed_at is not None)
        await settle(pilot, lambda: utr.rows == [])


async def test_barrier_revise_keeps_the_old_goal_and_discharge_needs_a_reason(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    app = build_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_rosa(pilot)
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen) and app.screen.panel)
        plan = app.screen
        await _form(pilot, "g")
        await pilot.press(*"Keep my blood pressure down")
        await _save_back(pilot, CarePlanScreen)
        await settle(pilot, lambda: len(plan.panel.goals) == 1)

        await _form(pilot, "b")
        await pilot.press(*"No ride to the pharmacy")
        await _save_back(pilot, CarePlanScreen)
        await settle(
            pilot, lambda: "No ride to the pharmacy" in shown(plan.query_one("#cp-goal-detail"))
        )

        form = await _form(pilot, "r")
        words = form.query_one("#f-words", Input)
        assert words.value == "Keep my blood pressure down"
        words.value = "Keep my BP under 140 so I can babysit"
        form.query_one("#f-why", Input).value = "She said what it is for"
        await _save_back(pilot, CarePlanScreen)
        await settle(pilot, lambda: len(_rows(db, Goal)) == 2)
        old, new = _rows(db, Goal)
        assert (old.status, new.status, new.revised_from_id) == ("revised", "active", old.id)
        await settle(pilot, lambda: [g.id for g in plan.panel.goals] == [new.id])

        # Escape with typed text asks first.
        form = await _form(pilot, "g")
        await pilot.press(*"half typed")
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDiscard")
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        assert len(_rows(db, Goal)) == 2

        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
        await pilot.press("E")
        await settle(pilot, lambda: isinstance(app.screen, ProgrammesModal))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EnrolForm))
        await pilot.press("ctrl+s")  # CCM from today
        await settle(pilot, lambda: isinstance(app.screen, ProgrammesModal) and app.screen.rows)
        await pilot.press("d")
        form = await _form(pilot, "")  # already open
        await pilot.press("ctrl+s")  # no reason: refused
        await settle(pilot)
        assert "required" in shown(form.query_one("#cp-form-error", Static))
        await pilot.press(*"Moved out of state")
        await _save_back(pilot, ProgrammesModal)
    [row] = _rows(db, ProgramEnrollment)
    assert row.exit_reason == "Moved out of state" and row.end_on is not None


def test_app_start_applies_the_configured_business_days(tmp_path: Path) -> None:
    before = programmes.default_calendar()
    try:
        holiday = {"business_days": {"holidays": ["2026-11-20"]}}
        build_app(tmp_path / "demo.db").store.close()
        app = make_app(
            db_url(tmp_path / "demo.db"),
            demo=True,
            user="ann",
            settings=Settings(idle_lock_minutes=0, extra=holiday),
        )
        app.store.close()
        cal = programmes.default_calendar()
        assert date(2026, 11, 20) in cal.extra
        # Friday the 20th off: 2 business days after Thursday the 19th is Tuesday.
        contact_due, _ = programmes.tcm_deadlines(date(2026, 11, 19), "moderate")
        assert contact_due.astimezone().date() == date(2026, 11, 24)
    finally:
        programmes.set_default_calendar(before)


async def test_forms_hide_the_screen_below_and_small_dialogs_show_it(tmp_path: Path) -> None:
    """Behind a see-through backdrop Textual draws the screen below again, tinted cell
    by cell, as a form opens (~25 ms of DESIGN §8's 100): the forms opened many times
    a day are opaque. A confirmation keeps the form it asks about in view."""
    from cm_tui.screens.client_form import ClientForm
    from cm_tui.screens.confirm import ConfirmDiscard
    from cm_tui.screens.followup_modals import FollowUpForm

    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        brief = await _open_rosa(pilot)
        for key, form in (
            ("l", ContactForm),
            ("u", FollowUpForm),
            ("E", ProgrammesModal),
            ("e", ClientForm),
        ):
            await pilot.press(key)
            await settle(pilot, lambda form=form: isinstance(app.screen, form))
            assert app.screen.styles.background.a == 1, form.__name__
            await pilot.press("escape")
            await settle(pilot, lambda: app.screen is brief)
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen) and app.screen.panel)
        assert (await _form(pilot, "g")).styles.background.a == 1
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, CarePlanScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is brief)
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, ContactForm))
        await pilot.press(*"Left a message", "escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDiscard))
        assert app.screen.styles.background.a < 1
