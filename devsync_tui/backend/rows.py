"""Rows as dicts → ``core.models`` dataclasses, for every transport.

Transport-neutral: a value may be native (``UUID``, ``datetime``, ``dict`` from psycopg) or
JSON-ish (str uuids, ISO-8601 timestamps, JSON text from PostgREST or a realtime payload).
Missing optional columns default to None. A secret's ``value`` is forced to None whatever the
row holds, so a masked placeholder can never pass for a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    DependencyStatus,
    DependencySummary,
    EffectiveConfigRow,
    Environment,
    EnvStatus,
    EnvTemplate,
    HealthCheck,
    HealthPoint,
    HealthSlots,
    MachineTokenInfo,
    MetricType,
    PackageKind,
    PackageManager,
    Profile,
    Project,
    Role,
    Team,
    TeamMember,
)

Row = Mapping[str, Any]


def as_uuid(value: Any) -> UUID:
    """A UUID from a UUID or its text."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        return UUID(value)
    raise ValueError(f"expected a uuid, got {type(value).__name__}")


def opt_uuid(value: Any) -> UUID | None:
    return None if value is None else as_uuid(value)


def as_datetime(value: Any) -> datetime:
    """A timezone-aware UTC datetime from a datetime or ISO-8601 text (``Z`` and ``+00:00``
    offsets both work; any offset is converted; a time without one is taken as UTC, the zone
    of every DevSync session)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        value = datetime.fromisoformat(text)
    if not isinstance(value, datetime):
        raise ValueError(f"expected a timestamp, got {type(value).__name__}")
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def opt_datetime(value: Any) -> datetime | None:
    return None if value is None else as_datetime(value)


def as_json(value: Any, default: Any) -> Any:
    """A decoded JSON value (text is parsed; None gives ``default``)."""
    if value is None:
        return default
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def profile_from_row(r: Row) -> Profile:
    return Profile(
        id=as_uuid(r["id"]),
        username=str(r["username"]),
        full_name=opt_str(r.get("full_name")),
        avatar_url=opt_str(r.get("avatar_url")),
        created_at=opt_datetime(r.get("created_at")),
        updated_at=opt_datetime(r.get("updated_at")),
    )


def team_from_row(r: Row) -> Team:
    return Team(
        id=as_uuid(r["id"]),
        name=str(r["name"]),
        slug=str(r["slug"]),
        owner_id=as_uuid(r["owner_id"]),
        created_at=opt_datetime(r.get("created_at")),
        updated_at=opt_datetime(r.get("updated_at")),
    )


def member_from_row(r: Row) -> TeamMember:
    """A team_members row; ``username``/``full_name`` when joined (flat, or PostgREST's
    embedded ``profiles`` object)."""
    embedded = r.get("profiles")
    profile: Row = embedded if isinstance(embedded, Mapping) else r
    return TeamMember(
        team_id=as_uuid(r["team_id"]),
        user_id=as_uuid(r["user_id"]),
        role=Role(r["role"]),
        joined_at=opt_datetime(r.get("joined_at")),
        username=opt_str(profile.get("username")),
        full_name=opt_str(profile.get("full_name")),
    )


def project_from_row(r: Row) -> Project:
    return Project(
        id=as_uuid(r["id"]),
        team_id=as_uuid(r["team_id"]),
        name=str(r["name"]),
        description=opt_str(r.get("description")),
        repository_url=opt_str(r.get("repository_url")),
        created_at=opt_datetime(r.get("created_at")),
        updated_at=opt_datetime(r.get("updated_at")),
    )


def template_from_row(r: Row) -> EnvTemplate:
    return EnvTemplate(
        id=as_uuid(r["id"]),
        project_id=as_uuid(r["project_id"]),
        name=str(r["name"]),
        config_json=cast(dict[str, Any], as_json(r.get("config_json"), {})),
        dependencies_json=cast(list[Any], as_json(r.get("dependencies_json"), [])),
        is_public=bool(r.get("is_public") or False),
        created_by=opt_uuid(r.get("created_by")),
        created_at=opt_datetime(r.get("created_at")),
    )


def environment_from_row(r: Row) -> Environment:
    return Environment(
        id=as_uuid(r["id"]),
        project_id=as_uuid(r["project_id"]),
        user_id=as_uuid(r["user_id"]),
        name=str(r["name"]),
        status=EnvStatus(r.get("status") or "offline"),
        template_id=opt_uuid(r.get("template_id")),
        last_sync_at=opt_datetime(r.get("last_sync_at")),
        created_at=opt_datetime(r.get("created_at")),
    )


def configuration_from_row(r: Row) -> Configuration:
    is_secret = bool(r["is_secret"])
    return Configuration(
        id=as_uuid(r["id"]),
        project_id=as_uuid(r["project_id"]),
        environment_id=opt_uuid(r.get("environment_id")),
        key=str(r["key"]),
        value=None if is_secret else opt_str(r.get("value")),
        is_secret=is_secret,
        type=ConfigType(r["type"]),
        version=int(r["version"]),
        updated_at=opt_datetime(r.get("updated_at")),
    )


#: ``Configuration``'s fields in a row of ``public.configurations``, in the order
#: ``configuration_from_values`` reads them.
CONFIGURATION_COLUMNS = (
    "id, project_id, environment_id, key, value, is_secret, type, version, updated_at"
)


def configuration_from_values(v: Sequence[Any]) -> Configuration:
    """``configuration_from_row`` for the values of ``CONFIGURATION_COLUMNS``, in that order
    (a tuple row: no per-row dict of column names; a save's hot path). Same model, same
    rules."""
    is_secret = bool(v[5])
    return Configuration(
        id=as_uuid(v[0]),
        project_id=as_uuid(v[1]),
        environment_id=opt_uuid(v[2]),
        key=str(v[3]),
        value=None if is_secret else opt_str(v[4]),
        is_secret=is_secret,
        type=ConfigType(v[6]),
        version=int(v[7]),
        updated_at=opt_datetime(v[8]),
    )


def effective_from_row(r: Row) -> EffectiveConfigRow:
    """A row of ``effective_configuration()`` (or the same shape built for project defaults)."""
    is_secret = bool(r["is_secret"])
    source = str(r.get("source") or "default")
    if source not in ("default", "override"):
        raise ValueError(f"unknown configuration source {source!r}")
    return EffectiveConfigRow(
        configuration_id=as_uuid(r["configuration_id"]),
        project_id=as_uuid(r["project_id"]),
        environment_id=opt_uuid(r.get("environment_id")),
        key=str(r["key"]),
        value=None if is_secret else opt_str(r.get("value")),
        is_secret=is_secret,
        type=ConfigType(r["type"]),
        version=int(r["version"]),
        source="override" if source == "override" else "default",
        updated_at=opt_datetime(r.get("updated_at")),
        updated_by=opt_str(r.get("updated_by")),
        overrides_id=opt_uuid(r.get("overrides_id")),
    )


def history_from_row(r: Row) -> ConfigHistoryEntry:
    is_secret = bool(r["is_secret"])
    op = str(r["op"])
    if op not in ("insert", "update", "delete"):
        raise ValueError(f"unknown history op {op!r}")
    embedded = r.get("profiles")
    changer = embedded.get("username") if isinstance(embedded, Mapping) else None
    return ConfigHistoryEntry(
        id=int(r["id"]),
        configuration_id=as_uuid(r["configuration_id"]),
        project_id=as_uuid(r["project_id"]),
        environment_id=opt_uuid(r.get("environment_id")),
        key=str(r["key"]),
        type=ConfigType(r["type"]),
        is_secret=is_secret,
        version=int(r["version"]),
        value=None if is_secret else opt_str(r.get("value")),
        op=cast(Any, op),
        changed_by=opt_uuid(r.get("changed_by")),
        changed_by_username=opt_str(r.get("changed_by_username") or changer),
        changed_at=as_datetime(r["changed_at"]),
    )


def dependency_summary_from_row(r: Row) -> DependencySummary:
    """The database settles most of "drifted"; the packages only the version grammar decides
    (``undecided``) are counted here (``core.drift_summary``; imported when first needed: the
    drift rules are not part of the first frame)."""
    from devsync_tui.core.drift_summary import undecided_drifted

    return DependencySummary(
        packages=int(r["packages"]),
        vulnerable=int(r["vulnerable"]),
        missing=int(r["missing"]),
        drifted=int(r["drifted"]) + undecided_drifted(r["undecided"]),
    )


def dependency_from_row(r: Row) -> Dependency:
    return Dependency(
        id=as_uuid(r["id"]),
        project_id=as_uuid(r["project_id"]),
        environment_id=opt_uuid(r.get("environment_id")),
        package_manager=PackageManager(r["package_manager"]),
        package_name=str(r["package_name"]),
        version_constraint=opt_str(r.get("version_constraint")),
        resolved_version=opt_str(r.get("resolved_version")),
        status=DependencyStatus(r.get("status") or "healthy"),
        updated_at=opt_datetime(r.get("updated_at")),
        kind=PackageKind(r.get("kind") or "registry"),
    )


def health_from_row(r: Row) -> HealthCheck:
    return HealthCheck(
        id=as_uuid(r["id"]),
        environment_id=as_uuid(r["environment_id"]),
        metric_type=MetricType(r["metric_type"]),
        value=cast(dict[str, Any], as_json(r.get("value"), {})),
        recorded_at=as_datetime(r["recorded_at"]),
    )


def health_slots_from_row(r: Row) -> HealthSlots:
    """A row of ``health_sparklines`` (slot_seconds: the slot length in seconds; averages and
    counts: arrays, JSON arrays over PostgREST)."""
    return HealthSlots(
        environment_id=as_uuid(r["environment_id"]),
        metric_type=MetricType(r["metric_type"]),
        since=as_datetime(r["since"]),
        width=timedelta(seconds=float(r["slot_seconds"])),
        averages=tuple(None if v is None else float(v) for v in r["averages"]),
        counts=tuple(int(n) for n in r["counts"]),
    )


def audit_from_row(r: Row) -> AuditEntry:
    embedded = r.get("profiles")
    actor = embedded.get("username") if isinstance(embedded, Mapping) else None
    return AuditEntry(
        id=int(r["id"]),
        team_id=as_uuid(r["team_id"]),
        actor_id=opt_uuid(r.get("actor_id")),
        actor_username=opt_str(r.get("actor_username") or actor),
        action=str(r["action"]),
        target_type=str(r["target_type"]),
        target_id=opt_str(r.get("target_id")),
        project_id=opt_uuid(r.get("project_id")),
        environment_id=opt_uuid(r.get("environment_id")),
        details=cast(dict[str, Any], as_json(r.get("details"), {})),
        created_at=as_datetime(r["created_at"]),
    )


def machine_token_from_row(r: Row) -> MachineTokenInfo:
    """A row of ``list_machine_tokens()`` / ``revoke_machine_token()`` (never the hash)."""
    return MachineTokenInfo(
        id=as_uuid(r["id"]),
        project_id=as_uuid(r["project_id"]),
        environment_id=as_uuid(r["environment_id"]),
        environment_name=str(r.get("environment_name") or ""),
        name=str(r["name"]),
        created_by=opt_uuid(r.get("created_by")),
        created_by_username=opt_str(r.get("created_by_username")),
        created_at=as_datetime(r["created_at"]),
        expires_at=opt_datetime(r.get("expires_at")),
        last_used_at=opt_datetime(r.get("last_used_at")),
        revoked_at=opt_datetime(r.get("revoked_at")),
        revoked_by=opt_uuid(r.get("revoked_by")),
        revoked_by_username=opt_str(r.get("revoked_by_username")),
    )


#: Table name → mapper, for change events (``configuration_history`` and ``audit_log`` too).
ROW_MAPPERS: dict[str, Callable[[Row], Any]] = {
    "profiles": profile_from_row,
    "teams": team_from_row,
    "team_members": member_from_row,
    "projects": project_from_row,
    "env_templates": template_from_row,
    "environments": environment_from_row,
    "configurations": configuration_from_row,
    "dependencies": dependency_from_row,
    "health_checks": health_from_row,
    "configuration_history": history_from_row,
    "audit_log": audit_from_row,
}


def row_to_model(table: str, r: Row) -> Any:
    """The model for a row of ``table``; ValueError for a table DevSync does not model."""
    mapper = ROW_MAPPERS.get(table)
    if mapper is None:
        raise ValueError(f"no model for table {table!r}")
    return mapper(r)


# -- models → the JSON the report RPCs take (one shape for every transport and the machine) --
def dependency_payload(packages: Sequence[DependencyInput]) -> list[dict[str, Any]]:
    """``p_packages`` of ``report_dependencies`` / ``machine_report_dependencies``."""
    return [
        {
            "package_manager": str(p.package_manager),
            "package_name": p.package_name,
            "version_constraint": p.version_constraint,
            "resolved_version": p.resolved_version,
            "status": str(p.status),
            "kind": str(p.kind),
        }
        for p in packages
    ]


def health_payload(points: Sequence[HealthPoint]) -> list[dict[str, Any]]:
    """``p_points`` of ``report_health`` / ``machine_report_health``."""
    return [
        {
            "metric_type": str(p.metric_type),
            "value": p.value,
            "recorded_at": p.recorded_at.isoformat(),
        }
        for p in points
    ]
