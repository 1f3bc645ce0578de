"""A network cut in the middle of a save: it happened once or not at all, and DevSync can say
which once the database is reachable again (``OutcomeUnknown`` + ``Backend.confirm_save``).

The backend talks to the test database through a TCP proxy that drops the connection at a
chosen moment: right after the save's commit point went out (the save is one statement in
autocommit, so that is the Sync ending its request: the save happened, the reply is lost), or
after the RPC went out but before that Sync (the server rolls the statement back).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest

from devsync_tui.backend.errors import OutcomeUnknown, Unavailable
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType
from tests.support.demo import PROJECT_STOREFRONT as STOREFRONT
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.db


@pytest.fixture
async def proxied(fresh_db_url: str) -> AsyncIterator[tuple[TcpProxy, PostgresBackend]]:
    proxy = await TcpProxy(fresh_db_url).start()
    backend = PostgresBackend(
        proxy.url,
        "alice",
        embedded=False,
        min_size=1,
        max_size=2,
        acquire_timeout=1.0,
        read_tries=2,
    )
    await backend.connect()
    yield proxy, backend
    await backend.close()
    await proxy.close()


def _stored(db_url: str, key: str) -> list[tuple[int, str]]:
    with psycopg.connect(db_url) as conn:
        return [
            (int(v), str(val))
            for v, val in conn.execute(
                "select h.version, h.value from public.configuration_history h "
                "where h.project_id = %s and h.environment_id is null and h.key = %s "
                "and h.op <> 'delete' order by h.id",
                (STOREFRONT, key),
            ).fetchall()
        ]


async def _save(backend: PostgresBackend, key: str, value: str, expected: int | None) -> None:
    await backend.save_configuration(
        STOREFRONT,
        None,
        key,
        value,
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=expected,
    )


async def test_cut_after_commit_means_saved_exactly_once(
    proxied: tuple[TcpProxy, PostgresBackend], fresh_db_url: str
) -> None:
    proxy, backend = proxied
    await _save(backend, "CUT_KEY", "before", None)
    fired = proxy.cut_on(b"save_configuration", forward=True, commit=True)
    with pytest.raises(OutcomeUnknown):
        await _save(backend, "CUT_KEY", "after", 1)
    assert fired.is_set()
    assert await backend.confirm_save(STOREFRONT, None, "CUT_KEY", "after", expected_version=1)
    assert _stored(fresh_db_url, "CUT_KEY") == [(1, "before"), (2, "after")]


@pytest.mark.parametrize("forward", [True, False], ids=["server-got-rpc", "rpc-lost"])
async def test_cut_before_commit_means_not_saved(
    proxied: tuple[TcpProxy, PostgresBackend], fresh_db_url: str, forward: bool
) -> None:
    proxy, backend = proxied
    await _save(backend, "CUT_KEY", "before", None)
    fired = proxy.cut_on(b"save_configuration", forward=forward)
    with pytest.raises(Unavailable):
        await _save(backend, "CUT_KEY", "lost", 1)
    assert fired.is_set()
    assert not await backend.confirm_save(STOREFRONT, None, "CUT_KEY", "lost", expected_version=1)
    assert _stored(fresh_db_url, "CUT_KEY") == [(1, "before")]
    # and the same edit can simply be saved again now
    await _save(backend, "CUT_KEY", "lost", 1)
    assert _stored(fresh_db_url, "CUT_KEY") == [(1, "before"), (2, "lost")]


async def test_confirm_while_still_down_says_unavailable(
    proxied: tuple[TcpProxy, PostgresBackend],
) -> None:
    proxy, backend = proxied
    await _save(backend, "CUT_KEY", "before", None)
    proxy.cut_on(b"save_configuration", forward=True, commit=True)
    with pytest.raises(OutcomeUnknown):
        await _save(backend, "CUT_KEY", "after", 1)
    proxy.refuse = True
    proxy.cut()
    with pytest.raises(Unavailable):
        await backend.confirm_save(STOREFRONT, None, "CUT_KEY", "after", expected_version=1)
    proxy.refuse = False
    assert await backend.confirm_save(STOREFRONT, None, "CUT_KEY", "after", expected_version=1)


async def test_a_create_after_a_delete_is_confirmed_by_its_own_insert(fresh_db_url: str) -> None:
    """A key created again continues its numbering (v3 after v1, v2 and a delete): whether
    that create happened is read from the newest creation, never from the one before the
    delete."""
    backend = PostgresBackend(fresh_db_url, "alice", embedded=False, min_size=1, max_size=1)
    await backend.connect()
    try:
        await _save(backend, "AGAIN_KEY", "one", None)
        await _save(backend, "AGAIN_KEY", "two", 1)
        stored = await backend.configuration_history(STOREFRONT, None, "AGAIN_KEY")
        await backend.delete_configuration(stored[0].configuration_id, 2)
        # Deleted and not created again: the old creation does not count.
        assert not await backend.confirm_save(
            STOREFRONT, None, "AGAIN_KEY", "one", expected_version=None
        )
        await _save(backend, "AGAIN_KEY", "three", None)
        assert await backend.confirm_save(
            STOREFRONT, None, "AGAIN_KEY", "three", expected_version=None
        )
        assert not await backend.confirm_save(
            STOREFRONT, None, "AGAIN_KEY", "other", expected_version=None
        )
        assert _stored(fresh_db_url, "AGAIN_KEY") == [(1, "one"), (2, "two"), (3, "three")]
    finally:
        await backend.close()
