"""The screen recorded with the cached view (dashboard.frame_record): what a replayed first
frame draws is what Textual drew, with the cached mark; nothing revealed is ever recorded;
only the Configuration tab with no dialog or notice on top; leaving keeps the screen as
left. Real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyte
import pytest
from textual.strip import Strip

from devsync_tui import logging_setup
from devsync_tui.core import clock, view_cache
from devsync_tui.core.view_cache import FRAME_TOKEN, CachedView
from devsync_tui.dashboard import frame_record, last_view
from devsync_tui.dashboard.frame_replay import frame_text, terminal_signature
from devsync_tui.dashboard.screens.help import HelpScreen
from tests.dashboard.conftest import wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane
from tests.dashboard.test_cached_view import _app, _factory, _owner

pytestmark = pytest.mark.db

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def _nothing_revealed_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new process: the secrets other tests revealed are not this dashboard's."""
    monkeypatch.setattr(logging_setup, "_secrets", set())


BOB_LAPTOP = {"project": "storefront", "env": "bob-laptop"}


@pytest.fixture
def still_clock() -> Iterator[None]:
    """The clock stopped: a relative time on screen ("alice 1m") cannot tick between the
    recording and the comparison."""
    clock.freeze(clock.now())
    try:
        yield
    finally:
        clock.freeze(None)


def _kept(db_url: str, user: str) -> CachedView | None:
    return view_cache.load(_owner(db_url, user))


def _screen_lines(app: Any) -> list[str]:
    """The text of every line Textual draws now."""
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=False
    )
    return [Strip.join(line).text for line in update.strips]


def _replayed(view: CachedView) -> list[str]:
    """What a terminal shows after the replay of ``view``'s frame."""
    assert view.frame is not None
    text = frame_text(view.frame, view.saved_at)
    assert text is not None
    screen = pyte.Screen(view.frame.width, view.frame.height)
    pyte.Stream(screen).feed(text)
    return [line.rstrip() for line in screen.display]


@pytest.mark.parametrize("size", [(80, 24), SIZE, (160, 45)], ids=["narrow", "wide", "xwide"])
async def test_the_replayed_frame_draws_what_textual_drew_with_the_cached_mark(
    fresh_db_url: str, size: tuple[int, int], still_clock: None
) -> None:
    app = _app(fresh_db_url, _factory(fresh_db_url), "bob", **BOB_LAPTOP)
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        await wait_for(
            pilot, lambda: (v := _kept(fresh_db_url, "bob")) is not None and bool(v.frame), 5
        )
        drawn = _screen_lines(app)
    view = _kept(fresh_db_url, "bob")
    assert view is not None
    assert view.frame is not None
    frame = view.frame
    assert (frame.width, frame.height) == size
    assert frame.terminal == terminal_signature()
    assert frame.header.count(FRAME_TOKEN) > 10
    shown = _replayed(view)
    # Every line but the header, as Textual drew it (the table, the tree, the footer's keys).
    assert shown[1:] == [line.rstrip() for line in drawn[1:]]
    assert any("DATABASE_URL" in line and "••••" in line for line in shown)
    # The header: the same user and place, the cached mark where the live one was.
    # (The recorded mark is as wide as the widest one: where the line is short, the brand
    # gives way to the place, StatusHeader._where.)
    assert "LOCAL" in shown[0]
    assert "bob" in shown[0]
    assert "Acme ▸ storefront ▸ bob-la" in shown[0]
    assert shown[0].endswith("◌ cached · just now · connecting")
    assert "● live" not in shown[0]


async def test_nothing_revealed_is_ever_recorded(fresh_db_url: str) -> None:
    app = _app(fresh_db_url, _factory(fresh_db_url), "bob", **BOB_LAPTOP)
    app.settings.reveal_timeout = 1.0
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        pane.go_to_key("DATABASE_URL")
        await pilot.pause()
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(pane.revealed))
        secret = next(iter(pane.revealed.values()))
        await wait_for(pilot, lambda: "postgres://" in cell_text(pane, "DATABASE_URL", 1))
        assert frame_record.record(app, read_only=False) is None
        # Hidden again after the timeout: recorded, as long as no piece of it is drawn.
        await wait_for(pilot, lambda: not pane.revealed, 5)
        await pilot.pause(0.1)
        frame = frame_record.record(app, read_only=False)
        assert frame is not None
        for piece in (secret, secret[:12], "demo-local-password"):
            assert piece not in frame.body
            assert piece not in frame.header
        # A screen showing a secret revealed in this process anywhere (here: one whose value
        # is a key name on screen) is not recorded at all.
        logging_setup.register_secret("DATABASE_URL")
        assert frame_record.record(app, read_only=False) is None
    view = _kept(fresh_db_url, "bob")
    assert view is not None
    assert secret not in view.to_json().decode()


async def test_only_the_configuration_tab_with_nothing_on_top_is_recorded(
    fresh_db_url: str,
) -> None:
    app = _app(fresh_db_url, _factory(fresh_db_url), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert frame_record.record(app, read_only=False) is not None
        app.notify("a notice on screen")
        await pilot.pause(0.1)
        assert frame_record.record(app, read_only=False) is None
        app.clear_notifications()
        await pilot.pause(0.1)
        app.push_screen(HelpScreen(app.screen))
        await pilot.pause(0.1)
        assert frame_record.record(app, read_only=False) is None
        app.pop_screen()
        await pilot.pause(0.1)
        app.main.query_one("TabbedContent").active = "health"  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert frame_record.record(app, read_only=False) is None


async def test_leaving_keeps_the_view_with_the_screen_as_left(fresh_db_url: str) -> None:
    app = _app(fresh_db_url, _factory(fresh_db_url), "alice")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await wait_for(
            pilot, lambda: (v := _kept(fresh_db_url, "alice")) is not None and bool(v.frame), 5
        )
        first = _kept(fresh_db_url, "alice")
        assert first is not None
        await pilot.pause(0.2)
        await pilot.press("q")
    left = _kept(fresh_db_url, "alice")
    assert left is not None
    assert left.frame is not None
    assert left.saved_at > first.saved_at  # live until it was left


async def test_a_start_replays_only_where_it_opens(fresh_db_url: str) -> None:
    app = _app(fresh_db_url, _factory(fresh_db_url), "bob", **BOB_LAPTOP)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: _kept(fresh_db_url, "bob") is not None, 5)
    view = _kept(fresh_db_url, "bob")
    assert view is not None
    assert last_view.opens_here(view, None, None, None)  # no flags: where it was
    assert last_view.opens_here(view, None, "storefront", "bob-laptop")
    assert last_view.opens_here(view, "acme", "storefront", "bob-laptop")
    assert not last_view.opens_here(view, None, "storefront", None)  # its project defaults
    assert not last_view.opens_here(view, None, "billing-api", None)
    assert not last_view.opens_here(view, "acme", None, None)  # a team opens on its members
    assert not last_view.opens_here(view, None, "nowhere", None)
