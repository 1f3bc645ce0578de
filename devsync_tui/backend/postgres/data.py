"""Configuration, history, dependencies, health and audit for the direct PostgreSQL transport."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncCursor
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from devsync_tui.backend.postgres.pool import PgCore
from devsync_tui.backend.refusals import not_done
from devsync_tui.backend.rows import (
    CONFIGURATION_COLUMNS,
    audit_from_row,
    configuration_from_row,
    configuration_from_values,
    dependency_payload,
    dependency_summary_from_row,
    effective_from_row,
    environment_from_row,
    health_from_row,
    health_payload,
    history_from_row,
)
from devsync_tui.backend.transport import PageKey
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
    HealthCheck,
    HealthPoint,
    HealthSlots,
    MetricType,
    PackageKind,
    PackageManager,
)

_DEFAULT_ROWS = """
select c.id as configuration_id, c.project_id, c.environment_id, c.key, c.value, c.is_secret,
       c.type, c.version, 'default' as source, c.updated_at,
       (select p.username from public.configuration_history h
          left join public.profiles p on p.id = h.changed_by
         where h.configuration_id = c.id order by h.id desc limit 1) as updated_by,
       null::uuid as overrides_id
from public.configurations c
where c.project_id = %s and c.environment_id is null
"""
_PROJECT_DEFAULTS = _DEFAULT_ROWS + "order by c.key"
#: The same rows of some keys (a live change re-reads only what it touched).
_PROJECT_DEFAULTS_OF_KEYS = _DEFAULT_ROWS + "and c.key = any(%s) order by c.key"
#: Every save's statement: the saved row's columns by name, read as a tuple.
_SAVE_CONFIGURATION = (
    f"select {CONFIGURATION_COLUMNS} from public.save_configuration(%s, %s, %s, %s, %s, %s, %s)"
)
_HISTORY = """
select h.*, p.username as changed_by_username
from public.configuration_history h left join public.profiles p on p.id = h.changed_by
where h.project_id = %s and h.environment_id is not distinct from %s and h.key = %s
order by h.id desc limit %s
"""
#: environment_id travels as text: a project has few environments, so each distinct id becomes
#: one UUID (cached) instead of 100k UUID objects built by the loader.
_DEPENDENCY_COLUMNS = (
    "id, environment_id::text, package_manager, package_name, version_constraint, "
    "resolved_version, status, updated_at, kind"
)
_PM = {m.value: m for m in PackageManager}
_STATUS = {s.value: s for s in DependencyStatus}
_KIND = {k.value: k for k in PackageKind}


def _environments(raw: list[tuple[Any, ...]]) -> dict[str | None, UUID | None]:
    """Each distinct environment id (column 1, as text) as one UUID."""
    envs: dict[str | None, UUID | None] = {None: None}
    for text in {row[1] for row in raw}:
        if text is not None:
            envs[text] = UUID(text)
    return envs


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic GC paused while models are built: 100k fresh objects would otherwise
    trigger collections that only find nothing to free (halves the build time). Nothing may
    await inside, so no other task runs with GC paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_dependencies(project_id: UUID, raw: list[tuple[Any, ...]]) -> list[Dependency]:
    """Models from tuples (``_DEPENDENCY_COLUMNS``), positionally, enums from dicts."""
    pm, st, kd, envs = _PM, _STATUS, _KIND, _environments(raw)
    with _gc_paused():
        return [
            Dependency(i, project_id, envs[e], pm[m], n, c, r, st[s], u, kd[k])
            for i, e, m, n, c, r, s, u, k in raw
        ]


def _build_folded_dependencies(
    project_id: UUID, raw: list[tuple[Any, ...]]
) -> list[tuple[str, Dependency]]:
    """As ``_build_dependencies``, for rows with their ``package_fold`` after the columns."""
    pm, st, kd, envs = _PM, _STATUS, _KIND, _environments(raw)
    with _gc_paused():
        return [
            (f, Dependency(i, project_id, envs[e], pm[m], n, c, r, st[s], u, kd[k]))
            for i, e, m, n, c, r, s, u, k, f in raw
        ]


#: One row per environment and metric, the slots as two arrays (float8[], int4[]): a day of 500
#: environments is 2,000 rows, not the 120,000 of one row per slot (health_buckets before
#: migration ...20261206061000), read in binary as tuples; environment_id travels as text so
#: that each distinct id becomes one UUID.
_SPARKLINES = (
    "select environment_id::text, metric_type, since, slot_seconds, averages, counts "
    "from public.health_sparklines(%s::uuid[], %s, %s, %s)"
)
_METRIC = {m.value: m for m in MetricType}
#: ``health_sparklines`` reads at least twice this many environments in two halves at once.
_SPARKLINES_MIN_PART = 50


def _build_sparklines(raw: list[tuple[Any, ...]]) -> list[HealthSlots]:
    """Models from tuples, positionally (the arrays as tuples: the models are frozen)."""
    envs = {text: UUID(text) for text in {row[0] for row in raw}}
    widths = {seconds: timedelta(seconds=seconds) for seconds in {row[3] for row in raw}}
    metric = _METRIC
    return [
        HealthSlots(envs[e], metric[m], s, widths[w], tuple(a), tuple(c))
        for e, m, s, w, a, c in raw
    ]


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PgData(PgCore):
    """The data reads and RPC writes of configuration, dependencies, health and audit."""

    # -- configuration --------------------------------------------------------------------
    async def _effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        rows = await self.fetch_all(
            "select * from public.effective_configuration(%s)", (environment_id,)
        )
        return [effective_from_row(r) for r in rows]

    async def _project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        rows = await self.fetch_all(_PROJECT_DEFAULTS, (project_id,))
        return [effective_from_row(r) for r in rows]

    async def _effective_configuration_keys(
        self, environment_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        rows = await self.fetch_all(
            "select * from public.effective_configuration_keys(%s, %s)",
            (environment_id, list(keys)),
        )
        return [effective_from_row(r) for r in rows]

    async def _project_configuration_keys(
        self, project_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        rows = await self.fetch_all(_PROJECT_DEFAULTS_OF_KEYS, (project_id, list(keys)))
        return [effective_from_row(r) for r in rows]

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
        row = await self.write_one_values(
            _SAVE_CONFIGURATION,
            (project_id, environment_id, key, value, is_secret, str(type), expected_version),
        )
        if row is None or row[0] is None:
            raise not_done("save_configuration")
        return configuration_from_values(row)

    async def _delete_configuration(self, configuration_id: UUID, expected_version: int) -> None:
        await self.write_one(
            "select public.delete_configuration(%s, %s)", (configuration_id, expected_version)
        )

    async def _reveal_secret(self, configuration_id: UUID) -> str | None:
        row = await self.write_one("select public.reveal_secret(%s) as value", (configuration_id,))
        return None if row is None or row["value"] is None else str(row["value"])

    async def _secrets_equal(self, first: UUID, second: UUID) -> bool:
        row = await self.fetch_one("select public.secrets_equal(%s, %s) as same", (first, second))
        return bool(row is not None and row["same"])

    async def _reveal_history_secret(self, history_id: int) -> str | None:
        row = await self.write_one(
            "select public.reveal_history_secret(%s) as value", (history_id,)
        )
        return None if row is None or row["value"] is None else str(row["value"])

    async def _configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int
    ) -> list[ConfigHistoryEntry]:
        rows = await self.fetch_all(_HISTORY, (project_id, environment_id, key, limit))
        return [history_from_row(r) for r in rows]

    async def _restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        row = await self.write_one(
            "select * from public.restore_configuration(%s, %s)", (history_id, expected_version)
        )
        if row is None or row["id"] is None:
            raise not_done("restore_configuration")
        return configuration_from_row(row)

    # -- dependencies ---------------------------------------------------------------------
    async def _list_dependencies(
        self,
        project_id: UUID,
        environment_ids: Sequence[UUID | None] | None,
        name_filter: str | None,
        limit: int | None,
        offset: int,
    ) -> list[Dependency]:
        where = ["project_id = %s"]
        params: list[Any] = [project_id]
        if environment_ids is not None:
            ids = [e for e in environment_ids if e is not None]
            where.append("(environment_id = any(%s::uuid[]) or (%s and environment_id is null))")
            params += [ids, any(e is None for e in environment_ids)]
        if name_filter:
            where.append("package_name ilike %s")
            params.append(_like_pattern(name_filter))
        query = (
            f"select {_DEPENDENCY_COLUMNS} from public.dependencies where {' and '.join(where)} "
            'order by package_manager, package_name collate "C", environment_id nulls first, '
            'resolved_version collate "C" nulls first, id'
        )
        if limit is not None:
            query += " limit %s"
            params.append(limit)
        if offset:
            query += " offset %s"
            params.append(offset)

        async def work(cur: AsyncCursor[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            # A whole project is ~100k rows: sort them in memory, not in temp files.
            await cur.execute("select set_config('work_mem', '64MB', true)")
            await cur.execute(query, params, binary=True)
            return await cur.fetchall()

        raw = await self.read(work, row_factory=tuple_row)
        return _build_dependencies(project_id, raw)

    async def _dependency_page(
        self,
        project_id: UUID,
        after: PageKey | None,
        limit: int,
    ) -> list[tuple[str, Dependency]]:
        manager, fold, last_id = after if after is not None else (None, None, None)
        query = (
            f"select {_DEPENDENCY_COLUMNS}, package_fold "
            "from public.dependency_page_next(%s, %s, %s, %s, %s)"
        )
        params = (project_id, manager, fold, last_id, limit)

        async def work(cur: AsyncCursor[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            await cur.execute(query, params, binary=True)
            return await cur.fetchall()

        raw = await self.read(work, row_factory=tuple_row)
        return _build_folded_dependencies(project_id, raw)

    async def _dependency_summary(
        self, project_id: UUID, environment_ids: list[UUID], today: date
    ) -> DependencySummary | None:
        row = await self.fetch_one(
            "select * from public.dependency_summary(%s, %s::uuid[], %s)",
            (project_id, environment_ids, today),
        )
        if row is None:
            return None
        # Off the loop: the client's share of "drifted" runs the drift rules (~35 µs a package).
        return await asyncio.to_thread(dependency_summary_from_row, row)

    async def _report_dependencies(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        packages: Sequence[DependencyInput],
    ) -> int:
        payload = dependency_payload(packages)
        row = await self.write_one(
            "select public.report_dependencies(%s, %s, %s) as n",
            (project_id, environment_id, Jsonb(payload)),
        )
        return int(row["n"]) if row and row["n"] is not None else 0

    # -- package facts ----------------------------------------------------------------------
    async def _report_package_facts(self, payload: dict[str, Any]) -> int:
        row = await self.write_one("select public.report_package_facts(%s) as n", (Jsonb(payload),))
        return int(row["n"]) if row and row["n"] is not None else 0

    async def _ignore_advisory(
        self, project_id: UUID, advisory_id: str, until: date, reason: str
    ) -> Any:
        row = await self.write_one(
            "select * from public.ignore_advisory(%s, %s, %s, %s)",
            (project_id, advisory_id, until, reason),
        )
        if row is None or row["id"] is None:
            raise not_done("ignore_advisory")
        return row

    async def _unignore_advisory(self, project_id: UUID, advisory_id: str) -> None:
        await self.write_one("select public.unignore_advisory(%s, %s)", (project_id, advisory_id))

    async def _set_environment_owner(self, environment_id: UUID, user_id: UUID) -> Environment:
        row = await self.write_one(
            "select * from public.set_environment_owner(%s, %s)", (environment_id, user_id)
        )
        if row is None or row["id"] is None:
            raise not_done("set_environment_owner")
        return environment_from_row(row)

    async def _project_facts(self, project_id: UUID) -> tuple[list[Any], list[Any]]:
        advisories = await self.fetch_all(
            "select * from public.project_advisories(%s)", (project_id,)
        )
        freshness = await self.fetch_all(
            "select * from public.project_freshness(%s)", (project_id,)
        )
        return list(advisories), list(freshness)

    # -- health ---------------------------------------------------------------------------
    async def _health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        rows = await self.fetch_all(
            "select * from public.health_checks where environment_id = any(%s::uuid[]) "
            "and recorded_at >= %s order by environment_id, metric_type, recorded_at",
            (list(environment_ids), since),
        )
        return [health_from_row(r) for r in rows]

    async def health_sparklines(
        self,
        environment_ids: Sequence[UUID],
        since: datetime,
        slots: int,
        *,
        until: datetime | None = None,
    ) -> list[HealthSlots]:
        ids = sorted(set(environment_ids))
        if until is None or len(ids) > 500 or len(ids) < 2 * _SPARKLINES_MIN_PART:
            # One call: a window ending at the database's now() (two calls would each take
            # their own), few environments, or too many (the database says why).
            parts = [list(environment_ids)]
        else:
            # Halves read at once, on two connections: the database works out one environment
            # at a time on one core, and the parts' rows (ordered by environment, the ids split
            # in order) joined are one call's. 500 machines at 50M points: 0.22 -> 0.13 s with
            # health_latest beside them (2 cores, load ~1).
            half = (len(ids) + 1) // 2
            parts = [ids[:half], ids[half:]]

        async def read(part: list[UUID]) -> list[tuple[Any, ...]]:
            async def work(cur: AsyncCursor[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
                await cur.execute(_SPARKLINES, (part, since, slots, until), binary=True)
                return await cur.fetchall()

            return await self.read(work, row_factory=tuple_row)

        found = await asyncio.gather(*(read(part) for part in parts))
        return _build_sparklines([row for rows in found for row in rows])

    async def health_latest(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        rows = await self.fetch_all(
            "select * from public.health_latest(%s::uuid[], %s)", (list(environment_ids), since)
        )
        return [health_from_row(r) for r in rows]

    async def _report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        payload = health_payload(points)
        row = await self.write_one(
            "select public.report_health(%s, %s) as n", (environment_id, Jsonb(payload))
        )
        return int(row["n"]) if row and row["n"] is not None else 0

    async def rollup_health(self, keep_days: int = 7) -> int:
        row = await self.write_one(
            "select public.rollup_health_checks(make_interval(days => %s)) as n", (keep_days,)
        )
        return int(row["n"]) if row and row["n"] is not None else 0

    # -- audit ----------------------------------------------------------------------------
    async def _audit_log(
        self, team_id: UUID, limit: int, before_id: int | None
    ) -> list[AuditEntry]:
        rows = await self.fetch_all(
            "select a.*, p.username as actor_username from public.audit_log a "
            "left join public.profiles p on p.id = a.actor_id "
            "where a.team_id = %s and (%s::bigint is null or a.id < %s) "
            "order by a.id desc limit %s",
            (team_id, before_id, before_id, limit),
        )
        return [audit_from_row(r) for r in rows]
