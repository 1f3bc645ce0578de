"""How data commands name their target (local transport, real Postgres, in-process): what they say
when the machine-wide link chose the environment in a folder never linked, empty names and
``--since ""`` as bad input, ``--project P --env P/E``, and ambiguity hints that fit."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db

BOB = ("--user", "bob")
ALICE = ("--user", "alice")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _checkouts(devsync: DevsyncCLI) -> tuple[Path, Path]:
    """(a git checkout, a folder never linked) under the test's home."""
    shop = devsync.home / "shop"
    (shop / ".git").mkdir(parents=True)
    other = devsync.home / "other"
    other.mkdir()
    return shop.resolve(), other.resolve()


def test_a_folder_never_linked_names_the_machine_wide_link(
    devsync: DevsyncCLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, other = _checkouts(devsync)
    monkeypatch.chdir(shop)
    assert devsync("env", "link", *BOB, "--project", "storefront", "--env", "bob-laptop").code == 0
    here = devsync("env", "list", *BOB)
    assert here.out.splitlines()[0].startswith(
        "storefront/bob-laptop (the environment linked to this checkout): its overrides"
    )

    monkeypatch.chdir(other)
    machine = f"this machine's environment, linked last from {shop}"
    listed = devsync("env", "list", *BOB)
    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[0].startswith(
        f"storefront/bob-laptop ({machine}): its overrides over the project defaults ("
    )
    assert "linked to this checkout" not in listed.out
    drift = devsync("drift", *BOB)
    assert f"storefront/bob-laptop is {machine} (--project P: all)." in drift.out
    (other / "requirements.txt").write_text("requests==2.31.0\n")
    scanned = devsync("scan", *BOB, "--no-osv", "--no-registry")
    assert scanned.code in (0, 1), scanned.err
    assert f"reporting for storefront/bob-laptop, {machine} (--env NAME" in scanned.err
    # env status still wants this folder's own link.
    status = devsync("env", "status", *BOB)
    assert status.code == 2
    assert f"{other} is not linked to an environment" in status.err


@pytest.mark.parametrize(
    ("command", "rest"),
    [
        ("env list", ()),
        ("env set", ("A=1",)),
        ("env status", ()),
        ("drift", ()),
        ("scan", ("--no-osv", "--no-registry")),
        ("run", ("--", "true")),
        ("agent", ("--once", "--no-scan")),
        ("audit", ()),
    ],
)
@pytest.mark.parametrize("name", ["env", "project"])
def test_an_empty_name_is_bad_input(
    devsync: DevsyncCLI, command: str, rest: tuple[str, ...], name: str
) -> None:
    # Even with a link, and a lockfile to scan, that an empty name must not fall back to.
    assert devsync("env", "link", *ALICE, "--project", "storefront", "--env", "staging").code == 0
    (devsync.home / "requirements.txt").write_text("requests==2.31.0\n")
    result = devsync(*command.split(), *ALICE, f"--{name}", "", *rest)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"devsync: --{name} takes a name or an id, not an empty string.\n"


@pytest.mark.parametrize(
    ("command", "rest"),
    [
        ("env list", ("--project", "storefront")),
        ("env set", ("A=1", "--project", "storefront", "--env", "bob-laptop")),
        ("env import", ("-", "--yes", "--project", "storefront", "--env", "bob-laptop")),
        ("drift", ("--project", "storefront")),
        ("scan", ("--no-osv", "--no-registry", "--project", "storefront")),
        ("run", ("--project", "storefront", "--", "true")),
        ("agent", ("--once", "--no-scan", "--project", "storefront")),
        ("audit", ()),
        ("deps ignored", ("--project", "storefront")),
        ("token list", ()),
    ],
)
@pytest.mark.parametrize("user", ["", "  "])
def test_an_empty_user_is_bad_input_not_alice(
    devsync: DevsyncCLI, command: str, rest: tuple[str, ...], user: str
) -> None:
    # It used to act as the workspace owner (alice), silently: exit 0, alice's rights.
    (devsync.home / "requirements.txt").write_text("requests==2.31.0\n")
    words = command.split()
    for argv in ((*words, "--user", user, *rest), ("--user", user, *words, *rest)):
        result = devsync(*argv, stdin="A=1\n")
        assert (result.code, result.out) == (2, ""), argv
        assert result.err == "devsync: --user takes a user's name, not an empty string.\n"
    with psycopg.connect(devsync.db_url) as conn:
        written = conn.execute("select count(*) from configurations where key = 'A'").fetchone()
    assert written == (0,)


def test_an_empty_profile_is_bad_input(devsync: DevsyncCLI) -> None:
    result = devsync("env", "list", "--profile", "", "--project", "storefront")
    assert (result.code, result.out) == (2, "")
    assert result.err == "devsync: --profile takes a profile's name, not an empty string.\n"


def test_an_empty_team_is_bad_input(devsync: DevsyncCLI) -> None:
    result = devsync("audit", *ALICE, "--team", "")
    assert (result.code, result.err) == (
        2,
        "devsync: --team takes a name or an id, not an empty string.\n",
    )


def test_project_slash_env_with_the_same_project(devsync: DevsyncCLI) -> None:
    for project, env in [
        ("storefront", "storefront/staging"),
        ("Storefront", "STOREFRONT/staging"),
        ("storefront", "acme/storefront/staging"),
        (str(demo.PROJECT_STOREFRONT), "storefront/staging"),
    ]:
        result = devsync("env", "list", "--json", *ALICE, "--project", project, "--env", env)
        assert result.code == 0, (project, env, result.err)
        assert json.loads(result.out)["target"] == "storefront/staging"


def test_project_slash_env_of_another_project_is_refused(devsync: DevsyncCLI) -> None:
    other = devsync("env", "list", *ALICE, "--project", "storefront", "--env", "billing-api/x")
    assert (other.code, other.out) == (2, "")
    assert other.err == (
        "devsync: Environment 'billing-api/x' names project 'billing-api', but --project names "
        "storefront; name the project once, or the same project in both.\n"
    )
    unknown = devsync("env", "list", *ALICE, "--project", "storefront", "--env", "nope/staging")
    assert unknown.code == 2
    assert "names project 'nope', but --project names storefront" in unknown.err


def _add_environment(db_url: str, project: str, name: str, like: str) -> None:
    """An environment ``name`` in ``project`` (by name), owned like its ``like``."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into public.environments (project_id, name, user_id) "
            "select e.project_id, %s, e.user_id from public.environments e "
            "join public.projects p on p.id = e.project_id where p.name = %s and e.name = %s",
            (name, project, like),
        )


def test_ambiguity_suggests_project_only_where_it_helps(
    devsync: DevsyncCLI, fresh_db_url: str
) -> None:
    _add_environment(fresh_db_url, "storefront", "STAGING", like="staging")
    given = devsync("env", "list", *ALICE, "--project", "storefront", "--env", "Staging")
    assert given.code == 2
    assert given.err == (
        "devsync: Environment 'Staging' of storefront is ambiguous; use one of: STAGING, staging.\n"
    )
    # Without --project, but every candidate in one project: --project would not help.
    alone = devsync("env", "list", *ALICE, "--env", "Staging")
    assert alone.code == 2
    assert alone.err == (
        "devsync: Environment 'Staging' is ambiguous; "
        "use one of: storefront/STAGING, storefront/staging.\n"
    )
    # Candidates in several projects: it does.
    _add_environment(fresh_db_url, "billing-api", "Shared", like="alice-mbp")
    _add_environment(fresh_db_url, "storefront", "shared", like="staging")
    several = devsync("env", "list", *ALICE, "--env", "SHARED")
    assert several.code == 2
    assert several.err == (
        "devsync: Environment 'SHARED' is ambiguous; pass --project or use one of: "
        "billing-api/Shared, storefront/shared.\n"
    )
    chosen = devsync("env", "list", "--json", *ALICE, "--project", "storefront", "--env", "STAGING")
    assert json.loads(chosen.out)["target"] == "storefront/STAGING"


@pytest.mark.parametrize("when", ["", "  "])
def test_an_empty_since_is_bad_input(devsync: DevsyncCLI, when: str) -> None:
    result = devsync("audit", *ALICE, "--since", when)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "devsync: --since takes a date (2026-12-01) or a span back from now like 7d, 12h or "
        f"30m (got {when!r}).\n"
    )
