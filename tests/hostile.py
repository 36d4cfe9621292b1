"""Hostile strings: what a name, a note or a script may hold. None may take effect on screen."""

from __future__ import annotations

import re

from tests.engine import ON_POSTGRESQL

HOSTILE: list[str] = [
    "[bold]Bold[/bold]",
    "[link=http://evil.example]click me[/link]",
    "[@click=app.quit]Quit[/]",
    "[@click=app.exit]X[/]",
    "[red on white]alarm[/]",
    "[$accent]theme var[/]",
    "[/]",
    "[",
    "]",
    "[[double]]",
    "\\[escaped]",
    "[b][i][u]nested",
    ":warning: :smile:",
    "\x1b[31mred\x1b[0m",
    "\x1b[2J\x1b[H cleared",
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x1b]52;c;ZXZpbA==\x07 clipboard",
    "\x1b]0;window title\x07",
    "\x1bP+q544e\x1b\\ dcs",
    "\x9b31m C1 CSI",
    "bell\x07bell",
    "back\x08\x08space",
    "nul\x00byte",
    "carriage\rreturn",
    "tab\there",
    "line one\nline two",
    "\u202eevil RTL override",
    "\u2066isolate\u2069",
    "zero\u200bwidth\u200djoiner",
    "Zalgo Z̴̡̛͎a̷l̸g̶o̵",
    "👨‍👩‍👧‍👦 family emoji",
    "Ｆｕｌｌｗｉｄｔｈ",
    "'; DROP TABLE clients; --",
    'Robert"); DELETE FROM contacts; --',
    "%s %d %n {0} {name!r}",
    "${HOME} $(rm -rf /) `id`",
    "<script>alert(1)</script>",
    "&lt;b&gt; &amp;",
    "O'Brien-Smith, Jr.",
    "  leading and trailing  ",
    "x" * 300,
    "\ud7ff\ue000 private use",
    "NUL at end\x00",
]
if ON_POSTGRESQL:
    # PostgreSQL cannot store NUL in text at all (the app refuses it on input, see
    # test_bad_input), so on that engine the corpus holds every string but those two.
    HOSTILE = [h for h in HOSTILE if "\x00" not in h]

_HIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def visible_words(value: str) -> list[str]:
    """The printable words of ``value``: each must appear on screen exactly as typed."""
    return [w for w in _HIDDEN.sub(" ", value).split() if w]


def no_live_controls(rendered: str) -> bool:
    """Nothing that a terminal would act on survived into what is drawn."""
    return not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", rendered)
