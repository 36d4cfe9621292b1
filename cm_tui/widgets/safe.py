"""Stored text is shown literally: never as Rich markup, never as terminal escapes."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widgets import Input

# C0 controls except tab/newline, DEL, C1 controls (which include CSI), and the
# bidirectional overrides and isolates that can reorder what a reader sees.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x1B:
        return "␛"
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture" for the character
    if code > 0xFF:
        return f"<U+{code:04X}>"
    return f"\\x{code:02x}"


def literal(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """A Rich Text that shows ``value`` exactly as stored (markup is text, escapes are visible)."""
    if value is None:
        return Text("", style=style)
    text_ = _CONTROL.sub(_visible, str(value))
    if one_line:
        text_ = " ".join(text_.split())
    return Text(text_, style=style, no_wrap=one_line)


def plain(value: object) -> str:
    """A control-free plain string (for widgets that take str but never parse markup)."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def _drawn(strip: Strip) -> Strip:
    """``strip`` with no control character left to reach the terminal (same cell widths)."""
    if not any(_CONTROL.search(seg.text) for seg in strip if not seg.control):
        return strip
    return Strip(
        [
            seg
            if seg.control
            else Segment(
                _CONTROL.sub(lambda m: " " * cell_len(m.group()), seg.text), seg.style, seg.control
            )
            for seg in strip
        ],
        strip.cell_length,
    )


class SafeInput(Input):
    """An Input for text that may come from the database (a draft, a stored title):
    the value is kept exactly; a control character in it is never drawn live."""

    def render_line(self, y: int) -> Strip:
        return _drawn(super().render_line(y))
