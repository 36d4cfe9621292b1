"""Finding and loading scripts: built-ins shipped in the package, custom ones from a folder."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from cm_tui.screening.model import Script, ScriptInfo, ScriptProblem
from cm_tui.screening.parser import ScriptError, parse_script

BUILTIN_IDS = ("ahc-hrsn", "hunger-vital-sign", "phq-2", "phq-9")


def _builtin_text(script_id: str) -> str:
    return (
        resources.files("cm_tui.screening")
        .joinpath("scripts", f"{script_id}.toml")
        .read_text(encoding="utf-8")
    )


@cache
def load_builtin(script_id: str) -> Script:
    """A built-in script by id ("ahc-hrsn", "hunger-vital-sign", "phq-2", "phq-9")."""
    if script_id not in BUILTIN_IDS:
        raise KeyError(
            f"no built-in screening script {script_id!r} (have {', '.join(BUILTIN_IDS)})"
        )
    script, problems = parse_script(_builtin_text(script_id))
    if script is None:
        raise ScriptError(f"built-in {script_id}", problems)
    return script


def load_script(path: Path) -> Script:
    """A script file; raises ScriptError listing every problem when it is not valid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(str(path), [ScriptProblem(f"cannot read file: {exc}")]) from exc
    script, problems = parse_script(text, path)
    if script is None:
        raise ScriptError(str(path), problems)
    return script


def check_file(path: Path) -> list[ScriptProblem]:
    """Every problem in a script file (empty list: the script is valid)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [ScriptProblem(f"cannot read file: {exc}")]
    return parse_script(text, path)[1]


def _custom_files(custom_dir: Path | None) -> list[Path]:
    if custom_dir is None or not Path(custom_dir).is_dir():
        return []
    return sorted(Path(custom_dir).glob("*.toml"))


def list_scripts(custom_dir: Path | None = None) -> list[ScriptInfo]:
    """Built-in scripts, then every *.toml in `custom_dir` (broken ones with their problems)."""
    infos: list[ScriptInfo] = []
    for script_id in BUILTIN_IDS:
        s = load_builtin(script_id)
        infos.append(ScriptInfo(s.id, s.version, s.title, s.language, len(s.items), True))
    for path in _custom_files(custom_dir):
        try:
            s = load_script(path)
        except ScriptError as exc:
            infos.append(ScriptInfo(path.stem, "", "", "", 0, False, path, tuple(exc.problems)))
            continue
        problems: tuple[ScriptProblem, ...] = ()
        if s.id in BUILTIN_IDS:
            problems = (ScriptProblem(f"id {s.id!r} is a built-in script's; choose another id"),)
        infos.append(
            ScriptInfo(s.id, s.version, s.title, s.language, len(s.items), False, path, problems)
        )
    return infos


def load_any(script_id: str, custom_dir: Path | None = None) -> Script:
    """A built-in script, else the custom script with that id; KeyError when there is none.

    Built-ins win: a custom file cannot replace an official instrument.
    """
    if script_id in BUILTIN_IDS:
        return load_builtin(script_id)
    files = _custom_files(custom_dir)
    preferred = [p for p in files if p.stem == script_id]
    for path in preferred + [p for p in files if p not in preferred]:
        try:
            script = load_script(path)
        except ScriptError:
            if path in preferred:
                raise
            continue
        if script.id == script_id:
            return script
    raise KeyError(f"no screening script {script_id!r}")
