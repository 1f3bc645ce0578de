"""Session storage: keyring first, else a 0600 file that is never readable by others."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.backend.supabase import session
from devsync_tui.backend.supabase.session import SessionStorage


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    return tmp_path / "cfg"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_fallback_file_is_0600_and_round_trips(config_dir: Path) -> None:
    store = SessionStorage("https://x.supabase.co", use_keyring=False)
    assert await store.get_item("supabase.auth.token") is None
    await store.set_item("supabase.auth.token", '{"access_token": "a"}')
    path = config_dir / "session.json"
    assert path.exists()
    assert _mode(path) == 0o600
    assert _mode(config_dir) == 0o700
    assert await store.get_item("supabase.auth.token") == '{"access_token": "a"}'
    # a second store (another run) reads the same session
    again = SessionStorage("https://x.supabase.co", use_keyring=False)
    assert await again.get_item("supabase.auth.token") == '{"access_token": "a"}'
    # other namespaces (profiles) are kept apart
    other = SessionStorage("https://y.supabase.co", use_keyring=False)
    assert await other.get_item("supabase.auth.token") is None
    await store.remove_item("supabase.auth.token")
    assert await store.get_item("supabase.auth.token") is None
    assert json.loads(path.read_text())["namespaces"] == {}


async def test_notice_only_the_first_time(config_dir: Path) -> None:
    store = SessionStorage("ns", use_keyring=False)
    await store.set_item("k", "v1")
    notice = store.pop_notice()
    assert notice is not None
    assert str(config_dir / "session.json") in notice
    assert store.pop_notice() is None
    await store.set_item("k", "v2")
    assert store.pop_notice() is None
    later = SessionStorage("ns", use_keyring=False)
    await later.set_item("k", "v3")
    assert later.pop_notice() is None


def test_file_never_world_readable_even_while_written(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Watch every file in the config dir while many writes happen under a permissive umask."""
    old_umask = os.umask(0)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if config_dir.exists():
                for entry in os.scandir(config_dir):
                    with contextlib.suppress(FileNotFoundError):
                        seen.append(stat.S_IMODE(entry.stat().st_mode))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        store = SessionStorage("ns", use_keyring=False)
        for i in range(200):
            store.set_sync("k", "x" * i)
    finally:
        stop.set()
        watcher.join()
        os.umask(old_umask)
    files = [m for m in seen if m not in (0o700,)]
    assert files, "the watcher saw no file"
    assert all(m & 0o077 == 0 for m in files), sorted({oct(m) for m in files})
    assert _mode(config_dir / "session.json") == 0o600
    assert [p.name for p in config_dir.iterdir()] == ["session.json"]


async def test_keyring_failure_falls_back_to_file(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.errors import NoKeyringError

    def refuse(*args: object) -> None:
        raise NoKeyringError("no backend")

    monkeypatch.setattr(keyring, "set_password", refuse)
    monkeypatch.setattr(keyring, "get_password", lambda *a: None)
    store = SessionStorage("ns", use_keyring=True)
    assert store.location == "the system keyring"
    await store.set_item("k", "v")
    assert store.location == str(config_dir / "session.json")
    assert store.pop_notice() is not None
    assert await store.get_item("k") == "v"


def _memory_keyring() -> Any:
    """A real keyring backend (keyring's own base class) that keeps passwords in memory."""
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if (service, username) not in self.items:
                raise PasswordDeleteError(username)
            del self.items[(service, username)]

    return MemoryKeyring()


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    import keyring

    backend = _memory_keyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


async def test_a_session_in_the_file_stays_there(config_dir: Path, memory_keyring: Any) -> None:
    """The file is read first and written back: a keyring value (an older session, or another
    login's) never shadows it, and nothing moves into the keyring behind the user's back."""
    account = ("devsync", "ns|supabase.auth.token")
    memory_keyring.items[account] = "older, in the keyring"
    headless = SessionStorage("ns", use_keyring=False)
    await headless.set_item("supabase.auth.token", "made where no keyring worked")
    store = SessionStorage("ns")
    assert await store.get_item("supabase.auth.token") == "made where no keyring worked"
    await store.set_item("supabase.auth.token", "refreshed")
    assert headless.get_sync("supabase.auth.token") == "refreshed"
    assert memory_keyring.items[account] == "older, in the keyring"
    assert store.location == str(config_dir / "session.json")
    from devsync_tui.backend.supabase import session_store

    assert session_store.peek("ns", "supabase.auth.token") == "refreshed"
    await store.remove_item("supabase.auth.token")  # logout clears both places
    assert memory_keyring.items == {}
    assert await store.get_item("supabase.auth.token") is None


async def test_after_a_keyring_failure_the_newer_session_in_the_file_wins(
    config_dir: Path, memory_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh that could not reach the keyring (a D-Bus hiccup) went to the file; a later
    start must not read the keyring's older, already-used refresh token."""
    store = SessionStorage("ns")
    await store.set_item("k", "first")
    assert memory_keyring.items == {("devsync", "ns|k"): "first"}

    def refuse(*args: object) -> None:
        raise RuntimeError("D-Bus went away")

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    await store.set_item("k", "second")
    assert await SessionStorage("ns").get_item("k") == "second"


def test_reading_a_session_from_the_file_does_not_import_keyring(tmp_path: Path) -> None:
    """keyring's import and backend discovery cost a headless start 0.15-0.2 s of CPU."""
    env = dict(os.environ, DEVSYNC_CONFIG=str(tmp_path / "cfg" / "config.toml"))
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    code = (
        "import sys;"
        "from devsync_tui.backend.supabase import session_store as s;"
        "s._FallbackFile(s.fallback_path()).set('ns', 'k', 'v');"
        "print(s.peek('ns', 'k'), 'keyring' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["v", "False"]


async def test_keyring_used_when_it_works(config_dir: Path, memory_keyring: Any) -> None:
    backend = memory_keyring
    assert session.keyring_usable()
    store = SessionStorage("https://p.supabase.co")
    await store.set_item("supabase.auth.token", "tok")
    assert backend.items == {("devsync", "https://p.supabase.co|supabase.auth.token"): "tok"}
    assert not (config_dir / "session.json").exists()
    assert store.pop_notice() is None
    assert await store.get_item("supabase.auth.token") == "tok"
    await store.remove_item("supabase.auth.token")
    assert backend.items == {}
    await store.remove_item("supabase.auth.token")  # removing twice is fine


async def test_devsync_keyring_off_keeps_sessions_in_the_file(
    config_dir: Path, memory_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DEVSYNC_KEYRING=off keeps the keyring out of sessions too, not only the local key."""
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    assert not session.keyring_usable()
    store = SessionStorage("https://p.supabase.co")
    await store.set_item("supabase.auth.token", "tok")
    assert memory_keyring.items == {}
    assert (config_dir / "session.json").exists()
    assert await store.get_item("supabase.auth.token") == "tok"


def test_headless_default_is_the_file() -> None:
    import keyring
    from keyring.backends import fail

    if isinstance(keyring.get_keyring(), fail.Keyring):
        assert not session.keyring_usable()
    else:
        assert session.keyring_usable()


def test_corrupt_file_is_ignored_and_replaced(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "session.json").write_text("{not json")
    store = SessionStorage("ns", use_keyring=False)
    assert store.get_sync("k") is None
    store.set_sync("k", "v")
    assert store.get_sync("k") == "v"
    assert _mode(config_dir / "session.json") == 0o600


async def test_the_session_lock_excludes_other_tasks_of_the_process(config_dir: Path) -> None:
    # Re-entering the lock is free only inside the block (the same task, or a task it starts
    # there); any other task of this process waits, as another process would.
    store = SessionStorage("ns", use_keyring=False)
    order: list[str] = []
    inside = asyncio.Event()

    async def holder() -> None:
        async with store.locked():
            order.append("A in")
            inside.set()
            async with store.locked():  # the same task again: no wait
                order.append("A again")

            async def helper() -> None:
                async with store.locked():  # started inside the block: no wait either
                    order.append("A's helper")

            await asyncio.wait_for(asyncio.create_task(helper()), 1)
            await asyncio.sleep(0.2)  # the other task, meanwhile, must not get in
            order.append("A out")

    async def other() -> None:
        await inside.wait()
        async with store.locked():
            order.append("B in")

    await asyncio.wait_for(asyncio.gather(holder(), other()), 10)
    assert order == ["A in", "A again", "A's helper", "A out", "B in"]


def test_an_existing_folder_keeps_its_mode_and_only_the_session_is_private(
    config_dir: Path,
) -> None:
    # The settings folder may be $HOME or the data folder pgserver must enter: never chmod-ed.
    config_dir.mkdir()
    config_dir.chmod(0o755)
    store = SessionStorage("ns", use_keyring=False)
    store.set_sync("k", "v")
    assert _mode(config_dir) == 0o755
    assert _mode(config_dir / "session.json") == 0o600
    assert store.get_sync("k") == "v"


def test_a_folder_others_may_write_to_is_refused_not_chmod_ed(config_dir: Path) -> None:
    from devsync_tui.backend.errors import PermissionDenied

    config_dir.mkdir()
    config_dir.chmod(0o770)
    store = SessionStorage("ns", use_keyring=False)
    with pytest.raises(PermissionDenied, match="Other users may write to the folder"):
        store.set_sync("k", "v")

    async def lock() -> None:
        async with store.locked():
            pass

    with pytest.raises(PermissionDenied, match="Other users may write to the folder"):
        asyncio.run(lock())
    assert _mode(config_dir) == 0o770
    assert list(config_dir.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="making another user's file needs root")
def test_a_session_file_of_another_user_is_not_read(config_dir: Path) -> None:
    # In a shared sticky folder, someone could put a session of theirs where ours goes.
    config_dir.mkdir(mode=0o700)
    planted = config_dir / "session.json"
    planted.write_text(json.dumps({"namespaces": {"ns": {"k": "theirs"}}}))
    os.chown(planted, 65534, 65534)
    store = SessionStorage("ns", use_keyring=False)
    assert store.get_sync("k") is None
    os.chown(planted, os.geteuid(), os.getegid())
    assert store.get_sync("k") == "theirs"
