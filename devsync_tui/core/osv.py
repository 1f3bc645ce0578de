"""Known vulnerabilities from OSV (https://osv.dev), through its ``querybatch`` API, with a
local cache so that a machine offline still knows what it last learned.

``OsvClient.lookup(packages)`` answers, for each (manager, name, version), the ids of the
advisories that affect it — or nothing when neither OSV nor the cache can tell. When OSV is
unreachable the result says so (``online`` False, ``note`` one sentence) and carries every
answer the cache holds, however old: the last known state is kept, never guessed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from devsync_tui import locations
from devsync_tui.core.models import PackageManager
from devsync_tui.core.net_errors import http_client, network_cause
from devsync_tui.core.wording import span

_log = logging.getLogger("devsync.osv")

OSV_URL = "https://api.osv.dev/v1/querybatch"
#: Environment variable naming another querybatch endpoint (a mirror, or a test server).
OSV_URL_ENV = "DEVSYNC_OSV_URL"
#: OSV's ecosystem names.
ECOSYSTEMS: dict[PackageManager, str] = {
    PackageManager.NPM: "npm",
    PackageManager.PIP: "PyPI",
    PackageManager.GEM: "RubyGems",
    PackageManager.CARGO: "crates.io",
}
#: OSV takes at most 1,000 queries per batch.
BATCH_SIZE = 1000
#: Answers younger than this are not asked again.
FRESH_FOR = timedelta(hours=24)
#: Answers older than this are dropped from the cache file.
KEEP_FOR = timedelta(days=30)

PackageKey = tuple[PackageManager, str, str]


def cache_path() -> Path:
    """The cache file (under ``locations.cache_dir()``)."""
    return locations.cache_dir() / "osv.json"


@dataclass(frozen=True, slots=True)
class OsvResult:
    """What is known: advisory ids per package (an empty tuple = known clean)."""

    advisories: dict[PackageKey, tuple[str, ...]] = field(default_factory=dict)
    online: bool = True
    note: str | None = None
    #: When each answer was learned (from OSV now, or the cache).
    checked: dict[PackageKey, datetime] = field(default_factory=dict)

    def is_vulnerable(self, key: PackageKey) -> bool | None:
        """True/False when known, None when neither OSV nor the cache could tell."""
        ids = self.advisories.get(key)
        return None if ids is None else bool(ids)


def _cache_key(key: PackageKey) -> str:
    manager, name, version = key
    return f"{manager.value}\x1f{name}\x1f{version}"


def _parse_cache_key(text: str) -> PackageKey | None:
    parts = text.split("\x1f")
    if len(parts) != 3:
        return None
    try:
        return PackageManager(parts[0]), parts[1], parts[2]
    except ValueError:
        return None


class OsvCache:
    """The cache file: ``{key: {"ids": [...], "checked_at": iso}}``, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[PackageKey, tuple[tuple[str, ...], datetime]] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:  # a broken cache is rebuilt, not fatal
            _log.warning("ignoring unreadable OSV cache %s: %s", self.path, exc)
            return
        if not isinstance(raw, dict):
            return
        for text, entry in raw.items():
            key = _parse_cache_key(text)
            if key is None or not isinstance(entry, dict):
                continue
            try:
                checked = datetime.fromisoformat(str(entry["checked_at"]))
                ids = tuple(str(i) for i in entry["ids"])
            except (KeyError, TypeError, ValueError):
                continue
            self.entries[key] = (ids, checked)

    def save(self, now: datetime) -> None:
        keep = {
            _cache_key(key): {"ids": list(ids), "checked_at": checked.isoformat()}
            for key, (ids, checked) in self.entries.items()
            if now - checked <= KEEP_FOR
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".osv-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(keep, handle)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise


def _queries(keys: Sequence[PackageKey]) -> list[dict[str, Any]]:
    return [
        {"package": {"name": name, "ecosystem": ECOSYSTEMS[manager]}, "version": version}
        for manager, name, version in keys
    ]


def _ids(result: Any) -> tuple[str, ...]:
    vulns = result.get("vulns") if isinstance(result, dict) else None
    if not isinstance(vulns, list):
        return ()
    return tuple(sorted({str(v["id"]) for v in vulns if isinstance(v, dict) and "id" in v}))


class OsvClient:
    """Looks packages up in OSV, fresh cache entries first."""

    def __init__(
        self,
        cache_file: Path | None = None,
        *,
        url: str | None = None,
        timeout: float = 10.0,
        fresh_for: timedelta = FRESH_FOR,
    ) -> None:
        self.cache = OsvCache(cache_file or cache_path())
        self.url = url or os.environ.get(OSV_URL_ENV) or OSV_URL
        self.timeout = timeout
        self.fresh_for = fresh_for

    async def lookup(self, packages: Iterable[PackageKey], *, offline: bool = False) -> OsvResult:
        """Advisory ids for each package with a version; see the module docstring.
        ``offline``: ask OSV nothing, answer from the cache and say what it could not check."""
        now = datetime.now(UTC)
        wanted = sorted(set(packages), key=_cache_key)
        stale = [
            key
            for key in wanted
            if key not in self.cache.entries or now - self.cache.entries[key][1] > self.fresh_for
        ]
        note: str | None = None
        online = True
        if stale and offline:
            online = False
            # Every answer comes from the cache offline, fresh ones and older ones alike.
            missed = sum(1 for key in stale if key not in self.cache.entries)
            old = len(stale) - missed
            age = span(self.fresh_for.total_seconds())
            older = f", {old} of them last checked over {age} ago" if old else ""
            note = (
                f"Offline: {missed} of {len(wanted)} package versions could not be checked "
                f"against OSV; kept the last known state ({len(wanted) - missed} from the local "
                f"cache{older})."
            )
        elif stale:
            try:
                await self._query(stale, now)
            except (httpx.HTTPError, ValueError) as exc:
                online = False
                _log.warning("OSV lookup failed: %s", exc)
                known = sum(1 for key in stale if key in self.cache.entries)
                cause = (
                    f" ({network_cause(exc, urlsplit(self.url).hostname)})"
                    if isinstance(exc, httpx.TransportError)
                    else ""
                )
                note = (
                    f"OSV is unreachable{cause}; kept the last known state "
                    f"({known} of {len(stale)} packages from the local cache)."
                )
            try:
                self.cache.save(now)
            except OSError as exc:
                _log.warning("could not write the OSV cache: %s", exc)
        advisories = {
            key: self.cache.entries[key][0] for key in wanted if key in self.cache.entries
        }
        checked = {key: self.cache.entries[key][1] for key in advisories}
        return OsvResult(advisories, online, note, checked)

    async def _query(self, keys: Sequence[PackageKey], now: datetime) -> None:
        async with http_client(timeout=self.timeout) as client:
            for start in range(0, len(keys), BATCH_SIZE):
                batch = keys[start : start + BATCH_SIZE]
                response = await client.post(self.url, json={"queries": _queries(batch)})
                response.raise_for_status()
                data = response.json()
                results = data.get("results") if isinstance(data, dict) else None
                if not isinstance(results, list) or len(results) != len(batch):
                    raise ValueError("OSV answered with a malformed batch")
                for key, result in zip(batch, results, strict=True):
                    self.cache.entries[key] = (_ids(result), now)
