"""The key footer (``widgets.footer.Footer``) shows the focused widget's keys, also when the
focus moves while it is rebuilding."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from devsync_tui.dashboard.widgets.footer import Footer
from tests.dashboard.conftest import wait_for


class _Box(Static, can_focus=True):
    pass


class _Left(_Box):
    BINDINGS = [Binding("l", "noop", "Left key")]


class _Right(_Box):
    BINDINGS = [Binding("r", "noop", "Right key")]


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield _Left("left", id="left")
        yield _Right("right", id="right")
        yield Footer()


def _keys(footer: Footer) -> set[str]:
    return {str(key.description) for key in footer.query("FooterKey")}


async def test_a_focus_change_during_a_rebuild_still_reaches_the_footer() -> None:
    app = _Host()
    async with app.run_test(size=(80, 10)) as pilot:
        footer = app.query_one(Footer)
        app.query_one("#left").focus()
        await wait_for(pilot, lambda: "Left key" in _keys(footer))
        # The next rebuild: the focus moves to the right box after the footer composed the
        # left box's keys and while it mounts them (as at start, when the screen's first
        # activation focuses one widget and the workspace load another).
        mount_all = footer.mount_all
        moved: list[bool] = []

        async def mounting(*args: Any, **kwargs: Any) -> Any:
            if not moved:
                moved.append(True)
                app.query_one("#right").focus()
            return await mount_all(*args, **kwargs)

        footer.mount_all = mounting  # type: ignore[method-assign]
        app.query_one("#right").blur()
        app.query_one("#left").focus()
        footer.call_later(footer.recompose)  # in the footer's own context, as Textual calls it
        await wait_for(pilot, lambda: bool(moved))
        await wait_for(pilot, lambda: "Right key" in _keys(footer), within=5)
        assert "Left key" not in _keys(footer)
