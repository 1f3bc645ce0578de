"""The machine RPCs over PostgREST: the anon key plus the ``x-devsync-token`` header, no
session, no service-role key (docs/DATABASE.md, "Machines").

A machine needs RPC calls only, so this talks to PostgREST with httpx directly: no supabase-py
client, no GoTrue session, no Realtime (``MachineBackend.changes`` polls). PostgREST hands the
header to SQL as ``request.headers``; the database checks the token on every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.machine import MachineCalls
from devsync_tui.backend.supabase.errors import map_exception, map_postgrest_error
from devsync_tui.backend.supabase.rest import PAGE, READ_RETRY_DELAY, jsonable
from devsync_tui.core.machine_token import HEADER, MachineToken

if TYPE_CHECKING:
    import httpx

#: Seconds a request may take (PostgREST answers or the statement timeout fires well before).
TIMEOUT = 30.0


class SupabaseMachineCalls(MachineCalls):
    """``POST /rest/v1/rpc/<fn>`` with the token header."""

    kind = "supabase"

    def __init__(self, url: str, anon_key: str, token: MachineToken) -> None:
        self.url = url.rstrip("/")
        self.label = urlsplit(self.url).hostname or self.url
        self._anon_key = anon_key
        self._token = token
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        from devsync_tui.core.net_errors import http_client

        if self._client is None:
            try:
                self._client = http_client(
                    base_url=f"{self.url}/rest/v1",
                    headers={
                        "apikey": self._anon_key,
                        "Authorization": f"Bearer {self._anon_key}",
                        HEADER: self._token.value,
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                    },
                    timeout=TIMEOUT,
                )
            except Exception as exc:  # SSL_CERT_FILE or a proxy it cannot use: one sentence
                raise map_exception(exc) from None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _post(
        self, fn: str, params: Mapping[str, Any] | None, *, write: bool, page: int | None = None
    ) -> Any:
        client = self._client
        if client is None:
            raise Unavailable("Not connected to Supabase; connect() first.")
        body = {k: jsonable(v) for k, v in (params or {}).items()}
        query = {} if page is None else {"limit": str(PAGE), "offset": str(page)}
        attempts = 1 if write else 2
        for attempt in range(attempts):
            try:
                response = await client.post(f"/rpc/{fn}", json=body, params=query)
                break
            except Exception as exc:
                error = map_exception(exc)
                if not isinstance(error, Unavailable) or attempt + 1 >= attempts:
                    raise error from None
                await asyncio.sleep(READ_RETRY_DELAY)
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Unavailable(f"Supabase answered {fn} with something that is not JSON.") from None

    async def rows(
        self, fn: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            data = await self._post(fn, params, write=write, page=len(found))
            page = [r for r in (data or []) if isinstance(r, dict)]
            found.extend(page)
            # A response holds at most max_rows (PAGE); the machine RPCs order their rows.
            if len(page) < PAGE or write:
                return found

    async def value(
        self, fn: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> Any:
        data = await self._post(fn, params, write=write)
        if isinstance(data, list):  # a composite may come as a one-element array
            return data[0] if data else None
        return data


def _error(response: httpx.Response) -> Exception:
    """A PostgREST error body (or a bare HTTP status) as a DevSync error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("code"):
        return map_postgrest_error(str(body["code"]), body.get("message"), body.get("details"))
    return map_postgrest_error(str(response.status_code), None, None)
