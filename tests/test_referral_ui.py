"""Needs & referrals on screen: the closed loop of issue 11, driven with Pilot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Select, Static

from cm_tui.app import CmTuiApp, make_app
from cm_tui.config import Settings
from cm_tui.screening import load_builtin
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.client import ClientScreen
from cm_tui.screens.referrals import (
    ConfirmResolve,
    ReferralsScreen,
    ReferralStateForm,
    SendReferralForm,
)
from cm_tui.services import resources as res
from cm_tui.services import screenings
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import AuditEvent, Client, FollowUp, Need, Referral, User
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import NOW, build_store
from tests.test_ui import first_frame_of, settle, shown

AHC = load_builtin("ahc-hrsn")
FOOD_ONLY = {
    "living_situation": ["steady"],
    "housing_problems": ["none"],
    "food_worry": ["often_true"],
    "food_ran_out": ["often_true"],
    "transportation": ["no"],
    "utilities": ["no"],
    "safety_hurt": ["never"],
    "safety_insult": ["never"],
    "safety_threaten": ["never"],
    "safety_scream": ["never"],
}


@pytest.fixture(autouse=True)
def _clock() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def add_resources(store: Store) -> None:
    for name, domains, languages, phone in (
        ("Apple Street Food Pantry", ["food"], ["English"], "(555) 030-1000"),
        ("Golden Harvest Pantry", ["food", "benefits"], ["English", "Chinese"], "(555) 030-2000"),
        ("Meals on Wheels [North]", ["food"], ["English", "Spanish"], "(555) 030-3000"),
        ("Harbor Housing Help", ["housing"], ["Chinese"], "(555) 030-4000"),
    ):
        res.create_resource(
            store,
            None,
            res.ResourceInput(
                name=name, domains=domains, languages=languages, phone=phone, hours="Mon-Fri 9-5"
            ),
        )


def screened_store(path: Path) -> tuple[int, int]:
    """The snapshot organisation, resources, and Mei Chen (prefers text) screened
    positive for food with the proposal accepted: (client id, need id)."""
    store = build_store(path)
    try:
        add_resources(store)
        with store.read() as s:
            ann_row = s.exec(select(User).where(User.username == "ann")).one()
            mei = s.exec(select(Client).where(Client.given_name == "Mei")).one()
        ann = Viewer.of(ann_row)
        assert mei.id is not None
        state = screenings.start(store, ann, mei.id, AHC)
        for item, value in FOOD_ONLY.items():
            screenings.save_answer(store, ann, state.screening_id, AHC, item, value)
        result = screenings.complete(store, ann, state.screening_id, AHC)
        food = [p for p in result.result.proposals if p.need_domain == "food"]
        assert food, result.result.proposals
        done = screenings.accept_proposals(
            store, ann, state.screening_id, [screenings.Decision(p, True) for p in food]
        )
        return mei.id, done.need_ids[0]
    finally:
        store.close()


def app_for(path: Path) -> CmTuiApp:
    app = make_app(db_url(path), demo=True, user="ann", settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    return app


async def open_referrals(pilot: Any, app: CmTuiApp, client_id: int) -> ReferralsScreen:
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
    app.push_screen(ClientScreen(client_id))
    await settle(pilot, lambda: isinstance(app.screen, ClientScreen))
    await settle(pilot, lambda: app.screen.brief is not None)  # type: ignore[attr-defined]
    await pilot.press("n")
    await settle(pilot, lambda: isinstance(app.screen, ReferralsScreen) and app.screen.loaded)
    screen = app.screen
    assert isinstance(screen, ReferralsScreen)
    await settle(pilot, lambda: bool(screen.suggestions))
    return screen


async def test_food_screening_to_resolved_need_closes_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    mei, need_id = screened_store(db)
    app = app_for(db)
    async with app.run_test(size=(160, 50)) as pilot:
        # Needs and the first need's suggestions are read before the screen is pushed:
        # its first frame has them (DESIGN §8).
        first = first_frame_of(
            app,
            ReferralsScreen,
            lambda s, _: (
                s.query_one("#ref-needs", DataTable).row_count,
                s.query_one("#ref-suggestions", DataTable).row_count > 0,
            ),
        )
        screen = await open_referrals(pilot, app, mei)
        assert first == [(1, True)]
        assert [n.domain for n in screen.needs] == ["food"]
        # The Chinese-speaking pantry comes first for a client who speaks Chinese.
        assert [s.name for s in screen.suggestions][:1] == ["Golden Harvest Pantry"]
        assert all("food" in s.domains for s in screen.suggestions)
        sug = screen.query_one("#ref-suggestions", DataTable)
        assert "Golden Harvest Pantry" in str(sug.get_row_at(0)[0])

        # Refer to it, by fax.
        sug.focus()
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, SendReferralForm))
        form = app.screen
        form.query_one("#ref-method", Select).value = "fax"
        form.query_one("#ref-note", Input).value = "Intake form faxed"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ReferralsScreen))
        await settle(pilot, lambda: bool(screen.needs and screen.needs[0].referrals))
        assert screen.needs[0].status == "referred"
        assert screen.needs[0].referrals[0].resource_name == "Golden Harvest Pantry"
        assert "Golden Harvest Pantry (sent)" in str(
            screen.query_one("#ref-needs", DataTable).get_row_at(0)[3]
        )

        # The check follow-up: due in 7 days, a text for someone who prefers text.
        store = open_store(db_url(db))
        with store.read() as s:
            check = s.exec(
                select(FollowUp).where(
                    FollowUp.client_id == mei,
                    FollowUp.kind == "referral_check",
                    FollowUp.source == "manual",  # the screening proposed one of its own
                )
            ).one()
        store.close()
        assert check.due_at == NOW + timedelta(days=7)
        assert check.title == "Text Mei: did Golden Harvest Pantry help with food?"

        # The pantry confirms: completed -> offered to resolve the need -> yes.
        screen.query_one("#ref-referrals", DataTable).focus()
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, ReferralStateForm))
        app.screen.query_one("#ref-state", Select).value = "completed"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmResolve))
        await pilot.press("y")
        await settle(pilot, lambda: isinstance(app.screen, ReferralsScreen) and not screen.needs)
        assert "No open needs" in shown(screen.query_one("#ref-head", Static))
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ClientScreen))

    store = open_store(db_url(db))
    with store.read() as s:
        need = s.get(Need, need_id)
        referral = s.exec(select(Referral).where(Referral.need_id == need_id)).one()
        events = s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    store.close()
    assert need is not None and need.status == "resolved" and need.closed_at is not None
    assert referral.status == "completed" and referral.note == "Sent by fax: Intake form faxed"
    trail = [(e.action, e.entity, e.detail) for e in events if e.entity != "client"]
    steps = [
        ("update", "screening", "completed ahc-hrsn"),
        ("create", "need", f"food from screening {need.screening_id}"),
        ("create", "referral", f"food need {need_id} referred to resource 2 by fax"),
        ("update", "need", "status referred"),
        ("create", "follow_up", None),
        ("update", "referral", "sent -> completed"),
        ("update", "need", "status resolved"),
    ]
    at = 0
    for action, entity, detail in steps:
        while at < len(trail) and not (
            trail[at][0] == action
            and trail[at][1] == entity
            and (detail is None or trail[at][2] == detail)
        ):
            at += 1
        assert at < len(trail), f"missing from the audit log, in order: {action} {entity} {detail}"
        at += 1


async def test_referral_form_refuses_bad_input_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    mei, need_id = screened_store(db)
    app = app_for(db)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_referrals(pilot, app, mei)
        screen.query_one("#ref-suggestions", DataTable).focus()
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, SendReferralForm))
        form = app.screen
        error = form.query_one(".error", Static)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Say how the referral was sent" in shown(error)
        form.query_one("#ref-method", Select).value = "phone"
        form.query_one("#ref-days", Input).value = "next week"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'next week' is not a number of days" in shown(error)
        form.query_one("#ref-days", Input).value = "400"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: "Not saved" in shown(error))
        assert "within 0 to 90 days" in shown(error)
        form.query_one("#ref-note", Input).value = "x" * 1001
        form.query_one("#ref-days", Input).value = "7"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: "at most 1000" in shown(error))
        assert isinstance(app.screen, SendReferralForm)  # still open, typing kept
        assert form.query_one("#ref-note", Input).value == "x" * 1001
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ReferralsScreen))
        # Closing unmet needs a reason; a state is required.
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Pick the need's domain" in shown(app.screen.query_one(".error", Static))
        app.screen.query_one("Select", Select).value = "food"
        await pilot.press("ctrl+s")
        await settle(
            pilot,
            lambda: (
                "already has an open food need" in shown(app.screen.query_one(".error", Static))
            ),
        )
        await pilot.press("escape")
    store = open_store(db_url(db))
    with store.read() as s:
        assert s.exec(select(Referral)).all() == []
        checks = select(FollowUp).where(
            FollowUp.client_id == mei,
            FollowUp.source == "manual",
            FollowUp.kind == "referral_check",
        )
        assert s.exec(checks).all() == []
        need = s.get(Need, need_id)
        assert need is not None and need.status == "identified"
        assert len(s.exec(select(Need)).all()) == 3  # Rosa's two and Mei's food
    store.close()
