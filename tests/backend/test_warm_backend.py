"""WarmBackend: the snapshot's answers until the real backend (real PostgreSQL) is attached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from devsync_tui.backend.base import Backend
from devsync_tui.backend.call_keys import call_key
from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.live import LinkChanged, Resync
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.backend.warm import WarmBackend
from devsync_tui.core.models import Team
from tests.support import demo

pytestmark = pytest.mark.db

STALE = Team(id=demo.TEAM_ACME, name="Acme (snapshot)", slug="acme", owner_id=demo.ALICE.id)


@pytest.fixture
async def real(demo_db_url: str) -> AsyncIterator[PostgresBackend]:
    backend = PostgresBackend(demo_db_url, "alice", embedded=False)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def _warm() -> WarmBackend:
    return WarmBackend("LOCAL", {call_key("list_teams", (), {}): [STALE]})


async def test_answers_from_the_snapshot_until_attached(real: PostgresBackend) -> None:
    warm = _warm()
    backend = warm.as_backend()
    first = await backend.list_teams()
    assert first == [STALE]
    first.append(STALE)  # a caller's change to what it got is its own
    assert await backend.list_teams() == [STALE]
    warm.attach(real)
    assert [t.name for t in await backend.list_teams()] == [demo.TEAM_ACME_NAME]


async def test_other_calls_wait_for_the_real_backend(real: PostgresBackend) -> None:
    warm = _warm()
    waiting = asyncio.ensure_future(warm.as_backend().list_projects())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    warm.attach(real)
    projects = await asyncio.wait_for(waiting, 5)
    assert {p.name for p in projects} == set(demo.PROJECT_NAMES.values())


async def test_answer_now_only_from_the_snapshot(real: PostgresBackend) -> None:
    warm = _warm()

    async def teams(backend: Backend) -> list[str]:
        return [t.name for t in await backend.list_teams()]

    async def teams_and_projects(backend: Backend) -> int:
        return len(await backend.list_teams()) + len(await backend.list_projects())

    assert warm.answer_now(teams) == ["Acme (snapshot)"]
    assert warm.answer_now(teams_and_projects) is None  # would wait: dropped, nothing pending
    warm.attach(real)
    assert warm.answer_now(teams) is None  # real calls really wait: never run this way


async def test_the_feed_catches_up_once_live(real: PostgresBackend) -> None:
    warm = _warm()
    feed = warm.as_backend().changes()
    warm.attach(real)
    events = [await asyncio.wait_for(anext(feed), 5) for _ in range(2)]
    assert events[0] == LinkChanged("live")
    assert isinstance(events[1], Resync)
    await feed.aclose()  # type: ignore[attr-defined]


async def test_a_failed_or_closed_start_ends_the_waiting() -> None:
    warm = _warm()
    waiting = asyncio.ensure_future(warm.as_backend().list_projects())
    await asyncio.sleep(0)
    warm.fail(Unavailable("The database refused the connection."))
    with pytest.raises(Unavailable, match="refused"):
        await asyncio.wait_for(waiting, 5)
    assert await warm.as_backend().list_teams() == [STALE]  # the snapshot still answers

    closed = _warm()
    waiting = asyncio.ensure_future(closed.as_backend().list_projects())
    await asyncio.sleep(0)
    await closed.close()
    with pytest.raises(Unavailable):
        await asyncio.wait_for(waiting, 5)


def test_only_backend_methods_are_forwarded() -> None:
    warm = _warm()
    assert warm.label == "LOCAL"
    with pytest.raises(AttributeError):
        _ = warm.as_backend().no_such_method  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = warm._private  # type: ignore[attr-defined]
