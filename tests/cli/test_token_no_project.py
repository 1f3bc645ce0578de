"""A machine token with no project configured (QA report, item 8): a CI runner given only
``DEVSYNC_TOKEN`` used to start, and create, the embedded PostgreSQL, then call the valid
token "not valid". It now stops at once with exit 2 and says which settings are missing; a
local profile the user chose (``--profile local``, ``DEVSYNC_DATABASE_URL``, a local default
profile) is used as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres import server
from tests.support.devsync_cli import DevsyncCLI, make_devsync

#: Well formed; never checked: nothing may be asked before the refusal.
TOKEN = "dsm_" + "0" * 64
NO_PROJECT = (
    "No Supabase project is set for the machine token in {source}: set SUPABASE_URL and "
    "SUPABASE_ANON_KEY, or name a profile with --profile (--profile local for the local "
    "database)."
)
MACHINE_COMMANDS = [
    ("agent", "--once", "--no-osv", "--no-registry"),
    ("run", "--", "true"),
    ("env", "export"),
    ("env", "status"),
    ("scan", "--dry-run"),
]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to start the embedded database (none is made: it fails if called)."""
    calls: list[str] = []

    def refuse(*_args: object, **_kwargs: object) -> str:
        calls.append("ensure_running")
        raise Unavailable("the test refused to start the embedded database")

    monkeypatch.setattr(server, "ensure_running", refuse)
    return calls


@pytest.fixture
def bare(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    started: list[str],
) -> DevsyncCLI:
    """A fresh CI runner: a private home, no settings file, no database URL, no profile."""
    devsync = make_devsync("postgresql://unused", tmp_path, capsys, monkeypatch)
    monkeypatch.delenv("DEVSYNC_DATABASE_URL")
    return devsync


def _no_database(devsync: DevsyncCLI) -> None:
    data = Path(devsync.env["DEVSYNC_DATA_DIR"])
    assert not (data / "pgdata").exists()
    assert not data.exists() or not any(data.iterdir())


@pytest.mark.parametrize("argv", MACHINE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_token_and_no_project_stops_with_the_missing_settings(
    bare: DevsyncCLI, monkeypatch: pytest.MonkeyPatch, started: list[str], argv: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DEVSYNC_TOKEN", TOKEN)
    (bare.home / "requirements.txt").write_text("requests==2.32.0\n")  # something to scan
    result = bare(*argv)
    assert result.code == 2, result.err
    assert result.err.strip() == f"devsync: {NO_PROJECT.format(source='DEVSYNC_TOKEN')}"
    assert result.out == ""
    assert started == []
    _no_database(bare)


def test_a_token_file_and_no_project_says_the_same(
    bare: DevsyncCLI, started: list[str], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    result = bare("agent", "--once", "--no-osv", "--token-file", str(token_file))
    assert result.code == 2, result.err
    source = f"the token file {token_file}"
    assert result.err.strip() == f"devsync: {NO_PROJECT.format(source=source)}"
    assert started == []
    _no_database(bare)


def test_a_settings_file_without_a_default_profile_is_no_project_either(
    bare: DevsyncCLI, monkeypatch: pytest.MonkeyPatch, started: list[str]
) -> None:
    """A Supabase profile in the settings that is not the default is not chosen by itself."""
    config = Path(bare.env["DEVSYNC_CONFIG"])
    config.parent.mkdir(parents=True)
    config.write_text(
        '[profiles.team]\nkind = "supabase"\nurl = "http://127.0.0.1:9"\nanon_key = "k"\n'
    )
    monkeypatch.setenv("DEVSYNC_TOKEN", TOKEN)
    result = bare("run", "--", "true")
    assert result.code == 2
    assert "SUPABASE_URL and SUPABASE_ANON_KEY, or name a profile with --profile" in result.err
    # named, it is used: the project is asked (and is unreachable here), never the local one
    result = bare("run", "--profile", "team", "--", "true")
    assert result.code == 4, result.err
    assert "No Supabase project" not in result.err
    assert started == []
    _no_database(bare)


def test_supabase_settings_in_the_environment_go_to_the_project(
    bare: DevsyncCLI, monkeypatch: pytest.MonkeyPatch, started: list[str]
) -> None:
    monkeypatch.setenv("DEVSYNC_TOKEN", TOKEN)
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon")
    result = bare("env", "export")
    assert result.code == 4, result.err  # the project is asked (nothing listens on port 9)
    assert "No Supabase project" not in result.err
    assert started == []
    _no_database(bare)


def test_choosing_the_local_profile_keeps_the_local_database(
    bare: DevsyncCLI, monkeypatch: pytest.MonkeyPatch, started: list[str]
) -> None:
    """``--profile local`` (or DEVSYNC_PROFILE=local) is a choice: the embedded database is
    used as before (its start is refused by the test, which is how we see it was asked)."""
    monkeypatch.setenv("DEVSYNC_TOKEN", TOKEN)
    result = bare("env", "export", "--profile", "local")
    assert result.code == 4, result.err
    assert "the test refused to start the embedded database" in result.err
    monkeypatch.setenv("DEVSYNC_PROFILE", "local")
    result = bare("env", "export")
    assert result.code == 4, result.err
    assert started == ["ensure_running", "ensure_running"]


@pytest.mark.db
def test_a_local_default_profile_in_the_settings_still_checks_the_token_there(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    started: list[str],
) -> None:
    devsync = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    made = devsync(
        "token", "create", "--user", "bob", "--project", "storefront", "--env", "bob-laptop"
    )
    assert made.code == 0, made.err
    token = made.out.strip()
    monkeypatch.delenv("DEVSYNC_DATABASE_URL")
    config = Path(devsync.env["DEVSYNC_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'default_profile = "ci"\n\n[profiles.ci]\nkind = "local"\n'
        f"database_url = {json.dumps(fresh_db_url)}\n"
    )
    monkeypatch.setenv("DEVSYNC_TOKEN", token)
    result = devsync("env", "export", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)
    assert started == []
    monkeypatch.setenv("DEVSYNC_TOKEN", TOKEN)  # unknown there: refused by that database
    result = devsync("env", "export")
    assert result.code == 3, result.err
    assert "not valid" in result.err
