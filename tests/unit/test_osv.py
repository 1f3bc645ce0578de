"""core.osv against a real HTTP server speaking OSV's querybatch (a small stand-in: the
machines that run the tests cannot reach osv.dev), then with that server gone."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.core.models import PackageManager
from devsync_tui.core.osv import OsvClient

NPM, PIP = PackageManager.NPM, PackageManager.PIP
#: (ecosystem, name, version) → advisory ids, as OSV would answer.
ADVISORIES = {
    ("npm", "lodash", "4.17.15"): ["GHSA-p6mc-m468-83gw", "GHSA-29mw-wpgm-hmr9"],
    ("PyPI", "jinja2", "2.10"): ["PYSEC-2019-217"],
}


class OsvStandIn(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        OsvStandIn.requests.append(body)
        results = []
        for query in body["queries"]:
            key = (query["package"]["ecosystem"], query["package"]["name"], query["version"])
            ids = ADVISORIES.get(key, [])
            vulns = [{"id": i, "modified": "2024-01-01T00:00:00Z"} for i in ids]
            results.append({"vulns": vulns} if vulns else {})
        payload = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    OsvStandIn.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), OsvStandIn)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url_of(httpd: ThreadingHTTPServer) -> str:
    host, port = httpd.server_address[:2]
    return f"http://{host!s}:{port}/v1/querybatch"


PACKAGES = [(NPM, "lodash", "4.17.15"), (NPM, "lodash", "4.17.21"), (PIP, "jinja2", "2.10")]


async def test_online_lookup_and_cache(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    cache = tmp_path / "osv.json"
    client = OsvClient(cache, url=url_of(server))
    result = await client.lookup(PACKAGES)
    assert result.online
    assert result.note is None
    assert result.advisories[(NPM, "lodash", "4.17.15")] == (
        "GHSA-29mw-wpgm-hmr9",
        "GHSA-p6mc-m468-83gw",
    )
    assert result.is_vulnerable((NPM, "lodash", "4.17.21")) is False
    assert result.is_vulnerable((PIP, "jinja2", "2.10")) is True
    assert result.is_vulnerable((NPM, "react", "18.2.0")) is None
    queried = OsvStandIn.requests[0]["queries"]
    assert {q["package"]["ecosystem"] for q in queried} == {"npm", "PyPI"}

    # A second client reads fresh answers from the cache and asks nothing.
    again = await OsvClient(cache, url=url_of(server)).lookup(PACKAGES)
    assert again.advisories == result.advisories
    assert len(OsvStandIn.requests) == 1


async def test_offline_keeps_last_known_state(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    cache = tmp_path / "osv.json"
    url = url_of(server)
    await OsvClient(cache, url=url).lookup(PACKAGES[:1])
    server.shutdown()
    server.server_close()
    # Stale entries (fresh_for=0) must be asked again; OSV is gone: the cache answers.
    offline = OsvClient(cache, url=url, timeout=2, fresh_for=timedelta(0))
    result = await offline.lookup(PACKAGES)
    assert not result.online
    assert result.note is not None
    assert "unreachable" in result.note
    assert "1 of 3" in result.note
    assert result.is_vulnerable((NPM, "lodash", "4.17.15")) is True
    assert result.is_vulnerable((PIP, "jinja2", "2.10")) is None  # never learned: unknown


async def test_malformed_answer_counts_as_offline(tmp_path: Path) -> None:
    class Broken(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"results": "nope"}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = await OsvClient(tmp_path / "c.json", url=url_of(httpd)).lookup(PACKAGES)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert not result.online
    assert result.advisories == {}


async def test_corrupt_cache_file_is_ignored(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    cache = tmp_path / "osv.json"
    cache.write_text("{not json")
    result = await OsvClient(cache, url=url_of(server)).lookup(PACKAGES)
    assert result.online
    assert json.loads(cache.read_text())  # rewritten whole


async def test_offline_counts_every_answer_from_the_cache(
    server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    """--offline: fresh answers come from the cache too, and are counted; old ones are said."""
    cache = tmp_path / "osv.json"
    await OsvClient(cache, url=url_of(server)).lookup(PACKAGES[:2])
    fresh = await OsvClient(cache, url=url_of(server)).lookup(PACKAGES, offline=True)
    assert fresh.note == (
        "Offline: 1 of 3 package versions could not be checked against OSV; kept the last "
        "known state (2 from the local cache)."
    )
    old = await OsvClient(cache, url=url_of(server), fresh_for=timedelta(0)).lookup(
        PACKAGES, offline=True
    )
    assert old.note == (
        "Offline: 1 of 3 package versions could not be checked against OSV; kept the last "
        "known state (2 from the local cache, 2 of them last checked over 0 s ago)."
    )
    assert len(OsvStandIn.requests) == 1  # offline asks nothing
