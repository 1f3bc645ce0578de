"""``PostgresBackend``: the direct PostgreSQL transport (embedded database or a server you name).

psycopg 3 async with a small pool; every unit of work is a transaction impersonating the user
the way PostgREST does (see ``pool.py``), so RLS and the RPCs of docs/DATABASE.md decide. Reads
are retried while the database is away; writes never are. The change feed is ``feed.ChangeFeed``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from psycopg import AsyncCursor, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from devsync_tui.backend.base import Backend, FeedEvent, PresenceInfo
from devsync_tui.backend.errors import DevSyncError, NotFound, PermissionDenied
from devsync_tui.backend.postgres.data import PgData
from devsync_tui.backend.postgres.feed import ChangeFeed
from devsync_tui.backend.rows import (
    environment_from_row,
    member_from_row,
    project_from_row,
    team_from_row,
    template_from_row,
)
from devsync_tui.core.models import (
    Environment,
    EnvStatus,
    EnvTemplate,
    Identity,
    Project,
    Role,
    Team,
    TeamMember,
)

log = logging.getLogger("devsync.backend.postgres")

_MEMBER_JOIN = (
    "select tm.*, p.username, p.full_name from {source} tm "
    "left join public.profiles p on p.id = tm.user_id"
)
#: How long ``close`` may spend taking my presence down (a dead link must not hold up quitting).
_PRESENCE_CLEAR_SECONDS = 2.0
_NOUNS = {
    "teams": "team",
    "projects": "project",
    "env_templates": "template",
    "environments": "environment",
}


def label_for(conninfo: str, *, embedded: bool) -> str:
    """``LOCAL`` for the embedded database, else the host named in the connection string."""
    if embedded:
        return "LOCAL"
    try:
        if "://" in conninfo:
            host = urlsplit(conninfo).hostname
        else:
            host = conninfo_to_dict(conninfo).get("host")  # type: ignore[assignment]
    except Exception:  # a label is cosmetic: never fail on it
        host = None
    if not host or str(host).startswith("/"):
        return "LOCAL"
    return str(host)


class PostgresBackend(PgData, Backend):
    """The Backend over a direct PostgreSQL connection, acting as one of its users."""

    kind = "local"

    def __init__(
        self,
        conninfo: str,
        username: str | None = None,
        *,
        embedded: bool = True,
        feed_max_backoff: float = 5.0,
        feed_liveness_interval: float = 15.0,
        **pool_options: Any,
    ) -> None:
        super().__init__(conninfo, username, **pool_options)
        self.label = label_for(conninfo, embedded=embedded)
        self._feed_max_backoff = feed_max_backoff
        #: A quiet change feed pings the database after this many seconds (dead-link check).
        self._feed_liveness_interval = feed_liveness_interval
        self._feeds: weakref.WeakSet[ChangeFeed] = weakref.WeakSet()
        #: Whether this backend may have left a presence row behind (``close`` removes it).
        self._announced = False

    # -- lifecycle and identity -----------------------------------------------------------
    async def connect(self) -> None:
        await self._open()

    async def close(self) -> None:
        """Close the pool and end every change feed of this backend (their streams finish).
        Presence this backend announced is taken down first, best effort."""
        for feed in list(self._feeds):
            feed.stop()
        await self._clear_presence()
        await self._close()

    async def whoami(self) -> Identity:
        return self.identity

    async def my_roles(self) -> dict[UUID, Role]:
        rows = await self.fetch_all(
            "select team_id, role from public.team_members where user_id = %s", (self.uid,)
        )
        return {r["team_id"]: Role(r["role"]) for r in rows}

    async def ping(self) -> float:
        return await self._ping()

    # -- helpers ----------------------------------------------------------------------------
    async def _changed_one(self, table: str, row: Any | None, row_id: UUID) -> Any:
        """A write's returned row, or why there is none: invisible → NotFound, visible but
        untouched (RLS refused the write) → PermissionDenied."""
        if row is not None:
            return row
        noun = _NOUNS.get(table, "row")
        visible = await self.fetch_one(
            sql.SQL("select 1 as one from public.{} where id = %s")
            .format(sql.Identifier(table))
            .as_string(),
            (row_id,),
        )
        if visible is None:
            raise NotFound(f"No such {noun} (or you may not see it).")
        raise PermissionDenied(f"You may not change this {noun}.")

    async def _delete(self, table: str, row_id: UUID) -> None:
        query = (
            sql.SQL("delete from public.{} where id = %s returning id")
            .format(sql.Identifier(table))
            .as_string()
        )
        row = await self.write_one(query, (row_id,))
        await self._changed_one(table, row, row_id)

    # -- teams and members ------------------------------------------------------------------
    async def list_teams(self) -> list[Team]:
        rows = await self.fetch_all("select * from public.teams order by name, id")
        return [team_from_row(r) for r in rows]

    async def create_team(self, name: str, slug: str) -> Team:
        row = await self.write_one("select * from public.create_team(%s, %s)", (name, slug))
        return team_from_row(await self._changed_one("teams", row, UUID(int=0)))

    async def rename_team(self, team_id: UUID, name: str) -> Team:
        row = await self.write_one(
            "update public.teams set name = %s where id = %s returning *", (name, team_id)
        )
        return team_from_row(await self._changed_one("teams", row, team_id))

    async def delete_team(self, team_id: UUID) -> None:
        await self._delete("teams", team_id)

    async def list_members(self, team_id: UUID) -> list[TeamMember]:
        query = _MEMBER_JOIN.format(source="public.team_members")
        rows = await self.fetch_all(
            f"{query} where tm.team_id = %s order by p.username", (team_id,)
        )
        return [member_from_row(r) for r in rows]

    async def add_member(self, team_id: UUID, username: str, role: Role) -> TeamMember:
        query = _MEMBER_JOIN.format(source="public.add_team_member(%s, %s, %s)")
        row = await self.write_one(query, (team_id, username, str(role)))
        if row is None:
            raise NotFound("The member was not added.")
        return member_from_row(row)

    async def set_member_role(self, team_id: UUID, user_id: UUID, role: Role) -> TeamMember:
        query = _MEMBER_JOIN.format(source="public.set_member_role(%s, %s, %s)")
        row = await self.write_one(query, (team_id, user_id, str(role)))
        if row is None:
            raise NotFound("No such member.")
        return member_from_row(row)

    async def remove_member(self, team_id: UUID, user_id: UUID) -> None:
        await self.write_one("select public.remove_team_member(%s, %s)", (team_id, user_id))

    # -- projects -------------------------------------------------------------------------
    async def list_projects(self, team_id: UUID | None = None) -> list[Project]:
        rows = await self.fetch_all(
            "select * from public.projects where (%s::uuid is null or team_id = %s) "
            "order by name, id",
            (team_id, team_id),
        )
        return [project_from_row(r) for r in rows]

    async def create_project(
        self,
        team_id: UUID,
        name: str,
        description: str | None = None,
        repository_url: str | None = None,
    ) -> Project:
        row = await self.write_one(
            "insert into public.projects (team_id, name, description, repository_url) "
            "values (%s, %s, %s, %s) returning *",
            (team_id, name, description, repository_url),
        )
        if row is None:
            raise PermissionDenied("You may not create projects in this team.")
        return project_from_row(row)

    async def update_project(
        self,
        project_id: UUID,
        *,
        name: str | None = None,
        description: str | None = None,
        repository_url: str | None = None,
    ) -> Project:
        changes = {
            k: v
            for k, v in (
                ("name", name),
                ("description", description),
                ("repository_url", repository_url),
            )
            if v is not None
        }
        if not changes:
            row = await self.fetch_one("select * from public.projects where id = %s", (project_id,))
            if row is None:
                raise NotFound("No such project (or you may not see it).")
            return project_from_row(row)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(column)) for column in changes
        )
        query = sql.SQL("update public.projects set {} where id = %s returning *").format(
            assignments
        )
        row = await self.write_one(query.as_string(), (*changes.values(), project_id))
        return project_from_row(await self._changed_one("projects", row, project_id))

    async def delete_project(self, project_id: UUID) -> None:
        await self._delete("projects", project_id)

    # -- templates ------------------------------------------------------------------------
    async def list_templates(self, project_id: UUID) -> list[EnvTemplate]:
        rows = await self.fetch_all(
            "select * from public.env_templates where project_id = %s order by name, id",
            (project_id,),
        )
        return [template_from_row(r) for r in rows]

    async def create_template(
        self,
        project_id: UUID,
        name: str,
        config_json: dict[str, Any],
        dependencies_json: list[Any],
        is_public: bool = False,
    ) -> EnvTemplate:
        row = await self.write_one(
            "insert into public.env_templates "
            "(project_id, name, config_json, dependencies_json, is_public, created_by) "
            "values (%s, %s, %s, %s, %s, %s) returning *",
            (project_id, name, Jsonb(config_json), Jsonb(dependencies_json), is_public, self.uid),
        )
        if row is None:
            raise PermissionDenied("You may not create templates in this project.")
        return template_from_row(row)

    async def delete_template(self, template_id: UUID) -> None:
        await self._delete("env_templates", template_id)

    # -- environments -----------------------------------------------------------------------
    async def list_environments(self, project_id: UUID) -> list[Environment]:
        rows = await self.fetch_all(
            "select * from public.environments where project_id = %s order by name, id",
            (project_id,),
        )
        return [environment_from_row(r) for r in rows]

    async def create_environment(
        self, project_id: UUID, name: str, template_id: UUID | None = None
    ) -> Environment:
        row = await self.write_one(
            "select * from public.create_environment(%s, %s, %s)", (project_id, name, template_id)
        )
        if row is None or row["id"] is None:
            raise NotFound("The environment was not created.")
        return environment_from_row(row)

    async def rename_environment(self, environment_id: UUID, name: str) -> Environment:
        row = await self.write_one(
            "update public.environments set name = %s where id = %s returning *",
            (name, environment_id),
        )
        return environment_from_row(await self._changed_one("environments", row, environment_id))

    async def delete_environment(self, environment_id: UUID) -> None:
        await self._delete("environments", environment_id)

    async def set_environment_status(
        self, environment_id: UUID, status: EnvStatus, last_sync_at: datetime | None = None
    ) -> Environment:
        row = await self.write_one(
            "update public.environments set status = %s, "
            "last_sync_at = coalesce(%s, last_sync_at) where id = %s returning *",
            (str(status), last_sync_at, environment_id),
        )
        return environment_from_row(await self._changed_one("environments", row, environment_id))

    # -- presence ---------------------------------------------------------------------------
    async def set_presence(self, project_id: UUID | None) -> None:
        """Announce the project I look at (None: none); PermissionDenied outside its team."""
        await self.write_one("select public.set_presence(%s)", (project_id,))
        self._announced = project_id is not None

    async def presence(self, project_id: UUID) -> PresenceInfo:
        """Who else looked at the project in the last 30 s. The call is also my heartbeat (it
        refreshes my own row), which repeats harmlessly: so it is retried like a read."""

        async def work(cur: AsyncCursor[DictRow]) -> list[DictRow]:
            await cur.execute(
                "select user_id, username from public.who_is_viewing(%s)", (project_id,)
            )
            return await cur.fetchall()

        rows = await self.read(work)
        self._announced = True
        me = self.uid
        names = tuple(str(r["username"]) for r in rows if r["user_id"] != me)
        return PresenceInfo(project_id=project_id, usernames=names)

    async def _clear_presence(self) -> None:
        """Remove my presence rows on the way out; a failure only leaves a row that stops
        being reported after 30 s, so it is logged, never raised."""
        if not self._announced or self._pool is None:
            return
        try:
            async with self.tx(deadline=_PRESENCE_CLEAR_SECONDS) as cur:
                await cur.execute("select public.set_presence(null)")
            self._announced = False
        except DevSyncError as exc:
            log.info("presence not cleared on close: %s", type(exc).__name__)

    # -- live -----------------------------------------------------------------------------
    def changes(self) -> AsyncIterator[FeedEvent]:
        feed = ChangeFeed(
            self,
            self._conninfo,
            max_backoff=self._feed_max_backoff,
            liveness_interval=self._feed_liveness_interval,
            ping_timeout=min(5.0, self._feed_liveness_interval),
        )
        self._feeds.add(feed)
        return feed.events()
