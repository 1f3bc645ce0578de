"""A machine as a Backend: what one environment's machine token may do, on either transport.

A machine (PERMISSIONS.md "machine") reads its environment's effective configuration and
reveals its secrets, reports that environment's dependencies, health, status and config states
(reading its keys' plain history to tell "behind"), and nothing
else. The database decides (the ``machine_*`` RPCs of docs/DATABASE.md, granted to anon; the
token travels as the ``x-devsync-token`` header); this class maps the Backend contract onto
those RPCs, and answers every other call with one sentence instead of a round trip that would
only be refused. The rules here are the same for both transports; a transport only supplies
:class:`MachineCalls` (``postgres/machine.py``, ``supabase/machine.py``).

Realtime needs a signed-in user, so :meth:`MachineBackend.changes` polls the cheap change
check ``machine_config_fingerprint()`` every ``poll_seconds`` (5 s unless told otherwise) and
reports a change of the environment's effective configuration as a ``configurations`` event.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn
from uuid import UUID

from devsync_tui.backend import rows, rules
from devsync_tui.backend.base import Backend, ChangeEvent, FeedEvent, LinkChanged, Resync
from devsync_tui.backend.config_states import states_payload, version_from_row
from devsync_tui.backend.errors import PermissionDenied, TokenRefused, Unavailable
from devsync_tui.backend.transport import PageKey
from devsync_tui.core.config_states import ConfigState, ConfigStateInput, KeyVersion
from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    DependencySummary,
    EffectiveConfigRow,
    Environment,
    EnvStatus,
    HealthCheck,
    HealthPoint,
    HealthSlots,
    Identity,
    Project,
    Role,
    Team,
    TeamMember,
)

#: How often ``changes()`` asks whether the configuration changed (seconds).
POLL_SECONDS = 5.0

#: The one answer to everything a machine may not do.
MACHINE_ONLY = (
    "A machine token may only read its environment's configuration and report its "
    "dependencies, health, status and configuration states; sign in as a person for "
    "anything else."
)


@dataclass(frozen=True, slots=True)
class MachineIdentity:
    """Which token this is, and the one environment it acts for."""

    token_id: UUID
    token_name: str
    expires_at: datetime | None
    team_id: UUID
    team_name: str
    team_slug: str
    project: Project
    environment: Environment

    @property
    def label(self) -> str:
        """``project/environment``, for messages."""
        return f"{self.project.name}/{self.environment.name}"


def machine_identity_from_row(r: Mapping[str, Any]) -> MachineIdentity:
    """The row of ``machine_whoami()``."""
    team = rows.as_json(r.get("team"), {})
    return MachineIdentity(
        token_id=rows.as_uuid(r["token_id"]),
        token_name=str(r["token_name"]),
        expires_at=rows.opt_datetime(r.get("expires_at")),
        team_id=rows.as_uuid(team["id"]),
        team_name=str(team.get("name") or ""),
        team_slug=str(team.get("slug") or ""),
        project=rows.project_from_row(rows.as_json(r["project"], {})),
        environment=rows.environment_from_row(rows.as_json(r["environment"], {})),
    )


class MachineCalls(abc.ABC):
    """How a transport calls the machine RPCs with the token (anon key + header)."""

    kind: str
    label: str

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect (nothing is asked of the database yet)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def rows(
        self, fn: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> list[dict[str, Any]]:
        """Every row of the set-returning RPC ``public.<fn>``. ``write``: it changes data, so it
        is never retried after it was sent."""

    @abc.abstractmethod
    async def value(
        self, fn: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> Any:
        """What the RPC ``public.<fn>`` returns (a scalar, or a composite as a dict)."""


class MachineBackend(Backend):
    """One environment's machine (see the module docstring).

    What a machine may do is overridden here; everything else is refused with one sentence:
    the transport calls the contract builds on (``Transport``) and the transport-specific
    calls all raise PermissionDenied before any round trip."""

    def __init__(self, calls: MachineCalls, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.calls = calls
        self.kind = calls.kind
        self.label = calls.label
        self.poll_seconds = poll_seconds
        self._machine: MachineIdentity | None = None

    # -- lifecycle and identity -------------------------------------------------------------
    async def connect(self) -> None:
        """Connect and learn which environment the token is for (TokenRefused at once when it
        is expired, revoked or unknown)."""
        await self.calls.open()
        try:
            found = await self.calls.rows("machine_whoami")
            if not found:
                raise Unavailable("The database did not say which machine this token is for.")
            self._machine = machine_identity_from_row(found[0])
        except BaseException:
            await self.calls.close()
            raise

    async def close(self) -> None:
        await self.calls.close()

    @property
    def machine(self) -> MachineIdentity:
        """The token and its environment (after ``connect``)."""
        if self._machine is None:
            raise Unavailable("Not connected: call connect() first.")
        return self._machine

    async def whoami(self) -> Identity:
        """The machine as an identity: the token's id and name (it is no person)."""
        m = self.machine
        return Identity(user_id=m.token_id, username=f"machine {m.token_name}", email=None)

    async def my_roles(self) -> dict[UUID, Role]:
        return {}

    async def ping(self) -> float:
        started = time.perf_counter()
        await self.calls.value("machine_config_fingerprint")
        return time.perf_counter() - started

    def _own(self, environment_id: UUID | None) -> UUID:
        m = self.machine
        if environment_id != m.environment.id:
            raise PermissionDenied(
                f"This machine token is for {m.label} only; it cannot act for another "
                "environment or the project defaults."
            )
        return m.environment.id

    # -- what a machine may read --------------------------------------------------------------
    async def list_projects(self, team_id: UUID | None = None) -> list[Project]:
        m = self.machine
        return [m.project] if team_id in (None, m.team_id) else []

    async def list_environments(self, project_id: UUID) -> list[Environment]:
        m = self.machine
        return [m.environment] if project_id == m.project.id else []

    async def effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        self._own(environment_id)
        found = await self.calls.rows("machine_effective_configuration")
        return rules.by_key([rows.effective_from_row(r) for r in found])

    async def effective_configuration_keys(
        self, environment_id: UUID, keys: Collection[str]
    ) -> list[EffectiveConfigRow]:
        """Its environment's effective rows of these keys (a machine has one read: the whole)."""
        wanted = set(keys)
        return [r for r in await self.effective_configuration(environment_id) if r.key in wanted]

    async def required_keys(self) -> tuple[list[str], str | None]:
        """The keys this environment's template marks required, and the template's name (a
        machine may not read templates: ``machine_required_keys()`` gives just this)."""
        found = await self.calls.rows("machine_required_keys")
        names = {str(r["template_name"]) for r in found}
        return sorted(str(r["key"]) for r in found), (names.pop() if names else None)

    async def _reveal_secret(self, configuration_id: UUID) -> str | None:
        value = await self.calls.value(
            "machine_reveal_secret", {"p_configuration_id": configuration_id}
        )
        return None if value is None else str(value)

    async def _list_dependencies(
        self,
        project_id: UUID,
        environment_ids: Sequence[UUID | None] | None,
        name_filter: str | None,
        limit: int | None,
        offset: int,
    ) -> list[Dependency]:
        """Only what this machine reported: its environment's rows."""
        if environment_ids is None or project_id != self.machine.project.id:
            self._own(None)
        for env_id in environment_ids or ():
            self._own(env_id)
        found = [rows.dependency_from_row(r) for r in await self.calls.rows("machine_dependencies")]
        if name_filter:
            needle = name_filter.lower()
            found = [d for d in found if needle in d.package_name.lower()]
        end = None if limit is None else offset + limit
        return found[offset:end]

    # -- what a machine may report ------------------------------------------------------------
    async def _report_dependencies(
        self, project_id: UUID, environment_id: UUID | None, packages: Sequence[DependencyInput]
    ) -> int:
        self._own(environment_id)
        n = await self.calls.value(
            "machine_report_dependencies",
            {"p_packages": rows.dependency_payload(packages)},
            write=True,
        )
        return int(n or 0)

    async def _report_package_facts(self, payload: dict[str, Any]) -> int:
        n = await self.calls.value("machine_report_package_facts", {"p_facts": payload}, write=True)
        return int(n or 0)

    async def _report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        self._own(environment_id)
        n = await self.calls.value(
            "machine_report_health", {"p_points": rows.health_payload(points)}, write=True
        )
        return int(n or 0)

    async def _report_config_states(
        self, environment_id: UUID, states: Sequence[ConfigStateInput]
    ) -> int:
        self._own(environment_id)
        n = await self.calls.value(
            "machine_report_config_states", {"p_states": states_payload(states)}, write=True
        )
        return int(n or 0)

    async def _key_versions(self, environment_id: UUID, keys: Sequence[str]) -> list[KeyVersion]:
        self._own(environment_id)
        found = await self.calls.rows("machine_config_key_versions", {"p_keys": list(keys)})
        return [version_from_row(r) for r in found]

    async def set_environment_status(
        self, environment_id: UUID, status: EnvStatus, last_sync_at: datetime | None = None
    ) -> Environment:
        self._own(environment_id)
        row = await self.calls.value(
            "machine_set_status",
            {"p_status": str(status), "p_last_sync_at": last_sync_at},
            write=True,
        )
        if not isinstance(row, Mapping):
            raise Unavailable("machine_set_status returned nothing; is the schema up to date?")
        return rows.environment_from_row(row)

    # -- live: a poll of the cheap change check -----------------------------------------------
    async def changes(self) -> AsyncIterator[FeedEvent]:
        """``LinkChanged("live")``, then a ``configurations`` event whenever the fingerprint of
        the effective configuration moves (polled every ``poll_seconds``). While the database
        is unreachable: ``reconnecting``, then ``live`` and a ``Resync``. A refused token ends
        the stream with TokenRefused."""
        m = self.machine
        last = await self.calls.value("machine_config_fingerprint")
        yield LinkChanged("live")
        down = False
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                now = await self.calls.value("machine_config_fingerprint")
            except TokenRefused:
                raise
            except Unavailable as exc:
                if not down:
                    down = True
                    yield LinkChanged("reconnecting", str(exc))
                continue
            if down:
                down = False
                yield LinkChanged("live")
                yield Resync("the database is reachable again")
            if now != last:
                last = now
                yield ChangeEvent(
                    table="configurations",
                    op="UPDATE",
                    id="",
                    row=None,
                    team_id=m.team_id,
                    project_id=m.project.id,
                    environment_id=m.environment.id,
                )

    # -- everything else: not a machine's (no round trip) ----------------------------------
    @staticmethod
    def _refuse() -> NoReturn:
        raise PermissionDenied(MACHINE_ONLY)

    async def _row(self, table: str, key: UUID | int) -> Any | None:
        self._refuse()

    async def _dependency_page(
        self,
        project_id: UUID,
        after: PageKey | None,
        limit: int,
    ) -> list[tuple[str, Dependency]]:
        self._refuse()

    async def _dependency_summary(
        self, project_id: UUID, environment_ids: list[UUID], today: date
    ) -> DependencySummary | None:
        self._refuse()

    async def _project_facts(self, project_id: UUID) -> tuple[list[Any], list[Any]]:
        self._refuse()

    async def _ignore_advisory(
        self, project_id: UUID, advisory_id: str, until: date, reason: str
    ) -> Any:
        self._refuse()

    async def _unignore_advisory(self, project_id: UUID, advisory_id: str) -> None:
        self._refuse()

    async def _set_environment_owner(self, environment_id: UUID, user_id: UUID) -> Environment:
        self._refuse()

    async def _rows(self, table: str, match: Mapping[str, Any]) -> list[Any]:
        self._refuse()

    async def _insert_row(self, table: str, values: Mapping[str, Any]) -> Any | None:
        self._refuse()

    async def _update_row(self, table: str, key: UUID, values: Mapping[str, Any]) -> Any | None:
        self._refuse()

    async def _delete_row(self, table: str, key: UUID) -> bool:
        self._refuse()

    async def _list_members(self, team_id: UUID) -> list[TeamMember]:
        self._refuse()

    async def _effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        self._refuse()

    async def _project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        self._refuse()

    async def _effective_configuration_keys(
        self, environment_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        self._refuse()

    async def _project_configuration_keys(
        self, project_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        self._refuse()

    async def _save_configuration(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        key: str,
        value: str,
        *,
        is_secret: bool,
        type: ConfigType,
        expected_version: int | None,
    ) -> Configuration:
        self._refuse()

    async def _delete_configuration(self, configuration_id: UUID, expected_version: int) -> None:
        self._refuse()

    async def _reveal_history_secret(self, history_id: int) -> str | None:
        self._refuse()

    async def _secrets_equal(self, first: UUID, second: UUID) -> bool:
        self._refuse()

    async def _configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int
    ) -> list[ConfigHistoryEntry]:
        self._refuse()

    async def _restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        self._refuse()

    async def _health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        self._refuse()

    async def _audit_log(
        self, team_id: UUID, limit: int, before_id: int | None
    ) -> list[AuditEntry]:
        self._refuse()

    async def _config_states(
        self, project_id: UUID, environment_ids: Sequence[UUID] | None
    ) -> list[ConfigState]:
        self._refuse()

    async def create_team(self, name: str, slug: str) -> Team:
        self._refuse()

    async def add_member(self, team_id: UUID, username: str, role: Role) -> TeamMember:
        self._refuse()

    async def set_member_role(self, team_id: UUID, user_id: UUID, role: Role) -> TeamMember:
        self._refuse()

    async def remove_member(self, team_id: UUID, user_id: UUID) -> None:
        self._refuse()

    async def create_environment(
        self, project_id: UUID, name: str, template_id: UUID | None = None
    ) -> Environment:
        self._refuse()

    async def health_sparklines(
        self,
        environment_ids: Sequence[UUID],
        since: datetime,
        slots: int,
        *,
        until: datetime | None = None,
    ) -> list[HealthSlots]:
        self._refuse()

    async def health_latest(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        self._refuse()

    async def rollup_health(self, keep_days: int = 7) -> int:
        self._refuse()

    async def _create_machine_token(
        self, environment_id: UUID, name: str, expires_at: datetime | None
    ) -> Mapping[str, Any] | None:
        self._refuse()

    async def _list_machine_tokens(self, project_id: UUID | None) -> list[Mapping[str, Any]]:
        self._refuse()

    async def _revoke_machine_token(self, token_id: UUID) -> Mapping[str, Any] | None:
        self._refuse()
