"""``devsync run`` refuses to start while a key the environment's template requires is missing
(exit 1, named); ``--allow-missing`` starts anyway (local transport, real Postgres)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    # bob-laptop was made from Node.js Starter: let it require two keys bob-laptop lacks.
    config = {"NODE_ENV": "development", "SENTRY_DSN": {"required": True}}
    config["RELEASE_CHANNEL"] = {"required": True}
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "update env_templates set config_json = %s where id = %s",
            (json.dumps(config), demo.TEMPLATE_NODE_STARTER),
        )
    return cli


def _touch(devsync: DevsyncCLI) -> tuple[Path, tuple[str, ...]]:
    marker = devsync.home / "started"
    marker.unlink(missing_ok=True)
    code = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"
    return marker, (sys.executable, "-c", code)


def test_a_missing_required_key_stops_the_start(devsync: DevsyncCLI) -> None:
    marker, command = _touch(devsync)
    result = devsync("run", *BOB, "--", *command)
    assert result.code == 1
    assert not marker.exists()
    assert result.err.strip() == (
        "devsync: Not started: storefront/bob-laptop lacks RELEASE_CHANNEL, SENTRY_DSN, "
        "required by its template Node.js Starter. Set them (devsync env set RELEASE_CHANNEL=…) "
        "or pass --allow-missing."
    )


def test_allow_missing_starts_with_a_warning(devsync: DevsyncCLI) -> None:
    marker, command = _touch(devsync)
    result = devsync("run", "--allow-missing", *BOB, "--", *command)
    assert result.code == 0
    assert marker.exists()
    assert "lacks RELEASE_CHANNEL, SENTRY_DSN" in result.err
    assert "starting anyway (--allow-missing)" in result.err


def test_a_key_set_anywhere_counts(devsync: DevsyncCLI) -> None:
    marker, command = _touch(devsync)
    # One from the project defaults (alice, an admin), one as bob's own override, empty.
    project = ("--user", "alice", "--project", "storefront", "--project-default")
    assert devsync("env", "set", "RELEASE_CHANNEL=beta", *project).code == 0
    assert devsync("env", "set", "SENTRY_DSN=", *BOB).code == 0
    result = devsync("run", *BOB, "--", *command)
    assert result.code == 0, result.err
    assert marker.exists()


def test_an_environment_without_a_template_has_nothing_required(devsync: DevsyncCLI) -> None:
    marker, command = _touch(devsync)
    staging = ("--user", "erin", "--project", "storefront", "--env", "staging")
    assert devsync("run", *staging, "--", *command).code == 0
    assert marker.exists()


def test_a_machine_token_is_held_to_its_templates_required_keys(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = devsync("token", "create", *BOB, "--json")
    assert made.code == 0, made.err
    monkeypatch.setenv("DEVSYNC_TOKEN", json.loads(made.out)["token"])
    marker, command = _touch(devsync)
    result = devsync("run", "--", *command)
    assert result.code == 1
    assert "Not started: storefront/bob-laptop lacks RELEASE_CHANNEL, SENTRY_DSN" in result.err
    assert not marker.exists()
    assert devsync("run", "--allow-missing", "--", *command).code == 0
    assert marker.exists()
