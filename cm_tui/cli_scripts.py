"""`cm-tui scripts list|check FILE`: the screening scripts (DESIGN §6).

Registered by the main CLI with `main.add_command(scripts)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _custom_dir(option: str | None) -> Path | None:
    """`--dir`, else `scripts_dir` from the config file, else no custom folder."""
    if option:
        return Path(option).expanduser()
    from cm_tui.config import load_settings

    try:
        settings = load_settings()
    except ValueError as exc:
        click.echo(f"cm-tui: {exc}", err=True)
        sys.exit(2)
    return Path(settings.scripts_dir).expanduser() if settings.scripts_dir else None


@click.group("scripts")
def scripts() -> None:
    """Screening scripts: list the built-in and custom ones, check a script file."""


@scripts.command("list")
@click.option(
    "--dir",
    "directory",
    metavar="PATH",
    help="Folder of custom scripts (default: scripts_dir in the config file).",
)
def list_command(directory: str | None) -> None:
    """List built-in scripts and the custom scripts in the scripts folder."""
    from cm_tui.screening import list_scripts

    folder = _custom_dir(directory)
    infos = list_scripts(folder)
    width = max(len(i.id) for i in infos)
    for info in infos:
        where = "built-in" if info.builtin else str(info.path)
        if info.ok:
            click.echo(
                f"{info.id:<{width}}  v{info.version:<6} {info.language:<3} "
                f"{info.items:>3} items  {info.title}  ({where})"
            )
        else:
            click.echo(
                f"{info.id:<{width}}  BROKEN: {len(info.problems)} problem(s); "
                f"run `cm-tui scripts check {where}`"
            )
    if folder is not None and not folder.is_dir():
        click.echo(f"(custom scripts folder {folder} does not exist)", err=True)


@scripts.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check_command(file: Path) -> None:
    """Validate a script file; print each problem as FILE:LINE: item X: message."""
    from cm_tui.screening import check_file, load_script

    problems = check_file(file)
    if problems:
        for problem in problems:
            where = f"{file}:{problem.line}" if problem.line is not None else str(file)
            item = f" item {problem.item}:" if problem.item else ""
            click.echo(f"{where}:{item} {problem.message}")
        click.echo(f"{len(problems)} problem(s) in {file}", err=True)
        sys.exit(1)
    script = load_script(file)
    click.echo(f"OK: {script.title} v{script.version}, {len(script.items)} items")
