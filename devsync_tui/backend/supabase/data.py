"""Configuration, history, dependencies, health and audit over PostgREST (reads) and the RPCs of
docs/DATABASE.md (writes). Mixed into ``SupabaseBackend``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from devsync_tui.backend import rows
from devsync_tui.backend.supabase.rest import PAGE, Filter, SupabaseRest, eq, in_
from devsync_tui.backend.transport import PageKey
from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    DependencySummary,
    EffectiveConfigRow,
    Environment,
    HealthCheck,
    HealthPoint,
    HealthSlots,
    MetricType,
)

if TYPE_CHECKING:
    from supabase import AsyncClient


def _scope(project_id: UUID, environment_id: UUID | None) -> list[Filter]:
    return [eq("project_id", project_id), eq("environment_id", environment_id)]


class SupabaseConfigMixin(SupabaseRest):
    """The configuration-side half of the Backend on Supabase."""

    async def _effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        data = await self._rpc("effective_configuration", {"p_environment_id": environment_id})
        return [rows.effective_from_row(r) for r in (data or []) if isinstance(r, dict)]

    async def _project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        return await self._default_rows(_scope(project_id, None))

    async def _effective_configuration_keys(
        self, environment_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        data = await self._rpc(
            "effective_configuration_keys",
            {"p_environment_id": environment_id, "p_keys": list(keys)},
        )
        return [rows.effective_from_row(r) for r in (data or []) if isinstance(r, dict)]

    async def _project_configuration_keys(
        self, project_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        found: list[EffectiveConfigRow] = []
        for start in range(0, len(keys), 100):  # keep the URL short
            chunk = keys[start : start + 100]
            found += await self._default_rows([*_scope(project_id, None), in_("key", chunk)])
        return found

    async def _default_rows(self, where: list[Filter]) -> list[EffectiveConfigRow]:
        """Project defaults (``where`` picks them) as effective rows with who wrote each."""
        found = await self._select("configurations", where=where, order=[("id", False)])
        configs = [rows.configuration_from_row(r) for r in found]
        if not configs:
            return []
        # Who wrote each one: the newest history entry of the configuration (as the local
        # transport's query and effective_configuration() find it).
        writer: dict[UUID, UUID | None] = {}
        ids = [c.id for c in configs]
        for start in range(0, len(ids), 100):  # keep the URL short
            for h in await self._select(
                "configuration_history",
                "configuration_id,changed_by",
                where=[in_("configuration_id", ids[start : start + 100])],
                order=[("id", True)],
            ):
                writer.setdefault(
                    rows.as_uuid(h["configuration_id"]), rows.opt_uuid(h["changed_by"])
                )
        names = await self._usernames(set(writer.values()))
        return [
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
                updated_by=names.get(who) if (who := writer.get(c.id)) else None,
            )
            for c in configs
        ]

    async def _save_configuration(
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
        return rows.configuration_from_row(await self._rpc_row("save_configuration", params))

    async def _delete_configuration(self, configuration_id: UUID, expected_version: int) -> None:
        await self._rpc(
            "delete_configuration",
            {"p_configuration_id": configuration_id, "p_expected_version": expected_version},
        )

    async def _reveal_secret(self, configuration_id: UUID) -> str | None:
        value = await self._rpc("reveal_secret", {"p_configuration_id": configuration_id})
        return value if isinstance(value, str) else None

    async def _secrets_equal(self, first: UUID, second: UUID) -> bool:
        return await self._rpc("secrets_equal", {"p_a": first, "p_b": second}) is True

    async def _configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int
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

    async def _reveal_history_secret(self, history_id: int) -> str | None:
        value = await self._rpc("reveal_history_secret", {"p_history_id": history_id})
        return value if isinstance(value, str) else None

    async def _restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        row = await self._rpc_row(
            "restore_configuration",
            {"p_history_id": history_id, "p_expected_version": expected_version},
        )
        return rows.configuration_from_row(row)

    # -- dependencies ---------------------------------------------------------------------
    async def _list_dependencies(
        self,
        project_id: UUID,
        environment_ids: Sequence[UUID | None] | None,
        name_filter: str | None,
        limit: int | None,
        offset: int,
    ) -> list[Dependency]:
        where: list[Filter] = [eq("project_id", project_id)]
        if environment_ids is not None:
            ids = [str(e) for e in environment_ids if e is not None]
            with_baseline = any(e is None for e in environment_ids)
            if ids and with_baseline:
                where.append(
                    lambda q: q.or_(f"environment_id.is.null,environment_id.in.({','.join(ids)})")
                )
            elif ids:
                where.append(in_("environment_id", ids))
            else:
                where.append(eq("environment_id", None))
        # A plain substring: LIKE's wildcards are escaped. PostgREST reads every ``*`` as the
        # wildcard and has no escape for it: a ``*`` asks for any one character (``_``) and the
        # page is cut from the exact matches here instead.
        exact = name_filter is not None and "*" in name_filter
        if name_filter:
            pattern = "".join("\\" + c if c in "\\%_" else c for c in name_filter)
            pattern = pattern.replace("*", "_")
            where.append(lambda q: q.ilike("package_name", f"*{pattern}*"))
        found = await self._select(
            "dependencies",
            where=where,
            # baseline (environment NULL) first within a package, as the contract orders
            order=[
                ("package_manager", False),
                ("package_name", False),
                ("environment_id", False, True),
                ("resolved_version", False, True),
                ("id", False),
            ],
            limit=None if exact else limit,
            offset=0 if exact else offset,
        )
        deps = [rows.dependency_from_row(r) for r in found]
        if exact and name_filter is not None:
            needle = name_filter.casefold()
            deps = [d for d in deps if needle in d.package_name.casefold()][offset:]
            deps = deps if limit is None else deps[:limit]
        return deps

    async def _dependency_page(
        self,
        project_id: UUID,
        after: PageKey | None,
        limit: int,
    ) -> list[tuple[str, Dependency]]:
        # A response holds at most PAGE rows (max_rows): go on from the last row's keyset
        # (not by offset, which would make the function read the skipped rows again).
        found: list[tuple[str, Dependency]] = []
        while len(found) < limit:
            manager, fold, last_id = after if after is not None else (None, None, None)
            want = min(PAGE, limit - len(found))
            body = {
                "p_project": str(project_id),
                "p_after_manager": manager,
                "p_after_fold": fold,
                "p_after_id": None if last_id is None else str(last_id),
                "p_limit": want,
            }

            def call(client: AsyncClient, body: dict[str, Any] = body) -> Any:
                return client.rpc("dependency_page_next", body)

            response = await self._run(call, read=True)
            page = [r for r in (response.data or []) if isinstance(r, dict)]
            found += [(str(r["package_fold"]), rows.dependency_from_row(r)) for r in page]
            if len(page) < want:
                break
            fold, dep = found[-1]
            after = (dep.package_manager.value, fold, dep.id)
        return found

    async def _dependency_summary(
        self, project_id: UUID, environment_ids: list[UUID], today: date
    ) -> DependencySummary | None:
        body = {
            "p_project": str(project_id),
            "p_environments": [str(e) for e in environment_ids],
            "p_today": today.isoformat(),
        }

        def call(client: AsyncClient) -> Any:
            return client.rpc("dependency_summary", body)

        response = await self._run(call, read=True)
        found = [r for r in (response.data or []) if isinstance(r, dict)]
        if not found:
            return None
        # Off the loop: the client's share of "drifted" runs the drift rules (~35 µs a package).
        return await asyncio.to_thread(rows.dependency_summary_from_row, found[0])

    async def _report_dependencies(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        packages: Sequence[DependencyInput],
    ) -> int:
        body = rows.dependency_payload(packages)
        stored = await self._rpc(
            "report_dependencies",
            {"p_project_id": project_id, "p_environment_id": environment_id, "p_packages": body},
        )
        return int(stored or 0)

    # -- health -----------------------------------------------------------------------------
    async def _health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        found: list[dict[str, Any]] = []
        ids = [str(e) for e in environment_ids]
        for start in range(0, len(ids), 100):  # keep the URL short
            found += await self._select(
                "health_checks",
                where=[
                    in_("environment_id", ids[start : start + 100]),
                    lambda q: q.gte("recorded_at", since.isoformat()),
                ],
                order=[("id", False)],
            )
        return [rows.health_from_row(r) for r in found]

    async def health_sparklines(
        self,
        environment_ids: Sequence[UUID],
        since: datetime,
        slots: int,
        *,
        until: datetime | None = None,
    ) -> list[HealthSlots]:
        # In id order: each call's rows come ordered by environment, then metric, so the calls'
        # answers joined in that order are ordered as one call's would be.
        ids = sorted(str(e) for e in environment_ids)
        params: dict[str, Any] = {"p_since": since, "p_slots": slots, "p_until": until}
        if len(ids) > 500 or not ids:
            # The database says why (or returns nothing) in one call.
            chunks = [ids]
        else:
            # A response holds at most PAGE rows (max_rows): ask for as many environments per
            # call as fill a page at most (a row per metric each, whatever the slots).
            per_call = max(1, PAGE // len(MetricType))
            chunks = [ids[i : i + per_call] for i in range(0, len(ids), per_call)]
        # A few calls at a time: each is a short read, the round trips are what adds up.
        limit = asyncio.Semaphore(4)

        async def read(chunk: list[str]) -> list[dict[str, Any]]:
            async with limit:
                return await self._rpc_rows(
                    "health_sparklines", {"p_environment_ids": chunk, **params}
                )

        found = await asyncio.gather(*(read(chunk) for chunk in chunks))
        return [rows.health_slots_from_row(r) for part in found for r in part]

    async def health_latest(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        found = await self._rpc_rows(
            "health_latest",
            {"p_environment_ids": [str(e) for e in environment_ids], "p_since": since},
        )
        return [rows.health_from_row(r) for r in found]

    async def _report_package_facts(self, payload: dict[str, Any]) -> int:
        return int(await self._rpc("report_package_facts", {"p_facts": payload}) or 0)

    async def _ignore_advisory(
        self, project_id: UUID, advisory_id: str, until: date, reason: str
    ) -> Any:
        params = {
            "p_project_id": project_id,
            "p_advisory_id": advisory_id,
            "p_until": until.isoformat(),
            "p_reason": reason,
        }
        return await self._rpc_row("ignore_advisory", params)

    async def _unignore_advisory(self, project_id: UUID, advisory_id: str) -> None:
        await self._rpc(
            "unignore_advisory", {"p_project_id": project_id, "p_advisory_id": advisory_id}
        )

    async def _set_environment_owner(self, environment_id: UUID, user_id: UUID) -> Environment:
        row = await self._rpc_row(
            "set_environment_owner", {"p_environment_id": environment_id, "p_user_id": user_id}
        )
        return rows.environment_from_row(row)

    async def _project_facts(self, project_id: UUID) -> tuple[list[Any], list[Any]]:
        params = {"p_project_id": str(project_id)}
        advisories, freshness = await asyncio.gather(
            self._rpc_rows("project_advisories", params),
            self._rpc_rows("project_freshness", params),
        )
        return list(advisories), list(freshness)

    async def _report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        body = rows.health_payload(points)
        inserted = await self._rpc(
            "report_health", {"p_environment_id": environment_id, "p_points": body}
        )
        return int(inserted or 0)

    async def rollup_health(self, keep_days: int = 7) -> int:
        folded = await self._rpc("rollup_health_checks", {"p_keep": f"{int(keep_days)} days"})
        return int(folded or 0)

    # -- audit ------------------------------------------------------------------------------
    async def _audit_log(
        self, team_id: UUID, limit: int, before_id: int | None
    ) -> list[AuditEntry]:
        where: list[Filter] = [eq("team_id", team_id)]
        if before_id is not None:
            where.append(lambda q: q.lt("id", str(before_id)))
        found = await self._select("audit_log", where=where, order=[("id", True)], limit=limit)
        names = await self._usernames({rows.opt_uuid(r.get("actor_id")) for r in found})
        return [
            rows.audit_from_row(
                {**r, "actor_username": names.get(rows.as_uuid(r["actor_id"]))}
                if r.get("actor_id")
                else r
            )
            for r in found
        ]
