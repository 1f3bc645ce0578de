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
The parts it drives live beside it: ``registration`` (which environment, linked to the
checkout), ``health`` (sampling, the buffer, backoff, outages, retention), ``dependency_report``
and ``config_status`` (the two reports that can fail without ending a cycle).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError, PermissionDenied, Unavailable
from devsync_tui.core import clock
from devsync_tui.core.machine_token import MachineToken
from devsync_tui.core.models import Environment, EnvStatus, Project
from devsync_tui.exit_codes import EXIT_DENIED, EXIT_OK, EXIT_PROBLEMS
from devsync_tui.machine.config_status import ConfigReporter
from devsync_tui.machine.connect import connected
from devsync_tui.machine.dependency_report import DependencyReporter
from devsync_tui.machine.errors import InputError, named_refusal
from devsync_tui.machine.health import (
    MAX_BATCH,
    Backoff,
    Outage,
    PointBuffer,
    Retention,
    Sampler,
    measurements,
    ping_point,
)
from devsync_tui.machine.registration import register
from devsync_tui.machine.targets import TargetQuery

STOP_FLUSH_SECONDS = 5.0
#: The parts of a cycle that can fail without ending it (``Report.failed``).
DEPENDENCIES = "dependencies"
CONFIG_STATES = "configuration states"


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
        self.outage = Outage(self.buffer, say)
        self.dependencies = DependencyReporter(
            self.root,
            say,
            self.report.errors,
            use_osv=options.use_osv,
            use_registry=options.use_registry,
            offline=options.offline,
        )
        self.config = ConfigReporter(say)
        self.retention = Retention()

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
        self.say(f"stopped; {measurements(unsent + dropped)} lost: {' and '.join(parts)}.")
        return EXIT_PROBLEMS

    async def _loop(self, sampler: Sampler) -> int:
        if self.options.once:
            await asyncio.sleep(sampler.settle_seconds())  # a real CPU reading, not 0 %
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
                    self.outage.sync_failed(str(exc), delay)
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
        await self._sleep(sampler.settle_seconds())  # a real first CPU reading, not 0 %
        while not self.stopping.is_set():
            self.buffer.extend(sampler.sample(clock.now()))
            await self._sleep(self.interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

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
            if self.options.scan:
                await self.dependencies.sync(backend, self.project_id, self.env.id)
                self.report.dependencies = self.dependencies.reported
            await self.config.sync(backend, self.env.id, self.root)
            self.report.config_states = self.config.reported
            self._note_config_problem()
            await self.retention.run(backend)
            status = EnvStatus.ERROR if self.dependencies.problem else EnvStatus.ACTIVE
            await backend.set_environment_status(self.env.id, status, last_sync_at=clock.now())
            self.report.status = status.value
        except PermissionDenied as exc:
            if not self.report.target:  # not registered: _register named what it could not do
                raise
            raise named_refusal(exc, "this environment", self.report.target) from exc
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
        if self.dependencies.problem is not None:
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
            self.outage.stored()

    @property
    def project_id(self) -> UUID:
        assert self.project is not None
        return self.project.id

    # -- registration -----------------------------------------------------------------------
    async def _register(self, backend: Backend) -> None:
        """Find (or create) this machine's environment and link it to this checkout
        (``registration``)."""
        o = self.options
        project, env = await register(
            backend, TargetQuery(o.profile, o.project, o.env), self.root, self.say
        )
        self.project, self.env = project, env
        self.dependencies.load_fingerprint(env.id)
        self.report.target = f"{project.name}/{env.name}"
        if not self.options.once:
            self.say(f"reporting for {self.report.target} every {self.interval:g} s.")
