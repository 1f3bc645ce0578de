"""``devsync env export|import|diff`` on the local transport, real Postgres, in-process."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import uuid
from pathlib import Path

import dotenv as python_dotenv
import psycopg
import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")
TRICKY = {
    "T_DOLLAR": "pa$$ ${HOME} $(id)",
    "T_HASH": "a #b",
    "T_QUOTES": "'single' \"double\" \\",
    "T_MULTI": "line1\nline2\n",
    "T_UNICODE": "café 日本 😀",
}


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _set_tricky(devsync: DevsyncCLI) -> str:
    for key, value in TRICKY.items():
        path = devsync.home / "v"
        path.write_text(value, encoding="utf-8")
        assert devsync("env", "set", key, "--file", str(path), *BOB, *BOB_LAPTOP).code == 0
    secret = "sec'ret $" + uuid.uuid4().hex
    assert devsync("env", "set", "T_SECRET", "--secret", *BOB, *BOB_LAPTOP, stdin=secret).code == 0
    return secret


def _effective(devsync: DevsyncCLI, *who: str) -> dict[str, str]:
    rows = json.loads(devsync("env", "list", "--json", *who, *BOB_LAPTOP).out)["configuration"]
    out = {}
    for row in rows:
        if row["type"] != "env_var":
            continue
        got = devsync("env", "get", row["key"], "--json", *who, *BOB_LAPTOP)
        if got.code == 0:
            out[row["key"]] = json.loads(got.out)["value"]
    return out


def test_export_dotenv_reads_back_exactly_with_python_dotenv(devsync: DevsyncCLI) -> None:
    secret = _set_tricky(devsync)
    result = devsync("env", "export", *BOB, *BOB_LAPTOP)
    assert result.code == 0
    read = dict(python_dotenv.dotenv_values(stream=io.StringIO(result.out)))
    assert read == _effective(devsync, *BOB)
    assert read["T_SECRET"] == secret
    assert "docker --env-file" in result.err  # the quoted lines are called out
    assert ".npmrc" not in result.out  # files are not variables
    assert "file configuration" in result.err


def test_export_shell_reads_back_exactly_in_sh(devsync: DevsyncCLI) -> None:
    _set_tricky(devsync)
    out = devsync.home / "env.sh"
    result = devsync("env", "export", "--format", "shell", "--output", str(out), *BOB, *BOB_LAPTOP)
    assert result.code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    expected = _effective(devsync, *BOB)
    keys = sorted(expected)
    script = '. "$1"; shift; for devsync_k_; do eval "printf \'%s\\0\' \\"\\$$devsync_k_\\""; done'
    run = subprocess.run(
        ["sh", "-c", script, "sh", str(out), *keys], capture_output=True, check=True
    )
    values = [v.decode() for v in run.stdout.split(b"\0")[:-1]]
    assert dict(zip(keys, values, strict=True)) == expected


def test_export_json_and_docker(devsync: DevsyncCLI) -> None:
    _set_tricky(devsync)
    data = json.loads(devsync("env", "export", "--format", "json", *BOB, *BOB_LAPTOP).out)
    assert data == _effective(devsync, *BOB)
    refused = devsync("env", "export", "--format", "docker", *BOB, *BOB_LAPTOP)
    assert refused.code == 2
    assert "T_MULTI" in refused.err
    assert refused.out == ""
    assert devsync("env", "unset", "T_MULTI", *BOB, *BOB_LAPTOP).code == 0
    docker = devsync("env", "export", "--format", "docker", *BOB, *BOB_LAPTOP)
    assert docker.code == 0
    assert "T_QUOTES='single' \"double\" \\\n" in docker.out


def test_export_omits_secrets_that_may_not_be_revealed(devsync: DevsyncCLI) -> None:
    secret = _set_tricky(devsync)
    # dave is a member without an environment: he may not reveal bob's secrets.
    result = devsync("env", "export", "--user", "dave", *BOB_LAPTOP)
    assert result.code == 0
    read = python_dotenv.dotenv_values(stream=io.StringIO(result.out))
    assert "T_SECRET" not in read
    assert "DATABASE_URL" not in read
    assert "T_HASH" in read
    assert secret not in result.out + result.err
    assert "••••" not in result.out
    assert "left out secrets you may not reveal: " in result.err
    assert "T_SECRET" in result.err


def test_import_dry_run_shows_the_diff_and_writes_nothing(devsync: DevsyncCLI) -> None:
    env_file = devsync.home / ".env"
    env_file.write_text("LOG_LEVEL=trace\nNEW_ONE='hello world'\nBOB_DEBUG_PORT=9229\n")
    dry = devsync("env", "import", str(env_file), "--dry-run", *BOB, *BOB_LAPTOP)
    assert dry.code == 0
    assert "~ LOG_LEVEL: 'debug' -> 'trace'" in dry.out
    assert "+ NEW_ONE = 'hello world'" in dry.out
    assert "BOB_DEBUG_PORT" not in dry.out  # unchanged
    assert "nothing was written" in dry.out
    assert devsync("env", "get", "NEW_ONE", *BOB, *BOB_LAPTOP).code == 2
    applied = devsync("env", "import", str(env_file), "--yes", *BOB, *BOB_LAPTOP)
    assert applied.code == 0
    assert "Imported 2 change(s)" in applied.out
    assert devsync("env", "get", "NEW_ONE", *BOB, *BOB_LAPTOP).out == "hello world\n"
    again = devsync("env", "import", str(env_file), *BOB, *BOB_LAPTOP)
    assert "already has every value" in again.out


def test_import_secrets_are_never_shown(devsync: DevsyncCLI) -> None:
    secret = "imported-" + uuid.uuid4().hex
    env_file = devsync.home / ".env"
    env_file.write_text(f"NEW_SECRET={secret}\nDATABASE_URL=postgres://changed\n")
    result = devsync(
        "env", "import", str(env_file), "--yes", "--secret", "NEW_SECRET", *BOB, *BOB_LAPTOP
    )
    assert result.code == 0
    assert secret not in result.out + result.err
    assert "postgres://changed" not in result.out  # DATABASE_URL is a secret in bob-laptop
    assert "~ DATABASE_URL (secret value changes)" in result.out
    assert devsync("env", "get", "NEW_SECRET", *BOB, *BOB_LAPTOP).out == secret + "\n"


def test_import_refuses_a_bad_file_as_a_whole(devsync: DevsyncCLI) -> None:
    env_file = devsync.home / ".env"
    env_file.write_text('GOOD=1\nBAD="never closed\n')
    result = devsync("env", "import", str(env_file), *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert "line 2" in result.err
    assert devsync("env", "get", "GOOD", *BOB, *BOB_LAPTOP).code == 2
    env_file.write_text("GOOD=1\nconfig/x.json=2\n")
    result = devsync("env", "import", str(env_file), *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert "line 2" in result.err
    assert "nothing was written" in result.err
    assert devsync("env", "get", "GOOD", *BOB, *BOB_LAPTOP).code == 2


def test_import_into_project_defaults_needs_the_right(devsync: DevsyncCLI) -> None:
    env_file = devsync.home / ".env"
    env_file.write_text("SHARED=1\n")
    denied = devsync(
        "env",
        "import",
        str(env_file),
        "--user",
        "carol",
        "--project",
        "storefront",
        "--project-default",
        "--yes",
    )
    assert denied.code == 3
    ok = devsync(
        "env",
        "import",
        str(env_file),
        "--yes",
        *BOB,
        "--project",
        "storefront",
        "--project-default",
    )
    assert ok.code == 0


def _reveals(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*) from public.audit_log where action = 'secret.reveal'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_diff_compares_secrets_without_showing_them(devsync: DevsyncCLI) -> None:
    before = _reveals(devsync.db_url)
    result = devsync(
        "env", "diff", "staging", "bob-laptop", "--user", "alice", "--project", "storefront"
    )
    assert result.code == 1  # they differ
    assert "+ BOB_DEBUG_PORT: only in storefront/bob-laptop" in result.out
    assert "- SENTRY_DSN: only in storefront/staging" in result.out
    assert "~ API_BASE_URL: 'https://staging-api" in result.out
    assert "~ STRIPE_SECRET_KEY: secret values differ" in result.out
    assert "not-real" not in result.out  # no seed secret value leaks
    data = json.loads(
        devsync(
            "env",
            "diff",
            "staging",
            "bob-laptop",
            "--user",
            "alice",
            "--project",
            "storefront",
            "--json",
        ).out
    )
    assert {d["key"] for d in data["different"] if d["secret"]} >= {"STRIPE_SECRET_KEY"}
    assert _reveals(devsync.db_url) == before  # compared by the database: nothing revealed
    # dave may reveal neither side: secrets are "cannot compare", never guessed.
    dave = devsync(
        "env",
        "diff",
        "staging",
        "bob-laptop",
        "--user",
        "dave",
        "--project",
        "storefront",
        "--json",
    )
    assert "STRIPE_SECRET_KEY" in json.loads(dave.out)["cannot_compare"]


def test_diff_of_identical_environments_exits_0(devsync: DevsyncCLI) -> None:
    result = devsync("env", "diff", "ci-runner", "ci-runner", "--user", "alice")
    assert result.code == 0
    assert "same configuration" in result.out


def test_import_of_a_secret_default_key_stays_secret(devsync: DevsyncCLI) -> None:
    value = "imported-stripe-" + uuid.uuid4().hex
    env_file = devsync.home / ".env"
    env_file.write_text(f"STRIPE_SECRET_KEY={value}\n")
    result = devsync("env", "import", str(env_file), "--yes", "--override", *BOB, *BOB_LAPTOP)
    assert result.code == 0
    assert value not in result.out + result.err
    assert (
        "! STRIPE_SECRET_KEY: inherited (not shown) -> override (secret, not shown)" in result.out
    )
    data = json.loads(devsync("env", "list", "--json", *BOB, *BOB_LAPTOP).out)
    row = next(r for r in data["configuration"] if r["key"] == "STRIPE_SECRET_KEY")
    assert row["source"] == "override"
    assert row["is_secret"] is True


def test_export_to_a_folder_or_a_missing_folder_names_the_path(devsync: DevsyncCLI) -> None:
    folder = devsync.home / "out"
    folder.mkdir()
    result = devsync("env", "export", "--output", str(folder), *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert f"Is a directory ({folder})." in result.err
    missing = devsync.home / "nowhere" / "x.env"
    result = devsync("env", "export", "--output", str(missing), *BOB, *BOB_LAPTOP)
    assert result.code == 2
    assert f"No such file or directory ({missing})." in result.err
    assert "Traceback" not in result.err
    assert list(folder.iterdir()) == []
    assert [p.name for p in devsync.home.iterdir() if p.name.startswith(".")] == []


def test_import_refused_part_way_says_what_was_written(devsync: DevsyncCLI) -> None:
    # Stand-in for the right being taken away mid-import: the database refuses one key (42501).
    import psycopg

    with psycopg.connect(devsync.db_url, autocommit=True) as conn:
        conn.execute(
            "create function public.refuse_one() returns trigger language plpgsql as $$"
            " begin if new.key = 'REFUSED_KEY' then"
            " raise exception 'you may not change this' using errcode = '42501'; end if;"
            " return new; end $$;"
            " create trigger refuse_one before insert on public.configurations"
            " for each row execute function public.refuse_one()"
        )
    env_file = devsync.home / ".env"
    env_file.write_text("FIRST_KEY=1\nREFUSED_KEY=2\nTHIRD_KEY=3\n")
    result = devsync("env", "import", str(env_file), "--yes", *BOB, *BOB_LAPTOP)
    assert result.code == 3
    assert "Stopped at REFUSED_KEY; written before it: FIRST_KEY." in result.err
    assert devsync("env", "get", "FIRST_KEY", *BOB, *BOB_LAPTOP).out == "1\n"
    assert devsync("env", "get", "THIRD_KEY", *BOB, *BOB_LAPTOP).code == 2


def test_import_of_an_execution_control_key_by_a_member_writes_nothing(
    devsync: DevsyncCLI,
) -> None:
    # Only admins may set LD_PRELOAD: the import is refused whole, before the first write,
    # not after AAA_SECOND was written.
    env_file = devsync.home / ".env"
    env_file.write_text("AAA_SECOND=1\nLD_PRELOAD=/tmp/evil.so\nZZZ_SECOND=2\n")
    for extra in ((), ("--dry-run",)):
        result = devsync("env", "import", str(env_file), "--yes", *extra, *BOB, *BOB_LAPTOP)
        assert result.code == 3
        assert result.err.endswith(
            "Only team admins may set or change LD_PRELOAD: it decides which programs run."
            " Nothing was written.\n"
        )
        assert "/tmp/evil" not in result.err
        assert devsync("env", "get", "AAA_SECOND", *BOB, *BOB_LAPTOP).code == 2
    admin = devsync("env", "import", str(env_file), "--yes", "--user", "alice", *BOB_LAPTOP)
    assert admin.code == 0, admin.err
    assert devsync("env", "get", "LD_PRELOAD", *BOB, *BOB_LAPTOP).out == "/tmp/evil.so\n"


def test_export_recommends_no_format_that_would_refuse(devsync: DevsyncCLI) -> None:
    # A quoted value docker can carry: --format docker is the way.
    assert devsync("env", "set", "T_HASH=a #b", *BOB, *BOB_LAPTOP).code == 0
    quoted = devsync("env", "export", *BOB, *BOB_LAPTOP)
    assert quoted.err.endswith(
        "devsync: note: quoted values make this file unfit for docker --env-file (T_HASH); "
        "use --format docker.\n"
    )
    assert devsync("env", "export", "--format", "docker", *BOB, *BOB_LAPTOP).code == 0
    # A line break: no format carries it to docker, so none is recommended; the note is the
    # sentence --format docker refuses with.
    assert devsync("env", "set", "QA_ML", "--file", "-", *BOB, *BOB_LAPTOP, stdin="a\nb").code == 0
    multi = devsync("env", "export", *BOB, *BOB_LAPTOP)
    assert multi.code == 0
    assert "--format docker" not in multi.err
    assert multi.err.endswith(
        "devsync: note: this file is not for docker --env-file: docker --env-file cannot "
        "carry values with line breaks: QA_ML.\n"
    )
    refused = devsync("env", "export", "--format", "docker", *BOB, *BOB_LAPTOP)
    assert (refused.code, refused.err) == (
        2,
        "devsync: docker --env-file cannot carry values with line breaks: QA_ML.\n",
    )


def test_diff_refuses_env_which_means_nothing_there(devsync: DevsyncCLI) -> None:
    result = devsync(
        "env", "diff", "staging", "bob-laptop", "--user", "alice", "--env", "ci-runner"
    )
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "devsync: --env means nothing for devsync env diff: name the two environments as "
        "ENV_A ENV_B.\n"
    )
