"""``devsync`` argument handling: the dashboard loads no subcommand, a command only its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devsync_tui import cli
from devsync_tui.cli import _command_named, _names_a_command, build_parser, main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], False),
        (["--user", "carol"], False),
        (["--user=carol", "--project", "storefront", "--env", "bob-laptop"], False),
        (["--team", "acme", "--profile", "work"], False),
        (["--user"], False),  # argparse says what is missing
        (["env", "list"], True),
        (["--user", "bob", "scan"], True),
        (["--help"], True),
        (["--bogus"], True),
        (["storefront"], True),
    ],
)
def test_names_a_command(argv: list[str], expected: bool) -> None:
    assert _names_a_command(argv) is expected


def test_usage_errors_still_name_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nonsense"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nonsense'" in err
    assert "scan" in err
    assert "agent" in err


def test_the_dashboard_path_imports_no_subcommand() -> None:
    code = (
        "import sys; from devsync_tui import cli; cli.build_parser(commands=()).parse_args("
        "['--user', 'bob']); print(sorted(m for m in sys.modules if 'devsync_tui.commands' in m))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_the_dashboard_without_a_terminal_says_so_and_exits() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devsync_tui", "--user", "alice"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("devsync: the dashboard needs a terminal")
    assert "Traceback" not in done.stderr


def test_the_command_list_is_what_the_modules_register() -> None:
    # `devsync --help` lists the commands from cli.COMMANDS without importing their modules;
    # the listing must be exactly what the modules themselves register.
    assert build_parser().format_help() == build_parser(commands=()).format_help()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["env", "list"], "env"),
        (["--user", "bob", "--proj", "storefront", "whoami"], "whoami"),  # an abbreviation
        (["--user=bob", "run", "--", "env", "--help"], "run"),
        (["--user", "bob"], None),
    ],
)
def test_the_named_command_is_read_as_argparse_reads_it(argv: list[str], command: str) -> None:
    assert _command_named(argv) == command


def test_a_command_imports_its_own_module_only() -> None:
    code = (
        "import sys; from devsync_tui import cli; "
        "cli.main(['env', 'frobnicate']); cli.main(['--help']); "
        "print(sorted(m for m in sys.modules if m.startswith('devsync_tui.commands')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    imported = done.stdout.strip().splitlines()[-1]
    assert "devsync_tui.commands.env" in imported
    for other in ("scan", "drift", "run", "agent", "login", "local", "db"):
        assert f"devsync_tui.commands.{other}'" not in imported


def test_a_missing_command_module_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.COMMANDS, "ghost", ("ghost", "a command whose module is missing"))
    with pytest.raises(ModuleNotFoundError, match=r"devsync_tui\.commands\.ghost"):
        main(["ghost"])


@pytest.mark.parametrize("argv", [["--project", ""], ["--project", "x", "--env", " "]])
def test_the_dashboard_refuses_an_empty_name(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2  # before anything connects or draws
    err = capsys.readouterr().err
    assert err.startswith("devsync: --")
    assert err.endswith("takes a name or an id, not an empty string.\n")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--user", ""], "--user takes a user's name"),
        (["--user", " ", "--project", "storefront"], "--user takes a user's name"),
        (["--profile", ""], "--profile takes a profile's name"),
    ],
)
def test_the_dashboard_refuses_an_empty_user_or_profile(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2  # rather than open as alice (or on the default profile)
    assert capsys.readouterr().err == f"devsync: {said}, not an empty string.\n"


def test_ctrl_c_outside_a_question_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while a request may be out: exit 130 with a sentence, not silence."""
    from devsync_tui import cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_tui", interrupted)
    assert cli.main([]) == 130
    err = capsys.readouterr().err
    assert err.startswith("devsync: Interrupted; a change already sent may have been made")
