"""Local encryption for caches that hold configuration values (offline snapshots, drafts).

AES-256-GCM from ``cryptography``. A blob is::

    b"DSX" | version (1 byte, 1) | nonce (12 random bytes) | ciphertext + 16-byte tag

The caller's ``context`` (e.g. ``"snapshot:<environment id>"``) and the 4-byte header are the
associated data, so a blob moved to another context, or a header changed, fails to decrypt.

The 256-bit key lives in the OS keyring (service ``devsync``, name ``local-key``). Where the
keyring has no usable backend (headless servers: keyring's ``fail`` backend), the key goes to
``locations.config_dir()/local-key`` (mode 0600, created atomically: written to a temp file and
hard-linked into place so two processes racing both end up with the same key), and a one-line
notice is given when that file is created, through :func:`set_notice_handler` (stderr by
default; the TUI routes it to a toast). Once the key file exists it is the key, and the
keyring is not asked (nor imported), except for a blob the file's key cannot open: one sealed
with the keyring's key before the file existed. ``DEVSYNC_KEYRING=off`` skips the keyring.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import secrets
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from devsync_tui import locations
from devsync_tui.core.keyring_choice import keyring_disabled

__all__ = [
    "KEYRING_NAME",
    "KEYRING_SERVICE",
    "CryptoError",
    "decrypt",
    "encrypt",
    "key_location",
    "set_notice_handler",
]

KEYRING_SERVICE = "devsync"
KEYRING_NAME = "local-key"
_MAGIC = b"DSX"
_VERSION = 1
_HEADER = _MAGIC + bytes([_VERSION])
_NONCE_LEN = 12
_TAG_LEN = 16
_KEY_LEN = 32

_log = logging.getLogger("devsync.crypto")
_lock = threading.Lock()
_cached_key: bytes | None = None
_cached_location: str | None = None
#: The keyring's key where the file's is the key (``_keyring_key``); False: not looked up.
_keyring_fallback: bytes | bool | None = False
_notice_given = False


class CryptoError(Exception):
    """A blob cannot be decrypted (tampered, wrong context, other key) or the key is unusable.

    The message is one plain sentence and never holds plaintext or key material.
    """


def _print_notice(message: str) -> None:
    print(f"devsync: {message}", file=sys.stderr)


_notice_handler: Callable[[str], None] = _print_notice


def set_notice_handler(handler: Callable[[str], None]) -> None:
    """Where the one-line "key kept in a file" notice goes (default: stderr)."""
    global _notice_handler
    _notice_handler = handler


def key_file() -> Path:
    """The fallback key file used when no keyring backend can store the key."""
    return locations.config_dir() / "local-key"


def key_location() -> str:
    """Where the key is kept: ``"keyring"`` or the key file's path (loads the key)."""
    _key()
    assert _cached_location is not None
    return _cached_location


def _reset_for_tests() -> None:
    """Forget the cached key (tests point ``DEVSYNC_CONFIG`` elsewhere between cases)."""
    global _cached_key, _cached_location, _keyring_fallback, _notice_given
    with _lock:
        _cached_key = None
        _cached_location = None
        _keyring_fallback = False
        _notice_given = False


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError(f"The local encryption key in {where} is not valid.") from exc
    if len(key) != _KEY_LEN:
        raise CryptoError(f"The local encryption key in {where} has the wrong length.")
    return key


def _keyring_get() -> str | None:
    """The stored key text, or None. Raises LookupError when no keyring backend is usable."""
    if keyring_disabled():
        raise LookupError("keyring disabled")
    try:
        # Deferred: keyring costs 0.1-0.2 s of CPU to import, which a start with DEVSYNC_KEYRING=off
        # (and every process that never encrypts) must not pay.
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, KEYRING_NAME)
        except KeyringError as exc:
            raise LookupError(str(exc)) from exc
    except LookupError:
        raise
    except Exception as exc:  # a broken backend (D-Bus errors etc.) is as good as none
        raise LookupError(type(exc).__name__) from exc


def _keyring_set(text: str) -> bool:
    try:
        import keyring  # deferred: see _keyring_get

        keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, text)
        # Some backends accept a write they cannot give back; trust only a read-back.
        return keyring.get_password(KEYRING_SERVICE, KEYRING_NAME) == text
    except Exception as exc:
        _log.info("keyring cannot store the local key (%s); using a key file", type(exc).__name__)
        return False


def _read_key_file(path: Path) -> bytes | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CryptoError(f"The local encryption key file {path} cannot be read.") from exc
    if stat.S_IMODE(st.st_mode) & 0o077:
        # Someone loosened it; tighten rather than refuse so the snapshot stays usable.
        _log.warning("tightening permissions of %s to 0600", path)
        try:
            os.chmod(path, 0o600)
        except OSError as exc:
            raise CryptoError(f"The local encryption key file {path} is not private.") from exc
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise CryptoError(f"The local encryption key file {path} cannot be read.") from exc
    return _decode_key(text, str(path))


def _create_key_file(path: Path, text: str) -> None:
    """Write the key with 0600 and put it in place without ever clobbering another's key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            # FileExistsError: another process won the race; its key is the key.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise CryptoError(f"The local encryption key file {path} cannot be written.") from exc


def _notice(message: str) -> None:
    global _notice_given
    if _notice_given:
        return
    _notice_given = True
    try:
        _notice_handler(message)
    except Exception:  # a notice must never break encryption
        _log.exception("notice handler failed")


def _key() -> bytes:
    global _cached_key, _cached_location
    with _lock:
        if _cached_key is not None:
            return _cached_key
        path = key_file()
        # The key file exists only where no keyring could take the key when it was made, and
        # once it exists the keyring never gets one: read it first, so a headless machine's
        # start does not pay for keyring's backend discovery (0.15-0.2 s of CPU here) to learn
        # that again. Where both exist (a desktop session made a keyring key, then an SSH
        # session without one made the file), every session now agrees on the file's key.
        from_file = _read_key_file(path)
        if from_file is not None:
            _cached_key, _cached_location = from_file, str(path)
            _log.info("local encryption key read from %s", path)
            return from_file
        keyring_usable = True
        try:
            stored = _keyring_get()
        except LookupError:
            keyring_usable = False
            stored = None
        if stored:
            _cached_key, _cached_location = _decode_key(stored, "the OS keyring"), "keyring"
            return _cached_key
        from_file = _read_key_file(path)  # another process may have made it meanwhile
        if from_file is None:
            text = base64.b64encode(secrets.token_bytes(_KEY_LEN)).decode("ascii")
            if keyring_usable and _keyring_set(text):
                _cached_key, _cached_location = _decode_key(text, "the OS keyring"), "keyring"
                return _cached_key
            _create_key_file(path, text)
            from_file = _read_key_file(path)
            if from_file is None:
                raise CryptoError(f"The local encryption key file {path} vanished.")
            created = True
        else:
            created = False
        _cached_key, _cached_location = from_file, str(path)
    if created:
        _notice(f"no OS keyring available; the local encryption key is kept in {path} (0600).")
    else:
        _log.info("local encryption key read from %s (no usable keyring)", path)
    return from_file


def _keyring_key() -> bytes | None:
    """The keyring's key, where the key file's is the key: blobs sealed before the file
    existed (a desktop session's, when an SSH session without a keyring later made the file)
    still open with it. Looked up once, only when a blob does not open with the file's key."""
    global _keyring_fallback
    _key()
    with _lock:
        if _keyring_fallback is False:
            _keyring_fallback = None
            if _cached_location != "keyring":
                try:
                    stored = _keyring_get()
                    _keyring_fallback = _decode_key(stored, "the OS keyring") if stored else None
                except (LookupError, CryptoError):
                    pass
        return _keyring_fallback if isinstance(_keyring_fallback, bytes) else None


def _aad(context: str) -> bytes:
    return _HEADER + context.encode("utf-8")


def encrypt(data: bytes, *, context: str) -> bytes:
    """Encrypt ``data``; only :func:`decrypt` with the same ``context`` (and key) opens it."""
    # Deferred: ~0.01 s of the dashboard's first frame (it imports this module at start and
    # encrypts only later, drafts and snapshots).
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(_NONCE_LEN)
    return _HEADER + nonce + AESGCM(_key()).encrypt(nonce, data, _aad(context))


def decrypt(blob: bytes, *, context: str) -> bytes:
    """Open a blob from :func:`encrypt`; CryptoError if it was altered or is from elsewhere."""
    # Deferred: see encrypt.
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(blob) < len(_HEADER) + _NONCE_LEN + _TAG_LEN or blob[: len(_MAGIC)] != _MAGIC:
        raise CryptoError("The encrypted data is not a DevSync blob.")
    if blob[len(_MAGIC)] != _VERSION:
        raise CryptoError(f"The encrypted data has an unknown format version {blob[3]}.")
    nonce = blob[len(_HEADER) : len(_HEADER) + _NONCE_LEN]
    sealed = blob[len(_HEADER) + _NONCE_LEN :]
    try:
        return AESGCM(_key()).decrypt(nonce, sealed, _aad(context))
    except InvalidTag as exc:
        older = _keyring_key()
        if older is not None:
            with contextlib.suppress(InvalidTag):
                return AESGCM(older).decrypt(nonce, sealed, _aad(context))
        raise CryptoError(
            "The encrypted data was altered, belongs elsewhere, or the key changed."
        ) from exc
