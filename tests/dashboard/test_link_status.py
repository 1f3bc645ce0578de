"""The header's link status says why it is not live and what to do (issue 15, "Honest status")."""

from __future__ import annotations

from textual.app import App, ComposeResult

from devsync_tui.dashboard.widgets.status_header import StatusHeader


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusHeader()


async def test_the_header_shows_the_reason_while_not_live() -> None:
    app = _Host()
    async with app.run_test(size=(120, 3)) as pilot:
        header = app.query_one(StatusHeader)
        header.link = "reconnecting"
        header.link_detail = "the local database is stopped: `devsync local start`"
        await pilot.pause()
        assert str(header.render()).endswith(
            "○ reconnecting — the local database is stopped: `devsync local start`"
        )
        header.link = "live"  # live again: the reason is no longer shown
        await pilot.pause()
        assert str(header.render()).endswith("● live")
        header.link, header.link_detail = "offline", ""
        await pilot.pause()
        assert str(header.render()).endswith("○ offline")


async def test_presence_takes_at_most_half_the_header() -> None:
    app = _Host()
    async with app.run_test(size=(100, 3)) as pilot:
        header = app.query_one(StatusHeader)
        header.workspace, header.user, header.role = "LOCAL", "alice", "admin"
        header.link = "live"
        header.presence = "bob (bob-laptop · ✎LOG_LEVEL), erin (staging · Health), dave (Health)"
        await pilot.pause()
        text = str(header.render())
        assert "alice · admin" in text  # who I am stays readable
        # Too long whole: the names only (UX.md: the place first, presence gets what is left).
        assert "also here: bob, erin, dave" in text
        assert text.endswith("● live")


async def test_the_reason_the_link_is_down_comes_before_the_brand_and_the_role() -> None:
    """At 120 columns the whole reason fits once the brand gives way; the place stays."""
    app = _Host()
    async with app.run_test(size=(120, 3)) as pilot:
        header = app.query_one(StatusHeader)
        header.workspace, header.user, header.role = "LOCAL", "bob", "member"
        header.title = "Acme ▸ storefront"
        header.link = "reconnecting"
        header.link_detail = "the local database stopped; DevSync is starting it again"
        await pilot.pause()
        text = str(header.render())
        assert text.endswith("DevSync is starting it again")
        assert "bob" in text
        assert "Acme ▸ storefront" in text
