"""Configuration in and out of files, and two environments side by side (the library behind
``devsync env export|import|diff``; ``commands/env/transfer.py`` shows and asks).

- export: :func:`export` renders the effective configuration as dotenv/json/shell/docker
  (``core.dotenv``). Secrets the user may not reveal are left out (named in ``withheld``),
  never written masked; file configurations are not variables and are left out too.
- import: :func:`parse_import` reads and checks a whole .env file before anything is written;
  :func:`plan_import` compares it with what is stored (secret values compared, never shown);
  :func:`apply_import` saves each changed key with the version that was read, so a key someone
  changed meanwhile is not overwritten (the conflict is handed to ``on_conflict``). Keys absent
  from the file are kept: import merges, it never deletes.
- diff: :func:`compare` lists keys missing or different between two environments; secrets are
  compared by value where both may be revealed, else reported as "cannot compare".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import Conflict, DevSyncError, PermissionDenied, Unavailable
from devsync_tui.core import dotenv
from devsync_tui.core.models import ConfigType, Configuration
from devsync_tui.exit_codes import Interrupted
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.targets import Target
from devsync_tui.machine.values import (
    Effective,
    confirm_or_explain,
    guess_type,
    problem_with,
    secret_defaults,
)

FORMATS = ("dotenv", "json", "shell", "docker")
_RENDER: dict[str, Callable[[Mapping[str, str]], str]] = {
    "dotenv": dotenv.render_dotenv,
    "json": dotenv.render_json,
    "shell": dotenv.render_shell,
    "docker": dotenv.render_docker,
}
#: The largest .env file read (far above any real one; values are 1 MiB each at most).
MAX_IMPORT_BYTES = 16 * 1024 * 1024


# -- export -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Export:
    """An effective configuration rendered as a file."""

    text: str
    variables: dict[str, str]
    files_left_out: list[str]  # file configurations (not variables)
    withheld: list[str]  # secrets the user may not reveal
    docker_incompatible: list[str]  # dotenv only: keys docker --env-file would misread


def export(effective: Effective, format_: str) -> Export:
    """``effective`` rendered in ``format_`` (one of :data:`FORMATS`); InputError when a value
    cannot be written in it."""
    variables = {
        key: value
        for key, value in sorted(effective.values.items())
        if effective.rows[key].type == "env_var"
    }
    files = sorted(k for k, r in effective.rows.items() if r.type == "file")
    try:
        text = _RENDER[format_](variables)
    except dotenv.DotenvError as exc:
        raise InputError(f"{exc}.") from None
    docker = dotenv.docker_incompatible(variables) if format_ == "dotenv" else []
    return Export(text, variables, files, list(effective.withheld), docker)


# -- import -----------------------------------------------------------------------------------
def parse_import(raw: bytes, source: str, warn: Callable[[str], None]) -> dict[str, str]:
    """The values of a .env file's bytes; InputError (naming ``source`` and the line) when any
    line cannot be imported, so that nothing is written. Lines that are skipped (no value) or
    repeated are told to ``warn``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text.") from None
    try:
        entries = dotenv.parse(text, source=source)
    except dotenv.DotenvError as exc:
        raise InputError(f"{exc}.") from None
    values: dict[str, str] = {}
    for entry in entries:
        if entry.value is None:
            warn(f"{source}, line {entry.line}: {entry.key} has no value; skipped.")
            continue
        problem = problem_with(entry.key, entry.value, guess_type(entry.key))
        if problem is None and guess_type(entry.key) != "env_var":
            problem = f"{entry.key!r} is not a variable name"
        if problem:
            raise InputError(f"{source}, line {entry.line}: {problem}; nothing was written.")
        if entry.key in values:
            warn(f"{source}, line {entry.line}: {entry.key} repeated; the last wins.")
        values[entry.key] = entry.value
    return values


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing would change in ``target``."""

    target: Target
    incoming: dict[str, str]
    current: dict[str, Configuration]  # the rows of the target, by key
    secret_keys: set[str]  # keys saved as secrets
    changes: list[tuple[str, Literal["add", "change"]]]


async def plan_import(
    backend: Backend, target: Target, incoming: dict[str, str], secret: Sequence[str] = ()
) -> ImportPlan:
    """Compare ``incoming`` with ``target``; ``secret`` names new keys to store as secrets."""
    env_id = target.environment.id if target.environment else None
    current = {c.key: c for c in await backend.list_configurations(target.project.id, env_id)}
    # A new override of a secret project default is a secret too.
    inherited = await secret_defaults(backend, target.project.id) if env_id else set()
    secret_keys = set(secret) | {k for k in inherited if k not in current}
    secret_keys |= {k for k, c in current.items() if c.is_secret}
    changes: list[tuple[str, Literal["add", "change"]]] = []
    for key, value in incoming.items():
        row = current.get(key)
        if row is None:
            changes.append((key, "add"))
            continue
        if row.is_secret:
            try:
                same = await backend.reveal_secret(row.id) == value
            except PermissionDenied:
                same = False  # cannot compare: write it (the database checks the right)
        else:
            same = row.value == value and key not in secret
        if not same:
            changes.append((key, "change"))
    return ImportPlan(target, incoming, current, secret_keys, changes)


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """A key someone changed since the plan read it: nothing was written for it."""

    key: str
    error: Conflict
    yours: str
    secret: bool
    edited: int | None  # the version the plan read (None: the key was new)


async def apply_import(
    backend: Backend, plan: ImportPlan, on_conflict: Callable[[ImportConflict], None]
) -> int:
    """Save every change of ``plan``, each with the version it read; the number of conflicts
    (each handed to ``on_conflict`` as it happens). A refusal part-way raises with a sentence
    naming the keys already written, so a half-applied import is never silent."""
    target = plan.target
    env_id = target.environment.id if target.environment else None
    conflicts = 0
    written: list[str] = []
    for index, (key, _kind) in enumerate(plan.changes):
        row = plan.current.get(key)
        expected = row.version if row is not None else None
        secret = key in plan.secret_keys
        try:
            await backend.save_configuration(
                target.project.id,
                env_id,
                key,
                plan.incoming[key],
                is_secret=secret,
                type=row.type if row is not None else ConfigType.ENV_VAR,
                expected_version=expected,
            )
        except Conflict as exc:
            conflicts += 1
            on_conflict(ImportConflict(key, exc, plan.incoming[key], secret, expected))
            continue
        except asyncio.CancelledError:
            # Ctrl-C (asyncio.run cancels the command): say exactly where it stopped.
            rest = [k for k, _ in plan.changes[index + 1 :]]
            raise Interrupted(
                "Stopped by Ctrl-C. Written: "
                + (", ".join(written) or "none")
                + f". {key} was being saved: it may or may not be written (check it with "
                f"`devsync env get {key}`). Not written: " + (", ".join(rest) or "none") + "."
            ) from None
        except Unavailable:
            try:
                await confirm_or_explain(backend, target, key, plan.incoming[key], expected)
            except Unavailable as exc:
                raise Unavailable(
                    f"{exc} Stopped there; written before it: "
                    + (", ".join(written) or "none")
                    + "."
                ) from None
        except DevSyncError as exc:
            # Refused part-way (e.g. the right to write was taken meanwhile).
            if not written:
                raise
            raise type(exc)(
                f"{exc} Stopped at {key}; written before it: {', '.join(written)}."
            ) from None
        written.append(key)
    return conflicts


# -- diff -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Difference:
    """A key both environments have with different values (``a``/``b`` None for secrets)."""

    key: str
    secret: bool
    a: str | None = None
    b: str | None = None


@dataclass(frozen=True, slots=True)
class EnvDiff:
    """Keys missing or different between two environments."""

    only_a: list[str]
    only_b: list[str]
    different: list[Difference]
    cannot_compare: list[str]  # secrets the user may not reveal on both sides

    @property
    def differs(self) -> bool:
        """Whether anything is known to differ."""
        return bool(self.only_a or self.only_b or self.different)

    def to_json(self) -> dict[str, object]:
        """The diff as JSON-ready data (a secret's values are never in it)."""
        return {
            "only_a": self.only_a,
            "only_b": self.only_b,
            "different": [
                {"key": d.key, "secret": True}
                if d.secret
                else {"key": d.key, "secret": False, "a": d.a, "b": d.b}
                for d in self.different
            ],
            "cannot_compare": self.cannot_compare,
        }


async def compare(backend: Backend, a: Target, b: Target) -> EnvDiff:
    """The differences between the effective configurations of two environments."""
    assert a.environment is not None
    assert b.environment is not None
    rows_a = {r.key: r for r in await backend.effective_configuration(a.environment.id)}
    rows_b = {r.key: r for r in await backend.effective_configuration(b.environment.id)}
    different: list[Difference] = []
    cannot: list[str] = []
    for key in sorted(rows_a.keys() & rows_b.keys()):
        ra, rb = rows_a[key], rows_b[key]
        if ra.is_secret or rb.is_secret:
            if ra.configuration_id == rb.configuration_id:
                continue  # both inherit the same project default
            try:
                va = await backend.reveal_secret(ra.configuration_id) if ra.is_secret else ra.value
                vb = await backend.reveal_secret(rb.configuration_id) if rb.is_secret else rb.value
            except PermissionDenied:
                cannot.append(key)
                continue
            if va != vb or ra.type != rb.type:
                different.append(Difference(key, True))
        elif ra.value != rb.value or ra.type != rb.type:
            different.append(Difference(key, False, ra.value, rb.value))
    return EnvDiff(
        sorted(rows_a.keys() - rows_b.keys()),
        sorted(rows_b.keys() - rows_a.keys()),
        different,
        cannot,
    )
