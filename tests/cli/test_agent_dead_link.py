"""``devsync agent`` in a checkout whose link is dead (its environment deleted, its project
gone or its team left): it refuses as ``scan`` and ``run`` do, and never reports into another
project or a new environment instead (QA: it had relinked the checkout to the only project
left visible and uploaded its packages and key names there)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

BOB = ("--user", "bob")
NPM_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles" / "npm-v3"
DEAD = (
    "devsync: The environment linked to this checkout no longer exists or is not visible to "
    "you; pass --env or run `devsync env link --env NAME`.\n"
)


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    cli = make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)
    repo = cli.home / "repo"
    (repo / ".git").mkdir(parents=True)
    shutil.copy(NPM_FIXTURE / "package.json", repo / "package.json")
    shutil.copy(NPM_FIXTURE / "package-lock.json", repo / "package-lock.json")
    monkeypatch.chdir(repo)
    return cli


def _sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def _environments(url: str) -> int:
    return int(_sql(url, "select count(*) from public.environments")[0][0])


def test_a_deleted_environment_is_not_replaced_by_a_new_one(devsync: DevsyncCLI) -> None:
    link = ("--project", "storefront", "--env", "bob-laptop")
    assert devsync("env", "link", *BOB, *link).code == 0
    _sql(devsync.db_url, "delete from public.environments where id = %s", demo.ENV_BOB_LAPTOP)
    before = _environments(devsync.db_url)
    result = devsync("agent", "--once", *BOB)
    assert (result.code, result.err) == (2, DEAD)
    assert _environments(devsync.db_url) == before


def test_a_project_no_longer_visible_is_not_replaced_by_another(devsync: DevsyncCLI) -> None:
    """bob's checkout was linked to a project of a team since deleted; he can still see one
    other project: the agent must not report there."""
    team = _sql(
        devsync.db_url,
        "insert into public.teams (name, slug, owner_id) values ('Globex', 'globex', %s)"
        " returning id",
        demo.ALICE.id,
    )[0][0]
    _sql(
        devsync.db_url,
        "insert into public.team_members (team_id, user_id, role) values (%s, %s, 'admin'),"
        " (%s, %s, 'member') on conflict do nothing",
        team, demo.ALICE.id, team, demo.BOB.id,
    )  # fmt: skip
    project = _sql(
        devsync.db_url,
        "insert into public.projects (team_id, name) values (%s, 'checkout-api') returning id",
        team,
    )[0][0]
    _sql(
        devsync.db_url,
        "insert into public.environments (project_id, user_id, name) values (%s, %s, 'laptop')"
        " returning id",
        project, demo.BOB.id,
    )  # fmt: skip
    assert devsync("env", "link", *BOB, "--project", "checkout-api", "--env", "laptop").code == 0
    _sql(devsync.db_url, "delete from public.teams where id = %s", team)
    # bob now sees one project only: the relink the agent must not make.
    _sql(devsync.db_url, "delete from public.projects where id = %s", demo.PROJECT_BILLING)
    before = _environments(devsync.db_url)
    result = devsync("agent", "--once", *BOB)
    assert (result.code, result.err) == (2, DEAD)
    assert _environments(devsync.db_url) == before
