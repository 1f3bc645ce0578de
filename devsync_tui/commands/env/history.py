"""``devsync env history KEY`` and ``devsync env restore KEY --version N``: what the dashboard's
history dialog shows and does, for scripts.

- history: every version of the key in the target's own scope (an environment's override, or
  the project default with ``--project-default``), newest first, deletions included. Secret
  values are masked; ``--reveal`` shows them where the rules allow (each reveal is audited),
  and is refused (exit 3) where they do not.
- restore: writes version N's value back as a new version, as the dashboard does: it names the
  version it expects to replace (the newest it read, or ``--expected-version``); if the key
  moved on, nothing is written, theirs vs yours is printed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import Conflict
from devsync_tui.commands.common import (
    UsageError,
    eprint,
    open_from_args,
    print_json,
    run_async,
    say,
)
from devsync_tui.commands.env.edit import (
    MASK,
    conflict_json,
    not_found,
    shown_value,
    target_of,
)
from devsync_tui.core import clock
from devsync_tui.core.models import ConfigHistoryEntry
from devsync_tui.core.printable import escaped
from devsync_tui.core.wording import quoted
from devsync_tui.exit_codes import EXIT_OK, EXIT_PROBLEMS
from devsync_tui.logging_setup import register_secret
from devsync_tui.machine.targets import Target

#: How many versions ``history`` reads unless ``--limit`` says otherwise (restore reads these).
DEFAULT_LIMIT = 100


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("give a number from 1")
    return number


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    leaf: Callable[..., argparse.ArgumentParser],
) -> None:
    """Add ``devsync env history`` and ``devsync env restore``."""
    p = leaf(sub, "history", "every version of a key, newest first (secrets masked)")
    p.add_argument("key")
    p.add_argument("--reveal", action="store_true", help="show secret values where you may")
    p.add_argument(
        "--limit", type=_positive, default=DEFAULT_LIMIT, metavar="N", help="at most N versions"
    )
    p.set_defaults(func=lambda a: run_async(history(a)))

    p = leaf(sub, "restore", "write an earlier version of a key back as a new version")
    p.add_argument("key")
    p.add_argument("--version", type=_positive, required=True, metavar="N", dest="restore")
    p.add_argument(
        "--expected-version",
        type=_positive,
        metavar="M",
        help="restore only if the key is still at version M (default: the newest read)",
    )
    p.set_defaults(func=lambda a: run_async(restore(a)))


async def _entries(
    backend: Backend, target: Target, key: str, limit: int
) -> list[ConfigHistoryEntry]:
    """The key's history in the target's scope; UsageError (with a hint) when it has none."""
    env_id = target.environment.id if target.environment else None
    found = await backend.configuration_history(target.project.id, env_id, key, limit=limit)
    if found:
        return found
    own = await backend.list_configurations(target.project.id, env_id)
    defaults = (
        await backend.list_configurations(target.project.id, None) if env_id is not None else []
    )
    raise not_found(
        key,
        f"{key} has no history in {target.label}",
        [c.key for c in own],
        [c.key for c in defaults],
    )


def _shown(entry: ConfigHistoryEntry, revealed: dict[int, str]) -> str:
    if entry.op == "delete":
        return "(deleted)"
    if entry.is_secret and entry.id not in revealed:
        return f"{MASK} (secret)"
    value = revealed.get(entry.id, entry.value or "")
    if entry.type == "file":
        return f"<file, {len(value.encode())} bytes>"
    first, _, rest = value.partition("\n")
    return quoted(first) + (" …" if rest else "")


async def history(args: argparse.Namespace) -> int:
    """``devsync env history KEY``."""
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=False)
        entries = await _entries(backend, target, args.key, args.limit)
        revealed: dict[int, str] = {}
        if args.reveal:
            for entry in entries:
                if entry.is_secret and entry.op != "delete":
                    # PermissionDenied (exit 3) where the rules do not let this user see it.
                    revealed[entry.id] = await backend.reveal_history_secret(entry.id)
                    register_secret(revealed[entry.id])
    scope = "project default" if target.environment is None else "environment override"
    if args.json:
        print_json(
            {
                "target": target.label,
                "key": args.key,
                "scope": scope,
                "history": [_entry_json(e, revealed) for e in entries],
            }
        )
        return EXIT_OK
    # A project default's label already says "(project defaults)".
    where = target.label if target.environment is None else f"{target.label} ({scope})"
    say(f"History of {args.key} in {where}, newest first:")
    width = max(len(e.changed_by_username or "?") for e in entries)
    whens = [f"{e.changed_at:%Y-%m-%d %H:%M} UTC ({clock.ago(e.changed_at)})" for e in entries]
    room = max(len(w) for w in whens)
    for e, when in zip(entries, whens, strict=True):
        who = e.changed_by_username or "?"
        say(f"  v{e.version:<3} {e.op:<7} {who:<{width}}  {when:<{room}}  {_shown(e, revealed)}")
    return EXIT_OK


def _entry_json(entry: ConfigHistoryEntry, revealed: dict[int, str]) -> dict[str, object]:
    value = revealed.get(entry.id) if entry.is_secret else entry.value
    return {
        "history_id": entry.id,
        "version": entry.version,
        "op": str(entry.op),
        "type": str(entry.type),
        "is_secret": entry.is_secret,
        "value": None if entry.op == "delete" else value,
        "changed_by": entry.changed_by_username,
        "changed_at": entry.changed_at.isoformat(),
    }


def _print_conflict(
    key: str, exc: Conflict, entry: ConfigHistoryEntry, expected: int | None
) -> None:
    """The key moved on: say so, and theirs vs the version that was to be restored."""
    now = "deleted" if exc.current_version is None else f"now version {exc.current_version}"
    was = f"you expected version {expected}" if expected is not None else "you expected none"
    eprint(
        f"{key} changed since you read it ({now}; {was}); version {entry.version} was not restored."
    )
    current = exc.current
    if current is None:
        theirs = "(deleted)" if exc.current_version is None else "(not readable)"
    else:
        theirs = "(secret value, not shown)" if current.is_secret else shown_value(current.value)
    print(f"  theirs: {escaped(theirs)}", file=sys.stderr)
    yours = "(secret value, not shown)" if entry.is_secret else shown_value(entry.value)
    print(f"  yours:  {escaped(yours)} (version {entry.version})", file=sys.stderr)


async def restore(args: argparse.Namespace) -> int:
    """``devsync env restore KEY --version N``."""
    async with open_from_args(args) as backend:
        target = await target_of(backend, args, write=True)
        entries = await _entries(backend, target, args.key, DEFAULT_LIMIT)
        # The newest value with that number (a deletion keeps the number of the version it
        # deleted; a key deleted and made again counts from 1 anew).
        entry = next((e for e in entries if e.version == args.restore and e.op != "delete"), None)
        if entry is None:
            versions = ", ".join(
                str(v) for v in sorted({e.version for e in entries if e.op != "delete"})
            )
            raise UsageError(
                f"{args.key} has no version {args.restore} in {target.label} "
                f"(versions: {versions or 'none'})."
            )
        newest = entries[0]
        current = None if newest.op == "delete" else newest.version
        expected = args.expected_version if args.expected_version is not None else current
        try:
            saved = await backend.restore_configuration(entry.id, expected)
        except Conflict as exc:
            _print_conflict(args.key, exc, entry, expected)
            if args.json:
                print_json(
                    {**conflict_json(args.key, target, exc, expected), "version": entry.version}
                )
            return EXIT_PROBLEMS
    if args.json:
        print_json(
            {
                "key": args.key,
                "target": target.label,
                "restored_version": entry.version,
                "version": saved.version,
            }
        )
    else:
        say(
            f"Restored version {entry.version} of {args.key} in {target.label} "
            f"(now version {saved.version})."
        )
    return EXIT_OK
