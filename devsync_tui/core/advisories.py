"""The details of OSV advisories (``GET /v1/vulns/{id}``): aliases (CVE, GHSA), severity,
summary, and the first version that fixes the advisory for a given package version.

``querybatch`` (core/osv.py) only names the advisories that affect a version; this reads each
one once, with a local cache (``osv-vulns.json``) so that a machine offline still shows what it
last learned. Everything taken from an advisory is checked before it is kept: ids and aliases
are plain identifiers, the summary and severity lose control characters and are bounded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from devsync_tui import locations
from devsync_tui.core.models import Advisory, PackageManager
from devsync_tui.core.names import package_key
from devsync_tui.core.net_errors import http_client, network_cause
from devsync_tui.core.osv import ECOSYSTEMS, OSV_URL, OSV_URL_ENV
from devsync_tui.core.printable import visible
from devsync_tui.core.versions import compare

_log = logging.getLogger("devsync.osv")

#: What the database accepts as an advisory id or alias (docs/DATABASE.md package_advisories).
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
FRESH_FOR = timedelta(hours=24)
KEEP_FOR = timedelta(days=30)
CONCURRENCY = 8
MAX_SUMMARY = 1000
MAX_SEVERITY = 200


def cache_path() -> Path:
    return locations.cache_dir() / "osv-vulns.json"


def vulns_url(querybatch_url: str | None = None) -> str:
    """The ``/v1/vulns/`` base next to the querybatch endpoint (``DEVSYNC_OSV_URL``)."""
    url = querybatch_url or os.environ.get(OSV_URL_ENV) or OSV_URL
    base = url.rsplit("/querybatch", 1)[0] if url.endswith("/querybatch") else url.rstrip("/")
    return f"{base}/vulns/"


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    shown = visible(" ".join(value.split()))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _severity(vuln: dict[str, Any]) -> str | None:
    specific = vuln.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        return _text(specific["severity"], MAX_SEVERITY)
    for entry in vuln.get("severity") or ():
        if isinstance(entry, dict) and isinstance(entry.get("score"), str):
            return _text(entry["score"], MAX_SEVERITY)
    return None


def _fixed(vuln: dict[str, Any], manager: PackageManager, name: str, version: str) -> str | None:
    """The lowest ``fixed`` event above ``version`` in the ranges of this package."""
    wanted = package_key(manager, name)
    fixes: list[str] = []
    for affected in vuln.get("affected") or ():
        package = affected.get("package") if isinstance(affected, dict) else None
        if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEMS[manager]:
            continue
        if package_key(manager, str(package.get("name") or "")) != wanted:
            continue
        for span in affected.get("ranges") or ():
            for event in (span.get("events") or ()) if isinstance(span, dict) else ():
                fixed = event.get("fixed") if isinstance(event, dict) else None
                if isinstance(fixed, str) and len(fixed) <= 512 and "\n" not in fixed:
                    fixes.append(fixed)
    above = [f for f in fixes if compare(manager, f, version) > 0]
    if not above:
        return None
    best = above[0]
    for fix in above[1:]:
        if compare(manager, fix, best) < 0:
            best = fix
    return visible(best)


def advisory_for(
    vuln: dict[str, Any] | None, advisory_id: str, manager: PackageManager, name: str, version: str
) -> Advisory:
    """The advisory as DevSync stores it for one package version (only its id when the
    details are unknown)."""
    if not vuln:
        return Advisory(advisory_id)
    aliases = tuple(
        sorted({a for a in vuln.get("aliases") or () if isinstance(a, str) and ID_RE.match(a)})
    )[:50]
    summary = _text(vuln.get("summary"), MAX_SUMMARY) or _text(
        str(vuln.get("details") or "").split("\n\n", 1)[0], MAX_SUMMARY
    )
    return Advisory(
        advisory_id, aliases, _severity(vuln), summary, _fixed(vuln, manager, name, version)
    )


@dataclass
class DetailsResult:
    """The advisories' details by id (what the cache and OSV know), and a note when OSV could
    not be asked."""

    vulns: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str | None = None


class AdvisoryDetails:
    """Reads advisories by id, fresh cache entries first."""

    def __init__(self, cache_file: Path | None = None, *, url: str | None = None) -> None:
        self.path = cache_file or cache_path()
        self.url = url or vulns_url()
        self.entries: dict[str, tuple[dict[str, Any], datetime]] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            _log.warning("ignoring unreadable advisory cache %s: %s", self.path, exc)
            return
        for key, entry in raw.items() if isinstance(raw, dict) else ():
            try:
                checked = datetime.fromisoformat(str(entry["checked_at"]))
                vuln = entry["vuln"]
            except (KeyError, TypeError, ValueError):
                continue
            if isinstance(vuln, dict) and ID_RE.match(str(key)):
                self.entries[str(key)] = (vuln, checked)

    def _save(self, now: datetime) -> None:
        keep = {
            key: {"vuln": vuln, "checked_at": checked.isoformat()}
            for key, (vuln, checked) in self.entries.items()
            if now - checked <= KEEP_FOR
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".osv-vulns-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(keep, handle)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def lookup(self, ids: Iterable[str], *, offline: bool = False) -> DetailsResult:
        now = datetime.now(UTC)
        wanted = sorted({i for i in ids if ID_RE.match(i)})
        stale = [i for i in wanted if i not in self.entries or now - self.entries[i][1] > FRESH_FOR]
        note = None
        if stale and not offline:
            try:
                await self._fetch(stale, now)
            except httpx.HTTPError as exc:
                _log.warning("OSV advisory details failed: %s", exc)
                cause = (
                    f" ({network_cause(exc, urlsplit(self.url).hostname)})"
                    if isinstance(exc, httpx.TransportError)
                    else ""
                )
                note = f"OSV is unreachable{cause}; advisory details are from the local cache."
            try:
                self._save(now)
            except OSError as exc:
                _log.warning("could not write the advisory cache: %s", exc)
        vulns = {i: self.entries[i][0] for i in wanted if i in self.entries}
        return DetailsResult(vulns, note)

    async def _fetch(self, ids: list[str], now: datetime) -> None:
        gate = asyncio.Semaphore(CONCURRENCY)
        async with http_client(timeout=10.0) as client:

            async def one(advisory_id: str) -> None:
                async with gate:
                    response = await client.get(self.url + quote(advisory_id, safe=""))
                if response.status_code == 404:
                    return
                response.raise_for_status()
                try:
                    data = response.json()
                except ValueError:
                    return
                if isinstance(data, dict):
                    self.entries[advisory_id] = (_trimmed(data), now)

            await asyncio.gather(*(one(i) for i in ids))


def _trimmed(vuln: dict[str, Any]) -> dict[str, Any]:
    """The fields DevSync reads, so the cache stays small."""
    keep = ("id", "aliases", "summary", "details", "severity", "database_specific", "affected")
    out = {k: vuln[k] for k in keep if k in vuln}
    if isinstance(out.get("details"), str):
        out["details"] = out["details"][:2000]
    if isinstance(out.get("affected"), list):
        out["affected"] = [
            {"package": a.get("package"), "ranges": a.get("ranges")}
            for a in out["affected"]
            if isinstance(a, dict)
        ]
    return out
