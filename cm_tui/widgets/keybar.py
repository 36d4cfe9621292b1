"""The key line at the foot of every screen: Textual's Footer, drawn as one line of text.

Textual's ``Footer`` mounts a widget per key and throws them away and mounts
them again whenever the screen's bindings change (each change of focus). On
this project's 2-core reference machine that was about half the CPU of opening
a screen (issue 8). ``KeyBar`` shows the same keys the same way - enabled keys
in the key colour, disabled ones dim, the command palette key on the right -
but it is one widget that only repaints: nothing is mounted when focus moves.
A click on a key presses it, as with the Footer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        & > .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keybar--disabled {
            text-style: dim;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # (first column, last column + 1, key, enabled) of each key drawn, for clicks.
        self._spans: list[tuple[int, int, str, bool]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        self.refresh()

    def keys(self, active: dict[str, Any] | None = None) -> Iterator[tuple[Binding, bool, str]]:
        """(binding, enabled, description) of each key shown, in order: one per action.
        ``active``: the screen's active bindings, if already read (Textual works them
        out afresh at each read, asking every binding's check_action)."""
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        if active is None:
            active = self.screen.active_bindings
        for key, (_node, binding, enabled, _tooltip) in active.items():
            if not binding.show or binding.action in seen or key == palette:
                continue
            seen.add(binding.action)
            yield binding, enabled, binding.description

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        description_style = self.get_component_rich_style("keybar--description", partial=True)
        dim = Style(dim=True)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str, bool]] = []

        def add(binding: Binding, enabled: bool, description: str) -> Text:
            part = Text(no_wrap=True, end="")
            part.append(f" {self.app.get_key_display(binding)} ", key_style)
            if description:
                part.append(f"{description} ", description_style)
            if not enabled:
                part.stylize(dim)
            return part

        active = self.screen.active_bindings
        for binding, enabled, description in self.keys(active):
            part = add(binding, enabled, description)
            spans.append((line.cell_len, line.cell_len + part.cell_len, binding.key, enabled))
            line.append_text(part)

        # The command palette key keeps its place on the right, as in Textual's Footer;
        # keys that do not fit before it are cut off (? lists them all).
        palette = self.app.COMMAND_PALETTE_BINDING
        found = None
        if self.app.ENABLE_COMMAND_PALETTE:
            found = active.get(palette)
        right = Text(end="")
        if found is not None:
            _node, binding, enabled, _tooltip = found
            right = Text("▏", style=dim, end="") + add(binding, enabled, binding.description)
        room = self.size.width - right.cell_len
        if line.cell_len > room:  # cut after the last key that fits whole
            spans = [span for span in spans if span[1] <= room - 1]
            line.truncate(spans[-1][1] if spans else 0)
            line.append("…", description_style)
        if found is not None:
            start = max(line.cell_len, room)
            line.append(" " * (start - line.cell_len))
            spans.append((start, start + right.cell_len, found[1].key, found[2]))
            line.append_text(right)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                event.stop()
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
