"""Text from other people, made safe to show in a terminal: one character class, two renderings.

A stored value (or a name) may hold characters a terminal acts on instead of showing: C0/C1
control characters start escape sequences that would be *executed* (clear the screen, set the
window title, write the clipboard with OSC 52), bidi overrides and isolates reorder what
follows them (a value can then read as something it is not), zero-width characters hide in
plain sight, and line/paragraph separators break lines where none seem to be.

:data:`HOSTILE` is that class: C0 except tab and newline, DEL, C1, U+200B–U+200F (zero width
and directional marks), U+2028–U+202E (separators, embeddings and overrides), U+2066–U+2069
(isolates). Two renderings keep every other character as it is:

- :func:`visible` (the dashboard): each one becomes one visible symbol — the control picture
  for C0 and DEL (␛ for ESC, ␇ for BEL, ␡), U+FFFD for the rest — so the text keeps its length;
- :func:`escaped` (the command line): each one becomes an escape (``\\x1b``, ``\\u202e``) that
  a person can read back.

Columns are measured in terminal cells, not characters (a CJK character takes two):
:func:`cells` and :func:`fit_cells` are what every table that pads or cuts text uses.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, set_cell_size

#: The hostile code points, as inclusive ranges.
_RANGES = (
    (0x00, 0x08),
    (0x0B, 0x1F),
    (0x7F, 0x9F),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2066, 0x2069),
)
#: Every code point of the class (for tables and tests).
HOSTILE_CODES: tuple[int, ...] = tuple(c for low, high in _RANGES for c in range(low, high + 1))
#: The class as a regular expression.
HOSTILE = re.compile("[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in _RANGES) + "]")

# C0 and DEL have Unicode "control pictures" (U+2400 + code, U+2421); C1, bidi, zero-width and
# separators have none: U+FFFD, the replacement character, says "something was here".
_VISIBLE = {code: chr(0x2400 + code) if code < 0x20 else "\ufffd" for code in HOSTILE_CODES}
_VISIBLE[0x7F] = "\u2421"


def visible(text: str) -> str:
    """``text`` with every hostile character replaced by one visible symbol (the dashboard)."""
    return text.translate(_VISIBLE)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escaped(text: str) -> str:
    """``text`` with every hostile character written as an escape (the command line)."""
    return HOSTILE.sub(_escape, text)


def has_hostile(text: str) -> bool:
    """Whether ``text`` holds any hostile character."""
    return HOSTILE.search(text) is not None


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def json_escaped(document: str) -> str:
    """A JSON document with every hostile character written as a ``\\uXXXX`` escape.

    Hostile characters can only occur inside JSON strings, where the escape decodes to the
    very same character: a parser reads the same values, a terminal shows them inertly."""
    return HOSTILE.sub(_json_escape, document)


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (a wide character takes two)."""
    return cell_len(text)


def fit_cells(text: str, width: int) -> str:
    """``text`` within ``width`` cells: as it is when it fits, else cut and ended with "…"
    (never wider than ``width``; a wide character that would straddle the cut goes whole)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip(" ") + "…"
