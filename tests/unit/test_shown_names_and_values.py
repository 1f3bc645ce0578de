"""What ``devsync env`` shows of a name typed wrong and of a long value: ``core.names.closest``
(did you mean …?) and ``core.wording.shortened``/``quoted`` (one short line for 1 MiB)."""

from __future__ import annotations

import pytest

from devsync_tui.core.names import closest
from devsync_tui.core.wording import quoted, shortened

KEYS = ["LOG_LEVEL", "NODE_ENV", "API_BASE_URL", "DATABASE_URL", "BOB_DEBUG_PORT"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("LOG_LEVL", ["LOG_LEVEL"]),  # a close spelling
        ("log_level", ["LOG_LEVEL"]),  # another letter case, however far in difflib's eyes
        ("Node_Env", ["NODE_ENV"]),
        ("LOGLEVEL", ["LOG_LEVEL"]),
        ("ZZZ_UNHEARD_OF", []),  # nothing close: no guess
        ("LOG_LEVEL", []),  # the name itself is never suggested
    ],
)
def test_closest(typed: str, meant: list[str]) -> None:
    assert closest(typed, KEYS) == meant


def test_closest_prefers_the_same_name_in_another_case_and_keeps_every_spelling() -> None:
    assert closest("log_level", ["LOG_LEVEL", "log_levels", "Log_Level"]) == [
        "LOG_LEVEL",
        "Log_Level",
    ]
    assert closest("API_KEYS", ["API_KEY", "APP_KEY", "API_KEYS_2", "UNRELATED"], limit=2) == [
        "API_KEY",
        "API_KEYS_2",
    ]


def test_a_short_value_is_shown_whole() -> None:
    assert shortened("debug") == "debug"
    assert quoted("debug") == "'debug'"
    assert quoted("a\nb") == "'a\\nb'"  # one line
    exactly = "x" * 60
    assert quoted(exactly) == repr(exactly)


def test_a_long_value_is_its_start_and_its_length() -> None:
    big = "a" * 1_048_576
    assert shortened(big) == "a" * 60 + "… (1,048,576 characters)"
    assert quoted(big) == "'" + "a" * 60 + "'… (1,048,576 characters)"
    assert quoted("é" * 61, limit=3) == "'ééé'… (61 characters)"
