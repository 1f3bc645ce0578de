"""Values from other people are shown, never replayed, in a terminal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devsync_tui.core.printable import visible


def test_escape_sequences_become_symbols() -> None:
    assert visible("a\x1b[2Jb\x07\x1b]52;c;ZXZpbA==\x07") == "a␛[2Jb␇␛]52;c;ZXZpbA==␇"
    assert visible("line1\nline2\tend") == "line1\nline2\tend"
    assert visible("\r\x7f\x9b") == "␍\u2421\ufffd"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    shown = visible(text)
    assert all(ch in "\n\t" or (ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0) for ch in shown)
    assert len(shown) == len(text)
