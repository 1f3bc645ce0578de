"""Machine config states in the Backend contract (docs/DATABASE.md, "Machine config states"):
report what a machine runs per key, read a project's states, read a key's versions to tell
"behind". The database decides who may; the rules around the calls are here once."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from devsync_tui.backend import rows, rules
from devsync_tui.core.config_states import ConfigState, ConfigStateInput, KeyVersion

#: The most keys one report may hold (the database refuses more).
MAX_CONFIG_STATES = 10_000


def state_from_row(r: Mapping[str, Any]) -> ConfigState:
    return ConfigState(
        environment_id=rows.as_uuid(r["environment_id"]),
        project_id=rows.as_uuid(r["project_id"]),
        key=str(r["key"]),
        state=str(r["state"]),
        synced_version=None if r.get("synced_version") is None else int(r["synced_version"]),
        behind_version=None if r.get("behind_version") is None else int(r["behind_version"]),
        observed_at=rows.opt_datetime(r.get("observed_at")),
    )


def version_from_row(r: Mapping[str, Any]) -> KeyVersion:
    secret = bool(r.get("is_secret"))
    return KeyVersion(
        key=str(r["key"]),
        version=int(r["version"]),
        value=None if secret else rows.opt_str(r.get("value")),
        is_secret=secret,
        op=str(r.get("op") or "update"),
        changed_at=rows.opt_datetime(r.get("changed_at")),
        changed_by=rows.opt_str(r.get("changed_by")),
    )


def states_payload(states: Sequence[ConfigStateInput]) -> list[dict[str, Any]]:
    """``p_states`` of ``report_config_states`` / ``machine_report_config_states``."""
    return [
        {
            "key": s.key,
            "state": str(s.state),
            "synced_version": s.synced_version,
            "behind_version": s.behind_version,
        }
        for s in states
    ]


class ConfigStateContract(abc.ABC):
    """``devsync env status``, the agent's report, the Config drift view."""

    async def report_config_states(
        self, environment_id: UUID, states: Sequence[ConfigStateInput]
    ) -> int:
        """Replace the environment's states (admins, its owner, its machine); the number of
        keys now stored."""
        rules.check_report("configuration states", MAX_CONFIG_STATES, states)
        return await self._report_config_states(environment_id, states)

    async def config_states(
        self, project_id: UUID, environment_ids: Sequence[UUID] | None = None
    ) -> list[ConfigState]:
        """The states of a project's machines (or of some), by environment then key."""
        if environment_ids is not None and not environment_ids:
            return []
        found = await self._config_states(project_id, environment_ids)
        return sorted(found, key=lambda s: (str(s.environment_id), s.key))

    async def key_versions(self, environment_id: UUID, keys: Sequence[str]) -> list[KeyVersion]:
        """The history of these keys of the environment's effective configuration, in the
        scope each comes from, oldest first; secrets' values are never included."""
        if not keys:
            return []
        return await self._key_versions(environment_id, sorted(set(keys)))

    @abc.abstractmethod
    async def _report_config_states(
        self, environment_id: UUID, states: Sequence[ConfigStateInput]
    ) -> int:
        """RPC ``report_config_states``."""

    @abc.abstractmethod
    async def _config_states(
        self, project_id: UUID, environment_ids: Sequence[UUID] | None
    ) -> list[ConfigState]:
        """The rows of ``machine_config_states`` of the project I may see."""

    @abc.abstractmethod
    async def _key_versions(self, environment_id: UUID, keys: Sequence[str]) -> list[KeyVersion]:
        """RPC ``config_key_versions``."""
