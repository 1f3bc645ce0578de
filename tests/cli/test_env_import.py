"""``devsync env import``: compared with the effective configuration, explicit overrides, no
writes without a terminal unless --yes, credential-like keys kept secret, Ctrl-C honest
(local transport, real Postgres; Ctrl-C tests run devsync as a subprocess)."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _sources(devsync: DevsyncCLI) -> dict[str, dict[str, object]]:
    data = json.loads(devsync("env", "list", "--json", *BOB).out)
    return {row["key"]: row for row in data["configuration"]}


def _write(devsync: DevsyncCLI, text: str) -> str:
    path = devsync.home / "in.env"
    path.write_text(text)
    return str(path)


def _stored(db_url: str, key: str) -> list[tuple[bool, int]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select is_secret, version from public.configurations where key = %s", (key,)
        ).fetchall()
    return [(bool(r[0]), int(r[1])) for r in rows]


def test_export_then_import_pins_nothing(devsync: DevsyncCLI) -> None:
    before = _sources(devsync)
    inherited = sorted(k for k, r in before.items() if r["source"] == "default")
    assert inherited  # the demo environment inherits project defaults
    exported = devsync.home / "exported.env"
    assert devsync("env", "export", "-o", str(exported), *BOB).code == 0
    result = devsync("env", "import", str(exported), "--yes", *BOB)
    assert result.code == 0
    assert "equal what storefront/bob-laptop inherits from the project defaults" in result.out
    assert "already has every value" in result.out
    after = _sources(devsync)
    assert sorted(k for k, r in after.items() if r["source"] == "default") == inherited
    assert {k: r["version"] for k, r in after.items()} == {
        k: r["version"] for k, r in before.items()
    }


def test_an_inherited_key_becomes_an_override_only_with_override(devsync: DevsyncCLI) -> None:
    assert _sources(devsync)["NODE_ENV"]["source"] == "default"
    env_file = _write(devsync, "NODE_ENV=staging\nBRAND_NEW=1\n")
    refused = devsync("env", "import", env_file, "--yes", *BOB)
    assert refused.code == 2
    assert "! NODE_ENV: inherited 'production' -> override 'staging'" in refused.out
    assert refused.err.strip() == (
        "devsync: NODE_ENV is inherited from the project defaults with another value; "
        "importing would make it an override of storefront/bob-laptop. "
        "Pass --override to do so; nothing was written."
    )
    assert _sources(devsync)["NODE_ENV"]["source"] == "default"
    assert "BRAND_NEW" not in _sources(devsync)
    done = devsync("env", "import", env_file, "--yes", "--override", *BOB)
    assert done.code == 0
    rows = _sources(devsync)
    assert rows["NODE_ENV"]["source"] == "override"
    assert rows["NODE_ENV"]["value"] == "staging"
    assert rows["BRAND_NEW"]["value"] == "1"


@pytest.mark.parametrize(
    ("user", "code", "said"),
    [
        (
            "bob",  # his own environment: the inherited NODE_ENV needs --override
            2,
            "devsync: NODE_ENV is inherited from the project defaults with another value; "
            "importing would make it an override of storefront/bob-laptop. Pass --override to "
            "do so; nothing was written.\n",
        ),
        (
            "dave",  # a member, on someone else's environment
            3,
            "devsync: You may not change the configuration of storefront/bob-laptop (its owner "
            "and the team's admins may); nothing was written.\n",
        ),
        (
            "carol",  # a viewer
            3,
            "devsync: You may not change the configuration of storefront/bob-laptop (its owner "
            "and the team's admins may); nothing was written.\n",
        ),
    ],
)
def test_dry_run_refuses_what_the_real_run_refuses(
    devsync: DevsyncCLI, user: str, code: int, said: str
) -> None:
    # It used to exit 0 without a word about --override (or the right to write), while the
    # same command with --yes stopped: a dry run that passes must mean the real run would.
    env_file = _write(devsync, "NODE_ENV=staging\nBRAND_NEW=1\n")
    target = ("--user", user, *BOB[2:])
    for extra in (("--dry-run",), ("--yes",), ("--dry-run", "--json"), ()):
        result = devsync("env", "import", env_file, *extra, *target)
        assert (result.code, result.err) == (code, said), extra
    assert "BRAND_NEW" not in _sources(devsync)
    if user == "bob":
        dry = devsync("env", "import", env_file, "--dry-run", "--override", *BOB)
        assert dry.code == 0, dry.err
        assert dry.out.endswith("Dry run: nothing was written.\n")
        assert "BRAND_NEW" not in _sources(devsync)


def test_a_project_default_import_by_a_viewer_is_refused_before_writing(
    devsync: DevsyncCLI,
) -> None:
    env_file = _write(devsync, "BRAND_NEW=1\n")
    for extra in ("--dry-run", "--yes"):
        result = devsync(
            "env", "import", env_file, extra, "--project-default", "--user", "carol",
            "--project", "storefront",
        )  # fmt: skip
        assert result.code == 3
        assert result.err == (
            "devsync: You may not change the project defaults of storefront (admins and members "
            "may); nothing was written.\n"
        )
    assert _stored(devsync.db_url, "BRAND_NEW") == []


def test_without_a_terminal_nothing_is_written_unless_yes(devsync: DevsyncCLI) -> None:
    env_file = _write(devsync, "LOG_LEVEL=trace\n")
    result = devsync("env", "import", env_file, *BOB)
    assert result.code == 1
    assert "~ LOG_LEVEL: 'debug' -> 'trace'" in result.out  # the plan is printed
    assert result.err.strip() == (
        "devsync: Nothing was written: there is no terminal to confirm on; run again with --yes to "
        "write these 1 change(s)."
    )
    assert _sources(devsync)["LOG_LEVEL"]["value"] == "debug"
    piped = devsync("env", "import", "-", *BOB, stdin="LOG_LEVEL=trace\n")
    assert piped.code == 1
    assert devsync("env", "import", "-", "--yes", *BOB, stdin="LOG_LEVEL=trace\n").code == 0
    assert _sources(devsync)["LOG_LEVEL"]["value"] == "trace"


CREDENTIALS = {
    "GITHUB_TOKEN": "ghp_abcdefghijklmnop1234",
    "WEBHOOK_SECRET": "whsec_0987654321abcdef",
    "MAPS_API_KEY": "AIzaSyExampleExample12",
    "SMTP_PASSWORD_PRIMARY": "correct horse battery",
    "CACHE_URL": "redis://cache:hunter2-pass@cache.internal:6379/0",
}


def test_credential_like_keys_are_stored_secret_and_never_printed(devsync: DevsyncCLI) -> None:
    text = "".join(f"{k}='{v}'\n" for k, v in CREDENTIALS.items()) + "PLAIN_FLAG=on\n"
    env_file = _write(devsync, text)
    dry = devsync("env", "import", env_file, "--dry-run", *BOB)
    result = devsync("env", "import", env_file, "--yes", *BOB)
    assert result.code == 0
    for output in (dry.out + dry.err, result.out + result.err):
        for value in CREDENTIALS.values():
            assert value not in output
        assert "hunter2-pass" not in output
        assert "+ GITHUB_TOKEN = (secret, not shown)" in output
        assert "+ PLAIN_FLAG = 'on'" in output
    for key in CREDENTIALS:
        assert _stored(devsync.db_url, key) == [(True, 1)], key
    assert _stored(devsync.db_url, "PLAIN_FLAG") == [(False, 1)]


def test_plain_keeps_credential_like_keys_plain_but_still_unprinted(devsync: DevsyncCLI) -> None:
    env_file = _write(devsync, "CI_TOKEN=not-really-secret-123\n")
    result = devsync("env", "import", env_file, "--yes", "--plain", *BOB)
    assert result.code == 0
    assert "not-really-secret-123" not in result.out + result.err
    assert "+ CI_TOKEN = (plain, not shown)" in result.out
    assert _stored(devsync.db_url, "CI_TOKEN") == [(False, 1)]


def _popen_on_a_terminal(devsync: DevsyncCLI, *argv: str) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    proc = devsync.popen(*argv, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    return proc, master


def test_ctrl_c_at_the_question_writes_nothing(devsync: DevsyncCLI) -> None:
    env_file = _write(devsync, "LOG_LEVEL=trace\nASKED_KEY=1\n")
    proc, master = _popen_on_a_terminal(devsync, "env", "import", env_file, *BOB)
    try:
        assert proc.stdout is not None
        seen = b""
        while b"[y/N]" not in seen:
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, seen
            seen += chunk
        proc.send_signal(signal.SIGINT)  # what Ctrl-C at the terminal sends
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.decode().strip() == "devsync: Cancelled; nothing was written."
    assert _stored(devsync.db_url, "ASKED_KEY") == []
    assert _sources(devsync)["LOG_LEVEL"]["value"] == "debug"


def test_ctrl_c_during_the_writes_says_exactly_what_was_written(devsync: DevsyncCLI) -> None:
    with psycopg.connect(devsync.db_url, autocommit=True) as conn:
        conn.execute(
            "create function public.slow_b() returns trigger language plpgsql as $$"
            " begin if new.key = 'SLOW_B' then perform pg_sleep(3); end if; return new; end $$;"
            " create trigger slow_b before insert on public.configurations"
            " for each row execute function public.slow_b()"
        )
    env_file = _write(devsync, "SLOW_A=1\nSLOW_B=2\nSLOW_C=3\n")
    proc = devsync.popen(
        "env", "import", env_file, "--yes", *BOB, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not _stored(devsync.db_url, "SLOW_A"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # SLOW_B is now being written (its trigger sleeps 3 s)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.decode().strip() == (
        "devsync: Interrupted. Written to storefront/bob-laptop: SLOW_A, SLOW_B. "
        "Not written: SLOW_C."
    )
    assert _stored(devsync.db_url, "SLOW_B") == [(False, 1)]
    assert _stored(devsync.db_url, "SLOW_C") == []


def test_on_a_terminal_the_answer_decides(devsync: DevsyncCLI) -> None:
    env_file = _write(devsync, "ANSWERED_FLAG=1\n")
    for answer, code, stored in ((b"n\n", 0, []), (b"y\n", 0, [(False, 1)])):
        proc, master = _popen_on_a_terminal(devsync, "env", "import", env_file, *BOB)
        try:
            assert proc.stdout is not None
            seen = b""
            while b"[y/N]" not in seen:
                chunk = os.read(proc.stdout.fileno(), 4096)
                assert chunk, seen
                seen += chunk
            os.write(master, answer)
            out, err = proc.communicate(timeout=30)
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == code
        assert _stored(devsync.db_url, "ANSWERED_FLAG") == stored
        if answer == b"n\n":
            assert err.decode().strip() == "devsync: Cancelled; nothing was written."
        else:
            assert b"Imported 1 change(s) into storefront/bob-laptop." in out


def test_a_line_with_an_invalid_name_refuses_the_file(devsync: DevsyncCLI) -> None:
    # Garbage is an invalid name (shown escaped), not a key "without a value" skipped with
    # exit 0: the whole file is refused before anything is written (exit 2, bad input).
    for raw, shown in ((b"\x00\x01\x02binary\n", r"'\x00\x01\x02binary'"), (b"1BAD\n", "'1BAD'")):
        path = devsync.home / "bad.env"
        path.write_bytes(b"GOOD_ONE=1\n" + raw)
        result = devsync("env", "import", str(path), "--yes", *BOB)
        assert (result.code, result.out) == (2, "")
        assert result.err == (
            f"devsync: {path}, line 2: {shown} is not a valid variable name (letters, digits, "
            "_; not first a digit); nothing was written.\n"
        )
        assert "GOOD_ONE" not in _sources(devsync)
    # A valid name alone is python-dotenv's "unset": skipped, said, and the rest imported.
    path = _write(devsync, "GOOD_ONE=1\nALONE\n")
    result = devsync("env", "import", path, "--yes", *BOB)
    assert result.code == 0
    assert result.err == f"devsync: warning: {path}, line 2: ALONE has no value; skipped.\n"
    assert _sources(devsync)["GOOD_ONE"]["value"] == "1"
