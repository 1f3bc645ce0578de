"""Configuration values on the machine: gather an effective configuration (revealing secrets
where allowed), check keys/values before any write, tell whether a save whose reply was lost
happened, write files privately.

The checks mirror the database's ``save_configuration`` validation (docs/DATABASE.md) so that a
multi-key write (``devsync env import``) is refused as a whole before anything is written; the
database stays the authority.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied, Unavailable
from devsync_tui.core.credentials import looks_like_credential
from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from devsync_tui.core.private_file import write_output
from devsync_tui.logging_setup import register_secret
from devsync_tui.machine.targets import Target

MAX_VALUE_BYTES = 1_048_576
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def problem_with(key: str, value: str, type_: ConfigType) -> str | None:
    """Why the database would refuse this key/value (one sentence), or None if it is fine."""
    if type_ is ConfigType.ENV_VAR:
        if len(key) > 256 or not _ENV_KEY.fullmatch(key):
            return f"{key!r} is not a valid variable name (letters, digits, _; not first a digit)"
    else:
        if not key or len(key) > 1024 or key.startswith("/") or "\\" in key or "\x00" in key:
            return f"{key!r} is not a valid relative file path"
        if ".." in key.split("/"):
            return f"{key!r} must not contain a '..' segment"
        if {"", "."} & set(key.split("/")):
            return f"{key!r} must not have empty or '.' segments (no //, no trailing /)"
    if "\x00" in value:
        return f"the value of {key} contains a NUL byte"
    try:
        (key + value).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: undecodable bytes from argv or a file name
        return f"{key!r} or its value is not valid UTF-8 text"
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        return f"the value of {key} is larger than 1 MiB"
    if type_ is ConfigType.ENV_VAR and _BAD_CONTROL.search(value):
        return f"the value of {key} contains control characters"
    return None


def secret_by_look(key: str, *values: str | None, plain: bool = False) -> bool:
    """Whether a key is kept secret by its look: a name like a credential's, or one of
    ``values`` holding a URL with a password (``core/credentials.py``); never with ``plain``.
    The one rule for a key whose secrecy nobody chose: ``env import`` applies it to the keys
    it writes, ``env set`` to a key new to the configuration."""
    return not plain and any(looks_like_credential(key, value) for value in values or (None,))


def guess_type(key: str) -> ConfigType:
    """A path-like key (``config/app.yaml``, ``.npmrc``) is a file; anything else is meant as
    a variable (and validated as one, so ``1BAD`` is an error, not a file)."""
    if not _ENV_KEY.fullmatch(key) and ("/" in key or "." in key):
        return ConfigType.FILE
    return ConfigType.ENV_VAR


@dataclass(frozen=True, slots=True)
class Effective:
    """An effective configuration with the secrets this user may see revealed."""

    rows: dict[str, EffectiveConfigRow]
    values: dict[str, str]  # key -> value (plain, or revealed secret)
    withheld: list[str]  # secrets I may not reveal (sorted)


async def effective_rows(backend: Backend, target: Target) -> list[EffectiveConfigRow]:
    if target.environment is None:
        return await backend.project_configuration(target.project.id)
    return await backend.effective_configuration(target.environment.id)


async def reveal_all(backend: Backend, rows: Sequence[EffectiveConfigRow]) -> Effective:
    """Values of ``rows``, secrets revealed one by one (each reveal is audited by the DB)."""
    # A few at a time: more would only queue for the backend's connections (and time out).
    slots = asyncio.Semaphore(4)

    async def reveal(row: EffectiveConfigRow) -> str | None:
        async with slots:
            try:
                return await backend.reveal_secret(row.configuration_id)
            except PermissionDenied:
                return None

    secret_rows = [row for row in rows if row.is_secret]
    # Concurrently: each reveal is its own round trip (and audit row).
    revealed = await asyncio.gather(*(reveal(row) for row in secret_rows))
    secrets = {row.key: value for row, value in zip(secret_rows, revealed, strict=True)}
    by_key: dict[str, EffectiveConfigRow] = {}
    values: dict[str, str] = {}
    withheld: list[str] = []
    for row in rows:
        by_key[row.key] = row
        if not row.is_secret:
            values[row.key] = row.value or ""
        elif secrets[row.key] is None:
            withheld.append(row.key)
        else:
            register_secret(secrets[row.key] or "")
            values[row.key] = secrets[row.key] or ""
    return Effective(by_key, values, sorted(withheld))


async def gather(backend: Backend, target: Target) -> Effective:
    return await reveal_all(backend, await effective_rows(backend, target))


async def confirm_or_explain(
    backend: Backend, target: Target, key: str, value: str, expected: int | None
) -> None:
    """After a save whose outcome is unknown (the connection broke): return if the save
    happened (once), else raise Unavailable with one sentence saying what is known."""
    env_id = target.environment.id if target.environment else None
    for delay in (0.5, 1.0, 2.0, None):
        try:
            done = await backend.confirm_save(
                target.project.id, env_id, key, value, expected_version=expected
            )
        except Unavailable:
            if delay is None:
                raise Unavailable(
                    f"The connection broke while saving {key}; it may or may not have been "
                    f"written. Check with `devsync env get {key}` once the backend is back."
                ) from None
            await asyncio.sleep(delay)
            continue
        if done:
            return
        raise Unavailable(
            f"The connection broke while saving {key} and the save did not happen; "
            "nothing was written."
        )
    raise AssertionError("unreachable")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, a path the user named: atomically with mode 0600
    (temp file + rename), except that a link is kept (its file is written) and a FIFO or a
    device is written through (``core.private_file.write_output``)."""
    write_output(path, text.encode("utf-8"))
