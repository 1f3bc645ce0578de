"""The status of each package a machine reports: vulnerable (OSV), outdated (the registries'
latest stable release), else healthy — with the last known state kept where neither can tell.

``assess(packages, previous)`` is what ``devsync scan`` and ``devsync agent`` both call, so the
two report the same statuses for the same lockfiles. ``decide`` is the rule itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from devsync_tui.core.advisories import ID_RE, AdvisoryDetails, advisory_for
from devsync_tui.core.lockfiles import ParsedPackage
from devsync_tui.core.models import (
    AdvisoryCheck,
    Dependency,
    DependencyInput,
    DependencyStatus,
    Freshness,
    PackageKind,
    PackageManager,
)
from devsync_tui.core.osv import OsvClient, OsvResult
from devsync_tui.core.registry import RegistryClient, RegistryResult
from devsync_tui.core.wanted import lookup_wanted

HEALTHY, OUTDATED, VULNERABLE = (
    DependencyStatus.HEALTHY,
    DependencyStatus.OUTDATED,
    DependencyStatus.VULNERABLE,
)


def decide(
    vulnerable: bool | None, outdated: bool | None, kept: DependencyStatus | None
) -> DependencyStatus:
    """One package's status from OSV's answer, the registry's answer and the status stored
    for the same version (each None when unknown).

    Vulnerable wins over outdated. Where OSV cannot tell, a stored ``vulnerable`` is kept;
    where the registry cannot tell, a stored ``outdated`` is kept (a version OSV finds clean
    does not stop being outdated, and the other way round).
    """
    if vulnerable is True or (vulnerable is None and kept is VULNERABLE):
        return VULNERABLE
    if outdated is True:
        return OUTDATED
    if outdated is None and kept is OUTDATED:
        return OUTDATED
    return HEALTHY


def to_inputs(
    packages: Sequence[ParsedPackage],
    osv: OsvResult | None,
    registry: RegistryResult | None,
    previous: Sequence[Dependency] = (),
) -> list[DependencyInput]:
    """The rows to report for ``packages`` (see ``decide``); a package without a resolved
    version is never looked up and keeps nothing."""
    before = {(d.package_manager, d.package_name, d.resolved_version): d.status for d in previous}
    out: list[DependencyInput] = []
    for p in packages:
        vulnerable = outdated = None
        if p.version and p.kind is PackageKind.REGISTRY:
            if osv is not None:
                vulnerable = osv.is_vulnerable((p.manager, p.name, p.version))
            if registry is not None:
                outdated = registry.is_outdated(p.manager, p.name, p.version)
        kept = before.get((p.manager, p.name, p.version))
        status = decide(vulnerable, outdated, kept)
        out.append(DependencyInput(p.manager, p.name, p.constraint, p.version, status, p.kind))
    return out


@dataclass(frozen=True, slots=True)
class Assessment:
    """The rows to report, what OSV and the registries said, and one sentence per source
    that could not be reached (to show the user once, or log)."""

    inputs: list[DependencyInput]
    osv: OsvResult | None
    registry: RegistryResult | None
    notes: list[str] = field(default_factory=list)
    #: What to store for everyone (``report_package_facts``): each version OSV answered for,
    #: with its advisories' details, and each package's latest (and wanted) release.
    advisory_checks: list[AdvisoryCheck] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)


def _registry_packages(packages: Sequence[ParsedPackage]) -> list[ParsedPackage]:
    """The packages a registry or OSV can know: from the registry, with a resolved version.
    A workspace, path, git or URL package may share its name with an unrelated published one,
    whose advisories and releases say nothing about it."""
    return [p for p in packages if p.version and p.kind is PackageKind.REGISTRY]


async def lookup_osv(packages: Sequence[ParsedPackage], *, offline: bool = False) -> OsvResult:
    """OSV's answers for every registry package with a resolved version."""
    keys = [(p.manager, p.name, p.version) for p in _registry_packages(packages) if p.version]
    return await OsvClient().lookup(keys, offline=offline)


async def lookup_registry(
    packages: Sequence[ParsedPackage], *, offline: bool = False
) -> RegistryResult:
    """The registries' latest stable versions for every registry package with a resolved
    version."""
    keys = ((p.manager, p.name) for p in _registry_packages(packages))
    return await RegistryClient().lookup(keys, offline=offline)


async def advisory_checks(
    osv: OsvResult, *, offline: bool = False
) -> tuple[list[AdvisoryCheck], str | None]:
    """Each version OSV answered for, with the details of its advisories."""
    ids = {i for found in osv.advisories.values() for i in found}
    details = await AdvisoryDetails().lookup(ids, offline=offline)
    checks = [
        AdvisoryCheck(
            manager,
            name,
            version,
            osv.checked[(manager, name, version)],
            tuple(
                advisory_for(details.vulns.get(i), i, manager, name, version)
                for i in found
                if ID_RE.match(i)
            ),
        )
        for (manager, name, version), found in osv.advisories.items()
        if (manager, name, version) in osv.checked
    ]
    return checks, details.note


async def freshness(
    packages: Sequence[ParsedPackage], registry: RegistryResult, *, offline: bool = False
) -> tuple[list[Freshness], str | None]:
    """Each package's latest release, and for each constraint the project states the newest
    release satisfying it (``core.wanted``)."""
    constraints: dict[tuple[PackageManager, str], set[str]] = {}
    for p in _registry_packages(packages):
        found = constraints.setdefault((p.manager, p.name), set())
        if p.constraint and p.direct:
            found.add(p.constraint)
    # Only packages the registry has a release of (a 404 has nothing to satisfy a constraint).
    keys = [
        (m, n, c) for (m, n), cs in constraints.items() for c in cs if registry.latest.get((m, n))
    ]
    wanted = await lookup_wanted(keys, offline=offline)
    out: list[Freshness] = []
    for (manager, name), found in sorted(constraints.items()):
        key = (manager, name)
        if key not in registry.checked:
            continue
        checked = datetime.fromtimestamp(registry.checked[key], UTC)
        latest = registry.latest.get(key)
        out.append(Freshness(manager, name, None, latest, None, checked))
        for constraint in sorted(found):
            if (manager, name, constraint) in wanted.wanted:
                best = wanted.wanted[(manager, name, constraint)]
                out.append(Freshness(manager, name, constraint, latest, best, checked))
    return out, wanted.note


async def assess(
    packages: Sequence[ParsedPackage],
    previous: Sequence[Dependency] = (),
    *,
    use_osv: bool = True,
    use_registry: bool = True,
    offline: bool = False,
) -> Assessment:
    """Look ``packages`` up in OSV and the registries (concurrently, both cached) and decide
    every status; ``previous`` is what is stored for the same environment (or baseline).
    ``offline``: ask no network, answer from the caches and say what could not be checked."""

    async def nothing() -> None:
        return None

    osv, registry = await asyncio.gather(
        lookup_osv(packages, offline=offline) if use_osv else nothing(),
        lookup_registry(packages, offline=offline) if use_registry else nothing(),
    )
    notes = [r.note for r in (osv, registry) if r is not None and r.note]
    checks: list[AdvisoryCheck] = []
    fresh: list[Freshness] = []
    if osv is not None:
        checks, note = await advisory_checks(osv, offline=offline or not osv.online)
        notes += [note] if note else []
    if registry is not None:
        fresh, note = await freshness(packages, registry, offline=offline or not registry.online)
        notes += [note] if note else []
    inputs = to_inputs(packages, osv, registry, previous)
    return Assessment(inputs, osv, registry, notes, checks, fresh)
