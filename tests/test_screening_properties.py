"""Properties of the engine over arbitrary answers to the built-in scripts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cm_tui.screening import BUILTIN_IDS, ScreeningResult, evaluate, load_builtin, next_item
from cm_tui.screening.model import Item, Script

SCRIPTS = {script_id: load_builtin(script_id) for script_id in BUILTIN_IDS}


def answer_for(item: Item) -> st.SearchStrategy[list[str]]:
    ids = list(item.option_ids)
    if item.kind == "single":
        return st.sampled_from(ids).map(lambda o: [o])
    exclusive = [o.id for o in item.options if o.exclusive]
    combinable = [o.id for o in item.options if not o.exclusive]
    return st.one_of(
        st.sampled_from(exclusive).map(lambda o: [o]) if exclusive else st.nothing(),
        st.lists(st.sampled_from(combinable), min_size=1, unique=True),
    )


@st.composite
def screenings(
    draw: st.DrawFn, script_id: str | None = None
) -> tuple[Script, dict[str, list[str]], set[str]]:
    """A script, answers to a subset of its items and declines of another subset."""
    script = SCRIPTS[script_id or draw(st.sampled_from(BUILTIN_IDS))]
    answers: dict[str, list[str]] = {}
    declined: set[str] = set()
    for item in script.items:
        state = draw(st.sampled_from(["answer", "answer", "decline", "skip"]))
        if state == "answer":
            answers[item.id] = draw(answer_for(item))
        elif state == "decline":
            declined.add(item.id)
    return script, answers, declined


def score_range(script: Script, score_id: str) -> tuple[int, int]:
    score = script.score_def(score_id)
    assert score is not None
    items = [script.item(i) for i in score.items]
    low = sum(min(o.score or 0 for o in i.options) for i in items if i is not None)
    high = sum(max(o.score or 0 for o in i.options) for i in items if i is not None)
    return low, high


@settings(max_examples=400)
@given(screenings())
def test_evaluate_never_raises_and_partitions_the_items(case: Any) -> None:
    script, answers, declined = case
    result = evaluate(script, answers, declined)
    visible = {i.id for i in script.items} if not any(i.show_if for i in script.items) else None
    parts = [result.answered_items, result.declined_items, result.unanswered_items]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    if visible is not None:
        assert set().union(*parts) == visible
    assert result.answered_items <= set(answers)
    assert result.declined_items <= declined
    assert result.complete is (next_item(script, answers, declined) is None)
    for score_id, value in result.scores.items():
        low, high = score_range(script, score_id)
        assert low <= value <= high
        score = script.score_def(score_id)
        assert score is not None
        assert not set(score.items) & result.declined_items
        if score.bands:
            assert result.bands[score_id] == score.band_for(value)
    assert set(result.bands) <= set(result.scores)
    assert result.incomplete_scores.isdisjoint(result.scores)
    assert result.positive_domains <= set(script.domains)
    for flag in result.flags:
        assert any(p.trigger == flag and p.priority == "urgent" for p in result.proposals)
    for domain in result.positive_domains:
        assert any(p.trigger == domain for p in result.proposals)
    data = json.loads(json.dumps(result.to_json()))
    assert ScreeningResult.from_json(data) == result


@settings(max_examples=300)
@given(screenings(), st.data())
def test_a_declined_item_is_never_scored(case: Any, data: st.DataObject) -> None:
    script, answers, declined = case
    result = evaluate(script, answers, declined)
    for score in script.scores:
        if set(score.items) & result.declined_items:
            assert score.id not in result.scores
            assert score.id in result.incomplete_scores


@settings(max_examples=300)
@given(screenings(), st.data())
def test_declining_never_makes_a_result_that_no_answer_would(
    case: Any, data: st.DataObject
) -> None:
    """Whatever the person would have said, it would have been at least this positive.

    So a decline is never read as a "no" that hides a need, and never invents one either:
    every positive domain and flag with the decline is there for every possible answer.
    """
    script, answers, declined = case
    candidates = [i for i in script.items if i.id in answers and i.kind == "single"]
    if not candidates:
        return
    item = data.draw(st.sampled_from(candidates))
    rest = {k: v for k, v in answers.items() if k != item.id}
    with_decline = evaluate(script, rest, declined | {item.id})
    for option in item.options:
        answered = evaluate(script, {**rest, item.id: [option.id]}, declined - {item.id})
        assert with_decline.positive_domains <= answered.positive_domains
        assert with_decline.flags <= answered.flags


@settings(max_examples=300)
@given(screenings("phq-9"), st.data())
def test_phq9_is_monotone(case: Any, data: st.DataObject) -> None:
    """Raising any PHQ-9 answer never lowers the total, the band or what is positive."""
    script, answers, declined = case
    scored = [f"phq_{n}" for n in range(1, 10)]
    item_id = data.draw(st.sampled_from(scored))
    current = int(answers.get(item_id, ["0"])[0])
    higher = data.draw(st.integers(current, 3))
    before = evaluate(script, {**answers, item_id: [str(current)]}, declined - {item_id})
    after = evaluate(script, {**answers, item_id: [str(higher)]}, declined - {item_id})
    order = ["minimal", "mild", "moderate", "moderately_severe", "severe"]
    if "phq9" in before.scores:
        assert after.scores["phq9"] == before.scores["phq9"] + higher - current
        assert order.index(after.bands["phq9"]) >= order.index(before.bands["phq9"])
    assert before.positive_domains <= after.positive_domains
    assert before.flags <= after.flags


@settings(max_examples=200)
@given(screenings())
def test_answer_order_does_not_matter(case: Any) -> None:
    script, answers, declined = case
    backwards = dict(reversed(list(answers.items())))
    assert evaluate(script, answers, declined) == evaluate(script, backwards, declined)


@settings(max_examples=200)
@given(screenings("ahc-hrsn"))
def test_safety_score_present_exactly_when_all_four_answered(case: Any) -> None:
    script, answers, declined = case
    safety = ["safety_hurt", "safety_insult", "safety_threaten", "safety_scream"]
    result = evaluate(script, answers, declined)
    all_answered = all(i in answers and i not in declined for i in safety)
    assert ("safety" in result.scores) is all_answered
    if all_answered:
        total = sum(
            next(o.score for o in script.item(i).options if o.id == answers[i][0]) for i in safety
        )
        assert result.scores["safety"] == total
    hurt = answers.get("safety_hurt")
    if hurt and hurt != ["never"] and "safety_hurt" not in declined:
        assert "interpersonal_safety" in result.flags
