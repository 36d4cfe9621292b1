"""The screening service on every engine: answers as given, resume, complete, proposals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from cm_tui.dates import parse_due
from cm_tui.screening import evaluate, load_any, load_builtin
from cm_tui.services import screenings as svc
from cm_tui.services.clients import NotAllowed
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, Draft, FollowUp, Need, Screening, ScreeningAnswer
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_need, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
AHC = load_builtin("ahc-hrsn")
PHQ9 = load_builtin("phq-9")


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    ann = add_user(any_store, "ann")
    chw = add_user(any_store, "cam", role="chw")
    client = add_client(any_store, "Rosa", "Alvarez", ann, chw_id=chw.id)
    other = add_client(any_store, "Walter", "Brooks", None)
    return {"store": any_store, "ann": ann, "chw": chw, "client": client, "other": other}


def rows(store: Store, screening_id: int) -> dict[str, tuple[Any, Any, bool]]:
    with store.read() as s:
        return {
            a.item_id: (a.option_ids, a.free_text, a.declined)
            for a in s.exec(
                select(ScreeningAnswer).where(ScreeningAnswer.screening_id == screening_id)
            ).all()
        }


def screening(store: Store, screening_id: int) -> Screening:
    with store.read() as s:
        row = s.get(Screening, screening_id)
        assert row is not None
        return row


def answer_all(store: Store, viewer: Any, sid: int, answers: dict[str, Any]) -> None:
    for item_id, value in answers.items():
        if value is None:
            svc.save_answer(store, viewer, sid, AHC, item_id, declined=True)
        else:
            svc.save_answer(store, viewer, sid, AHC, item_id, value)


NO_NEEDS = {
    "living_situation": ["steady"],
    "housing_problems": ["none"],
    "food_worry": ["never_true"],
    "food_ran_out": ["never_true"],
    "transportation": ["no"],
    "utilities": ["no"],
    "safety_hurt": ["never"],
    "safety_insult": ["never"],
    "safety_threaten": ["never"],
    "safety_scream": ["never"],
}


# ---------------------------------------------------------------- start, resume, decline


def test_start_then_resume_the_same_screening(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    first = svc.start(store, ann, org["client"], AHC)
    assert first.status == "in_progress" and first.opt_out_acknowledged and not first.resumed
    svc.save_answer(store, ann, first.screening_id, AHC, "living_situation", ["steady"])
    again = svc.start(store, ann, org["client"], AHC)
    assert again.screening_id == first.screening_id and again.resumed
    assert again.answers == {"living_situation": ["steady"]}
    assert svc.resume_position(AHC, again) == "housing_problems"
    sub = svc.subject(store, ann, org["client"])
    assert sub.name == "Rosa Alvarez"
    pending = sub.resumable("ahc-hrsn")
    assert pending is not None and pending.answered == 1 and pending.declined == 0
    # A different script starts its own screening.
    phq = svc.start(store, ann, org["client"], PHQ9)
    assert phq.screening_id != first.screening_id
    with store.read() as s:
        assert len(s.exec(select(Screening)).all()) == 2


def test_opt_out_acknowledged_later(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    state = svc.start(store, ann, org["client"], AHC, acknowledge=False)
    assert not screening(store, state.screening_id).opt_out_acknowledged
    svc.acknowledge_opt_out(store, ann, state.screening_id)
    assert screening(store, state.screening_id).opt_out_acknowledged
    with store.read() as s:
        details = [e.detail for e in s.exec(select(AuditEvent)).all()]
    assert "opt-out acknowledged" in details


def test_declining_the_whole_screening(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.decline_screening(store, ann, org["client"], AHC)
    row = screening(store, sid)
    assert row.status == "declined" and row.completed_at == NOW
    assert rows(store, sid) == {}
    # Declining part-way keeps what was already answered, as given.
    state = svc.start(store, ann, org["client"], AHC)
    svc.save_answer(store, ann, state.screening_id, AHC, "living_situation", ["not_steady"])
    assert svc.decline_screening(store, ann, org["client"], AHC) == state.screening_id
    assert screening(store, state.screening_id).status == "declined"
    assert rows(store, state.screening_id) == {"living_situation": (["not_steady"], None, False)}
    with pytest.raises(svc.ScreeningError, match="declined"):
        svc.save_answer(store, ann, state.screening_id, AHC, "food_worry", ["often_true"])


def test_access_is_checked(org: dict[str, Any]) -> None:
    store, chw = org["store"], org["chw"]
    svc.start(store, chw, org["client"], AHC)  # assigned to this CHW
    with pytest.raises(NotAllowed):
        svc.start(store, chw, org["other"], AHC)
    with pytest.raises(NotAllowed):
        svc.subject(store, chw, org["other"])
    with store.read() as s:
        refused = s.exec(select(AuditEvent).where(AuditEvent.entity_id == org["other"])).all()
    assert refused and "refused" in (refused[-1].detail or "")


# ---------------------------------------------------------------- answers


def test_answers_are_stored_as_given(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["client"], AHC).screening_id
    svc.save_answer(store, ann, sid, AHC, "housing_problems", ["mold", "pests"])
    svc.save_answer(store, ann, sid, AHC, "food_worry", declined=True)
    svc.save_answer(store, ann, sid, AHC, "transportation", ["yes"])
    svc.save_answer(store, ann, sid, AHC, "transportation", ["no"])  # changed: replaced
    assert rows(store, sid) == {
        "housing_problems": (["mold", "pests"], None, False),
        "food_worry": ([], None, True),
        "transportation": (["no"], None, False),
    }
    # A declined answer later given replaces the decline.
    svc.save_answer(store, ann, sid, AHC, "food_worry", ["sometimes_true"])
    assert rows(store, sid)["food_worry"] == (["sometimes_true"], None, False)
    state = svc.load_state(store, ann, sid, AHC)
    assert state.declined == set()
    assert state.answers["housing_problems"] == ["mold", "pests"]


@pytest.mark.parametrize(
    ("item", "values", "message"),
    [
        ("living_situation", ["maybe"], "unknown option"),
        ("living_situation", ["steady", "not_steady"], "takes one option"),
        ("housing_problems", ["none", "mold"], "cannot be combined"),
        ("living_situation", [], "Choose an answer"),
        ("no_such_item", ["x"], "no question"),
    ],
)
def test_answers_that_do_not_fit_are_refused(
    org: dict[str, Any], item: str, values: list[str], message: str
) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["client"], AHC).screening_id
    with pytest.raises(svc.ScreeningError, match=message):
        svc.save_answer(store, ann, sid, AHC, item, values)
    assert rows(store, sid) == {}


def test_number_and_text_answers(org: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "custom.toml").write_text(
        'id = "custom"\nversion = "1"\ntitle = "Custom"\nlanguage = "en"\n'
        'intro = "You may skip any question."\n'
        '[[items]]\nid = "people"\ndomain = "housing"\nkind = "number"\nmin = 0\nmax = 20\n'
        'text = "How many people live with you?"\n'
        '[[items]]\nid = "notes"\ndomain = "other"\nkind = "text"\n'
        'text = "Anything else?"\n'
    )
    script = load_any("custom", tmp_path)
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["client"], script).screening_id
    with pytest.raises(svc.ScreeningError, match="outside"):
        svc.save_answer(store, ann, sid, script, "people", ["99"])
    svc.save_answer(store, ann, sid, script, "people", ["3"])
    svc.save_answer(store, ann, sid, script, "notes", ["[bold]no[/bold]"])
    assert rows(store, sid) == {
        "people": (None, "3", False),
        "notes": (None, "[bold]no[/bold]", False),
    }
    done = svc.complete(store, ann, sid, script)
    assert done.result.answered_items == {"people", "notes"}


def test_going_back_is_where_a_screening_resumes(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["client"], AHC).screening_id
    for item_id in ("living_situation", "housing_problems", "food_worry"):
        svc.save_answer(store, ann, sid, AHC, item_id, NO_NEEDS[item_id], position="x")
    svc.go_back(store, ann, sid, "housing_problems")
    state = svc.start(store, ann, org["client"], AHC)
    assert svc.resume_position(AHC, state) == "housing_problems"
    # Positions are the author's draft: a colleague resuming starts at the first unanswered.
    colleague = svc.load_state(store, org["chw"], sid, AHC)
    assert svc.resume_position(AHC, colleague) == "food_ran_out"
    svc.save_position(store, ann, sid, "food_ran_out", typed={"food_ran_out": "half"})
    state = svc.load_state(store, ann, sid, AHC)
    assert svc.resume_position(AHC, state) == "food_ran_out"
    assert state.typed == {"food_ran_out": "half"}
    # A position that is not a question to show falls back to the first unanswered one.
    svc.save_position(store, ann, sid, "no_such_item")
    state = svc.load_state(store, ann, sid, AHC)
    assert svc.resume_position(AHC, state) == "food_ran_out"


# ---------------------------------------------------------------- completing


def test_complete_needs_every_question_answered_or_declined(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["client"], AHC).screening_id
    answer_all(store, ann, sid, {**NO_NEEDS, "utilities": None})
    svc.save_answer(store, ann, sid, AHC, "safety_scream", declined=True)
    with store.write() as s:
        s.delete(s.get(ScreeningAnswer, (sid, "transportation")))
    with pytest.raises(svc.ScreeningError, match="1 question is not answered"):
        svc.complete(store, ann, sid, AHC)
    svc.save_answer(store, ann, sid, AHC, "transportation", ["no"], position=svc.SUMMARY)
    done = svc.complete(store, ann, sid, AHC)
    row = screening(store, sid)
    assert row.status == "completed" and row.completed_at == NOW
    declined = {"utilities", "safety_scream"}
    expected = evaluate(AHC, {k: v for k, v in NO_NEEDS.items() if k not in declined}, declined)
    assert row.result_json == expected.to_json()
    assert "safety" in row.result_json["incomplete_scores"]
    assert done.result.proposals == []
    with store.read() as s:
        assert s.exec(select(Draft)).all() == []
    with pytest.raises(svc.ScreeningError, match="already completed"):
        svc.save_answer(store, ann, sid, AHC, "utilities", ["yes"])


def test_answers_to_questions_skipped_at_the_end_are_removed(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["client"], PHQ9).screening_id
    for n in range(1, 10):
        svc.save_answer(store, ann, sid, PHQ9, f"phq_{n}", ["1" if n == 1 else "0"])
    svc.save_answer(store, ann, sid, PHQ9, "phq_difficulty", ["somewhat_difficult"])
    svc.save_answer(store, ann, sid, PHQ9, "phq_1", ["0"])  # went back: now no problems
    done = svc.complete(store, ann, sid, PHQ9)
    assert done.pruned_items == ["phq_difficulty"]
    assert "phq_difficulty" not in rows(store, sid)
    assert done.result.scores == {"phq9": 0} and done.result.bands == {"phq9": "minimal"}


def _positive(store: Store, ann: Any, client: int) -> tuple[int, svc.ScreeningResult]:
    sid = svc.start(store, ann, client, AHC).screening_id
    answer_all(
        store,
        ann,
        sid,
        {
            **NO_NEEDS,
            "living_situation": ["worried_about_losing"],
            "food_worry": ["sometimes_true"],
            "transportation": None,
            "safety_hurt": ["rarely"],
            "safety_insult": None,
        },
    )
    with store.read() as s:
        answers, declined = svc._answers_of(s, sid, AHC)
    return sid, evaluate(AHC, answers, declined)


def test_a_flag_cannot_be_skipped_silently(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid, result = _positive(store, ann, org["client"])
    assert result.flags == {"interpersonal_safety"}
    flag = result.proposals[0]
    assert flag.source == "flag" and flag.priority == "urgent"
    others = [svc.Decision(p, True) for p in result.proposals[1:]]
    with pytest.raises(svc.FlagNotHandled):
        svc.complete(store, ann, sid, AHC, others)
    with pytest.raises(svc.FlagNotHandled):
        svc.complete(store, ann, sid, AHC, [svc.Decision(flag, False), *others])
    with pytest.raises(svc.ScreeningError, match="always urgent"):
        svc.complete(store, ann, sid, AHC, [svc.Decision(flag, True, priority="low")])
    # Nothing was written by the refused attempts.
    assert screening(store, sid).status == "in_progress"
    with store.read() as s:
        assert s.exec(select(FollowUp)).all() == [] and s.exec(select(Need)).all() == []
    done = svc.complete(
        store, ann, sid, AHC, [svc.Decision(flag, False, confirmed_skip=True), *others]
    )
    assert len(done.followup_ids) == len(others)
    decisions = screening(store, sid).result_json["decisions"]
    assert decisions[0] == {
        "title": flag.title,
        "trigger": "interpersonal_safety",
        "source": "flag",
        "accepted": False,
        "confirmed_skip": True,
    }


def test_accepted_proposals_open_needs_and_follow_ups(org: dict[str, Any]) -> None:
    store, ann, chw = org["store"], org["ann"], org["chw"]
    existing_food = add_need(store, org["client"], "food", status="referred")
    sid, result = _positive(store, chw, org["client"])  # a CHW runs it; the CM gets the work
    flag, housing, food = result.proposals
    assert (housing.need_domain, food.need_domain) == ("housing", "food")
    due = parse_due("+2d", NOW)
    decisions = [
        svc.Decision(flag, True),
        svc.Decision(housing, True, title="Housing: call Eastside Housing", due_at=due),
        svc.Decision(food, True, priority="high"),
    ]
    done = svc.complete(store, chw, sid, AHC, decisions)
    with store.read() as s:
        needs = s.exec(select(Need).order_by(col(Need.id))).all()
        fus = s.exec(select(FollowUp).order_by(col(FollowUp.id))).all()
        events = s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert [(n.domain, n.screening_id, n.status) for n in needs] == [
        ("food", None, "referred"),  # already open: reused, not duplicated
        ("safety", sid, "identified"),
        ("housing", sid, "identified"),
    ]
    assert done.reused_need_ids == [existing_food]
    assert [
        (f.title, f.kind, f.priority, f.due_at, f.assignee_id, f.created_by_id, f.source)
        for f in fus
    ] == [
        (flag.title, "call", "urgent", parse_due("today", NOW), ann.id, chw.id, "screening"),
        (
            "Housing: call Eastside Housing",
            "referral_check",
            "high",
            due,
            ann.id,
            chw.id,
            "screening",
        ),
        (
            food.title,
            "referral_check",
            "high",
            parse_due("+7d", NOW),
            ann.id,
            chw.id,
            "screening",
        ),
    ]
    created = [(e.entity, e.user_id) for e in events if e.action == "create"]
    assert created[-5:] == [
        ("need", chw.id),
        ("follow_up", chw.id),
        ("need", chw.id),
        ("follow_up", chw.id),
        ("follow_up", chw.id),
    ]
    data = screening(store, sid).result_json
    assert [d["accepted"] for d in data["decisions"]] == [True, True, True]
    assert data["decisions"][2]["need_id"] == existing_food


def test_accept_proposals_after_completing_once_only(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid, result = _positive(store, ann, org["client"])
    svc.complete(store, ann, sid, AHC)  # no decisions yet
    with store.read() as s:
        assert s.exec(select(FollowUp)).all() == []
    flag = result.proposals[0]
    done = svc.accept_proposals(store, ann, sid, [svc.Decision(flag, True)])
    assert len(done.followup_ids) == 1 and len(done.need_ids) == 1
    with pytest.raises(svc.ScreeningError, match="already decided"):
        svc.accept_proposals(store, ann, sid, [svc.Decision(flag, True)])


def test_phq9_item_9_flags_at_any_total(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    sid = svc.start(store, ann, org["other"], PHQ9).screening_id
    for n in range(1, 9):
        svc.save_answer(store, ann, sid, PHQ9, f"phq_{n}", ["0"])
    svc.save_answer(store, ann, sid, PHQ9, "phq_9", ["1"])
    svc.save_answer(store, ann, sid, PHQ9, "phq_difficulty", declined=True)
    with store.read() as s:
        answers, declined = svc._answers_of(s, sid, PHQ9)
    result = evaluate(PHQ9, answers, declined)
    assert result.flags == {"self_harm_risk"} and result.scores == {"phq9": 1}
    (flag,) = result.proposals
    done = svc.complete(store, ann, sid, PHQ9, [svc.Decision(flag, True)])
    with store.read() as s:
        fu = s.get(FollowUp, done.followup_ids[0])
    assert fu is not None and fu.priority == "urgent" and fu.assignee_id == ann.id
