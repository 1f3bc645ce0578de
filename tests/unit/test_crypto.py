"""core.crypto: AES-GCM blobs, context binding, tamper detection, key storage fallback."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.core import crypto


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    crypto._reset_for_tests()
    yield tmp_path / "cfg"
    crypto._reset_for_tests()


def test_round_trip_and_random_nonce() -> None:
    data = "DATABASE_URL=postgres://x\nüñí $HOME".encode()
    a = crypto.encrypt(data, context="snapshot:1")
    b = crypto.encrypt(data, context="snapshot:1")
    assert a != b  # fresh nonce every time
    assert data not in a
    assert a[:4] == b"DSX\x01"
    assert crypto.decrypt(a, context="snapshot:1") == data
    assert crypto.decrypt(b, context="snapshot:1") == data


def test_empty_plaintext() -> None:
    assert crypto.decrypt(crypto.encrypt(b"", context="c"), context="c") == b""


def test_wrong_context_is_refused() -> None:
    blob = crypto.encrypt(b"secret", context="snapshot:a")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(blob, context="snapshot:b")


@pytest.mark.parametrize("position", [0, 3, 5, 20, -1])
def test_any_flipped_byte_is_detected(position: int) -> None:
    blob = bytearray(crypto.encrypt(b"some plaintext", context="c"))
    blob[position] ^= 0x01
    with pytest.raises(crypto.CryptoError) as info:
        crypto.decrypt(bytes(blob), context="c")
    assert "plaintext" not in str(info.value)


def test_truncated_and_foreign_blobs() -> None:
    blob = crypto.encrypt(b"x" * 40, context="c")
    for bad in (b"", blob[:10], b"not a blob at all, but long enough to pass", blob[:-1]):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt(bad, context="c")


def test_key_file_fallback_is_private_and_stable(
    key_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = crypto.encrypt(b"v", context="c")
    key_path = key_home / "local-key"
    assert crypto.key_location() == str(key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one-line notice on creation
    assert str(key_path) in err
    # No stray temp files beside the key.
    assert sorted(p.name for p in key_home.iterdir()) == ["local-key"]
    # A new process (cache cleared) reads the same key back, silently.
    crypto._reset_for_tests()
    assert crypto.decrypt(blob, context="c") == b"v"
    assert capsys.readouterr().err == ""


def test_loosened_key_file_is_tightened(key_home: Path) -> None:
    blob = crypto.encrypt(b"v", context="c")
    key_path = key_home / "local-key"
    os.chmod(key_path, 0o644)
    crypto._reset_for_tests()
    assert crypto.decrypt(blob, context="c") == b"v"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_corrupt_key_file_is_a_clear_error(key_home: Path) -> None:
    key_home.mkdir(parents=True)
    (key_home / "local-key").write_text("not base64 !!\n")
    os.chmod(key_home / "local-key", 0o600)
    with pytest.raises(crypto.CryptoError, match="not valid"):
        crypto.encrypt(b"v", context="c")


def test_other_key_cannot_open(key_home: Path) -> None:
    blob = crypto.encrypt(b"v", context="c")
    (key_home / "local-key").unlink()
    crypto._reset_for_tests()
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(blob, context="c")


def test_headless_keyring_falls_back_to_file(tmp_path: Path) -> None:
    """With keyring enabled but no backend (this box's default), the file is used."""
    env = dict(os.environ)
    env.pop("DEVSYNC_KEYRING", None)
    env["DEVSYNC_CONFIG"] = str(tmp_path / "c2" / "config.toml")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    code = (
        "from devsync_tui.core import crypto;"
        "b = crypto.encrypt(b'x', context='c');"
        "print(crypto.key_location()); print(crypto.decrypt(b, context='c'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [str(tmp_path / "c2" / "local-key"), "b'x'"]
    assert "no OS keyring available" in out.stderr


def test_concurrent_creators_agree(tmp_path: Path) -> None:
    """Processes that race to create the key all end up with the same one."""
    env = dict(os.environ, DEVSYNC_CONFIG=str(tmp_path / "c3" / "config.toml"))
    env["DEVSYNC_KEYRING"] = "off"
    code = (
        "import base64;from devsync_tui.core import crypto;"
        "print(base64.b64encode(crypto._key()).decode())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    keys = {p.communicate()[0].strip() for p in procs}
    assert len(keys) == 1
    assert (tmp_path / "c3" / "local-key").read_text().strip() in keys


class _MemoryKeyring:
    """A real keyring backend (keyring's own base class) that keeps passwords in memory."""

    @staticmethod
    def make() -> object:
        from keyring.backend import KeyringBackend

        class Memory(KeyringBackend):
            priority = 1  # type: ignore[assignment]

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service: str, username: str) -> str | None:
                return self.store.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                self.store[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                self.store.pop((service, username), None)

        return Memory()


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """A ``_MemoryKeyring`` installed as keyring's backend for the test, the previous one put
    back after."""
    import keyring

    backend = _MemoryKeyring.make()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)  # type: ignore[arg-type]
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_key_goes_to_a_usable_keyring_and_no_file_is_written(
    key_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: Any,
) -> None:
    monkeypatch.delenv("DEVSYNC_KEYRING")
    blob = crypto.encrypt(b"v", context="c")
    assert crypto.key_location() == "keyring"
    assert (crypto.KEYRING_SERVICE, crypto.KEYRING_NAME) in memory_keyring.store
    assert not (key_home / "local-key").exists()
    assert capsys.readouterr().err == ""  # no notice: nothing fell back
    crypto._reset_for_tests()
    assert crypto.decrypt(blob, context="c") == b"v"


def test_an_existing_key_file_is_the_key_and_the_keyring_is_not_asked(
    key_home: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any
) -> None:
    """A desktop keyring holding another key does not split caches made under SSH (file)."""
    blob = crypto.encrypt(b"made headless", context="c")  # DEVSYNC_KEYRING=off: the file
    crypto._reset_for_tests()
    monkeypatch.delenv("DEVSYNC_KEYRING")
    other = base64.b64encode(b"k" * 32).decode()
    memory_keyring.store[(crypto.KEYRING_SERVICE, crypto.KEYRING_NAME)] = other
    assert crypto.decrypt(blob, context="c") == b"made headless"
    assert crypto.key_location() == str(key_home / "local-key")


def test_reading_an_existing_key_file_does_not_import_keyring(tmp_path: Path) -> None:
    """keyring's import and backend discovery cost a headless start 0.15-0.2 s of CPU."""
    env = dict(os.environ, DEVSYNC_CONFIG=str(tmp_path / "c4" / "config.toml"))
    env.pop("DEVSYNC_KEYRING", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    make = "from devsync_tui.core import crypto; crypto.encrypt(b'x', context='c')"
    subprocess.run([sys.executable, "-c", make], env=env, capture_output=True, check=True)
    code = (
        "import sys; from devsync_tui.core import crypto;"
        "crypto.encrypt(b'x', context='c'); print('keyring' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
    assert out.stderr == ""  # no notice: the file was already there


def test_a_blob_sealed_with_the_keyring_key_still_opens_once_a_key_file_exists(
    key_home: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any
) -> None:
    """A desktop session sealed a draft with the keyring's key; then an SSH session without
    a keyring made the key file, which is the key from then on: the draft is not lost."""
    monkeypatch.delenv("DEVSYNC_KEYRING")
    draft = crypto.encrypt(b"unsaved edit", context="draft:1")
    assert crypto.key_location() == "keyring"
    crypto._reset_for_tests()
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")  # the SSH session: no keyring
    crypto.encrypt(b"x", context="c")
    assert (key_home / "local-key").exists()
    crypto._reset_for_tests()
    monkeypatch.delenv("DEVSYNC_KEYRING")  # the desktop again
    assert crypto.decrypt(draft, context="draft:1") == b"unsaved edit"
    assert crypto.key_location() == str(key_home / "local-key")
    with pytest.raises(crypto.CryptoError):  # still bound to its context
        crypto.decrypt(draft, context="draft:2")
