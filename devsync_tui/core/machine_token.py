"""Machine tokens on the client side: where a token comes from, what one looks like, how long
one lives, and the sentence for a refused one.

A machine token (``devsync token create``) lets ``devsync run``, ``env export``, ``scan`` and
``agent`` act as one environment's machine. The database makes it, keeps only its hash and
checks it on every request (docs/DATABASE.md, "Machines"); this module never sends it
anywhere and never puts it in a message.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

#: The request header that carries the token (PostgREST hands it to SQL lowercase).
HEADER = "x-devsync-token"
#: The environment variable that holds a token.
ENV_VAR = "DEVSYNC_TOKEN"
#: What the database makes: ``dsm_`` and 64 lowercase hex digits.
TOKEN_PATTERN = re.compile(r"dsm_[0-9a-f]{64}")
#: A token file larger than this is not a token file.
_MAX_FILE = 4096

#: What to do about a refused token, said after every refusal.
_REMEDY = "ask an admin of the team or the environment's owner for a new token"


class TokenError(Exception):
    """A token that cannot be used as given: one plain sentence, never the token."""


@dataclass(frozen=True, slots=True)
class MachineToken:
    """A token and where it came from (``DEVSYNC_TOKEN`` or the file's path), for messages."""

    value: str
    source: str

    def __repr__(self) -> str:  # never the token, not even in a traceback or a log
        return f"MachineToken(source={self.source!r})"


def parse(text: str, source: str) -> MachineToken:
    """The token in ``text`` (surrounding whitespace and a final newline ignored)."""
    value = text.strip()
    if not value:
        raise TokenError(f"The machine token in {source} is empty.")
    if not TOKEN_PATTERN.fullmatch(value):
        raise TokenError(
            f"{source} does not hold a DevSync machine token (dsm_ and 64 hex digits); "
            "make one with `devsync token create`."
        )
    return MachineToken(value, source)


def _refuse_if_not_a_token_file(where: str, info: os.stat_result) -> None:
    """A regular file of this user's that no one else may read, else TokenError."""
    if stat.S_ISLNK(info.st_mode):
        raise TokenError(f"The token file {where} is a symbolic link; name the file itself.")
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "a special file"
        raise TokenError(f"{where} is {what}, not a token file.")
    if os.name == "posix":
        if info.st_uid != os.geteuid():
            raise TokenError(
                f"The token file {where} belongs to another user; it must be yours alone."
            )
        if info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise TokenError(
                f"The token file {where} is open to other users (mode {mode:04o}); "
                f"run `chmod 600 {where}` first."
            )


def read_file(path: Path) -> MachineToken:
    """The token kept in ``path``. Like ssh with a private key, a file other users may read
    (or one owned by someone else) is refused: whoever can read it can act as the machine.

    What the path is gets checked before it is opened (a FIFO would block ``open`` until a
    writer came, a device could be endless); it is then opened without following a link and
    without blocking, and checked again on the open file, so a swap in between is refused too.
    """
    where = str(path)
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise TokenError(f"There is no token file {where}.") from None
    except OSError as exc:
        raise TokenError(f"Cannot read the token file {where}: {exc.strerror or exc}.") from None
    _refuse_if_not_a_token_file(where, before)
    flags = os.O_RDONLY
    for name in ("O_NOFOLLOW", "O_NONBLOCK", "O_CLOEXEC", "O_NOCTTY"):
        flags |= getattr(os, name, 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise TokenError(f"There is no token file {where}.") from None
    except IsADirectoryError:
        raise TokenError(f"{where} is a folder, not a token file.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TokenError(
                f"The token file {where} is a symbolic link; name the file itself."
            ) from None
        raise TokenError(f"Cannot read the token file {where}: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        _refuse_if_not_a_token_file(where, info)
        if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            raise TokenError(f"The token file {where} changed while it was read; try again.")
        data = handle.read(_MAX_FILE + 1)
    if len(data) > _MAX_FILE:
        raise TokenError(f"{where} is too large to be a token file.")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise TokenError(f"{where} does not hold a DevSync machine token.") from None
    return parse(text, f"the token file {where}")


def from_environment(environ: Mapping[str, str], token_file: str | None) -> MachineToken | None:
    """The token this invocation acts with: ``--token-file`` if given, else ``DEVSYNC_TOKEN``
    if set, else None (act as the signed-in user).

    ``DEVSYNC_TOKEN`` set but empty (or blank) is refused: it is what a CI job whose secret
    did not reach it looks like (a fork's pull request, a misspelt secret name), and taken as
    unset it would act with the rights of whoever is signed in on the machine instead of the
    machine's. Beside ``--token-file`` an empty one is ignored: the file says which token."""
    value = environ.get(ENV_VAR)
    if token_file is not None:
        if value and value.strip():
            raise TokenError(f"Use either --token-file or {ENV_VAR}, not both.")
        return read_file(Path(token_file))
    if value is None:
        return None
    if not value.strip():
        raise TokenError(
            f"{ENV_VAR} is set but empty, so there is no machine token to act with; give it "
            f"the token, or unset {ENV_VAR} to act as yourself."
        )
    return parse(value, ENV_VAR)


_DURATION = re.compile(r"(\d{1,6})\s*([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
#: The longest lifetime ``--expires`` takes (``never`` aside).
MAX_LIFETIME = timedelta(days=3660)


def parse_lifetime(text: str) -> timedelta | None:
    """``--expires``: ``12h``, ``30d``, ``8w`` (a lifetime), or ``never`` (None)."""
    value = text.strip().lower()
    if value == "never":
        return None
    match = _DURATION.fullmatch(value)
    if match is None:
        raise TokenError(
            f"--expires takes a lifetime like 12h, 30d or 8w, or never (got {text!r})."
        )
    lifetime = int(match.group(1)) * _UNITS[match.group(2)]
    if lifetime <= timedelta(0):
        raise TokenError("--expires must be at least 1h.")
    if lifetime > MAX_LIFETIME:
        raise TokenError("--expires may be at most about ten years (3660d); or use never.")
    return lifetime


def _when(at: str | None) -> str:
    if not at:
        return ""
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return f" (on {moment.strftime('%Y-%m-%d %H:%M %Z').strip()})"


def refusal_sentence(detail: str | None) -> str:
    """The one sentence for a refused token (SQLSTATE PT401), from its ``detail`` JSON
    ``{"reason": …, "at": …}``; both transports say exactly this."""
    try:
        parsed = json.loads(detail or "{}")
    except ValueError:
        parsed = {}
    info = parsed if isinstance(parsed, dict) else {}
    reason = info.get("reason")
    at = _when(info.get("at") if isinstance(info.get("at"), str) else None)
    if reason == "expired":
        return f"This machine token has expired{at}; {_REMEDY}."
    if reason == "revoked":
        return f"This machine token was revoked{at}; {_REMEDY}."
    if reason == "creator":
        return (
            "This machine token is no longer valid: the person who created it no longer has "
            f"access to its environment; {_REMEDY}."
        )
    if reason == "missing":
        return "No machine token reached the database; set DEVSYNC_TOKEN or pass --token-file."
    return f"This machine token is not valid (unknown, or its environment was deleted); {_REMEDY}."
