"""What every pane needs to know: who is signed in with what settings (Session) and what is
selected (Selection).

The permission questions the panes ask are answered here from ``core.permissions`` so that each
rule is mirrored in one place; the database stays the authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.core import permissions
from devsync_tui.core.models import Environment, Identity, Project, Role, Team
from devsync_tui.settings import Settings


@dataclass(frozen=True, slots=True)
class Session:
    """The connected backend, the signed-in user's identity and roles, and the settings."""

    backend: Backend
    identity: Identity
    roles: dict[UUID, Role] = field(default_factory=dict)
    settings: Settings = field(kw_only=True)
    #: The cached last view (``dashboard.last_view``), or an opening read ahead, shown before
    #: DevSync is connected, or instead of it (``--offline``, or connecting failed).
    cached: bool = field(default=False, kw_only=True)
    #: Shown while DevSync connects: the user's role is offered as it will be once live, and
    #: what they start waits for the connection (``backend.cached.CachedBackend``), so that
    #: the keys the first frame offers work and stay. False: ``--offline``, or connecting
    #: failed: the cached view is read-only.
    connecting: bool = field(default=False, kw_only=True)

    @property
    def read_only(self) -> bool:
        """A read-only dashboard (``--read-only``), or a cached view that is not connecting:
        nothing is written or revealed."""
        return self.settings.read_only or self.cached_read_only

    @property
    def cached_read_only(self) -> bool:
        """Read-only because the view is cached (not because of ``--read-only``)."""
        return self.cached and not self.connecting

    def member_role(self, team_id: UUID | None) -> Role | None:
        """The user's role in the team as the database has it (None: not a member)."""
        return self.roles.get(team_id) if team_id is not None else None

    def role_in(self, team_id: UUID | None) -> Role | None:
        """The role the dashboard acts with in the team (None: not a member, or no team): the
        member's own, or, read-only, a viewer's, who writes and reveals nothing (what it may
        read does not depend on it: ``member_role``)."""
        role = self.member_role(team_id)
        if role is not None and self.read_only:
            return Role.VIEWER
        return role


@dataclass(frozen=True, slots=True)
class Selection:
    """The node chosen in the tree: a team, a project of it, maybe one of its environments.

    ``environments`` are the project's environments (for the drift and health panes and for
    the permission questions that depend on owning one)."""

    team: Team
    project: Project | None = None
    environment: Environment | None = None
    environments: tuple[Environment, ...] = ()
    #: Username of the selected environment's owner, when known.
    owner: str | None = None

    @property
    def title(self) -> str:
        parts = [self.team.name]
        if self.project is not None:
            parts.append(self.project.name)
        if self.environment is not None:
            owner = f" ({self.owner})" if self.owner else ""
            parts.append(self.environment.name + owner)
        return " ▸ ".join(parts)


@dataclass(frozen=True, slots=True)
class Access:
    """Answers, for one user and one selection, the questions the UI asks before offering an
    action. Built from ``core.permissions``."""

    role: Role | None
    user_id: UUID
    environment: Environment | None
    environments: Sequence[Environment]
    read_only: bool = False
    cached: bool = False

    @classmethod
    def of(cls, session: Session, selection: Selection) -> Access:
        return cls(
            role=session.role_in(selection.team.id),
            user_id=session.identity.user_id,
            environment=selection.environment,
            environments=selection.environments,
            read_only=session.read_only,
            cached=session.cached_read_only,
        )

    def _owns(self, environment_id: UUID | None) -> bool:
        return any(e.id == environment_id and e.user_id == self.user_id for e in self.environments)

    @property
    def owns_env_in_project(self) -> bool:
        return any(e.user_id == self.user_id for e in self.environments)

    def can_edit_config(
        self, environment_id: UUID | None, key: str | None = None, key_type: str = "env_var"
    ) -> bool:
        """May create/change/delete a key in this scope (None = project default); with ``key``,
        that key (an execution-control variable such as PATH: admins only)."""
        return permissions.can_edit_configuration(
            self.role,
            scope_is_default=environment_id is None,
            env_owner=self._owns(environment_id),
            key=key,
            key_type=key_type,
        )

    def can_reveal(self, environment_id: UUID | None) -> bool:
        """May reveal a secret stored in this scope."""
        return permissions.can_reveal(
            self.role,
            env_owner=self._owns(environment_id),
            scope_is_default=environment_id is None,
            owns_env_in_project=self.owns_env_in_project,
        )

    def reveal_reason(self, environment_id: UUID | None) -> str:
        """One line saying why this user may not reveal a secret of this scope."""
        if self.cached:
            return "This view is not live yet: nothing is revealed until DevSync is connected."
        if self.read_only:
            return "This dashboard is read-only: it reveals nothing."
        if self.role is None:
            return "You are not a member of this team."
        if self.role is Role.VIEWER:
            return "Viewers never see secret values."
        if environment_id is None:
            return "Only admins and members with an environment in this project see defaults."
        return "Only admins and this environment's owner see its secrets."
