"""Text from other people, made safe to show in a terminal.

A stored value may hold control characters (a file configuration can hold anything but NUL).
Written to a terminal as they are, an escape sequence would be *executed*: clear the screen,
set the window title, write the clipboard (OSC 52). ``visible`` replaces every control
character except newline and tab with its visible Unicode symbol (␛ for ESC, ␇ for BEL, …),
so it is shown, never replayed."""

from __future__ import annotations

_C0 = {code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)}
_TABLE = {**_C0, 0x7F: "\u2421"} | {code: "\ufffd" for code in range(0x80, 0xA0)}


def visible(text: str) -> str:
    """``text`` with control characters (other than newline and tab) made visible."""
    return text.translate(_TABLE)
