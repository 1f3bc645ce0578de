"""``wanted``: the newest stable release of a package that satisfies the project's constraint
(npm's "wanted"), from the list of releases its registry publishes.

Only packages the project asks for with a constraint have one (a transitive package has no
constraint of the project's). The lists are read when asked, not cached here: what was learned
is stored in the database (``package_freshness``), which keeps the last known state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from devsync_tui.core import registry
from devsync_tui.core.models import PackageManager
from devsync_tui.core.net_errors import NetworkSettingError, http_client
from devsync_tui.core.urls import without_credentials
from devsync_tui.core.versions import compare, satisfies

_log = logging.getLogger("devsync.registry")

WantedKey = tuple[PackageManager, str, str]  # manager, name, constraint
CONCURRENCY = 8
_NPM_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"


@dataclass
class WantedResult:
    """The newest satisfying stable release per (manager, name, constraint); None = none
    satisfies it. A key absent: it could not be told (registry down, constraint unreadable)."""

    wanted: dict[WantedKey, str | None] = field(default_factory=dict)
    note: str | None = None


def newest_satisfying(
    manager: PackageManager, releases: Iterable[str], constraint: str
) -> str | None:
    """The newest stable release satisfying ``constraint`` (None: none does)."""
    best: str | None = None
    for version in releases:
        if not registry.is_stable(manager, version):
            continue
        if satisfies(manager, version, constraint) is not True:
            continue
        if best is None or compare(manager, version, best) > 0:
            best = version
    return best


def releases_from(manager: PackageManager, data: Any) -> list[str]:
    """The published, not yanked versions in a registry's answer (each registry's shape)."""
    if manager is PackageManager.NPM:
        versions = data.get("versions") if isinstance(data, dict) else None
        return [str(v) for v in versions] if isinstance(versions, dict) else []
    if manager is PackageManager.PIP:
        releases = data.get("releases") if isinstance(data, dict) else None
        if not isinstance(releases, dict):
            return []
        return [
            str(v)
            for v, files in releases.items()
            if isinstance(files, list)
            and files
            and not all(isinstance(f, dict) and f.get("yanked") for f in files)
        ]
    if manager is PackageManager.GEM:
        rows = data if isinstance(data, list) else []
        return [str(r["number"]) for r in rows if isinstance(r, dict) and "number" in r]
    crates = data.get("versions") if isinstance(data, dict) else None
    return [
        str(r["num"])
        for r in (crates if isinstance(crates, list) else ())
        if isinstance(r, dict) and "num" in r and not r.get("yanked")
    ]


def _url(manager: PackageManager, name: str) -> str:
    base = registry.base_url(manager)
    if manager is PackageManager.NPM:
        return f"{base}/{registry.npm_url_name(name)}"
    if manager is PackageManager.PIP:
        return f"{base}/pypi/{quote(name, safe='')}/json"
    if manager is PackageManager.GEM:
        return f"{base}/api/v1/versions/{quote(name, safe='')}.json"
    return f"{base}/api/v1/crates/{quote(name, safe='')}"


async def lookup_wanted(keys: Iterable[WantedKey], *, offline: bool = False) -> WantedResult:
    """``wanted`` for each key (see the module docstring)."""
    wanted_keys = sorted(set(keys))
    if not wanted_keys:
        return WantedResult()
    if offline:
        return WantedResult()
    names = sorted({(m, n) for m, n, _ in wanted_keys})
    releases: dict[tuple[PackageManager, str], list[str]] = {}
    down: set[PackageManager] = set()
    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"User-Agent": registry.USER_AGENT}
    try:
        client = http_client(timeout=10.0, follow_redirects=True, headers=headers)
    except NetworkSettingError as exc:
        _log.warning("%s", exc)
        managers = {m for m, _n in names}
        return WantedResult(
            note=f"Could not read the releases on {_labels(managers)} ({exc}); wanted versions "
            "kept as last known."
        )
    async with client:

        async def one(manager: PackageManager, name: str) -> None:
            if manager in down:
                return
            extra = {"Accept": _NPM_ABBREVIATED} if manager is PackageManager.NPM else {}
            url = _url(manager, name)
            try:
                async with gate:
                    response = await client.get(url, headers=extra)
            except httpx.HTTPError as exc:
                down.add(manager)
                _log.warning("%s", without_credentials(f"{url}: {type(exc).__name__}"))
                return
            if response.status_code != 200:
                return
            try:
                releases[(manager, name)] = releases_from(manager, response.json())
            except ValueError:
                return

        await asyncio.gather(*(one(m, n) for m, n in names))
    result: dict[WantedKey, str | None] = {}
    for manager, name, constraint in wanted_keys:
        found = releases.get((manager, name))
        if found is not None:
            result[(manager, name, constraint)] = newest_satisfying(manager, found, constraint)
    note = None
    if down:
        note = (
            f"Could not read the releases on {_labels(down)}; wanted versions kept as last known."
        )
    return WantedResult(result, note)


def _labels(managers: Iterable[PackageManager]) -> str:
    return " and ".join(registry.REGISTRIES[m].label for m in sorted(managers, key=str))
