"""What a transport translates: the calls ``base.Backend`` builds its contract on.

A transport (``postgres.PostgresBackend``, ``supabase.SupabaseBackend``) implements these as
plain calls to its database: no ordering, no sentences, no re-reads, no redaction. The rules
around them (list order, refusals, ``Conflict.current``, registering revealed values for log
redaction, bounds) are ``Backend``'s, written once. Each call raises only ``backend.errors``
types; rows are as the signed-in user sees them (row-level security decides).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    DependencySummary,
    EffectiveConfigRow,
    HealthCheck,
    HealthPoint,
    TeamMember,
)

#: Where a page of ``dependency_page_next`` goes on from: the last row's package manager (its
#: value), ``package_fold`` and id.
PageKey = tuple[str, str, UUID]


class Transport(abc.ABC):
    """The translated calls. Tables are public schema tables; ``key`` is the ``id`` column; a
    row comes back as its model (``rows.row_to_model``)."""

    # -- rows of a table --------------------------------------------------------------------
    @abc.abstractmethod
    async def _row(self, table: str, key: UUID | int) -> Any | None:
        """The row whose ``id`` is ``key``, or None when there is none I may see."""

    @abc.abstractmethod
    async def _rows(self, table: str, match: Mapping[str, Any]) -> list[Any]:
        """Every row I may see whose columns equal ``match`` (a None value matches NULL)."""

    @abc.abstractmethod
    async def _insert_row(self, table: str, values: Mapping[str, Any]) -> Any | None:
        """Insert one row (dict and list values are JSON); the stored row, None if none."""

    @abc.abstractmethod
    async def _update_row(self, table: str, key: UUID, values: Mapping[str, Any]) -> Any | None:
        """Set ``values`` on the row ``key``; the updated row, None when no row changed."""

    @abc.abstractmethod
    async def _delete_row(self, table: str, key: UUID) -> bool:
        """Delete the row ``key``; False when no row was deleted."""

    # -- members, configuration -------------------------------------------------------------
    @abc.abstractmethod
    async def _list_members(self, team_id: UUID) -> list[TeamMember]:
        """The team's members with their username and full name."""

    @abc.abstractmethod
    async def _effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        """RPC ``effective_configuration``."""

    @abc.abstractmethod
    async def _project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        """The project defaults as effective rows, each with who wrote its current version."""

    @abc.abstractmethod
    async def _effective_configuration_keys(
        self, environment_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        """RPC ``effective_configuration_keys``: the effective rows of these keys."""

    @abc.abstractmethod
    async def _project_configuration_keys(
        self, project_id: UUID, keys: Sequence[str]
    ) -> list[EffectiveConfigRow]:
        """``_project_configuration``'s rows of these keys."""

    @abc.abstractmethod
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
        """RPC ``save_configuration``."""

    @abc.abstractmethod
    async def _delete_configuration(self, configuration_id: UUID, expected_version: int) -> None:
        """RPC ``delete_configuration``."""

    @abc.abstractmethod
    async def _reveal_secret(self, configuration_id: UUID) -> str | None:
        """RPC ``reveal_secret`` (None: it returned no value)."""

    @abc.abstractmethod
    async def _secrets_equal(self, first: UUID, second: UUID) -> bool:
        """RPC ``secrets_equal``."""

    @abc.abstractmethod
    async def _reveal_history_secret(self, history_id: int) -> str | None:
        """RPC ``reveal_history_secret`` (None: it returned no value)."""

    @abc.abstractmethod
    async def _configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int
    ) -> list[ConfigHistoryEntry]:
        """The newest ``limit`` history entries of a scope and key, with the changer's name."""

    @abc.abstractmethod
    async def _restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        """RPC ``restore_configuration``."""

    # -- dependencies, health, audit ----------------------------------------------------------
    @abc.abstractmethod
    async def _list_dependencies(
        self,
        project_id: UUID,
        environment_ids: Sequence[UUID | None] | None,
        name_filter: str | None,
        limit: int | None,
        offset: int,
    ) -> list[Dependency]:
        """A page of the project's dependencies in the contract's order (package manager,
        package name bytewise, baseline first, then environment), filtered as asked."""

    @abc.abstractmethod
    async def _dependency_page(
        self,
        project_id: UUID,
        after: PageKey | None,
        limit: int,
    ) -> list[tuple[str, Dependency]]:
        """RPC ``dependency_page_next``: up to ``limit`` rows of a project after the keyset
        ``after`` (manager, fold, id), from the start with None, in (manager, fold, id) order,
        each with its fold; fewer only at the end."""

    @abc.abstractmethod
    async def _dependency_summary(
        self, project_id: UUID, environment_ids: list[UUID], today: date
    ) -> DependencySummary | None:
        """RPC ``dependency_summary``: its one row (None when it returns none)."""

    @abc.abstractmethod
    async def _report_dependencies(
        self, project_id: UUID, environment_id: UUID | None, packages: Sequence[DependencyInput]
    ) -> int:
        """RPC ``report_dependencies``."""

    @abc.abstractmethod
    async def _report_package_facts(self, payload: dict[str, Any]) -> int:
        """RPC ``report_package_facts`` (a machine: ``machine_report_package_facts``)."""

    @abc.abstractmethod
    async def _project_facts(self, project_id: UUID) -> tuple[list[Any], list[Any]]:
        """The rows of RPCs ``project_advisories`` and ``project_freshness``."""

    @abc.abstractmethod
    async def _ignore_advisory(
        self, project_id: UUID, advisory_id: str, until: date, reason: str
    ) -> Any:
        """RPC ``ignore_advisory``: the stored row."""

    @abc.abstractmethod
    async def _unignore_advisory(self, project_id: UUID, advisory_id: str) -> None:
        """RPC ``unignore_advisory``."""

    @abc.abstractmethod
    async def _health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        """The raw points of these environments recorded since ``since``."""

    @abc.abstractmethod
    async def _report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        """RPC ``report_health``."""

    @abc.abstractmethod
    async def _audit_log(
        self, team_id: UUID, limit: int, before_id: int | None
    ) -> list[AuditEntry]:
        """The newest ``limit`` audit entries of the team (older than ``before_id``), with the
        actor's name."""
