"""``devsync token`` and acting as a machine: create/list/revoke, ``DEVSYNC_TOKEN`` and
``--token-file`` with ``run``, ``env export``, ``scan`` and ``agent``, and every other command
refusing a token (local transport, real Postgres; the Supabase transport runs the same SQL in
tests/backend/test_contract_tokens.py)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")
PY = sys.executable
DUMP_ENV = "import json, os, sys; open(sys.argv[1], 'w').write(json.dumps(dict(os.environ)))"


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def create(devsync: DevsyncCLI, *args: str) -> dict[str, str]:
    result = devsync("token", "create", *BOB, *BOB_LAPTOP, "--json", *args)
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert set(payload) == {"id", "token"}
    return payload


def as_machine(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("DEVSYNC_TOKEN", token)


def test_create_prints_the_token_once_and_list_never_does(devsync: DevsyncCLI) -> None:
    plain = devsync("token", "create", *BOB, *BOB_LAPTOP, "--name", "ci box", "--expires", "30d")
    assert plain.code == 0, plain.err
    token = plain.out.strip()
    assert re.fullmatch(r"dsm_[0-9a-f]{64}", token)  # stdout: the token alone
    assert "only this once" in plain.err
    assert "ci box" in plain.err
    listed = devsync("token", "list", *BOB, "--json")
    assert listed.code == 0, listed.err
    assert token[4:] not in listed.out
    rows = json.loads(listed.out)
    assert [r["name"] for r in rows] == ["ci box"]
    assert rows[0]["environment"] == "bob-laptop"
    assert rows[0]["state"] == "active"
    text = devsync("token", "list", *BOB, "--project", "storefront")
    assert text.code == 0
    assert "ci box" in text.out
    assert token[4:] not in text.out


def test_who_may_create(devsync: DevsyncCLI) -> None:
    viewer = devsync("token", "create", "--user", "carol", *BOB_LAPTOP)
    assert viewer.code == 3
    member = devsync("token", "create", "--user", "dave", *BOB_LAPTOP)
    assert member.code == 3
    admin = devsync("token", "create", "--user", "erin", *BOB_LAPTOP, "--json")
    assert admin.code == 0
    bad = devsync("token", "create", *BOB, *BOB_LAPTOP, "--expires", "soon")
    assert bad.code == 2
    assert "--expires" in bad.err


def test_a_machine_runs_with_exactly_its_environment(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create(devsync)["token"]
    as_machine(monkeypatch, token)
    out = devsync.home / "env.json"
    result = devsync("run", "--", PY, "-c", DUMP_ENV, str(out))
    assert result.code == 0, result.err
    env = json.loads(out.read_text())
    assert env["BOB_DEBUG_PORT"] == "9229"
    assert env["DATABASE_URL"].startswith("postgres://bob:")  # revealed for its machine
    assert env["STRIPE_SECRET_KEY"]  # the default it inherits
    assert "withheld" not in result.err
    # the same environment named again is fine; another one is bad input
    assert devsync("run", "--env", "bob-laptop", "--", "true").code == 0
    other = devsync("run", "--env", "staging", "--", "true")
    assert other.code == 2
    assert "bob-laptop" in other.err
    assert devsync("run", "--user", "alice", "--", "true").code == 2


def test_export_scan_and_agent_as_a_machine(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create(devsync)["token"]
    as_machine(monkeypatch, token)
    exported = devsync("env", "export")
    assert exported.code == 0, exported.err
    assert "BOB_DEBUG_PORT=9229" in exported.out
    assert "postgres://bob:" in exported.out
    project = devsync.home / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.31.0\n")
    scanned = devsync("scan", str(project), "--no-osv", "--no-registry")
    assert scanned.code in (0, 1), scanned.err
    agent = devsync("agent", "--once", "--no-osv", "--no-registry")
    assert agent.code == 0, agent.err
    with psycopg.connect(devsync.db_url) as conn:
        names = conn.execute(
            "select package_name from dependencies where environment_id = %s",
            (demo.ENV_BOB_LAPTOP,),
        ).fetchall()
        assert ("requests",) in names
        status = conn.execute(
            "select last_sync_at is not null from environments where id = %s",
            (demo.ENV_BOB_LAPTOP,),
        ).fetchone()
        assert status == (True,)
        points = conn.execute(
            "select count(*) from health_checks where environment_id = %s"
            " and recorded_at > now() - interval '1 minute'",
            (demo.ENV_BOB_LAPTOP,),
        ).fetchone()
        assert points is not None
        assert points[0] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ("env", "list"),
        ("env", "set", "X=1"),
        ("env", "get", "DATABASE_URL"),
        ("drift",),
        ("token", "list"),
        ("whoami",),
        ("local", "status"),
        (),  # the dashboard
        ("--user", "bob"),  # the dashboard, as a demo user
    ],
)
def test_every_other_command_refuses_a_token(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    token = create(devsync)["token"]
    as_machine(monkeypatch, token)
    result = devsync(*argv)
    assert result.code == 2
    assert "DEVSYNC_TOKEN" in result.err
    assert token[4:] not in result.err + result.out


def test_expired_and_revoked_tokens_are_refused_at_once(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = create(devsync)
    as_machine(monkeypatch, made["token"])
    assert devsync("run", "--", "true").code == 0
    monkeypatch.delenv("DEVSYNC_TOKEN")
    assert devsync("token", "revoke", made["id"], *BOB).code == 0
    as_machine(monkeypatch, made["token"])
    revoked = devsync("run", "--", "true")
    assert revoked.code == 3
    assert "This machine token was revoked (on " in revoked.err
    monkeypatch.delenv("DEVSYNC_TOKEN")
    second = create(devsync)
    with psycopg.connect(devsync.db_url, autocommit=True) as conn:
        conn.execute(
            "update machine_tokens set expires_at = now() - interval '1 second' where id = %s",
            (second["id"],),
        )
    as_machine(monkeypatch, second["token"])
    expired = devsync("env", "export")
    assert expired.code == 3
    assert "This machine token has expired (on " in expired.err
    assert second["token"][4:] not in expired.err


def test_token_file_must_be_private(devsync: DevsyncCLI) -> None:
    token = create(devsync)["token"]
    path = devsync.home / "token"
    path.write_text(token + "\n")
    path.chmod(0o644)
    loose = devsync("run", "--token-file", str(path), "--", "true")
    assert loose.code == 2
    assert "chmod 600" in loose.err
    path.chmod(0o600)
    assert devsync("run", "--token-file", str(path), "--", "true").code == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_token_file_that_is_a_fifo_is_refused_at_once(devsync: DevsyncCLI) -> None:
    fifo = devsync.home / "fifo"
    os.mkfifo(fifo, 0o600)  # open() on it would wait for a writer: forever
    result = devsync("env", "export", "--token-file", str(fifo))
    assert result.code == 2
    assert result.err.strip() == f"devsync: {fifo} is a special file, not a token file."


def test_scan_dry_run_checks_the_token_and_its_target(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = create(devsync)
    as_machine(monkeypatch, made["token"])
    project = devsync.home / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.31.0\n")
    dry = ("scan", str(project), "--dry-run", "--offline")
    good = devsync(*dry, "--json")
    assert good.code == 0, good.err
    assert json.loads(good.out)["target"] == "storefront/bob-laptop"
    # naming another one is an error, as in the real run
    for other in (("--project", "billing-api"), ("--env", "staging")):
        real = devsync("scan", str(project), "--offline", *other)
        refused = devsync(*dry, *other)
        assert (real.code, refused.code) == (2, 2), (real.err, refused.err)
        assert refused.err == real.err
        assert "This machine token is for storefront/bob-laptop" in refused.err
    assert devsync(*dry, "--baseline").code == 2
    monkeypatch.delenv("DEVSYNC_TOKEN")
    with psycopg.connect(devsync.db_url, autocommit=True) as conn:
        conn.execute(
            "update machine_tokens set expires_at = now() - interval '1 second' where id = %s",
            (made["id"],),
        )
    as_machine(monkeypatch, made["token"])
    expired = devsync(*dry)
    assert expired.code == 3
    assert "This machine token has expired (on " in expired.err
    assert made["token"][4:] not in expired.err + expired.out


def test_revoke_rules(devsync: DevsyncCLI) -> None:
    made = create(devsync)
    assert devsync("token", "revoke", made["id"], "--user", "dave").code == 3
    assert devsync("token", "revoke", "not-an-id", *BOB).code == 2
    assert devsync("token", "revoke", made["id"], "--user", "erin").code == 0
    again = devsync("token", "revoke", made["id"], *BOB)
    assert again.code == 0
    assert "already" in again.err


def test_list_keeps_the_named_environment_and_refuses_an_unknown_one(
    devsync: DevsyncCLI,
) -> None:
    create(devsync)  # bob-laptop's
    ci = devsync("token", "create", "--user", "alice", "--project", "storefront", "--env",
                 "ci-runner", "--json")  # fmt: skip
    assert ci.code == 0, ci.err
    alice = ("--user", "alice")
    every = json.loads(devsync("token", "list", *alice, "--json").out)
    assert sorted(r["environment"] for r in every) == ["bob-laptop", "ci-runner"]
    laptop = devsync("token", "list", *alice, "--env", "bob-laptop", "--json")
    assert [r["environment"] for r in json.loads(laptop.out)] == ["bob-laptop"]
    billing = devsync("token", "list", *alice, "--project", "billing-api")
    assert billing.out == "No machine tokens of billing-api you may see.\n"
    unknown = devsync("token", "list", *alice, "--env", "nonexist")
    assert unknown.code == 2
    assert unknown.err.startswith("devsync: No environment 'nonexist' is visible to you")
    assert unknown.out == ""


def test_revoke_json_and_no_target_flags(devsync: DevsyncCLI) -> None:
    made = create(devsync)
    revoked = devsync("token", "revoke", made["id"], *BOB, "--json")
    assert revoked.code == 0, revoked.err
    row = json.loads(revoked.out)
    assert (row["id"], row["state"], row["already_revoked"]) == (made["id"], "revoked", False)
    assert made["token"][4:] not in revoked.out
    assert revoked.err == ""
    again = json.loads(devsync("token", "revoke", made["id"], *BOB, "--json").out)
    assert again["already_revoked"] is True
    # The id names the token: --project/--env would only seem to narrow it.
    after = devsync("token", "revoke", made["id"], *BOB, "--env", "bob-laptop")
    assert after.code == 2
    assert "unrecognized arguments: --env bob-laptop" in after.err
    before = devsync("--env", "bob-laptop", "token", "revoke", made["id"], *BOB)
    assert (before.code, before.err) == (
        2,
        "devsync: token revoke takes the token's id only; --project and --env do not apply.\n",
    )
