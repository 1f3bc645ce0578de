"""A local stand-in for the four package registries ``core.registry`` asks, on 127.0.0.1 in a
thread, answering with the real APIs' response shapes (trimmed to a few fields each):

- npm: ``GET /npm/-/package/{name}/dist-tags`` → ``{"latest": ..., "next": ...}`` and the
  abbreviated packument ``GET /npm/{name}`` (``Accept: application/vnd.npm.install-v1+json``)
  with ``dist-tags`` and ``versions``; scoped names arrive as ``@scope%2fname``.
- PyPI: ``GET /pypi/pypi/{name}/json`` → ``info`` (``version``, ``yanked``), ``releases``
  (files with ``yanked``), ``urls``; a non-normalized name is redirected (301) as on pypi.org.
- RubyGems: ``GET /rubygems/api/v1/versions/{name}/latest.json`` → ``{"version": ...}``,
  ``{"version": "unknown"}`` (200) for a gem it does not have; ``…/versions/{name}.json`` →
  ``[{"number", "prerelease", "platform"}]``.
- crates.io: ``GET /crates/api/v1/crates/{name}`` → ``{"crate": {..., "max_stable_version"}}``,
  403 without a User-Agent, 404 with ``{"errors": [...]}`` for an unknown crate.

Used by tests/unit/test_registry.py, tests/cli/test_scan_freshness.py and the bench.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from devsync_tui.core.models import PackageManager

ENV_VARS = {
    PackageManager.NPM: "DEVSYNC_NPM_REGISTRY",
    PackageManager.PIP: "DEVSYNC_PYPI_URL",
    PackageManager.GEM: "DEVSYNC_RUBYGEMS_URL",
    PackageManager.CARGO: "DEVSYNC_CRATES_URL",
}
PREFIXES = {
    PackageManager.NPM: "/npm",
    PackageManager.PIP: "/pypi",
    PackageManager.GEM: "/rubygems",
    PackageManager.CARGO: "/crates",
}
_INTEGRITY = "sha512-" + "A" * 86 + "=="


@dataclass
class PypiProject:
    """A PyPI project: its releases (in upload order), the yanked ones, and ``info.version``
    (what Warehouse shows as latest: the newest non-yanked, non-pre-release one)."""

    releases: list[str]
    info_version: str
    yanked: set[str] = field(default_factory=set)


@dataclass
class FakeRegistry:
    """What each registry publishes, and the requests it was sent."""

    #: npm name → (dist-tags, versions)
    npm: dict[str, tuple[dict[str, str], list[str]]] = field(default_factory=dict)
    pypi: dict[str, PypiProject] = field(default_factory=dict)
    #: gem name → what latest.json says
    gems: dict[str, str] = field(default_factory=dict)
    #: crate name → (max_stable_version or None, versions)
    crates: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)
    #: npm names not in ``npm``: a function name → latest (None = 404), for big lockfiles
    npm_generated: Callable[[str], str | None] | None = None
    #: False: a mirror without the dist-tags endpoint (only packuments)
    npm_dist_tags_endpoint: bool = True
    #: an HTTP status every request gets instead of its answer (503 = a registry in trouble)
    fail_with: int | None = None
    #: seconds each answer takes (to see how many requests a client keeps in flight)
    delay: float = 0.0
    #: the most requests in flight at once, per registry prefix
    max_in_flight: dict[str, int] = field(default_factory=dict)
    _in_flight: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeRegistry:
        registry = self

        class Handler(_Handler):
            fake = registry

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def root(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, manager: PackageManager) -> str:
        """The base URL ``core.registry`` takes for ``manager``."""
        return self.root + PREFIXES[manager]

    def urls(self) -> dict[PackageManager, str]:
        return {manager: self.url(manager) for manager in PackageManager}

    def env(self) -> dict[str, str]:
        """The environment variables that point ``core.registry`` here."""
        return {ENV_VARS[manager]: self.url(manager) for manager in PackageManager}

    def paths(self) -> list[str]:
        with self._lock:
            return [path for path, _ in self.requests]

    # -- answers ---------------------------------------------------------------------------
    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body or None, extra headers) for one GET."""
        prefix = "/" + path.split("/")[1]
        with self._lock:
            self.requests.append((path, headers))
            self._in_flight[prefix] = self._in_flight.get(prefix, 0) + 1
            most = max(self.max_in_flight.get(prefix, 0), self._in_flight[prefix])
            self.max_in_flight[prefix] = most
        try:
            if self.delay:
                time.sleep(self.delay)
            return self._answer(path, headers)
        finally:
            with self._lock:
                self._in_flight[prefix] -= 1

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if self.fail_with is not None:
            return self.fail_with, {"error": "service unavailable"}, {}
        for manager, prefix in PREFIXES.items():
            if path.startswith(prefix + "/"):
                rest = path[len(prefix) :]
                if manager is PackageManager.NPM:
                    return self._npm(rest, headers)
                if manager is PackageManager.PIP:
                    return self._pypi(rest)
                if manager is PackageManager.GEM:
                    return self._gem(rest)
                return self._crate(rest, headers)
        return 404, {"error": "not found"}, {}

    def _npm_package(self, name: str) -> tuple[dict[str, str], list[str]] | None:
        if name in self.npm:
            return self.npm[name]
        latest = self.npm_generated(name) if self.npm_generated else None
        return None if latest is None else ({"latest": latest}, [latest])

    def _npm(self, rest: str, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        tags_match = re.fullmatch(r"/-/package/([^/]+)/dist-tags", rest)
        if tags_match:
            found = self._npm_package(unquote(tags_match.group(1)))
            if found is None or not self.npm_dist_tags_endpoint:
                return 404, {"error": "Not found"}, {}
            return 200, found[0], {}
        if not re.fullmatch(r"/(@[^/]+%2[fF])?[^/@%][^/]*", rest):
            return 404, {"error": "Not found"}, {}
        name = unquote(rest[1:])
        found = self._npm_package(name)
        if found is None:
            return 404, {"error": "Not found"}, {}
        tags, versions = found
        abbreviated = "application/vnd.npm.install-v1+json" in headers.get("accept", "")
        doc: dict[str, Any] = {
            "name": name,
            "dist-tags": tags,
            "versions": {
                v: {
                    "name": name,
                    "version": v,
                    "dependencies": {},
                    "dist": {
                        "integrity": _INTEGRITY,
                        "shasum": "0" * 40,
                        "tarball": f"{self.url(PackageManager.NPM)}/{name}/-/{name}-{v}.tgz",
                    },
                }
                for v in versions
            },
        }
        if abbreviated:
            doc["modified"] = "2025-03-31T12:00:00.000Z"
            return 200, doc, {"Content-Type": "application/vnd.npm.install-v1+json"}
        doc.update({"_id": name, "description": f"{name} package", "time": {}})
        return 200, doc, {}

    def _pypi(self, rest: str) -> tuple[int, Any, dict[str, str]]:
        match = re.fullmatch(r"/pypi/([^/]+)/json", rest)
        if not match:
            return 404, {"message": "Not Found"}, {}
        name = unquote(match.group(1))
        canonical = re.sub(r"[-_.]+", "-", name).lower()
        if canonical != name and canonical in self.pypi:
            location = f"{self.url(PackageManager.PIP)}/pypi/{canonical}/json"
            return 301, None, {"Location": location}
        project = self.pypi.get(name)
        if project is None:
            return 404, {"message": "Not Found"}, {}

        def files(version: str) -> list[dict[str, Any]]:
            yanked = version in project.yanked
            return [
                {
                    "filename": f"{name}-{version}.tar.gz",
                    "packagetype": "sdist",
                    "python_version": "source",
                    "requires_python": ">=3.8",
                    "upload_time_iso_8601": "2024-05-20T12:00:00.000000Z",
                    "url": f"https://files.example/{name}-{version}.tar.gz",
                    "digests": {"sha256": "0" * 64},
                    "yanked": yanked,
                    "yanked_reason": "broken" if yanked else None,
                }
            ]

        return (
            200,
            {
                "info": {
                    "name": name,
                    "version": project.info_version,
                    "summary": f"{name} project",
                    "requires_python": ">=3.8",
                    "yanked": project.info_version in project.yanked,
                    "yanked_reason": None,
                },
                "last_serial": 24_000_000,
                "releases": {v: files(v) for v in project.releases},
                "urls": files(project.info_version),
                "vulnerabilities": [],
            },
            {},
        )

    def _gem(self, rest: str) -> tuple[int, Any, dict[str, str]]:
        listed = re.fullmatch(r"/api/v1/versions/([^/]+)\.json", rest)
        if listed:  # every version, newest first (here: the one latest.json names)
            gem = self.gems.get(unquote(listed.group(1)))
            if gem is None:
                return 404, "This rubygem could not be found.", {}
            return 200, [{"number": gem, "prerelease": False, "platform": "ruby"}], {}
        match = re.fullmatch(r"/api/v1/versions/([^/]+)/latest\.json", rest)
        if not match:
            return 404, None, {}
        return 200, {"version": self.gems.get(unquote(match.group(1)), "unknown")}, {}

    def _crate(self, rest: str, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if not headers.get("user-agent"):
            return 403, {"errors": [{"detail": "We require a User-Agent header"}]}, {}
        match = re.fullmatch(r"/api/v1/crates/([^/]+)", rest)
        name = unquote(match.group(1)) if match else ""
        if name not in self.crates:
            return 404, {"errors": [{"detail": f"crate `{name}` does not exist"}]}, {}
        max_stable, versions = self.crates[name]
        return (
            200,
            {
                "crate": {
                    "id": name,
                    "name": name,
                    "max_version": versions[-1],
                    "max_stable_version": max_stable,
                    "newest_version": versions[-1],
                    "updated_at": "2025-01-01T00:00:00.000000+00:00",
                },
                "versions": [
                    {"crate": name, "num": v, "yanked": False, "id": i}
                    for i, v in enumerate(versions)
                ],
                "keywords": [],
                "categories": [],
            },
            {},
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a client opens 16 connections at once


class _Handler(BaseHTTPRequestHandler):
    fake: FakeRegistry
    protocol_version = "HTTP/1.1"  # keep-alive, as the real registries
    # Headers and body go out in two writes: without this, Nagle's algorithm and delayed
    # ACKs hold each answer back ~40 ms on a kept-alive connection.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.fake.answer(self.path, headers)
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None and "Content-Type" not in extra:
            self.send_header("Content-Type", "application/json")
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass
