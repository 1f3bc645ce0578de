"""The Config drift matrix has a row for every key of the project (one added since the last
reports too, not yet reported by any machine), and its status line counts the project's keys
and says when no machine has reported yet."""

from __future__ import annotations

from uuid import uuid4

from devsync_tui.core.config_matrix import build_config_matrix
from devsync_tui.core.config_states import ConfigState
from devsync_tui.dashboard.panes.config_drift import status_text, with_keys

BOB, CI, STAGING = uuid4(), uuid4(), uuid4()
PROJECT = uuid4()


def _state(env: object, key: str, state: str = "in_sync") -> ConfigState:
    return ConfigState(env, PROJECT, key, state, 1, None)  # type: ignore[arg-type]


def test_a_key_no_machine_reported_gets_a_row_of_no_reports() -> None:
    states = [_state(BOB, "API_URL"), _state(BOB, "LOG_LEVEL", "differs")]
    matrix = with_keys(build_config_matrix(states, [BOB, CI]), {"API_URL", "NEW_KEY"})
    assert [row.key for row in matrix.rows] == ["API_URL", "LOG_LEVEL", "NEW_KEY"]
    new = matrix.rows[2]
    assert new.cells == (None, None)
    assert not new.drifted
    assert status_text(matrix, 3) == "3 keys · 1 drifted · 1 of 2 machines drift"


def test_with_no_report_the_status_counts_the_projects_keys() -> None:
    keys = {f"KEY_{i}" for i in range(9)}
    matrix = with_keys(build_config_matrix([], [BOB, CI, STAGING]), keys)
    assert len(matrix.rows) == 9
    assert status_text(matrix, 9) == "9 keys · none of 3 machines has reported yet"


def test_the_status_says_how_many_rows_are_shown() -> None:
    states = [_state(BOB, "A", "differs"), _state(BOB, "B")]
    matrix = build_config_matrix(states, [BOB])
    assert status_text(matrix, 1, drifted_only=True) == (
        "1 of 2 keys · 1 drifted · 1 of 1 machine drift · drifted only"
    )
