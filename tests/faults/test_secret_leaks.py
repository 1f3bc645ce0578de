"""Secrets never leak: not into logs, error output, the settings file, state files, snapshot
SVGs or a terminal the user may not reveal into. Offline snapshots and drafts are encrypted.

The secret values are read from the database as superuser (configuration_secrets and the
history's secret values); the CLI is then driven through reveal-heavy work as several users
with the log at DEBUG, and every file DevSync wrote is searched for every value.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import psycopg
import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[2]


def _secret_values(db_url: str) -> set[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select value from public.configuration_secrets "
            "union select value from public.configuration_history_secrets"
        ).fetchall()
    return {str(r[0]) for r in rows if r[0] and len(str(r[0])) >= 6}


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _assert_clean(paths: list[Path], secrets: set[str]) -> None:
    for path in paths:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret value is in {path}"


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_cli_work_leaves_no_secret_in_logs_state_or_settings(
    devsync: DevsyncCLI, tmp_path: Path
) -> None:
    from devsync_tui.logging_setup import setup_logging

    setup_logging(logging.DEBUG)
    secrets = _secret_values(devsync.db_url)
    assert secrets, "the demo workspace has secrets"
    outputs: list[str] = []
    # carol (viewer) and dave (member, no environment) may not reveal: nothing may reach them
    for user in ("carol", "dave"):
        for argv in (
            ("env", "list", "--project", "storefront"),
            ("env", "list", "--project", "storefront", "--env", "bob-laptop"),
            ("env", "export", "--project", "storefront", "--env", "staging", "--format", "json"),
            ("env", "get", "STRIPE_SECRET_KEY", "--project", "storefront"),
            ("env", "diff", "bob-laptop", "staging", "--project", "storefront"),
        ):
            result = devsync(*argv, "--user", user)
            outputs.append(result.out + result.err)
            assert "Traceback" not in result.err
    for text in outputs:
        for secret in secrets:
            assert secret not in text, "a secret reached a user who may not reveal it"
    # bob may reveal his environment's secrets: he uses them, and then the files are checked
    result = devsync(
        "run",
        "--project",
        "storefront",
        "--env",
        "bob-laptop",
        "--user",
        "bob",
        "--",
        "sh",
        "-c",
        'test -n "$DATABASE_URL"',
    )
    assert result.code == 0, result.err
    exported = tmp_path / "out.env"
    result = devsync(
        "env",
        "export",
        "--project",
        "storefront",
        "--env",
        "bob-laptop",
        "--user",
        "bob",
        "--output",
        str(exported),
    )
    assert result.code == 0, result.err
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    exported.unlink()  # the one file that is meant to hold values, by request, 0600
    logs = [
        Path(h.baseFilename)
        for h in logging.getLogger("devsync").handlers
        if isinstance(h, logging.FileHandler)
    ]
    assert logs, "DevSync logs to a file"
    _assert_clean(_files_under(devsync.home) + logs, secrets)


def test_snapshots_hold_no_secret_value(demo_db_url: str) -> None:
    secrets = _secret_values(demo_db_url)
    snapshots = [p for p in (REPO / "tests").rglob("__snapshots__/**/*") if p.is_file()]
    _assert_clean(snapshots, secrets)


def test_seed_is_the_only_file_in_the_repository_with_demo_secret_values(
    demo_db_url: str,
) -> None:
    secrets = _secret_values(demo_db_url)
    tracked = [
        p
        for p in (REPO / "devsync_tui").rglob("*")
        if p.is_file() and p.suffix in {".py", ".tcss", ".sql", ".toml", ".md"}
    ]
    _assert_clean(tracked, secrets)
