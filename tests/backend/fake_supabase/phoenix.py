"""A scripted Supabase Realtime peer speaking the Phoenix channel protocol (vsn 1.0.0):
``phx_join``/``phx_reply`` with postgres_changes binding ids, ``heartbeat``, ``access_token``,
presence (``presence_state``/``presence_diff``), ``phx_leave``, server close; private channels
authorized by the database's policies on ``realtime.messages`` (Realtime Authorization, see
realtime_auth.py: a join that may read nothing is refused, a track or a broadcast it may not
write is refused); broadcasts from the database (``realtime.send``) to the private channels of
their topic only; and ``postgres_changes`` pushes that honour each binding's table, event and
``col=eq.value`` filter (a DELETE is filtered on the whole old row, as with REPLICA IDENTITY
FULL, and carries only the primary key, as Realtime does for tables with RLS).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt

from tests.backend.fake_supabase.gotrue import ANON_KEY, decode_token
from tests.backend.fake_supabase.httpserver import WebSocket
from tests.backend.fake_supabase.realtime_auth import Permissions

_ids = itertools.count(1000)


@dataclass
class Binding:
    id: int
    event: str
    schema: str
    table: str | None
    filter: str | None

    def wants(self, table: str, event: str, record: dict[str, Any]) -> bool:
        if self.table not in (None, "*", table) or self.event not in ("*", event):
            return False
        if not self.filter:
            return True
        column, _, expr = self.filter.partition("=")
        op, _, value = expr.partition(".")
        if op == "eq":
            return str(record.get(column)) == value
        if op == "in":
            return str(record.get(column)) in value.strip("()").split(",")
        return False


@dataclass
class Joined:
    ws: WebSocket
    topic: str
    join_ref: str | None
    access_token: str | None
    bindings: list[Binding]
    presence_key: str
    claims: dict[str, Any] = field(default_factory=dict)
    private: bool = False
    permissions: Permissions = field(default_factory=Permissions)

    @property
    def sub_topic(self) -> str:
        return self.topic.removeprefix("realtime:")


class FakeRealtime:
    """Holds every websocket and joined channel; tests drive it and read ``received``."""

    def __init__(
        self, authorize: Callable[[dict[str, Any], str], Awaitable[Permissions]] | None = None
    ) -> None:
        #: Evaluates the database's policies for (claims, topic); None refuses private joins.
        self.authorize = authorize
        self.sockets: list[WebSocket] = []
        self.joined: list[Joined] = []
        self.received: list[dict[str, Any]] = []  # every client message, in order
        self.presence: dict[str, dict[str, dict[str, Any]]] = {}  # topic -> key -> meta
        self.refuse_joins = False
        self.answer_joins = True
        self.connected = asyncio.Event()
        self._joined_event = asyncio.Event()

    # -- test controls -------------------------------------------------------------------
    def joins(self) -> list[dict[str, Any]]:
        return [m for m in self.received if m["event"] == "phx_join"]

    async def wait_joined(self, topic: str, count: int = 1, wait: float = 5.0) -> Joined:
        async def until() -> Joined:
            while True:
                found = [j for j in self.joined if j.topic == topic]
                if len(self._join_history(topic)) >= count and found:
                    return found[-1]
                self._joined_event.clear()
                await self._joined_event.wait()

        return await asyncio.wait_for(until(), wait)

    def _join_history(self, topic: str) -> list[dict[str, Any]]:
        return [m for m in self.joins() if m["topic"] == topic]

    async def emit_change(
        self,
        table: str,
        event: str,
        record: dict[str, Any] | None = None,
        old_record: dict[str, Any] | None = None,
        full_old: dict[str, Any] | None = None,
    ) -> int:
        """Push a postgres_changes message to every matching binding; returns how many
        channels got it. A DELETE is filtered on ``full_old`` (the whole old row, as with
        REPLICA IDENTITY FULL) but carries only ``old_record`` (the primary key)."""
        sent = 0
        source = (full_old or old_record) if event == "DELETE" else record
        stamp = datetime.now(UTC).isoformat()
        for joined in list(self.joined):
            ids = [b.id for b in joined.bindings if b.wants(table, event, source or {})]
            if not ids or joined.ws.closed:
                continue
            data = {
                "schema": "public",
                "table": table,
                "commit_timestamp": stamp,
                "type": event,
                "errors": None,
                "columns": [{"name": k, "type": "text"} for k in (source or {})],
                "record": record or {},
                "old_record": old_record or {},
            }
            await self._send(
                joined.ws, joined.topic, "postgres_changes", {"data": data, "ids": ids}
            )
            sent += 1
        return sent

    async def deliver_broadcast(
        self, topic: str, event: str, payload: Any, private: bool = True
    ) -> int:
        """A broadcast from the database (``realtime.send``): to every channel of the topic
        joined with the same privacy (and, private, allowed to read broadcasts)."""
        sent = 0
        for joined in list(self.joined):
            if joined.sub_topic != topic or joined.private != private or joined.ws.closed:
                continue
            if private and not joined.permissions.read_broadcast:
                continue
            message = {"type": "broadcast", "event": event, "payload": payload}
            await self._send(joined.ws, joined.topic, "broadcast", message)
            sent += 1
        return sent

    async def close_all(self, code: int = 1011) -> None:
        """The server closes every socket (Realtime restarting, a deploy)."""
        for ws in list(self.sockets):
            await ws.close(code, "server restart")
        self.joined.clear()
        self.connected.clear()

    async def close_channel(self, topic: str) -> None:
        """The server closes one channel (phx_close): the client's channel goes CLOSED."""
        for joined in [j for j in self.joined if j.topic == topic]:
            await self._send(joined.ws, topic, "phx_close", {}, ref=joined.join_ref)
            self.joined.remove(joined)

    def stall_all(self) -> None:
        """Sockets stay open but nothing moves any more (a silent, half-dead connection)."""
        for ws in self.sockets:
            ws.stalled = True

    # -- protocol ------------------------------------------------------------------------------
    async def _send(
        self, ws: WebSocket, topic: str, event: str, payload: Any, ref: str | None = None
    ) -> None:
        await ws.send(json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref}))

    async def serve(self, ws: WebSocket) -> None:
        if ws.request.param("apikey") != ANON_KEY or ws.request.param("vsn") != "1.0.0":
            await ws.close(4001, "bad apikey")
            return
        self.sockets.append(ws)
        self.connected.set()
        try:
            while True:
                text = await ws.recv()
                if text is None:
                    break
                message = json.loads(text)
                self.received.append(message)
                await self._dispatch(ws, message)
        finally:
            with contextlib.suppress(ValueError):
                self.sockets.remove(ws)
            for joined in [j for j in self.joined if j.ws is ws]:
                self.joined.remove(joined)
                await self._presence_leave(joined)

    async def _dispatch(self, ws: WebSocket, msg: dict[str, Any]) -> None:
        topic, event, ref, payload = msg["topic"], msg["event"], msg.get("ref"), msg["payload"]
        if topic == "phoenix" and event == "heartbeat":
            await self._send(ws, "phoenix", "phx_reply", {"status": "ok", "response": {}}, ref)
        elif event == "phx_join":
            await self._join(ws, topic, ref, payload)
        elif event == "access_token":
            for joined in self.joined:
                if joined.ws is ws and joined.topic == topic:
                    joined.access_token = payload.get("access_token")
        elif event == "presence":
            await self._presence(ws, topic, ref, payload)
        elif event == "broadcast":
            await self._client_broadcast(ws, topic, ref, payload)
        elif event == "phx_leave":
            for joined in [j for j in self.joined if j.ws is ws and j.topic == topic]:
                self.joined.remove(joined)
                await self._presence_leave(joined)
            await self._send(ws, topic, "phx_reply", {"status": "ok", "response": {}}, ref)

    async def _join(
        self, ws: WebSocket, topic: str, ref: str | None, payload: dict[str, Any]
    ) -> None:
        if not self.answer_joins:
            return
        if self.refuse_joins:
            await self._send(
                ws,
                topic,
                "phx_reply",
                {"status": "error", "response": {"reason": "join refused"}},
                ref,
            )
            return
        token = payload.get("access_token")
        claims: dict[str, Any] = {"role": "anon"}
        if token and token != ANON_KEY:
            try:
                claims = decode_token(token)
            except jwt.InvalidTokenError:
                await self._send(
                    ws,
                    topic,
                    "phx_reply",
                    {
                        "status": "error",
                        "response": {"reason": "InvalidJWTToken: Token has expired"},
                    },
                    ref,
                )
                return
        config = payload.get("config") or {}
        private = bool(config.get("private"))
        permissions = Permissions()
        if private:
            sub_topic = topic.removeprefix("realtime:")
            if self.authorize is not None:
                permissions = await self.authorize(claims, sub_topic)
            if not permissions.may_join:
                reason = (
                    "Unauthorized: You do not have permissions to read from this Channel topic: "
                    + sub_topic
                )
                await self._send(
                    ws, topic, "phx_reply", {"status": "error", "response": {"reason": reason}}, ref
                )
                return
        bindings = [
            Binding(
                next(_ids), b["event"], b.get("schema", "public"), b.get("table"), b.get("filter")
            )
            for b in config.get("postgres_changes") or []
        ]
        presence_key = ((config.get("presence") or {}).get("key")) or ""
        for old in [j for j in self.joined if j.ws is ws and j.topic == topic]:
            self.joined.remove(old)
        self.joined.append(
            Joined(ws, topic, ref, token, bindings, presence_key, claims, private, permissions)
        )
        response = {
            "postgres_changes": [
                {
                    "id": b.id,
                    "event": b.event,
                    "schema": b.schema,
                    "table": b.table,
                    "filter": b.filter,
                }
                for b in bindings
            ]
        }
        await self._send(ws, topic, "phx_reply", {"status": "ok", "response": response}, ref)
        presence_readable = not private or permissions.read_presence
        if (config.get("presence") or {}).get("enabled") and presence_readable:
            state = {k: {"metas": [m]} for k, m in self.presence.get(topic, {}).items()}
            await self._send(ws, topic, "presence_state", state)
        self._joined_event.set()

    async def _presence(self, ws: WebSocket, topic: str, ref: str | None, payload: Any) -> None:
        joined = next((j for j in self.joined if j.ws is ws and j.topic == topic), None)
        if joined is not None and joined.private and not joined.permissions.write_presence:
            reason = "Unauthorized: You do not have permissions to track presence on this topic"
            await self._send(
                ws, topic, "phx_reply", {"status": "error", "response": {"reason": reason}}, ref
            )
            return
        await self._send(ws, topic, "phx_reply", {"status": "ok", "response": {}}, ref)
        if joined is None:
            return
        members = self.presence.setdefault(topic, {})
        if payload.get("event") == "track":
            meta = {**payload.get("payload", {}), "phx_ref": f"ref{next(_ids)}"}
            members[joined.presence_key] = meta
            await self._broadcast_diff(topic, {joined.presence_key: {"metas": [meta]}}, {})
        elif payload.get("event") == "untrack":
            await self._presence_leave(joined)

    async def _client_broadcast(
        self, ws: WebSocket, topic: str, ref: str | None, payload: Any
    ) -> None:
        """A client's broadcast: to the topic's other channels of the same privacy, when it may
        write (private channels); otherwise dropped, as Realtime drops it."""
        joined = next((j for j in self.joined if j.ws is ws and j.topic == topic), None)
        if joined is None or (joined.private and not joined.permissions.write_broadcast):
            return
        for other in list(self.joined):
            if other is joined or other.topic != topic or other.private != joined.private:
                continue
            if other.private and not other.permissions.read_broadcast:
                continue
            await self._send(other.ws, topic, "broadcast", payload)

    async def _presence_leave(self, joined: Joined) -> None:
        members = self.presence.get(joined.topic, {})
        meta = members.pop(joined.presence_key, None)
        if meta is not None:
            await self._broadcast_diff(joined.topic, {}, {joined.presence_key: {"metas": [meta]}})

    async def _broadcast_diff(
        self, topic: str, joins: dict[str, Any], leaves: dict[str, Any]
    ) -> None:
        for joined in [j for j in self.joined if j.topic == topic]:
            if joined.private and not joined.permissions.read_presence:
                continue
            await self._send(joined.ws, topic, "presence_diff", {"joins": joins, "leaves": leaves})
