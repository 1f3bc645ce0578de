"""``devsync drift [--json]``: the drift report of a project or one environment — a CI gate.

Three signals, listed apart: baseline drift (the versions of each package compared with the
project baseline's: a version that differs, a package missing or extra, an extra copy such as
a nested old version, a baseline version lacking), constraint violations (a resolved version
outside the baseline's constraint, else its own), and freshness/security (``status``
outdated or vulnerable). Exit 1 when any is found, 0 when none.

Target: ``--env`` (or the linked environment: this checkout's, else this machine's) checks that
environment; with only ``--project``, every environment of the project.
"""

from __future__ import annotations

import argparse
from datetime import date
from uuid import UUID

from devsync_tui.backend.machine import MachineBackend
from devsync_tui.commands.common import (
    UsageError,
    add_target_flags,
    flag,
    from_link,
    link_words,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
    say,
)
from devsync_tui.core import clock
from devsync_tui.core.drift import DriftFinding, DriftReport, drift_report
from devsync_tui.core.drift_facts import accepted_for, advisory_text, apply_accepted, report_json
from devsync_tui.core.drift_report import merged_report
from devsync_tui.core.fix import TOOLS, FixStep, fix_plan
from devsync_tui.core.models import (
    AcceptedRisk,
    Dependency,
    DependencyStatus,
    PackageFacts,
    PackageManager,
)
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine.targets import Target, find_project

#: Findings listed per signal unless ``--limit`` says otherwise.
LIMIT = 50


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
        default=None,
        metavar="N",
        help=f"findings listed per signal in text output (0: all; default {LIMIT}; not with --fix)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="print, per machine, the commands that would bring it to the baseline (never run)",
    )
    parser.add_argument(
        "--tool",
        action="append",
        default=[],
        choices=sorted({t for tools in TOOLS.values() for t in tools}),
        help="with --fix: write the commands for this tool (npm: npm, yarn, pnpm; pip: pip, "
        "uv, poetry); once per ecosystem (--tool yarn --tool uv)",
    )
    add_target_flags(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_async(drift(args))


def check_flags(args: argparse.Namespace) -> None:
    """UsageError for flags that contradict each other or mean nothing: a negative
    ``--limit``, ``--tool`` without ``--fix``, two tools for one ecosystem."""
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit takes 0 (list every finding) or a positive number.")
    if args.limit is not None and args.fix:
        raise UsageError("--limit counts the findings listed; --fix lists commands instead.")
    if args.tool and not args.fix:
        raise UsageError("--tool goes with --fix: it says which tool the fix commands use.")
    chosen: dict[PackageManager, list[str]] = {}
    for tool in dict.fromkeys(args.tool):  # the same tool twice says nothing new
        for manager, tools in TOOLS.items():
            if tool in tools:
                chosen.setdefault(manager, []).append(tool)
    for manager, same in chosen.items():
        if len(same) > 1:
            named = " and ".join(f"--tool {t}" for t in same)
            both = "both" if len(same) == 2 else "all"
            raise UsageError(
                f"{named} are {both} for {manager.value}; give one tool per ecosystem."
            )


def _ignored_line(
    finding: DriftFinding, facts: PackageFacts, risks: list[AcceptedRisk], today: date
) -> str:
    where = f"{finding.package_manager.value} {finding.package_name}  [{finding.environment_name}]"
    parts = []
    for advisory in facts.advisories_of(
        finding.package_manager, finding.package_name, finding.version
    ):
        risk = accepted_for(advisory, risks, today)
        if risk is not None:
            parts.append(f"{advisory.id} accepted until {risk.until.isoformat()}: {risk.reason}")
    return f"  {where}  {finding.version or '—'} ignored: " + "; ".join(parts)


def _line(finding: DriftFinding, facts: PackageFacts | None = None) -> str:
    where = f"{finding.package_manager.value} {finding.package_name}  [{finding.environment_name}]"
    version = finding.version or "—"
    if finding.kind == "differs":
        return f"  {where}  {version} (baseline {finding.expected})"
    if finding.kind == "missing":
        return f"  {where}  missing (baseline {finding.expected or 'unresolved'})"
    if finding.kind == "extra":
        return f"  {where}  {version} (not in the baseline)"
    if finding.kind == "extra_version":
        return f"  {where}  {version} (an extra copy; baseline {finding.expected})"
    if finding.kind == "missing_version":
        return f"  {where}  lacks {finding.expected} (a version the baseline also has)"
    if finding.kind == "violates":
        return f"  {where}  {version} does not satisfy {finding.expected}"
    known = (
        facts.advisories_of(finding.package_manager, finding.package_name, finding.version)
        if facts is not None and finding.kind == "vulnerable"
        else []
    )
    if known:
        return f"  {where}  {version} vulnerable: " + "; ".join(advisory_text(a) for a in known)
    return f"  {where}  {version} {finding.kind}"


def render(
    report: DriftReport,
    label: str,
    limit: int,
    facts: PackageFacts | None = None,
    risks: list[AcceptedRisk] | None = None,
    today: date | None = None,
) -> str:
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
        lines.extend(_line(f, facts) for f in shown)
        if len(shown) < len(findings):
            lines.append(f"  … and {len(findings) - len(shown)} more (see --json)")
    if report.ignored and facts is not None and today is not None:
        lines.append(f"Accepted risks (not counted): {len(report.ignored)}")
        lines.extend(_ignored_line(f, facts, risks or [], today) for f in report.ignored)
    lines.append("Drift found." if report.has_drift else "No drift.")
    return "\n".join(lines)


def _fix_json(steps: list[FixStep]) -> list[dict[str, object]]:
    return [{"argv": list(s.argv), "command": s.text, "note": s.note} for s in steps]


def render_fix(plan: dict[str, list[FixStep]], label: str) -> str:
    """Per machine, the commands (never run): shell-quoted, to review and run on it."""
    lines = [f"Commands that would bring each machine of {label} to the baseline (not run):"]
    for name, steps in plan.items():
        if not steps:
            lines.append(f"{name}: nothing to do.")
            continue
        lines.append(f"{name}:")
        lines.extend(f"  {s.text}" for s in steps)
    return "\n".join(lines)


async def drift(args: argparse.Namespace) -> int:
    """The command: load baseline + environments, report, exit 1 on drift."""
    check_flags(args)
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
        names = {e.id: e.name for e in envs}
        if target.environment is None:
            # The whole project: a page of whole packages at a time, keeping only findings
            # (and the few rows whose facts the JSON shows), never every row at once.
            parts: list[DriftReport] = []
            deps: list[Dependency] = []
            async for page in backend.dependency_pages(project.id):
                parts.append(drift_report(page, names))
                deps += (d for d in page if d.status is not DependencyStatus.HEALTHY)
            found = merged_report(parts, len(names))
        else:
            scope: list[UUID | None] = [None, target.environment.id]
            deps = await backend.list_dependencies(project.id, environment_ids=scope)
            found = drift_report(deps, names)
        facts = await backend.package_facts(project.id)
        risks = await backend.accepted_risks(project.id)
    today = clock.now().date()
    report = apply_accepted(found, facts, risks, today)
    label = target.label if target.environment else f"{project.name} (every environment)"
    if args.fix:
        plan = fix_plan(report.baseline_drift, {e.id: e.name for e in envs}, args.tool)
        if args.json:
            print_json({"target": target.label, "fix": {n: _fix_json(s) for n, s in plan.items()}})
        else:
            say(render_fix(plan, label))
        return EXIT_PROBLEMS if any(plan.values()) else EXIT_OK
    if args.json:
        print_json({"target": target.label, **report_json(report, deps, facts, risks, today)})
    else:
        if from_link(args, backend, target):
            say(f"{target.label} is {link_words(target)} (--project P: all).")
        limit = LIMIT if args.limit is None else args.limit
        say(render(report, label, limit, facts, risks, today))
    return EXIT_PROBLEMS if report.has_drift else EXIT_OK
