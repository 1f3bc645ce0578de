"""Session storage: keyring first, else a 0600 file that is never readable by others."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from pathlib import Path

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


async def test_keyring_used_when_it_works(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backend import KeyringBackend

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
            from keyring.errors import PasswordDeleteError

            if (service, username) not in self.items:
                raise PasswordDeleteError(username)
            del self.items[(service, username)]

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
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
    finally:
        keyring.set_keyring(previous)


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
