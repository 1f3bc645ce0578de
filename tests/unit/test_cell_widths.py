"""Columns are measured in terminal cells: a CJK character takes two, so a name or key with one
gets a column as wide as it shows, and text cut for a column ends within it with "…"."""

from __future__ import annotations

from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from devsync_tui.core.models import Environment, PackageManager
from devsync_tui.core.printable import cells, fit_cells
from devsync_tui.dashboard.widgets import drift_matrix, health_table
from devsync_tui.dashboard.widgets.health_series import EnvHealth

WIDE = "qa-ünïcødé-環境"  # 13 characters, 15 cells


def test_cells_counts_wide_characters_twice() -> None:
    assert len(WIDE) == 13
    assert cells(WIDE) == 15
    assert cells("qa/设置.toml") == len("qa/设置.toml") + 2


def test_fit_cells_cuts_to_the_width_with_an_ellipsis() -> None:
    assert fit_cells("short", 10) == "short"
    assert fit_cells(WIDE, 15) == WIDE
    assert fit_cells(WIDE, 14) == "qa-ünïcødé-環…"
    # a wide character that would straddle the cut goes whole
    assert fit_cells(WIDE, 13) == "qa-ünïcødé-…"
    assert fit_cells(WIDE, 1) == "…"
    assert fit_cells(WIDE, 0) == ""


@given(st.text(alphabet="ab環境设置é-", max_size=30), st.integers(min_value=0, max_value=20))
def test_fit_cells_never_overflows(text: str, width: int) -> None:
    fitted = fit_cells(text, width)
    assert cells(fitted) <= width
    if cells(text) <= width:
        assert fitted == text


def test_column_widths_follow_cells_not_characters() -> None:
    assert drift_matrix.env_column_width("環境環境") == cells("環境環境") + 2
    env = Environment(uuid4(), uuid4(), uuid4(), "環境-machine-01")  # 13 characters, 15 cells
    assert health_table.name_width([EnvHealth(env)]) == 17
    row = drift_matrix.DriftRow(
        PackageManager.NPM, "設定-パッケージ", None, (), drift_matrix.DriftState.MATCHES
    )
    assert drift_matrix.package_width([row]) == min(3 + cells("設定-パッケージ") + 5, 34)


def test_the_legends_fit_their_width_in_cells() -> None:
    from devsync_tui.dashboard.widgets.config_drift_matrix import legend_text as cfg_legend

    for legend in (drift_matrix.legend_text, cfg_legend):
        for width in (40, 60, 80):
            assert all(cells(line) <= width for line in legend(width).splitlines())


def test_the_virtual_tables_cells_are_exactly_their_width() -> None:
    """Every table pads and cuts through fit: a wide key must not push its row's cells."""
    from devsync_tui.dashboard.widgets.virtual_table import fit

    for text in ("qa/设置.toml", "qa-ünïcødé-環境-very-long-environment-name", "plain"):
        for width in (7, 12, 16, 22):
            assert cells(fit(text, width)) == width, (text, width)
