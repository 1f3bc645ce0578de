"""Transport parity for hostile input: the same bad input gives the same DevSync error class on
every transport (local Postgres and Supabase), in bounded time, with nothing written."""

from __future__ import annotations

import time

import pytest

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.core.models import ConfigType
from tests.backend.conftest import Transport
from tests.faults.test_hostile_input import _counts, _deep
from tests.support import demo

pytestmark = pytest.mark.db


BAD_CONFIG = [
    ("\udcff", "x"),  # a lone surrogate in the key
    ("HOSTILE", "bad \udcff utf-8"),  # … in the value
    ("HOSTILE", "a\x00b"),  # NUL
    ("KEY\x00NUL", "x"),
]


@pytest.mark.parametrize(
    ("key", "value"), BAD_CONFIG, ids=["key-surrogate", "surrogate", "nul", "key-nul"]
)
@pytest.mark.parametrize("secret", [False, True], ids=["plain", "secret"])
async def test_bad_configuration_is_invalid_input(
    transport: Transport, key: str, value: str, secret: bool
) -> None:
    alice = await transport.open("alice")
    before = _counts(transport.db_url)
    with pytest.raises(InvalidInput) as info:
        await alice.save_configuration(
            demo.PROJECT_STOREFRONT,
            None,
            key,
            value,
            is_secret=secret,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    assert len(str(info.value)) < 300
    assert _counts(transport.db_url) == before


async def test_deeply_nested_template_json_is_invalid_input(transport: Transport) -> None:
    alice = await transport.open("alice")
    before = _counts(transport.db_url)
    started = time.monotonic()
    with pytest.raises(InvalidInput):
        await alice.create_template(demo.PROJECT_STOREFRONT, "deep", _deep(100_000), [])
    assert time.monotonic() - started < 20
    assert _counts(transport.db_url) == before


async def test_surrogates_in_names_are_invalid_input(transport: Transport) -> None:
    alice = await transport.open("alice")
    before = _counts(transport.db_url)
    with pytest.raises(InvalidInput):
        await alice.create_environment(demo.PROJECT_STOREFRONT, "bad \udcff name")
    with pytest.raises(InvalidInput):
        await alice.create_template(demo.PROJECT_STOREFRONT, "t", {"K\udcff": "v"}, [])
    assert _counts(transport.db_url) == before


async def test_refusals_have_the_same_class_on_every_transport(transport: Transport) -> None:
    from uuid import UUID

    from devsync_tui.backend.errors import NotFound, PermissionDenied

    alice = await transport.open("alice")
    carol = await transport.open("carol")
    before = _counts(transport.db_url)
    with pytest.raises(NotFound):
        await alice.reveal_secret(UUID(int=7))
    with pytest.raises(InvalidInput):
        await alice.create_team("Acme again", "acme")  # slug taken
    with pytest.raises(InvalidInput):
        await alice.create_project(demo.TEAM_ACME, "storefront")  # name taken
    with pytest.raises(InvalidInput):
        await alice.create_project(demo.TEAM_ACME, "esc \x1b[2J")
    with pytest.raises(PermissionDenied):
        await carol.create_environment(demo.PROJECT_STOREFRONT, "carol-box")
    assert _counts(transport.db_url) == before


@pytest.mark.parametrize("number", [float("nan"), float("inf")], ids=["nan", "inf"])
async def test_a_health_value_json_cannot_hold_is_invalid_input(
    transport: Transport, number: float
) -> None:
    from datetime import UTC, datetime

    from devsync_tui.core.models import HealthPoint, MetricType

    bob = await transport.open("bob")
    before = _counts(transport.db_url)
    point = HealthPoint(MetricType.CPU, {"percent": number}, datetime.now(UTC))
    with pytest.raises(InvalidInput):
        await bob.report_health(demo.ENV_BOB_LAPTOP, [point])
    assert _counts(transport.db_url) == before
