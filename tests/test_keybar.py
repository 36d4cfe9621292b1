"""The key line (cm_tui.widgets.keybar): Textual's Footer drawn as one widget."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label

from cm_tui.widgets.keybar import KeyBar


class KeysApp(App[None]):
    AUTO_FOCUS = None
    BINDINGS = [
        Binding("l", "log", "Log contact"),
        Binding("s", "screen_it", "Screen"),
        Binding("x", "hidden", "Hidden", show=False),
        Binding("d", "delete", "Delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []
        self.may_delete = False

    def compose(self) -> ComposeResult:
        yield Label("body")
        yield Input(id="box")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            return True if self.may_delete else None  # None: shown, but dim
        return True

    def action_log(self) -> None:
        self.pressed.append("log")

    def action_screen_it(self) -> None:
        self.pressed.append("screen")

    def action_delete(self) -> None:
        self.pressed.append("delete")


def _line(app: App[None]) -> str:
    return app.query_one(KeyBar).render().plain


async def test_shows_the_screens_keys_and_the_palette_on_the_right() -> None:
    app = KeysApp()
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        line = _line(app)
        assert line.startswith(" l Log contact  s Screen  d Delete ")
        assert "Hidden" not in line
        assert line.rstrip().endswith("^p palette")
        assert len(line) == 100


async def test_a_disabled_key_is_dim_and_a_click_on_it_only_rings() -> None:
    app = KeysApp()
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        text = app.query_one(KeyBar).render()
        start = text.plain.index(" d Delete")
        assert any(
            span.start <= start + 1 < span.end and "dim" in str(span.style) for span in text.spans
        )
        bar = app.query_one(KeyBar)
        await pilot.click(bar, offset=(start + 2, 0))
        assert app.pressed == []
        await pilot.click(bar, offset=(2, 0))  # " l Log contact"
        assert app.pressed == ["log"]
        app.may_delete = True
        app.refresh_bindings()
        await pilot.pause()
        await pilot.click(bar, offset=(start + 2, 0))
        assert app.pressed == ["log", "delete"]


async def test_follows_focus_without_mounting_anything() -> None:
    app = KeysApp()
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        before = list(bar.children)
        app.query_one("#box", Input).focus()
        await pilot.pause()
        assert list(bar.children) == before == []
        # the focused box takes printable keys, so l, s and d are not offered now
        assert "Log contact" not in _line(app)
        app.set_focus(None)
        await pilot.pause()
        assert " l Log contact" in _line(app)


async def test_keys_that_do_not_fit_are_cut_whole_and_the_palette_key_stays() -> None:
    app = KeysApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        line = _line(app)
        assert len(line) == 40
        assert line.rstrip().endswith("^p palette")
        assert line.startswith((" l Log contact … ", " l Log contact  s Screen … "))
        assert "Scr…" not in line and "Del" not in line
