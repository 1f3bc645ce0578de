"""What ``devsync agent`` measures and how it keeps measurements while the backend is away.

- :class:`Sampler`: cpu, memory and disk (psutil) as ``HealthPoint`` values the Health pane
  reads (``{"percent": …}``; ping is ``{"ms": …}``).
- :class:`PointBuffer`: a bounded FIFO of points not yet stored. When full, the oldest points
  are dropped (and counted): an agent cut off for days must not grow without end.
- :class:`Backoff`: exponential retry delays with jitter, reset on success.
- :class:`Outage`: an unreachable backend, said once when it begins and once when it is over.
- :func:`lockfile_fingerprint`: a cheap stat-only fingerprint of the lockfiles and manifests
  under a path, so dependencies are re-scanned only when one of them changed.
- :class:`Retention`: once a day, an admin's agent rolls old raw points up into hourly ones.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import psutil

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.core import clock
from devsync_tui.core.lockfiles.detect import walk
from devsync_tui.core.models import HealthPoint, MetricType, Role

_log = logging.getLogger("devsync.agent")

#: The most points ``report_health`` takes in one call (docs/DATABASE.md).
MAX_BATCH = 5000
#: Health retention (an admin's agent): raw points older than this become hourly roll-ups.
RETENTION_DAYS = 7
ROLLUP_EVERY_SECONDS = 24 * 3600.0
#: The shortest span a CPU reading averages over (the first sample waits for it).
CPU_WINDOW = 0.25


class Sampler:
    """Samples of this machine. ``cpu`` is the average since the previous sample."""

    def __init__(self, disk_path: Path) -> None:
        self.disk_path = disk_path
        psutil.cpu_percent(interval=None)  # the first reading is meaningless: prime it
        #: When it was primed (see ``settle_seconds``).
        self._primed = time.monotonic()

    def settle_seconds(self) -> float:
        """How long to wait before the first sample reads a real CPU use: psutil averages
        since the priming, and over a few microseconds it reads 0 %."""
        return max(0.0, CPU_WINDOW - (time.monotonic() - self._primed))

    def sample(self, at: datetime) -> list[HealthPoint]:
        memory = psutil.virtual_memory()
        try:
            disk = psutil.disk_usage(str(self.disk_path))
        except OSError as exc:
            # The checkout was removed or unmounted under a running agent: keep measuring the
            # rest (an exception here would end the sampling task silently).
            _log.warning("no disk measurement of %s: %s", self.disk_path, exc)
            disk = None
        cpu: dict[str, object] = {
            "percent": psutil.cpu_percent(interval=None),
            "cores": psutil.cpu_count() or 1,
        }
        if hasattr(os, "getloadavg"):
            cpu["load1"] = round(os.getloadavg()[0], 2)
        points = [
            HealthPoint(MetricType.CPU, cpu, at),
            HealthPoint(
                MetricType.MEMORY,
                {"percent": memory.percent, "used": memory.used, "total": memory.total},
                at,
            ),
        ]
        if disk is not None:
            points.append(
                HealthPoint(
                    MetricType.DISK,
                    {
                        "percent": disk.percent,
                        "used": disk.used,
                        "total": disk.total,
                        # the filesystem's mount point, not the checkout path: every team
                        # member reads health points, and a path names people and projects
                        "mount": mount_point(self.disk_path),
                    },
                    at,
                )
            )
        return points


def ping_point(seconds: float, at: datetime) -> HealthPoint:
    return HealthPoint(MetricType.PING, {"ms": round(seconds * 1000, 3)}, at)


class PointBuffer:
    """Points waiting to be stored, oldest first, at most ``capacity`` of them.

    The sampler adds while a flush is in flight, and a full buffer drops its oldest points, so
    a flush removes exactly what it sent, by sequence number (:meth:`drop_through`).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self._points: deque[tuple[int, HealthPoint]] = deque()
        self._next_seq = 0
        self.capacity = capacity
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._points)

    def extend(self, points: Iterable[HealthPoint]) -> None:
        for point in points:
            if len(self._points) >= self.capacity:
                self._points.popleft()
                self.dropped += 1
            self._points.append((self._next_seq, point))
            self._next_seq += 1

    def peek(self, limit: int = MAX_BATCH) -> tuple[list[HealthPoint], int]:
        """The oldest ``limit`` points and the sequence number of the last of them."""
        taken = [self._points[i] for i in range(min(limit, len(self._points)))]
        return [p for _, p in taken], (taken[-1][0] if taken else -1)

    def drop_through(self, seq: int) -> None:
        """Forget every point up to and including sequence number ``seq`` (it was stored)."""
        while self._points and self._points[0][0] <= seq:
            self._points.popleft()


class Backoff:
    """Delays of 1, 2, 4, … seconds up to ``maximum``, with ±20 % jitter."""

    def __init__(self, initial: float = 1.0, maximum: float = 300.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * 2.0**self.failures)
        self.failures += 1
        return base * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.failures = 0


def measurements(count: int) -> str:
    """``1 measurement``, ``2 measurements``."""
    return f"{count} measurement{'' if count == 1 else 's'}"


class Outage:
    """An unreachable backend: said once when it begins, and once when the first batch after
    it is stored, with how many measurements the full ``buffer`` dropped meanwhile."""

    def __init__(self, buffer: PointBuffer, say: Callable[[str], None]) -> None:
        self.buffer = buffer
        self.say = say
        self.active = False
        self._dropped_told = 0  # buffer.dropped when an outage's losses were last said

    def sync_failed(self, reason: str, delay: float) -> None:
        """A sync failed for ``reason`` (the next is tried in ``delay`` seconds): said when
        it is the first since the backend was last reachable."""
        _log.info("sync failed (%s); retrying in %.1f s", reason, delay)
        if not self.active:
            self.active = True
            self.say(f"backend unreachable ({reason}); buffering measurements and retrying.")

    def stored(self) -> None:
        """A batch was stored: an outage, if any, is over."""
        # Said when the first batch after an outage is stored, wherever that happens (a sync,
        # or the last flush at shutdown): a stop right after it must not hide that it did.
        if self.active:
            self.active = False
            dropped, self._dropped_told = (
                self.buffer.dropped - self._dropped_told,
                self.buffer.dropped,
            )
            lost = (
                f" ({measurements(dropped)} dropped from the full buffer before it came back)"
                if dropped
                else ""
            )
            self.say(f"backend reachable again; buffered measurements stored{lost}.")


class Retention:
    """Once a day, an admin's agent rolls old raw health points up into hourly ones
    (health_checks must not grow without end). Other users' agents leave it to admins."""

    def __init__(self) -> None:
        self._last_rollup = 0.0
        self._denied = False

    async def run(self, backend: Backend) -> None:
        """Roll up, unless it was done in the last day or this user may not."""
        now = clock.now().timestamp()
        if self._denied or now - self._last_rollup < ROLLUP_EVERY_SECONDS:
            return
        if Role.ADMIN not in (await backend.my_roles()).values():
            # Not asked at all: the database would refuse it, and log an error each time.
            self._denied = True
            return
        try:
            folded = await backend.rollup_health(RETENTION_DAYS)
        except PermissionDenied:
            self._denied = True
            return
        self._last_rollup = now
        if folded:
            _log.info("retention: rolled %d raw health points up into hourly points", folded)


def lockfile_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every lockfile/manifest the scanner would read under root."""
    found: list[tuple[str, int, int]] = []
    for _folder, entries in walk(root):
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:  # removed since the walk saw it
                continue
            found.append((entry.path, st.st_size, st.st_mtime_ns))
    return tuple(found)


def mount_point(path: Path) -> str:
    """The mount point of the filesystem holding ``path`` ("/" when it cannot be told)."""
    try:
        current = path.resolve()
        while not os.path.ismount(current) and current != current.parent:
            current = current.parent
        return str(current)
    except OSError:
        return "/"
