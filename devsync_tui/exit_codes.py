"""Exit codes scripts can rely on, and the mapping from DevSync errors onto them."""

from __future__ import annotations

from devsync_tui.backend.errors import (
    Conflict,
    DevSyncError,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    Unavailable,
)

EXIT_OK = 0
EXIT_PROBLEMS = 1  # drift or problems found by a command that checks
EXIT_INPUT = 2  # usage or input error
EXIT_DENIED = 3  # not permitted
EXIT_UNAVAILABLE = 4  # backend unreachable / database down
EXIT_CANCELLED = 130  # Ctrl-C at a prompt (as a shell reports SIGINT)

CANCELLED = "Cancelled; nothing was written."


class Cancelled(Exception):
    """The user pressed Ctrl-C (or closed the input) at a prompt: nothing was written yet."""

    def __init__(self) -> None:
        super().__init__(CANCELLED)


class Interrupted(Exception):
    """Ctrl-C part-way through writes; the message says exactly what was written."""


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an error raised by a command (2 when it is not a DevSync error)."""
    if isinstance(exc, Cancelled | Interrupted):
        return EXIT_CANCELLED
    if isinstance(exc, PermissionDenied | NotSignedIn):
        return EXIT_DENIED
    if isinstance(exc, Unavailable):
        return EXIT_UNAVAILABLE
    if isinstance(exc, Conflict):
        return EXIT_PROBLEMS
    if isinstance(exc, InvalidInput | NotFound | DevSyncError):
        return EXIT_INPUT
    return EXIT_INPUT
