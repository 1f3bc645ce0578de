"""The loop of ``devsync agent``: register, sample, report, re-scan, survive outages, stop.

Each ``interval`` the agent samples cpu/memory/disk into a bounded buffer, then syncs: ping
the backend (the round trip is the ``ping`` point), store the buffered points in batches
(``report_health``; the database skips points it already has, so a retried batch never
duplicates), re-scan dependencies when a lockfile changed (``report_dependencies``, one
transaction; a file that does not parse uploads nothing and sets status ``error``), compare the
checkout's dotenv files with the configuration (``report_config_states``), and set
status ``active`` with ``last_sync_at``. While the backend is unreachable the points wait in
the buffer (the oldest dropped past its capacity) and syncs are retried with exponential
backoff. SIGTERM/SIGINT: one last flush (bounded), status ``offline``, exit 0 — or exit 1 when
measurements were lost (still buffered at the stop because the backend was unreachable, or
dropped from a full buffer), said in one sentence with how many.

With ``once`` the run is one cycle, and its exit code says whether every part of it was
reported: 0 when it was, 1 when the dependencies or the configuration states were not (a
lockfile or dotenv file that does not parse, a report the database refused as invalid), 3 when
they were not because this user or token may not report them. Health points that cannot be
stored, and a backend that cannot be reached, end the run with their error (2, 3 or 4); the
long-running agent says each problem once and keeps going.

:class:`Agent` takes :class:`AgentOptions` and two callbacks: ``say`` receives each message for
the person (registration, outages, a lockfile that does not parse), ``progress`` each slow step
of opening the backend. It prints nothing itself; :attr:`Agent.report` says what a run did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from devsync_tui import locations
from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError, InvalidInput, PermissionDenied, Unavailable
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.core import clock
from devsync_tui.core.lockfiles import LockfileError, scan_path
from devsync_tui.core.machine_token import MachineToken
from devsync_tui.core.models import Environment, EnvStatus, Project
from devsync_tui.core.statuses import assess
from devsync_tui.exit_codes import EXIT_DENIED, EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine import links
from devsync_tui.machine.config_status import ConfigReporter
from devsync_tui.machine.connect import connected
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.health import (
    MAX_BATCH,
    Backoff,
    PointBuffer,
    Sampler,
    lockfile_fingerprint,
    ping_point,
)
from devsync_tui.machine.targets import (
    NO_PROJECT,
    TargetQuery,
    environment_named,
    find_project,
    link_scope,
    machine_target,
)

_log = logging.getLogger("devsync.agent")
STOP_FLUSH_SECONDS = 5.0
#: The parts of a cycle that can fail without ending it (``Report.failed``).
DEPENDENCIES = "dependencies"
CONFIG_STATES = "configuration states"
#: Health retention (an admin's agent): raw points older than this become hourly roll-ups.
RETENTION_DAYS = 7
ROLLUP_EVERY_SECONDS = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """One ``devsync agent``: where and how often it measures, and for which environment.

    ``profile``, ``user``, ``project`` and ``env`` are as the user typed them; without ``env``
    the environment linked to the checkout at ``path`` is used, else one named after the host.
    With ``token`` the agent is that token's machine: its environment is the token's.
    """

    path: Path
    interval: float = 60.0
    once: bool = False
    scan: bool = True
    use_osv: bool = True
    use_registry: bool = True
    offline: bool = False
    buffer: int = 10_000
    profile: str | None = None
    user: str | None = None
    project: str | None = None
    env: str | None = None
    token: MachineToken | None = None


@dataclass
class Report:
    """What one run of the agent did (printed by ``--once``). ``failed`` names the parts of the
    last cycle that were not reported (``dependencies``, ``configuration states``); ``errors``
    says why, one sentence each."""

    target: str = ""
    points_stored: int = 0
    points_buffered: int = 0
    points_dropped: int = 0
    dependencies: int | None = None
    config_states: int | None = None
    status: str = ""
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _measurements(count: int) -> str:
    return f"{count} measurement{'' if count == 1 else 's'}"


def _named(exc: PermissionDenied, vague: str, name: str) -> PermissionDenied:
    """The database's refusal with the thing it refused named: ``this environment`` becomes
    ``storefront/laptop`` (else the name is added at the end). A machine token's refusal
    (TokenRefused) already says which token and why: left as it is."""
    if type(exc) is not PermissionDenied:
        return exc
    text = str(exc).rstrip(".")
    text = text.replace(vague, name) if vague in text else f"{text} ({name})"
    return PermissionDenied(f"{text}.")


def default_env_name() -> str:
    """This machine's name as an environment name (host name up to the first dot)."""
    name = socket.gethostname().split(".")[0].strip() or "machine"
    return name[:64]


class Agent:
    """One ``devsync agent`` process."""

    def __init__(
        self,
        options: AgentOptions,
        say: Callable[[str], None],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.say = say
        self.progress = progress or say
        self.interval = options.interval
        self.root = options.path.resolve()
        self.buffer = PointBuffer(options.buffer)
        self.backoff = Backoff(initial=min(1.0, self.interval), maximum=max(300.0, self.interval))
        self.stopping = asyncio.Event()
        self.report = Report()
        self.backend: Backend | None = None
        self._backend_cm: AbstractAsyncContextManager[Backend] | None = None
        self.project: Project | None = None
        self.env: Environment | None = None
        self.fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._scan_error: str | None = None
        self._last_rollup = 0.0
        self._rollup_denied = False
        self._outage = False
        self._dropped_told = 0  # buffer.dropped when an outage's losses were last said
        self.config = ConfigReporter(say)

    # -- lifecycle --------------------------------------------------------------------------
    async def run(self) -> int:
        """Run until stopped (0; 1 when measurements were lost), or one round with ``once``
        (0 when every part of it was reported, else 1, or 3 when a part was not permitted).
        A ``path`` that is not a folder is an InputError, before anything is read or linked."""
        if not self.root.is_dir():
            raise InputError(f"{self.options.path} is not a folder.")
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                loop.add_signal_handler(signum, self.stopping.set)
        sampler = Sampler(self.root)
        try:
            code = await self._loop(sampler)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                    loop.remove_signal_handler(signum)
            await self._shutdown()
        if self.options.once:
            return code
        return self._stopped_code(code)

    def _stopped_code(self, code: int) -> int:
        """The long-running agent's exit code once stopped: 1, said with the numbers, when
        measurements were lost; else ``code``."""
        unsent, dropped = self.report.points_buffered, self.report.points_dropped
        if not unsent and not dropped:
            return code
        parts = []
        if unsent:
            parts.append(f"{unsent} still buffered (the backend was unreachable)")
        if dropped:
            parts.append(
                f"{dropped} dropped earlier from the full buffer (--buffer {self.buffer.capacity})"
            )
        self.say(f"stopped; {_measurements(unsent + dropped)} lost: {' and '.join(parts)}.")
        return EXIT_PROBLEMS

    async def _loop(self, sampler: Sampler) -> int:
        if self.options.once:
            self.buffer.extend(sampler.sample(clock.now()))
            await self._sync()
            return self._once_code()
        sampling = asyncio.create_task(self._sample_forever(sampler))
        try:
            while not self.stopping.is_set():
                try:
                    if not await self._sync_unless_stopped():
                        break
                except Unavailable as exc:
                    delay = self.backoff.next_delay()
                    self._announce_outage(str(exc), delay)
                else:
                    self.backoff.reset()
                    delay = self.interval
                await self._sleep(delay)
        finally:
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
        return 0

    async def _sync_unless_stopped(self) -> bool:
        """One sync; a stop request cancels it (an outage must not delay SIGTERM). False when
        it was cancelled that way."""
        sync = asyncio.ensure_future(self._sync())
        stop = asyncio.ensure_future(self.stopping.wait())
        done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if sync not in done:
            sync.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sync
            return False
        sync.result()  # re-raise its error, if any
        return True

    async def _sample_forever(self, sampler: Sampler) -> None:
        """Sample every interval, whatever the syncs are doing (they may hang on an outage)."""
        while not self.stopping.is_set():
            self.buffer.extend(sampler.sample(clock.now()))
            await self._sleep(self.interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    def _announce_outage(self, reason: str, delay: float) -> None:
        _log.info("sync failed (%s); retrying in %.1f s", reason, delay)
        if not self._outage:
            self._outage = True
            self.say(f"backend unreachable ({reason}); buffering measurements and retrying.")

    async def _shutdown(self) -> None:
        if self.backend is not None and self.env is not None and not self.options.once:
            with contextlib.suppress(DevSyncError, TimeoutError):
                await asyncio.wait_for(self._stop_sync(), STOP_FLUSH_SECONDS)
        await self._disconnect()
        self.report.points_buffered = len(self.buffer)
        self.report.points_dropped = self.buffer.dropped

    async def _stop_sync(self) -> None:
        assert self.backend is not None
        assert self.env is not None
        await self._flush()
        await self.backend.set_environment_status(self.env.id, EnvStatus.OFFLINE)
        self.report.status = EnvStatus.OFFLINE.value

    async def _disconnect(self) -> None:
        cm, self._backend_cm, self.backend = self._backend_cm, None, None
        if cm is not None:
            with contextlib.suppress(Exception):
                await cm.__aexit__(None, None, None)

    # -- one sync ---------------------------------------------------------------------------
    async def _sync(self) -> None:
        try:
            backend = await self._connected()
            assert self.env is not None
            rtt = await backend.ping()
            self.buffer.extend([ping_point(rtt, clock.now())])
            await self._flush()
            await self._sync_dependencies()
            await self.config.sync(backend, self.env.id, self.root)
            self.report.config_states = self.config.reported
            self._note_config_problem()
            await self._retention(backend)
            status = EnvStatus.ERROR if self._scan_error else EnvStatus.ACTIVE
            await backend.set_environment_status(self.env.id, status, last_sync_at=clock.now())
            self.report.status = status.value
        except PermissionDenied as exc:
            if not self.report.target:  # not registered: _register named what it could not do
                raise
            raise _named(exc, "this environment", self.report.target) from exc
        except Unavailable:
            # A backend that failed to open is opened afresh next time; an open one keeps
            # its pool, which reconnects by itself.
            if self.env is None:
                await self._disconnect()
            raise

    def _note_config_problem(self) -> None:
        problem = self.config.problem
        if problem is not None and problem not in self.report.errors:
            self.report.errors.append(problem)

    def _once_code(self) -> int:
        """The exit code of ``once``: which parts of the cycle were not reported, and why."""
        failed = []
        if self._scan_error is not None:
            failed.append(DEPENDENCIES)
        if self.config.problem is not None:
            failed.append(CONFIG_STATES)
        self.report.failed = failed
        if not failed:
            return EXIT_OK
        return EXIT_DENIED if self.config.denied else EXIT_PROBLEMS

    async def _connected(self) -> Backend:
        if self.backend is None:
            o = self.options
            cm = connected(o.profile, o.user, progress=self.progress, token=o.token)
            self.backend = await cm.__aenter__()
            self._backend_cm = cm
        if self.env is None:
            await self._register(self.backend)
        return self.backend

    async def _flush(self) -> None:
        assert self.backend is not None
        assert self.env is not None
        while len(self.buffer):
            batch, last = self.buffer.peek(MAX_BATCH)
            stored = await self.backend.report_health(self.env.id, batch)
            self.buffer.drop_through(last)
            self.report.points_stored += stored
            self._outage_over()

    def _outage_over(self) -> None:
        # Said when the first batch after an outage is stored, wherever that happens (a sync,
        # or the last flush at shutdown): a stop right after it must not hide that it did.
        if self._outage:
            self._outage = False
            dropped, self._dropped_told = (
                self.buffer.dropped - self._dropped_told,
                self.buffer.dropped,
            )
            lost = (
                f" ({_measurements(dropped)} dropped from the full buffer before it came back)"
                if dropped
                else ""
            )
            self.say(f"backend reachable again; buffered measurements stored{lost}.")

    async def _sync_dependencies(self) -> None:
        if not self.options.scan:
            return
        assert self.backend is not None
        assert self.env is not None
        fingerprint = await asyncio.to_thread(lockfile_fingerprint, self.root)
        if fingerprint == self.fingerprint:
            return
        if not fingerprint:
            self.fingerprint = fingerprint  # nothing to report: leave what is stored alone
            return
        await self.backend.set_environment_status(self.env.id, EnvStatus.SYNCING)
        try:
            result = await asyncio.to_thread(scan_path, self.root)
        except LockfileError as exc:
            self._scan_failed(str(exc), fingerprint)
            return
        # `devsync scan`'s rules (core/statuses.py): OSV decides vulnerable, the registries
        # outdated; where they cannot answer (offline), the status stored for the same version
        # is kept.
        previous = await self.backend.list_dependencies(
            self.project_id, environment_ids=[self.env.id]
        )
        for warning in result.warnings:
            _log.warning("%s", warning)
        assessment = await assess(
            result.packages,
            previous,
            use_osv=self.options.use_osv,
            use_registry=self.options.use_registry,
            offline=self.options.offline,
        )
        for note in assessment.notes:
            _log.info("%s", note)
        packages = assessment.inputs
        try:
            count = await self.backend.report_dependencies(self.project_id, self.env.id, packages)
        except InvalidInput as exc:
            self._scan_failed(str(exc), fingerprint)
            return
        await self.backend.report_package_facts(assessment.advisory_checks, assessment.freshness)
        self.fingerprint = fingerprint
        self._save_fingerprint(fingerprint)
        self._scan_error = None
        self.report.dependencies = count
        _log.info("reported %d dependencies from %d files", count, len(result.files))

    async def _retention(self, backend: Backend) -> None:
        """Once a day, an admin's agent rolls old raw health points up into hourly ones
        (health_checks must not grow without end). Other users' agents leave it to admins."""
        now = clock.now().timestamp()
        if self._rollup_denied or now - self._last_rollup < ROLLUP_EVERY_SECONDS:
            return
        try:
            folded = await backend.rollup_health(RETENTION_DAYS)
        except PermissionDenied:
            self._rollup_denied = True
            return
        self._last_rollup = now
        if folded:
            _log.info("retention: rolled %d raw health points up into hourly points", folded)

    def _scan_failed(self, message: str, fingerprint: tuple[tuple[str, int, int], ...]) -> None:
        # Remember the fingerprint: the same broken file is not re-read every interval.
        self.fingerprint = fingerprint
        if message != self._scan_error:
            self.say(f"dependencies not reported: {message}")
            self.report.errors.append(message)
        self._scan_error = message

    def _state_file(self) -> Path:
        assert self.env is not None
        return locations.state_dir() / "agent" / f"{self.env.id}.json"

    def _load_fingerprint(self) -> None:
        """The fingerprint of the last successful report (so ``--once`` from cron re-scans
        only when a lockfile changed since the previous run, too)."""
        try:
            data = json.loads(self._state_file().read_text(encoding="utf-8"))
            if data.get("root") == str(self.root):
                self.fingerprint = tuple(tuple(item) for item in data["fingerprint"])
        except (OSError, ValueError, KeyError, TypeError):
            self.fingerprint = None

    def _save_fingerprint(self, fingerprint: tuple[tuple[str, int, int], ...]) -> None:
        path = self._state_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"root": str(self.root), "fingerprint": fingerprint}))
            tmp.replace(path)
        except OSError as exc:  # only costs a re-scan next time
            _log.warning("could not save the agent state %s: %s", path, exc)

    @property
    def project_id(self) -> UUID:
        assert self.project is not None
        return self.project.id

    # -- registration -----------------------------------------------------------------------
    async def _register(self, backend: Backend) -> None:
        """Find (or create) this machine's environment and link it to this checkout. A machine
        token names its environment: nothing to find, create or link."""
        if isinstance(backend, MachineBackend):
            query = TargetQuery(self.options.profile, self.options.project, self.options.env)
            target = machine_target(backend, query)
            assert target.environment is not None
            self._registered(target.project, target.environment)
            return
        scope = await link_scope(backend, self.options.profile)
        link = links.find(*scope, cwd=self.root)
        project = await self._project(backend, link)
        environments = await backend.list_environments(project.id)
        env_ref = self.options.env
        env: Environment | None = None
        if env_ref is None and link is not None and link.project_id == project.id:
            env = next((e for e in environments if e.id == link.environment_id), None)
        if env is None:
            name = env_ref or default_env_name()
            env = environment_named(environments, name, project)
            me = await backend.whoami()
            if env is not None and env.user_id != me.user_id and env_ref is None:
                raise InputError(
                    f"Environment {env.name!r} of {project.name} belongs to another user; "
                    "pass --env NAME to name this machine's environment."
                )
            if env is None:
                try:
                    env = await backend.create_environment(project.id, name)
                except PermissionDenied as exc:
                    raise _named(exc, "this project", project.name) from exc
                self.say(f"created environment {project.name}/{env.name}.")
        links.save(*scope, project.id, env.id, cwd=self.root)
        self._registered(project, env)

    def _registered(self, project: Project, env: Environment) -> None:
        self.project, self.env = project, env
        self._load_fingerprint()
        self.report.target = f"{project.name}/{env.name}"
        if not self.options.once:
            self.say(f"reporting for {self.report.target} every {self.interval:g} s.")

    async def _project(self, backend: Backend, link: links.Link | None) -> Project:
        if self.options.project:
            return await find_project(backend, self.options.project)
        projects = await backend.list_projects()
        if link is not None:
            for project in projects:
                if project.id == link.project_id:
                    return project
        if len(projects) == 1:
            return projects[0]
        if not projects:
            raise InputError(NO_PROJECT)
        names = ", ".join(sorted(p.name for p in projects))
        raise InputError(f"Which project is this machine for? Pass --project (one of: {names}).")
