"""``CachedBackend``: the dashboard's backend while it shows the last view it saw
(``core.view_cache``), before the real one is connected — or instead of it (``--offline``,
or the database cannot be reached).

It answers the reads the cached view holds (who I am, the tree, the cached scope's rows),
as often as they are asked: going back to the cached view while offline shows it again.
Other reads wait for the real backend and fail with the reason connecting failed. Writes and
reveals wait the same way while DevSync connects (the dashboard offers the user's keys as
they will be once live: a key pressed on the first frame does what it says once connected);
once connecting failed, or with ``--offline``, each is refused at once with a sentence saying
the view is cached (the UI offers none of them then; this is the floor under it).

Once ``attach``\\ ed, everything goes to the real backend, ``answer_now`` included (the live
opening read, one round trip).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar, cast

from devsync_tui.backend.base import Backend
from devsync_tui.backend.call_keys import CallKey, call_key
from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.backend.live import FeedEvent
from devsync_tui.backend.readonly import WRITES

T = TypeVar("T")


def refusal(age: str | None) -> str:
    """Why a write or a reveal cannot be done on the cached view once connecting failed
    (``age``: "3 h ago"; None: an opening read ahead, live data but not connected)."""
    if age is None:
        return "DevSync is not connected: nothing can be changed or revealed until it is."
    return (
        f"This is the view cached {age}, not live data: nothing can be changed or revealed "
        "until DevSync is connected."
    )


class CachedBackend:
    """Answers the cached view's reads until ``attach``; forwards everything afterwards."""

    def __init__(
        self, label: str, kind: str, answers: Mapping[CallKey, object], age: str | None
    ) -> None:
        self.label = label
        self.kind = kind
        self._answers: dict[CallKey, object] = dict(answers)
        self._age = age
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
        self._failure = None
        self._settled.set()

    def fail(self, error: DevSyncError) -> None:
        """Connecting failed (or is not tried: ``--offline``): reads the cache lacks raise
        ``error``; the cache keeps answering what it holds. A later ``attach`` still works."""
        self._failure = error
        self._settled.set()

    @property
    def failed(self) -> bool:
        """Connecting failed (or is not tried) and nothing is attached."""
        return self._real is None and self._failure is not None

    @property
    def connecting(self) -> bool:
        """Neither attached nor failed: what waits for the real backend will get it, or the
        reason connecting failed."""
        return self._real is None and self._failure is None

    def refresh(self, answers: Mapping[CallKey, object]) -> None:
        """Answer from ``answers`` (a live opening read ahead) instead of the cache."""
        if self._real is None:
            self._answers = dict(answers)
            self._age = None

    def retry(self) -> None:
        """Connecting is tried again: reads the cache lacks wait for it once more."""
        if self._real is None:
            self._failure = None
            if self._settled.is_set():  # a call waiting now goes on waiting for this try
                self._settled = asyncio.Event()

    def answer_now(self, read: Callable[[Backend], Coroutine[Any, Any, T]]) -> T | None:
        """``read(self)`` run to its end right away when the cache (or, attached, the live
        opening) answers every call it makes; None otherwise."""
        if self._real is not None:
            return self._real.answer_now(read)
        coroutine = read(self.as_backend())
        try:
            coroutine.send(None)
        except StopIteration as done:
            result: T = done.value
            return result
        except DevSyncError:
            return None
        # It waits for the real backend (a read the cache lacks): drop it, nothing started.
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
        if not hasattr(Backend, name):
            raise AttributeError(name)
        if not callable(getattr(Backend, name)):
            return getattr(Backend, name)  # a setting such as ``rows_per_request``: its default
        if name in WRITES:
            return self._held(name)
        if inspect.isasyncgenfunction(getattr(Backend, name)):
            return self._deferred_stream(name)
        return self._deferred(name)

    def _held(self, name: str) -> Callable[..., Any]:
        """A write or reveal: refused once connecting failed; meanwhile it waits for the
        connection and goes to the real backend (never to the cache)."""

        async def call(*args: object, **kwargs: object) -> object:
            if self.failed:  # not the user's rights: the view is not connected
                raise Unavailable(refusal(self._age))
            backend = await self._backend()
            return await getattr(backend, name)(*args, **kwargs)

        return call

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

    def _deferred_stream(self, name: str) -> Callable[..., AsyncIterator[Any]]:
        """A read that yields as it goes (``dependency_pages``): nothing in the cache answers
        it, so it waits for the connection (``Unavailable`` once connecting failed) and then
        streams from the real backend."""

        async def stream(*args: object, **kwargs: object) -> AsyncIterator[Any]:
            backend = await self._backend()
            source = getattr(backend, name)(*args, **kwargs)
            try:
                async for item in source:
                    yield item
            finally:
                aclose = getattr(source, "aclose", None)
                if aclose is not None:
                    await aclose()

        return stream

    def changes(self) -> AsyncIterator[FeedEvent]:
        """The real backend's change feed, once it is attached."""
        return self._changes()

    async def _changes(self) -> AsyncIterator[FeedEvent]:
        backend = await self._backend()
        feed = backend.changes()
        try:
            async for event in feed:
                yield event
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
