"""``core.drift_summary``: the client's share of the database's "drifted" count."""

from __future__ import annotations

import pytest

from devsync_tui.core.drift_summary import UndecidedError, undecided_drifted


def test_a_package_drifts_by_the_matrix_rules() -> None:
    undecided = [
        # pip: 2.0 is 2.0.0, within >=2: matches.
        ["pip", [["2.0", ">=2"]], [[["2.0.0", ">=2"]], [["2.0", None]]]],
        # npm: one machine a patch ahead: differs.
        ["npm", [["1.2.3", "^1.2.0"]], [[["1.2.3", "^1.2.0"]], [["1.2.4", "^1.2.0"]]]],
        # cargo: the baseline breaks its own constraint, no machine shown: violates.
        ["cargo", [["2.0.0", "^1"]], []],
        # npm: the baseline's two copies on the machine too, in any order: matches.
        ["npm", [["1.0.0", None], ["2.0.0", None]], [[["2.0.0", None], ["1.0.0", None]]]],
        # npm: the machine lacks one of the baseline's copies: differs.
        ["npm", [["1.0.0", None], ["2.0.0", None]], [[["1.0.0", None]]]],
        # npm: a baseline without a version asks for the package only: matches.
        ["npm", [[None, "*"]], [[["3.1.4", None]]]],
    ]
    assert undecided_drifted(undecided) == 3
    assert undecided_drifted([]) == 0


@pytest.mark.parametrize(
    "undecided",
    [
        None,
        {"npm": []},
        [["npm", [["1.0.0", None]]]],  # no sets
        [["brew", [["1.0.0", None]], []]],  # no such manager
        [["npm", [], []]],  # an empty baseline: the database never sends one
        [["npm", [["1.0.0", None]], [[]]]],  # an empty set
        [["npm", [["1.0.0"]], []]],  # not a pair
        [["npm", [[1, None]], []]],  # not text
        [["npm", [["1.0.0", None]], "sets"]],
    ],
)
def test_anything_else_is_refused_with_a_reason(undecided: object) -> None:
    with pytest.raises(UndecidedError):
        undecided_drifted(undecided)
