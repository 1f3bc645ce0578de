"""Typed domain models: one frozen dataclass per table of the schema plan, plus the rows the
views need (effective configuration, history, audit) and the inputs of the report RPCs.

Column names are the schema plan's. A secret configuration's ``value`` is always ``None`` here:
secret values travel only through ``Backend.reveal_secret``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class EnvStatus(StrEnum):
    ACTIVE = "active"
    OFFLINE = "offline"
    SYNCING = "syncing"
    ERROR = "error"


class ConfigType(StrEnum):
    ENV_VAR = "env_var"
    FILE = "file"


class PackageManager(StrEnum):
    NPM = "npm"
    PIP = "pip"
    GEM = "gem"
    CARGO = "cargo"


class PackageKind(StrEnum):
    """Where a locked package comes from. Only ``registry`` packages have a version the
    ecosystem's registry and advisory databases know; the others are reported as such."""

    REGISTRY = "registry"  # from the ecosystem's registry (or a mirror of it)
    WORKSPACE = "workspace"  # the project's own package (a workspace member)
    PATH = "path"  # a local folder or file (file:, link:, portal:, a path dependency)
    EDITABLE = "editable"  # installed in development mode (pip -e, uv/poetry editable)
    GIT = "git"  # a git (or other VCS) checkout
    URL = "url"  # a tarball or archive downloaded from a URL


class DependencyStatus(StrEnum):
    HEALTHY = "healthy"
    OUTDATED = "outdated"
    VULNERABLE = "vulnerable"


class MetricType(StrEnum):
    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    PING = "ping"


ConfigSource = Literal["default", "override"]
HistoryOp = Literal["insert", "update", "delete"]


@dataclass(frozen=True, slots=True)
class Profile:
    id: UUID
    username: str
    full_name: str | None = None
    avatar_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Team:
    id: UUID
    name: str
    slug: str
    owner_id: UUID
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TeamMember:
    team_id: UUID
    user_id: UUID
    role: Role
    joined_at: datetime | None = None
    #: Joined from profiles for display; None when the reader did not join it.
    username: str | None = None
    full_name: str | None = None


@dataclass(frozen=True, slots=True)
class Project:
    id: UUID
    team_id: UUID
    name: str
    description: str | None = None
    repository_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EnvTemplate:
    id: UUID
    project_id: UUID
    name: str
    config_json: dict[str, Any] = field(default_factory=dict)
    dependencies_json: list[Any] = field(default_factory=list)
    is_public: bool = False
    created_by: UUID | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    id: UUID
    project_id: UUID
    user_id: UUID
    name: str
    status: EnvStatus = EnvStatus.OFFLINE
    template_id: UUID | None = None
    last_sync_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Configuration:
    id: UUID
    project_id: UUID
    environment_id: UUID | None
    key: str
    value: str | None  # None for every secret (and never the masked text)
    is_secret: bool
    type: ConfigType
    version: int
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EffectiveConfigRow:
    """One key of an environment's effective configuration: the override if the environment
    has one, else the project default. ``source`` says which."""

    configuration_id: UUID
    project_id: UUID
    environment_id: UUID | None  # where the value lives: None = project default
    key: str
    value: str | None  # None for secrets
    is_secret: bool
    type: ConfigType
    version: int
    source: ConfigSource
    updated_at: datetime | None = None
    updated_by: str | None = None  # username of the last writer, from history
    #: For an override: the id of the project default it shadows (if any).
    overrides_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class ConfigHistoryEntry:
    id: int
    configuration_id: UUID
    project_id: UUID
    environment_id: UUID | None
    key: str
    type: ConfigType
    is_secret: bool
    version: int
    value: str | None  # None for secrets (reveal via Backend.reveal_history_secret)
    op: HistoryOp
    changed_by: UUID | None
    changed_by_username: str | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Dependency:
    id: UUID
    project_id: UUID
    environment_id: UUID | None  # None = the project baseline
    package_manager: PackageManager
    package_name: str
    version_constraint: str | None
    resolved_version: str | None
    status: DependencyStatus
    updated_at: datetime | None = None
    #: Where it comes from: only ``registry`` rows have advisories and releases.
    kind: PackageKind = PackageKind.REGISTRY


@dataclass(frozen=True, slots=True)
class DependencyInput:
    """One package as a machine reports it (``report_dependencies``)."""

    package_manager: PackageManager
    package_name: str
    version_constraint: str | None
    resolved_version: str | None
    status: DependencyStatus = DependencyStatus.HEALTHY
    kind: PackageKind = PackageKind.REGISTRY


@dataclass(frozen=True, slots=True)
class HealthCheck:
    id: UUID
    environment_id: UUID
    metric_type: MetricType
    value: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class HealthPoint:
    """One measurement as the agent reports it (``report_health``)."""

    metric_type: MetricType
    value: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class HealthSlots:
    """One environment's points of one metric averaged into equal time slots
    (``Backend.health_sparklines``): slot ``i`` of ``len(averages)`` covers
    ``[since + i·width, since + (i+1)·width)`` (a point exactly at the window's end is in the
    last slot); ``averages[i]`` is the average of the ``counts[i]`` points with a number there,
    None (and 0) for a slot without any."""

    environment_id: UUID
    metric_type: MetricType
    since: datetime
    width: timedelta
    averages: tuple[float | None, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    team_id: UUID
    actor_id: UUID | None
    actor_username: str | None
    action: str
    target_type: str
    target_id: str | None
    project_id: UUID | None
    environment_id: UUID | None
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is signed in."""

    user_id: UUID
    username: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class NewMachineToken:
    """A token just made: its id, and the token itself, which exists nowhere else now."""

    id: UUID
    token: str

    def __repr__(self) -> str:  # never the token, not even in a traceback or a log
        return f"NewMachineToken(id={self.id})"


@dataclass(frozen=True, slots=True)
class MachineTokenInfo:
    """A machine token as ``devsync token list`` shows it: never the token, nor its hash."""

    id: UUID
    project_id: UUID
    environment_id: UUID
    environment_name: str
    name: str
    created_by: UUID | None
    created_by_username: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: UUID | None
    revoked_by_username: str | None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class Advisory:
    """A known vulnerability (OSV): its id, other ids for it (CVE, GHSA), severity (the
    database's word, e.g. ``HIGH``, else a CVSS vector), summary, and the first version that
    fixes it for the package it was found in (None: no fix known)."""

    id: str
    aliases: tuple[str, ...] = ()
    severity: str | None = None
    summary: str | None = None
    fixed_version: str | None = None


@dataclass(frozen=True, slots=True)
class AdvisoryCheck:
    """What OSV said about one package version at ``checked_at`` (no advisories: clean)."""

    package_manager: PackageManager
    package_name: str
    version: str
    checked_at: datetime
    advisories: tuple[Advisory, ...] = ()


@dataclass(frozen=True, slots=True)
class VersionAdvisory:
    """A stored advisory of one package version (``project_advisories``)."""

    package_manager: PackageManager
    package_name: str
    version: str
    advisory: Advisory


@dataclass(frozen=True, slots=True)
class Freshness:
    """A package's releases as its registry published them at ``checked_at``: the latest
    stable one, and (for a constraint) the newest stable one satisfying it."""

    package_manager: PackageManager
    package_name: str
    version_constraint: str | None
    latest: str | None
    wanted: str | None
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class DependencySummary:
    """A project's dependency counts over its baseline and the environments shown, from the
    database (``dependency_summary``) or from a whole drift matrix (``DriftMatrix.summary``):
    the same definitions, so the Dependencies view says the same before and after it has read
    every page."""

    #: Packages (one per manager and name as the ecosystem compares names).
    packages: int
    #: Packages with a vulnerable version not every advisory of which is an accepted risk.
    vulnerable: int
    #: Packages the baseline has and at least one environment shown lacks.
    missing: int
    #: Packages with a cell (baseline or environment shown) other than MATCHES.
    drifted: int


@dataclass(frozen=True, slots=True)
class PackageFacts:
    """What is stored about the versions and packages of a project (``package_facts``)."""

    advisories: tuple[VersionAdvisory, ...] = ()
    freshness: tuple[Freshness, ...] = ()
    #: The project's accepted risks, when the reader asked for them too.
    accepted: tuple[AcceptedRisk, ...] = ()

    def advisories_of(
        self, manager: PackageManager, name: str, version: str | None
    ) -> list[Advisory]:
        """The advisories stored for one version (none known: empty)."""
        return [
            a.advisory
            for a in self.advisories
            if a.package_manager is manager and a.package_name == name and a.version == version
        ]

    def freshness_of(
        self, manager: PackageManager, name: str, constraint: str | None
    ) -> Freshness | None:
        """The freshness stored for a package under a constraint (else without one)."""
        fallback = None
        for f in self.freshness:
            if f.package_manager is manager and f.package_name == name:
                if (f.version_constraint or None) == (constraint or None):
                    return f
                if f.version_constraint is None:
                    fallback = f
        return fallback


@dataclass(frozen=True, slots=True)
class AcceptedRisk:
    """An advisory a project accepts until a date, with the reason (``accepted_risks``)."""

    id: UUID
    project_id: UUID
    advisory_id: str
    reason: str
    until: date
    created_by: UUID | None
    created_at: datetime

    def active(self, today: date) -> bool:
        """Whether it still counts on ``today`` (the last day included)."""
        return today <= self.until
