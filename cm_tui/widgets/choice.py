"""A one-line, single-key choice: every option has a letter; `←` `→` move too.

Faster than a RadioSet or a Select for a form filled in many times a day: with the
bar focused, one key picks an option (the letter is underlined). Every printable
key is consumed, so a stray letter never reaches a global binding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    key: str  # one lower-case letter or digit


def lettered(options: Sequence[tuple[str, str]]) -> list[Choice]:
    """Choices for ``(value, label)`` pairs (a vocabulary, say), each keyed by the
    first letter or digit of its label that no earlier choice has taken."""
    taken: set[str] = set()
    out: list[Choice] = []
    for value, label in options:
        free = [c for c in label.lower() if c.isalnum() and c.isascii() and c not in taken]
        spare = [c for c in "0123456789abcdefghijklmnopqrstuvwxyz" if c not in taken]
        if not free and not spare:
            raise ValueError("more choices than letters and digits")
        key = (free or spare)[0]
        taken.add(key)
        out.append(Choice(value, label, key))
    return out


class ChoiceBar(Widget, can_focus=True):
    DEFAULT_CSS = """
    ChoiceBar {
        height: 1;
        width: 1fr;
    }
    ChoiceBar:focus {
        background: $boost;
    }
    ChoiceBar > .choice-bar--selected {
        text-style: bold;
        color: $text;
        background: $primary-muted;
    }
    ChoiceBar:focus > .choice-bar--selected {
        text-style: bold;
        color: $text;
        background: $primary;
    }
    ChoiceBar > .choice-bar--key {
        text-style: underline;
    }
    """
    COMPONENT_CLASSES = {"choice-bar--selected", "choice-bar--key"}
    BINDINGS = [
        Binding("left", "move(-1)", "Previous", show=False),
        Binding("right", "move(1)", "Next", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
    ]

    value: reactive[str] = reactive("", init=False)

    @dataclass
    class Changed(Message):
        bar: ChoiceBar
        value: str

        @property
        def control(self) -> ChoiceBar:
            return self.bar

    def __init__(
        self,
        choices: Sequence[Choice],
        value: str | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._take(choices)
        self.set_reactive(ChoiceBar.value, value if value in self.values else choices[0].value)

    @property
    def values(self) -> list[str]:
        return [c.value for c in self.choices]

    def set_choices(self, choices: Sequence[Choice], value: str | None = None) -> None:
        """Other choices (and ``value`` among them, else the first), as if built anew."""
        self._take(choices)
        self.value = value if value in self.values else self.choices[0].value
        self.refresh(layout=True)

    def _take(self, choices: Sequence[Choice]) -> None:
        if not choices:
            raise ValueError("a ChoiceBar needs choices")
        self.choices = list(choices)
        self._by_key = {c.key: c.value for c in self.choices}

    def validate_value(self, value: str) -> str:
        return value if value in self.values else self.value

    def watch_value(self, value: str) -> None:
        self.post_message(self.Changed(self, value))

    def _spans(self) -> list[tuple[int, int, Choice]]:
        spans, x = [], 0
        for choice in self.choices:
            width = len(choice.label) + 2
            spans.append((x, x + width, choice))
            x += width + 1
        return spans

    def render(self) -> Text:
        selected = self.get_component_rich_style("choice-bar--selected", partial=True)
        key_style = self.get_component_rich_style("choice-bar--key", partial=True)
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, choice in enumerate(self.choices):
            if i:
                out.append(" ")
            part = Text(f" {choice.label} ")
            at = choice.label.lower().find(choice.key)
            if at >= 0:
                part.stylize(key_style, at + 1, at + 2)
            if choice.value == self.value:
                part.stylize(selected)
            out.append_text(part)
        return out

    def get_content_width(self, container: object, viewport: object) -> int:
        return sum(len(c.label) + 3 for c in self.choices) - 1

    # ------------------------------------------------------------ input

    def on_key(self, event: events.Key) -> None:
        char = (event.character or "").lower()
        if char and char in self._by_key:
            self.value = self._by_key[char]
        elif event.is_printable:
            self.app.bell()  # not an option here; swallowed so it never acts elsewhere
        else:
            return
        event.stop()
        event.prevent_default()

    def on_click(self, event: events.Click) -> None:
        for start, end, choice in self._spans():
            if start <= event.x < end:
                self.value = choice.value
                break

    def action_move(self, step: int) -> None:
        values = self.values
        self.value = values[(values.index(self.value) + step) % len(values)]

    def action_first(self) -> None:
        self.value = self.values[0]

    def action_last(self) -> None:
        self.value = self.values[-1]
