"""Runs a program and reports the moment its `#caseload` DataTable is first painted with rows.

    python benchmarks/probe.py FD cm-tui [ARGS...]     the real `cm-tui` entry point
    python benchmarks/probe.py FD floor                the floor program

The probe runs as a script (not `-m`), so nothing of the benchmarks package is
imported. It patches one method, `App._display` (where a finished frame goes to
the terminal), imports nothing the program would not import itself, and then
calls the program's own entry point, so the measured path is the real start path.
When a frame is displayed while the table holds rows whose layout is done, it
writes one JSON line to file descriptor FD (time, loaded modules) and asks the
app to exit. The parent measures the whole process, from spawn to that line.
"""

from __future__ import annotations

import json
import os
import sys
import time

WATCHED = (
    "alembic",
    "faker",
    "argon2",
    "cm_tui.screening",
    "psycopg",
    "cm_tui.services.demo",
    "sqlalchemy.dialects.postgresql",
    "textual.widgets._text_area",
    "cm_tui.store.models_later",
)


def _install(fd: int) -> None:
    from textual.app import App

    original = App._display
    done = False

    def _display(self: App, screen: object, renderable: object) -> None:
        nonlocal done
        ready = False
        if not done:
            try:
                table = self.screen.query_one("#caseload")
                ready = table.row_count > 0 and not table._require_update_dimensions
            except Exception:
                ready = False
        original(self, screen, renderable)
        if ready and not done and renderable is not None:
            done = True
            report = {
                "painted": time.monotonic(),
                "rows": table.row_count,
                "modules": sorted(m for m in WATCHED if m in sys.modules),
            }
            os.write(fd, (json.dumps(report) + "\n").encode())
            os.close(fd)
            self.exit()

    App._display = _display  # type: ignore[method-assign]


def main() -> None:
    fd = int(sys.argv[1])
    target = sys.argv[2]
    _install(fd)
    if target == "floor":
        import runpy

        sys.argv = [os.path.join(os.path.dirname(__file__), "floor.py")]
        runpy.run_path(sys.argv[0], run_name="__main__")
    elif target == "cm-tui":
        from cm_tui.entry import main as cm_tui_main  # pyproject's entry point

        sys.argv = ["cm-tui", *sys.argv[3:]]
        cm_tui_main()
    else:
        raise SystemExit(f"probe: unknown target {target!r}")


if __name__ == "__main__":
    main()
