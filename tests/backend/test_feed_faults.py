"""Faults under a subscribed local backend: connections killed, the database stopped and started.

Expected: other calls raise ``Unavailable`` while the database is down (never hang, never a
psycopg type), the feed reports ``reconnecting``, comes back ``live`` by itself, yields
``Resync``, and what was committed during the gap is there when views re-read.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.live import ChangeEvent, LinkChanged, Resync
from devsync_tui.backend.postgres import server
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType
from tests.backend.conftest import next_event
from tests.support import demo

pytestmark = pytest.mark.db


def _reconnecting(event: Any) -> bool:
    return isinstance(event, LinkChanged) and event.state == "reconnecting"


def _inserted(key: str) -> Any:
    def match(event: Any) -> bool:
        return (
            isinstance(event, ChangeEvent)
            and event.table == "configurations"
            and event.op == "INSERT"
            and event.row.key == key
        )

    return match


async def _save(backend: PostgresBackend, key: str) -> None:
    await backend.save_configuration(
        demo.PROJECT_STOREFRONT,
        None,
        key,
        "v",
        is_secret=False,
        type=ConfigType.ENV_VAR,
        expected_version=None,
    )


async def _keys(backend: PostgresBackend) -> set[str]:
    return {c.key for c in await backend.list_configurations(demo.PROJECT_STOREFRONT)}


@pytest.fixture
async def opened() -> AsyncIterator[list[PostgresBackend]]:
    backends: list[PostgresBackend] = []
    yield backends
    for backend in backends:
        await backend.close()


async def _open(
    opened: list[PostgresBackend], url: str, user: str, **options: Any
) -> PostgresBackend:
    backend = PostgresBackend(url, user, embedded=False, feed_max_backoff=0.5, **options)
    await backend.connect()
    opened.append(backend)
    return backend


async def test_killed_connections(fresh_db_url: str, opened: list[PostgresBackend]) -> None:
    alice = await _open(opened, fresh_db_url, "alice")
    bob = await _open(opened, fresh_db_url, "bob")
    feed = alice.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))
    assert await _keys(alice)  # the pools hold live connections now
    async with await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True) as admin:
        await admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )
    await next_event(feed, _reconnecting)
    # During the gap (the feed waits until asked again): bob's pool replaces its dead
    # connections transparently, and his write commits while nobody listens.
    await _save(bob, "DURING_GAP")
    await next_event(feed, lambda e: e == LinkChanged("live"))
    assert isinstance(await next_event(feed, lambda e: True), Resync)
    assert "DURING_GAP" in await _keys(alice)  # the re-read after Resync catches up
    await _save(bob, "AFTER_GAP")
    await next_event(feed, _inserted("AFTER_GAP"))
    await feed.aclose()  # type: ignore[attr-defined]


@pytest.fixture
def embedded_data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private embedded server (its own data dir): stopping it disturbs no other test."""
    # Not tmp_path: pytest keeps it 0700, which locks out the user pgserver runs postgres as.
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-faults-"))
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
    try:
        yield data_dir
    finally:
        server.reset()  # stops it and deletes it (as root, its service folder too)
        shutil.rmtree(data_dir, ignore_errors=True)


async def test_database_stopped_and_started(
    embedded_data_dir: Path, opened: list[PostgresBackend]
) -> None:
    url = await asyncio.to_thread(server.ensure_running)
    alice = await _open(opened, url, "alice")  # default pool timeout and read retries
    feed = alice.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))

    assert await asyncio.to_thread(server.stop)  # pg_ctl stop (fast) through the server's bin dir
    await next_event(feed, _reconnecting)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Unavailable):
        await alice.list_teams()
    with pytest.raises(Unavailable):
        await _save(alice, "WHILE_DOWN")  # a write: never retried
    # The feed knows the link is down, so calls fail fast instead of waiting out the pool.
    assert loop.time() - started < 2.5

    assert await asyncio.to_thread(server.ensure_running) == url
    bob = await _open(opened, url, "bob")
    await _save(bob, "DURING_GAP")  # committed before alice's feed is back

    await next_event(feed, lambda e: e == LinkChanged("live"), within=15)
    assert isinstance(await next_event(feed, lambda e: True), Resync)
    keys = await _keys(alice)  # alice's pool is usable again right away
    assert "DURING_GAP" in keys
    assert "WHILE_DOWN" not in keys
    await _save(bob, "AFTER_RESTART")
    await next_event(feed, _inserted("AFTER_RESTART"))
    await feed.aclose()  # type: ignore[attr-defined]


async def test_closing_the_backend_ends_its_feed(
    fresh_db_url: str, opened: list[PostgresBackend]
) -> None:
    alice = await _open(opened, fresh_db_url, "alice")
    feed = alice.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))
    waiting = asyncio.ensure_future(anext(feed))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    await alice.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)
    # Pool, LISTEN and re-read connections are all closed (server backends exit just after).
    async with await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True) as admin:
        for _ in range(50):
            cur = await admin.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and backend_type = 'client backend'"
            )
            remaining = await cur.fetchone()
            if remaining == (0,):
                break
            await asyncio.sleep(0.05)
        assert remaining == (0,)
        # It said it stopped listening: writes stop notifying (migration 20261207230000).
        cur = await admin.execute("select count(*) from private.change_listeners")
        assert await cur.fetchone() == (0,)


async def test_a_feed_is_a_registered_listener_while_it_runs(
    fresh_db_url: str, opened: list[PostgresBackend]
) -> None:
    """Writes notify only while a feed is registered: none before the first dashboard opens
    its feed, one row per feed while it runs, none once it is closed."""
    alice = await _open(opened, fresh_db_url, "alice")

    async def listeners() -> int:
        async with await psycopg.AsyncConnection.connect(fresh_db_url) as admin:
            cur = await admin.execute("select count(*) from private.change_listeners")
            row = await cur.fetchone()
            return row[0] if row else -1

    assert await listeners() == 0
    feed = alice.changes()
    await next_event(feed, lambda e: e == LinkChanged("live"))
    assert await listeners() == 1
    bob = await _open(opened, fresh_db_url, "bob")
    await _save(bob, "HEARD_BY_ALICE")
    await next_event(feed, _inserted("HEARD_BY_ALICE"))
    await feed.aclose()  # type: ignore[attr-defined]
    assert await listeners() == 0


class _FreezingProxy:
    """TCP → database proxy that can go silent: bytes stop flowing but no socket closes, as on
    a cut network where no RST ever arrives. Connections opened after ``thaw`` work again."""

    def __init__(self, target_url: str) -> None:
        params = conninfo_to_dict(target_url)
        self._target = params
        self._frozen = False
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host = str(self._target.get("host") or "/tmp")
        port = int(self._target.get("port") or 5432)
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, port)

    async def start(self) -> _FreezingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = make_conninfo(
            "",
            **{k: v for k, v in self._target.items() if k not in ("host", "port")},
            host="127.0.0.1",
            port=str(port),
        )
        return self

    def freeze(self) -> None:
        self._frozen = True

    def thaw(self) -> None:
        self._frozen = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._upstream()
        born_frozen = self._frozen
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, born_frozen))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, born_frozen: bool
    ) -> None:
        frozen_at_start = self._frozen and not born_frozen
        try:
            while data := await src.read(65536):
                if (self._frozen and not born_frozen) or frozen_at_start:
                    frozen_at_start = True  # a frozen link stays dead: drop, never close
                    continue
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def test_silent_link_is_noticed_by_the_liveness_ping(
    fresh_db_url: str, opened: list[PostgresBackend]
) -> None:
    proxy = await _FreezingProxy(fresh_db_url).start()
    try:
        alice = PostgresBackend(proxy.url, "alice", embedded=False, feed_liveness_interval=0.5)
        await alice.connect()
        opened.append(alice)
        bob = await _open(opened, fresh_db_url, "bob")  # direct: unaffected by the cut
        feed = alice.changes()
        await next_event(feed, lambda e: e == LinkChanged("live"))
        proxy.freeze()
        await _save(bob, "UNSEEN_WHILE_CUT")
        await next_event(feed, _reconnecting, within=5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(Unavailable):  # a pooled connection went silent: bounded, not hung
            await alice.list_teams()
        assert loop.time() - started < 4  # the silent connection was severed, not awaited
        proxy.thaw()
        await next_event(feed, lambda e: e == LinkChanged("live"), within=10)
        assert isinstance(await next_event(feed, lambda e: True), Resync)
        # The views' re-read works: pooled connections that went silent were replaced.
        assert "UNSEEN_WHILE_CUT" in await asyncio.wait_for(_keys(alice), 10)
        await _save(bob, "AFTER_CUT")
        await next_event(feed, _inserted("AFTER_CUT"))
        await feed.aclose()  # type: ignore[attr-defined]
    finally:
        await proxy.close()
