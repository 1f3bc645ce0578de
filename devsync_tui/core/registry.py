"""The latest stable release of each package, from the package registries (npm, PyPI,
RubyGems, crates.io), with a local cache so that a machine offline still knows what it last
learned.

``RegistryClient.lookup(keys)`` answers, for each (manager, name), the newest stable version
the registry publishes — ``None`` when the registry has no such package or no stable release.
Lookups run concurrently (bounded) over one HTTP client; answers younger than ``FRESH_FOR``
are not asked again. When a registry cannot be reached the result says so (``online`` False,
``note`` one sentence) and carries every answer the cache holds, however old: the last known
state is kept, never guessed. A registry that fails to connect once is not asked again during
the same lookup, so an offline scan of thousands of packages costs one timeout, not thousands.

Base URLs can point at a mirror (or a test server) through ``DEVSYNC_NPM_REGISTRY``,
``DEVSYNC_PYPI_URL``, ``DEVSYNC_RUBYGEMS_URL`` and ``DEVSYNC_CRATES_URL``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from packaging.version import InvalidVersion, Version

from devsync_tui import __version__, locations
from devsync_tui.core import version_gem, version_semver, versions
from devsync_tui.core.models import PackageManager
from devsync_tui.core.net_errors import NetworkSettingError, http_client, network_cause
from devsync_tui.core.urls import without_credentials
from devsync_tui.core.wording import span

_log = logging.getLogger("devsync.registry")

LatestKey = tuple[PackageManager, str]


@dataclass(frozen=True, slots=True)
class Registry:
    """Where one manager's packages are published."""

    label: str
    env_var: str
    default_url: str


REGISTRIES: dict[PackageManager, Registry] = {
    PackageManager.NPM: Registry(
        "the npm registry", "DEVSYNC_NPM_REGISTRY", "https://registry.npmjs.org"
    ),
    PackageManager.PIP: Registry("PyPI", "DEVSYNC_PYPI_URL", "https://pypi.org"),
    PackageManager.GEM: Registry("RubyGems", "DEVSYNC_RUBYGEMS_URL", "https://rubygems.org"),
    PackageManager.CARGO: Registry("crates.io", "DEVSYNC_CRATES_URL", "https://crates.io"),
}
#: Answers younger than this are not asked again.
FRESH_FOR_SECONDS = 24 * 3600.0
#: Answers older than this are dropped from the cache file.
KEEP_FOR_SECONDS = 30 * 24 * 3600.0
#: Requests in flight at once, over all registries.
CONCURRENCY = 16
#: Fewer at once for registries that ask API clients to go slowly (crates.io's data access
#: policy asks crawlers for about one request a second; a scan is no crawler, but polite).
PER_REGISTRY_CONCURRENCY = {PackageManager.CARGO: 2}
#: crates.io asks API clients to identify themselves (requests without one are refused).
USER_AGENT = f"devsync/{__version__} (dependency freshness check)"
_NPM_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"
_CACHE_FORMAT = 1
#: Errors in a row, before any good answer, after which a registry counts as unreachable.
_GIVE_UP_AFTER = 8


def cache_path() -> Path:
    """The cache file (under ``locations.cache_dir()``)."""
    return locations.cache_dir() / "registry.json"


def base_url(manager: PackageManager) -> str:
    """The registry base URL for ``manager`` (its env var, else the public registry)."""
    registry = REGISTRIES[manager]
    return (os.environ.get(registry.env_var) or registry.default_url).rstrip("/")


def is_stable(manager: PackageManager, version: str) -> bool:
    """Whether ``version`` is a release ``manager`` understands and not a pre-release."""
    if manager in (PackageManager.NPM, PackageManager.CARGO):
        parsed = version_semver.parse_version(version)
        return parsed is not None and not parsed.pre
    if manager is PackageManager.PIP:
        try:
            return not Version(version).is_prerelease
        except InvalidVersion:
            return False
    gem = version_gem.parse_version(version)
    return gem is not None and bool(version.strip()) and not gem.prerelease


@dataclass(frozen=True, slots=True)
class RegistryResult:
    """What is known: the latest stable version per (manager, name); ``None`` = the registry
    has no stable release of that name. A key absent = nobody could tell."""

    latest: dict[LatestKey, str | None] = field(default_factory=dict)
    online: bool = True
    note: str | None = None
    #: When each answer was learned (seconds since the epoch).
    checked: dict[LatestKey, float] = field(default_factory=dict)

    def is_outdated(self, manager: PackageManager, name: str, version: str) -> bool | None:
        """True when ``version`` is older than the latest stable release, False when it is
        not, None when that cannot be told (unknown package, unparseable version)."""
        latest = self.latest.get((manager, name))
        if latest is None or not versions.is_valid_version(manager, version):
            return None
        return versions.compare(manager, version, latest) < 0


class RegistryCache:
    """The cache file: ``{"format": 1, "registries": {base: {"manager\\x1fname": [latest,
    checked_at_epoch]}}}``, written atomically. Answers are kept per base URL: a mirror or a
    private registry may know other packages than the public one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[LatestKey, tuple[str | None, float]]] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:  # a broken cache is rebuilt, not fatal
            _log.warning("ignoring unreadable registry cache %s: %s", self.path, exc)
            return
        if not isinstance(raw, dict) or raw.get("format") != _CACHE_FORMAT:
            return
        registries = raw.get("registries")
        if not isinstance(registries, dict):
            return
        for base, entries in registries.items():
            if isinstance(entries, dict):
                self.entries[str(base)] = dict(_parse_entries(entries))

    def get(self, base: str, key: LatestKey) -> tuple[str | None, float] | None:
        """(latest, checked_at) when cached for ``base``."""
        return self.entries.get(base, {}).get(key)

    def put(self, base: str, key: LatestKey, latest: str | None, now: float) -> None:
        self.entries.setdefault(base, {})[key] = (latest, now)

    def save(self, now: float) -> None:
        registries = {
            base: {
                f"{manager.value}\x1f{name}": [latest, checked]
                for (manager, name), (latest, checked) in entries.items()
                if now - checked <= KEEP_FOR_SECONDS
            }
            for base, entries in self.entries.items()
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".registry-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"format": _CACHE_FORMAT, "registries": registries}, handle)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise


def _parse_entries(
    entries: Mapping[str, Any],
) -> Iterable[tuple[LatestKey, tuple[str | None, float]]]:
    for text, entry in entries.items():
        manager_text, _, name = str(text).partition("\x1f")
        if not name or not isinstance(entry, list) or len(entry) != 2:
            continue
        latest, checked = entry
        try:
            manager = PackageManager(manager_text)
        except ValueError:
            continue
        if (latest is None or isinstance(latest, str)) and isinstance(checked, int | float):
            yield (manager, name), (latest, float(checked))


class _Unreachable(Exception):
    """The registry did not answer at all (connection refused, DNS, timeout); ``cause`` says
    why in words a person can act on (core.net_errors)."""

    def __init__(self, message: str, cause: str = "the connection failed") -> None:
        super().__init__(message)
        self.cause = cause


class _NoAnswer(Exception):
    """The registry answered, but not usably for this package (5xx, 429, bad JSON)."""


def npm_url_name(name: str) -> str:
    """The name as npm puts it in a URL: a scoped name keeps its "@" and has its "/"
    encoded (``@scope%2fname``)."""
    if name.startswith("@") and "/" in name:
        scope, _, rest = name[1:].partition("/")
        return f"@{quote(scope, safe='')}%2f{quote(rest, safe='')}"
    return quote(name, safe="")


def _stable_or_none(manager: PackageManager, version: Any) -> str | None:
    return version if isinstance(version, str) and is_stable(manager, version) else None


def _pypi_latest(data: Any) -> str | None:
    """``info.version`` unless it is a pre-release or yanked; then the newest stable release
    with at least one file not yanked."""
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
        raise _NoAnswer("PyPI answered without an info object")
    info = data["info"]
    current = info.get("version")
    if _stable_or_none(PackageManager.PIP, current) and not info.get("yanked"):
        return str(current)
    releases = data.get("releases")
    best: Version | None = None
    best_text: str | None = None
    if isinstance(releases, dict):
        for text, files in releases.items():
            if not isinstance(files, list) or not files:
                continue
            if all(isinstance(f, dict) and f.get("yanked") for f in files):
                continue
            try:
                parsed = Version(text)
            except InvalidVersion:
                continue
            if not parsed.is_prerelease and (best is None or parsed > best):
                best, best_text = parsed, text
    return best_text


class RegistryClient:
    """Looks the latest releases up, fresh cache entries first."""

    def __init__(
        self,
        cache_file: Path | None = None,
        *,
        urls: Mapping[PackageManager, str] | None = None,
        timeout: float = 5.0,
        fresh_for: float = FRESH_FOR_SECONDS,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.cache = RegistryCache(cache_file or cache_path())
        self.urls = {m: (urls or {}).get(m) or base_url(m) for m in PackageManager}
        self.timeout = timeout
        self.fresh_for = fresh_for
        self.concurrency = max(1, concurrency)

    async def lookup(self, keys: Iterable[LatestKey], *, offline: bool = False) -> RegistryResult:
        """The latest stable version of each (manager, name); see the module docstring.
        ``offline``: ask no registry, answer from the cache and say what it could not check."""
        now = time.time()
        wanted = sorted(set(keys))
        stale = [key for key in wanted if not self._fresh(key, now)]
        down: dict[PackageManager, str] = {}
        if stale and offline:
            down = {key[0]: "offline" for key in stale}
        elif stale:
            down = await self._fetch_all(stale, now)
            try:
                self.cache.save(now)
            except OSError as exc:
                _log.warning("could not write the registry cache: %s", exc)
        latest: dict[LatestKey, str | None] = {}
        checked: dict[LatestKey, float] = {}
        for key in wanted:
            cached = self.cache.get(self.urls[key[0]], key)
            if cached is not None:
                latest[key], checked[key] = cached
        note = None
        if down and offline:
            note = self._offline_note(wanted, latest, checked, now)
        elif down:
            # Keys of a registry that went down part-way may have been answered before it did.
            missed = [key for key in stale if key[0] in down and checked.get(key) != now]
            known = sum(1 for key in missed if key in latest)
            names = "; and ".join(
                f"{REGISTRIES[m].label} ({without_credentials(self.urls[m])}): {down[m]}"
                for m in sorted(down, key=str)
            )
            note = (
                f"Could not reach {names}; keeping the last known state "
                f"({known} of {len(missed)} packages from the local cache)."
            )
        return RegistryResult(latest, online=not down, note=note, checked=checked)

    def _offline_note(
        self,
        wanted: list[LatestKey],
        latest: Mapping[LatestKey, str | None],
        checked: Mapping[LatestKey, float],
        now: float,
    ) -> str:
        """What an offline lookup could tell: every answer came from the cache (fresh ones and
        older ones alike); the rest could not be checked."""
        missed = len(wanted) - len(latest)
        old = sum(1 for key in latest if now - checked[key] > self.fresh_for)
        older = f", {old} of them last checked over {span(self.fresh_for)} ago" if old else ""
        return (
            f"Offline: {missed} of {len(wanted)} packages could not be checked against their "
            f"registries; kept the last known state ({len(latest)} from the local cache"
            f"{older})."
        )

    def _fresh(self, key: LatestKey, now: float) -> bool:
        cached = self.cache.get(self.urls[key[0]], key)
        return cached is not None and now - cached[1] <= self.fresh_for

    async def _fetch_all(self, keys: list[LatestKey], now: float) -> dict[PackageManager, str]:
        """Ask for every key with ``concurrency`` workers; the managers found unreachable,
        each with why."""
        queue: asyncio.Queue[LatestKey] = asyncio.Queue()
        for key in keys:
            queue.put_nowait(key)
        down: dict[PackageManager, str] = {}
        answered: set[PackageManager] = set()
        failures: dict[PackageManager, int] = {}
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 3.0))

        gates = {
            manager: asyncio.Semaphore(limit) for manager, limit in PER_REGISTRY_CONCURRENCY.items()
        }

        async def fetch(client: httpx.AsyncClient, key: LatestKey) -> str | None:
            gate = gates.get(key[0])
            if gate is None:
                return await self._fetch(client, key)
            async with gate:
                return await self._fetch(client, key)

        async def worker() -> None:
            # One client per worker, a connection per registry host each: httpcore's shared
            # pool scans all its connections on every request, which doubled the CPU cost of
            # a 3,000-name lookup.
            try:
                client = http_client(
                    timeout=timeout,
                    limits=httpx.Limits(max_connections=len(REGISTRIES)),
                    follow_redirects=True,
                    headers={"User-Agent": USER_AGENT},
                )
            except NetworkSettingError as exc:  # SSL_CERT_FILE, a proxy: no request can go
                for manager in {key[0] for key in keys} - answered:
                    if manager not in down:
                        _log.warning("registry unreachable: %s", exc)
                    down.setdefault(manager, network_cause(exc))
                return
            async with client:
                while True:
                    try:
                        key = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    if key[0] in down:
                        continue
                    try:
                        latest = await fetch(client, key)
                    except _Unreachable as exc:
                        if key[0] not in down:
                            _log.warning("registry unreachable: %s", exc)
                        down.setdefault(key[0], exc.cause)
                    except Exception as exc:  # _NoAnswer, or a bug: never a traceback
                        if not isinstance(exc, _NoAnswer):
                            _log.exception("registry lookup of %s %s failed", *key)
                        _log.info("no usable answer for %s %s: %s", key[0].value, key[1], exc)
                        # A registry that only ever errors (503, 429) is as good as down:
                        # stop asking it rather than send it thousands of requests.
                        failures[key[0]] = failures.get(key[0], 0) + 1
                        if key[0] not in answered and failures[key[0]] >= _GIVE_UP_AFTER:
                            down.setdefault(key[0], "it answers only with errors")
                    else:
                        answered.add(key[0])
                        self.cache.put(self.urls[key[0]], key, latest, now)

        workers = min(self.concurrency, len(keys))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return down

    async def _get(self, client: httpx.AsyncClient, url: str, **headers: str) -> Any:
        """The JSON at ``url``; None for 404/410 (no such package)."""
        try:
            response = await client.get(url, headers=headers)
        except (httpx.TransportError, httpx.TooManyRedirects, httpx.InvalidURL) as exc:
            # Logged: a private registry's URL may carry its token (user info, query string).
            cause = network_cause(exc, urlsplit(url).hostname)
            raise _Unreachable(
                without_credentials(f"{url}: {type(exc).__name__}: {exc}"), cause
            ) from exc
        except httpx.HTTPError as exc:  # e.g. a body that does not decode
            raise _NoAnswer(without_credentials(f"{url}: {type(exc).__name__}: {exc}")) from exc
        if response.status_code in (404, 410):
            return None
        if response.status_code != 200:
            raise _NoAnswer(without_credentials(f"{url} answered HTTP {response.status_code}"))
        try:
            return response.json()
        except ValueError as exc:
            raise _NoAnswer(without_credentials(f"{url} answered with malformed JSON")) from exc

    async def _fetch(self, client: httpx.AsyncClient, key: LatestKey) -> str | None:
        manager, name = key
        base = self.urls[manager]
        if manager is PackageManager.NPM:
            return await self._fetch_npm(client, base, name)
        if manager is PackageManager.PIP:
            data = await self._get(client, f"{base}/pypi/{quote(name, safe='')}/json")
            return None if data is None else _pypi_latest(data)
        if manager is PackageManager.GEM:
            url = f"{base}/api/v1/versions/{quote(name, safe='')}/latest.json"
            data = await self._get(client, url)
            if data is None:
                return None
            if not isinstance(data, dict):
                raise _NoAnswer("RubyGems answered without a version object")
            # RubyGems answers {"version": "unknown"} for a gem it does not have.
            return _stable_or_none(manager, data.get("version"))
        data = await self._get(client, f"{base}/api/v1/crates/{quote(name, safe='')}")
        if data is None:
            return None
        crate = data.get("crate") if isinstance(data, dict) else None
        if not isinstance(crate, dict):
            raise _NoAnswer("crates.io answered without a crate object")
        return _stable_or_none(manager, crate.get("max_stable_version"))

    async def _fetch_npm(self, client: httpx.AsyncClient, base: str, name: str) -> str | None:
        """``dist-tags.latest``: first from the dist-tags endpoint (a few bytes), else from
        the abbreviated packument (megabytes for big packages; some mirrors only have it)."""
        escaped = npm_url_name(name)
        tags = await self._get(client, f"{base}/-/package/{escaped}/dist-tags")
        if tags is None:
            packument = await self._get(client, f"{base}/{escaped}", Accept=_NPM_ABBREVIATED)
            if packument is None:
                return None
            tags = packument.get("dist-tags") if isinstance(packument, dict) else None
        if not isinstance(tags, dict):
            raise _NoAnswer("the npm registry answered without dist-tags")
        return _stable_or_none(PackageManager.NPM, tags.get("latest"))
