"""Values from other people are shown, never replayed, in a terminal: one character class
(core.printable.HOSTILE), rendered as symbols in the dashboard and as escapes on the CLI."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devsync_tui.core.printable import (
    HOSTILE,
    HOSTILE_CODES,
    escaped,
    has_hostile,
    json_escaped,
    visible,
)

BIDI_AND_ZERO_WIDTH = [*range(0x200B, 0x2010), *range(0x2028, 0x202F), *range(0x2066, 0x206A)]


def test_the_class_is_c0_c1_bidi_zero_width_and_separators() -> None:
    c0 = [c for c in range(0x20) if c not in (0x09, 0x0A)]
    assert set(HOSTILE_CODES) == {*c0, *range(0x7F, 0xA0), *BIDI_AND_ZERO_WIDTH}
    assert all(HOSTILE.fullmatch(chr(c)) for c in HOSTILE_CODES)
    # Every embedding, override and isolate control Unicode defines is in it.
    kinds = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
    bidi_controls = [
        c
        for c in range(0x2000, 0x2070)
        if unicodedata.bidirectional(chr(c)) in kinds and unicodedata.category(chr(c)) == "Cf"
    ]
    assert set(bidi_controls) <= set(HOSTILE_CODES)
    assert not has_hostile("plain text, ünïcödé, 日本語, emoji 🙂, tab\tand\nnewline")


def test_escape_sequences_become_symbols_in_the_dashboard() -> None:
    assert visible("a\x1b[2Jb\x07\x1b]52;c;ZXZpbA==\x07") == "a␛[2Jb␇␛]52;c;ZXZpbA==␇"
    assert visible("line1\nline2\tend") == "line1\nline2\tend"
    assert visible("\r\x7f\x9b") == "␍\u2421\ufffd"


@pytest.mark.parametrize("code", HOSTILE_CODES)
def test_every_hostile_character_has_both_renderings(code: int) -> None:
    char = chr(code)
    shown = visible(f"a{char}b")
    assert len(shown) == 3
    assert shown[1] != char
    assert not has_hostile(shown)
    expected = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    assert escaped(f"a{char}b") == f"a{expected}b"
    # JSON keeps the value (a parser reads the same character) and shows it inertly.
    document = json_escaped(json.dumps({"v": char}, ensure_ascii=False))
    assert not has_hostile(document)
    assert json.loads(document) == {"v": char}


def test_bidi_overrides_are_neutralised_in_both_renderings() -> None:
    # "invoice_\u202efdp.exe" reads as "invoice_exe.pdf" on a screen that obeys the override.
    name = "invoice_\u202efdp.exe"
    assert visible(name) == "invoice_\ufffdfdp.exe"
    assert escaped(name) == "invoice_\\u202efdp.exe"


@given(st.text())
def test_no_hostile_character_survives_the_dashboard(text: str) -> None:
    shown = visible(text)
    assert not has_hostile(shown)
    assert len(shown) == len(text)


@given(st.text())
def test_no_hostile_character_survives_the_command_line(text: str) -> None:
    shown = escaped(text)
    assert not has_hostile(shown)
    if not has_hostile(text):
        assert shown == text
