"""``devsync env export|import|diff``: configuration in and out of files, and side by side.

- export: the effective configuration as dotenv/json/shell/docker (``core.dotenv``); secrets
  the user may not reveal are left out with a warning on stderr, never written masked; file
  configurations are not variables and are left out (``devsync run`` writes them). ``--output``
  writes atomically with mode 0600.
- import: a .env file into the environment or the project defaults. The whole file is parsed
  and checked before anything is written; the diff is shown first (secret values never); each
  key is then saved with the version that was read, so a key someone changed meanwhile is not
  overwritten: theirs vs yours is shown and the exit code is 1. Keys absent from the file are
  kept (import merges, it never deletes).
- diff: keys missing or different between two environments; secrets compared by value where
  both may be revealed, else reported as "cannot compare"; exit 1 when anything differs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devsync_tui.commands.common import (
    Target,
    UsageError,
    eprint,
    find_environment,
    open_from_args,
    print_json,
    run_async,
)
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS

if TYPE_CHECKING:
    from devsync_tui.backend.base import Backend

FORMATS = ("dotenv", "json", "shell", "docker")
Leaf = Callable[..., argparse.ArgumentParser]


def register_actions(sub: Any, leaf: Leaf) -> None:
    """Add export, import and diff to ``devsync env``."""
    p = leaf(sub, "export", "the effective configuration as a dotenv/json/shell/docker file")
    p.add_argument("--format", choices=FORMATS, default="dotenv")
    p.add_argument("--output", "-o", metavar="FILE", help="write here (0600) instead of stdout")
    p.set_defaults(func=lambda a: run_async(_export(a)))

    p = leaf(sub, "import", "set the keys of a .env file, showing the diff first")
    p.add_argument("file", metavar="FILE", help="a .env file ('-': stdin)")
    p.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    p.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="KEY",
        help="store this new key as a secret (repeatable)",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before writing")
    p.set_defaults(func=lambda a: run_async(_import(a)))

    p = leaf(sub, "diff", "keys missing or different between two environments", scope=False)
    p.add_argument("env_a", metavar="ENV_A")
    p.add_argument("env_b", metavar="ENV_B")
    p.set_defaults(func=lambda a: run_async(_diff(a)))


# -- export -----------------------------------------------------------------------------------
async def _export(args: argparse.Namespace) -> int:
    from devsync_tui.commands.env import target_of
    from devsync_tui.core import dotenv
    from devsync_tui.machine.values import gather, write_private

    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        effective = await gather(backend, target)
    variables = {
        key: value
        for key, value in sorted(effective.values.items())
        if effective.rows[key].type == "env_var"
    }
    files = sorted(k for k, r in effective.rows.items() if r.type == "file")
    if effective.withheld:
        eprint("warning: left out secrets you may not reveal: " + ", ".join(effective.withheld))
    if files:
        eprint(
            f"note: {len(files)} file configuration(s) are not variables and were left out "
            "(devsync run writes them)."
        )
    try:
        render = {
            "dotenv": dotenv.render_dotenv,
            "json": dotenv.render_json,
            "shell": dotenv.render_shell,
            "docker": dotenv.render_docker,
        }[args.format]
        text = render(variables)
    except dotenv.DotenvError as exc:
        raise UsageError(f"{exc}.") from None
    if args.format == "dotenv" and dotenv.docker_incompatible(variables):
        eprint(
            "note: quoted values make this file unfit for docker --env-file ("
            + ", ".join(dotenv.docker_incompatible(variables))
            + "); use --format docker."
        )
    if args.output:
        write_private(Path(args.output), text)
        eprint(f"wrote {len(variables)} variable(s) of {target.label} to {args.output}.")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return EXIT_OK


# -- import -----------------------------------------------------------------------------------
#: The largest .env file read (far above any real one; values are 1 MiB each at most).
MAX_IMPORT_BYTES = 16 * 1024 * 1024


def _read_import(path: str) -> dict[str, str]:
    from devsync_tui.core import dotenv
    from devsync_tui.machine.values import guess_type, problem_with, read_bounded

    raw = read_bounded(path, MAX_IMPORT_BYTES, "a .env file may hold 16 MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text.") from None
    try:
        entries = dotenv.parse(text, source=path)
    except dotenv.DotenvError as exc:
        raise UsageError(f"{exc}.") from None
    values: dict[str, str] = {}
    for entry in entries:
        if entry.value is None:
            eprint(f"warning: {path}, line {entry.line}: {entry.key} has no value; skipped.")
            continue
        problem = problem_with(entry.key, entry.value, guess_type(entry.key))
        if problem is None and guess_type(entry.key) != "env_var":
            problem = f"{entry.key!r} is not a variable name"
        if problem:
            raise UsageError(f"{path}, line {entry.line}: {problem}; nothing was written.")
        if entry.key in values:
            eprint(f"warning: {path}, line {entry.line}: {entry.key} repeated; the last wins.")
        values[entry.key] = entry.value
    return values


async def _import(args: argparse.Namespace) -> int:
    from devsync_tui.backend.errors import Conflict, DevSyncError, PermissionDenied, Unavailable
    from devsync_tui.commands.env import (
        confirm_or_explain,
        print_conflict,
        secret_defaults,
        target_of,
    )
    from devsync_tui.core.models import ConfigType

    incoming = _read_import(args.file)
    unknown_secret = sorted(set(args.secret) - set(incoming))
    if unknown_secret:
        raise UsageError("--secret names keys not in the file: " + ", ".join(unknown_secret) + ".")
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        env_id = target.environment.id if target.environment else None
        current = {c.key: c for c in await backend.list_configurations(target.project.id, env_id)}
        # A new override of a secret project default is a secret too.
        inherited = await secret_defaults(backend, target.project.id) if env_id else set()
        secret_keys = set(args.secret) | {k for k in inherited if k not in current}
        secret_keys |= {k for k, c in current.items() if c.is_secret}
        changes: list[tuple[str, str]] = []  # (key, "add" | "change")
        for key, value in incoming.items():
            row = current.get(key)
            if row is None:
                changes.append((key, "add"))
                continue
            if row.is_secret:
                try:
                    same = await backend.reveal_secret(row.id) == value
                except PermissionDenied:
                    same = False  # cannot compare: write it (the database checks the right)
            else:
                same = row.value == value and key not in args.secret
            if not same:
                changes.append((key, "change"))
        _show_import_diff(target, changes, incoming, current, secret_keys, args)
        if not changes or args.dry_run:
            return EXIT_OK
        if sys.stdin.isatty() and args.file != "-" and not args.yes:
            question = f"Write {len(changes)} change(s) to {target.label}? [y/N] "
            answer = await asyncio.to_thread(input, question)
            if answer.strip().lower() not in {"y", "yes"}:
                eprint("nothing was written.")
                return EXIT_OK
        conflicts = 0
        written_keys: list[str] = []
        for key, _kind in changes:
            row = current.get(key)
            secret = key in secret_keys
            try:
                await backend.save_configuration(
                    target.project.id,
                    env_id,
                    key,
                    incoming[key],
                    is_secret=secret,
                    type=row.type if row is not None else ConfigType.ENV_VAR,
                    expected_version=row.version if row is not None else None,
                )
            except Conflict as exc:
                conflicts += 1
                print_conflict(
                    key,
                    exc,
                    yours=incoming[key],
                    yours_secret=secret,
                    edited=row.version if row is not None else None,
                )
                continue
            except Unavailable:
                expected = row.version if row is not None else None
                try:
                    await confirm_or_explain(backend, target, key, incoming[key], expected)
                except Unavailable as exc:
                    raise Unavailable(
                        f"{exc} Stopped there; written before it: "
                        + (", ".join(written_keys) or "none")
                        + "."
                    ) from None
            except DevSyncError as exc:
                # Refused part-way (e.g. the right to write was taken meanwhile): say what is
                # already written, so that a half-applied import is never silent.
                if not written_keys:
                    raise
                raise type(exc)(
                    f"{exc} Stopped at {key}; written before it: {', '.join(written_keys)}."
                ) from None
            written_keys.append(key)
    written = len(changes) - conflicts
    summary = f"Imported {written} change(s) into {target.label}" + (
        f"; {conflicts} conflict(s) left untouched." if conflicts else "."
    )
    if args.json:
        eprint(summary)  # stdout holds the JSON document
    else:
        print(summary)
    return EXIT_PROBLEMS if conflicts else EXIT_OK


def _show_import_diff(
    target: Target,
    changes: list[tuple[str, str]],
    incoming: dict[str, str],
    current: dict[str, Any],
    secret_keys: set[str],
    args: argparse.Namespace,
) -> None:
    if args.json:
        print_json(
            {
                "target": target.label,
                "dry_run": args.dry_run,
                "changes": [{"key": k, "change": c} for k, c in changes],
            }
        )
        return
    if not changes:
        print(f"{target.label} already has every value of {args.file}.")
        return
    print(f"Changes to {target.label}:")
    for key, change in changes:
        row = current.get(key)
        secret = key in secret_keys
        if change == "add":
            shown = "(secret)" if secret else repr(incoming[key])
            print(f"  + {key} = {shown}")
        elif secret:
            print(f"  ~ {key} (secret value changes)")
        else:
            print(f"  ~ {key}: {row.value if row else None!r} -> {incoming[key]!r}")
    if args.dry_run:
        print("Dry run: nothing was written.")


# -- diff -------------------------------------------------------------------------------------
async def _diff(args: argparse.Namespace) -> int:
    from devsync_tui.commands.common import find_project
    from devsync_tui.commands.env import safe

    async with open_from_args(args) as backend:
        project = await find_project(backend, args.project) if args.project else None
        sides = []
        for ref in (args.env_a, args.env_b):
            proj, env = await find_environment(backend, ref, project)
            sides.append(Target(proj, env))
        report = await _compare(backend, sides[0], sides[1])
    a, b = sides[0].label, sides[1].label
    if args.json:
        print_json({"a": a, "b": b, **report})
    else:
        for key in report["only_a"]:
            print(f"- {safe(key)}: only in {a}")
        for key in report["only_b"]:
            print(f"+ {safe(key)}: only in {b}")
        for item in report["different"]:
            if item["secret"]:
                print(f"~ {safe(item['key'])}: secret values differ")
            else:
                print(f"~ {safe(item['key'])}: {item['a']!r} ({a}) vs {item['b']!r} ({b})")
        for key in report["cannot_compare"]:
            print(f"? {safe(key)}: secret; cannot compare (you may not reveal it on both sides)")
        if not any(report[k] for k in ("only_a", "only_b", "different", "cannot_compare")):
            print(f"{a} and {b} have the same configuration.")
    differs = any(report[k] for k in ("only_a", "only_b", "different"))
    return EXIT_PROBLEMS if differs else EXIT_OK


async def _compare(backend: Backend, a: Target, b: Target) -> dict[str, Any]:
    from devsync_tui.backend.errors import PermissionDenied

    assert a.environment is not None
    assert b.environment is not None
    rows_a = {r.key: r for r in await backend.effective_configuration(a.environment.id)}
    rows_b = {r.key: r for r in await backend.effective_configuration(b.environment.id)}
    different: list[dict[str, Any]] = []
    cannot: list[str] = []
    for key in sorted(rows_a.keys() & rows_b.keys()):
        ra, rb = rows_a[key], rows_b[key]
        if ra.is_secret or rb.is_secret:
            if ra.configuration_id == rb.configuration_id:
                continue  # both inherit the same project default
            try:
                va = await backend.reveal_secret(ra.configuration_id) if ra.is_secret else ra.value
                vb = await backend.reveal_secret(rb.configuration_id) if rb.is_secret else rb.value
            except PermissionDenied:
                cannot.append(key)
                continue
            if va != vb or ra.type != rb.type:
                different.append({"key": key, "secret": True})
        elif ra.value != rb.value or ra.type != rb.type:
            different.append({"key": key, "secret": False, "a": ra.value, "b": rb.value})
    return {
        "only_a": sorted(rows_a.keys() - rows_b.keys()),
        "only_b": sorted(rows_b.keys() - rows_a.keys()),
        "different": different,
        "cannot_compare": cannot,
    }
