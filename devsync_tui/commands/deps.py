"""``devsync deps ignore|ignored|unignore``: the project's accepted risks.

- ignore ID --until DATE --reason TEXT (admins and members; viewers are refused): until that
  day (included) a version whose every known advisory is accepted shows as ignored, with the
  reason and the date, not as vulnerable; ignoring it again replaces the date and reason.
- ignored: the list, expired entries marked (an expired entry counts no more).
- unignore ID: withdraw it (``--json``: ``{"advisory_id", "project", "withdrawn": true}``).

The project is ``--project``, else that of ``--env``, else the linked environment's.

The advisory id is OSV's or any alias of it (a CVE or GHSA id). Both changes are audited.
"""

from __future__ import annotations

import argparse
import re
from datetime import date

from devsync_tui.commands.common import (
    UsageError,
    add_target_flags,
    eprint,
    open_from_args,
    print_json,
    resolve_target,
    run_async,
    say,
)
from devsync_tui.core import clock
from devsync_tui.core.models import AcceptedRisk, PackageFacts
from devsync_tui.core.names import closest

#: What the database accepts as an advisory id (docs/DATABASE.md accepted_risks).
ADVISORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


#: ``--env`` here: accepted risks are the project's, so an environment names its project.
_ENV_HELP = "an environment of the project, naming its project (default: the linked one's)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``devsync deps`` and its actions."""
    deps = subparsers.add_parser(
        "deps",
        help="accepted risks: ignore an advisory until a date, list, unignore",
        description=__doc__.split("\n\n")[0].replace("``", ""),
    )
    sub = deps.add_subparsers(dest="deps_action", metavar="ACTION", required=True)

    p = sub.add_parser("ignore", help="accept an advisory for the project until a date")
    add_target_flags(p, env_help=_ENV_HELP)
    p.add_argument("advisory", metavar="ID", help="the advisory's id (GHSA-…, CVE-…, PYSEC-…)")
    p.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="the last day it counts")
    p.add_argument("--reason", required=True, help="why the risk is accepted (one line)")
    p.set_defaults(func=lambda a: run_async(ignore(a)))

    p = sub.add_parser("ignored", help="the project's accepted risks")
    add_target_flags(p, env_help=_ENV_HELP)
    p.set_defaults(func=lambda a: run_async(ignored(a)))

    p = sub.add_parser("unignore", help="withdraw an accepted risk")
    add_target_flags(p, env_help=_ENV_HELP)
    p.add_argument("advisory", metavar="ID", help="the advisory's id")
    p.set_defaults(func=lambda a: run_async(unignore(a)))


def _advisory(text: str) -> str:
    if not ADVISORY_ID.match(text):
        raise UsageError(
            "An advisory id is letters, digits and . _ : - (at most 100), e.g. GHSA-35jh-r3h4-6jhm."
        )
    return text


def _until(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--until takes a date as YYYY-MM-DD, not {text!r}.") from None
    if day <= clock.now().date():
        raise UsageError("--until must be a day in the future.")
    return day


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason or len(reason) > 1000 or any(ord(c) < 32 or ord(c) == 127 for c in reason):
        raise UsageError("--reason takes 1 to 1,000 characters on one line.")
    return reason


def _json(risk: AcceptedRisk, today: date) -> dict[str, object]:
    return {
        "advisory_id": risk.advisory_id,
        "until": risk.until.isoformat(),
        "reason": risk.reason,
        "expired": not risk.active(today),
        "created_at": risk.created_at.isoformat(),
    }


async def ignore(args: argparse.Namespace) -> int:
    """``devsync deps ignore ID --until DATE --reason TEXT``."""
    advisory, until, reason = _advisory(args.advisory), _until(args.until), _reason(args.reason)
    async with open_from_args(args) as backend:
        target = await resolve_target(backend, args, require_environment=False)
        risk = await backend.ignore_advisory(target.project.id, advisory, until, reason)
        facts = await backend.package_facts(target.project.id)
    if args.json:
        print_json(_json(risk, clock.now().date()))
    else:
        eprint(
            f"{risk.advisory_id} is accepted for {target.project.name} until "
            f"{risk.until.isoformat()}: shown as ignored, not vulnerable, until then."
        )
    warning = unknown_advisory(risk.advisory_id, target.project.name, facts)
    if warning is not None:
        eprint(f"warning: {warning}")
    return 0


def unknown_advisory(advisory_id: str, project: str, facts: PackageFacts) -> str | None:
    """What to say when no advisory stored for the project's packages has ``advisory_id`` as
    its id or an alias (a typo, or one no scan has met yet): it is accepted all the same, so
    that a risk can be accepted before a scan fetches the advisory; None when one has."""
    known = {name for a in facts.advisories for name in (a.advisory.id, *a.advisory.aliases)}
    if advisory_id in known:
        return None
    # Ids share their shape (GHSA-…, CVE-2021-…): only a near miss is a likely typo.
    near = closest(advisory_id, known, cutoff=0.8)
    hint = f"; did you mean {' or '.join(near)}?" if near else "."
    return (
        f"no advisory {advisory_id} is stored for {project}'s packages yet; the acceptance "
        f"applies once a scan finds it{hint}"
    )


async def ignored(args: argparse.Namespace) -> int:
    """``devsync deps ignored``."""
    async with open_from_args(args) as backend:
        target = await resolve_target(backend, args, require_environment=False)
        risks = await backend.accepted_risks(target.project.id)
    today = clock.now().date()
    if args.json:
        print_json([_json(r, today) for r in risks])
        return 0
    if not risks:
        say(f"No accepted risks for {target.project.name}.")
        return 0
    width = max(len(r.advisory_id) for r in risks)
    for risk in risks:
        state = "expired" if not risk.active(today) else "until"
        say(f"{risk.advisory_id:<{width}}  {state} {risk.until.isoformat()}  {risk.reason}")
    return 0


async def unignore(args: argparse.Namespace) -> int:
    """``devsync deps unignore ID``."""
    advisory = _advisory(args.advisory)
    async with open_from_args(args) as backend:
        target = await resolve_target(backend, args, require_environment=False)
        await backend.unignore_advisory(target.project.id, advisory)
    if args.json:
        print_json({"advisory_id": advisory, "project": target.project.name, "withdrawn": True})
    else:
        eprint(f"{advisory} is no longer accepted for {target.project.name}: it counts again.")
    return 0
