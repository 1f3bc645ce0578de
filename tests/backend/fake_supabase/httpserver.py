"""A small HTTP/1.1 server on loopback that also upgrades ``/realtime/v1/websocket`` to a
websocket (the ``websockets`` package's sans-I/O ``ServerProtocol``), so one base URL serves
GoTrue, PostgREST and Realtime exactly as a Supabase project does."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol


@dataclass
class HttpRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


@dataclass
class HttpResponse:
    status: int
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            payload = b""
        elif isinstance(self.body, bytes):
            payload = self.body
        else:
            payload = json.dumps(self.body).encode()
            self.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        head = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Status')}"]
        head += [f"{k}: {v}" for k, v in self.headers.items()]
        head.append(f"Content-Length: {len(payload)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class WebSocket:
    """One accepted websocket: ``recv()`` text messages, ``send()`` text, ``close()``."""

    def __init__(
        self,
        protocol: ServerProtocol,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: HttpRequest,
    ) -> None:
        self.protocol = protocol
        self.reader = reader
        self.writer = writer
        self.request = request
        self.closed = False
        #: When True the peer stops reading and writing (a silent, stalled connection).
        self.stalled = False
        self._pending: deque[Any] = deque()

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.writer.write(data)
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    async def recv(self) -> str | None:
        """The next text message; None when the connection closed."""
        while True:
            self._pending.extend(self.protocol.events_received())
            while self._pending:
                event = self._pending.popleft()
                if isinstance(event, Frame):
                    if event.opcode == Opcode.TEXT:
                        await self._flush()
                        return event.data.decode()
                    if event.opcode == Opcode.CLOSE:
                        await self._flush()
                        self.closed = True
                        return None
            await self._flush()  # pongs for pings go out here
            try:
                data = await self.reader.read(65536)
            except ConnectionError:
                data = b""
            if self.stalled and data:
                continue  # a stalled peer swallows everything, answering nothing
            if not data:
                self.protocol.receive_eof()
                self.closed = True
                return None
            self.protocol.receive_data(data)

    async def send(self, text: str) -> None:
        if self.closed or self.stalled:
            return
        try:
            self.protocol.send_text(text.encode())
        except InvalidState:  # the client is closing: nothing more to say
            return
        await self._flush()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.protocol.send_close(code, reason)
            await self._flush()
        self.writer.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a network failure)."""
        self.closed = True
        self.writer.transport.abort()


HttpHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]
WsHandler = Callable[[WebSocket], Awaitable[None]]


class LoopbackServer:
    """Routes HTTP requests to ``http_handler`` and websocket upgrades to ``ws_handler``."""

    def __init__(self, http_handler: HttpHandler, ws_handler: WsHandler) -> None:
        self.http_handler = http_handler
        self.ws_handler = ws_handler
        self.server: asyncio.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request = _parse_head(head)
                if request.headers.get("upgrade", "").lower() == "websocket":
                    await self._upgrade(head, request, reader, writer)
                    return
                length = int(request.headers.get("content-length", "0") or 0)
                request.body = await reader.readexactly(length) if length else b""
                try:
                    response = await self.http_handler(request)
                except Exception as exc:  # a bug in the fake: answer 500, keep serving
                    response = HttpResponse(500, {"message": f"fake server error: {exc!r}"})
                writer.write(response.encode())
                await writer.drain()
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _upgrade(
        self,
        head: bytes,
        request: HttpRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        protocol = ServerProtocol()
        protocol.receive_data(head)
        [handshake] = protocol.events_received()
        response = protocol.accept(handshake)  # type: ignore[arg-type]
        protocol.send_response(response)
        for data in protocol.data_to_send():
            writer.write(data)
        await writer.drain()
        ws = WebSocket(protocol, reader, writer, request)
        try:
            await self.ws_handler(ws)
        finally:
            if not ws.closed:
                await ws.close()


def _parse_head(head: bytes) -> HttpRequest:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    parts = urlsplit(target)
    return HttpRequest(
        method=method,
        path=parts.path,
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=headers,
        body=b"",
    )
