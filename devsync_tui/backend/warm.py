"""``WarmBackend``: the dashboard's backend for its first moments, before the real one is up.

A warm start (``dashboard/warm_start.py``) reads the opening view in a separate process
while the UI loads; this stand-in answers exactly those reads from that snapshot until the real
backend is attached, and makes every other call wait for it. Once attached, everything goes
to the real backend. Its change feed ends the first ``LinkChanged("live")`` with a
``Resync``: what was read from the snapshot predates the feed, so the views read it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar, cast

from devsync_tui.backend.base import Backend
from devsync_tui.backend.call_keys import CallKey, call_key
from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.backend.live import FeedEvent, LinkChanged, Resync

T = TypeVar("T")


class WarmBackend:
    """Answers the snapshot's reads until ``attach``; forwards everything afterwards."""

    def __init__(self, label: str, answers: Mapping[CallKey, object]) -> None:
        self.label = label
        self.kind = "local"
        self._answers: dict[CallKey, object] = dict(answers)
        self._real: Backend | None = None
        self._failure: DevSyncError | None = None
        self._settled = asyncio.Event()

    def as_backend(self) -> Backend:
        """This stand-in, typed as what the UI expects."""
        return cast(Backend, self)

    @property
    def attached(self) -> bool:
        return self._real is not None

    def attach(self, real: Backend) -> None:
        """The real backend is connected: from now on every call goes to it."""
        self._real = real
        self.label = real.label
        self.kind = real.kind
        self._answers.clear()
        self._settled.set()

    def fail(self, error: DevSyncError) -> None:
        """Connecting failed: calls waiting for the real backend (and later ones) raise
        ``error``; the snapshot keeps answering what it holds."""
        self._failure = error
        self._settled.set()

    def answer_now(self, read: Callable[[Backend], Coroutine[Any, Any, T]]) -> T | None:
        """``read(self)`` run to its end right away when the snapshot answers every call it
        makes, so that the first frame can show it; None otherwise (and always once the real
        backend is attached, whose calls really wait)."""
        if self._real is not None:
            return None
        coroutine = read(self.as_backend())
        try:
            coroutine.send(None)
        except StopIteration as done:
            result: T = done.value
            return result
        except DevSyncError:
            return None
        # It waits for the real backend (a read the snapshot lacks): drop it, nothing started.
        coroutine.close()
        return None

    async def _backend(self) -> Backend:
        await self._settled.wait()
        if self._real is None:
            raise self._failure or Unavailable("Not connected to the database.")
        return self._real

    def __getattr__(self, name: str) -> Any:
        # Only public Backend methods are forwarded (private names are real misses).
        if name.startswith("_"):
            raise AttributeError(name)
        real = self._real
        if real is not None:
            return getattr(real, name)
        if not callable(getattr(Backend, name, None)):
            raise AttributeError(name)
        return self._deferred(name)

    def _deferred(self, name: str) -> Callable[..., Any]:
        async def call(*args: object, **kwargs: object) -> object:
            if self._real is None:
                key = call_key(name, args, kwargs)
                if key in self._answers:
                    answer = self._answers[key]
                    # Callers may sort or extend what they get: hand out a copy.
                    return list(answer) if isinstance(answer, list) else answer
            backend = await self._backend()
            method = getattr(backend, name)
            return await method(*args, **kwargs)

        return call

    def changes(self) -> AsyncIterator[FeedEvent]:
        """The real backend's change feed, once it is attached, with a ``Resync`` after its
        first "live": the views then re-read what the snapshot showed."""
        return self._changes()

    async def _changes(self) -> AsyncIterator[FeedEvent]:
        backend = await self._backend()
        caught_up = False
        feed = backend.changes()
        try:
            async for event in feed:
                yield event
                if not caught_up and isinstance(event, LinkChanged) and event.state == "live":
                    caught_up = True
                    yield Resync("warm start: re-read what was shown before the feed was live")
        finally:
            aclose = getattr(feed, "aclose", None)
            if aclose is not None:
                await aclose()

    async def close(self) -> None:
        """Close the real backend if there is one; calls still waiting for it end."""
        if self._real is not None:
            await self._real.close()
        elif not self._settled.is_set():
            self.fail(Unavailable("DevSync is closing."))
