"""Running a backend write from a worker: success is a toast, a refusal one plain sentence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from textual.app import App

from devsync_tui.backend.errors import DevSyncError, PermissionDenied

T = TypeVar("T")
log = logging.getLogger("devsync.ui")


async def attempt(app: App[object], call: Awaitable[T], *, done: str = "") -> T | None:
    """Await ``call``; on a DevSync error show its sentence and return None."""
    try:
        result = await call
    except PermissionDenied as exc:
        log.info("refused: %s", exc)
        app.notify(str(exc) or "You are not allowed to do that.", severity="error")
        return None
    except DevSyncError as exc:
        log.info("write failed: %s", exc)
        app.notify(str(exc) or "That did not work.", severity="error")
        return None
    if done:
        app.notify(done)
    return result
