"""``devsync env set`` when the connection breaks after the save was sent: the CLI asks the
database whether it happened (``Backend.confirm_save``) instead of guessing or retrying."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import demo
from tests.support.devsync_cli import DevsyncCLI, make_devsync
from tests.support.tcp_proxy import TcpProxy

BOB = ("--user", "bob")
BOB_LAPTOP = ("--project", "storefront", "--env", "bob-laptop")


@pytest.fixture
def proxy(fresh_db_url: str) -> Iterator[tuple[TcpProxy, asyncio.AbstractEventLoop]]:
    # The CLI runs its own event loop (asyncio.run); the proxy lives in another thread's loop.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started = asyncio.run_coroutine_threadsafe(TcpProxy(fresh_db_url).start(), loop).result(10)
    yield started, loop
    asyncio.run_coroutine_threadsafe(started.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def _versions(url: str, key: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select version from configuration_history where environment_id = %s and key = %s "
            "order by version",
            (demo.ENV_BOB_LAPTOP, key),
        ).fetchall()
    return [r[0] for r in rows]


def test_connection_cut_mid_save_is_checked_not_guessed(
    devsync: DevsyncCLI,
    proxy: tuple[TcpProxy, asyncio.AbstractEventLoop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The save's statement reaches the server, then the connection dies before COMMIT: the
    # database rolled it back, and the CLI says so after asking (exit 4), never "Set".
    tcp, loop = proxy
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", tcp.url)
    fired = asyncio.run_coroutine_threadsafe(
        _arm(tcp, b"save_configuration", forward=True), loop
    ).result(10)
    result = devsync("env", "set", "CUT_MID_SAVE=yes", *BOB, *BOB_LAPTOP)
    assert fired.is_set()
    assert result.code == 4
    assert "the save did not happen; nothing was written" in result.err
    assert _versions(devsync.db_url, "CUT_MID_SAVE") == []
    # Asked again, the same command now writes version 1, once.
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", devsync.db_url)
    assert devsync("env", "set", "CUT_MID_SAVE=yes", *BOB, *BOB_LAPTOP).code == 0
    assert _versions(devsync.db_url, "CUT_MID_SAVE") == [1]


async def _confirm(url: str, key: str, expected: int | None) -> str:
    from devsync_tui.backend.errors import Unavailable
    from devsync_tui.backend.postgres.backend import PostgresBackend
    from devsync_tui.machine.targets import Target, find_environment
    from devsync_tui.machine.values import confirm_or_explain

    backend = PostgresBackend(url, "bob", embedded=False)
    await backend.connect()
    try:
        project, env = await find_environment(backend, "storefront/bob-laptop", None)
        try:
            await confirm_or_explain(backend, Target(project, env), key, "v", expected)
        except Unavailable as exc:
            return str(exc)
        return "happened"
    finally:
        await backend.close()


def test_confirmation_tells_once_from_not_at_all(devsync: DevsyncCLI) -> None:
    # A reply lost after COMMIT: the version exists, written by me, with my value.
    assert devsync("env", "set", "SAVED=v", *BOB, *BOB_LAPTOP).code == 0
    assert asyncio.run(_confirm(devsync.db_url, "SAVED", None)) == "happened"
    assert "did not happen" in asyncio.run(_confirm(devsync.db_url, "SAVED", 1))
    assert "did not happen" in asyncio.run(_confirm(devsync.db_url, "NEVER_SAVED", None))


def test_lost_request_says_nothing_was_written(
    devsync: DevsyncCLI,
    proxy: tuple[TcpProxy, asyncio.AbstractEventLoop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tcp, loop = proxy
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", tcp.url)
    asyncio.run_coroutine_threadsafe(_arm(tcp, b"save_configuration", forward=False), loop).result(
        10
    )
    result = devsync("env", "set", "LOST_REQUEST=yes", *BOB, *BOB_LAPTOP)
    assert _versions(devsync.db_url, "LOST_REQUEST") == []
    if result.code == 0:
        pytest.fail("a save that never arrived was reported as done")
    assert result.code == 4
    assert "Traceback" not in result.err


async def _arm(tcp: TcpProxy, marker: bytes, *, forward: bool) -> asyncio.Event:
    return tcp.cut_on(marker, forward=forward)


def test_import_cut_off_says_what_was_written(
    devsync: DevsyncCLI,
    proxy: tuple[TcpProxy, asyncio.AbstractEventLoop],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tcp, loop = proxy
    env_file = devsync.home / ".env"
    env_file.write_text("IMPORT_A=1\nIMPORT_B=2\n")
    monkeypatch.setenv("DEVSYNC_DATABASE_URL", tcp.url)
    asyncio.run_coroutine_threadsafe(_arm(tcp, b"save_configuration", forward=False), loop).result(
        10
    )
    result = devsync("env", "import", str(env_file), "--yes", *BOB, *BOB_LAPTOP)
    assert result.code == 4
    assert "did not happen" in result.err
    assert "written before it: none." in result.err
    assert _versions(devsync.db_url, "IMPORT_A") == []
    assert _versions(devsync.db_url, "IMPORT_B") == []
