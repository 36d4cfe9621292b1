"""The ``cm-tui`` command: pyproject's entry point, and ``python -m cm_tui``.

It sets the interpreter up for an interactive run (cm_tui.runtime) before the
CLI, and with it SQLAlchemy, SQLModel and the app, is imported.
"""

from __future__ import annotations


def main() -> None:
    from cm_tui import runtime

    runtime.start_interactive()
    from cm_tui.cli import main as cli

    cli(prog_name="cm-tui")
