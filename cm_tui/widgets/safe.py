"""Stored text is shown literally: never as Rich markup, never as terminal escapes."""

from __future__ import annotations

import re

from rich.text import Text

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
