"""``devsync env status`` and ``devsync env pull`` against a linked checkout, with every
state: in sync, differs, missing, only on the machine, behind, unknown; on real Postgres."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")
DB_PASSWORD = "demo-local-password-not-real"


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    checkout = cli.home / "shop"
    (checkout / ".git").mkdir(parents=True)
    monkeypatch.chdir(checkout)
    assert cli("env", "link", *BOB, *BOB_LAPTOP, "--file", "config/dev.env").code == 0
    return cli


def checkout(devsync: DevsyncCLI) -> Path:
    return devsync.home / "shop"


def states(devsync: DevsyncCLI) -> dict[str, tuple[str, int | None, int | None]]:
    with psycopg.connect(devsync.db_url) as su:
        rows = su.execute(
            "select key, state, synced_version, behind_version from machine_config_states"
            " where environment_id = %s",
            (demo.ENV_BOB_LAPTOP,),
        ).fetchall()
    return {str(k): (str(s), a, b) for k, s, a, b in rows}


def synced(devsync: DevsyncCLI) -> dict[str, str]:
    """bob-laptop's variables as bob gets them (secrets revealed)."""
    out = devsync("env", "export", "--format", "json", *BOB, *BOB_LAPTOP).out
    return {str(k): str(v) for k, v in json.loads(out).items()}


def dotenv_line(key: str, value: str) -> str:
    return f"{key}={json.dumps(value)}\n"


def write_checkout(devsync: DevsyncCLI, root: Path) -> None:
    """Every state: NODE_ENV differs, STRIPE_SECRET_KEY missing, LOCAL_ONLY only here, the
    secret DATABASE_URL in sync (from .env.local), API_BASE_URL differs (in the linked file),
    LOG_LEVEL the value of its version 1."""
    values = synced(devsync)
    values["NODE_ENV"] = "staging-ish"
    del values["STRIPE_SECRET_KEY"]
    database_url = values.pop("DATABASE_URL")
    values.pop("API_BASE_URL")
    shared = "".join(dotenv_line(k, v) for k, v in values.items())
    (root / ".env").write_text("# shared\n" + shared + "LOCAL_ONLY=1\n")
    (root / ".env.local").write_text(dotenv_line("DATABASE_URL", database_url))
    (root / "config").mkdir()
    (root / "config" / "dev.env").write_text("API_BASE_URL=http://wrong\n")


def test_status_reports_every_state_and_stores_them(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    write_checkout(devsync, root)
    # bob moves his LOG_LEVEL on: the checkout's "debug" is now version 1
    assert devsync("env", "set", "LOG_LEVEL=trace", *BOB, *BOB_LAPTOP).code == 0
    result = devsync("env", "status", *BOB)
    assert result.code == 1, result.err
    assert DB_PASSWORD not in result.out + result.err
    assert "storefront/bob-laptop" in result.out
    assert "< LOG_LEVEL  behind: has v1, synced v2" in result.out
    assert "≠ NODE_ENV  differs (.env)" in result.out
    assert "≠ API_BASE_URL  differs (config/dev.env)" in result.out
    assert "+ LOCAL_ONLY  only on the machine (.env)" in result.out
    assert "- STRIPE_SECRET_KEY [secret]  missing on the machine" in result.out
    assert "- .npmrc [file]  missing on the machine" in result.out
    assert "devsync env pull" in result.out
    data = json.loads(devsync("env", "status", "--json", *BOB).out)
    keys = {k["key"]: k for k in data["keys"]}
    assert keys["DATABASE_URL"]["state"] == "in_sync"
    assert keys["BOB_DEBUG_PORT"]["state"] == "in_sync"
    assert keys["LOG_LEVEL"]["behind_version"] == 1
    assert data["files"] == [".env", ".env.local", "config/dev.env"]
    assert data["drift"] is True
    assert data["stored"] is True
    stored = states(devsync)
    assert stored["LOG_LEVEL"] == ("behind", 2, 1)
    assert stored["LOCAL_ONLY"] == ("only_local", None, None)
    assert stored["DATABASE_URL"][0] == "in_sync"


def test_a_secret_that_differs_is_differs_and_unknown_where_not_revealable(
    devsync: DevsyncCLI,
) -> None:
    root = checkout(devsync)
    (root / ".env").write_text("DATABASE_URL=postgres://old\n")
    result = devsync("env", "status", "--json", *BOB)
    keys = {k["key"]: k["state"] for k in json.loads(result.out)["keys"]}
    assert keys["DATABASE_URL"] == "differs"
    assert "postgres://old" not in result.out
    # dave (a member, not the owner) may not reveal bob's secret: unknown, and not stored
    dave = devsync("env", "status", "--user", "dave", *BOB_LAPTOP)
    assert "? DATABASE_URL [secret]  unknown" in dave.out
    assert "not stored" in dave.err


def test_pull_shows_the_diff_asks_and_writes(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    write_checkout(devsync, root)
    os.chmod(root / ".env", 0o640)
    refused = devsync("env", "pull", *BOB)
    # No terminal: the changes are shown, not made (exit 1, as env import: README).
    assert refused.code == 1
    assert refused.err == (
        "devsync: Nothing was written: there is no terminal to confirm on; run again with "
        "--yes to write these 5 change(s).\n"
    )
    assert "~ NODE_ENV (.env): 'staging-ish' -> 'production'" in refused.out
    assert "+ STRIPE_SECRET_KEY (.env): (secret value)" in refused.out
    assert "= LOCAL_ONLY: only on this machine; left alone" in refused.out
    assert "demo-stripe" not in refused.out + refused.err
    assert 'NODE_ENV="staging-ish"' in (root / ".env").read_text()  # nothing written
    done = devsync("env", "pull", "--yes", *BOB)
    assert done.code == 0, done.err
    # The mode is kept (0640): the secret now in it is readable by the group, and said so.
    assert done.err == (
        "devsync: warning: .env now holds a secret and other users of this machine may read it "
        "(mode 0640); `chmod 600 .env` keeps it yours.\n"
    )
    text = (root / ".env").read_text()
    assert text.startswith("# shared\n")
    assert "NODE_ENV=production\n" in text
    assert "LOCAL_ONLY=1\n" in text
    assert (root / ".npmrc").exists()
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o640
    linked = (root / "config" / "dev.env").read_text()
    assert linked.startswith("API_BASE_URL=")
    assert "wrong" not in linked
    after = json.loads(devsync("env", "status", "--json", *BOB).out)
    assert {k["key"]: k["state"] for k in after["keys"]}["STRIPE_SECRET_KEY"] == "in_sync"
    assert devsync("env", "status", *BOB).code == 1  # LOCAL_ONLY stays
    assert states(devsync)["NODE_ENV"][0] == "in_sync"


def test_pull_json_is_the_plan_and_what_was_written(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    write_checkout(devsync, root)
    before = (root / ".env").read_text()
    dry = devsync("env", "pull", "--json", "--dry-run", *BOB)
    assert dry.code == 0, dry.err
    plan = json.loads(dry.out)
    changes = {c["key"]: c for c in plan["changes"]}
    assert changes["NODE_ENV"] == {
        "key": "NODE_ENV",
        "kind": "change",
        "path": ".env",
        "type": "env_var",
        "is_secret": False,
        "old": "staging-ish",
        "new": "production",
    }
    assert changes["STRIPE_SECRET_KEY"]["is_secret"]
    assert changes["STRIPE_SECRET_KEY"]["new"] is None
    assert (plan["left_alone"], plan["written"], plan["dry_run"]) == (["LOCAL_ONLY"], [], True)
    assert "demo-stripe" not in dry.out + dry.err
    # --json never asks: without --yes it writes nothing, and says so on stderr.
    refused = devsync("env", "pull", "--json", *BOB)
    assert refused.code == 1
    assert json.loads(refused.out)["written"] == []
    assert "--yes" in refused.err
    assert (root / ".env").read_text() == before
    done = devsync("env", "pull", "--json", "--yes", *BOB)
    assert done.code == 0, done.err
    assert ".env" in json.loads(done.out)["written"]
    assert "NODE_ENV=production\n" in (root / ".env").read_text()
    again = json.loads(devsync("env", "pull", "--json", "--yes", *BOB).out)
    assert (again["changes"], again["written"]) == ([], [])


def test_pull_creates_a_private_env_file(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    assert devsync("env", "pull", "--yes", *BOB).code == 0
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / ".npmrc").stat().st_mode) == 0o600
    result = devsync("env", "status", *BOB)
    assert (result.code, result.err) == (0, "")
    assert "In sync: 9 keys." in result.out
    assert devsync("env", "pull", "--yes", *BOB).out.endswith("it can get.\n")


def test_bad_input_is_one_sentence(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    (root / ".env").write_text("GOOD=1\nthis is not a binding\n")
    result = devsync("env", "status", *BOB)
    assert result.code == 2
    assert ".env, line 2" in result.err
    assert "Traceback" not in result.err
    missing = devsync("env", "status", "nowhere", *BOB)
    assert missing.code == 2
    unlinked = devsync.home / "other"
    unlinked.mkdir()
    assert "not linked" in devsync("env", "status", str(unlinked), *BOB).err


def test_the_agent_reports_states_each_cycle(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    write_checkout(devsync, root)
    result = devsync("agent", "--once", "--json", "--no-scan", *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["config_states"] == len(states(devsync))
    assert states(devsync)["NODE_ENV"][0] == "differs"
    assert states(devsync)["DATABASE_URL"][0] == "in_sync"
    # the checkout catches up: the next cycle says so
    (root / ".env").write_text((root / ".env").read_text().replace("staging-ish", "production"))
    assert devsync("agent", "--once", "--no-scan", *BOB, *BOB_LAPTOP).code == 0
    assert states(devsync)["NODE_ENV"][0] == "in_sync"


def test_a_machine_token_reports_its_checkout(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = checkout(devsync)
    write_checkout(devsync, root)
    made = json.loads(devsync("token", "create", *BOB, *BOB_LAPTOP, "--json").out)
    monkeypatch.setenv("DEVSYNC_TOKEN", made["token"])
    status = devsync("env", "status", "--json")
    assert status.code == 1, status.err
    keys = {k["key"]: k["state"] for k in json.loads(status.out)["keys"]}
    assert keys["DATABASE_URL"] == "in_sync"  # the machine reveals its own secrets
    assert keys["API_BASE_URL"] == "differs"  # the link's file counts for the machine too
    assert json.loads(status.out)["stored"] is True
    assert devsync("agent", "--once", "--no-scan").code == 0
    assert states(devsync)["STRIPE_SECRET_KEY"][0] == "missing"


def test_the_agent_leaves_a_checkout_without_dotenv_alone(devsync: DevsyncCLI) -> None:
    result = devsync("agent", "--once", "--json", "--no-scan", *BOB, *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert json.loads(result.out)["config_states"] is None
    assert states(devsync) == {}
    (checkout(devsync) / ".env").write_text("GOOD=1\nnot a binding\n")
    broken = devsync("agent", "--once", "--no-scan", *BOB, *BOB_LAPTOP)
    assert broken.code == 1  # --once: a part of the cycle was not reported
    assert "configuration states not reported: .env, line 2" in broken.err
    assert broken.out.endswith("; not reported: configuration states.\n")


def test_status_names_required_keys_the_environment_lacks(devsync: DevsyncCLI) -> None:
    # bob-laptop was made from Node.js Starter: let it require a key set nowhere.
    config = {"NODE_ENV": "development", "RELEASE_CHANNEL": {"required": True}}
    with psycopg.connect(devsync.db_url, autocommit=True) as su:
        su.execute(
            "update env_templates set config_json = %s where id = %s",
            (json.dumps(config), demo.TEMPLATE_NODE_STARTER),
        )
    root = checkout(devsync)
    values = synced(devsync)
    (root / ".env").write_text("".join(dotenv_line(k, v) for k, v in values.items()))
    result = devsync("env", "status", *BOB)
    assert result.code == 1, result.err
    assert "! RELEASE_CHANNEL  required by template Node.js Starter, set nowhere" in result.out
    assert "1 required key(s) missing" in result.out
    data = json.loads(devsync("env", "status", "--json", *BOB).out)
    assert data["missing_required"] == ["RELEASE_CHANNEL"]
    assert devsync("env", "set", "RELEASE_CHANNEL=beta", *BOB, *BOB_LAPTOP).code == 0
    data = json.loads(devsync("env", "status", "--json", *BOB).out)
    assert data["missing_required"] == []


def _store_file(devsync: DevsyncCLI, env: str | None, key: str, value: str) -> None:
    """A file configuration written as the seed writes (no user: an admin's right)."""
    with psycopg.connect(devsync.db_url, autocommit=True) as su:
        su.execute(
            "select private.write_configuration(%s, %s, %s, %s, false, 'file', null)",
            (demo.PROJECT_STOREFRONT, env, key, value),
        )


def test_pull_never_writes_into_git_nor_replaces_a_dotenv_file(devsync: DevsyncCLI) -> None:
    # .git/config with core.fsmonitor runs on the next `git status`; a file configuration at
    # .env would replace the dotenv file whose keys pull writes one by one.
    _store_file(devsync, None, ".git/config", '[core]\n\tfsmonitor = "touch /tmp/pwned"\n')
    _store_file(devsync, demo.ENV_BOB_LAPTOP, ".env", "FOO=from-the-file\n")
    root = checkout(devsync)
    result = devsync("env", "pull", "--yes", *BOB)
    assert result.code == 1, result.err
    assert "! .git/config (file): inside .git/, whose hooks and configuration run programs" in (
        result.out
    )
    assert "! .env (file): a dotenv file this checkout reads" in result.out
    assert not (root / ".git" / "config").exists()
    text = (root / ".env").read_text()
    assert "NODE_ENV=" in text
    assert "from-the-file" not in text
    assert (root / ".npmrc").exists()  # the rest was written
    again = devsync("env", "pull", "--json", "--yes", *BOB)
    assert again.code == 1  # still not every value: the same answer every time
    refused = {r["key"]: r["reason"] for r in json.loads(again.out)["refused"]}
    assert set(refused) == {".git/config", ".env"}
    assert devsync("env", "pull", "--dry-run", *BOB).code == 1


def test_pull_checks_every_destination_before_writing(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    (root / ".npmrc").mkdir()
    result = devsync("env", "pull", "--yes", *BOB)
    assert result.code == 2
    assert result.err.strip() == (
        "devsync: .npmrc cannot be written: it is a folder; nothing was written."
    )
    assert not (root / ".env").exists()
    (root / ".npmrc").rmdir()
    (root / "config").write_text("a file where a folder goes\n")
    result = devsync("env", "pull", "--yes", *BOB)
    assert result.code == 2
    assert "config/app.json cannot be written: config is a file, not a folder" in result.err
    assert not (root / ".env").exists()
    assert "Traceback" not in result.err


def test_a_dry_run_refuses_exactly_what_the_real_run_refuses(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same checks (config_pull.prepare_pull), the same sentence, the same exit code.
    root = checkout(devsync)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    outside = devsync.home / "abs.env"
    for name in ("../../outside.env", str(outside)):
        real = devsync("env", "pull", "--file", name, "--yes", *BOB)
        dry = devsync("env", "pull", "--file", name, "--dry-run", *BOB)
        refusal = f"devsync: {name} is outside the checkout {root}; nothing was written.\n"
        assert (real.code, real.err) == (dry.code, dry.err) == (2, refusal)
        assert "Dry run" not in dry.out
        # Nor is it asked about first: the question comes after the checks.
        assert devsync("env", "pull", "--file", name, *BOB).err == real.err
    assert not outside.exists()
    assert not (devsync.home.parent / "outside.env").exists()
    monkeypatch.chdir(root)
    (root / ".npmrc").mkdir()
    dry = devsync("env", "pull", "--dry-run", *BOB)
    assert (dry.code, dry.err) == (
        2,
        "devsync: .npmrc cannot be written: it is a folder; nothing was written.\n",
    )
    assert not (root / ".env").exists()


def test_status_says_what_brings_each_key_in_step(devsync: DevsyncCLI) -> None:
    root = checkout(devsync)
    write_checkout(devsync, root)
    local_only = (
        "LOCAL_ONLY is only on this machine, and pull leaves it alone: store it in "
        "storefront/bob-laptop's configuration with devsync env set LOCAL_ONLY --project "
        "storefront --env bob-laptop (it asks for the value; or devsync env import a file of "
        "it), or remove it from .env."
    )
    before = devsync("env", "status", *BOB)
    assert before.code == 1
    assert "Bring the others in step: devsync env pull .\n" in before.out
    assert local_only in before.out
    assert devsync("env", "pull", "--yes", *BOB).code == 0
    # Only the key pull leaves alone is out of step: pull is not offered, since it cannot help.
    after = devsync("env", "status", *BOB)
    assert after.code == 1  # still drift, as the dashboard shows it (+)
    assert "env pull" not in after.out
    assert after.out.endswith(local_only + "\n")
    (root / ".env").write_text((root / ".env").read_text().replace("LOCAL_ONLY=1\n", ""))
    (root / ".env").write_text((root / ".env").read_text() + "ONE=1\nTWO=2\n")
    both = devsync("env", "status", *BOB)
    assert (
        "ONE, TWO are only on this machine, and pull leaves them alone: store each in "
        "storefront/bob-laptop's configuration with devsync env set KEY --project storefront "
        "--env bob-laptop (it asks for the value; or devsync env import a file of them), or "
        "remove them from .env."
    ) in both.out


def test_pull_exits_1_while_a_secret_is_withheld(devsync: DevsyncCLI) -> None:
    # carol (a viewer) may not reveal bob-laptop's secrets: they are never written, and the
    # exit code says the checkout is not in step, however often she pulls.
    carol = ("--user", "carol")
    assert devsync("env", "link", *carol, *BOB_LAPTOP).code == 0
    first = devsync("env", "pull", "--yes", *carol)
    assert first.code == 1, first.err
    assert "? STRIPE_SECRET_KEY: a secret you may not reveal; not written" in first.out
    assert devsync("env", "pull", "--yes", *carol).code == 1
    assert devsync("env", "pull", "--dry-run", *carol).code == 1
    data = devsync("env", "pull", "--json", "--yes", *carol)
    assert data.code == 1
    assert "STRIPE_SECRET_KEY" in json.loads(data.out)["withheld"]


def test_pull_follows_no_link_to_where_the_file_may_not_go(devsync: DevsyncCLI) -> None:
    # Links committed to the repository: cfg -> .git, npmrc-link -> .npmrc. A member may
    # store cfg/hooks/pre-commit and npmrc-link (ordinary paths); written through the links
    # they would be a git hook and an .npmrc, which only an admin's copy may be.
    root = checkout(devsync)
    (root / "cfg").symlink_to(".git")
    (root / "npmrc-link").symlink_to(".npmrc")
    _store_file(devsync, None, "cfg/hooks/pre-commit", "#!/bin/sh\ntouch /tmp/pwned\n")
    _store_file(devsync, None, "npmrc-link", "node-options=--require=/tmp/evil.js\n")
    result = devsync("env", "pull", "--yes", *BOB)
    assert result.code == 1, result.err
    assert (
        "! cfg/hooks/pre-commit (file): a link in the checkout leads it to"
        " .git/hooks/pre-commit, where it may not go; never written"
    ) in result.out
    assert "! npmrc-link (file): a link in the checkout leads it to .npmrc" in result.out
    assert not (root / ".git" / "hooks").exists()
    assert "evil" not in (root / ".npmrc").read_text()  # the seed's, an admin's, is written


def test_pull_writes_no_values_through_a_dotenv_link_into_git(devsync: DevsyncCLI) -> None:
    # .env -> .git/config (a link committed to the repository): a member's variable
    # fsmonitor='touch …' written there would run on the admin's next `git status`.
    root = checkout(devsync)
    (root / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (root / ".env").symlink_to(".git/config")
    result = devsync("env", "pull", "--yes", *BOB)
    assert result.code == 2
    assert result.err.strip() == (
        "devsync: .env (a link to .git/config) is in a version-control folder;"
        " it is not read as one."
    )
    assert (root / ".git" / "config").read_text() == "[core]\n\tbare = false\n"
    (root / ".env").unlink()
    named = devsync("env", "pull", "--yes", "--file", ".git/config", *BOB)
    assert named.code == 2
    assert ".git/config is in a version-control folder: no values are written there" in (named.err)
    assert (root / ".git" / "config").read_text() == "[core]\n\tbare = false\n"
    (root / ".env.local").symlink_to(".npmrc")
    npmrc = devsync("env", "status", *BOB)
    assert npmrc.code == 2
    assert ".env.local (a link to .npmrc) is not a dotenv file" in npmrc.err
