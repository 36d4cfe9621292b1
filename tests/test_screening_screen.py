"""The screening screen as a user drives it (Textual Pilot), checked against the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Static

from cm_tui.app import CmTuiApp
from cm_tui.dates import parse_due
from cm_tui.screening import evaluate, load_builtin
from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.help import HelpScreen
from cm_tui.screens.screening import ScreeningScreen, start_screening
from cm_tui.screens.screening_modals import ConfirmModal, EditFollowUpModal
from cm_tui.store.models import Draft, FollowUp, Need, Screening, ScreeningAnswer
from cm_tui.store.types import freeze_clock
from tests.snapshot_app import NOW, build_app
from tests.test_ui import first_frame_of, settle, shown

SIZE = (120, 40)
WALTER = 2  # Walter Brooks: Ann's client, no needs, no screenings
AHC = load_builtin("ahc-hrsn")


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def screen(app: CmTuiApp) -> ScreeningScreen:
    assert isinstance(app.screen, ScreeningScreen), type(app.screen).__name__
    return app.screen


def text(app: CmTuiApp, widget_id: str) -> str:
    return shown(app.screen.query_one(widget_id, Static))


async def open_screening(
    pilot: Any, client_id: int = WALTER, script_id: str | None = None, phase: str = "choose"
) -> ScreeningScreen:
    app = pilot.app
    await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen), tries=100)
    start_screening(app, client_id, script_id)
    await settle(
        pilot, lambda: isinstance(app.screen, ScreeningScreen) and app.screen.phase == phase
    )
    return screen(app)


async def press(pilot: Any, *keys: str, until: Any = None) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    if until is not None:
        await settle(pilot, until)


def on_question(app: CmTuiApp, item_id: str) -> bool:
    return (
        isinstance(app.screen, ScreeningScreen)
        and app.screen.phase == "question"
        and app.screen.current == item_id
    )


def db_answers(app: CmTuiApp, screening_id: int) -> dict[str, tuple[Any, Any, bool]]:
    with app.store.read() as s:
        return {
            a.item_id: (a.option_ids, a.free_text, a.declined)
            for a in s.exec(
                select(ScreeningAnswer).where(ScreeningAnswer.screening_id == screening_id)
            ).all()
        }


def screenings_of(app: CmTuiApp, client_id: int) -> list[Screening]:
    with app.store.read() as s:
        return list(
            s.exec(
                select(Screening)
                .where(Screening.client_id == client_id)
                .order_by(col(Screening.id))
            ).all()
        )


async def test_the_screen_opens_with_its_scripts_in_its_first_frame(tmp_path: Path) -> None:
    """Who is screened and the scripts are read before the screen is pushed (DESIGN §8:
    one paint of a full screen, not "Loading…" and then the list); the view is audited
    by that read."""
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        first = first_frame_of(
            app,
            ScreeningScreen,
            lambda s, _: (s.phase, s.query_one("#scripts", DataTable).row_count > 0),
        )
        s = await open_screening(pilot)
        assert first == [("choose", True)]
        assert s.subject is not None and "Brooks" in s.subject.name


# ---------------------------------------------------------------- the Done-when


async def test_ahc_end_to_end_with_declines_quit_resume_complete_accept(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        s = await open_screening(pilot)
        table = s.query_one("#scripts", DataTable)
        assert str(table.get_row_at(0)[0]) == AHC.title
        await press(pilot, "enter", until=lambda: s.phase == "optout")
        assert "You don't have to answer any question" in text(app, "#optout-text")
        await press(pilot, "a", until=lambda: on_question(app, "living_situation"))
        assert "Question 1 of 10" in text(app, "#progress")
        assert text(app, "#qtext").strip() == "What is your living situation today?"

        await press(pilot, "2", until=lambda: on_question(app, "housing_problems"))
        await press(pilot, "1", "2")  # multi: tick pests and mold, then confirm
        assert s.selection == ["pests", "mold"]
        assert "[x]" in text(app, "#options")
        await press(pilot, "enter", until=lambda: on_question(app, "food_worry"))
        await press(pilot, "d", until=lambda: on_question(app, "food_ran_out"))  # declined
        await press(pilot, "2", until=lambda: on_question(app, "transportation"))
        assert "Question 5 of 10" in text(app, "#progress")
        sid = s.state.screening_id

        # Quit mid-way: the screening stays in progress with what was given.
        await press(pilot, "escape", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)
        (row,) = screenings_of(app, WALTER)
        assert row.status == "in_progress" and row.opt_out_acknowledged
        assert db_answers(app, sid) == {
            "living_situation": (["worried_about_losing"], None, False),
            "housing_problems": (["pests", "mold"], None, False),
            "food_worry": ([], None, True),
            "food_ran_out": (["sometimes_true"], None, False),
        }

        # Resume: the list says so, the opt-out is read again, and it goes on at question 5.
        s = await open_screening(pilot)
        status = str(s.query_one("#scripts", DataTable).get_row_at(0)[2])
        assert "in progress" in status and "3 answered, 1 declined" in status
        await press(pilot, "enter", until=lambda: s.phase == "optout")
        assert "Resuming" in text(app, "#optout-resume")
        await press(pilot, "a", until=lambda: on_question(app, "transportation"))
        assert s.state.screening_id == sid
        assert "Question 5 of 10" in text(app, "#progress")

        # Back shows the earlier answer; enter keeps it.
        await press(pilot, "b", until=lambda: on_question(app, "food_ran_out"))
        assert "Answered earlier" in text(app, "#qstatus")
        assert "●" in text(app, "#options")
        await press(pilot, "b", until=lambda: on_question(app, "food_worry"))
        assert "prefers not to answer" in text(app, "#qstatus")
        await press(pilot, "enter", until=lambda: on_question(app, "food_ran_out"))
        await press(pilot, "enter", until=lambda: on_question(app, "transportation"))

        await press(pilot, "1", until=lambda: on_question(app, "utilities"))
        await press(pilot, "d", until=lambda: on_question(app, "safety_hurt"))  # 2nd decline
        assert "Because violence and abuse" in text(app, "#preamble")
        await press(pilot, "1", "1", "1", "1", until=lambda: s.phase == "summary")

        # Summary: positive domains, the safety score, both declined questions.
        results = text(app, "#results")
        assert "Housing, Food, Transportation" in results
        assert "Interpersonal safety total: 4" in results
        assert "prefers not to answer" in results
        assert "you worried that your food would run out" in results
        assert "electric, gas, oil, or water company" in results
        assert not s.query_one("#flag-notice").display
        proposals = s.query_one("#proposals", DataTable)
        assert proposals.row_count == 3

        # Edit the housing follow-up, then accept them all and finish.
        await press(pilot, "e", until=lambda: isinstance(app.screen, EditFollowUpModal))
        title = app.screen.query_one("#edit-title", Input)
        title.value = "Housing: call Eastside Housing [bold]today[/bold]"
        app.screen.query_one("#edit-due", Input).focus()
        await press(pilot, *"+3d")
        assert "Sat 28 Nov 2026" in text(app, "#edit-due-echo")
        await press(pilot, "ctrl+s", until=lambda: isinstance(app.screen, ScreeningScreen))
        assert s.choices[0].state == "accepted"
        await press(pilot, "A")
        assert [c.state for c in s.choices] == ["accepted"] * 3
        await press(pilot, "f", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)

    # The database holds exactly what was answered and declined, and what was accepted.
    store = app.store
    (row,) = screenings_of(app, WALTER)
    assert row.status == "completed" and row.completed_at == NOW
    given = {
        "living_situation": ["worried_about_losing"],
        "housing_problems": ["pests", "mold"],
        "food_ran_out": ["sometimes_true"],
        "transportation": ["yes"],
        "safety_hurt": ["never"],
        "safety_insult": ["never"],
        "safety_threaten": ["never"],
        "safety_scream": ["never"],
    }
    declined = {"food_worry", "utilities"}
    assert db_answers(app, sid) == {
        **{k: (v, None, False) for k, v in given.items()},
        **{k: ([], None, True) for k in declined},
    }
    expected = evaluate(AHC, given, declined)
    stored = dict(row.result_json or {})
    decisions = stored.pop("decisions")
    assert stored == expected.to_json()
    assert [d["accepted"] for d in decisions] == [True, True, True]
    with store.read() as s_:
        needs = s_.exec(select(Need).where(Need.client_id == WALTER)).all()
        fus = s_.exec(
            select(FollowUp).where(FollowUp.client_id == WALTER).order_by(col(FollowUp.id))
        ).all()
        drafts = s_.exec(select(Draft)).all()
    assert sorted((n.domain, n.screening_id, n.status) for n in needs) == [
        ("food", sid, "identified"),
        ("housing", sid, "identified"),
        ("transportation", sid, "identified"),
    ]
    ann = row.user_id
    got = [(f.title, f.priority, f.due_at, f.source, f.assignee_id, f.created_by_id) for f in fus]
    assert got == [
        ("Housing: call Eastside Housing [bold]today[/bold]", "high", parse_due("+3d", NOW),
         "screening", ann, ann),
        (expected.proposals[1].title, "normal", parse_due("+7d", NOW), "screening", ann, ann),
        (expected.proposals[2].title, "normal", parse_due("+7d", NOW), "screening", ann, ann),
    ]  # fmt: skip
    assert drafts == []
    store.close()


# ---------------------------------------------------------------- flags


async def test_interpersonal_safety_flag_shows_the_protocol_and_needs_confirming(
    tmp_path: Path,
) -> None:
    app = build_app(tmp_path / "demo.db")
    app.settings.flag_protocol = "Call the [bold]safety line[/bold] 555-0100 before hanging up."
    async with app.run_test(size=SIZE) as pilot:
        s = await open_screening(pilot, script_id="ahc-hrsn", phase="optout")
        await press(pilot, "enter", until=lambda: on_question(app, "living_situation"))
        await press(pilot, "1", "8", "enter", "3", "3", "2", "2")
        await press(pilot, "2", until=lambda: on_question(app, "safety_insult"))  # hurt: rarely
        await press(pilot, "1", "1", "1", until=lambda: s.phase == "summary")

        notice = text(app, "#flag-notice")
        assert s.query_one("#flag-notice").display
        assert "FLAG: Interpersonal safety" in notice
        assert "Call the [bold]safety line[/bold] 555-0100" in notice  # literal, configured
        assert "Interpersonal safety total: 5" in text(app, "#results")
        assert [c.proposal.source for c in s.choices] == ["flag"]
        assert s.choices[0].priority == "urgent"

        # Finishing with the flag undecided is refused.
        await press(pilot, "f")
        assert isinstance(app.screen, ScreeningScreen) and s.phase == "summary"
        # Skipping asks first; "no" keeps it proposed.
        await press(pilot, "x", until=lambda: isinstance(app.screen, ConfirmModal))
        await press(pilot, "n", until=lambda: isinstance(app.screen, ScreeningScreen))
        assert s.choices[0].state == "proposed"
        # Leaving with a flag asks too.
        await press(pilot, "escape", until=lambda: isinstance(app.screen, ConfirmModal))
        await press(pilot, "n", until=lambda: isinstance(app.screen, ScreeningScreen))
        await press(pilot, "a")
        assert s.choices[0].state == "accepted"
        await press(pilot, "f", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)
    (row,) = screenings_of(app, WALTER)
    assert row.status == "completed"
    assert row.result_json is not None and row.result_json["flags"] == ["interpersonal_safety"]
    with app.store.read() as s_:
        (fu,) = s_.exec(select(FollowUp).where(FollowUp.client_id == WALTER)).all()
        (need,) = s_.exec(select(Need).where(Need.client_id == WALTER)).all()
    assert fu.priority == "urgent" and fu.source == "screening" and fu.kind == "call"
    assert fu.due_at == parse_due("today", NOW)
    assert need.domain == "safety" and need.screening_id == row.id
    app.store.close()


async def test_phq9_item_9_flags_and_a_skip_needs_explicit_confirmation(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        s = await open_screening(pilot, script_id="phq-9", phase="optout")
        await press(pilot, "a", until=lambda: on_question(app, "phq_1"))
        await press(pilot, *"11111111")
        await press(pilot, "2", until=lambda: on_question(app, "phq_difficulty"))
        assert "Question 10 of 10" in text(app, "#progress")
        await press(pilot, "1", until=lambda: s.phase == "summary")
        assert "FLAG: Self-harm risk" in text(app, "#flag-notice")
        assert app.settings.flag_protocol.split(":")[0] in text(app, "#flag-notice")
        assert "PHQ-9 total: 1 (minimal)" in text(app, "#results")
        await press(pilot, "x", until=lambda: isinstance(app.screen, ConfirmModal))
        await press(pilot, "y", until=lambda: isinstance(app.screen, ScreeningScreen))
        assert s.choices[0].state == "skipped" and s.choices[0].confirmed_skip
        await press(pilot, "f", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)
    (row,) = screenings_of(app, WALTER)
    assert row.status == "completed" and row.result_json is not None
    assert row.result_json["flags"] == ["self_harm_risk"]
    assert row.result_json["decisions"][0]["confirmed_skip"] is True
    with app.store.read() as s_:
        assert s_.exec(select(FollowUp).where(FollowUp.client_id == WALTER)).all() == []
    app.store.close()


# ---------------------------------------------------------------- declined as a whole


async def test_declining_the_whole_screening(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await open_screening(pilot, script_id="hunger-vital-sign", phase="optout")
        await press(pilot, "x", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)
    (row,) = screenings_of(app, WALTER)
    assert row.status == "declined" and row.script_id == "hunger-vital-sign"
    assert not row.opt_out_acknowledged
    assert db_answers(app, row.id or 0) == {}
    app.store.close()


# ---------------------------------------------------------------- custom scripts, literally


CUSTOM = """
id = "custom-check"
version = "2"
title = "Custom [red]check-in[/red]"
language = "en"
intro = "[bold]You may skip[/bold] any question.\\u001b[31m"

[[items]]
id = "people"
domain = "housing"
kind = "number"
min = 0
max = 20
preamble = "[italic]About your home[/italic]"
text = "[bold]How many[/bold] people live with you?"

[[items]]
id = "pick"
domain = "other"
kind = "single"
text = "Which is true? [link=http://x]see[/link]"
options = [
  { id = "a", label = "[b]first[/b]" },
  { id = "b", label = "second" },
]

[[items]]
id = "notes"
domain = "other"
kind = "text"
text = "Anything else?"
"""


async def test_custom_script_text_is_shown_literally_and_typed_answers_work(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "custom-check.toml").write_text(CUSTOM)
    (folder / "broken.toml").write_text('id = "broken"\n[[items]]\n')
    app = build_app(tmp_path / "demo.db")
    app.settings.scripts_dir = str(folder)
    async with app.run_test(size=SIZE) as pilot:
        s = await open_screening(pilot)
        table = s.query_one("#scripts", DataTable)
        titles = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "Custom [red]check-in[/red] (custom)" in titles
        assert "cannot be used" in str(table.get_row_at(titles.index("broken (custom)"))[2])
        table.move_cursor(row=titles.index("broken (custom)"))
        await press(pilot, "enter")
        assert s.phase == "choose"  # a broken script does not open
        table.move_cursor(row=titles.index("Custom [red]check-in[/red] (custom)"))
        await press(pilot, "enter", until=lambda: s.phase == "optout")
        assert "[bold]You may skip[/bold] any question.␛[31m" in text(app, "#optout-text")
        await press(pilot, "a", until=lambda: on_question(app, "people"))
        assert "[bold]How many[/bold] people live with you?" in text(app, "#qtext")
        assert "[italic]About your home[/italic]" in text(app, "#preamble")
        entry = s.query_one("#entry", Input)
        assert app.focused is entry
        await press(pilot, *"99", "enter")
        assert "outside" in text(app, "#qerror") and on_question(app, "people")
        entry.value = ""
        await press(pilot, *"3", "enter", until=lambda: on_question(app, "pick"))
        assert "Which is true? [link=http://x]see[/link]" in text(app, "#qtext")
        assert "[b]first[/b]" in text(app, "#options")
        await press(pilot, "2", until=lambda: on_question(app, "notes"))
        # A text field takes every letter; escape leaves it so d declines.
        await press(pilot, *"bd")
        assert s.query_one("#entry", Input).value == "bd"
        await press(pilot, "escape", "d", until=lambda: s.phase == "summary")
        sid = s.state.screening_id
        assert "Anything else?" in text(app, "#results")
        await press(pilot, "f", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)
    assert db_answers(app, sid) == {
        "people": (None, "3", False),
        "pick": (["b"], None, False),
        "notes": ([], None, True),
    }
    app.store.close()


async def test_half_typed_text_survives_leaving(tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "custom-check.toml").write_text(CUSTOM)
    app = build_app(tmp_path / "demo.db")
    app.settings.scripts_dir = str(folder)
    async with app.run_test(size=SIZE) as pilot:
        s = await open_screening(pilot, script_id="custom-check", phase="optout")
        await press(pilot, "a", until=lambda: on_question(app, "people"))
        await press(pilot, *"12")
        await press(pilot, "escape", "escape", until=lambda: isinstance(app.screen, CaseloadScreen))
        await settle(pilot)
        s = await open_screening(pilot, script_id="custom-check", phase="optout")
        await press(pilot, "a", until=lambda: on_question(app, "people"))
        assert s.query_one("#entry", Input).value == "12"
    app.store.close()


# ---------------------------------------------------------------- a save that fails


async def test_a_failed_save_is_shown_and_nothing_is_lost_silently(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        s = await open_screening(pilot, script_id="hunger-vital-sign", phase="optout")
        await press(pilot, "a", until=lambda: on_question(app, "food_worry"))
        await press(pilot, "1", until=lambda: on_question(app, "food_ran_out"))
        # Someone else records the screening as declined meanwhile (another window).
        with app.store.write() as session:
            row = session.get(Screening, s.state.screening_id)
            assert row is not None
            row.status = "declined"
            session.add(row)
        await press(pilot, "2", until=lambda: isinstance(app.screen, CaseloadScreen))
        messages = [n.message for n in app._notifications]
        assert any("Not saved" in m and "already declined" in m for m in messages)
        assert any("This screening is declined" in m for m in messages)
    (row,) = screenings_of(app, WALTER)
    assert db_answers(app, row.id or 0) == {"food_worry": (["often_true"], None, False)}
    app.store.close()


async def test_a_client_name_with_markup_is_shown_literally(tmp_path: Path) -> None:
    app = build_app(tmp_path / "demo.db")
    async with app.run_test(size=SIZE) as pilot:
        await open_screening(pilot, client_id=5, script_id="phq-2", phase="optout")
        assert "[bold]Evil[/bold] Escape␛[31m" in text(app, "#who")
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.rows
        assert ("x", "Declines whole screening") in keys
    app.store.close()
