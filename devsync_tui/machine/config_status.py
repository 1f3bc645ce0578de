"""What this checkout actually runs, against the environment's effective configuration
(``devsync env status``, ``devsync env pull``, the agent's report).

Read on the machine, never sent anywhere: the checkout's dotenv files (``.env``, then
``.env.local``, then the files its link lists; a later file wins for a key it repeats), read
with the import grammar (``core/dotenv.py``), and every ``file`` configuration at its path in
the checkout. Secrets are revealed only where the comparer may (a machine token: its own
environment; a user: by the reveal rule) and only when the checkout has the key; one that may
not be revealed is ``unknown``. The comparison itself is ``core.config_states.compare``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.core import dotenv
from devsync_tui.core.config_states import (
    DriftState,
    KeyStatus,
    KeyVersion,
    Synced,
    compare,
    needs_history,
)
from devsync_tui.core.execution_control import is_dotenv_name, is_execution_control, path_parts
from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from devsync_tui.logging_setup import register_secret
from devsync_tui.machine import links
from devsync_tui.machine.errors import InputError

#: Read in this order; a later file wins for a key both have.
DOTENV_FILES = (".env", ".env.local")
#: Larger than any configuration value (1 MiB): such a file cannot be in sync.
MAX_FILE_BYTES = 1_048_576
#: What a file that is not UTF-8 text (or too large) compares as: no value can equal it.
_UNEQUAL = "\x00"

#: (configuration id, version) → revealed value (None: may not reveal). The agent keeps one
#: across cycles, so a secret is revealed (and audited) once per version, not every minute.
RevealCache = dict[tuple[UUID, int], str | None]


@dataclass
class LocalConfig:
    """What the checkout has."""

    root: Path
    dotenv_names: list[str] = field(default_factory=list)  # every one read, in order
    dotenv_files: list[str] = field(default_factory=list)  # those that exist, in order
    values: dict[str, str] = field(default_factory=dict)  # dotenv keys, merged
    origin: dict[str, str] = field(default_factory=dict)  # key → the file it comes from
    files: dict[str, str | None] = field(default_factory=dict)  # file config → content
    unreadable: set[str] = field(default_factory=set)  # file configs outside the checkout


@dataclass
class StatusReport:
    """The outcome for one checkout."""

    environment_id: UUID
    local: LocalConfig
    statuses: list[KeyStatus]
    rows: dict[str, EffectiveConfigRow]
    values: dict[str, str]  # synced values known here (plain, and secrets revealed)
    versions: dict[str, list[KeyVersion]]

    @property
    def not_in_sync(self) -> list[KeyStatus]:
        return [s for s in self.statuses if s.state is not DriftState.IN_SYNC]


def inside(root: Path, relative: str) -> Path | None:
    """``root / relative`` when it stays inside ``root`` (links resolved), else None."""
    base = root.resolve()
    path = (base / relative).resolve()
    return path if path == base or base in path.parents else None


#: Version-control folders: their hooks and configuration run programs (core.fsmonitor, …).
VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", ".jj"})


def vcs_folder(path: str) -> str | None:
    """The version-control folder ``path`` (relative) goes through, as named, or None."""
    named = path.split("/")
    return next((named[i] for i, part in enumerate(path_parts(path)) if part in VCS_FOLDERS), None)


def dotenv_refusal(root: Path, name: str) -> str | None:
    """Why variables are never written into the dotenv file ``name`` of the checkout, or
    None: it is in a version-control folder, or a link leads it into one or to a file that is
    not a dotenv file (``.env -> .git/config``: a member's ``fsmonitor=…`` line would run on
    the next ``git status``; ``.env.local -> .npmrc``)."""
    path = inside(root, name)
    if path is None:
        return None  # outside the checkout: refused as such when written
    lands = path.relative_to(root.resolve()).as_posix()
    where = name if lands == name else f"{name} (a link to {lands})"
    if vcs_folder(lands) is not None:
        return f"{where} is in a version-control folder"
    if is_execution_control(lands, "file") and not is_dotenv_name(path_parts(lands)[-1]):
        return f"{where} is not a dotenv file"
    return None


def _read_text(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    if len(raw) > MAX_FILE_BYTES:
        return _UNEQUAL
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _UNEQUAL


def read_local(root: Path, extra: Sequence[str], file_keys: Sequence[str]) -> LocalConfig:
    """The checkout's dotenv values and file configurations. InputError (naming the file and
    line, never a value) when a dotenv file cannot be read as import reads it."""
    local = LocalConfig(root=root)
    names = list(dict.fromkeys([*DOTENV_FILES, *extra]))
    local.dotenv_names = names
    for name in names:
        path = inside(root, name)
        if path is None:
            raise InputError(f"{name} is outside the checkout {root}; it is not read.")
        why = dotenv_refusal(root, name)
        if why is not None:
            raise InputError(
                f"{why.replace('; no values are written there', '')}; it is not read as one."
            )
        text = _read_text(path)
        if text is None:
            continue
        if text == _UNEQUAL:
            raise InputError(f"{name} is not UTF-8 text (or larger than 1 MiB).")
        try:
            entries = dotenv.parse(text, source=name)
        except dotenv.DotenvError as exc:
            raise InputError(f"{exc}.") from None
        local.dotenv_files.append(name)
        for entry in entries:
            if entry.value is None:  # `KEY` alone: python-dotenv leaves it unset
                continue
            local.values[entry.key] = entry.value
            local.origin[entry.key] = name
    for key in file_keys:
        path = inside(root, key)
        if path is None:
            local.unreadable.add(key)
            local.files[key] = None
        else:
            local.files[key] = _read_text(path)
    return local


def _present(local: LocalConfig, row: EffectiveConfigRow) -> bool:
    if row.type == ConfigType.FILE:
        return local.files.get(row.key) is not None
    return row.key in local.values


async def _reveal(
    backend: Backend, rows: Sequence[EffectiveConfigRow], cache: RevealCache
) -> dict[str, str | None]:
    slots = asyncio.Semaphore(4)

    async def one(row: EffectiveConfigRow) -> str | None:
        stamp = (row.configuration_id, row.version)
        if stamp not in cache:
            async with slots:
                try:
                    value: str | None = await backend.reveal_secret(row.configuration_id)
                except PermissionDenied:
                    value = None
            if value is not None:
                register_secret(value)
            cache[stamp] = value
        return cache[stamp]

    found = await asyncio.gather(*(one(row) for row in rows))
    return {row.key: value for row, value in zip(rows, found, strict=True)}


async def check(
    backend: Backend,
    environment_id: UUID,
    root: Path,
    extra: Sequence[str] = (),
    *,
    cache: RevealCache | None = None,
    reveal_missing: bool = False,
) -> StatusReport:
    """Compare the checkout at ``root`` with the environment's effective configuration.
    ``reveal_missing``: reveal the secrets the checkout lacks too (to write them)."""
    cache = {} if cache is None else cache
    rows = {r.key: r for r in await backend.effective_configuration(environment_id)}
    file_keys = [k for k, r in rows.items() if r.type == ConfigType.FILE]
    local = await asyncio.to_thread(read_local, root, extra, file_keys)
    secrets = [r for r in rows.values() if r.is_secret and (reveal_missing or _present(local, r))]
    revealed = await _reveal(backend, secrets, cache)
    values: dict[str, str] = {}
    synced: list[Synced] = []
    for key, row in rows.items():
        value = revealed.get(key) if row.is_secret else (row.value or "")
        if value is not None:
            values[key] = value
        synced.append(Synced(key, row.version, row.is_secret, row.type == ConfigType.FILE, value))
    statuses = compare(synced, local.values, local.files)
    versions: dict[str, list[KeyVersion]] = defaultdict(list)
    wanted = needs_history(statuses)
    if wanted:
        for entry in await backend.key_versions(environment_id, wanted):
            versions[entry.key].append(entry)
        statuses = compare(synced, local.values, local.files, versions)
    statuses = [
        KeyStatus(s.key, DriftState.UNKNOWN, s.synced_version, None, s.is_secret, s.is_file)
        if s.key in local.unreadable
        else s
        for s in statuses
    ]
    return StatusReport(environment_id, local, statuses, rows, values, dict(versions))


class ConfigReporter:
    """The agent's report of configuration states, each sync. It reports only for a checkout
    that has a dotenv file (a machine that gets its configuration from ``devsync run`` has
    none, and "everything missing" would be noise); it reveals a secret once per version; a
    problem (a dotenv file that does not parse, no right to report) is said once."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.cache: RevealCache = {}
        self.problem: str | None = None
        self.denied = False
        self.reported: int | None = None

    def _has_dotenv(self, root: Path, extra: Sequence[str]) -> bool:
        for name in (*DOTENV_FILES, *extra):
            path = inside(root, name)
            if path is not None and path.is_file():
                return True
        return False

    async def sync(self, backend: Backend, environment_id: UUID, root: Path) -> None:
        if self.denied:
            return
        extra = links.listed_files(root, environment_id)
        if not await asyncio.to_thread(self._has_dotenv, root, extra):
            return
        try:
            report = await check(backend, environment_id, root, extra, cache=self.cache)
            self.reported = await backend.report_config_states(
                environment_id, [s.as_input() for s in report.statuses]
            )
        except InputError as exc:
            self._problem(str(exc))
            return
        except PermissionDenied as exc:
            self.denied = True
            self._problem(str(exc))
            return
        self.problem = None

    def _problem(self, message: str) -> None:
        if message != self.problem:
            self.say(f"configuration states not reported: {message}")
        self.problem = message
