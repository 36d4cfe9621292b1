"""SafeTextArea: cm_tui.widgets.safe's rule for a TextArea (a module of its own, so
that the screens on the start path do not import TextArea and its document model)."""

from __future__ import annotations

from textual.strip import Strip
from textual.widgets import TextArea

from cm_tui.widgets.safe import _drawn


class SafeTextArea(TextArea):
    """A TextArea for text that may come from the database (a restored draft)."""

    def render_line(self, y: int) -> Strip:
        return _drawn(super().render_line(y))
