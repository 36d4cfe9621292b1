"""The script validator, `cm-tui scripts list|check`, custom scripts and skip logic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cm_tui.cli_scripts import scripts
from cm_tui.screening import (
    BUILTIN_IDS,
    Script,
    ScriptError,
    ScriptProblem,
    check_file,
    check_text,
    evaluate,
    list_scripts,
    load_any,
    load_builtin,
    load_script,
    next_item,
    parse_script,
    visible_items,
)

HEAD = """id = "custom"
version = "2"
title = "Custom check-in"
intro = "You don't have to answer any question you'd rather not."
"""


def item(
    item_id: str,
    *,
    kind: str = "single",
    show_if: str | None = None,
    options: str = '[{ id = "yes", label = "Yes", score = 1 }, '
    '{ id = "no", label = "No", score = 0 }]',
) -> str:
    lines = [
        "",
        "[[items]]",
        f'id = "{item_id}"',
        'domain = "food"',
        f'kind = "{kind}"',
        f'text = "Question {item_id}?"',
    ]
    if show_if is not None:
        lines.append(f"show_if = {show_if}  # HERE")
    if kind in ("single", "multi"):
        lines.append(f"options = {options}")
    return "\n".join(lines) + "\n"


def marked_line(text: str, marker: str = "# HERE") -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if marker in line:
            return number
    raise AssertionError(f"no {marker!r} in text")


def only_problem(text: str) -> ScriptProblem:
    problems = check_text(text)
    assert len(problems) == 1, problems
    return problems[0]


# --- skip logic with custom scripts -------------------------------------------------------

SKIP = (
    HEAD
    + item("q1")
    + item("q2", show_if='{ item = "q1", any_of = ["yes"] }')
    + item("q3", show_if='{ not = { item = "q1", any_of = ["yes"] } }')
    + item(
        "q4",
        show_if='{ all = [{ item = "q1", any_of = ["yes"] }, { item = "q2", any_of = ["yes"] }] }',
    )
    + item("q5", kind="number")
    + item(
        "q6", show_if='{ any = [{ item = "q5", at_least = 3 }, { item = "q3", any_of = ["no"] }] }'
    )
    + """
[[scores]]
id = "total"
items = ["q2", "q4"]

[[rules]]
domain = "food"
score = "total"
at_least = 1

[[rules]]
domain = "housing"
any_of = { q2 = ["yes"] }
"""
)


@pytest.fixture(scope="module")
def skip_script() -> Script:
    script, problems = parse_script(SKIP)
    assert problems == []
    assert script is not None
    return script


def ids(script: Script, answers: dict[str, list[str]]) -> list[str]:
    return [i.id for i in visible_items(script, answers)]


def test_show_if_any_of_not_all_any(skip_script: Script) -> None:
    assert ids(skip_script, {}) == ["q1", "q3", "q5"]  # q1 unanswered: "not yes" holds
    assert ids(skip_script, {"q1": ["yes"]}) == ["q1", "q2", "q5"]
    assert ids(skip_script, {"q1": ["yes"], "q2": ["yes"]}) == ["q1", "q2", "q4", "q5"]
    assert ids(skip_script, {"q1": ["no"], "q3": ["no"]}) == ["q1", "q3", "q5", "q6"]
    assert ids(skip_script, {"q1": ["no"], "q5": ["2"]}) == ["q1", "q3", "q5"]
    assert ids(skip_script, {"q1": ["no"], "q5": ["3"]}) == ["q1", "q3", "q5", "q6"]


def test_hidden_answers_are_ignored_in_order(skip_script: Script) -> None:
    # q2 was answered, then q1 changed to "no": q2 is hidden, so q4 (needs q2) is hidden too.
    answers = {"q1": ["no"], "q2": ["yes"], "q4": ["yes"]}
    assert ids(skip_script, answers) == ["q1", "q3", "q5"]
    result = evaluate(skip_script, answers)
    assert result.answered_items == {"q1"}
    assert result.positive_domains == set()  # q2's hidden "yes" does not count
    assert result.scores == {}
    assert result.unanswered_items == {"q3", "q5"}


def test_declined_question_never_matches_a_condition(skip_script: Script) -> None:
    assert next_item(skip_script, {}, declined={"q1"}).id == "q3"
    result = evaluate(skip_script, {}, declined={"q1"})
    assert result.declined_items == {"q1"}
    assert result.unanswered_items == {"q3", "q5"}


def test_score_over_visible_items_only(skip_script: Script) -> None:
    result = evaluate(skip_script, {"q1": ["yes"], "q2": ["no"]})
    assert result.scores == {"total": 0}  # q4 hidden: not needed
    result = evaluate(skip_script, {"q1": ["yes"], "q2": ["yes"], "q4": ["yes"]})
    assert result.scores == {"total": 2}
    assert result.positive_domains == {"food", "housing"}


def test_number_answers(skip_script: Script) -> None:
    assert evaluate(skip_script, {"q5": ["4.5"]}).answered_items == {"q5"}
    with pytest.raises(ValueError, match="number"):
        evaluate(skip_script, {"q5": ["lots"]})


# --- each broken case, with its line --------------------------------------------------------


def test_valid_custom_script_has_no_problems() -> None:
    assert check_text(SKIP) == []


def test_builtin_files_pass_the_checker() -> None:
    folder = Path(__file__).resolve().parents[1] / "cm_tui" / "screening" / "scripts"
    assert sorted(p.stem for p in folder.glob("*.toml")) == sorted(BUILTIN_IDS)
    for path in folder.glob("*.toml"):
        assert check_file(path) == [], path


def test_bad_toml_reports_its_line() -> None:
    text = HEAD + item("q1") + 'broken = = "x"  # HERE\n'
    problem = only_problem(text)
    assert problem.line == marked_line(text)
    assert problem.message.startswith("bad TOML")


@pytest.mark.parametrize("key", ["id", "version", "title", "intro"])
def test_missing_top_level_key(key: str) -> None:
    head = "\n".join(line for line in HEAD.splitlines() if not line.startswith(key))
    problem = only_problem(head + "\n" + item("q1"))
    assert f"'{key}'" in problem.message and "missing" in problem.message


def test_missing_items() -> None:
    assert "items" in only_problem(HEAD).message


def test_missing_item_text() -> None:
    text = HEAD + item("q1").replace('text = "Question q1?"', "")
    problem = only_problem(text)
    assert problem.item == "q1"
    assert "'text'" in problem.message
    assert problem.line == text.splitlines().index('id = "q1"') + 1


def test_unknown_kind() -> None:
    text = (
        HEAD
        + item("q1")
        + item("q2", kind="slider").replace('kind = "slider"', 'kind = "slider"  # HERE')
    )
    problem = only_problem(text)
    assert problem.item == "q2"
    assert "unknown kind 'slider'" in problem.message
    assert problem.line == marked_line(text)


def test_choice_item_without_options() -> None:
    text = HEAD + item("q1", kind="multi", options="[]")
    assert "options" in only_problem(text).message


def test_unknown_option_in_rule() -> None:
    text = (
        HEAD
        + item("q1")
        + """
[[rules]]
domain = "food"
any_of = { q1 = ["yes", "maybe"] }  # HERE
"""
    )
    problem = only_problem(text)
    assert problem.item == "q1"
    assert "unknown option 'maybe'" in problem.message
    assert problem.line == marked_line(text)


def test_rule_on_missing_item() -> None:
    text = (
        HEAD
        + item("q1")
        + """
[[rules]]
domain = "food"
when = { item = "q9", any_of = ["yes"] }  # HERE
"""
    )
    problem = only_problem(text)
    assert "missing item 'q9'" in problem.message
    assert problem.line == marked_line(text)


def test_show_if_points_at_missing_item() -> None:
    text = HEAD + item("q1") + item("q2", show_if='{ item = "q0", any_of = ["yes"] }')
    problem = only_problem(text)
    assert (problem.item, problem.line) == ("q2", marked_line(text))
    assert "missing item 'q0'" in problem.message


def test_show_if_unknown_option() -> None:
    text = HEAD + item("q1") + item("q2", show_if='{ item = "q1", any_of = ["perhaps"] }')
    problem = only_problem(text)
    assert (problem.item, problem.line) == ("q2", marked_line(text))
    assert "unknown option 'perhaps'" in problem.message


def test_show_if_points_at_later_item() -> None:
    text = HEAD + item("q1", show_if='{ item = "q2", any_of = ["yes"] }') + item("q2")
    problem = only_problem(text)
    assert (problem.item, problem.line) == ("q1", marked_line(text))
    assert "later item 'q2'" in problem.message


def test_show_if_cycle() -> None:
    text = (
        HEAD
        + item("q1", show_if='{ item = "q2", any_of = ["yes"] }')
        + item("q2", show_if='{ item = "q1", any_of = ["yes"] }')
    )
    problems = check_text(text)
    cycles = [p for p in problems if "cycle" in p.message]
    assert len(cycles) == 1
    assert "q1 -> q2 -> q1" in cycles[0].message or "q2 -> q1 -> q2" in cycles[0].message
    assert cycles[0].line == marked_line(text)  # the first show_if of the cycle


def test_show_if_on_itself_is_a_cycle() -> None:
    text = HEAD + item("q1", show_if='{ item = "q1", any_of = ["yes"] }')
    problem = only_problem(text)
    assert "cycle: q1 -> q1" in problem.message and problem.line == marked_line(text)


def test_show_if_cannot_use_scores() -> None:
    text = HEAD + item("q1") + item("q2", show_if='{ score = "x", at_least = 1 }')
    assert "scores" in only_problem(text).message


def test_duplicate_item_ids() -> None:
    text = HEAD + item("q1") + item("q2") + item("q1").replace('id = "q1"', 'id = "q1"  # HERE')
    problem = only_problem(text)
    assert (problem.item, problem.line) == ("q1", marked_line(text))
    assert "duplicate item id 'q1'" in problem.message


def test_duplicate_option_ids() -> None:
    text = HEAD + item(
        "q1",
        options="""[
  { id = "yes", label = "Yes" },
  { id = "yes", label = "Also yes" },  # HERE
]""",
    )
    problem = only_problem(text)
    assert (problem.item, problem.line) == ("q1", marked_line(text))
    assert "duplicate option id 'yes'" in problem.message


def test_unreachable_score_threshold() -> None:
    text = (
        HEAD
        + item("q1")
        + item("q2")
        + """
[[scores]]
id = "total"
items = ["q1", "q2"]

[[rules]]  # HERE
domain = "food"
score = "total"
at_least = 3
"""
    )
    problem = only_problem(text)
    assert "can never be reached" in problem.message and "highest possible total is 2" in (
        problem.message
    )
    assert problem.line == marked_line(text)


def test_reachable_threshold_is_fine() -> None:
    text = (
        HEAD
        + item("q1")
        + item("q2")
        + """
[[scores]]
id = "total"
items = ["q1", "q2"]

[[rules]]
domain = "food"
score = "total"
at_least = 2
"""
    )
    assert check_text(text) == []


def test_unreachable_item_threshold() -> None:
    text = HEAD + item("q1") + item("q2", show_if='{ item = "q1", at_least = 5 }')
    problem = only_problem(text)
    assert "can never be reached" in problem.message and problem.item == "q2"


def test_bands_overlap_gap_and_unreachable() -> None:
    text = (
        HEAD
        + item("q1")
        + item("q2")
        + """
[[scores]]
id = "total"
items = ["q1", "q2"]
bands = [
  { id = "low", min = 0, max = 1 },
  { id = "mid", min = 1, max = 1 },
  { id = "high", min = 5, max = 9 },
]
"""
    )
    messages = " | ".join(p.message for p in check_text(text))
    assert "overlap" in messages
    assert "'high' (5-9) can never be reached" in messages
    assert "no band covers 2" in messages


def test_unscored_option_in_a_score() -> None:
    text = (
        HEAD
        + item("q1", options='[{ id = "yes", label = "Yes" }]')
        + """
[[scores]]
id = "total"
items = ["q1"]
"""
    )
    problem = only_problem(text)
    assert problem.item == "q1" and "needs a 'score'" in problem.message


def test_unknown_score_and_domain_references() -> None:
    text = (
        HEAD
        + item("q1")
        + """
[[rules]]
domain = "food"
score = "nope"
at_least = 1

[[flags]]
id = "self_harm_risk"
positive = "housing"

[[proposals]]
domain = "transportation"
title = "Ride"
"""
    )
    messages = " | ".join(p.message for p in check_text(text))
    assert "unknown score 'nope'" in messages
    assert "domain 'housing', which no rule makes positive" in messages
    assert "domain 'transportation', which no rule makes positive" in messages


def test_flag_followup_must_be_urgent() -> None:
    text = (
        HEAD
        + item("q1")
        + """
[[flags]]
id = "interpersonal_safety"
any_of = { q1 = ["yes"] }

[[proposals]]
flag = "interpersonal_safety"
title = "Call"
priority = "low"
"""
    )
    assert "always 'urgent'" in only_problem(text).message


def test_unknown_keys_are_reported() -> None:
    text = HEAD + "rule = 1  # HERE\n" + item("q1")
    problem = only_problem(text)
    assert "unknown key 'rule'" in problem.message and problem.line == marked_line(text)


def test_load_script_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + item("q1") + item("q1"))
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert [p.message for p in caught.value.problems] == ["duplicate item id 'q1'"]
    assert "bad.toml" in str(caught.value)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text(SKIP)
    result = CliRunner().invoke(scripts, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: Custom check-in v2, 6 items"


def test_cli_check_problems(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    text = HEAD + item("q1") + item("q2", show_if='{ item = "q0", any_of = ["yes"] }')
    path.write_text(text)
    result = CliRunner().invoke(scripts, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{marked_line(text)}: item q2: refers to missing item 'q0'" in result.output


def test_cli_check_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\ntitle = \n')
    result = CliRunner().invoke(scripts, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: bad TOML" in result.output


def test_cli_check_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(scripts, ["check", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_cli_list_builtins_and_custom(tmp_path: Path) -> None:
    (tmp_path / "custom.toml").write_text(SKIP)
    (tmp_path / "broken.toml").write_text("id = ")
    result = CliRunner().invoke(scripts, ["list", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for script_id in BUILTIN_IDS:
        assert script_id in result.output
    assert "Custom check-in" in result.output
    assert "broken" in result.output and "BROKEN" in result.output


def test_cli_list_uses_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "custom.toml").write_text(SKIP)
    Path(os.environ["CM_TUI_CONFIG"]).write_text(f'scripts_dir = "{folder.as_posix()}"\n')
    result = CliRunner().invoke(scripts, ["list"])
    assert result.exit_code == 0, result.output
    assert "Custom check-in" in result.output


# --- finding scripts -----------------------------------------------------------------------------


def test_list_scripts_and_load_any(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(SKIP)  # file name differs from the id "custom"
    (tmp_path / "shadow.toml").write_text(SKIP.replace('id = "custom"', 'id = "phq-9"', 1))
    infos = {(i.id, i.builtin): i for i in list_scripts(tmp_path)}
    assert infos[("custom", False)].ok and infos[("custom", False)].items == 6
    assert not infos[("phq-9", False)].ok  # a custom file cannot take a built-in's id
    assert infos[("phq-9", True)].ok
    assert load_any("custom", tmp_path).title == "Custom check-in"
    assert load_any("phq-9", tmp_path) is load_builtin("phq-9")
    with pytest.raises(KeyError):
        load_any("nothing", tmp_path)
    assert [i.id for i in list_scripts(None)] == list(BUILTIN_IDS)
