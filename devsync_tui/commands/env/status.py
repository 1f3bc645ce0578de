"""``devsync env status [PATH]`` and ``devsync env pull [PATH]``: what this checkout runs
against the environment's configuration, and bringing it in step.

The rules are ``machine/config_status.py`` and ``machine/config_pull.py``. ``status`` prints
each key that is not in sync (``--json``: every key), stores the states (where the user may
report for the environment; a machine token for its own), and exits 1 on drift. ``pull``
shows what it would write (secret values never), checks every destination (``--dry-run``
too), asks on a terminal, and without one writes only with ``--yes``: else it exits 1, as
``env import`` does (``--json``: the plan and what was written as one document; it never
asks, so it writes only with ``--yes``).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.commands.common import (
    UsageError,
    eprint,
    flag,
    open_from_args,
    print_json,
    resolve_target,
    say,
)
from devsync_tui.commands.env.edit import shown_value, unconfirmed
from devsync_tui.commands.prompt import ask
from devsync_tui.core.config_states import LABELS, SYMBOLS, DriftState, KeyStatus, is_drift
from devsync_tui.core.printable import escaped
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine import config_pull, config_status, links, required
from devsync_tui.machine.config_status import StatusReport
from devsync_tui.machine.targets import Target, TargetQuery, link_scope
from devsync_tui.machine.targets import resolve_target as resolve


def checkout_of(args: argparse.Namespace) -> Path:
    """The checkout PATH names (its nearest ``.git``, else PATH itself)."""
    path = Path(args.path or ".")
    if not path.is_dir():
        raise UsageError(f"{args.path} is not a folder.")
    return links.checkout_root(path)


async def target_for(backend: Backend, args: argparse.Namespace, root: Path) -> Target:
    """``--env`` if given, else the environment linked to the checkout at ``root``."""
    if isinstance(backend, MachineBackend) or args.env:
        return await resolve_target(backend, args)
    link = links.find(*await link_scope(backend, flag(args, "profile")), cwd=root)
    if link is None or link.checkout == links.MACHINE_WIDE:
        raise UsageError(
            f"{root} is not linked to an environment; run `devsync env link --env NAME` "
            "there, or pass --env."
        )
    query = TargetQuery(flag(args, "profile"), str(link.project_id), str(link.environment_id))
    return await resolve(backend, query)


async def _check(
    backend: Backend, args: argparse.Namespace, *, reveal_missing: bool = False
) -> tuple[Target, Path, StatusReport]:
    root = checkout_of(args)
    target = await target_for(backend, args, root)
    assert target.environment is not None
    extra = links.listed_files(root, target.environment.id)
    report = await config_status.check(
        backend, target.environment.id, root, extra, reveal_missing=reveal_missing
    )
    return target, root, report


async def _store(backend: Backend, report: StatusReport) -> bool:
    """Store the states; False when this user may not report for the environment."""
    try:
        await backend.report_config_states(
            report.environment_id, [s.as_input() for s in report.statuses]
        )
    except PermissionDenied:
        return False
    return True


def _line(status: KeyStatus, report: StatusReport) -> str:
    label = LABELS[status.state].split(" (")[0]
    if status.state is DriftState.BEHIND:
        label = f"behind: has v{status.behind_version}, synced v{status.synced_version}"
    elif status.state is DriftState.UNKNOWN:
        label = "unknown: a secret you may not reveal, not compared"
        if status.key in report.local.unreadable:
            label = "unknown: the path leaves the checkout, not read"
    where = report.local.origin.get(status.key)
    if status.state is not DriftState.MISSING and where and not status.is_file:
        label += f" ({where})"
    kind = " [file]" if status.is_file else (" [secret]" if status.is_secret else "")
    return f"  {SYMBOLS[status.state]} {status.key}{kind}  {label}"


def _json(
    target: Target, root: Path, report: StatusReport, stored: bool, missing: list[str]
) -> dict[str, object]:
    return {
        "target": target.label,
        "checkout": str(root),
        "files": report.local.dotenv_files,
        "drift": is_drift(report.statuses),
        "missing_required": missing,
        "stored": stored,
        "keys": [
            {
                "key": s.key,
                "state": str(s.state),
                "synced_version": s.synced_version,
                "behind_version": s.behind_version,
                "is_secret": s.is_secret,
                "type": "file" if s.is_file else "env_var",
                "file": None if s.is_file else report.local.origin.get(s.key),
            }
            for s in report.statuses
        ],
    }


async def status(args: argparse.Namespace) -> int:
    """``devsync env status [PATH]``."""
    async with open_from_args(args) as backend:
        target, root, report = await _check(backend, args)
        stored = await _store(backend, report)
        # Required by the environment's template and set nowhere (not in the synced
        # configuration): no checkout can be in step with that, so it fails the check too.
        missing, template = await required.missing_keys(backend, target, report.rows)
    drift = is_drift(report.statuses) or bool(missing)
    if args.json:
        print_json(_json(target, root, report, stored, missing))
        return EXIT_PROBLEMS if drift else EXIT_OK
    files = ", ".join(report.local.dotenv_files) or "no dotenv file"
    say(f"{target.label} — {root} ({files})")
    for key in missing:
        say(f"  ! {escaped(key)}  required by template {escaped(template or '')}, set nowhere")
    for s in report.not_in_sync:
        say(_line(s, report))
    counts = sum(s.state is DriftState.IN_SYNC for s in report.statuses)
    drifted = sum(s.state is not DriftState.IN_SYNC for s in report.statuses)
    if missing:
        say(
            f"{len(missing)} required key(s) missing from the environment's configuration: "
            "set them (devsync env set KEY=VALUE) before anyone can be in step."
        )
    if is_drift(report.statuses):
        say(f"{drifted} of {len(report.statuses)} keys not in sync; {counts} in sync.")
        for line in _advice(report, target, args.path):
            say(line)
    elif missing:
        say(f"Otherwise in sync: {counts} keys.")
    else:
        say(f"In sync: {counts} keys.")
    if not stored:
        eprint("not stored: you may not report states for this environment.")
    return EXIT_PROBLEMS if drift else EXIT_OK


def _advice(report: StatusReport, target: Target, path: str | None) -> list[str]:
    """What brings the drifted keys in step, by what would: ``env pull`` for the keys it
    writes; for keys only on this machine (pull leaves them alone, so it cannot help), storing
    them for everyone or removing them from the file they are in."""
    pulled = [s for s in report.not_in_sync if s.state in config_pull.PULLED]
    local = [s.key for s in report.not_in_sync if s.state is DriftState.ONLY_LOCAL]
    lines: list[str] = []
    if pulled:
        whom = "the others" if local else "it"
        lines.append(f"Bring {whom} in step: devsync env pull {shlex.quote(path or '.')}")
    if local:
        one = len(local) == 1
        files = sorted({report.local.origin[key] for key in local if key in report.local.origin})
        assert target.environment is not None
        where = f"--project {shlex.quote(target.project.name)} --env " + shlex.quote(
            target.environment.name
        )
        key = shlex.quote(local[0]) if one else "KEY"
        lines.append(
            f"{_names(local)} {'is' if one else 'are'} only on this machine, and pull leaves "
            f"{'it' if one else 'them'} alone: store {'it' if one else 'each'} in "
            f"{target.label}'s configuration with devsync env set {key} {where} (it asks for "
            f"the value; or devsync env import a file of "
            f"{'it' if one else 'them'}), or remove {'it' if one else 'them'} from "
            f"{', '.join(files) or 'the dotenv files'}."
        )
    return lines


def _names(keys: list[str]) -> str:
    return ", ".join(keys) if len(keys) <= 5 else ", ".join(keys[:5]) + f" and {len(keys) - 5} more"


def _show_plan(plan: config_pull.PullPlan, root: Path) -> None:
    for c in plan.changes:
        where = c.path if not c.is_file else "file"
        if c.secret:
            shown = "(secret value)"
        elif c.is_file:
            shown = f"{len(c.new.encode())} bytes"
        elif c.kind == "add":
            shown = shown_value(c.new)
        else:
            shown = f"{shown_value(c.old)} -> {shown_value(c.new)}"
        mark = "+" if c.kind == "add" else "~"
        say(f"  {mark} {c.key} ({where}): {shown}")
    for key in plan.withheld:
        say(f"  ? {key}: a secret you may not reveal; not written")
    for key, why in plan.refused:
        say(f"  ! {escaped(key)} (file): {why}")
    for key in plan.left_alone:
        say(f"  = {key}: only on this machine; left alone")


def _pull_json(
    target: Target,
    root: Path,
    plan: config_pull.PullPlan,
    written: list[str],
    *,
    dry_run: bool,
) -> dict[str, object]:
    """``env pull --json``: the plan (no secret value, no file content) and what was written."""
    return {
        "target": target.label,
        "checkout": str(root),
        "dry_run": dry_run,
        "changes": [
            {
                "key": c.key,
                "kind": c.kind,
                "path": c.path,
                "type": "file" if c.is_file else "env_var",
                "is_secret": c.secret,
                "old": None if c.secret or c.is_file else c.old,
                "new": None if c.secret or c.is_file else c.new,
            }
            for c in plan.changes
        ],
        "withheld": plan.withheld,
        "refused": [{"key": key, "reason": why} for key, why in plan.refused],
        "left_alone": plan.left_alone,
        "written": written,
    }


async def pull(args: argparse.Namespace) -> int:
    """``devsync env pull [PATH]`` (``--json``: one document, never a question)."""
    as_json = bool(args.json)
    async with open_from_args(args) as backend:
        target, root, report = await _check(backend, args, reveal_missing=True)
        plan = config_pull.plan_pull(report, args.file)
        if not plan.changes:
            await _store(backend, report)
            if as_json:
                print_json(_pull_json(target, root, plan, [], dry_run=args.dry_run))
                return _outcome(plan)
            say(f"{root} already has every value of {target.label} it can get.")
            if plan.withheld or plan.refused or plan.left_alone:
                _show_plan(plan, root)
            return _outcome(plan)
        if not as_json:
            say(f"Changes to {root} from {target.label}:")
            _show_plan(plan, root)
        # Every destination checked as the writes will check it (one place: prepare_pull), so
        # that a dry run, and the question, refuse exactly what the real run would.
        await asyncio.to_thread(config_pull.prepare_pull, root, plan)
        if args.dry_run:
            if as_json:
                print_json(_pull_json(target, root, plan, [], dry_run=True))
            else:
                say("Dry run: nothing was written.")
            return _outcome(plan)
        if not args.yes:
            if as_json or not sys.stdin.isatty():
                if as_json:
                    print_json(_pull_json(target, root, plan, [], dry_run=False))
                # As env import: the changes were shown, not made (README: exit 1).
                eprint(unconfirmed(len(plan.changes), as_json=as_json))
                return EXIT_PROBLEMS
            question = f"Write {len(plan.changes)} change(s)? [y/N] "
            if ask(escaped(question)).strip().lower() not in {"y", "yes"}:
                eprint("nothing was written.")
                return EXIT_OK
        written = await asyncio.to_thread(config_pull.apply_pull, root, plan)
        after = await config_status.check(
            backend, report.environment_id, root, links.listed_files(root, report.environment_id)
        )
        await _store(backend, after)
    if as_json:
        print_json(_pull_json(target, root, plan, written, dry_run=False))
    else:
        say(f"Wrote {len(plan.changes)} value(s) to {', '.join(written)}.")
    for name, mode in config_pull.readable_by_others(root, plan):
        # Its mode was kept (README); say what that means for the secret now in it.
        eprint(
            f"warning: {escaped(name)} now holds a secret and other users of this machine may "
            f"read it (mode {mode:04o}); `chmod 600 {shlex.quote(name)}` keeps it yours."
        )
    return _outcome(plan)


def _outcome(plan: config_pull.PullPlan) -> int:
    """1 while a synced value cannot be brought into the checkout (a secret withheld, a file
    refused), whether or not anything else was written; else 0."""
    return EXIT_PROBLEMS if plan.incomplete else EXIT_OK
