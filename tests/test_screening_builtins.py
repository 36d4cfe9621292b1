"""Every rule, score, band and flag of the built-in scripts (DESIGN §6)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from typing import Any

import pytest

from cm_tui.screening import (
    BUILTIN_IDS,
    AnswerError,
    ScreeningResult,
    evaluate,
    load_builtin,
    next_item,
    previous_item,
    progress,
    visible_items,
)
from cm_tui.screening.model import FOLLOWUP_KINDS, PRIORITIES, Script

SAFETY = ["safety_hurt", "safety_insult", "safety_threaten", "safety_scream"]
FREQ = {"never": 1, "rarely": 2, "sometimes": 3, "fairly_often": 4, "frequently": 5}
FOOD = ["often_true", "sometimes_true", "never_true"]
PHQ9 = [f"phq_{n}" for n in range(1, 10)]


@pytest.fixture(scope="module")
def ahc() -> Script:
    return load_builtin("ahc-hrsn")


@pytest.fixture(scope="module")
def phq9() -> Script:
    return load_builtin("phq-9")


def phq_answers(total: int, items: list[str]) -> dict[str, list[str]]:
    """Spread `total` over the items, filling the first ones up to 3 each (item 9 last)."""
    answers: dict[str, list[str]] = {}
    remaining = total
    for item in items:
        value = min(3, remaining)
        answers[item] = [str(value)]
        remaining -= value
    assert remaining == 0
    return answers


# --- the scripts themselves ----------------------------------------------------------


def test_builtin_ids_and_shape() -> None:
    assert set(BUILTIN_IDS) == {"ahc-hrsn", "hunger-vital-sign", "phq-2", "phq-9"}
    for script_id in BUILTIN_IDS:
        script = load_builtin(script_id)
        assert script.id == script_id
        assert script.version and script.title and script.language == "en"
        assert "don't have to answer" in script.intro
        assert "won't change your care" in script.intro


def test_ahc_items_codes_and_options(ahc: Script) -> None:
    expected = {
        "living_situation": ("71802-3", ["steady", "worried_about_losing", "not_steady"]),
        "housing_problems": (
            "96778-6",
            ["pests", "mold", "lead", "heat", "oven", "smoke_detectors", "water_leaks", "none"],
        ),
        "food_worry": ("88122-7", FOOD),
        "food_ran_out": ("88123-5", FOOD),
        "transportation": ("93030-5", ["yes", "no"]),
        "utilities": ("96779-4", ["yes", "no", "already_shut_off"]),
        "safety_hurt": ("95618-5", list(FREQ)),
        "safety_insult": ("95617-7", list(FREQ)),
        "safety_threaten": ("95616-9", list(FREQ)),
        "safety_scream": ("95615-1", list(FREQ)),
    }
    assert list(ahc.item_ids) == list(expected)
    assert ahc.loinc == "96777-8"
    for item in ahc.items:
        loinc, options = expected[item.id]
        assert item.loinc == loinc
        assert list(item.option_ids) == options
        assert item.show_if is None
    assert ahc.item("housing_problems").kind == "multi"
    for item_id in SAFETY:
        assert {o.id: o.score for o in ahc.item(item_id).options} == FREQ
    assert ahc.item("living_situation").text == "What is your living situation today?"
    assert ahc.item("food_worry").text == (
        "Within the past 12 months, you worried that your food would run out before you got "
        "money to buy more."
    )
    assert ahc.item("safety_hurt").text == (
        "How often does anyone, including family and friends, physically hurt you?"
    )
    assert ahc.score_def("safety").loinc == "95614-4"


def test_phq_items_and_wording() -> None:
    phq9 = load_builtin("phq-9")
    phq2 = load_builtin("phq-2")
    assert phq9.loinc == "44249-1"
    assert [i.id for i in phq9.items][:9] == PHQ9
    assert [i.id for i in phq2.items] == ["phq_1", "phq_2"]
    labels = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
    for item in (*phq9.items[:9], *phq2.items):
        assert item.text.startswith(
            "Over the last 2 weeks, how often have you been bothered by any of the following "
            "problems?"
        )
        assert [(o.id, o.label, o.score) for o in item.options] == [
            (str(n), label, n) for n, label in enumerate(labels)
        ]
    assert "Little interest or pleasure in doing things" in phq9.item("phq_1").text
    assert "better off dead" in phq9.item("phq_9").text
    assert phq9.score_def("phq9").loinc == "44261-6"
    assert load_builtin("hunger-vital-sign").loinc == "88121-9"


def test_unknown_builtin() -> None:
    with pytest.raises(KeyError):
        load_builtin("prapare")


def test_engine_imports_no_ui_or_database() -> None:
    code = (
        "import sys, cm_tui.screening as s; s.evaluate(s.load_builtin('ahc-hrsn'), {}); "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'sqlalchemy', 'sqlmodel', 'click')]; "
        "bad += [m for m in sys.modules if m.startswith('cm_tui.store')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_vocabularies_match_the_store() -> None:
    from cm_tui.store import vocab

    assert FOLLOWUP_KINDS == vocab.FOLLOWUP_KINDS
    assert PRIORITIES == vocab.PRIORITIES
    for script_id in BUILTIN_IDS:
        script = load_builtin(script_id)
        for t in script.proposals:
            assert t.need is None or t.need in vocab.NEED_DOMAINS
        for rule in script.rules:
            assert rule.domain in vocab.NEED_DOMAINS


# --- AHC HRSN: housing, food, transportation, utilities --------------------------------


@pytest.mark.parametrize(
    ("answer", "positive"),
    [("steady", False), ("worried_about_losing", True), ("not_steady", True)],
)
def test_living_situation(ahc: Script, answer: str, positive: bool) -> None:
    result = evaluate(ahc, {"living_situation": [answer]})
    assert ("housing" in result.positive_domains) is positive


@pytest.mark.parametrize(
    "problems",
    [
        ["pests"],
        ["mold"],
        ["lead"],
        ["heat"],
        ["oven"],
        ["smoke_detectors"],
        ["water_leaks"],
        ["pests", "mold", "water_leaks"],
    ],
)
def test_housing_problems_positive(ahc: Script, problems: list[str]) -> None:
    result = evaluate(ahc, {"living_situation": ["steady"], "housing_problems": problems})
    assert result.positive_domains == {"housing"}


def test_housing_problems_none_is_negative(ahc: Script) -> None:
    result = evaluate(ahc, {"living_situation": ["steady"], "housing_problems": ["none"]})
    assert result.positive_domains == set()


def test_none_of_the_above_cannot_be_combined(ahc: Script) -> None:
    with pytest.raises(AnswerError):
        evaluate(ahc, {"housing_problems": ["none", "mold"]})


@pytest.mark.parametrize(("worry", "ran_out"), list(itertools.product([*FOOD, None], repeat=2)))
@pytest.mark.parametrize("script_id", ["ahc-hrsn", "hunger-vital-sign"])
def test_food(script_id: str, worry: str | None, ran_out: str | None) -> None:
    answers = {k: [v] for k, v in {"food_worry": worry, "food_ran_out": ran_out}.items() if v}
    result = evaluate(load_builtin(script_id), answers)
    expected = worry in ("often_true", "sometimes_true") or ran_out in (
        "often_true",
        "sometimes_true",
    )
    assert ("food" in result.positive_domains) is expected
    assert result.positive_domains <= {"food"}


def test_food_declined_is_not_never_true() -> None:
    hvs = load_builtin("hunger-vital-sign")
    result = evaluate(hvs, {"food_ran_out": ["never_true"]}, declined={"food_worry"})
    assert result.positive_domains == set()
    assert result.declined_items == {"food_worry"}
    assert result.answered_items == {"food_ran_out"}
    assert result.unanswered_items == set()
    assert result.complete


@pytest.mark.parametrize(("answer", "positive"), [("yes", True), ("no", False)])
def test_transportation(ahc: Script, answer: str, positive: bool) -> None:
    result = evaluate(ahc, {"transportation": [answer]})
    assert result.positive_domains == ({"transportation"} if positive else set())


@pytest.mark.parametrize(
    ("answer", "positive"), [("yes", True), ("no", False), ("already_shut_off", True)]
)
def test_utilities(ahc: Script, answer: str, positive: bool) -> None:
    result = evaluate(ahc, {"utilities": [answer]})
    assert result.positive_domains == ({"utilities"} if positive else set())


def test_declined_transportation_differs_from_no(ahc: Script) -> None:
    declined = evaluate(ahc, {}, declined={"transportation"})
    said_no = evaluate(ahc, {"transportation": ["no"]})
    assert declined.declined_items == {"transportation"}
    assert "transportation" not in declined.answered_items
    assert said_no.answered_items == {"transportation"}
    assert said_no.declined_items == set()


# --- AHC HRSN: safety ---------------------------------------------------------------------


@pytest.mark.parametrize("combo", list(itertools.product(FREQ, repeat=4)))
def test_safety_every_combination(ahc: Script, combo: tuple[str, ...]) -> None:
    answers = {item: [value] for item, value in zip(SAFETY, combo, strict=True)}
    result = evaluate(ahc, answers)
    total = sum(FREQ[v] for v in combo)
    assert result.scores == {"safety": total}
    assert ("safety" in result.positive_domains) is (total >= 11)
    expected_flag = combo[0] != "never" or total >= 11
    assert ("interpersonal_safety" in result.flags) is expected_flag
    assert result.bands == {}


def test_safety_threshold_boundary(ahc: Script) -> None:
    ten = {
        "safety_hurt": ["never"],
        "safety_insult": ["frequently"],
        "safety_threaten": ["sometimes"],
        "safety_scream": ["never"],
    }
    eleven = {**ten, "safety_scream": ["rarely"]}
    r10, r11 = evaluate(ahc, ten), evaluate(ahc, eleven)
    assert r10.scores["safety"] == 10 and r11.scores["safety"] == 11
    assert "safety" not in r10.positive_domains and not r10.flags
    assert "safety" in r11.positive_domains
    assert r11.flags == {"interpersonal_safety"}


def test_physical_hurt_alone_raises_the_flag(ahc: Script) -> None:
    result = evaluate(ahc, {"safety_hurt": ["rarely"]})
    assert result.flags == {"interpersonal_safety"}
    assert "safety" not in result.scores  # three safety items unanswered
    assert "safety" not in result.positive_domains
    urgent = [p for p in result.proposals if p.urgent]
    assert len(urgent) == 1 and urgent[0].trigger == "interpersonal_safety"
    assert urgent[0].source == "flag" and urgent[0].due_days == 0


def test_safety_never_is_no_flag(ahc: Script) -> None:
    result = evaluate(ahc, {item: ["never"] for item in SAFETY})
    assert result.scores == {"safety": 4}
    assert result.flags == set()
    assert result.proposals == []


@pytest.mark.parametrize("declined_item", SAFETY)
def test_safety_score_absent_when_an_item_is_declined(ahc: Script, declined_item: str) -> None:
    answers = {item: ["never"] for item in SAFETY if item != declined_item}
    result = evaluate(ahc, answers, declined={declined_item})
    assert "safety" not in result.scores  # absent, not 3 and not 4
    assert result.incomplete_scores == {"safety"}
    assert result.partial_scores == {"safety": 3}
    assert declined_item in result.declined_items
    assert "safety" not in result.positive_domains
    assert json.loads(json.dumps(result.to_json()))["incomplete_scores"] == ["safety"]


def test_declined_item_is_not_scored_as_never(ahc: Script) -> None:
    # Scoring the declined item as "never" (1) would give 10: below the threshold and "negative".
    answers = {"safety_insult": ["frequently"], "safety_threaten": ["fairly_often"]}
    result = evaluate(ahc, answers, declined={"safety_hurt", "safety_scream"})
    assert "safety" not in result.scores
    assert result.incomplete_scores == {"safety"}
    assert result.partial_scores["safety"] == 9


def test_safety_unanswered_is_absent_but_not_incomplete(ahc: Script) -> None:
    result = evaluate(ahc, {item: ["never"] for item in SAFETY[:3]})
    assert "safety" not in result.scores
    assert result.incomplete_scores == set()
    assert result.unanswered_items >= {"safety_scream"}


def test_safety_positive_whatever_the_declined_answer(ahc: Script) -> None:
    # Three answers already total 15: every possible answer to the declined item gives >= 16.
    answers = {item: ["frequently"] for item in SAFETY[1:]}
    result = evaluate(ahc, answers, declined={"safety_hurt"})
    assert "safety" not in result.scores
    assert "safety" in result.positive_domains
    assert result.flags == {"interpersonal_safety"}
    for value in FREQ:
        full = evaluate(ahc, {**answers, "safety_hurt": [value]})
        assert "safety" in full.positive_domains


def test_safety_declined_with_low_partial_is_not_positive(ahc: Script) -> None:
    # 1 + 2 + 5 = 8 answered; the declined item could be "never": the total could be 9.
    answers = {
        "safety_hurt": ["never"],
        "safety_insult": ["rarely"],
        "safety_threaten": ["frequently"],
    }
    result = evaluate(ahc, answers, declined={"safety_scream"})
    assert "safety" not in result.positive_domains
    assert result.flags == set()


# --- AHC: whole screening ----------------------------------------------------------------


def test_ahc_empty_screening(ahc: Script) -> None:
    result = evaluate(ahc, {})
    assert result.unanswered_items == set(ahc.item_ids)
    assert result.positive_domains == set() and result.scores == {} and result.flags == set()
    assert not result.complete


def test_ahc_design_example(ahc: Script) -> None:
    result = evaluate(
        ahc,
        {"food_worry": ["sometimes_true"], "safety_hurt": ["never"]},
        declined={"transportation"},
    )
    assert result.positive_domains == {"food"}
    assert result.declined_items == {"transportation"}
    assert result.unanswered_items == set(ahc.item_ids) - {
        "food_worry",
        "safety_hurt",
        "transportation",
    }
    assert result.flags == set()


def test_ahc_everything_positive(ahc: Script) -> None:
    answers = {
        "living_situation": ["not_steady"],
        "housing_problems": ["mold", "heat"],
        "food_worry": ["often_true"],
        "food_ran_out": ["often_true"],
        "transportation": ["yes"],
        "utilities": ["already_shut_off"],
        **{item: ["fairly_often"] for item in SAFETY},
    }
    result = evaluate(ahc, answers)
    assert result.positive_domains == {"housing", "food", "transportation", "utilities", "safety"}
    assert result.scores == {"safety": 16}
    assert result.flags == {"interpersonal_safety"}
    assert result.complete and result.unanswered_items == set()
    # flag first (urgent), then one proposal per positive domain, in instrument order
    assert [p.trigger for p in result.proposals] == [
        "interpersonal_safety",
        "housing",
        "food",
        "transportation",
        "utilities",
        "safety",
    ]
    assert result.proposals[0].priority == "urgent"
    assert result.proposed_needs == ["safety", "housing", "food", "transportation", "utilities"]
    for proposal in result.proposals:
        assert proposal.kind in FOLLOWUP_KINDS and proposal.priority in PRIORITIES
        assert proposal.due_days >= 0 and proposal.title


# --- PHQ-9 --------------------------------------------------------------------------------

BANDS = [
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 19, "moderately_severe"),
    (20, 27, "severe"),
]


@pytest.mark.parametrize("total", range(28))
def test_phq9_band_at_every_total(phq9: Script, total: int) -> None:
    answers = phq_answers(total, PHQ9)
    result = evaluate(phq9, answers)
    assert result.scores == {"phq9": total}
    expected = next(band for low, high, band in BANDS if low <= total <= high)
    assert result.bands == {"phq9": expected}
    assert ("depression" in result.positive_domains) is (total >= 10)
    assert ("self_harm_risk" in result.flags) is (answers["phq_9"] != ["0"])


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_boundaries(phq9: Script, total: int, band: str) -> None:
    assert evaluate(phq9, phq_answers(total, PHQ9)).bands["phq9"] == band


@pytest.mark.parametrize("item9", ["1", "2", "3"])
def test_self_harm_flag_at_a_low_total(phq9: Script, item9: str) -> None:
    answers = {item: ["0"] for item in PHQ9}
    answers["phq_9"] = [item9]
    result = evaluate(phq9, answers)
    assert result.scores["phq9"] == int(item9)
    assert result.bands["phq9"] == "minimal"
    assert result.flags == {"self_harm_risk"}
    assert "depression" not in result.positive_domains
    assert [(p.trigger, p.priority, p.need_domain) for p in result.proposals] == [
        ("self_harm_risk", "urgent", "mental_health")
    ]


def test_self_harm_flag_with_other_items_declined(phq9: Script) -> None:
    result = evaluate(phq9, {"phq_9": ["2"]}, declined=set(PHQ9[:8]))
    assert result.flags == {"self_harm_risk"}
    assert "phq9" not in result.scores and result.incomplete_scores == {"phq9"}


def test_phq9_item9_declined(phq9: Script) -> None:
    answers = {item: ["1"] for item in PHQ9[:8]}
    result = evaluate(phq9, answers, declined={"phq_9"})
    assert result.flags == set()
    assert "phq9" not in result.scores and "phq9" not in result.bands
    assert result.incomplete_scores == {"phq9"}
    assert result.partial_scores == {"phq9": 8}
    assert "depression" not in result.positive_domains  # 8 + (0..3) may be below 10


def test_phq9_positive_when_certain_despite_decline(phq9: Script) -> None:
    answers = {item: ["2"] for item in PHQ9[:5]}  # 10 already
    result = evaluate(phq9, answers, declined=set(PHQ9[5:]))
    assert "phq9" not in result.scores
    assert "depression" in result.positive_domains


def test_phq9_difficulty_question_follows_the_form(phq9: Script) -> None:
    zeros = {item: ["0"] for item in PHQ9}
    assert [i.id for i in visible_items(phq9, zeros)] == PHQ9
    assert evaluate(phq9, zeros).complete
    some = {**zeros, "phq_4": ["1"]}
    assert [i.id for i in visible_items(phq9, some)] == [*PHQ9, "phq_difficulty"]
    result = evaluate(phq9, some)
    assert result.unanswered_items == {"phq_difficulty"}
    done = evaluate(phq9, {**some, "phq_difficulty": ["somewhat_difficult"]})
    assert done.complete and done.scores == {"phq9": 1}


def test_phq9_positive_proposes_pcp_coordination(phq9: Script) -> None:
    result = evaluate(phq9, phq_answers(12, PHQ9))
    assert result.positive_domains == {"depression"}
    assert [(p.need_domain, p.kind) for p in result.proposals] == [
        ("depression", "pcp_coordination")
    ]


# --- PHQ-2 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), list(itertools.product(range(4), repeat=2)))
def test_phq2(a: int, b: int) -> None:
    result = evaluate(load_builtin("phq-2"), {"phq_1": [str(a)], "phq_2": [str(b)]})
    assert result.scores == {"phq2": a + b}
    assert ("depression" in result.positive_domains) is (a + b >= 3)
    assert result.flags == set() and result.bands == {}
    if a + b >= 3:
        assert [(p.kind, p.script_id) for p in result.proposals] == [("screening", "phq-9")]
    else:
        assert result.proposals == []


def test_phq2_declined_item() -> None:
    result = evaluate(load_builtin("phq-2"), {"phq_1": ["1"]}, declined=["phq_2"])
    assert result.scores == {} and result.incomplete_scores == {"phq2"}
    assert result.positive_domains == set()
    result = evaluate(load_builtin("phq-2"), {"phq_1": ["3"]}, declined=["phq_2"])
    assert result.positive_domains == {"depression"}  # 3 + anything >= 3


# --- answers that do not fit -------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        {"nope": ["yes"]},
        {"transportation": ["maybe"]},
        {"transportation": ["yes", "no"]},
        {"transportation": "yes"},
    ],
)
def test_bad_answers_raise_or_are_reported(ahc: Script, answers: Any) -> None:
    with pytest.raises(AnswerError):
        evaluate(ahc, answers)
    lenient = evaluate(ahc, answers, strict=False)
    assert lenient.problems


def test_unknown_declined_item_raises(ahc: Script) -> None:
    with pytest.raises(AnswerError):
        evaluate(ahc, {}, declined={"nope"})


def test_declined_wins_over_an_answer(ahc: Script) -> None:
    result = evaluate(ahc, {"transportation": ["yes"]}, declined={"transportation"})
    assert result.positive_domains == set()
    assert result.declined_items == {"transportation"}


def test_empty_answer_list_is_unanswered(ahc: Script) -> None:
    result = evaluate(ahc, {"transportation": []})
    assert "transportation" in result.unanswered_items


# --- navigation and storage ----------------------------------------------------------------


def test_next_previous_and_progress(ahc: Script) -> None:
    assert next_item(ahc, {}).id == "living_situation"
    answers = {"living_situation": ["steady"], "housing_problems": ["none"]}
    assert next_item(ahc, answers, {"food_worry"}).id == "food_ran_out"
    assert progress(ahc, answers, {"food_worry"}, "food_ran_out") == (4, 10)
    assert previous_item(ahc, answers, {"food_worry"}, "food_ran_out").id == "food_worry"
    assert previous_item(ahc, answers, (), "living_situation") is None
    everything = {item.id: [item.options[0].id] for item in ahc.items}
    assert next_item(ahc, everything) is None
    assert next_item(ahc, {}, declined=set(ahc.item_ids)) is None


def test_result_json_round_trip(ahc: Script) -> None:
    result = evaluate(
        ahc,
        {"safety_hurt": ["sometimes"], "food_worry": ["often_true"]},
        declined={"safety_scream"},
    )
    data = json.loads(json.dumps(result.to_json()))
    assert data["positive_domains"] == ["food"]
    assert data["flags"] == ["interpersonal_safety"]
    assert data["declined_items"] == ["safety_scream"]
    again = ScreeningResult.from_json(data)
    assert again == result
