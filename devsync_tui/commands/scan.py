"""``devsync scan [PATH] [--baseline] [--dry-run] [--no-osv] [--no-registry]``: report what
this machine runs.

Finds the lockfiles and manifests under PATH (default: here; a file of any name is read by
its content), reads them all — one that cannot be read stops the scan before anything is
sent — and replaces this environment's dependency set (or, with ``--baseline``, the
project's) in one transaction. Every locked version of every package is a row, workspace,
path, editable, git and URL packages included (as their kind). Each package's
status comes from OSV (vulnerable) and the package registries (outdated: older than the latest
stable release), else healthy; where a source cannot answer (offline, nothing cached) the
status stored for that version is kept (``core.statuses``). Then a drift summary.
``--dry-run`` reads, checks the target as the real run does and prints, writing nothing; with
``--json`` it is exactly what would be reported.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.commands.common import (
    UsageError,
    add_lookup_flags,
    add_target_flags,
    add_token_flag,
    check_names,
    eprint,
    flag,
    from_link,
    link_words,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
    say,
)
from devsync_tui.core import clock, statuses
from devsync_tui.core.drift import DriftReport, drift_report
from devsync_tui.core.drift_facts import apply_accepted
from devsync_tui.core.lockfiles import LockfileError, ParsedPackage, ScanResult, scan_path
from devsync_tui.core.models import Dependency, DependencyInput, Environment, PackageManager
from devsync_tui.core.names import package_key
from devsync_tui.core.osv import OsvResult
from devsync_tui.core.registry import RegistryResult
from devsync_tui.core.statuses import Assessment, assess
from devsync_tui.exit_codes import EXIT_OK
from devsync_tui.machine.targets import Target

#: The database refuses larger reports (docs/DATABASE.md, report_dependencies).
MAX_PACKAGES = 20_000
#: What a machine token says to ``--baseline``.
MACHINE_NO_BASELINE = "A machine token reports its environment only, not the baseline."


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync scan``."""
    parser = subparsers.add_parser(
        "scan",
        help="report this machine's dependencies from its lockfiles",
        description="Find lockfiles and manifests under PATH, report the packages they lock "
        "for this environment (or the project baseline) in one transaction, and print a drift "
        "summary.",
    )
    parser.add_argument("path", nargs="?", default=".", help="folder or file (default: here)")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="report the project baseline instead (of --project; not with --env)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be reported; write nothing"
    )
    add_lookup_flags(parser)
    add_target_flags(parser)
    add_token_flag(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_async(scan(args))


def read_lockfiles(path: Path) -> ScanResult:
    """The scan of ``path``; a file that cannot be read becomes a UsageError (exit 2)."""
    try:
        result = scan_path(path)
    except LockfileError as exc:
        raise UsageError(f"{exc}. Nothing was reported.") from exc
    if not result.packages:
        # The links skipped on the way may be why nothing was found: say so first.
        for warning in result.warnings:
            eprint(warning)
        raise UsageError(f"No lockfiles or manifests with packages under {path}.")
    if len(result.packages) > MAX_PACKAGES:
        raise UsageError(
            f"{len(result.packages):,} packages is more than one report may hold "
            f"({MAX_PACKAGES:,}); scan a smaller folder."
        )
    return result


async def lookup_osv(packages: Sequence[ParsedPackage]) -> OsvResult:
    """OSV's answers for every package with a resolved version."""
    return await statuses.lookup_osv(packages)


def to_inputs(
    packages: Sequence[ParsedPackage],
    osv: OsvResult | None,
    previous: Sequence[Dependency] = (),
    registry: RegistryResult | None = None,
) -> list[DependencyInput]:
    """Rows to report: ``core.statuses.to_inputs`` (OSV's vulnerable wins, the registries'
    outdated next; where a source cannot tell, the status stored for the same version is
    kept)."""
    return statuses.to_inputs(packages, osv, registry, previous)


def _package_json(p: ParsedPackage, row: DependencyInput) -> dict[str, Any]:
    """One scanned (package, version) as ``--json`` shows it (each is reported)."""
    return {
        "package_manager": p.manager.value,
        "package_name": p.name,
        "version_constraint": p.constraint,
        "resolved_version": p.version,
        "direct": p.direct,
        "kind": p.kind.value,
        "alias": p.alias,
        "marker": p.marker,
        "platforms": list(p.platforms),
        "status": row.status.value,
    }


def _packages_json(result: ScanResult, inputs: Sequence[DependencyInput]) -> list[dict[str, Any]]:
    return [_package_json(p, i) for p, i in zip(result.packages, inputs, strict=True)]


def _summary_lines(result: ScanResult, inputs: Sequence[DependencyInput]) -> list[str]:
    names = {(p.manager, package_key(p.manager, p.name)) for p in result.packages}
    direct = sum(1 for p in result.packages if p.direct)
    per_manager = ", ".join(
        f"{result.count(m)} {m.value}" for m in PackageManager if result.count(m)
    )
    vulnerable = sum(1 for i in inputs if i.status.value == "vulnerable")
    outdated = sum(1 for i in inputs if i.status.value == "outdated")
    rows = len(result.packages)
    versions = f" at {rows} versions" if rows != len(names) else ""
    lines = [
        f"Read {len(result.files)} file(s): {len(names)} packages{versions} "
        f"({per_manager}; {direct} direct, {rows - direct} transitive).",
    ]
    if vulnerable:
        lines.append(f"{vulnerable} package(s) with known vulnerabilities.")
    if outdated:
        lines.append(f"{outdated} package(s) older than their latest stable release.")
    return lines


def _sources_json(assessment: Assessment) -> dict[str, Any]:
    osv, registry = assessment.osv, assessment.registry
    return {
        "osv": None if osv is None else {"online": osv.online, "note": osv.note},
        "registry": None
        if registry is None
        else {"online": registry.online, "note": registry.note},
    }


def drift_summary(report: DriftReport) -> str:
    """One line with the three drift signals, counted as ``devsync drift`` counts them (the
    report after ``apply_accepted``): accepted risks are named apart, not counted."""
    kinds: dict[str, int] = {}
    for finding in report.baseline_drift:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    drift = f"{len(report.baseline_drift)} baseline drift" + (f" ({detail})" if detail else "")
    accepted = f" Accepted risks (not counted): {len(report.ignored)}." if report.ignored else ""
    return (
        f"Drift: {drift}; {len(report.violations)} constraint violation(s); "
        f"{len(report.freshness)} outdated/vulnerable.{accepted}"
    )


async def _place(
    backend: Backend, args: argparse.Namespace
) -> tuple[Target, Environment | None, list[Dependency]]:
    """Where a scan reports, the real run and ``--dry-run`` alike: the target (a machine
    token's own environment; never the baseline for a machine), the environment (None: the
    baseline) and the rows stored there now."""
    if isinstance(backend, MachineBackend) and args.baseline:
        raise UsageError(MACHINE_NO_BASELINE)
    target = await resolve_target(backend, args, require_environment=not args.baseline)
    env = None if args.baseline else target.environment
    env_id = env.id if env is not None else None
    previous = await backend.list_dependencies(target.project.id, environment_ids=[env_id])
    return target, env, previous


async def _dry_run(args: argparse.Namespace, result: ScanResult) -> int:
    """``--dry-run``: the target checked as the real run checks it (a machine token is
    refused when expired or revoked, a project or environment that is not the token's is an
    error) and the statuses assessed as it would assess them (from what is stored); nothing
    is written. It needs the database as the real run does (``--offline`` only keeps OSV and
    the registries from being asked)."""
    async with open_from_args(args) as backend:
        target, env, previous = await _place(backend, args)
    project = target.project
    assessment = await assess(
        result.packages,
        previous,
        use_osv=not args.no_osv,
        use_registry=not args.no_registry,
        offline=bool(args.offline),
    )
    for note in assessment.notes:
        eprint(note)
    inputs = assessment.inputs
    label = f"{project.name} (baseline)" if env is None else f"{project.name}/{env.name}"
    if args.json:
        print_json(
            {
                "dry_run": True,
                "target": label,
                "baseline": bool(args.baseline),
                "files": [str(f) for f in result.files],
                "packages": _packages_json(result, inputs),
                **_sources_json(assessment),
            }
        )
    else:
        say("\n".join(_summary_lines(result, inputs)))
        say(f"Dry run: nothing was reported for {label}.")
    return EXIT_OK


async def scan(args: argparse.Namespace) -> int:
    """The command: read, look up, report, summarize."""
    check_names(args)  # bad flags before reading anything
    if args.baseline and flag(args, "env") is not None:
        raise UsageError(
            "Pass either --env or --baseline, not both: the baseline is the project's, "
            "not an environment's (--project names it)."
        )
    path = Path(args.path)
    result = await asyncio.to_thread(read_lockfiles, path)
    for warning in result.warnings:
        eprint(warning)
    use_osv, use_registry = not args.no_osv, not args.no_registry
    offline = bool(args.offline)
    if args.dry_run:
        return await _dry_run(args, result)

    async with open_from_args(args) as backend:
        machine = isinstance(backend, MachineBackend)
        target, env, previous = await _place(backend, args)
        project = target.project
        if env is not None and from_link(args, backend, target):
            eprint(
                f"reporting for {target.label}, {link_words(target)} "
                "(--env NAME for another; `devsync env link` changes the link)."
            )
        env_id = env.id if env is not None else None
        assessment = await assess(
            result.packages, previous, use_osv=use_osv, use_registry=use_registry, offline=offline
        )
        for note in assessment.notes:
            eprint(note)
        inputs = assessment.inputs
        stored = await backend.report_dependencies(project.id, env_id, inputs)
        # What OSV and the registries said, stored once for everyone on the team.
        await backend.report_package_facts(assessment.advisory_checks, assessment.freshness)
        envs = [env] if env is not None else await backend.list_environments(project.id)
        report: DriftReport | None = None
        if not machine:  # a machine reads no baseline: drift is for people (devsync drift)
            scope: list[UUID | None] = [None, *(e.id for e in envs)]
            deps = await backend.list_dependencies(project.id, environment_ids=scope)
            found = drift_report(deps, {e.id: e.name for e in envs})
            # The same rule as devsync drift: a version whose every advisory is accepted
            # is an accepted risk, not counted.
            facts = await backend.package_facts(project.id)
            risks = await backend.accepted_risks(project.id)
            report = apply_accepted(found, facts, risks, clock.now().date())
    label = f"{project.name} (baseline)" if env is None else f"{project.name}/{env.name}"
    if args.json:
        print_json(
            {
                "dry_run": False,
                "target": label,
                "baseline": env is None,
                "files": [str(f) for f in result.files],
                "stored": stored,
                "packages": _packages_json(result, inputs),
                **_sources_json(assessment),
                "drift": report.to_json() if report is not None else None,
            }
        )
        return EXIT_OK
    say("\n".join(_summary_lines(result, inputs)))
    noun = "package version" if stored == 1 else "package versions"
    say(f"Reported {stored} {noun} for {label}.")
    if report is not None:
        say(drift_summary(report))
    return EXIT_OK
