"""What ``devsync run`` does: fetch, start, snapshot, watch, restart, pass the exit code on.

:class:`Runner` takes :class:`RunOptions` and two callbacks: ``say`` receives each message for
the person (warnings, the offline fallback, restarts), ``progress`` each slow step of opening
the backend (the first start of the embedded database); it prints nothing itself. See
``commands/run.py`` for the user's view.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from devsync_tui.backend.base import Backend, ChangeEvent, LinkChanged, Resync
from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.backend.supabase import auth
from devsync_tui.core import clock, snapshot
from devsync_tui.core.execution_control import is_execution_control
from devsync_tui.core.machine_token import MachineToken
from devsync_tui.core.masking import MIN_MASKED, plan_masks
from devsync_tui.machine.child import Child, LaunchError, SignalRelay
from devsync_tui.machine.connect import connected, profile_name
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.links import checkout_root
from devsync_tui.machine.required import missing_keys
from devsync_tui.machine.targets import Target, TargetQuery, resolve_target
from devsync_tui.machine.values import gather
from devsync_tui.settings import SupabaseProfile, load_settings

_log = logging.getLogger("devsync.run")
#: The exit code when a required key is missing (README: 1, problems found).
EXIT_MISSING = 1
#: A burst of changes (an import of 30 keys) is one restart, not 30.
DEBOUNCE_SECONDS = 0.3
#: How long the live updates may be away before ``run --watch`` says so: a planned
#: re-subscribe (a project added to the team) or a blip is back well within it.
LINK_GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Payload:
    """What the child gets: variables, files, and the keys withheld from it."""

    variables: dict[str, str]
    files: dict[str, str]
    withheld: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()  # the variables that are secrets (masked in the output)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """One ``devsync run``: the command, whose configuration it gets, and how it is run.

    ``profile``, ``user``, ``project`` and ``env`` are as the user typed them (they are part of
    the offline snapshot's key). With ``token`` the command runs as that token's machine, and
    ``--watch`` polls for changes every ``poll_seconds`` (None: the machine default)."""

    command: tuple[str, ...]
    profile: str | None = None
    user: str | None = None
    project: str | None = None
    env: str | None = None
    project_default: bool = False
    watch: bool = False
    offline: bool = False
    grace: float = 10.0
    token: MachineToken | None = None
    poll_seconds: float | None = None
    mask: bool = True
    allow_missing: bool = False


async def fetch_payload(backend: Backend, target: Target) -> Payload:
    """What the child gets from ``target``'s effective configuration."""
    effective = await gather(backend, target)
    variables: dict[str, str] = {}
    files: dict[str, str] = {}
    for key, value in effective.values.items():
        (files if effective.rows[key].type == "file" else variables)[key] = value
    secrets = tuple(sorted(k for k in variables if effective.rows[k].is_secret))
    return Payload(variables, files, tuple(effective.withheld), secrets)


def _changed_keys(old: Payload, new: Payload) -> list[str]:
    keys = set()
    for a, b in ((old.variables, new.variables), (old.files, new.files)):
        keys |= {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    return sorted(keys)


def _execution_control(old: Payload, new: Payload, changed: list[str]) -> list[str]:
    """The changed keys that are execution-control variables (PATH, LD_PRELOAD, …)."""
    return [
        k for k in changed if (k in old.variables or k in new.variables) and is_execution_control(k)
    ]


def signed_in_identity(
    profile_ref: str | None, user: str | None, token: MachineToken | None = None
) -> str:
    """Who the profile acts as, known without the network: part of the snapshot key, so that a
    snapshot (secrets included) opens only for the identity that fetched it — never for the
    next person to sign in on this profile, nor after ``devsync logout``. A machine is its
    token (by a digest: the key is never the token)."""
    if token is not None:
        return "machine:" + hashlib.sha256(token.value.encode()).hexdigest()
    _name, profile = load_settings().profile(profile_ref)
    if not isinstance(profile, SupabaseProfile):
        return f"local:{user or profile.user or ''}"
    # Deferred: the session store imports supabase-py's auth package (~0.27 s), which a run on
    # a local profile, `run --offline` included, never needs.
    from devsync_tui.backend.supabase.session import SessionStorage

    storage = SessionStorage(auth.storage_namespace(profile.url))
    session = auth.stored_session(storage.get_sync(auth.SESSION_KEY)) or {}
    signed_in = session.get("user")
    user_id = signed_in.get("id") if isinstance(signed_in, dict) else None
    return f"supabase:{user_id}" if user_id else "supabase:signed-out"


class _LinkNotices:
    """What ``run --watch`` says about its live updates (the feed's ``LinkChanged``): a spell
    without them once it lasted ``LINK_GRACE_SECONDS`` — its latest state, once, however it
    goes on — and, after a spell that was said, their return, once. So neither the moment a
    feed takes to say "live" at the start nor a planned re-subscribe is announced, on any
    transport."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._down: str | None = None  # the state of the spell under way
        self._timer: asyncio.TimerHandle | None = None
        self._said = False

    def seen(self, event: LinkChanged) -> None:
        if event.state == "live":
            self._down = None
            self._cancel()
            if self._said:
                self._said = False
                self._say("live updates are back.")
            return
        self._down = event.state
        if not self._said and self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(LINK_GRACE_SECONDS, self._announce)

    def _announce(self) -> None:
        self._timer = None
        if self._down is not None and not self._said:
            self._said = True
            self._say(f"live updates {self._down}; the command keeps running.")

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self._cancel()


class Runner:
    """One ``devsync run`` invocation."""

    def __init__(
        self,
        options: RunOptions,
        say: Callable[[str], None],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.say = say
        self.progress = progress or say
        self.command = list(options.command)
        self.child: Child | None = None
        self.relay = SignalRelay(lambda: self.child)
        self._told_short: set[str] = set()
        self._link = _LinkNotices(say)

    def snapshot_key(self) -> str:
        o = self.options
        return snapshot.lookup_key(
            profile=profile_name(o.profile),
            user=o.user,
            identity=signed_in_identity(o.profile, o.user, o.token),
            project=o.project,
            env=o.env,
            project_default="yes" if o.project_default else None,
            checkout=str(checkout_root()),
        )

    async def run(self) -> int:
        """Run the command to its end; its exit code (when it could not be started: 127 when
        it was not found, 126 when it was found but cannot be executed, as a shell says)."""
        self.relay.install()
        try:
            try:
                return await self._online()
            except Unavailable as exc:
                if not self.options.offline or self.child is not None:
                    raise
                _log.info("backend unavailable, using the offline snapshot: %s", exc)
                return await self._offline(str(exc))
        except LaunchError as exc:
            self.say(str(exc))
            return exc.exit_code
        finally:
            self.relay.uninstall()
            if self.child is not None:
                self.child.cleanup()

    def _masks(self, payload: Payload) -> dict[bytes, str]:
        """The secret values to mask in the child's output (none with ``--no-mask``)."""
        if not self.options.mask:
            return {}
        plan = plan_masks({k: payload.variables[k] for k in payload.secrets})
        short = [name for name in plan.too_short if name not in self._told_short]
        if short:
            self._told_short.update(short)
            self.say(
                f"note: secrets shorter than {MIN_MASKED} characters are not masked in the "
                "output: " + ", ".join(short)
            )
        return plan.masks

    async def _start(self, payload: Payload) -> None:
        child = Child(self.command, payload.variables, payload.files, self._masks(payload))
        await child.start()
        self.child = child

    async def _online(self) -> int:
        o = self.options
        if o.token is not None and o.project_default:
            raise InputError(
                "A machine token acts for its environment only; --project-default is not its."
            )
        async with connected(
            o.profile, o.user, progress=self.progress, token=o.token, poll_seconds=o.poll_seconds
        ) as backend:
            query = TargetQuery(o.profile, o.project, o.env)
            target = await resolve_target(backend, query, require_environment=not o.project_default)
            if o.project_default:
                target = Target(target.project, None)
            payload = await fetch_payload(backend, target)
            if payload.withheld:
                self.say(
                    "warning: secrets you may not reveal are not set: "
                    + ", ".join(payload.withheld)
                )
            if not await self._required_present(backend, target, payload):
                return EXIT_MISSING
            if self.relay.stop_requested is not None:
                return 128 + self.relay.stop_requested
            await self._start(payload)
            await self._save_snapshot(target, payload)
            if o.watch:
                return await self._watch(backend, target, payload)
        assert self.child is not None
        return await self.child.wait()

    async def _required_present(self, backend: Backend, target: Target, payload: Payload) -> bool:
        """Whether the command may start as far as required keys go (says why not)."""
        keys = [*payload.variables, *payload.files, *payload.withheld]
        missing, template = await missing_keys(backend, target, keys)
        if not missing:
            return True
        names = ", ".join(missing)
        one = len(missing) == 1
        if self.options.allow_missing:
            self.say(
                f"warning: {target.label} lacks {names}, required by its template {template}; "
                "starting anyway (--allow-missing)."
            )
            return True
        self.say(
            f"Not started: {target.label} lacks {names}, required by its template {template}. "
            f"Set {'it' if one else 'them'} (devsync env set {missing[0]}=…) or pass "
            "--allow-missing."
        )
        return False

    async def _save_snapshot(self, target: Target, payload: Payload) -> None:
        snap = snapshot.Snapshot(
            project_id=str(target.project.id),
            project_name=target.project.name,
            environment_id=str(target.environment.id) if target.environment else None,
            environment_name=target.environment.name if target.environment else None,
            saved_at=clock.now(),
            variables=payload.variables,
            files=payload.files,
            secrets=list(payload.secrets),
        )
        try:
            await asyncio.to_thread(snapshot.save, self.snapshot_key(), snap)
        except Exception as exc:  # the run goes on without an offline copy
            _log.warning("could not save the offline snapshot: %s", exc)
            self.say(f"warning: could not save the offline snapshot ({exc}).")

    async def _offline(self, reason: str) -> int:
        try:
            snap = await asyncio.to_thread(snapshot.load, self.snapshot_key())
        except snapshot.SnapshotError as exc:
            why = str(exc)
            _log.info("offline fallback failed after: %s", reason)
            message = f"The backend is unreachable and {why[:1].lower()}{why[1:]}"
            raise Unavailable(message) from None
        where = snap.project_name + (f"/{snap.environment_name}" if snap.environment_name else "")
        self.say(
            f"backend unreachable; using the offline snapshot of {where} saved "
            f"{clock.ago(snap.saved_at)}."
        )
        if self.options.watch:
            self.say("note: --watch needs the backend; the command will not be restarted.")
        await self._start(Payload(snap.variables, snap.files, (), tuple(snap.secrets)))
        assert self.child is not None
        return await self.child.wait()

    async def _watch(self, backend: Backend, target: Target, payload: Payload) -> int:
        events: asyncio.Queue[object] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for event in backend.changes():
                    events.put_nowait(event)
            except Exception as exc:  # the command runs on; only the restarts stop
                _log.warning("change feed ended: %s", exc)
                self.say(f"live updates stopped ({exc}); the command keeps running unwatched.")

        if isinstance(backend, MachineBackend):
            self.say(
                f"watching {target.label} for configuration changes every "
                f"{backend.poll_seconds:g} s (a machine token has no live feed)."
            )
        feed = asyncio.create_task(pump())
        try:
            while True:
                assert self.child is not None
                assert self.child.process is not None
                # process.wait(), not child.wait(): cancelling it must not remove the files.
                waiter = asyncio.ensure_future(self.child.process.wait())
                getter = asyncio.ensure_future(events.get())
                done, _ = await asyncio.wait({waiter, getter}, return_when="FIRST_COMPLETED")
                if waiter in done:
                    getter.cancel()
                    return await self.child.wait()
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
                if not self._relevant(getter.result(), target):
                    continue
                await asyncio.sleep(DEBOUNCE_SECONDS)
                while not events.empty():
                    events.get_nowait()
                try:
                    fresh = await fetch_payload(backend, target)
                except DevSyncError as exc:  # keep running; the feed's next "live" retries
                    _log.info("re-reading the configuration failed: %s", exc)
                    self.say(f"could not re-read the configuration ({exc}); still running.")
                    continue
                changed = _changed_keys(payload, fresh)
                if not changed:
                    continue
                if self.relay.stop_requested is not None:
                    continue  # we are stopping; the child is on its way out
                control = _execution_control(payload, fresh, changed)
                if control:
                    # Never restart into a changed PATH, LD_PRELOAD, …: the person watching
                    # did not choose that program; they restart devsync run to take it.
                    names = ", ".join(control)
                    self.say(
                        "configuration changed ("
                        + ", ".join(changed)
                        + f"); {names} "
                        + ("decides" if len(control) == 1 else "decide")
                        + " which programs run, so the command is not restarted into it: it "
                        "keeps running as it was started. Restart devsync run to take the change."
                    )
                    continue
                self.say("configuration changed (" + ", ".join(changed) + "); restarting.")
                status = await self.child.stop(self.options.grace)
                if self.relay.stop_requested is not None:
                    # Asked to stop while the command was stopping: no new child; exit.
                    self.say("stopping (a stop signal came during the restart).")
                    return status
                payload = fresh
                await self._start(payload)
                if self.relay.stop_requested is not None:
                    # It came while the new child was starting (the relay still held the old
                    # one): stop the new one too.
                    return await self.child.stop(self.options.grace)
                await self._save_snapshot(target, payload)
        finally:
            self._link.close()
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feed

    def _relevant(self, event: object, target: Target) -> bool:
        if isinstance(event, Resync):
            return True
        if isinstance(event, LinkChanged):
            self._link.seen(event)
            return event.state == "live"  # (re)subscribed: compare, in case we missed one
        if isinstance(event, ChangeEvent) and event.table == "configurations":
            if event.project_id is not None and event.project_id != target.project.id:
                return False
            env_id = target.environment.id if target.environment else None
            return event.environment_id is None or event.environment_id == env_id
        return False
