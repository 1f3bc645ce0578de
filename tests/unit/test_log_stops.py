"""What ended a command is logged by kind: an answer to what the user asked (a refusal, a name
that does not exist) as what stopped it, at INFO without a traceback; anything else as an
unhandled error with its traceback."""

from __future__ import annotations

import logging

import pytest

from devsync_tui import logging_setup
from devsync_tui.backend.errors import NotFound, PermissionDenied, TokenRefused, Unavailable
from devsync_tui.commands.common import UsageError
from devsync_tui.machine.errors import InputError


def _logged(exc: Exception, caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """The one record ``log_exception`` writes (the devsync logger does not propagate: the
    capture listens on it directly)."""
    logging_setup.setup_logging()  # first: at_level restores the level it finds
    logger = logging.getLogger("devsync")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="devsync"):
            logging_setup.log_exception(exc)
    finally:
        logger.removeHandler(caplog.handler)
    [record] = [r for r in caplog.records if r.name == "devsync"]
    return record


@pytest.mark.parametrize(
    "exc",
    [
        PermissionDenied("no"),
        TokenRefused("revoked"),
        NotFound("x"),
        InputError("DEVSYNC_TOKEN is not a machine token."),
        UsageError("--limit takes a whole number."),
    ],
)
def test_a_refusal_is_what_stopped_it(exc: Exception, caplog: pytest.LogCaptureFixture) -> None:
    record = _logged(exc, caplog)
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("stopped: ")
    assert record.exc_info is None


@pytest.mark.parametrize("exc", [Unavailable("down"), RuntimeError("bug")])
def test_anything_else_is_an_unhandled_error(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    record = _logged(exc, caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "unhandled error"
    assert record.exc_info is not None
