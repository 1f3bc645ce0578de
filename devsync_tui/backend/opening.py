"""The dashboard's opening view in one round trip (``public.open_workspace``, docs/DATABASE.md).

``opening_from_document`` turns the RPC's document into the answers of the reads the dashboard
opens with, each under its call key (``backend.call_keys.call_key``): who I
am, my roles, the teams, projects, environments and members, the configuration rows of the
candidate scopes and the templates of those environments. ``Primed`` hands each answer out
once, to ``answer_now`` (the first frame); every later read goes to the database as before.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

from devsync_tui.backend import rows, rules
from devsync_tui.backend.call_keys import CallKey, call_key
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core.models import (
    EffectiveConfigRow,
    Environment,
    EnvTemplate,
    Identity,
    Project,
    Role,
    Team,
)

T = TypeVar("T")
#: What ``answer_now``'s read is handed (the Backend contract: ``Primed[Backend]``).
B = TypeVar("B")


@dataclass(frozen=True, slots=True)
class Opening:
    """Who I am, my roles, and the answers of the opening reads by call key."""

    identity: Identity
    roles: dict[UUID, Role]
    answers: dict[CallKey, object]
    #: The document it was made from (what a cached view keeps, ``core.view_cache``).
    document: Mapping[str, Any] = field(default_factory=dict)


def places_from_document(
    doc: Mapping[str, Any],
) -> tuple[list[Team], list[Project], dict[UUID, list[Environment]]]:
    """The teams, projects and each project's environments in ``open_workspace``'s
    document, in the tree's order (by name)."""
    teams = rules.by_name(rows.team_from_row(r) for r in doc.get("teams") or ())
    projects = rules.by_name(rows.project_from_row(r) for r in doc.get("projects") or ())
    environments: dict[UUID, list[Environment]] = {}
    for row in doc.get("environments") or ():
        found = rows.environment_from_row(row)
        environments.setdefault(found.project_id, []).append(found)
    return teams, projects, {key: rules.by_name(envs) for key, envs in environments.items()}


def opening_from_document(doc: Mapping[str, Any], email: str | None = None) -> Opening:
    """The opening from ``open_workspace``'s document (``email``: the session's, if known)."""
    me = doc.get("me")
    if not isinstance(me, Mapping):
        raise DevSyncError("Your profile could not be read.")
    identity = Identity(user_id=rows.as_uuid(me["id"]), username=str(me["username"]), email=email)
    roles = {rows.as_uuid(r["team_id"]): Role(r["role"]) for r in doc.get("roles") or ()}
    teams, projects, environments = places_from_document(doc)
    members = [rows.member_from_row(r) for r in doc.get("members") or ()]
    answers: dict[CallKey, object] = {
        call_key("whoami", (), {}): identity,
        call_key("my_roles", (), {}): roles,
        call_key("list_teams", (), {}): teams,
        call_key("list_projects", (), {}): projects,
    }
    for project in projects:
        mine = environments.get(project.id, [])
        answers[call_key("list_environments", (project.id,), {})] = mine
    for team in teams:
        found = [m for m in members if m.team_id == team.id]
        answers[call_key("list_members", (team.id,), {})] = rules.by_username(found)
    templates = {t.id: t for t in map(rows.template_from_row, doc.get("templates") or ())}
    by_id = {e.id: e for envs in environments.values() for e in envs}
    for view in doc.get("views") or ():
        found_rows = rules.by_key(rows.effective_from_row(r) for r in view.get("rows") or ())
        environment_id = view.get("environment_id")
        if environment_id is None:
            key = call_key("project_configuration", (rows.as_uuid(view["project_id"]),), {})
        else:
            opened = rows.as_uuid(environment_id)
            key = call_key("effective_configuration", (opened,), {})
            template_id = by_id[opened].template_id if opened in by_id else None
            if template_id is not None:  # its required keys (None: not visible to me)
                answers[call_key("template", (template_id,), {})] = templates.get(template_id)
        answers[key] = found_rows
    return Opening(identity, roles, answers, doc)


def row_document(row: EffectiveConfigRow) -> dict[str, Any]:
    """A configuration row in ``open_workspace``'s shape (what ``rows.effective_from_row``
    reads back); a secret's value is never in it."""
    return {
        "configuration_id": str(row.configuration_id),
        "project_id": str(row.project_id),
        "environment_id": None if row.environment_id is None else str(row.environment_id),
        "key": row.key,
        "value": None if row.is_secret else row.value,
        "is_secret": row.is_secret,
        "type": row.type.value,
        "version": row.version,
        "source": row.source,
        "updated_at": None if row.updated_at is None else row.updated_at.isoformat(),
        "updated_by": row.updated_by,
        "overrides_id": None if row.overrides_id is None else str(row.overrides_id),
    }


def view_document(
    document: Mapping[str, Any],
    project_id: UUID,
    environment_id: UUID | None,
    rows: Sequence[EffectiveConfigRow],
    template: EnvTemplate | None = None,
) -> dict[str, Any]:
    """``document`` (an ``open_workspace`` answer) opened on one scope: its tree, with
    ``rows`` as the only view and ``template`` (the environment's, if any) as the only one."""
    view = {
        "project_id": str(project_id),
        "environment_id": None if environment_id is None else str(environment_id),
        "rows": [row_document(r) for r in rows],
    }
    templates = []
    if template is not None:
        templates.append(
            {
                "id": str(template.id),
                "project_id": str(template.project_id),
                "name": template.name,
                "config_json": dict(template.config_json),
                "is_public": template.is_public,
            }
        )
    return {**document, "views": [view], "templates": templates}


class Primed(Generic[B]):
    """Answers the opening's reads, each once; anything else is not answered here."""

    def __init__(self, answers: Mapping[CallKey, object]) -> None:
        self._answers: dict[CallKey, object] = dict(answers)

    def answer_now(self, read: Callable[[B], Coroutine[Any, Any, T]]) -> T | None:
        """``read`` run to its end right away when the opening answers every call it makes
        (those answers are then used up); None otherwise."""
        if not self._answers:
            return None
        used: list[CallKey] = []
        coroutine = read(cast(B, _Answers(self._answers, used)))
        try:
            coroutine.send(None)
        except StopIteration as done:
            for key in used:
                self._answers.pop(key, None)
            result: T = done.value
            return result
        except DevSyncError:
            return None
        coroutine.close()  # it wanted a read the opening lacks: nothing was started
        return None


class _Miss:
    """Awaited for a read the opening lacks: suspends the coroutine (``answer_now`` drops it)."""

    def __await__(self) -> Any:
        yield None


class _Answers:
    def __init__(self, answers: dict[CallKey, object], used: list[CallKey]) -> None:
        self._answers = answers
        self._used = used

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        async def call(*args: object, **kwargs: object) -> object:
            key = call_key(name, args, kwargs)
            if key not in self._answers:
                await _Miss()
                raise AssertionError("unreachable: answer_now closes a suspended read")
            self._used.append(key)
            answer = self._answers[key]
            return list(answer) if isinstance(answer, list) else answer

        return call
