"""A Supabase project on loopback for tests: GoTrue (``/auth/v1``), PostgREST on a real
PostgreSQL database (``/rest/v1``) and a Phoenix-protocol Realtime peer
(``/realtime/v1/websocket``), behind one base URL like a real project.

``FakeSupabase(database_url)`` seeds GoTrue with the demo users (password ``devsync-demo``),
inserts signed-up users into ``auth.users`` (the profile trigger runs), and — with
``bridge_changes=True`` — turns the database's ``devsync_changes`` notifications into
``postgres_changes`` messages, applying RLS per subscriber the way Realtime (WALRUS) does, and
its ``realtime.send`` broadcasts into the private channels the policies let join.
Every HTTP request is kept in ``requests`` for assertions on paths, filters, headers, bodies.
``latency`` (seconds, default 0) is added to every HTTP round trip (a project in another
region); each request's arrival and answer times (``time.perf_counter``) are in ``timings``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from tests.backend.fake_supabase.gotrue import ANON_KEY, FakeGoTrue, User
from tests.backend.fake_supabase.httpserver import HttpRequest, HttpResponse, LoopbackServer
from tests.backend.fake_supabase.phoenix import FakeRealtime
from tests.backend.fake_supabase.postgrest import FakePostgrest
from tests.backend.fake_supabase.realtime_auth import ChannelAuthorizer

__all__ = ["ANON_KEY", "FakeSupabase"]

DEMO_PASSWORD = "devsync-demo"


class FakeSupabase:
    def __init__(
        self, database_url: str, *, bridge_changes: bool = False, latency: float = 0.0
    ) -> None:
        self.database_url = database_url
        self.latency = latency
        #: (arrived, answered) per HTTP request, in ``requests`` order (perf_counter seconds).
        self.timings: list[tuple[float, float]] = []
        self.gotrue = FakeGoTrue()
        self.gotrue.on_signup = self._insert_auth_user
        self.postgrest = FakePostgrest(database_url)
        self.realtime = FakeRealtime(ChannelAuthorizer(database_url))
        self.server = LoopbackServer(self._http, self.realtime.serve)
        self.requests: list[HttpRequest] = []
        self.anon_key = ANON_KEY
        self.bridge_changes = bridge_changes
        self._bridge: asyncio.Task[None] | None = None
        self._bridge_ready = asyncio.Event()

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> FakeSupabase:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            cur = await conn.execute(
                "select id::text, email from auth.users where email is not null"
            )
            for user_id, email in await cur.fetchall():
                self.gotrue.add_user(email, DEMO_PASSWORD, user_id)
        await self.server.start()
        if self.bridge_changes:
            self._bridge = asyncio.create_task(self._bridge_loop())
            await asyncio.wait_for(self._bridge_ready.wait(), 10)
        return self

    async def stop(self) -> None:
        if self._bridge is not None:
            self._bridge.cancel()
            with contextlib.suppress(BaseException):
                await self._bridge
        await self.server.stop()
        await self.postgrest.close()

    def rest_requests(self, method: str | None = None) -> list[HttpRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith("/rest/v1/") and (method is None or r.method == method)
        ]

    async def _http(self, request: HttpRequest) -> HttpResponse:
        arrived = time.perf_counter()
        self.requests.append(request)
        index = len(self.timings)
        self.timings.append((arrived, arrived))
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        response = await self._route(request)
        self.timings[index] = (arrived, time.perf_counter())
        return response

    async def _route(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/auth/v1/"):
            return await self.gotrue.handle(request, request.path[len("/auth/v1/") :])
        if request.path.startswith("/rest/v1/"):
            return await self.postgrest.handle(request, request.path[len("/rest/v1/") :])
        return HttpResponse(404, {"message": "not found"})

    async def _insert_auth_user(self, user: User) -> None:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            await conn.execute(
                "insert into auth.users (id, aud, role, email, raw_user_meta_data, "
                "raw_app_meta_data, created_at, updated_at) values "
                "(%s, 'authenticated', 'authenticated', %s, %s, '{}'::jsonb, now(), now())",
                (user.id, user.email, json.dumps(user.user_metadata)),
            )

    # -- database changes → postgres_changes (what Realtime does from the WAL) ----------------
    async def _bridge_loop(self) -> None:
        async with (
            await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as listen,
            await psycopg.AsyncConnection.connect(self.database_url) as reader,
        ):
            await listen.execute("listen devsync_changes")
            await listen.execute("select private.register_change_listener()")
            await listen.execute("listen devsync_realtime")
            self._bridge_ready.set()
            async for note in listen.notifies():
                with contextlib.suppress(Exception):
                    if note.channel == "devsync_realtime":  # realtime.send
                        sent = json.loads(note.payload)
                        await self.realtime.deliver_broadcast(
                            sent["topic"], sent["event"], sent["payload"], bool(sent["private"])
                        )
                    else:
                        await self._relay(reader, json.loads(note.payload))

    async def _relay(self, conn: psycopg.AsyncConnection[Any], note: dict[str, Any]) -> None:
        table, op, key = note["table"], note["op"], note.get("id")
        if table in ("configuration_history", "audit_log", "presence"):
            return  # not in the supabase_realtime publication
        pk = self._pk(table, key)
        if op == "DELETE":  # not RLS-checked by Realtime: filtered on the old row only
            scope = {k: note.get(k) for k in ("team_id", "project_id", "environment_id")}
            await self.realtime.emit_change(
                table, "DELETE", None, pk or {}, full_old={**scope, **(pk or {})}
            )
            return
        # Statement-level health_checks events (no id) are shown to whoever may see the
        # environment: RLS on health_checks follows the environment's team.
        read_table = table if pk is not None else "environments"
        pk = pk if pk is not None else {"id": str(note.get("environment_id"))}
        where = sql.SQL(" and ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in pk)
        query = sql.SQL("select to_json(t) from public.{} t where {}").format(
            sql.Identifier(read_table), where
        )
        async with conn.transaction():
            cur = await conn.execute(query, list(pk.values()))
            found = await cur.fetchone()
        if found is None:
            return
        record = (
            found[0]
            if read_table == table
            else {"environment_id": found[0]["id"], "project_id": found[0]["project_id"]}
        )
        stamp = datetime.now(UTC).isoformat()  # one commit: the same on every channel
        for joined in list(self.realtime.joined):
            ids = [b.id for b in joined.bindings if b.wants(table, op, record)]
            if not ids:
                continue
            async with conn.transaction():
                await conn.execute(
                    "select set_config('role', %s, true), "
                    "set_config('request.jwt.claims', %s, true)",
                    (str(joined.claims.get("role") or "anon"), json.dumps(joined.claims)),
                )
                cur = await conn.execute(query, list(pk.values()))
                visible = await cur.fetchone()
            if visible is None:
                continue  # RLS hides the row from this subscriber
            await self.realtime._send(
                joined.ws,
                joined.topic,
                "postgres_changes",
                {
                    "data": {
                        "schema": "public",
                        "table": table,
                        "type": op,
                        "commit_timestamp": stamp,
                        "errors": None,
                        "columns": [{"name": k, "type": "text"} for k in record],
                        "record": visible[0] if read_table == table else record,
                        "old_record": {},
                    },
                    "ids": ids,
                },
            )

    @staticmethod
    def _pk(table: str, key: str | None) -> dict[str, str] | None:
        if key is None:
            return None
        if table == "team_members":
            team, _, user = key.partition(":")
            return {"team_id": team, "user_id": user}
        return {"id": key}
