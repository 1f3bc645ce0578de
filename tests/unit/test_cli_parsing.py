"""``devsync`` argument handling: opening the dashboard skips loading the subcommands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devsync_tui.cli import _names_a_command, main


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
