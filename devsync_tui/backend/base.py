"""The Backend interface: everything above the database talks to this, never to a transport.

Two transports implement it: ``backend.postgres.PostgresBackend`` (direct psycopg, used for the
embedded local database and ``DEVSYNC_DATABASE_URL``) and ``backend.supabase.SupabaseBackend``
(supabase-py). Both let the database decide authorization (RLS + RPCs); ``capabilities`` only
mirrors PERMISSIONS.md so the UI can hide actions that would fail.

Every method raises only ``backend.errors`` types.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    EffectiveConfigRow,
    Environment,
    EnvStatus,
    EnvTemplate,
    HealthBucket,
    HealthCheck,
    HealthPoint,
    Identity,
    Project,
    Role,
    Team,
    TeamMember,
)

ChangeOp = Literal["INSERT", "UPDATE", "DELETE"]
LinkState = Literal["live", "reconnecting", "offline"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A row changed. ``row`` is the re-read row (a model from core.models) or None for
    DELETE and for rows the user may no longer see. ``id`` is the primary key as text
    (``"<team_id>:<user_id>"`` for team_members). ``team_id``/``project_id``/``environment_id``
    are the scope ids the change carried (None where not applicable)."""

    table: str
    op: ChangeOp
    id: str
    row: Any | None
    team_id: UUID | None = None
    project_id: UUID | None = None
    environment_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Resync:
    """A gap happened (reconnect, token refresh): re-read everything on screen."""

    reason: str


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The change feed's connection state changed (header: live / reconnecting / offline)."""

    state: LinkState
    detail: str = ""


FeedEvent = ChangeEvent | Resync | LinkChanged


@dataclass(frozen=True, slots=True)
class PresenceInfo:
    """Who else is looking at a project (transports without presence report nobody)."""

    project_id: UUID
    usernames: tuple[str, ...]


class Backend(abc.ABC):
    """One interface, two transports. All methods are coroutines except ``changes``."""

    #: ``"local"`` or ``"supabase"``.
    kind: str
    #: What the header shows as the workspace: ``"LOCAL"`` or the Supabase host.
    label: str

    # -- lifecycle and identity -------------------------------------------------------------
    @abc.abstractmethod
    async def connect(self) -> None:
        """Open connections; raise NotSignedIn / Unavailable."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def whoami(self) -> Identity: ...

    @abc.abstractmethod
    async def my_roles(self) -> dict[UUID, Role]:
        """My role in each team I belong to."""

    @abc.abstractmethod
    async def ping(self) -> float:
        """Round trip to the database, in seconds."""

    # -- teams and members ------------------------------------------------------------------
    @abc.abstractmethod
    async def list_teams(self) -> list[Team]: ...

    @abc.abstractmethod
    async def create_team(self, name: str, slug: str) -> Team: ...

    @abc.abstractmethod
    async def rename_team(self, team_id: UUID, name: str) -> Team: ...

    @abc.abstractmethod
    async def delete_team(self, team_id: UUID) -> None: ...

    @abc.abstractmethod
    async def list_members(self, team_id: UUID) -> list[TeamMember]: ...

    @abc.abstractmethod
    async def add_member(self, team_id: UUID, username: str, role: Role) -> TeamMember: ...

    @abc.abstractmethod
    async def set_member_role(self, team_id: UUID, user_id: UUID, role: Role) -> TeamMember: ...

    @abc.abstractmethod
    async def remove_member(self, team_id: UUID, user_id: UUID) -> None:
        """Remove a member (admins) or leave (user_id = me)."""

    # -- projects -------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_projects(self, team_id: UUID | None = None) -> list[Project]: ...

    @abc.abstractmethod
    async def create_project(
        self,
        team_id: UUID,
        name: str,
        description: str | None = None,
        repository_url: str | None = None,
    ) -> Project: ...

    @abc.abstractmethod
    async def update_project(
        self,
        project_id: UUID,
        *,
        name: str | None = None,
        description: str | None = None,
        repository_url: str | None = None,
    ) -> Project: ...

    @abc.abstractmethod
    async def delete_project(self, project_id: UUID) -> None: ...

    # -- templates --------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_templates(self, project_id: UUID) -> list[EnvTemplate]: ...

    @abc.abstractmethod
    async def create_template(
        self,
        project_id: UUID,
        name: str,
        config_json: dict[str, Any],
        dependencies_json: list[Any],
        is_public: bool = False,
    ) -> EnvTemplate: ...

    @abc.abstractmethod
    async def delete_template(self, template_id: UUID) -> None: ...

    # -- environments -----------------------------------------------------------------------
    @abc.abstractmethod
    async def list_environments(self, project_id: UUID) -> list[Environment]: ...

    @abc.abstractmethod
    async def create_environment(
        self, project_id: UUID, name: str, template_id: UUID | None = None
    ) -> Environment:
        """Create an environment owned by me (from a template: its configuration and
        dependencies are copied in, in the same transaction)."""

    @abc.abstractmethod
    async def rename_environment(self, environment_id: UUID, name: str) -> Environment: ...

    @abc.abstractmethod
    async def delete_environment(self, environment_id: UUID) -> None: ...

    @abc.abstractmethod
    async def set_environment_status(
        self, environment_id: UUID, status: EnvStatus, last_sync_at: datetime | None = None
    ) -> Environment: ...

    # -- configuration ----------------------------------------------------------------------
    @abc.abstractmethod
    async def list_configurations(
        self, project_id: UUID, environment_id: UUID | None = None
    ) -> list[Configuration]:
        """The rows of one scope: project defaults (None) or one environment's overrides."""

    @abc.abstractmethod
    async def effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]: ...

    @abc.abstractmethod
    async def project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        """The project defaults as effective rows (source ``"default"``), with updated_by."""

    @abc.abstractmethod
    async def save_configuration(
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
        """Create (expected_version None) or update; Conflict when the version moved on."""

    @abc.abstractmethod
    async def delete_configuration(self, configuration_id: UUID, expected_version: int) -> None: ...

    @abc.abstractmethod
    async def reveal_secret(self, configuration_id: UUID) -> str:
        """The secret's value if the rule allows (audited); PermissionDenied otherwise."""

    @abc.abstractmethod
    async def configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int = 100
    ) -> list[ConfigHistoryEntry]:
        """Newest first; includes versions of deleted rows with the same scope and key."""

    @abc.abstractmethod
    async def reveal_history_secret(self, history_id: int) -> str: ...

    async def confirm_save(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        key: str,
        value: str,
        *,
        expected_version: int | None,
    ) -> bool:
        """After ``OutcomeUnknown``: did that save happen? True when the version it would have
        written exists, was written by me and (for values I can read) holds ``value``; False
        when it does not exist or someone else wrote it. Raises Unavailable while unreachable.
        A save is a single transaction, so the answer is "once" or "not at all"."""
        me = (await self.whoami()).user_id
        wanted = 1 if expected_version is None else expected_version + 1
        for entry in await self.configuration_history(project_id, environment_id, key, limit=50):
            if entry.version != wanted or entry.op == "delete":
                continue
            if entry.changed_by != me:
                return False
            return entry.is_secret or entry.value == value
        return False

    @abc.abstractmethod
    async def restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        """Write a history entry's value back as a new version (secrets never leave the DB)."""

    # -- dependencies -----------------------------------------------------------------------
    @abc.abstractmethod
    async def list_dependencies(
        self,
        project_id: UUID,
        *,
        environment_ids: Sequence[UUID | None] | None = None,
        name_filter: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Dependency]:
        """Dependency rows of a project (None in environment_ids = the baseline), ordered by
        package_manager, package_name, environment; paged with limit/offset."""

    @abc.abstractmethod
    async def report_dependencies(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        packages: Sequence[DependencyInput],
    ) -> int:
        """Replace the dependency set of an environment (None = baseline) in one transaction.
        Returns the number of rows now stored."""

    # -- health -----------------------------------------------------------------------------
    @abc.abstractmethod
    async def health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]: ...

    @abc.abstractmethod
    async def health_buckets(
        self,
        environment_ids: Sequence[UUID],
        since: datetime,
        slots: int,
        *,
        until: datetime | None = None,
    ) -> list[HealthBucket]:
        """Each environment's points per metric averaged into ``slots`` equal time slots over
        [since, until] (until: the database's now() when None), computed by the database (RPC
        ``health_buckets``); only environments I may read contribute. At most 500 environments
        and 1..1440 slots, ``since`` before ``until``: InvalidInput otherwise."""

    @abc.abstractmethod
    async def health_latest(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        """The newest point with a number per environment and metric recorded since ``since``
        (RPC ``health_latest``), ordered by environment and metric; only environments I may
        read. At most 500 environments: InvalidInput otherwise."""

    @abc.abstractmethod
    async def report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        """Insert points; a point already stored (same env, metric, recorded_at) is skipped,
        so retries never duplicate. Returns the number inserted."""

    @abc.abstractmethod
    async def rollup_health(self, keep_days: int = 7) -> int:
        """Retention: raw health points older than ``keep_days`` become hourly roll-ups (team
        admins only: PermissionDenied otherwise). Returns how many raw points were folded."""

    # -- audit ------------------------------------------------------------------------------
    @abc.abstractmethod
    async def audit_log(
        self, team_id: UUID, *, limit: int = 200, before_id: int | None = None
    ) -> list[AuditEntry]: ...

    # -- live -------------------------------------------------------------------------------
    @abc.abstractmethod
    def changes(self) -> AsyncIterator[FeedEvent]:
        """Change feed scoped to what I may see. Yields LinkChanged on state changes and
        Resync after any gap. One consumer per call."""

    async def set_presence(self, project_id: UUID | None) -> None:  # noqa: B027
        """Announce which project I am looking at (no-op where unsupported)."""

    async def presence(self, project_id: UUID) -> PresenceInfo:
        return PresenceInfo(project_id=project_id, usernames=())
