"""``devsync env import`` as a library: plan against the effective configuration, then write.

- :func:`plan_import` compares a parsed .env file with what the target *uses*: an environment's
  own overrides, and the project defaults it inherits. A key whose value equals what the
  environment already inherits is no change (an export followed by an import must not pin
  every inherited key as an override). An inherited key with another value would become an
  override: kind ``"override"``, written only when the caller allows it (``--override``).
  Secret values are compared revealed (audited), never shown.
- Which keys are stored as secrets: named with ``secret``; already secret (the row, or the
  project default it overrides); or looking like a credential (``values.secret_by_look``,
  the rule ``env set`` follows for a new key) unless ``plain``.
- :func:`apply_import` saves each change with the version it read, so a key someone changed
  meanwhile is not overwritten (handed to ``on_conflict``). The backend has no multi-key
  write, so each key is its own transaction: a refusal part-way, a lost connection or a
  cancellation (Ctrl-C) raises with exactly the keys written before it. On cancellation the
  save in flight is let finish first, so its outcome is known, not guessed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import Conflict, DevSyncError, PermissionDenied, Unavailable
from devsync_tui.core.execution_control import is_execution_control
from devsync_tui.core.models import ConfigType, Configuration, Role
from devsync_tui.core.permissions import can_edit_configuration
from devsync_tui.machine.targets import Target
from devsync_tui.machine.values import confirm_or_explain, secret_by_look

Change = Literal["add", "change", "override"]
#: How long a save in flight when Ctrl-C came may take to finish before we stop waiting.
FINISH_IN_FLIGHT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing would change in ``target``."""

    target: Target
    incoming: dict[str, str]
    current: dict[str, Configuration]  # the target's own rows, by key
    inherited: dict[str, Configuration]  # project defaults the environment uses, by key
    secret_keys: set[str]  # keys that would be saved as secrets
    hidden: set[str]  # keys whose values are never printed (secrets, credential-like)
    changes: list[tuple[str, Change]]
    unchanged_inherited: list[str] = field(default_factory=list)  # equal to the default
    #: Execution-control keys (PATH, NODE_OPTIONS, …) among the changes that I, not an admin,
    #: may not write: the import is refused whole before anything is written.
    refused: list[str] = field(default_factory=list)
    #: Whether I may change the target's configuration at all (admins; an environment's owner;
    #: members for the project defaults), as the database will decide it at the first write.
    may_write: bool = True

    @property
    def overrides(self) -> list[str]:
        """Inherited keys that the import would turn into overrides."""
        return [key for key, kind in self.changes if kind == "override"]


async def _same(backend: Backend, row: Configuration, value: str) -> bool:
    if not row.is_secret:
        return row.value == value
    try:
        return await backend.reveal_secret(row.id) == value
    except PermissionDenied:
        return False  # cannot compare: treated as different (the database checks the write)


async def plan_import(
    backend: Backend,
    target: Target,
    incoming: dict[str, str],
    secret: Sequence[str] = (),
    *,
    plain: bool = False,
) -> ImportPlan:
    """Compare ``incoming`` with what ``target`` uses (see the module doc)."""
    env_id = target.environment.id if target.environment else None
    current = {c.key: c for c in await backend.list_configurations(target.project.id, env_id)}
    defaults = (
        {c.key: c for c in await backend.list_configurations(target.project.id, None)}
        if env_id is not None
        else {}
    )
    inherited = {k: c for k, c in defaults.items() if k not in current}
    secret_keys: set[str] = set()
    hidden: set[str] = set()
    changes: list[tuple[str, Change]] = []
    unchanged: list[str] = []
    for key, value in incoming.items():
        row = current.get(key)
        base = row if row is not None else inherited.get(key)
        looks = (value, base.value) if base is not None else (value,)
        credential = secret_by_look(key, *looks)
        is_secret = (
            key in secret
            or (base is not None and base.is_secret)
            or secret_by_look(key, *looks, plain=plain)
        )
        if is_secret:
            secret_keys.add(key)
        if is_secret or credential:
            hidden.add(key)
        if base is None:
            changes.append((key, "add"))
        elif row is not None:
            turned_secret = key in secret and not row.is_secret
            if turned_secret or not await _same(backend, row, value):
                changes.append((key, "change"))
        elif await _same(backend, base, value):
            unchanged.append(key)
        else:
            changes.append((key, "override"))
    may_write, refused = await _rights(backend, target, [key for key, _kind in changes])
    return ImportPlan(
        target,
        incoming,
        current,
        inherited,
        secret_keys,
        hidden,
        changes,
        sorted(unchanged),
        refused,
        may_write,
    )


async def _rights(backend: Backend, target: Target, keys: list[str]) -> tuple[bool, list[str]]:
    """Whether I may change the target's configuration, and the execution-control keys among
    ``keys`` I may not set (not an admin): the database would refuse those writes, so they are
    asked before the first one (and by ``--dry-run``), not found part-way."""
    if not keys:
        return True, []
    me = (await backend.whoami()).user_id
    role = (await backend.my_roles()).get(target.project.team_id)
    env = target.environment
    may_write = can_edit_configuration(
        role, scope_is_default=env is None, env_owner=env is not None and env.user_id == me
    )
    controlled = [key for key in keys if is_execution_control(key)]
    return may_write, ([] if role is Role.ADMIN else controlled)


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """A key someone changed since the plan read it: nothing was written for it."""

    key: str
    error: Conflict
    yours: str
    secret: bool
    edited: int | None  # the version the plan read (None: the key was new)


class ImportInterrupted(Exception):
    """Ctrl-C during the writes: which keys were written, which were not."""

    def __init__(
        self, written: list[str], not_written: list[str], uncertain: str | None = None
    ) -> None:
        super().__init__("interrupted")
        self.written = written
        self.not_written = not_written
        self.uncertain = uncertain  # a save that had not answered when we stopped waiting


async def _save(backend: Backend, plan: ImportPlan, key: str) -> None:
    target = plan.target
    row = plan.current.get(key)
    await backend.save_configuration(
        target.project.id,
        target.environment.id if target.environment else None,
        key,
        plan.incoming[key],
        is_secret=key in plan.secret_keys,
        type=row.type if row is not None else ConfigType.ENV_VAR,
        expected_version=row.version if row is not None else None,
    )


async def apply_import(
    backend: Backend, plan: ImportPlan, on_conflict: Callable[[ImportConflict], None]
) -> int:
    """Save every change of ``plan``; the number of conflicts (see the module doc)."""
    conflicts = 0
    written: list[str] = []
    keys = [key for key, _kind in plan.changes]
    for index, key in enumerate(keys):
        row = plan.current.get(key)
        expected = row.version if row is not None else None
        save = asyncio.ensure_future(_save(backend, plan, key))
        try:
            await asyncio.shield(save)
        except asyncio.CancelledError:
            # Ctrl-C: let this save finish so that what was written is known exactly.
            done, _ = await asyncio.wait({save}, timeout=FINISH_IN_FLIGHT_SECONDS)
            if save not in done:
                save.cancel()
                raise ImportInterrupted(written, keys[index + 1 :], key) from None
            if not save.cancelled() and save.exception() is None:
                written.append(key)
                index += 1
            raise ImportInterrupted(written, keys[index:]) from None
        except Conflict as exc:
            conflicts += 1
            on_conflict(
                ImportConflict(key, exc, plan.incoming[key], key in plan.secret_keys, expected)
            )
            continue
        except Unavailable:
            try:
                await confirm_or_explain(backend, plan.target, key, plan.incoming[key], expected)
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
