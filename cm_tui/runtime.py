"""How an interactive run sets up the interpreter (issue 8: screens under 100 ms).

Two settings of CPython that the app's speed depends on, measured on the
2-core reference machine:

- Garbage collection. A Textual screen is a few thousand objects; opening and
  closing screens made a full (generation 2) collection every second screen,
  and with everything start-up had made (modules, SQLAlchemy, Textual) each one
  took 80-120 ms - as long as the whole budget for opening a screen. So the
  collector is off while the app starts (imports and the first screen), and
  once that screen is up, what start-up made is collected once and frozen
  (``gc.freeze``: never scanned again), and the thresholds are raised so that
  young objects are collected in larger, rarer batches.
- The GIL switch interval. Database reads run in worker threads; while the UI
  thread lays out a screen, a worker that gives up the GIL for SQLite waited up
  to the default 5 ms to get it back, at every statement: the audited read of the
  client brief took 135 ms instead of 5. At 1 ms it takes a few.

The ``cm-tui`` command (``cm_tui.entry``) turns collection off in its first line,
before the app's modules load; a subcommand (``cm-tui import ...``) turns it
back on at once (``start_up_over``). Tests that import the CLI or build apps in
one long process leave the interpreter as it is.
"""

from __future__ import annotations

import gc
import sys

GC_THRESHOLDS = (10_000, 20, 20)
SWITCH_INTERVAL_S = 0.001
DEFAULT_SWITCH_INTERVAL_S = sys.getswitchinterval()

_interactive = False


def start_interactive() -> None:
    """Before the app is imported and built: no collections until it is up."""
    global _interactive
    _interactive = True
    gc.disable()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def starting() -> bool:
    """Between start_interactive and first_screen_up."""
    return _interactive


def start_up_over() -> None:
    """Not the app after all (a subcommand, or it failed to open): the defaults again."""
    global _interactive
    if _interactive:
        _interactive = False
        sys.setswitchinterval(DEFAULT_SWITCH_INTERVAL_S)
        gc.enable()


def first_screen_up() -> None:
    """Once the first screen is painted: collect start-up's garbage, freeze the rest."""
    global _interactive
    if not _interactive:
        return
    _interactive = False
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()
