"""Small things users notice on the command line (issue 15): `devsync --version`, help text
without raw markup, an unknown `--user` is bad input, `env list` says which scope it lists,
`scan` says when the checkout's link chose its environment, and `drift --project` is the
whole project whatever the checkout is linked to."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from devsync_tui import __version__, cli
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devsync_tui", "--version"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, f"devsync {__version__}\n")


def _every_help() -> list[tuple[str, str]]:
    """(command path, its --help text) for devsync and every subcommand, recursively."""
    import argparse

    found: list[tuple[str, str]] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        found.append((path, parser.format_help()))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")

    walk(cli.build_parser(), "devsync")
    return found


def test_help_has_no_raw_markup() -> None:
    helps = _every_help()
    assert len(helps) > 20
    for path, text in helps:
        for markup in ("``", ":func:", ":class:", "[bold", "[/", "[dim", "**"):
            assert markup not in text, f"{path} --help shows {markup!r}"


def test_an_unknown_user_is_bad_input(devsync: DevsyncCLI) -> None:
    result = devsync("env", "list", "--user", "zed", *BOB_LAPTOP)
    assert result.code == 2
    assert result.err.strip().startswith("devsync: There is no local user named 'zed'")
    assert "known users: alice, bob" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["db", "migrate", "--database-url", ""],
            "--database-url takes a PostgreSQL URL (postgresql://…), not an empty string.",
        ),
        (
            ["db", "migrate", "--database-url", " ", "--seed"],
            "--database-url takes a PostgreSQL URL (postgresql://…), not an empty string.",
        ),
        (
            ["login", "--url", "", "--anon-key", "k", "--email", "a@example.com"],
            "--url takes the project's URL (https://abcd.supabase.co), not an empty string.",
        ),
        (
            ["login", "--url", "", "--anon-key", "", "--email", "a@example.com"],
            "--url takes the project's URL (https://abcd.supabase.co), not an empty string.",
        ),
        (
            ["login", "--url", "https://x.supabase.co", "--anon-key", " "],
            "--anon-key takes the project's anon key, not an empty string.",
        ),
        (  # QA: the REST endpoint given as the project's URL ended in "Bad identifier"
            ["login", "--url", "https://x.supabase.co/rest/v1", "--anon-key", "k"],
            "--url is the project's base URL, like https://abcd.supabase.co, without /rest/v1 "
            "(DevSync adds /auth/v1 and /rest/v1 itself).",
        ),
    ],
)
def test_an_empty_url_is_bad_input(
    argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # --database-url "" reached libpq as "the default server on the default socket" (exit 4);
    # login --url "" --anon-key "" signed in to the default profile instead.
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == f"devsync: {said}\n"
    assert not (tmp_path / "config.toml").exists()


def test_an_empty_database_url_variable_is_bad_input(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", "")
    for argv in (("env", "list", *BOB, "--project", "storefront"), ("--project", "storefront")):
        result = devsync(*argv)
        assert (result.code, result.out) == (2, "")
        assert result.err == (
            "devsync: DEVSYNC_DATABASE_URL is set but empty, so it names no database; give it a "
            "PostgreSQL URL, or unset DEVSYNC_DATABASE_URL to use the embedded database.\n"
        )


def test_env_list_says_which_scope_it_lists(devsync: DevsyncCLI) -> None:
    listed = devsync("env", "list", *BOB, *BOB_LAPTOP)
    assert listed.code == 0
    first = listed.out.splitlines()[0]
    assert first.startswith("storefront/bob-laptop: its overrides over the project defaults (")
    assert "linked" not in first
    defaults = devsync("env", "list", *BOB, "--project", "storefront", "--project-default")
    assert defaults.out.splitlines()[0].startswith("storefront: the project defaults (")
    assert devsync("env", "link", *BOB, *BOB_LAPTOP).code == 0
    linked = devsync("env", "list", *BOB)
    assert linked.out.splitlines()[0].startswith(
        "storefront/bob-laptop (the environment linked to this checkout): its overrides"
    )


def test_scan_says_the_link_chose_its_environment(devsync: DevsyncCLI) -> None:
    (devsync.home / "requirements.txt").write_text("requests==2.31.0\n")
    assert devsync("env", "link", *BOB, *BOB_LAPTOP).code == 0
    scanned = devsync("scan", *BOB, "--no-osv", "--no-registry")
    assert scanned.code in (0, 1)
    assert "reporting for storefront/bob-laptop, the environment linked to this checkout" in (
        scanned.err
    )
    named = devsync("scan", *BOB, *BOB_LAPTOP, "--no-osv", "--no-registry")
    assert "linked to this checkout" not in named.err


def test_drift_project_is_the_whole_project_despite_a_link(devsync: DevsyncCLI) -> None:
    assert devsync("env", "link", *BOB, *BOB_LAPTOP).code == 0
    whole = devsync("drift", *BOB, "--project", "storefront", "--json")
    data = json.loads(whole.out)
    assert data["environments"] == 3  # not only the linked bob-laptop
    assert data["target"] == "storefront (project defaults)"
    text = devsync("drift", *BOB, "--project", "storefront")
    assert "Drift for storefront (every environment)" in text.out
    assert "linked" not in text.out
    # no flag at all: the link decides, and the report says so
    linked = devsync("drift", *BOB)
    assert "Drift for storefront/bob-laptop" in linked.out
    assert "storefront/bob-laptop is the environment linked to this checkout" in linked.out
