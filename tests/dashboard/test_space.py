"""Space: the value takes the free width, the detail line shows the whole value, where it
comes from and the default it overrides; footer labels fit at 80 and 100 columns."""

from __future__ import annotations

import pytest
from textual.widgets import Footer, Static

from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane

pytestmark = pytest.mark.db


async def test_value_column_takes_the_free_width_at_100_columns(demo_db_url: str) -> None:
    app = make_test_app(
        demo_db_url, "alice", size=(100, 30), project="storefront", env="bob-laptop"
    )
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        # The longest value here (30 characters) is shown whole beside the tree.
        assert cell_text(pane, "FEATURE_FLAGS", 1) == "checkout-v2,search-suggestions"


async def test_detail_line_shows_the_whole_value_its_origin_and_the_default(
    fresh_db_url: str,
) -> None:
    app = make_test_app(fresh_db_url, "bob", size=(80, 24), project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        pane = config_pane(app)
        detail = pane.query_one("#config-detail", Static)
        pane.go_to_key("LOG_LEVEL")
        await wait_for(pilot, lambda: "the project default is" in str(detail.render()))
        text = str(detail.render())
        assert text.startswith("LOG_LEVEL = debug\n")
        assert (
            "Override for bob-laptop (set from the template Node.js Starter); "
            "the project default is warn."
        ) in text
        pane.go_to_key("NODE_ENV")
        await pilot.pause()
        assert "Inherited from the project default" in str(detail.render())
        pane.go_to_key("DATABASE_URL")
        await pilot.pause()
        assert str(detail.render()).startswith("DATABASE_URL = ••••••••\n")
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(pane.revealed))
        full = next(iter(pane.revealed.values()))
        assert len(full) > 40  # longer than the table's cell: the detail line shows it all
        await wait_for(pilot, lambda: str(detail.render()).startswith(f"DATABASE_URL = {full}"))


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("user", "env"),
    [("alice", "ci-runner"), ("alice", "bob-laptop"), ("bob", "bob-laptop")],
    ids=lambda v: v,
)
async def test_footer_labels_fit(
    demo_db_url: str, size: tuple[int, int], user: str, env: str
) -> None:
    app = make_test_app(demo_db_url, user, size=size, project="storefront", env=env)
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")  # a secret both may reveal: every key
        await pilot.pause()
        footer = app.main.query_one(Footer)
        await wait_for(pilot, lambda: bool(footer.query("FooterKey")))
        keys = [k for k in footer.query("FooterKey") if k.display]
        labels = [str(k.description) for k in keys]
        assert {"Edit", "Reveal", "Copy", "History", "Export", "Help"} <= set(labels)
        assert all(k.region.right <= size[0] for k in keys)
        assert all(k.region.width > len(str(k.description)) for k in keys)  # none cut
        # What did not fit is left out whole from the right; Quit and Help (which lists it)
        # stay.
        assert {"Quit", "Help"} <= set(labels)
        offered = [
            b.description
            for (_, b, _, _) in app.main.active_bindings.values()
            if b.show and b.description not in ("Help", "Quit")
        ]
        shown = [label for label in labels if label in offered]
        assert shown == offered[: len(shown)]


async def test_footer_gives_back_what_it_left_out_when_the_terminal_widens(
    demo_db_url: str,
) -> None:
    app = make_test_app(demo_db_url, "bob", size=(80, 24), project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        config_pane(app).go_to_key("DATABASE_URL")
        await pilot.pause()
        footer = app.main.query_one(Footer)

        def labels() -> set[str]:
            return {str(k.description) for k in footer.query("FooterKey") if k.display}

        await wait_for(pilot, lambda: "Help" in labels())
        assert "Quit" in labels()  # never left out
        assert "Compare" not in labels()
        await pilot.resize_terminal(140, 30)
        await wait_for(pilot, lambda: {"Quit", "Compare", "Help"} <= labels())
