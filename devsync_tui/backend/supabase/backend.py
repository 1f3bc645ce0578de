"""The Supabase transport: ``SupabaseBackend`` implements ``Backend`` with supabase-py.

Reads go through PostgREST (RLS applies to the signed-in user), writes through the RPCs of
docs/DATABASE.md and the direct table writes its policies allow, the change feed through
Realtime ``postgres_changes`` (``supabase_realtime``). supabase-py is imported lazily, inside
``connect()``: importing this module costs nothing noticeable, so the TUI's first frame does not
wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

from devsync_tui.backend import rows
from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError, NotSignedIn, Unavailable
from devsync_tui.backend.live import FeedEvent, LinkChanged, PresenceInfo, Resync
from devsync_tui.backend.opening import Opening, Primed, opening_from_document
from devsync_tui.backend.presence import announce_args, new_client_id, presence_from_rows
from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.config_states import SupabaseConfigStates
from devsync_tui.backend.supabase.data import SupabaseConfigMixin
from devsync_tui.backend.supabase.errors import translate_errors
from devsync_tui.backend.supabase.realtime import REALTIME_DOWN, FeedTiming, SupabaseFeed
from devsync_tui.backend.supabase.rest import PAGE, eq
from devsync_tui.backend.supabase.tokens import SupabaseTokens
from devsync_tui.core.models import (
    Environment,
    Identity,
    Role,
    Team,
    TeamMember,
)

if TYPE_CHECKING:
    from devsync_tui.backend.supabase.session import SessionStorage

#: How long ``close`` may spend taking my presence down.
#: How long quitting waits for the live feed to close before it lets go of it.
_CLOSE_SECONDS = 5.0
_PRESENCE_CLEAR_SECONDS = 2.0


class SupabaseBackend(SupabaseConfigMixin, SupabaseTokens, SupabaseConfigStates, Backend):
    """Backend on a Supabase project, as the user whose session the storage holds."""

    kind = "supabase"
    rows_per_request = PAGE

    def __init__(
        self,
        url: str,
        anon_key: str,
        *,
        storage: SessionStorage | None = None,
        feed_timing: FeedTiming | None = None,
        realtime_options: dict[str, Any] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.anon_key = anon_key
        self.label = urlsplit(self.url).hostname or self.url
        self.client = None
        self._storage = storage
        self._session: Any | None = None
        self._refresh_lock = asyncio.Lock()
        self._identity: Identity | None = None
        self._feed: SupabaseFeed | None = None
        self._feed_lock = asyncio.Lock()
        self._feed_timing = feed_timing
        self._realtime_options = realtime_options
        self._auth_subscription: Any | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._client_id = new_client_id()
        #: Whether this client may have a presence row (``close`` takes it down).
        self._announced = False

    # -- lifecycle and identity ---------------------------------------------------------------
    @property
    def storage(self) -> SessionStorage:
        if self._storage is None:
            # Deferred: session imports supabase_auth (~0.2 s), not needed until a session is.
            from devsync_tui.backend.supabase.session import SessionStorage

            self._storage = SessionStorage(auth.storage_namespace(self.url))
        return self._storage

    async def connect(self) -> None:
        if self.client is not None:
            return
        # supabase-py and supabase_auth (~0.5 s of imports) in a worker thread: the event loop
        # (the dashboard starting) keeps running meanwhile.
        await asyncio.to_thread(_load_supabase)
        client = await auth.create_client(
            self.url, self.anon_key, self.storage, realtime=self._realtime_options
        )
        self._auth_subscription = client.auth.on_auth_state_change(self._on_auth_event)
        self.client = client
        try:
            # Taken before reading: a sign-out meanwhile is seen at the first request.
            mark = self.storage.stamp()
            await auth.restore_session(client, self.storage)
            self._stored_mark = mark
            if self._session is None:
                raise NotSignedIn("Your session has ended; run `devsync login` again.")
            # Who I am is read on first use (whoami), or comes with open_workspace: not one
            # more round trip before the dashboard's first frame.
        except BaseException:
            await self.close()
            raise
        self._keeper = asyncio.create_task(self._keep_fresh())

    def _session_ended(self, reason: NotSignedIn) -> None:
        if self._feed is not None:
            self._feed.queue.put_nowait(("link", ("offline", str(reason))))

    def _on_auth_event(self, event: str, session: Any | None) -> None:
        """supabase-py auth callback (sync): track the session; hand new tokens to realtime."""
        self._session = session
        if session is not None and self._feed is not None:
            self._feed.on_token(session.access_token)
        if event == "SIGNED_OUT" and self._feed is not None:
            self._feed.queue.put_nowait(("link", ("offline", "signed out")))

    async def close(self) -> None:
        # Quitting clears my presence at once (best effort: a dead link only leaves a row
        # that stops being reported after 15 s).
        with contextlib.suppress(DevSyncError, TimeoutError):
            await asyncio.wait_for(self._leave_presence(), _PRESENCE_CLEAR_SECONDS)
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        # A refresh cut short by the quit goes on until its new session is stored.
        await self._refresh_finished(_CLOSE_SECONDS)
        feed, self._feed = self._feed, None
        if feed is not None:
            # Bounded: a socket whose server stopped answering must not hold the quit up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.close(), _CLOSE_SECONDS)
        client, self.client = self.client, None
        if self._auth_subscription is not None:
            with contextlib.suppress(Exception):
                self._auth_subscription.unsubscribe()
            self._auth_subscription = None
        if client is not None:
            await auth.close_client(client)

    async def whoami(self) -> Identity:
        if self._identity is not None:
            return self._identity
        session = self._session
        if session is None:
            raise NotSignedIn("You are not signed in; run `devsync login`.")
        user_id = UUID(str(session.user.id))
        row = await self._one("profiles", [eq("id", user_id)], "Your profile")
        self._identity = Identity(
            user_id=user_id, username=str(row["username"]), email=session.user.email
        )
        return self._identity

    async def open_workspace(
        self, project: str | None = None, environment: str | None = None
    ) -> Opening:
        session = self._session
        if session is None:
            raise NotSignedIn("You are not signed in; run `devsync login`.")
        doc = await self._rpc(
            "open_workspace", {"p_project": project, "p_environment": environment}
        )
        if not isinstance(doc, dict):
            raise Unavailable("The Supabase project answered open_workspace with no document.")
        opening = opening_from_document(doc, session.user.email)
        if opening.identity.user_id != UUID(str(session.user.id)):
            raise NotSignedIn("Your session does not match your profile; run `devsync login`.")
        self._identity = opening.identity
        self.primed = Primed(opening.answers)
        return opening

    async def my_roles(self) -> dict[UUID, Role]:
        me = await self.whoami()
        found = await self._select(
            "team_members", "team_id,role", where=[eq("user_id", me.user_id)]
        )
        return {UUID(str(r["team_id"])): Role(r["role"]) for r in found}

    async def ping(self) -> float:
        me = await self.whoami()
        started = time.perf_counter()
        await self._select("profiles", "id", where=[eq("id", me.user_id)], limit=1)
        return time.perf_counter() - started

    # -- rows of a table (Transport) ----------------------------------------------------------
    async def _row(self, table: str, key: UUID | int) -> Any | None:
        found = await self._select(table, where=[eq("id", key)], limit=1)
        return rows.row_to_model(table, found[0]) if found else None

    async def _rows(self, table: str, match: Mapping[str, Any]) -> list[Any]:
        # ordered by the primary key only so that pages never overlap
        where = [eq(column, value) for column, value in match.items()]
        found = await self._select(table, where=where, order=[("id", False)])
        return [rows.row_to_model(table, r) for r in found]

    async def _insert_row(self, table: str, values: Mapping[str, Any]) -> Any | None:
        row = await self._insert(table, dict(values))
        return None if row is None else rows.row_to_model(table, row)

    async def _update_row(self, table: str, key: UUID, values: Mapping[str, Any]) -> Any | None:
        row = await self._write_one(table, key, dict(values))
        return None if row is None else rows.row_to_model(table, row)

    async def _delete_row(self, table: str, key: UUID) -> bool:
        return await self._write_one(table, key, None) is not None

    # -- teams and members ----------------------------------------------------------------
    async def create_team(self, name: str, slug: str) -> Team:
        row = await self._rpc_row("create_team", {"p_name": name, "p_slug": slug})
        return rows.team_from_row(row)

    async def _list_members(self, team_id: UUID) -> list[TeamMember]:
        found = await self._select(
            "team_members", where=[eq("team_id", team_id)], order=[("user_id", False)]
        )
        return await self._with_names(found)

    async def _with_names(self, found: list[dict[str, Any]]) -> list[TeamMember]:
        ids = {UUID(str(r["user_id"])) for r in found}
        profiles = {}
        if ids:
            for r in await self._select(
                "profiles",
                "id,username,full_name",
                where=[lambda q: q.in_("id", sorted(map(str, ids)))],
            ):
                profiles[str(r["id"])] = r
        return [
            rows.member_from_row({**r, "profiles": profiles.get(str(r["user_id"]), {})})
            for r in found
        ]

    async def add_member(self, team_id: UUID, username: str, role: Role) -> TeamMember:
        row = await self._rpc_row(
            "add_team_member",
            {"p_team_id": team_id, "p_username": username, "p_role": str(role)},
            key="team_id",
        )
        return (await self._with_names([row]))[0]

    async def set_member_role(self, team_id: UUID, user_id: UUID, role: Role) -> TeamMember:
        row = await self._rpc_row(
            "set_member_role",
            {"p_team_id": team_id, "p_user_id": user_id, "p_role": str(role)},
            key="team_id",
        )
        return (await self._with_names([row]))[0]

    async def remove_member(self, team_id: UUID, user_id: UUID) -> None:
        await self._rpc("remove_team_member", {"p_team_id": team_id, "p_user_id": user_id})

    # -- environments -----------------------------------------------------------------------
    async def create_environment(
        self, project_id: UUID, name: str, template_id: UUID | None = None
    ) -> Environment:
        row = await self._rpc_row(
            "create_environment",
            {"p_project_id": project_id, "p_name": name, "p_template_id": template_id},
        )
        return rows.environment_from_row(row)

    # -- live -------------------------------------------------------------------------------
    async def reread(self, table: str, key: str) -> Any | None:
        """A changed row read back through PostgREST (None when I may not see it)."""
        if table == "team_members":
            team, _, user = key.partition(":")
            found = await self._select(
                "team_members", where=[eq("team_id", team), eq("user_id", user)], limit=1
            )
            return (await self._with_names(found))[0] if found else None
        if table not in rows.ROW_MAPPERS:
            return None
        found = await self._select(table, where=[eq("id", key)], limit=1)
        return rows.row_to_model(table, found[0]) if found else None

    async def _scopes(self) -> tuple[list[UUID], dict[UUID, UUID]]:
        teams = [t.id for t in await self.list_teams()]
        projects = {p.id: p.team_id for p in await self.list_projects()}
        return teams, projects

    async def _ensure_feed(self) -> SupabaseFeed:
        async with self._feed_lock:
            if self._feed is None:
                client = self._require()
                me = await self.whoami()
                session = self._session
                if session is None:
                    raise NotSignedIn("You are signed out; run `devsync login`.")
                feed = SupabaseFeed(
                    client, me.user_id, self.reread, self._feed_timing, self._follow_scopes
                )
                teams, projects = await self._scopes()
                try:
                    await feed.start(session.access_token, teams, projects)
                except Exception as exc:
                    await feed.close()
                    raise Unavailable(REALTIME_DOWN) from exc
                self._feed = feed
            return self._feed

    async def _follow_scopes(self) -> None:
        """A team/membership/project changed: the channels follow what I can now see."""
        feed = self._feed
        if feed is not None:
            with contextlib.suppress(DevSyncError):
                await feed.set_scopes(*await self._scopes())

    async def changes(self) -> AsyncIterator[FeedEvent]:
        delay = 1.0
        failed = False
        while True:
            try:
                feed = await self._ensure_feed()
                break
            except Unavailable as exc:
                # Keep trying in the background of the UI: offline now, Resync once live.
                if not failed:
                    yield LinkChanged("offline", str(exc))
                failed = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        async for event in feed.events():
            yield event
            if failed and isinstance(event, LinkChanged) and event.state == "live":
                failed = False
                yield Resync("realtime connected")

    async def set_presence(
        self,
        project_id: UUID | None,
        *,
        environment_id: UUID | None = None,
        tab: str | None = None,
        editing_key: str | None = None,
    ) -> PresenceInfo | None:
        if project_id is None:
            await self._leave_presence()
            feed = self._feed
            if feed is not None:
                async with translate_errors():
                    await feed.watch_presence(None)
            return None
        args = announce_args(self._client_id, project_id, environment_id, tab, editing_key)
        # Before the request: one cut short after its commit has still left a row behind.
        self._announced = True
        rows = await self._rpc("announce_presence", args)
        feed = await self._ensure_feed()
        async with translate_errors():
            await feed.watch_presence(project_id)
        return presence_from_rows(project_id, rows or [], self._client_id)

    async def _leave_presence(self) -> None:
        if self._announced and self.client is not None:
            await self._rpc("leave_presence", {"p_client_id": self._client_id})
            self._announced = False

    def pop_notice(self) -> str | None:
        """The one-time notice that sessions live in a 0600 file (no keyring), if any."""
        return self._storage.pop_notice() if self._storage is not None else None

    async def presence(self, project_id: UUID) -> PresenceInfo:
        rows = await self._rpc_rows("who_is_here", {"p_project_id": project_id})
        return presence_from_rows(project_id, rows, self._client_id)


def _load_supabase() -> None:
    """Import what creating a client imports (then a no-op in ``create_client``)."""
    import httpx  # noqa: F401

    import supabase  # noqa: F401
    from devsync_tui.backend.supabase import session  # noqa: F401
