"""Properties of the screening-script loader: any text - random, or a built-in script
broken by an edit (a line removed, duplicated or cut, a value changed) - gives either a
script or a list of located one-line problems; nothing else escapes (no KeyError,
TypeError, ... from a malformed table), and ``scripts check`` says the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cm_tui.cli import main
from cm_tui.screening.loader import BUILTIN_IDS, _builtin_text, check_file
from cm_tui.screening.parser import parse_script

SOURCES = {sid: _builtin_text(sid) for sid in BUILTIN_IDS}


def outcome_is_sound(text: str) -> None:
    script, problems = parse_script(text)
    assert (script is None) == bool(problems)  # a script, or problems: never both, never none
    lines = text.count("\n") + 1
    for problem in problems:
        assert problem.message and "\n" not in str(problem), problem
        assert problem.line is None or 1 <= problem.line <= lines + 1, (problem, lines)


@st.composite
def broken_builtin(draw: st.DrawFn) -> str:
    lines = SOURCES[draw(st.sampled_from(BUILTIN_IDS))].splitlines()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["drop", "dup", "cut", "value", "key", "junk"]))
        line = lines[at]
        if how == "drop":
            del lines[at]
        elif how == "dup":
            lines.insert(at, line)
        elif how == "cut":
            lines[at] = line[: draw(st.integers(0, max(len(line) - 1, 0)))]
        elif how == "value" and "=" in line:
            key = line.split("=", 1)[0]
            value = draw(
                st.sampled_from(
                    ['""', "0", "-1", "99999", "true", "[]", "{}", '["x"]', "1.5", '"none"']
                )
            )
            lines[at] = f"{key}= {value}"
        elif how == "key" and "=" in line:
            lines[at] = "zz_" + line.lstrip()
        elif how == "junk":
            lines.insert(at, draw(st.sampled_from(["[[items]]", "[scores]", "[[", "x =", "]"])))
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(broken_builtin())
def test_a_broken_builtin_gives_a_script_or_located_problems(text: str) -> None:
    outcome_is_sound(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_script_or_problems(text: str) -> None:
    outcome_is_sound(text)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["id", "items", "options", "text", "kind"]), inner)
        ),
        max_leaves=12,
    ).filter(lambda v: isinstance(v, dict))
)
def test_well_formed_toml_of_the_wrong_shape_gives_problems(doc: dict[str, object]) -> None:
    """Valid TOML whose tables hold the wrong types (a list where a table belongs...)."""
    import json

    lines = []
    for key, value in doc.items():
        if value is None:
            continue
        lines.append(f"{key} = {json.dumps(_tomlable(value))}")
    outcome_is_sound("\n".join(lines) + "\n")


def _tomlable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _tomlable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_tomlable(v) for v in value if v is not None]
    return value


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=broken_builtin())
def test_scripts_check_agrees_and_says_one_line_per_problem(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("scripts") / "broken.toml"
    path.write_text(text, encoding="utf-8")
    problems = check_file(path)
    result = CliRunner().invoke(main, ["scripts", "check", str(path)])
    if problems:
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) >= len(problems)
        assert "Traceback" not in result.output
    else:
        assert result.exit_code == 0 and result.output.startswith("OK: "), result.output


def test_unreadable_script_files_are_problems_not_crashes(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('title = "Évaluation"\n'.encode("latin-1"))
    [problem] = check_file(latin1)
    assert problem.message.startswith("cannot read file:")
    [problem] = check_file(tmp_path)  # a folder
    assert problem.message.startswith("cannot read file:")


@pytest.mark.parametrize("line", ["domain = []", 'flag = ["x"]', "domain = {}"])
def test_a_proposal_domain_or_flag_of_another_type_is_a_problem(line: str) -> None:
    text = SOURCES["hunger-vital-sign"].replace('domain = "food"\ntitle', f"{line}\ntitle")
    assert line in text
    script, problems = parse_script(text)
    assert script is None and problems
