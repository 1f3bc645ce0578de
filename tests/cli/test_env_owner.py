"""``devsync env owner USER``: admins give an environment to a member or admin of its team
(local transport, real Postgres; both transports run the RPC in
tests/backend/test_contract_owner.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db

BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_an_admin_gives_bob_laptop_to_dave_and_dave_may_then_write(devsync: DevsyncCLI) -> None:
    result = devsync("env", "owner", "dave", *BOB_LAPTOP)
    assert result.code == 0, result.err
    assert result.out == "storefront/bob-laptop now belongs to dave.\n"
    written = devsync("env", "set", "DAVE_KEY=1", "--plain", "--user", "dave", *BOB_LAPTOP)
    assert written.code == 0, written.err
    refused = devsync("env", "set", "BOB_KEY=1", "--plain", "--user", "bob", *BOB_LAPTOP)
    assert refused.code == 3, refused.err
    again = devsync("env", "owner", "Dave", *BOB_LAPTOP)  # any letter case
    assert again.code == 0, again.err
    assert again.out == "storefront/bob-laptop already belongs to dave; nothing was changed.\n"


def test_json(devsync: DevsyncCLI) -> None:
    result = devsync("env", "owner", "erin", *BOB_LAPTOP, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "project": "storefront",
        "environment": "bob-laptop",
        "environment_id": str(demo.ENV_BOB_LAPTOP),
        "owner": "erin",
        "owner_id": str(demo.ERIN.id),
        "previous_owner": "bob",
        "changed": True,
    }


@pytest.mark.parametrize(
    ("user", "args", "code", "said"),
    [
        ("dave", ("--user", "dave"), 3, "Only an admin of the team can change who owns"),
        ("dave", ("--user", "bob"), 3, "Only an admin of the team can change who owns"),
        ("carol", ("--user", "carol"), 3, "Only an admin of the team can change who owns"),
        ("carol", (), 2, "carol is a viewer of the team"),
        ("mallory", (), 2, "mallory is not in this project's team"),
        ("nobody", (), 2, "nobody is not in this project's team"),
        ("", (), 2, "Name the new owner"),
        ("  ", (), 2, "Name the new owner"),
    ],
)
def test_refusals(
    devsync: DevsyncCLI, user: str, args: tuple[str, ...], code: int, said: str
) -> None:
    result = devsync("env", "owner", user, *BOB_LAPTOP, *args)
    assert result.code == code, result.err
    assert said in result.err
    assert result.out == ""
    listed = devsync("env", "owner", "bob", *BOB_LAPTOP, "--json")
    assert json.loads(listed.out)["changed"] is False  # still bob's


def test_an_empty_env_name_is_bad_input(devsync: DevsyncCLI) -> None:
    result = devsync("env", "owner", "dave", "--project", "storefront", "--env", "")
    assert result.code == 2
