"""The agent's report of dependencies: the checkout's lockfiles, re-scanned when one changed.

A stat-only fingerprint of the lockfiles and manifests (``health.lockfile_fingerprint``) says
whether anything changed since the last successful report; it is kept in the state dir, so that
``devsync agent --once`` from cron re-scans only when a lockfile changed since the previous run,
too. A report is one transaction (``report_dependencies``); a file that does not parse, or a
report the database refused as invalid, uploads nothing and is said once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from devsync_tui import locations
from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import InvalidInput
from devsync_tui.core.lockfiles import LockfileError, scan_path
from devsync_tui.core.models import EnvStatus
from devsync_tui.core.statuses import assess
from devsync_tui.machine.health import lockfile_fingerprint

_log = logging.getLogger("devsync.agent")

#: (path, size, mtime_ns) of every lockfile and manifest (``health.lockfile_fingerprint``).
Fingerprint = tuple[tuple[str, int, int], ...]


class DependencyReporter:
    """The agent's report of dependencies, each sync. ``problem``: why the last scan was not
    reported (said through ``say`` and added to ``errors`` when it is new), None once one is;
    ``reported``: how many dependencies the last report stored. ``use_osv``,
    ``use_registry`` and ``offline`` are ``devsync scan``'s."""

    def __init__(
        self,
        root: Path,
        say: Callable[[str], None],
        errors: list[str],
        *,
        use_osv: bool = True,
        use_registry: bool = True,
        offline: bool = False,
    ) -> None:
        self.root = root
        self.say = say
        self.errors = errors
        self.use_osv = use_osv
        self.use_registry = use_registry
        self.offline = offline
        self.fingerprint: Fingerprint | None = None
        self.problem: str | None = None
        self.reported: int | None = None
        #: The scan notes already said (an unreachable OSV is said once, not every round).
        self._said: set[str] = set()

    async def sync(self, backend: Backend, project_id: UUID, environment_id: UUID) -> None:
        """Scan and report the checkout's dependencies when a lockfile changed since the last
        report (status ``syncing`` meanwhile)."""
        fingerprint = await asyncio.to_thread(lockfile_fingerprint, self.root)
        if fingerprint == self.fingerprint:
            return
        if not fingerprint:
            self.fingerprint = fingerprint  # nothing to report: leave what is stored alone
            return
        await backend.set_environment_status(environment_id, EnvStatus.SYNCING)
        try:
            result = await asyncio.to_thread(scan_path, self.root)
        except LockfileError as exc:
            self._failed(str(exc), fingerprint)
            return
        # `devsync scan`'s rules (core/statuses.py): OSV decides vulnerable, the registries
        # outdated; where they cannot answer (offline), the status stored for the same version
        # is kept.
        previous = await backend.list_dependencies(project_id, environment_ids=[environment_id])
        for warning in result.warnings:
            _log.warning("%s", warning)
        assessment = await assess(
            result.packages,
            previous,
            use_osv=self.use_osv,
            use_registry=self.use_registry,
            offline=self.offline,
        )
        for note in assessment.notes:
            _log.info("%s", note)
            if note not in self._said:  # why a registry or OSV did not answer: once a run
                self._said.add(note)
                self.say(note)
        packages = assessment.inputs
        try:
            count = await backend.report_dependencies(project_id, environment_id, packages)
        except InvalidInput as exc:
            self._failed(str(exc), fingerprint)
            return
        await backend.report_package_facts(assessment.advisory_checks, assessment.freshness)
        self.fingerprint = fingerprint
        self._save_fingerprint(environment_id, fingerprint)
        self.problem = None
        self.reported = count
        _log.info("reported %d dependencies from %d files", count, len(result.files))

    def _failed(self, message: str, fingerprint: Fingerprint) -> None:
        # Remember the fingerprint: the same broken file is not re-read every interval.
        self.fingerprint = fingerprint
        if message != self.problem:
            self.say(f"dependencies not reported: {message}")
            self.errors.append(message)
        self.problem = message

    def load_fingerprint(self, environment_id: UUID) -> None:
        """The fingerprint of the last successful report (so ``--once`` from cron re-scans
        only when a lockfile changed since the previous run, too)."""
        try:
            data = json.loads(_state_file(environment_id).read_text(encoding="utf-8"))
            if data.get("root") == str(self.root):
                self.fingerprint = tuple(tuple(item) for item in data["fingerprint"])
        except (OSError, ValueError, KeyError, TypeError):
            self.fingerprint = None

    def _save_fingerprint(self, environment_id: UUID, fingerprint: Fingerprint) -> None:
        path = _state_file(environment_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"root": str(self.root), "fingerprint": fingerprint}))
            tmp.replace(path)
        except OSError as exc:  # only costs a re-scan next time
            _log.warning("could not save the agent state %s: %s", path, exc)


def _state_file(environment_id: UUID) -> Path:
    return locations.state_dir() / "agent" / f"{environment_id}.json"
