"""The status of each package a machine reports: vulnerable (OSV), outdated (the registries'
latest stable release), else healthy — with the last known state kept where neither can tell.

``assess(packages, previous)`` is what ``devsync scan`` and ``devsync agent`` both call, so the
two report the same statuses for the same lockfiles. ``decide`` is the rule itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from devsync_tui.core.lockfiles import ParsedPackage
from devsync_tui.core.models import Dependency, DependencyInput, DependencyStatus, PackageKind
from devsync_tui.core.osv import OsvClient, OsvResult
from devsync_tui.core.registry import RegistryClient, RegistryResult

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


def _registry_packages(packages: Sequence[ParsedPackage]) -> list[ParsedPackage]:
    """The packages a registry or OSV can know: from the registry, with a resolved version.
    A workspace, path, git or URL package may share its name with an unrelated published one,
    whose advisories and releases say nothing about it."""
    return [p for p in packages if p.version and p.kind is PackageKind.REGISTRY]


async def lookup_osv(packages: Sequence[ParsedPackage]) -> OsvResult:
    """OSV's answers for every registry package with a resolved version."""
    keys = [(p.manager, p.name, p.version) for p in _registry_packages(packages) if p.version]
    return await OsvClient().lookup(keys)


async def lookup_registry(packages: Sequence[ParsedPackage]) -> RegistryResult:
    """The registries' latest stable versions for every registry package with a resolved
    version."""
    return await RegistryClient().lookup((p.manager, p.name) for p in _registry_packages(packages))


async def assess(
    packages: Sequence[ParsedPackage],
    previous: Sequence[Dependency] = (),
    *,
    use_osv: bool = True,
    use_registry: bool = True,
) -> Assessment:
    """Look ``packages`` up in OSV and the registries (concurrently, both cached) and decide
    every status; ``previous`` is what is stored for the same environment (or baseline)."""

    async def nothing() -> None:
        return None

    osv, registry = await asyncio.gather(
        lookup_osv(packages) if use_osv else nothing(),
        lookup_registry(packages) if use_registry else nothing(),
    )
    notes = [r.note for r in (osv, registry) if r is not None and r.note]
    return Assessment(to_inputs(packages, osv, registry, previous), osv, registry, notes)
