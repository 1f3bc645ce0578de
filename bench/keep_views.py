"""``--keep-views`` for the live benches: the dashboard keeps its last view as ``devsync``
does (a cache owner, a private state folder), and keeps it after **every** change.

``devsync`` keeps the view on screen once it has stayed 1 s (``REMEMBER_AFTER``): the screen
is recorded on the UI's thread (``frame_record``, 6–11 ms) and the view encrypted and written
in a thread. The live benches make changes 0.1–0.15 s apart, so with the real delay nothing
would ever be kept. Here the delay is shorter than the gap between changes: every change is
followed by a kept view and a recorded screen — the worst case, a teammate's change every
few seconds, compressed. What it costs shows in the benches' own figures (latency, memory,
pauses); ``report`` adds how many views were kept and what recording took.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine
from typing import Any

from common import database_url, figure

#: The delay before the view on screen is kept, in these runs (seconds).
KEEP_AFTER = 0.05


class KeptViews:
    """Counts the views kept and times each recording of the screen."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="devsync-bench-views-")
        os.environ["DEVSYNC_STATE_DIR"] = self.folder
        self.record_ms: list[float] = []
        self.kept = 0
        self.with_frame = 0

        from devsync_tui.core import view_cache
        from devsync_tui.dashboard import app as app_module
        from devsync_tui.dashboard import frame_record

        app_module.REMEMBER_AFTER = KEEP_AFTER
        record, save = frame_record.record, view_cache.save

        def timed_record(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return record(*args, **kwargs)
            finally:
                self.record_ms.append((time.perf_counter() - started) * 1000)

        def counted_save(owner: str, view: Any) -> bool:
            saved = save(owner, view)
            self.kept += bool(saved)
            self.with_frame += bool(saved and view.frame is not None)
            return saved

        frame_record.record = timed_record  # type: ignore[assignment]
        view_cache.save = counted_save  # type: ignore[assignment]

    def owner(self, url: str) -> str:
        """The cache owner ``devsync`` would use for alice on a local profile of ``url``."""
        from devsync_tui.dashboard import last_view
        from devsync_tui.settings import LocalProfile, Settings

        settings = Settings(profiles={"bench": LocalProfile(database_url=url)})
        found = last_view.owner(settings, profile="bench", user="alice")
        if found is None:
            raise SystemExit("no cache owner for alice")
        return found

    def report(self, changes: int) -> None:
        figure(
            "live.keep_view.record",
            self.record_ms or [0.0],
            "ms",
            extra={
                "changes": changes,
                "views_kept": self.kept,
                "kept_with_screen": self.with_frame,
                "keep_after_s": KEEP_AFTER,
            },
        )

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


#: A live bench's ``run(url, changes, keep)``.
LiveRun = Callable[[str, int, KeptViews | None], Coroutine[Any, Any, None]]


def main(run: LiveRun, doc: str | None, *, default_changes: int) -> None:
    """A live bench's command line: ``--changes``, ``--database-url`` (default: the embedded
    database, started if need be) and ``--keep-views``."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--changes", type=int, default=default_changes)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--keep-views", action="store_true",
        help="keep the last view (and record the screen) after every change: bench/keep_views.py",
    )  # fmt: skip
    args = parser.parse_args()
    keep = KeptViews() if args.keep_views else None  # before the app is made
    url = database_url(args.database_url)
    try:
        asyncio.run(run(url, args.changes, keep))
    finally:
        if keep is not None:
            keep.report(args.changes)
            keep.close()
