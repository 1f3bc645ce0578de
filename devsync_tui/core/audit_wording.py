"""Audit entries in words: who did it and what, one line each (the dashboard's Activity tab and
``devsync audit`` say the same). An entry's ``details`` never hold a value."""

from __future__ import annotations

from collections.abc import Mapping

from devsync_tui.core.models import AuditEntry

_ACTIONS = {
    "config.create": "created",
    "config.update": "changed",
    "config.delete": "deleted",
    "secret.reveal": "revealed",
    "member.add": "added member",
    "member.role": "changed role of",
    "member.remove": "removed member",
    "team.create": "created team",
    "token.create": "created machine token",
    "token.revoke": "revoked machine token",
    "token.use": "machine token used:",
    "risk.accept": "accepted risk",
    "risk.withdraw": "withdrew accepted risk",
    "environment.owner": "gave",
}


def who(entry: AuditEntry) -> str:
    """Who did it: a user, or the machine whose token it was (its uses and reveals)."""
    if entry.actor_username:
        return entry.actor_username
    token = entry.details.get("token")
    return f"machine {token}" if isinstance(token, str) and token else "?"


def describe(entry: AuditEntry, names: Mapping[str, str] | None = None) -> str:
    """One line for an audit entry (``details`` never holds a value). ``names`` maps ids (as
    text) to user, team, project and environment names."""
    names = names or {}
    d = entry.details
    verb = _ACTIONS.get(entry.action, entry.action)
    target = entry.target_id or ""
    what = (
        d.get("key")
        or d.get("name")
        or d.get("token")
        or d.get("advisory_id")  # an accepted risk: its row's id would mean nothing to anyone
        or names.get(target)
        or target
    )
    if entry.action == "member.role" and d.get("to"):
        return f"{verb} {what}: {d.get('from')} → {d['to']}"
    if entry.action == "environment.owner" and d.get("to"):
        to = str(d["to"])
        return f"{verb} {what} to {names.get(to, to)}"
    if entry.action == "risk.accept" and d.get("until"):
        return f"{verb} {what} until {d['until']}"
    version = d.get("version")
    extra = d.get("role")
    text = f"{verb} {what}"
    if version and entry.action.startswith("config."):
        text += f" (v{version})"
    return text + (f" as {extra}" if extra else "")
