"""The log file and every rotated copy are private (0600), and registered secrets are scrubbed."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from devsync_tui import logging_setup


def test_rotated_logs_are_private_and_redacted(tmp_path: Path) -> None:
    path = tmp_path / "devsync.log"
    handler = logging_setup._PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2)
    handler.setFormatter(logging_setup._RedactingFormatter("%(message)s"))
    logger = logging.getLogger("devsync.test_rotation")
    logger.addHandler(handler)
    logger.propagate = False
    logging_setup.register_secret("hunter2-secret-value")
    try:
        for i in range(40):
            logger.warning("line %d with hunter2-secret-value inside", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) == 3  # the log and two rotated copies
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        text = file.read_text()
        assert "hunter2-secret-value" not in text
        assert "••••••••" in text


class _FullDisk:
    """A stream whose writes fail as on a full disk."""

    def write(self, _text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        raise OSError(28, "No space left on device")


def test_a_full_disk_never_prints_a_traceback(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    handler = logging_setup._PrivateRotatingFileHandler(tmp_path / "devsync.log")
    logger = logging.getLogger("devsync.test_full_disk")
    logger.addHandler(handler)
    logger.propagate = False
    lost = logging_setup._PrivateRotatingFileHandler.lost
    try:
        handler.stream = _FullDisk()  # type: ignore[assignment]
        logger.warning("this line cannot be written")
        logger.error("nor this one", exc_info=RuntimeError("boom"))
    finally:
        logger.removeHandler(handler)
        handler.close()
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""
    assert logging_setup._PrivateRotatingFileHandler.lost >= lost + 1
