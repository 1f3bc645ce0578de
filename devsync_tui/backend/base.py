"""The Backend contract: everything above the database talks to this, never to a transport.

Two transports implement it: ``backend.postgres.PostgresBackend`` (direct psycopg, used for the
embedded local database and ``DEVSYNC_DATABASE_URL``) and ``backend.supabase.SupabaseBackend``
(supabase-py). Both let the database decide authorization (RLS + RPCs).

The rules that do not depend on the transport are written here, once, around the calls each
transport translates (``transport.Transport``):

- refusals: one sentence per refusal (``refusals``), whichever transport met it;
- ``Conflict.current``: a save, delete or restore refused for a version conflict carries the
  row now stored under that scope and key (None when there is none) and its version;
- a revealed value is registered for log redaction (``logging_setup.register_secret``);
- lists are ordered by ``rules`` (names ignoring case, then id; keys exactly; newest first);
- timestamps are timezone-aware, in UTC (``rows``; the local transport's sessions run in UTC).

Every method raises only ``backend.errors`` types.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from devsync_tui.backend import refusals, rules
from devsync_tui.backend.config_states import ConfigStateContract
from devsync_tui.backend.data import DataContract
from devsync_tui.backend.errors import DevSyncError

# The feed's types belong to the contract (``changes`` yields them): importable from here too.
from devsync_tui.backend.live import ChangeEvent as ChangeEvent
from devsync_tui.backend.live import ChangeOp as ChangeOp
from devsync_tui.backend.live import FeedEvent as FeedEvent
from devsync_tui.backend.live import LinkChanged as LinkChanged
from devsync_tui.backend.live import LinkState as LinkState
from devsync_tui.backend.live import PresenceInfo as PresenceInfo
from devsync_tui.backend.live import Resync as Resync
from devsync_tui.backend.tokens import TokenContract
from devsync_tui.core.models import (
    Environment,
    EnvStatus,
    EnvTemplate,
    Project,
    Role,
    Team,
    TeamMember,
)

if TYPE_CHECKING:
    from devsync_tui.backend.opening import Opening, Primed

T = TypeVar("T")


class Backend(DataContract, TokenContract, ConfigStateContract):
    """One interface, two transports. All methods are coroutines except ``changes``.

    Abstract methods are translated by each transport as they are; the others apply the
    contract's rules around the transport's calls (``Transport``). Configuration,
    dependencies, health and audit are in ``data.DataContract``, as in each transport;
    machine tokens in ``tokens.TokenContract``."""

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

    # whoami() and my_roles(): declared with the data contract, whose rules use them.

    #: The answers of ``open_workspace`` not yet used by ``answer_now`` (None: none).
    primed: Primed[Backend] | None = None

    async def open_workspace(
        self, project: str | None = None, environment: str | None = None
    ) -> Opening | None:
        """The dashboard's opening view in one round trip (``public.open_workspace``): who I
        am, my roles, the tree, and the rows of the scopes ``project``/``environment`` (as
        typed) may name, or of the first project. Kept in ``primed`` for ``answer_now``.
        None from a backend without it (the dashboard then makes the separate reads)."""
        return None

    def answer_now(self, read: Callable[[Backend], Coroutine[Any, Any, T]]) -> T | None:
        """``read(self)`` answered at once from the opening (each answer once), or None."""
        primed = self.primed
        return primed.answer_now(read) if primed is not None else None

    @abc.abstractmethod
    async def ping(self) -> float:
        """Round trip to the database, in seconds."""

    # -- writes by id: the refusal when nothing changed -----------------------------------
    async def _changed(self, table: str, key: UUID, values: dict[str, Any]) -> Any:
        row = await self._update_row(table, key, values)
        if row is None:
            raise await self._refusal(table, key)
        return row

    async def _deleted(self, table: str, key: UUID) -> None:
        if not await self._delete_row(table, key):
            raise await self._refusal(table, key)

    async def _refusal(self, table: str, key: UUID) -> DevSyncError:
        """Why a write by id changed nothing: row-level security hides the row (NotFound) or
        shows it but refuses the write (PermissionDenied)."""
        if await self._row(table, key) is None:
            return refusals.not_visible(table)
        return refusals.may_not_change(table)

    # -- teams and members ------------------------------------------------------------------
    async def list_teams(self) -> list[Team]:
        return rules.by_name(await self._rows("teams", {}))

    @abc.abstractmethod
    async def create_team(self, name: str, slug: str) -> Team: ...

    async def rename_team(self, team_id: UUID, name: str) -> Team:
        team: Team = await self._changed("teams", team_id, {"name": name})
        return team

    async def delete_team(self, team_id: UUID) -> None:
        await self._deleted("teams", team_id)

    async def list_members(self, team_id: UUID) -> list[TeamMember]:
        return rules.by_username(await self._list_members(team_id))

    @abc.abstractmethod
    async def add_member(self, team_id: UUID, username: str, role: Role) -> TeamMember: ...

    @abc.abstractmethod
    async def set_member_role(self, team_id: UUID, user_id: UUID, role: Role) -> TeamMember: ...

    @abc.abstractmethod
    async def remove_member(self, team_id: UUID, user_id: UUID) -> None:
        """Remove a member (admins) or leave (user_id = me)."""

    # -- projects -------------------------------------------------------------------------
    async def list_projects(self, team_id: UUID | None = None) -> list[Project]:
        match = {} if team_id is None else {"team_id": team_id}
        return rules.by_name(await self._rows("projects", match))

    async def create_project(
        self,
        team_id: UUID,
        name: str,
        description: str | None = None,
        repository_url: str | None = None,
    ) -> Project:
        values = {
            "team_id": team_id,
            "name": name,
            "description": description,
            "repository_url": repository_url,
        }
        project: Project | None = await self._insert_row("projects", values)
        if project is None:
            raise refusals.may_not_create("projects")
        return project

    async def update_project(
        self,
        project_id: UUID,
        *,
        name: str | None = None,
        description: str | None = None,
        repository_url: str | None = None,
    ) -> Project:
        """Change the fields given (None: unchanged); with none given, the project as it is."""
        fields = (("name", name), ("description", description), ("repository_url", repository_url))
        values = {column: value for column, value in fields if value is not None}
        project: Project | None
        if values:
            project = await self._changed("projects", project_id, values)
        else:
            project = await self._row("projects", project_id)
        if project is None:
            raise refusals.not_visible("projects")
        return project

    async def delete_project(self, project_id: UUID) -> None:
        await self._deleted("projects", project_id)

    # -- templates --------------------------------------------------------------------------
    async def list_templates(self, project_id: UUID) -> list[EnvTemplate]:
        found = await self._rows("env_templates", {"project_id": project_id})
        return rules.by_name(found)

    async def template(self, template_id: UUID) -> EnvTemplate | None:
        """One template by id (a public one of another project too); None if I may not see it."""
        found: EnvTemplate | None = await self._row("env_templates", template_id)
        return found

    async def create_template(
        self,
        project_id: UUID,
        name: str,
        config_json: dict[str, Any],
        dependencies_json: list[Any],
        is_public: bool = False,
    ) -> EnvTemplate:
        rules.check_json(config_json)
        rules.check_json(dependencies_json)
        values = {
            "project_id": project_id,
            "name": name,
            "config_json": config_json,
            "dependencies_json": dependencies_json,
            "is_public": is_public,
            "created_by": (await self.whoami()).user_id,
        }
        template: EnvTemplate | None = await self._insert_row("env_templates", values)
        if template is None:
            raise refusals.may_not_create("env_templates")
        return template

    async def delete_template(self, template_id: UUID) -> None:
        await self._deleted("env_templates", template_id)

    # -- environments -----------------------------------------------------------------------
    async def list_environments(self, project_id: UUID) -> list[Environment]:
        found = await self._rows("environments", {"project_id": project_id})
        return rules.by_name(found)

    @abc.abstractmethod
    async def create_environment(
        self, project_id: UUID, name: str, template_id: UUID | None = None
    ) -> Environment:
        """Create an environment owned by me (from a template: its configuration and
        dependencies are copied in, in the same transaction)."""

    async def rename_environment(self, environment_id: UUID, name: str) -> Environment:
        environment: Environment = await self._changed(
            "environments", environment_id, {"name": name}
        )
        return environment

    async def set_environment_owner(self, environment_id: UUID, user_id: UUID) -> Environment:
        """Give the environment to ``user_id``: admins of its team only (PermissionDenied);
        the new owner must be a member or admin of the team (InvalidInput: not a viewer, not
        an outsider); unknown environment NotFound. Audited (``environment.owner``); its
        configurations are not touched."""
        return await self._set_environment_owner(environment_id, user_id)

    async def delete_environment(self, environment_id: UUID) -> None:
        await self._deleted("environments", environment_id)

    async def set_environment_status(
        self, environment_id: UUID, status: EnvStatus, last_sync_at: datetime | None = None
    ) -> Environment:
        """Set the status (and the last sync time; None keeps the stored one)."""
        values: dict[str, Any] = {"status": str(status)}
        if last_sync_at is not None:
            values["last_sync_at"] = last_sync_at
        environment: Environment = await self._changed("environments", environment_id, values)
        return environment

    # -- live -------------------------------------------------------------------------------
    @abc.abstractmethod
    def changes(self) -> AsyncIterator[FeedEvent]:
        """Change feed scoped to what I may see. Yields LinkChanged on state changes and
        Resync after any gap. One consumer per call."""

    async def set_presence(
        self,
        project_id: UUID | None,
        *,
        environment_id: UUID | None = None,
        tab: str | None = None,
        editing_key: str | None = None,
    ) -> PresenceInfo | None:
        """Announce where this client is (``None``: nowhere, it leaves at once); repeating it
        is the heartbeat. Returns who else is on the project (None: no project, or a
        transport without presence). Outside the project's team: PermissionDenied."""
        return None

    async def presence(self, project_id: UUID) -> PresenceInfo:
        """Who else (other clients) is on the project, and where."""
        return PresenceInfo(project_id=project_id)
