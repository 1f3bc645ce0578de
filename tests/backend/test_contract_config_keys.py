"""Backend contract, on every transport: the keyed reads a live change makes
(``effective_configuration_keys``, ``project_configuration_keys``) answer exactly what the whole
reads answer for those keys — values, masking, source, version, who changed it — for an admin,
a member and a viewer; an outsider reads nothing."""

from __future__ import annotations

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from tests.backend.conftest import Transport
from tests.support import demo

pytestmark = pytest.mark.db

#: A file key with the characters PostgREST's ``in.(…)`` filter must quote.
ODD_KEY = 'conf/odd,name (1) "q".yml'
ENVIRONMENTS = (demo.ENV_BOB_LAPTOP, demo.ENV_STAGING, demo.ENV_CI_RUNNER)


def _some_keys(rows: list[EffectiveConfigRow]) -> list[str]:
    """Every other key of a view, its secrets and overrides, the odd key, one it lacks."""
    keys = {r.key for r in rows[::2]} | {r.key for r in rows if r.is_secret}
    keys |= {r.key for r in rows if r.source == "override"}
    return sorted(keys | {ODD_KEY, "NOT_A_KEY_ANYWHERE"})


async def _same_as_whole(backend: Backend) -> None:
    for env_id in ENVIRONMENTS:
        whole = await backend.effective_configuration(env_id)
        keys = _some_keys(whole)
        keyed = await backend.effective_configuration_keys(env_id, keys)
        assert keyed == [r for r in whole if r.key in keys], env_id
        assert any(r.is_secret for r in keyed)
    defaults = await backend.project_configuration(demo.PROJECT_STOREFRONT)
    keys = _some_keys(defaults)
    keyed = await backend.project_configuration_keys(demo.PROJECT_STOREFRONT, keys)
    assert keyed == [r for r in defaults if r.key in keys]
    assert any(r.key == ODD_KEY for r in keyed)


async def test_keyed_reads_equal_the_whole_reads_filtered(transport: Transport) -> None:
    alice = await transport.open("alice")
    await alice.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        ODD_KEY,
        "a: 1\n",
        is_secret=False,
        type=ConfigType.FILE,
        expected_version=None,
    )
    for name in ("alice", "bob", "carol"):  # admin, member, viewer
        await _same_as_whole(await transport.open(name))


async def test_a_viewer_gets_secrets_masked_and_no_keys_no_read(transport: Transport) -> None:
    carol = await transport.open("carol")
    keyed = await carol.effective_configuration_keys(
        demo.ENV_STAGING, ["STRIPE_SECRET_KEY", "SENTRY_DSN"]
    )
    assert [r.key for r in keyed] == ["SENTRY_DSN", "STRIPE_SECRET_KEY"]
    assert all(r.is_secret and r.value is None for r in keyed)
    assert await carol.effective_configuration_keys(demo.ENV_STAGING, []) == []
    assert await carol.project_configuration_keys(demo.PROJECT_STOREFRONT, set()) == []


async def test_an_outsider_reads_no_keys(transport: Transport) -> None:
    mallory = await transport.open("mallory")
    keys = ["API_BASE_URL", "STRIPE_SECRET_KEY"]
    assert await mallory.effective_configuration_keys(demo.ENV_STAGING, keys) == []
    assert await mallory.project_configuration_keys(demo.PROJECT_STOREFRONT, keys) == []
