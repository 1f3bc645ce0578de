"""The Backend contract for configuration, dependencies, health and audit (``base.Backend``
builds on it, as each transport has its ``data`` module beside its ``backend``).

The rules are written here once, around the calls each transport translates
(``transport.Transport``): a version conflict carries the row now stored, a revealed value is
registered for log redaction, rows come in the contract's order, reads are bounded, reports
are checked before they are sent.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Collection, Sequence
from datetime import date, datetime
from uuid import UUID

from devsync_tui.backend import refusals, rows_facts, rules
from devsync_tui.backend.errors import Conflict, PermissionDenied
from devsync_tui.backend.transport import PageKey, Transport
from devsync_tui.core import clock
from devsync_tui.core.models import (
    AcceptedRisk,
    AdvisoryCheck,
    AuditEntry,
    ConfigHistoryEntry,
    ConfigType,
    Configuration,
    Dependency,
    DependencyInput,
    DependencySummary,
    EffectiveConfigRow,
    Environment,
    Freshness,
    HealthCheck,
    HealthPoint,
    HealthSlots,
    Identity,
    PackageFacts,
    PackageManager,
    Role,
)

#: Rows of one page of ``dependency_pages``: 500 machines' rows of ~40 packages.
DEPENDENCY_PAGE_ROWS = 20_000


class DataContract(Transport):
    """Configuration, dependencies, health and audit of the Backend contract."""

    #: The most rows one request answers (PostgREST's max_rows on Supabase: a bigger page is
    #: several requests one after the other); None: any number.
    rows_per_request: int | None = None

    # -- identity (the rules below ask who I am) --------------------------------------------
    @abc.abstractmethod
    async def whoami(self) -> Identity: ...

    @abc.abstractmethod
    async def my_roles(self) -> dict[UUID, Role]:
        """My role in each team I belong to."""

    # -- configuration ----------------------------------------------------------------------
    async def list_configurations(
        self, project_id: UUID, environment_id: UUID | None = None
    ) -> list[Configuration]:
        """The rows of one scope: project defaults (None) or one environment's overrides."""
        match = {"project_id": project_id, "environment_id": environment_id}
        found = await self._rows("configurations", match)
        return rules.by_key(found)

    async def project_keys(self, project_id: UUID) -> list[tuple[UUID | None, str]]:
        """Every configuration key of the project I may see, with its scope (None: the
        defaults; else the environment that overrides or adds it), by scope then key. One
        read for the palette's "jump to any key"; no values."""
        found: list[Configuration] = await self._rows("configurations", {"project_id": project_id})
        keys = {(c.environment_id, c.key) for c in found}
        return sorted(keys, key=lambda k: (k[0] is not None, str(k[0] or ""), k[1]))

    async def effective_configuration(self, environment_id: UUID) -> list[EffectiveConfigRow]:
        """The environment's configuration: its overrides and the defaults they leave; NotFound
        when I may not see the environment."""
        found = await self._effective_configuration(environment_id)
        if not found and await self._row("environments", environment_id) is None:
            raise refusals.not_visible("environments")
        return rules.by_key(found)

    async def project_configuration(self, project_id: UUID) -> list[EffectiveConfigRow]:
        """The project defaults as effective rows (source ``"default"``), with updated_by."""
        return rules.by_key(await self._project_configuration(project_id))

    async def effective_configuration_keys(
        self, environment_id: UUID, keys: Collection[str]
    ) -> list[EffectiveConfigRow]:
        """``effective_configuration``'s rows whose key is one of ``keys`` (same values,
        masking, source and who changed them): a live change re-reads only what it touched.
        A key the environment does not have is simply absent; so is everything when I may
        not see the environment (no NotFound: a deleted key and a hidden one look alike)."""
        if not keys:
            return []
        return rules.by_key(await self._effective_configuration_keys(environment_id, sorted(keys)))

    async def project_configuration_keys(
        self, project_id: UUID, keys: Collection[str]
    ) -> list[EffectiveConfigRow]:
        """``project_configuration``'s rows whose key is one of ``keys``."""
        if not keys:
            return []
        return rules.by_key(await self._project_configuration_keys(project_id, sorted(keys)))

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
        """Create (expected_version None) or update; Conflict when the version moved on."""
        try:
            return await self._save_configuration(
                project_id,
                environment_id,
                key,
                value,
                is_secret=is_secret,
                type=type,
                expected_version=expected_version,
            )
        except Conflict as exc:
            raise await rules.with_current(
                exc, self._stored(project_id, environment_id, key)
            ) from None

    async def delete_configuration(self, configuration_id: UUID, expected_version: int) -> None:
        """Delete if still at ``expected_version``; Conflict (with the current row) if not."""
        try:
            await self._delete_configuration(configuration_id, expected_version)
        except Conflict as exc:
            raise await rules.with_current(
                exc, self._row("configurations", configuration_id)
            ) from None

    async def reveal_secret(self, configuration_id: UUID) -> str:
        """The secret's value if the rule allows (audited); PermissionDenied otherwise."""
        return rules.revealed(await self._reveal_secret(configuration_id))

    async def secrets_equal(self, first: UUID, second: UUID) -> bool:
        """Whether two configurations hold the same value, revealing neither and recording no
        reveal: for whoever may reveal both (PermissionDenied otherwise), as Compare asks."""
        return await self._secrets_equal(first, second)

    async def configuration_history(
        self, project_id: UUID, environment_id: UUID | None, key: str, limit: int = 100
    ) -> list[ConfigHistoryEntry]:
        """Newest first; includes versions of deleted rows with the same scope and key."""
        limit = rules.at_least_one(limit)
        found = await self._configuration_history(project_id, environment_id, key, limit)
        return rules.newest_first(found)

    async def reveal_history_secret(self, history_id: int) -> str:
        """A history entry's secret value, by the same rule as ``reveal_secret``."""
        return rules.revealed(await self._reveal_history_secret(history_id))

    async def confirm_save(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        key: str,
        value: str,
        *,
        expected_version: int | None,
    ) -> bool:
        """After ``OutcomeUnknown``: did that save happen? True when the version it would have
        written exists, was written by me and (for values I can read) holds ``value``; False
        when it does not exist or someone else wrote it. Raises Unavailable while unreachable.
        A save is a single transaction, so the answer is "once" or "not at all"."""
        me = (await self.whoami()).user_id
        for entry in await self.configuration_history(project_id, environment_id, key, limit=50):
            if expected_version is None:
                # A create: the key's newest creation, unless a delete came after it (a key
                # created again continues the numbering of the one deleted before it).
                if entry.op == "delete":
                    return False
                if entry.op != "insert":
                    continue
            elif entry.version != expected_version + 1 or entry.op == "delete":
                continue
            if entry.changed_by != me:
                return False
            return entry.is_secret or entry.value == value
        return False

    async def restore_configuration(
        self, history_id: int, expected_version: int | None
    ) -> Configuration:
        """Write a history entry's value back as a new version (secrets never leave the DB)."""
        try:
            return await self._restore_configuration(history_id, expected_version)
        except Conflict as exc:
            raise await rules.with_current(exc, self._stored_for_history(history_id)) from None

    async def _stored(
        self, project_id: UUID, environment_id: UUID | None, key: str
    ) -> Configuration | None:
        """The configuration row now stored under a scope and key, if any."""
        match = {"project_id": project_id, "environment_id": environment_id, "key": key}
        found: list[Configuration] = await self._rows("configurations", match)
        return found[0] if found else None

    async def _stored_for_history(self, history_id: int) -> Configuration | None:
        """The configuration row now stored under the scope and key of a history entry."""
        entry: ConfigHistoryEntry | None = await self._row("configuration_history", history_id)
        if entry is None:
            return None
        return await self._stored(entry.project_id, entry.environment_id, entry.key)

    # -- dependencies -----------------------------------------------------------------------
    async def list_dependencies(
        self,
        project_id: UUID,
        *,
        environment_ids: Sequence[UUID | None] | None = None,
        name_filter: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Dependency]:
        """Dependency rows of a project (None in environment_ids = the baseline), ordered by
        package_manager, package_name (bytewise), baseline first, then environment; paged with
        limit/offset; ``name_filter`` is a case-insensitive substring of the package name."""
        if environment_ids is not None and not environment_ids:
            return []
        limit, offset = rules.page(limit, offset)
        return await self._list_dependencies(
            project_id, environment_ids, name_filter or None, limit, offset
        )

    async def dependency_pages(
        self,
        project_id: UUID,
        rows_per_page: int = DEPENDENCY_PAGE_ROWS,
        first_pages: Sequence[int] = (),
    ) -> AsyncGenerator[list[Dependency], None]:
        """A project's dependency rows a page at a time, each page whole packages (every row
        of a package, baseline and environments, in the same page), pages in package order
        (manager, then ``package_fold``; any order within a page; a page can end one
        manager's packages and begin the next's). About ``rows_per_page`` rows each, more
        when one package alone has more rows: only one page is held.

        ``first_pages``: the sizes of the first pages, in rows (whole packages as well), so
        that what fills a screen comes sooner than a whole page (20,000 rows take ~0.3 s to
        read and build)."""
        if rows_per_page < 1 or any(rows < 1 for rows in first_pages):
            raise ValueError("rows_per_page and first_pages must be at least 1")
        sizes = iter(first_pages)
        after: PageKey | None = None
        limit = next(sizes, rows_per_page)
        while True:
            page = await self._dependency_page(project_id, after, limit)
            if len(page) < limit:
                if page:
                    yield [dep for _, dep in page]
                return
            # The page ends inside its last package (or at its end): keep what comes before
            # that package, and read the package again with the next page.
            last, cut = _package_of(page[-1]), len(page) - 1
            while cut > 0 and _package_of(page[cut - 1]) == last:
                cut -= 1
            if cut == 0:  # one package fills the page: read it with room to spare
                limit *= 2
                continue
            fold, dep = page[cut - 1]
            yield [d for _, d in page[:cut]]
            after = (dep.package_manager.value, fold, dep.id)
            limit = next(sizes, rows_per_page)

    async def report_dependencies(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        packages: Sequence[DependencyInput],
    ) -> int:
        """Replace the dependency set of an environment (None = baseline) in one transaction.
        Returns the number of rows now stored."""
        rules.check_report("packages", refusals.MAX_PACKAGES, packages)
        return await self._report_dependencies(project_id, environment_id, packages)

    # -- package facts: advisories and freshness, stored once for everyone -------------------
    async def report_package_facts(
        self, advisories: Sequence[AdvisoryCheck], freshness: Sequence[Freshness]
    ) -> int:
        """Store what OSV and the registries said (docs/DATABASE.md ``report_package_facts``):
        only for versions and packages I report, never an older answer over a newer one.
        Returns how many versions and packages were written."""
        if not advisories and not freshness:
            return 0
        rules.check_report("versions", refusals.MAX_PACKAGES, advisories)
        rules.check_report("packages", refusals.MAX_PACKAGES, freshness)
        return await self._report_package_facts(
            rows_facts.package_facts_payload(advisories, freshness)
        )

    async def dependency_summary(
        self, project_id: UUID, environment_ids: Sequence[UUID]
    ) -> DependencySummary | None:
        """The project's team-wide dependency counts over its baseline and these environments,
        counted by the database (``dependency_summary``) as ``DriftMatrix.summary`` counts the
        matrix of the same rows, accepted risks judged by today's date (``core.clock``). None
        when the caller may not read the project's dependencies."""
        return await self._dependency_summary(
            project_id, list(dict.fromkeys(environment_ids)), clock.now().date()
        )

    async def package_facts(self, project_id: UUID) -> PackageFacts:
        """The stored advisories of the versions the project runs, and the freshness of its
        packages (per constraint), in (manager, name, version) order."""
        found, fresh = await self._project_facts(project_id)
        advisories = [rows_facts.version_advisory_from_row(r) for r in found]
        advisories.sort(key=lambda a: (a.package_manager, a.package_name, a.version, a.advisory.id))
        freshness = [rows_facts.freshness_from_row(r) for r in fresh]
        freshness.sort(
            key=lambda f: (f.package_manager, f.package_name, f.version_constraint or "")
        )
        return PackageFacts(tuple(advisories), tuple(freshness))

    # -- accepted risks ---------------------------------------------------------------------
    async def accepted_risks(self, project_id: UUID) -> list[AcceptedRisk]:
        """The project's accepted risks (expired ones too), by advisory id."""
        found: list[AcceptedRisk] = await self._rows("accepted_risks", {"project_id": project_id})
        return sorted(found, key=lambda r: (r.advisory_id.casefold(), r.advisory_id))

    async def ignore_advisory(
        self, project_id: UUID, advisory_id: str, until: date, reason: str
    ) -> AcceptedRisk:
        """Accept an advisory for the project until a date (admins and members; again: the
        date and reason are replaced). Audited."""
        return rows_facts.accepted_risk_from_row(
            await self._ignore_advisory(project_id, advisory_id, until, reason)
        )

    async def unignore_advisory(self, project_id: UUID, advisory_id: str) -> None:
        """Withdraw an accepted risk (NotFound when there is none). Audited."""
        await self._unignore_advisory(project_id, advisory_id)

    # -- environments: whose machine --------------------------------------------------------
    @abc.abstractmethod
    async def _set_environment_owner(self, environment_id: UUID, user_id: UUID) -> Environment:
        """RPC ``set_environment_owner``: the environment as stored."""

    # -- health -----------------------------------------------------------------------------
    async def health_series(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        """The raw points recorded since ``since``, by environment, metric, then time."""
        if not environment_ids:
            return []
        return rules.health_order(await self._health_series(environment_ids, since))

    @abc.abstractmethod
    async def health_sparklines(
        self,
        environment_ids: Sequence[UUID],
        since: datetime,
        slots: int,
        *,
        until: datetime | None = None,
    ) -> list[HealthSlots]:
        """Each environment's points per metric averaged into ``slots`` equal time slots over
        [since, until] (until: the database's now() when None), computed by the database (RPC
        ``health_sparklines``): one ``HealthSlots`` per environment and metric with a point in
        the window, its ``slots`` averages and counts in slot order (None / 0: an empty slot);
        only environments I may read contribute, ordered by environment, then metric. At most
        500 environments and 1..1440 slots, ``since`` before ``until``: InvalidInput
        otherwise."""

    @abc.abstractmethod
    async def health_latest(
        self, environment_ids: Sequence[UUID], since: datetime
    ) -> list[HealthCheck]:
        """The newest point with a number per environment and metric recorded since ``since``
        (RPC ``health_latest``), ordered by environment and metric; only environments I may
        read. At most 500 environments: InvalidInput otherwise."""

    async def report_health(self, environment_id: UUID, points: Sequence[HealthPoint]) -> int:
        """Insert points; a point already stored (same env, metric, recorded_at) is skipped,
        so retries never duplicate. Returns the number inserted."""
        rules.check_report("health points", refusals.MAX_HEALTH_POINTS, points)
        rules.check_json([p.value for p in points])
        return await self._report_health(environment_id, points)

    @abc.abstractmethod
    async def rollup_health(self, keep_days: int = 7) -> int:
        """Retention: raw health points older than ``keep_days`` become hourly roll-ups (team
        admins only: PermissionDenied otherwise). Returns how many raw points were folded."""

    # -- audit ------------------------------------------------------------------------------
    async def audit_log(
        self, team_id: UUID, *, limit: int = 200, before_id: int | None = None
    ) -> list[AuditEntry]:
        """The team's audit entries, newest first (older than ``before_id``); team admins only:
        row-level security shows others nothing, which is told as PermissionDenied."""
        found = await self._audit_log(team_id, rules.at_least_one(limit), before_id)
        if not found and before_id is None and (await self.my_roles()).get(team_id) != Role.ADMIN:
            raise PermissionDenied(refusals.AUDIT_ADMINS_ONLY)
        return rules.newest_first(found)


def _package_of(row: tuple[str, Dependency]) -> tuple[PackageManager, str]:
    """A page row's page key: its manager and ``package_fold``."""
    return row[1].package_manager, row[0]
