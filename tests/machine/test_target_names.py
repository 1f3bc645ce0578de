"""One name rule on both front ends: ``devsync env list --project X`` (the CLI, through
machine.targets) and ``devsync --project X`` (the dashboard) mean the same project for the same
X — exact name first, else any letter case, ``team/project`` too — and the CLI names an
ambiguity where the dashboard opens on the first candidate (core.targets)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from tests.dashboard.conftest import make_test_app, wait_ready
from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db

#: What the demo gets for these tests: a second project of team Acme differing in case only.
SHOUTING = "StoreFront"

#: (--project, --env) as typed -> (project name, environment name) both front ends open.
CASES = [
    (("storefront", None), ("storefront", None)),  # exact
    ((SHOUTING, None), (SHOUTING, None)),  # exact, although "storefront" matches in any case
    (("BILLING-API", None), ("billing-api", None)),  # only in another case
    (("acme/Billing-Api", None), ("billing-api", None)),  # team/project
    (("storefront", "BOB-LAPTOP"), ("storefront", "bob-laptop")),
]


def _add_shouting_project(db_url: str) -> UUID:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "insert into public.projects (team_id, name) values (%s, %s) returning id",
            (demo.TEAM_ACME, SHOUTING),
        ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    _add_shouting_project(fresh_db_url)
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize(("typed", "opened"), CASES)
def test_the_cli_resolves_names_by_the_rule(
    devsync: DevsyncCLI, typed: tuple[str, str | None], opened: tuple[str, str | None]
) -> None:
    project, env = typed
    where = ("--env", env) if env else ("--project-default",)
    result = devsync("env", "list", "--json", "--user", "alice", "--project", project, *where)
    assert result.code == 0, result.err
    label = json.loads(result.out)["target"]
    assert label == (f"{opened[0]}/{opened[1]}" if opened[1] else f"{opened[0]} (project defaults)")


def test_the_cli_names_an_ambiguity(devsync: DevsyncCLI) -> None:
    result = devsync("env", "list", "--user", "alice", "--project", "STOREFRONT")
    assert result.code == 2
    assert result.err == (
        "devsync: Project name 'STOREFRONT' is ambiguous; "
        "use one of: acme/StoreFront, acme/storefront.\n"
    )


@pytest.mark.parametrize(("typed", "opened"), [*CASES, (("STOREFRONT", None), None)])
async def test_the_dashboard_opens_where_the_cli_resolves(
    fresh_db_url: str, typed: tuple[str, str | None], opened: tuple[str, str | None] | None
) -> None:
    _add_shouting_project(fresh_db_url)
    project, env = typed
    open_at = {"project": project, **({"env": env} if env else {})}
    app = make_test_app(fresh_db_url, "alice", **open_at)
    async with app.run_test(size=app.test_size) as pilot:  # type: ignore[attr-defined]
        await wait_ready(pilot)
        selection = app.main.selection
        assert selection is not None
        assert selection.project is not None
        shown = (
            selection.project.name,
            selection.environment.name if selection.environment else None,
        )
        said = [n.message for n in app._notifications]
    if opened is None:  # ambiguous: the first candidate, one of the two, and it says so
        assert shown in {("storefront", None), (SHOUTING, None)}
        assert said == [
            "“STOREFRONT” names several: acme/StoreFront, acme/storefront; showing the first."
        ]
    else:
        assert shown == opened
        assert not any("names several" in message for message in said)
