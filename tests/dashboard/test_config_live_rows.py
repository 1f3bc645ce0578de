"""A teammate's change to the Configuration tab's view is read back by its keys alone and
redraws only its rows (issue 16): one keyed read, no whole read, the other rows' objects and
cells untouched; a delete, a default under an override, a secret that stays masked; an answer
for another view or an older read paints nothing."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import psycopg
import pytest
from textual.widgets import Static

from devsync_tui.core.models import ConfigType
from devsync_tui.dashboard.panes.config_keys import Touched
from devsync_tui.dashboard.panes.config_live import ConfigRowsLoaded
from devsync_tui.dashboard.panes.configuration import ConfigurationPane
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane, other_client
from tests.support import demo

pytestmark = pytest.mark.db

STORE, STAGING = demo.PROJECT_STOREFRONT, demo.ENV_STAGING
READS = (
    "effective_configuration",
    "project_configuration",
    "effective_configuration_keys",
    "project_configuration_keys",
)


def _count_reads(pane: ConfigurationPane) -> Counter[str]:
    """Count the configuration reads the pane makes from now on."""
    assert pane.session is not None
    backend, calls = pane.session.backend, Counter[str]()
    for name in READS:
        real = getattr(backend, name)

        async def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls[_name] += 1
            return await _real(*args, **kw)

        setattr(backend, name, counted)
    return calls


def _snapshot(pane: ConfigurationPane) -> dict[str, tuple[object, object]]:
    """Each key's row object and the first cell object the table holds for it."""
    assert pane.view is not None
    table = pane.rows_table.table
    return {r.key: (r, table.get_row(r.key)[0]) for r in pane.view.rows}


def _row(pane: ConfigurationPane, key: str) -> Any:
    assert pane.view is not None
    return next((r for r in pane.view.rows if r.key == key), None)


def _other_rows_untouched(
    pane: ConfigurationPane, before: dict[str, tuple[object, object]], changed: str
) -> None:
    after = _snapshot(pane)
    for key, (row, cell) in before.items():
        if key != changed:
            assert after[key][0] is row, key
            assert after[key][1] is cell, key


async def _open(pilot: Any) -> ConfigurationPane:
    await wait_ready(pilot)
    pane = config_pane(pilot.app)
    await wait_for(pilot, lambda: "config-origin" not in {w.group for w in pilot.app.workers})
    await wait_for(pilot, lambda: bool(pane._defaults))
    return pane


async def _erin_edits_api_base_url(pilot: Any, db_url: str, pane: ConfigurationPane) -> str:
    """Erin saves staging's API_BASE_URL with a value of the same length (the column keeps
    its width, so the table is not drawn again); returns it once it is on screen."""
    old = _row(pane, "API_BASE_URL")
    new_value = str(old.value).replace("staging", "stagin9")
    async with other_client(db_url, "erin") as erin:
        await erin.save_configuration(
            STORE, STAGING, "API_BASE_URL", new_value,
            is_secret=False, type=ConfigType.ENV_VAR, expected_version=old.version,
        )  # fmt: skip
    await wait_for(pilot, lambda: cell_text(pane, "API_BASE_URL", 1).startswith(new_value[:20]))
    return new_value


async def test_one_saved_key_is_one_keyed_read_and_one_row(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        old = _row(pane, "API_BASE_URL")
        before, calls = _snapshot(pane), _count_reads(pane)
        new_value = await _erin_edits_api_base_url(pilot, fresh_db_url, pane)
        assert _row(pane, "API_BASE_URL").value == new_value
        assert calls == Counter({"effective_configuration_keys": 1})
        assert _row(pane, "API_BASE_URL").version == old.version + 1
        assert "API_BASE_URL" in pane.rows_table._flashing
        _other_rows_untouched(pane, before, "API_BASE_URL")


async def test_a_new_key_and_its_delete_add_and_remove_one_row(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        pane.go_to_key("NODE_ENV")
        calls = _count_reads(pane)
        async with other_client(fresh_db_url, "erin") as erin:
            made = await erin.save_configuration(
                STORE, STAGING, "AAA_NEW", "1",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=None,
            )  # fmt: skip
            await wait_for(pilot, lambda: _row(pane, "AAA_NEW") is not None)
            table = pane.rows_table.table
            assert pane.view is not None
            # in key order (after ".npmrc"), as a whole read draws it
            assert [r.key.value for r in table.ordered_rows] == [r.key for r in pane.view.rows]
            assert table.get_row_index("AAA_NEW") == 1
            assert pane.rows_table.cursor_key == "NODE_ENV"  # the cursor stayed on its key
            await erin.delete_configuration(made.id, made.version)
        await wait_for(pilot, lambda: _row(pane, "AAA_NEW") is None)
        assert "AAA_NEW" not in {str(k.value) for k in table.rows}
        assert pane.rows_table.cursor_key == "NODE_ENV"
        assert calls == Counter({"effective_configuration_keys": 2})
        # An override deleted: the default shows through again (the database says so).
        stripe = _row(pane, "STRIPE_SECRET_KEY")
        assert stripe.source == "override"
        async with other_client(fresh_db_url, "erin") as erin:
            await erin.delete_configuration(stripe.configuration_id, stripe.version)
        await wait_for(pilot, lambda: _row(pane, "STRIPE_SECRET_KEY").source == "default")
        assert calls == Counter({"effective_configuration_keys": 3})


async def test_a_default_under_an_override_leaves_the_value(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        shown, cell = _row(pane, "API_BASE_URL"), cell_text(pane, "API_BASE_URL", 1)
        assert shown.source == "override"
        assert shown.overrides_id is not None
        default = pane._defaults[shown.overrides_id]
        calls = _count_reads(pane)
        async with other_client(fresh_db_url, "erin") as erin:
            await erin.save_configuration(
                STORE, None, "API_BASE_URL", "https://new-default.example.com",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=default.version,
            )  # fmt: skip
        await wait_for(
            pilot,
            lambda: pane._defaults[shown.overrides_id].value == "https://new-default.example.com",
        )
        assert _row(pane, "API_BASE_URL") == shown  # the effective row did not change
        assert cell_text(pane, "API_BASE_URL", 1) == cell
        assert calls == Counter(
            {"effective_configuration_keys": 1, "project_configuration_keys": 1}
        )


async def test_a_changed_secret_stays_masked_and_drops_its_revealed_value(
    fresh_db_url: str,
) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        pane.go_to_key("SENTRY_DSN")
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(pane.revealed))
        assert "sentry" in cell_text(pane, "SENTRY_DSN", 1)
        old = _row(pane, "SENTRY_DSN")
        calls = _count_reads(pane)
        async with other_client(fresh_db_url, "erin") as erin:
            await erin.save_configuration(
                STORE, STAGING, "SENTRY_DSN", "https://rotated-not-real@sentry.example.com/1",
                is_secret=True, type=ConfigType.ENV_VAR, expected_version=old.version,
            )  # fmt: skip
        await wait_for(pilot, lambda: _row(pane, "SENTRY_DSN").version == old.version + 1)
        assert not pane.revealed
        assert _row(pane, "SENTRY_DSN").value is None
        assert "••••••••" in cell_text(pane, "SENTRY_DSN", 1)
        assert "rotated" not in cell_text(pane, "SENTRY_DSN", 1)
        assert calls == Counter({"effective_configuration_keys": 1})


async def test_an_answer_for_another_view_or_an_older_read_paints_nothing(
    fresh_db_url: str,
) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        assert pane.view is not None
        row, cell = _row(pane, "API_BASE_URL"), cell_text(pane, "API_BASE_URL", 1)
        fake = type(row)(**{**_fields(row), "value": "painted-by-mistake"})
        touch = Touched(frozenset({"API_BASE_URL"}), frozenset(), frozenset(), whole=False)
        project_view = type(pane.view.selection)(
            **{**_fields(pane.view.selection), "environment": None}
        )
        pane._key_reads["API_BASE_URL"] = 7
        pane.post_message(ConfigRowsLoaded(project_view, touch, 7, [fake], None))
        pane.post_message(ConfigRowsLoaded(pane.view.selection, touch, 6, [fake], None))
        await pilot.pause(0.1)
        assert _row(pane, "API_BASE_URL") is row
        assert cell_text(pane, "API_BASE_URL", 1) == cell


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


async def test_a_key_of_the_template_is_a_whole_read_for_the_missing_line(
    fresh_db_url: str,
) -> None:
    # bob-laptop's template requires SENTRY_DSN, which bob-laptop lacks; it also names
    # BOB_DEBUG_PORT, not required.
    config: dict[str, Any] = {"NODE_ENV": {"required": True}, "SENTRY_DSN": {"required": True}}
    config["BOB_DEBUG_PORT"] = {"value": "9229"}
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "update env_templates set config_json = %s where id = %s",
            (json.dumps(config), demo.TEMPLATE_NODE_STARTER),
        )
    app = make_test_app(fresh_db_url, "bob", project="storefront", env="bob-laptop")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        line = pane.query_one("#config-required", Static)
        await wait_for(pilot, lambda: line.display)
        calls = _count_reads(pane)
        port = _row(pane, "BOB_DEBUG_PORT")
        async with other_client(fresh_db_url, "bob") as other:
            await other.save_configuration(  # not required: keyed, the line stays
                STORE, demo.ENV_BOB_LAPTOP, "BOB_DEBUG_PORT", "9230",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=port.version,
            )  # fmt: skip
            await wait_for(pilot, lambda: _row(pane, "BOB_DEBUG_PORT").value == "9230")
            assert calls == Counter({"effective_configuration_keys": 1})
            assert line.display
            await other.save_configuration(  # required: a whole read says the line
                STORE, demo.ENV_BOB_LAPTOP, "SENTRY_DSN", "https://k@s/1",
                is_secret=False, type=ConfigType.ENV_VAR, expected_version=None,
            )  # fmt: skip
        await wait_for(pilot, lambda: not line.display)
        assert calls["effective_configuration"] == 1
        assert calls["effective_configuration_keys"] == 1


async def test_a_change_measures_only_its_rows(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choosing the layout and the table's column widths after a change measures the changed
    row's cells alone (each row's widths are kept as drawn), and gives the layout a whole
    drawing would; the row is drawn with its new value already highlighted."""
    from devsync_tui.dashboard.panes import config_cells, config_live
    from devsync_tui.dashboard.widgets import filter_table

    app = make_test_app(fresh_db_url, "alice", project="storefront", env="staging")
    async with app.run_test(size=app.test_size) as pilot:
        pane = await _open(pilot)
        assert pane.view is not None
        assert len(pane.view.rows) > 3
        layouts, cells = Counter[str](), Counter[str]()

        def counted_layout(r: Any, maker: Any) -> Any:
            layouts[r.key] += 1
            return config_cells.row_widths(r, maker)

        def counted_cell(cell: Any) -> int:
            cells["cell"] += 1
            return int(filter_table_cell_width(cell))

        filter_table_cell_width = filter_table._cell_width
        monkeypatch.setattr(config_live, "row_widths", counted_layout)
        monkeypatch.setattr(filter_table, "_cell_width", counted_cell)
        patched: list[set[str]] = []
        real_patch = pane.rows_table._patch

        def counted_patch(keys: set[str]) -> None:
            patched.append(set(keys))
            real_patch(keys)

        monkeypatch.setattr(pane.rows_table, "_patch", counted_patch)
        await _erin_edits_api_base_url(pilot, fresh_db_url, pane)
        await wait_for(pilot, lambda: not pane.rows_table._flashing, within=5)
        assert layouts == Counter({"API_BASE_URL": 1})
        # Drawn twice: with the new value, highlighted; then as the highlight ends.
        assert patched == [{"API_BASE_URL"}, {"API_BASE_URL"}]
        assert 0 < cells["cell"] <= len(config_cells.ALL_COLUMNS)  # its cells, once
        assert pane.access is not None
        maker = config_cells.CellMaker(pane.access, dict(pane.revealed), pane._in_env())
        whole = [config_cells.row_widths(r, maker) for r in pane.view.rows]
        assert pane._layout == config_cells.layout_for(whole, pane._width())
