"""A TCP proxy in front of the test PostgreSQL server, to cut the network on purpose.

``TcpProxy(target_url)`` listens on 127.0.0.1 and forwards to the server of ``target_url``
(a Unix socket directory or a TCP host). ``url`` is ``target_url`` rewritten to go through the
proxy. ``cut()`` drops every connection now (``hang_up()`` closes them in order);
``cut_on(marker, forward=...)`` drops a connection when the client sends bytes containing
``marker`` — after forwarding them to the server (the request happens, the reply is lost) or
before (the request never arrives). With ``commit=True`` it forwards through the Sync that ends
the request: a statement run in autocommit (DevSync's one-statement writes) commits at that
Sync, so this is "the write committed, its reply is lost", as cutting after a COMMIT is for a
transaction of several statements.
``refuse`` makes new connections fail, as while a network is down.

Forwarding stops at the end of the request holding the marker: a client that pipelines (sends
BEGIN, the statement and COMMIT without waiting for replies) may hand several requests to the
proxy in one read, and the server must not get the ones after the marker. A request ends with
its Execute message (extended protocol); a simple-protocol query is the message itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlencode

from psycopg.conninfo import conninfo_to_dict


@dataclass
class _Trap:
    marker: bytes
    forward: bool
    fired: asyncio.Event
    commit: bool = False


class TcpProxy:
    def __init__(self, target_url: str) -> None:
        params = conninfo_to_dict(target_url)
        self._host = str(params.get("host") or "localhost")
        self._port = int(params.get("port") or 5432)
        self._params = params
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        #: connections whose replies are swallowed (a trap fired on them)
        self._muted: set[int] = set()
        self._traps: list[_Trap] = []
        self.refuse = False
        self.port = 0

    @property
    def url(self) -> str:
        params = {k: str(v) for k, v in self._params.items() if k not in ("host", "port")}
        params.update(host="127.0.0.1", port=str(self.port), sslmode="disable")
        return "postgresql:///?" + urlencode(params)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Drop every open connection (both directions), like a network failure."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def hang_up(self) -> None:
        """Close every open connection in order (FIN, no RST), as a server ending its sessions
        does: the client learns it only when it next reads, and its next send still succeeds."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def cut_on(self, marker: bytes, *, forward: bool, commit: bool = False) -> asyncio.Event:
        """Drop the connection that sends ``marker``; the event is set when it fired.
        ``commit``: forward through the request's Sync first (see the module's doc)."""
        trap = _Trap(marker, forward, asyncio.Event(), commit)
        self._traps.append(trap)
        return trap.fired

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._host.startswith("/"):
            return await asyncio.open_unix_connection(f"{self._host}/.s.PGSQL.{self._port}")
        return await asyncio.open_connection(self._host, self._port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await self._open_upstream()
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        pair = (writer, up_writer)
        await asyncio.gather(
            self._pump(reader, up_writer, pair, inspect=True),
            self._pump(up_reader, writer, pair, inspect=False),
        )

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        *,
        inspect: bool,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if not inspect and id(pair[0]) in self._muted:
                    continue  # the reply is lost on the way back
                trap = self._match(data) if inspect else None
                if trap is not None and not trap.forward:
                    self._abort(pair, trap)
                    return
                if trap is not None:
                    self._muted.add(id(pair[0]))
                    end = SYNC if trap.commit else _EXECUTE
                    data = _through_request(data, trap.marker, end)
                writer.write(data)
                await writer.drain()
                # with ``commit``, a Sync still to come is forwarded before cutting
                while trap is not None and trap.commit and not data.endswith(SYNC):
                    if not (more := await reader.read(65536)):
                        break
                    data = _through_request(more, b"", SYNC)
                    writer.write(data)
                    await writer.drain()
                if trap is not None:
                    # give the server the request, then lose the reply
                    await asyncio.sleep(0.05)
                    self._abort(pair, trap)
                    return
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()
            self._writers.discard(writer)

    def _match(self, data: bytes) -> _Trap | None:
        for trap in self._traps:
            if trap.marker in data and not trap.fired.is_set():
                return trap
        return None

    def _abort(self, pair: tuple[asyncio.StreamWriter, ...], trap: _Trap) -> None:
        for w in pair:
            w.transport.abort()
            self._writers.discard(w)
        trap.fired.set()


#: An Execute message for the unnamed portal, all rows: what ends each statement psycopg sends.
_EXECUTE = b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00"
#: The Sync message that ends an extended-protocol request: at it, the server commits a
#: statement run in autocommit (its implicit transaction).
SYNC = b"S\x00\x00\x00\x04"


def _through_request(data: bytes, marker: bytes, end_message: bytes = _EXECUTE) -> bytes:
    """``data`` up to the end of the request holding ``marker``: through the first
    ``end_message`` after it, or all of ``data`` if none follows (a simple-protocol query, or
    the request's end is in a later read)."""
    end = data.find(end_message, max(data.find(marker), 0))
    return data if end < 0 else data[: end + len(end_message)]
