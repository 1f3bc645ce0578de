"""Realtime Authorization as Supabase's Realtime does it, on the database under test.

When a client joins a private channel, Realtime inserts one ``broadcast`` and one ``presence``
message of the channel's topic into ``realtime.messages`` (as itself), then — as the client:
``role`` and ``request.jwt.claims`` from its JWT, ``realtime.topic`` set to the topic — reads
them back (the select policies decide what it may receive) and tries to insert them (the insert
policies decide what it may send), and rolls everything back. The join is refused when it may
read neither. The permissions are kept for the connection's life, not re-checked per message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class Permissions:
    read_broadcast: bool = False
    read_presence: bool = False
    write_broadcast: bool = False
    write_presence: bool = False

    @property
    def may_join(self) -> bool:
        return self.read_broadcast or self.read_presence


class ChannelAuthorizer:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def __call__(self, claims: dict[str, Any], topic: str) -> Permissions:
        role = str(claims.get("role") or "anon")
        if role not in ("anon", "authenticated", "service_role"):
            role = "anon"
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            cur = conn.cursor()
            ids: dict[str, Any] = {}
            for extension in ("broadcast", "presence"):
                await cur.execute(
                    "insert into realtime.messages (topic, extension) values (%s, %s) returning id",
                    (topic, extension),
                )
                row = await cur.fetchone()
                assert row is not None
                ids[extension] = row[0]
            await cur.execute(
                "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
                " set_config('realtime.topic', %s, true)",
                (role, json.dumps(claims), topic),
            )
            read: dict[str, bool] = {}
            for extension, message in ids.items():
                await cur.execute("select 1 from realtime.messages where id = %s", (message,))
                read[extension] = await cur.fetchone() is not None
            write: dict[str, bool] = {}
            for extension in ids:
                try:
                    async with conn.transaction():
                        await cur.execute(
                            "insert into realtime.messages (topic, extension) values (%s, %s)",
                            (topic, extension),
                        )
                    write[extension] = True
                except psycopg.errors.InsufficientPrivilege:
                    write[extension] = False
            await conn.rollback()
        return Permissions(
            read_broadcast=read["broadcast"],
            read_presence=read["presence"],
            write_broadcast=write["broadcast"],
            write_presence=write["presence"],
        )
