"""``devsync drift [--json]``: the drift report of a project or one environment — a CI gate.

Three signals, listed apart: baseline drift (versions that differ from the project baseline,
packages missing from or extra to an environment), constraint violations (a resolved version
outside the baseline's constraint, else its own), and freshness/security (``status``
outdated or vulnerable). Exit 1 when any is found, 0 when none.

Target: ``--env`` (or the environment linked to this checkout) checks that environment; with
only ``--project``, every environment of the project.
"""

from __future__ import annotations

import argparse
from uuid import UUID

from devsync_tui.backend.machine import MachineBackend
from devsync_tui.commands.common import (
    add_target_flags,
    flag,
    from_link,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
    say,
)
from devsync_tui.core.drift import DriftFinding, DriftReport, drift_report
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine.targets import Target, find_project


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync drift``."""
    parser = subparsers.add_parser(
        "drift",
        help="dependency drift report (exit 1 when drift is found)",
        description="Compare environments' dependencies with the project baseline and their "
        "constraints, and list outdated or vulnerable packages. Exits 1 when anything is "
        "found, so it can gate CI.",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="findings listed per signal in text output (0: all; default 50)",
    )
    add_target_flags(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_async(drift(args))


def _line(finding: DriftFinding) -> str:
    where = f"{finding.package_manager.value} {finding.package_name}  [{finding.environment_name}]"
    version = finding.version or "—"
    if finding.kind == "differs":
        return f"  {where}  {version} (baseline {finding.expected})"
    if finding.kind == "missing":
        return f"  {where}  missing (baseline {finding.expected or 'unresolved'})"
    if finding.kind == "extra":
        return f"  {where}  {version} (not in the baseline)"
    if finding.kind == "violates":
        return f"  {where}  {version} does not satisfy {finding.expected}"
    return f"  {where}  {version} {finding.kind}"


def render(report: DriftReport, label: str, limit: int) -> str:
    """The text report: a heading, then each signal with up to ``limit`` lines."""
    lines = [
        f"Drift for {label}: {report.packages} packages, {report.environments} environment(s)."
    ]
    sections = (
        ("Baseline drift", report.baseline_drift),
        ("Constraint violations", report.violations),
        ("Outdated / vulnerable", report.freshness),
    )
    for title, findings in sections:
        lines.append(f"{title}: {len(findings) or 'none'}")
        shown = findings if limit <= 0 else findings[:limit]
        lines.extend(_line(f) for f in shown)
        if len(shown) < len(findings):
            lines.append(f"  … and {len(findings) - len(shown)} more (see --json)")
    lines.append("Drift found." if report.has_drift else "No drift.")
    return "\n".join(lines)


async def drift(args: argparse.Namespace) -> int:
    """The command: load baseline + environments, report, exit 1 on drift."""
    async with open_from_args(args) as backend:
        if (
            flag(args, "project")
            and not flag(args, "env")
            and not isinstance(backend, MachineBackend)
        ):
            # --project alone is the whole project, whatever this checkout is linked to.
            target = Target(await find_project(backend, str(flag(args, "project"))), None)
        else:
            target = await resolve_target(backend, args, require_environment=False)
        project = target.project
        if target.environment is not None:
            envs = [target.environment]
        else:
            envs = await backend.list_environments(project.id)
        scope: list[UUID | None] = [None, *(e.id for e in envs)]
        deps = await backend.list_dependencies(project.id, environment_ids=scope)
    report = drift_report(deps, {e.id: e.name for e in envs})
    label = target.label if target.environment else f"{project.name} (every environment)"
    if args.json:
        print_json({"target": target.label, **report.to_json()})
    else:
        if from_link(args, backend, target):
            say(f"{target.label} is the environment linked to this checkout (--project P: all).")
        say(render(report, label, args.limit))
    return EXIT_PROBLEMS if report.has_drift else EXIT_OK
