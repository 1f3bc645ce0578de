"""Values and files from the command line: ``--file``, a pipe on stdin, or a prompt.

Reads are bounded: ``/dev/zero`` or an endless pipe must not eat the machine's memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

from devsync_tui.commands.common import UsageError
from devsync_tui.commands.prompt import ask
from devsync_tui.machine.values import MAX_VALUE_BYTES


def read_value(
    *, key: str, secret: bool, from_file: str | None, stdin_strip_newline: bool = True
) -> str:
    """A value from ``--file`` (exact bytes), a pipe on stdin (one trailing newline dropped,
    as ``read`` does), or a prompt (hidden for secrets)."""
    # +2: a value of exactly 1 MiB piped with its trailing newline is still accepted.
    limit = MAX_VALUE_BYTES + 2
    if from_file is not None:
        return _decode(read_bounded(from_file, limit, "a value may hold 1 MiB"), from_file)
    if not sys.stdin.isatty():
        text = _decode(read_bounded("-", limit, "a value may hold 1 MiB"), "stdin")
        if stdin_strip_newline:
            text = text.removesuffix("\n").removesuffix("\r")
        return text
    prompt = f"Value for {key}{' (hidden)' if secret else ''}: "
    return ask(prompt, secret=secret)


def read_bounded(path: str, limit: int, why: str) -> bytes:
    """The bytes of ``path`` (``-``: stdin), refusing more than ``limit`` of them (UsageError
    naming ``why``)."""
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with Path(path).open("rb") as handle:
            data = handle.read(limit + 1)
    if len(data) > limit:
        where = "stdin" if path == "-" else path
        raise UsageError(f"{where} is too large ({why}); nothing was written.")
    return data


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where} is not UTF-8 text.") from None
