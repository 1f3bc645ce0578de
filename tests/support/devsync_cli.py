"""Running the ``devsync`` CLI in tests: in-process via ``cli.main`` or as a subprocess, against
a test database, with settings/state/keys in a temp dir (never the user's own)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from devsync_tui import cli
from devsync_tui.core import crypto

#: The registry base URLs of core.registry, one per package manager.
REGISTRY_ENV_VARS = (
    "DEVSYNC_NPM_REGISTRY",
    "DEVSYNC_PYPI_URL",
    "DEVSYNC_RUBYGEMS_URL",
    "DEVSYNC_CRATES_URL",
)


def use_private_home(db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point DevSync at ``db_url`` with settings, state, data and keys under ``home`` (never
    the user's own), and nothing online; the variables set."""
    env = {
        "DEVSYNC_DATABASE_URL": db_url,
        "DEVSYNC_CONFIG": str(home / "config" / "config.toml"),
        "DEVSYNC_STATE_DIR": str(home / "state"),
        "DEVSYNC_DATA_DIR": str(home / "data"),
        "DEVSYNC_CACHE_DIR": str(home / "cache"),
        "DEVSYNC_KEYRING": "off",
        # No network in tests: OSV answers "unreachable" at once (nothing listens on 9).
        "DEVSYNC_OSV_URL": "http://127.0.0.1:9/v1/querybatch",
        # Nor the package registries (core.registry); freshness tests point these at
        # tests/support/fake_registry.py.
        **dict.fromkeys(REGISTRY_ENV_VARS, "http://127.0.0.1:9"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("DEVSYNC_PROFILE", "SUPABASE_URL", "SUPABASE_ANON_KEY", "DEVSYNC_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    crypto._reset_for_tests()
    return env


@dataclass
class Result:
    code: int
    out: str
    err: str


class DevsyncCLI:
    """``devsync`` bound to one database and one private home."""

    def __init__(
        self,
        db_url: str,
        home: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.db_url = db_url
        self.home = home
        self._capsys = capsys
        self._monkeypatch = monkeypatch
        self.env = use_private_home(db_url, home, monkeypatch)

    def __call__(self, *argv: str, stdin: str | bytes | None = None) -> Result:
        """Run ``devsync ARGV`` in-process; stdin is a pipe holding ``stdin`` (or empty)."""
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        self._monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        self._capsys.readouterr()
        code = cli.main(list(argv))
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    def popen(self, *argv: str, **kwargs: object) -> subprocess.Popen[bytes]:
        """``python -m devsync_tui ARGV`` as a child process (for signals and exit codes)."""
        return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
            [sys.executable, "-m", "devsync_tui", *argv],
            env=self.subprocess_env(),
            cwd=self.home,
            **kwargs,
        )


def make_devsync(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    """The CLI on ``db_url``, run from a temp dir that is not a checkout. Test modules wrap it
    in a fixture (``fresh_db_url`` for tests that write)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)
    return DevsyncCLI(db_url, home, capsys, monkeypatch)
