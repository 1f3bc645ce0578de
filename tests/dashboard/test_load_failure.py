"""A view whose read failed says why: with the link down, the header's reason and that it
reads again by itself; otherwise the error's sentence."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from devsync_tui.backend.errors import PermissionDenied, Unavailable
from devsync_tui.backend.refusals import UNAVAILABLE
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.widgets.status_header import StatusHeader


class _Screenful(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="view")


async def test_link_down_gives_the_headers_reason_not_try_again() -> None:
    app = _Screenful()
    async with app.run_test():
        view = app.query_one("#view")
        header = app.query_one(StatusHeader)
        header.link, header.link_detail = (
            "offline",
            "the local database is stopped: `devsync local start`",
        )
        text = load_failure(view, "the dependencies", Unavailable(UNAVAILABLE))
        assert text == (
            "Could not load the dependencies: the local database is stopped: `devsync local "
            "start`. Read again by itself once the link is back."
        )
        assert "try again in a moment" not in text
        header.link = "live"  # an old reason is not repeated once the link is live
        text = load_failure(view, "the dependencies", Unavailable(UNAVAILABLE))
        assert "the database cannot be reached right now" in text
        refused = load_failure(view, "the health data", PermissionDenied("You may not."))
        assert refused.startswith("Could not load the health data (You may not). Read again")
