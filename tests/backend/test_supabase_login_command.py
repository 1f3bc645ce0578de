"""``devsync login`` / ``logout`` / ``whoami`` against the fake Supabase project."""

from __future__ import annotations

import asyncio
import io
import json
import stat
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from devsync_tui import cli
from devsync_tui.backend.supabase import session
from devsync_tui.exit_codes import EXIT_DENIED, EXIT_INPUT, EXIT_OK, EXIT_UNAVAILABLE
from tests.backend.fake_supabase import FakeSupabase
from tests.support.demo import ALICE, BOB, CAROL

pytestmark = pytest.mark.db


@pytest.fixture
async def fake(fresh_db_url: str) -> AsyncIterator[FakeSupabase]:
    server = await FakeSupabase(fresh_db_url).start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    for name in ("SUPABASE_URL", "SUPABASE_ANON_KEY", "DEVSYNC_PROFILE", "DEVSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # Never touch a developer's real keyring: sessions go to the fallback file here.
    monkeypatch.setattr(session, "keyring_usable", lambda: False)
    return tmp_path / "cfg"


class Stdin(io.StringIO):
    """A non-terminal stdin whose next line can come from a callable (e.g. the e-mailed code)."""

    def __init__(self, text: str = "", later: Callable[[], str | None] | None = None) -> None:
        super().__init__(text)
        self.later = later

    def isatty(self) -> bool:
        return False

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self.later is None:
            return super().readline(-1 if size is None else size)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            value = self.later()
            if value:
                return value + "\n"
            time.sleep(0.02)
        return ""


async def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: io.StringIO | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", stdin or Stdin())
    code = await asyncio.to_thread(cli.main, argv)  # the CLI runs its own event loop
    out, err = capsys.readouterr()
    return code, out, err


async def test_login_whoami_logout(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = await run(
        [
            "login",
            "--url",
            fake.url,
            "--anon-key",
            fake.anon_key,
            "--email",
            ALICE.email,
            "--password-stdin",
        ],
        capsys,
        monkeypatch,
        Stdin("devsync-demo\n"),
    )
    assert code == EXIT_OK, err
    assert out.strip() == "Signed in to 127.0.0.1 as alice <alice@example.com> (profile supabase)."
    assert "Saved profile 'supabase'" in err
    assert "No system keyring is available" in err
    session_file = config / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert 'kind = "supabase"' in (config / "config.toml").read_text()

    code, out, err = await run(["whoami"], capsys, monkeypatch)
    assert code == EXIT_OK, err
    assert out.splitlines() == [
        "alice <alice@example.com> on 127.0.0.1 (profile supabase)",
        "  Acme: admin",
    ]
    code, out, _ = await run(["whoami", "--json"], capsys, monkeypatch)
    data = json.loads(out)
    assert (data["username"], data["kind"], data["teams"]) == (
        "alice",
        "supabase",
        [{"team": "Acme", "role": "admin"}],
    )
    # a second login does not repeat the keyring notice
    code, out, err = await run(
        ["login", "--email", ALICE.email, "--password-stdin"],
        capsys,
        monkeypatch,
        Stdin("devsync-demo\n"),
    )
    assert code == EXIT_OK
    assert "keyring" not in err

    code, out, err = await run(["logout"], capsys, monkeypatch)
    assert code == EXIT_OK, err
    assert out.strip() == "Signed out of 127.0.0.1 (profile supabase)."
    assert json.loads(session_file.read_text())["namespaces"] == {}
    assert [r for r in fake.requests if r.path == "/auth/v1/logout"]
    code, out, err = await run(["whoami"], capsys, monkeypatch)
    assert code == EXIT_DENIED
    assert "devsync login" in err
    code, out, _ = await run(["logout"], capsys, monkeypatch)
    assert code == EXIT_OK
    assert "were not signed in" in out


async def test_wrong_password_and_bad_usage(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["login", "--url", fake.url, "--anon-key", fake.anon_key]
    code, _, err = await run(
        [*base, "--email", ALICE.email, "--password-stdin"], capsys, monkeypatch, Stdin("nope\n")
    )
    assert code == EXIT_DENIED
    assert err.strip().endswith("Wrong e-mail or password.")
    assert "Traceback" not in err
    code, _, err = await run([*base, "--email", ALICE.email], capsys, monkeypatch)
    assert code == EXIT_INPUT
    assert "not a terminal" in err
    code, _, err = await run(["login", "--profile", "local"], capsys, monkeypatch)
    assert code == EXIT_INPUT
    assert "nothing to sign in to" in err
    code, _, err = await run(["login", "--url", fake.url], capsys, monkeypatch)
    assert code == EXIT_INPUT
    assert "--anon-key" in err


async def test_login_with_an_emailed_code(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["login", "--url", fake.url, "--anon-key", fake.anon_key, "--email", CAROL.email]
    stdin = Stdin(later=lambda: fake.gotrue.codes.get(CAROL.email))
    code, out, err = await run([*base, "--otp"], capsys, monkeypatch, stdin)
    assert code == EXIT_OK, err
    assert "as carol <carol@example.com>" in out
    code, _, err = await run([*base, "--otp", "--code", "12345678"], capsys, monkeypatch)
    assert code == EXIT_DENIED
    assert "code" in err


async def test_signup(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = await run(
        [
            "login",
            "--url",
            fake.url,
            "--anon-key",
            fake.anon_key,
            "--signup",
            "--email",
            "zoe@example.com",
            "--username",
            "zoe",
            "--password-stdin",
        ],
        capsys,
        monkeypatch,
        Stdin("long-enough-pw\n"),
    )
    assert code == EXIT_OK, err
    assert "as zoe <zoe@example.com>" in out


class Terminal(Stdin):
    def isatty(self) -> bool:
        return True


async def test_interactive_login_password_then_code(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prompts: list[str] = []
    answers = iter([ALICE.email])
    secrets = iter(["devsync-demo"])
    monkeypatch.setattr("builtins.input", lambda p: (prompts.append(p), next(answers))[1])
    monkeypatch.setattr("getpass.getpass", lambda p: (prompts.append(p), next(secrets))[1])
    base = ["login", "--url", fake.url, "--anon-key", fake.anon_key]
    code, out, err = await run(base, capsys, monkeypatch, Terminal())
    assert code == EXIT_OK, err
    assert prompts == ["E-mail: ", "Password (empty: e-mail me a code): "]
    assert "as alice" in out
    # An empty password asks for a code by e-mail instead.
    prompts.clear()

    def code_prompt(prompt: str) -> str:
        prompts.append(prompt)
        if prompt == "E-mail: ":
            return CAROL.email
        return fake.gotrue.codes[CAROL.email]

    monkeypatch.setattr("builtins.input", code_prompt)
    monkeypatch.setattr("getpass.getpass", lambda p: (prompts.append(p), "")[1])
    code, out, err = await run(["login"], capsys, monkeypatch, Terminal())
    assert code == EXIT_OK, err
    assert prompts[-1] == f"Code sent to {CAROL.email}; type it here: "
    assert "as carol" in out


async def test_whoami_on_a_local_profile(
    fresh_db_url: str,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", fresh_db_url)
    code, out, err = await run(["--user", "bob", "whoami"], capsys, monkeypatch)
    assert code == EXIT_OK, err
    first, *teams = out.splitlines()
    assert first.startswith("bob <bob@example.com> on ")
    assert first.endswith("(profile env-local)")
    assert teams == ["  Acme: member"]


async def test_logout_offline_still_forgets_the_session(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = await run(
        [
            "login",
            "--url",
            fake.url,
            "--anon-key",
            fake.anon_key,
            "--email",
            ALICE.email,
            "--password-stdin",
        ],
        capsys,
        monkeypatch,
        Stdin("devsync-demo\n"),
    )
    assert code == EXIT_OK, err
    await fake.server.stop()
    code, out, err = await run(["logout"], capsys, monkeypatch)
    assert code == EXIT_OK
    assert "forgotten here anyway" in err
    assert out.strip() == "Signed out of 127.0.0.1 (profile supabase)."
    assert json.loads((config / "session.json").read_text())["namespaces"] == {}


async def test_offline_snapshot_is_not_for_whoever_comes_next(
    fake: FakeSupabase,
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # bob's `run` leaves an encrypted snapshot holding his secrets. When carol (a viewer, who
    # may not reveal them) signs in on the same profile, `run --offline` must not open it.
    from devsync_tui.core import crypto

    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    crypto._reset_for_tests()

    async def login(email: str) -> None:
        argv = ["login", "--url", fake.url, "--anon-key", fake.anon_key, "--email", email]
        code, _, err = await run(
            [*argv, "--password-stdin"], capsys, monkeypatch, Stdin("devsync-demo\n")
        )
        assert code == EXIT_OK, err

    await login(BOB.email)
    dump = tmp_path / "dump.txt"
    child = [
        sys.executable,
        "-c",
        "import os, sys; open(sys.argv[1], 'w').write(os.environ.get('DATABASE_URL', '-'))",
        str(dump),
    ]
    target = ["--project", "storefront", "--env", "bob-laptop"]
    code, _, err = await run(["run", *target, "--", *child], capsys, monkeypatch)
    assert code == EXIT_OK, err
    assert dump.read_text().startswith("postgres")  # bob's secret, revealed online
    await login(CAROL.email)
    await fake.server.stop()
    dump.unlink()
    code, _, err = await run(["run", "--offline", *target, "--", *child], capsys, monkeypatch)
    assert code == EXIT_UNAVAILABLE, err
    assert "no offline snapshot" in err
    assert not dump.exists()  # the command never started with bob's values
    crypto._reset_for_tests()


async def test_a_password_line_that_never_ends_is_refused(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Like /dev/zero on stdin: no newline ever comes; reading must stop, not fill the memory.
    base = ["login", "--url", fake.url, "--anon-key", fake.anon_key, "--email", ALICE.email]
    endless = Stdin("x" * 1_000_000)
    code, _, err = await run([*base, "--password-stdin"], capsys, monkeypatch, endless)
    assert code == EXIT_INPUT
    assert "longer than 4096 characters" in err
    assert endless.tell() < 10_000  # stopped reading early
    code, _, err = await run(
        [*base, "--password-stdin"], capsys, monkeypatch, Stdin("p" * 4096 + "\n")
    )
    assert code == EXIT_DENIED  # a long password is read whole (and is wrong here)


async def test_a_failed_login_saves_no_profile(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A profile that cannot sign in, saved as the default, made every command after it say
    # "You are not signed in"; it is saved once the sign-in works, and a new default is said.
    settings = config / "config.toml"
    base = ["login", "--profile", "qa", "--email", ALICE.email, "--password-stdin"]
    unreachable = [*base, "--url", "http://127.0.0.1:9", "--anon-key", "abc"]
    code, _, err = await run(unreachable, capsys, monkeypatch, Stdin("devsync-demo\n"))
    assert code == EXIT_UNAVAILABLE
    assert "Saved profile" not in err
    assert not settings.exists()
    ours = [*base, "--url", fake.url, "--anon-key", fake.anon_key]
    code, _, err = await run(ours, capsys, monkeypatch, Stdin("wrong\n"))
    assert code == EXIT_DENIED
    assert not settings.exists()
    code, out, err = await run(["whoami", "--profile", "qa"], capsys, monkeypatch)
    assert code == EXIT_INPUT  # no such profile: nothing was saved
    assert "No profile named 'qa'" in err

    code, out, err = await run(ours, capsys, monkeypatch, Stdin("devsync-demo\n"))
    assert code == EXIT_OK, err
    assert out.strip() == "Signed in to 127.0.0.1 as alice <alice@example.com> (profile qa)."
    said = [line for line in err.splitlines() if "profile" in line]
    assert said == [
        f"devsync: Saved profile 'qa' in {settings}.",
        "devsync: Commands now use profile 'qa' by default (it was 'local'); "
        "`--profile local` picks the local database.",
    ]
    assert 'default_profile = "qa"' in settings.read_text()
    code, out, err = await run(["whoami"], capsys, monkeypatch)
    assert code == EXIT_OK, err
    assert out.startswith("alice <alice@example.com> on 127.0.0.1 (profile qa)")

    other = ["login", "--profile", "qa2", "--url", fake.url, "--anon-key", fake.anon_key]
    code, _, err = await run(
        [*other, "--email", BOB.email, "--password-stdin"],
        capsys,
        monkeypatch,
        Stdin("devsync-demo\n"),
    )
    assert code == EXIT_OK, err
    assert "Saved profile 'qa2'" in err
    assert "by default" not in err  # the default stays qa
    assert 'default_profile = "qa"' in settings.read_text()


def _folder(path: Path, mode: int) -> None:
    path.mkdir()
    path.chmod(mode)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _listing(path: Path) -> list[Path]:
    return list(path.iterdir())


async def test_login_leaves_the_settings_folder_as_it_is(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The settings folder may be the data folder pgserver must enter, or $HOME: `login` made
    # it 0700 without a word. Only the session file is private.
    _folder(config, 0o755)
    argv = ["login", "--url", fake.url, "--anon-key", fake.anon_key, "--email", ALICE.email]
    code, _, err = await run(
        [*argv, "--password-stdin"], capsys, monkeypatch, Stdin("devsync-demo\n")
    )
    assert code == EXIT_OK, err
    assert _mode(config) == 0o755
    assert _mode(config / "session.json") == _mode(config / "config.toml") == 0o600


async def test_a_settings_folder_others_may_write_to_is_refused_not_closed(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _folder(config, 0o775)
    argv = ["login", "--url", fake.url, "--anon-key", fake.anon_key, "--email", ALICE.email]
    code, out, err = await run(
        [*argv, "--password-stdin"], capsys, monkeypatch, Stdin("devsync-demo\n")
    )
    assert code == EXIT_DENIED
    assert out == ""
    assert err == (
        f"devsync: Other users may write to the folder {config} (mode 0775), so DevSync will "
        "not keep its private files (sessions, locks) there; choose another folder, or run "
        f"`chmod go-w {config}` if it need not be shared.\n"
    )
    assert _mode(config) == 0o775
    assert _listing(config) == []  # no session, no settings, not even a lock
    assert "devsync-demo" not in err


async def test_logout_ends_the_session_at_supabase_here_or_everywhere(
    fake: FakeSupabase,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`logout` revokes this machine's session (scope=local: the one every DevSync process of
    the profile here shares); `--everywhere` every session of the account (a lost laptop)."""
    login = ["login", "--url", fake.url, "--anon-key", fake.anon_key, "--email", ALICE.email]
    code, _, err = await run(
        [*login, "--password-stdin"], capsys, monkeypatch, Stdin("devsync-demo\n")
    )
    assert code == EXIT_OK, err
    code, out, err = await run(["logout"], capsys, monkeypatch)
    assert (code, out.strip(), err) == (EXIT_OK, "Signed out of 127.0.0.1 (profile supabase).", "")
    assert fake.gotrue.logouts == [(str(ALICE.id), "local")]
    assert all(s.revoked for s in fake.gotrue.sessions.values())

    code, _, err = await run(
        ["login", "--email", ALICE.email, "--password-stdin"],
        capsys,
        monkeypatch,
        Stdin("devsync-demo\n"),
    )
    assert code == EXIT_OK, err
    code, out, err = await run(["logout", "--everywhere"], capsys, monkeypatch)
    assert code == EXIT_OK, err
    assert out.strip() == "Signed out of 127.0.0.1 on every device (profile supabase)."
    assert fake.gotrue.logouts[-1] == (str(ALICE.id), "global")
