"""Configuration, history, dependencies, health and audit over PostgREST (reads) and the RPCs of
docs/DATABASE.md (writes). Mixed into ``SupabaseBackend``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from devsync_tui.backend import rows
from devsync_tui.backend.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from devsync_tui.backend.supabase.rest import PAGE, Filter, SupabaseRest, eq, in_, jsonable
from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    EffectiveConfigRow,
    HealthBucket,
    HealthCheck,
    HealthPoint,
    MetricType,
    Role,
)
from devsync_tui.logging_setup import register_secret


def _scope(project_id: UUID, environment_id: UUID | None) -> list[Filter]:
    return [eq("project_id", project_id), eq("environment_id", environment_id)]


class SupabaseConfigMixin(SupabaseRest):
    """The configuration-side half of the Backend on Supabase."""

    #: Provided by ``SupabaseBackend`` (declared here for the type checker only).
    my_roles: Callable[[], Awaitable[dict[UUID, Role]]]

    async def list_configurations(
        self, project_id: UUID, environment_id: UUID | None = None
    ) -> list[Configuration]:
        found = await self._select(
            "configurations", where=_scope(project_id, environment_id), order=[("key", False)]
        )
        return [rows.configuration_from_row(r) for r in found]

    async def effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        data = await self._rpc("effective_configuration", {"p_environment_id": environment_id})
        items = [r for r in (data or []) if isinstance(r, dict)]
        return sorted((rows.effective_from_row(r) for r in items), key=lambda e: e.key)

    async def project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        configs = await self.list_configurations(project_id, None)
        if not configs:
            return []
        history = await self._select(
            "configuration_history",
            "configuration_id,version,changed_by",
            where=[in_("configuration_id", [c.id for c in configs])],
            order=[("id", True)],
        )
        writer: dict[tuple[str, int], UUID | None] = {}
        for h in history:
            writer.setdefault(
                (str(h["configuration_id"]), int(h["version"])), rows.opt_uuid(h.get("changed_by"))
            )
        names = await self._usernames(set(writer.values()))
        result = []
        for c in configs:
            who = writer.get((str(c.id), c.version))
            result.append(
                EffectiveConfigRow(
                    configuration_id=c.id,
                    project_id=c.project_id,
                    environment_id=None,
                    key=c.key,
                    value=c.value,
                    is_secret=c.is_secret,
                    type=c.type,
                    version=c.version,
                    source="default",
                    updated_at=c.updated_at,
                    updated_by=names.get(who) if who else None,
                )
            )
        return result

    async def _current_config(
        self, project_id: UUID, environment_id: UUID | None, key: str
    ) -> Configuration | None:
        found = await self._select(
            "configurations", where=[*_scope(project_id, environment_id), eq("key", key)], limit=1
        )
        return rows.configuration_from_row(found[0]) if found else None

    async def save_configuration(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        key: str,
        value: str,
        *,
        is_secret: bool,
        type: ConfigType,
        expected_version: int | None,
    ) -> Configuration:
        params = {
            "p_project_id": project_id,
            "p_environment_id": environment_id,
            "p_key": key,
            "p_value": value,
            "p_is_secret": is_secret,
            "p_type": str(type),
            "p_expected_version": expected_version,
        }
        try:
            row = await self._rpc_row("save_configuration", params)
        except Conflict as exc:
            current = await self._current_config(project_id, environment_id, key)
            raise Conflict(
                str(exc),
                current_version=current.version if current else exc.current_version,
                current=current,
            ) from None
        return rows.configuration_from_row(row)

    async def delete_configuration(self, configuration_id: UUID, expected_version: int) -> None:
        await self._rpc(
            "delete_configuration",
            {"p_configuration_id": configuration_id, "p_expected_version": expected_version},
        )

    async def reveal_secret(self, configuration_id: UUID) -> str:
        value = await self._rpc("reveal_secret", {"p_configuration_id": configuration_id})
        if not isinstance(value, str):
            raise NotFound("That secret has no value.")
        register_secret(value)
        return value

    async def configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int = 100
    ) -> list[ConfigHistoryEntry]:
        found = await self._select(
            "configuration_history",
            where=[*_scope(project_id, environment_id), eq("key", key)],
            order=[("id", True)],
            limit=limit,
        )
        names = await self._usernames({rows.opt_uuid(r.get("changed_by")) for r in found})
        return [
            rows.history_from_row(
                {**r, "changed_by_username": names.get(rows.as_uuid(r["changed_by"]))}
                if r.get("changed_by")
                else r
            )
            for r in found
        ]

    async def reveal_history_secret(self, history_id: int) -> str:
        value = await self._rpc("reveal_history_secret", {"p_history_id": history_id})
        if not isinstance(value, str):
            raise NotFound("That history entry has no secret value.")
        register_secret(value)
        return value

    async def restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        row = await self._rpc_row(
            "restore_configuration",
            {"p_history_id": history_id, "p_expected_version": expected_version},
        )
        return rows.configuration_from_row(row)

    # -- dependencies ---------------------------------------------------------------------
    async def list_dependencies(
        self,
        project_id: UUID,
        *,
        environment_ids: Sequence[UUID | None] | None = None,
        name_filter: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Dependency]:
        where: list[Filter] = [eq("project_id", project_id)]
        if environment_ids is not None:
            ids = [str(e) for e in environment_ids if e is not None]
            with_baseline = any(e is None for e in environment_ids)
            if not ids and not with_baseline:
                return []
            if ids and with_baseline:
                where.append(
                    lambda q: q.or_(f"environment_id.is.null,environment_id.in.({','.join(ids)})")
                )
            elif ids:
                where.append(in_("environment_id", ids))
            else:
                where.append(eq("environment_id", None))
        if name_filter:
            # A plain substring: LIKE's wildcards are escaped; PostgREST's ``*`` is the wildcard.
            pattern = "".join("\\" + c if c in "\\%_" else c for c in name_filter.replace("*", ""))
            where.append(lambda q: q.ilike("package_name", f"*{pattern}*"))
        found = await self._select(
            "dependencies",
            where=where,
            # baseline (environment NULL) first within a package, as the local transport does
            order=[
                ("package_manager", False),
                ("package_name", False),
                ("environment_id", False, True),
            ],
            limit=limit,
            offset=offset,
        )
        return [rows.dependency_from_row(r) for r in found]

    async def report_dependencies(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        packages: Sequence[DependencyInput],
    ) -> int:
        if len(packages) > 20_000:
            raise InvalidInput("At most 20,000 packages can be reported at once.")
        body = [
            {
                "package_manager": str(p.package_manager),
                "package_name": p.package_name,
                "version_constraint": p.version_constraint,
                "resolved_version": p.resolved_version,
                "status": str(p.status),
            }
            for p in packages
        ]
        stored = await self._rpc(
            "report_dependencies",
            {"p_project_id": project_id, "p_environment_id": environment_id, "p_packages": body},
        )
        return int(stored or 0)

    # -- health -----------------------------------------------------------------------------
    async def health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        if not environment_ids:
            return []
        found: list[dict[str, Any]] = []
        ids = [str(e) for e in environment_ids]
        for start in range(0, len(ids), 100):  # keep the URL short
            found += await self._select(
                "health_checks",
                where=[
                    in_("environment_id", ids[start : start + 100]),
                    lambda q: q.gte("recorded_at", since.isoformat()),
                ],
                order=[("recorded_at", False), ("id", False)],
            )
        series = [rows.health_from_row(r) for r in found]
        series.sort(key=lambda h: (h.recorded_at, str(h.environment_id), h.metric_type))
        return series

    async def health_buckets(
        self,
        environment_ids: Sequence[UUID],
        since: datetime,
        slots: int,
        *,
        until: datetime | None = None,
    ) -> list[HealthBucket]:
        ids = [str(e) for e in environment_ids]
        params: dict[str, Any] = {"p_since": since, "p_slots": slots, "p_until": until}
        if len(ids) > 500 or not ids:
            # The database says why (or returns nothing) in one call.
            chunks = [ids]
        else:
            # A response holds at most PAGE rows (max_rows): ask for as many environments per
            # call as fill a page at most (4 metrics × slots rows each); larger answers page.
            per_call = max(1, PAGE // (len(MetricType) * max(1, slots)))
            chunks = [ids[i : i + per_call] for i in range(0, len(ids), per_call)]
        # A few calls at a time: each is a short read, the round trips are what adds up.
        limit = asyncio.Semaphore(4)

        async def read(chunk: list[str]) -> list[dict[str, Any]]:
            async with limit:
                return await self._rpc_rows(
                    "health_buckets", {"p_environment_ids": chunk, **params}
                )

        found = await asyncio.gather(*(read(chunk) for chunk in chunks))
        return [rows.health_bucket_from_row(r) for part in found for r in part]

    async def health_latest(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        found = await self._rpc_rows(
            "health_latest",
            {"p_environment_ids": [str(e) for e in environment_ids], "p_since": since},
        )
        return [rows.health_from_row(r) for r in found]

    async def report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        if len(points) > 5_000:
            raise InvalidInput("At most 5,000 health points can be reported at once.")
        body = [
            {"metric_type": str(p.metric_type), "value": p.value, "recorded_at": p.recorded_at}
            for p in points
        ]
        inserted = await self._rpc(
            "report_health", {"p_environment_id": environment_id, "p_points": jsonable(body)}
        )
        return int(inserted or 0)

    async def rollup_health(self, keep_days: int = 7) -> int:
        folded = await self._rpc("rollup_health_checks", {"p_keep": f"{int(keep_days)} days"})
        return int(folded or 0)

    # -- audit ------------------------------------------------------------------------------
    async def audit_log(
        self, team_id: UUID, *, limit: int = 200, before_id: int | None = None
    ) -> list[AuditEntry]:
        where: list[Filter] = [eq("team_id", team_id)]
        if before_id is not None:
            where.append(lambda q: q.lt("id", str(before_id)))
        found = await self._select("audit_log", where=where, order=[("id", True)], limit=limit)
        if not found and before_id is None:
            # RLS shows the log to admins only: say so instead of showing an empty log.
            roles = await self.my_roles()
            if roles.get(team_id) is not Role.ADMIN:
                raise PermissionDenied("Only the team's admins can read its audit log.")
        names = await self._usernames({rows.opt_uuid(r.get("actor_id")) for r in found})
        return [
            rows.audit_from_row(
                {**r, "actor_username": names.get(rows.as_uuid(r["actor_id"]))}
                if r.get("actor_id")
                else r
            )
            for r in found
        ]
