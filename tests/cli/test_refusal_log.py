"""A refusal ends a command with one sentence and exit 3, and the log says what stopped it at
INFO, in one line: not "unhandled error" with a traceback, as a crash would be logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from devsync_tui.logging_setup import current_log_file
from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_a_permission_refusal_is_logged_as_what_stopped_the_command(devsync: DevsyncCLI) -> None:
    log_file = current_log_file()
    logged_before = log_file.stat().st_size if log_file.exists() else 0
    # bob (a member) may not set an execution-control variable: admins only
    result = devsync(
        "env", "set", "DYLD_INSERT_LIBRARIES=x",
        "--user", "bob", "--project", "storefront", "--env", "bob-laptop",
    )  # fmt: skip
    assert result.code == 3, result.err
    assert "Traceback" not in result.err
    with log_file.open(encoding="utf-8") as handle:  # what this run logged (shared log)
        handle.seek(logged_before)
        log = handle.read()
    assert "INFO devsync: stopped:" in log
    assert "PermissionDenied" in log
    assert "unhandled error" not in log
    assert "Traceback" not in log
