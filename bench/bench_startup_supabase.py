"""Startup on a Supabase profile: process start → first frame with data, with the stand-in
project (tests/backend/fake_supabase: GoTrue, PostgREST, Realtime on loopback, on a migrated and
seeded database of the embedded server) answering every HTTP request ``--latency`` ms late.

The dashboard runs on the same pseudo-terminal harness as bench_startup.py (``pty_screen``, a
pyte screen of 120×40: a real terminal start, not headless), signed in as alice, opening the
demo project; the time is until a configuration key of it is on screen. Beside each figure:

- ``requests``: HTTP requests the stand-in received before that frame;
- ``sequential``: the longest chain of them where each starts after the previous one was
  answered (round trips the user waits for one after another);
- the minimal Textual app with a DataTable (the same reference as bench_startup.py), timed
  alternately with the dashboard, and the ratio;
- ``….cpu``: the CPU the dashboard had used (all threads) when its cached view was on screen,
  against the reference's at its rows (not moved by other processes' load).
- ``first_frame_with_data.drawn.…``: the same start with the recorded frame's replay switched
  off (``DEVSYNC_FRAME_REPLAY=0``): the cached view as the main screen draws it.

``--expired`` also times a start whose stored session has expired (a refresh first).
``--keyring-discovery`` lets keyring look for its backend, as a headless machine's start does
(the default names keyring's "fail" backend, which skips that search).

Usage: python bench/bench_startup_supabase.py [--runs 5] [--latency 0,30,150] [--expired]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests.backend.fake_supabase
from common import figure
from pty_screen import time_to_text, times_to_screens

T = TypeVar("T")
DB_NAME = "devsync_bench_supabase"


class Loop:
    """An event loop in a thread: the stand-in serves while the harness blocks on the pty."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def sequential_chain(timings: list[tuple[float, float]]) -> int:
    """Longest chain of requests each sent after the previous one's answer arrived."""
    ordered = sorted(timings)
    best: list[int] = []
    for i, (start, _end) in enumerate(ordered):
        before = [best[j] for j in range(i) if ordered[j][1] <= start]
        best.append(1 + max(before, default=0))
    return max(best, default=0)


def prepare_database() -> str:
    from devsync_tui.backend.postgres import server as local
    from devsync_tui.backend.postgres.migrate import (
        apply_migrations,
        connect,
        drop_database,
        load_seed,
        with_database,
    )

    server_url = local.ensure_running()
    drop_database(server_url, DB_NAME)
    with connect(server_url, autocommit=True) as conn:
        conn.execute(f"create database {DB_NAME}")
    url = with_database(server_url, DB_NAME)
    apply_migrations(url, supabase_compat=True)
    load_seed(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", default="0,30,150", help="ms per round trip, comma-separated")
    parser.add_argument("--marker", default="FEATURE_FLAGS")
    parser.add_argument("--expired", action="store_true", help="also time an expired session")
    parser.add_argument(
        "--keyring-discovery",
        action="store_true",
        help="let keyring look for a backend as on a headless machine (no keyring there); "
        "not on a desktop: the local key could go to its keyring",
    )
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as bench_startup.py: with byte code

    from devsync_tui.backend.postgres.migrate import drop_database
    from tests.backend.fake_supabase import FakeSupabase
    from tests.backend.fake_supabase.fixtures import sign_in

    db_url = prepare_database()
    loop = Loop()
    fake = loop.run(FakeSupabase(db_url).start())
    folder = Path(tempfile.mkdtemp(prefix="devsync-bench-supabase-"))
    env = {
        "DEVSYNC_CONFIG": str(folder / "config.toml"),
        "DEVSYNC_STATE_DIR": str(folder / "state"),
        "SUPABASE_URL": fake.url,
        "SUPABASE_ANON_KEY": fake.anon_key,
        "DEVSYNC_PROFILE": "env-supabase",
        # sessions in the 0600 file beside the config, never a developer's keyring
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    if args.keyring_discovery:
        del env["PYTHON_KEYRING_BACKEND"]
        os.environ.pop("PYTHON_KEYRING_BACKEND", None)
        os.environ.pop("DEVSYNC_KEYRING", None)
    os.environ.pop("DEVSYNC_DATABASE_URL", None)
    from devsync_tui.backend.supabase import auth, session

    session_file = folder / session.FALLBACK_FILE
    devsync = [sys.executable, "-m", "devsync_tui", "--project", "storefront"]
    reference = [sys.executable, str(HERE / "ref_minimal_datatable.py")]

    def signed_in(expires_in: int) -> None:
        session_file.unlink(missing_ok=True)
        fake.gotrue.access_expires_in = expires_in
        namespace = auth.storage_namespace(fake.url)
        storage = session.SessionStorage(namespace, use_keyring=False, path=session_file)
        loop.run(sign_in(fake, storage, "alice@example.com"))
        fake.gotrue.access_expires_in = 3600
        if expires_in <= 1:
            time.sleep(1.1)

    paths: list[str] = []  # the last start's requests before its first frame of live data
    # The cached view; then live data (the opening read ahead, or connected) with no cached
    # mark; then connected ("● live").
    screens = {
        "cached": (args.marker, "cached ·"),
        "fresh": (args.marker, "!cached ·"),
        "live": (args.marker, "● live"),
    }

    def one(
        expires_in: int = 3600,
        cache: bool = True,
        cpu: dict[str, float] | None = None,
        replay: bool = True,
    ) -> dict[str, tuple[float, int, int]]:
        """One start: for each frame timed, (seconds, requests before it, sequential); ``cpu``
        receives the CPU seconds the dashboard had used at each frame (``pty_screen``);
        ``replay``: False switches off the recorded frame (``DEVSYNC_FRAME_REPLAY=0``)."""
        signed_in(expires_in)
        fake.requests.clear()
        fake.timings.clear()
        run_env = dict(env)
        if not replay:
            run_env["DEVSYNC_FRAME_REPLAY"] = "0"
        wanted = screens
        if not cache:  # an empty state folder: no cached view (a first start)
            empty = folder / "empty"
            shutil.rmtree(empty, ignore_errors=True)
            run_env["DEVSYNC_STATE_DIR"] = str(empty)
            # The first frame with data: the opening read ahead (marked "connecting") or live.
            wanted = {"live": (args.marker,)}
        started = time.perf_counter()
        found = times_to_screens(devsync, wanted, env=run_env, cpu=cpu)
        result = {}
        for name, took in found.items():
            before = [t for t in fake.timings if t[0] <= started + took]
            result[name] = (took, len(before), sequential_chain(before))
            if name == "live":
                paths.clear()
                paths.extend(
                    f"{r.method} {r.path}"
                    for r, t in zip(fake.requests, fake.timings, strict=True)
                    if t in before
                )
        return result

    def report(name: str, samples: list[tuple[float, int, int]], refs: list[float], **more: Any):
        figure(
            name,
            [s[0] for s in samples],
            "s",
            reference=refs,
            reference_name="minimal Textual app with a DataTable (no network)",
            extra={
                "requests": statistics.median(s[1] for s in samples),
                "sequential": statistics.median(s[2] for s in samples),
                **more,
            },
            target=more.pop("target", None),
        )

    try:
        fake.latency = 0.0
        # A start that stays long enough to keep its view (the cache later starts open on).
        signed_in(3600)
        times_to_screens(devsync, {"live": screens["live"]}, env=env, linger=2.5)
        one()  # warm-up (page cache, .pyc files)
        time_to_text(reference, "REFERENCE_READY")
        cases = [(int(ms), 3600) for ms in args.latency.split(",")]
        if args.expired:
            cases.append((int(args.latency.split(",")[-1]), 1))
        for ms, expires_in in cases:
            fake.latency = ms / 1000
            cached, fresh, live, plain, refs, drawn = [], [], [], [], [], []
            cached_cpu: list[float] = []
            ref_cpu: list[float] = []
            for _ in range(args.runs):  # alternating: the machine's load moves both alike
                cpu: dict[str, float] = {}
                both = one(expires_in, cpu=cpu)
                cached.append(both["cached"])
                cached_cpu.append(cpu["cached"])
                fresh.append(both["fresh"])
                live.append(both["live"])
                refs.append(time_to_text(reference, "REFERENCE_READY", cpu=cpu))
                ref_cpu.append(cpu["marker"])
                plain.append(one(expires_in, cache=False)["live"])
                drawn.append(one(expires_in, replay=False)["cached"])
            suffix = ".expired_session" if expires_in <= 1 else ""
            target = 0.6 if ms == 150 else (None if ms else 1.3)
            report(
                f"startup.supabase.first_frame_with_data.{ms}ms{suffix}", cached, refs,
                latency_ms=ms, frame="the cached last view, marked cached", target=target,
            )  # fmt: skip
            report(
                f"startup.supabase.first_frame_with_data.drawn.{ms}ms{suffix}", drawn, refs,
                latency_ms=ms, frame="the cached view drawn by the main screen (no replay)",
            )  # fmt: skip
            figure(
                f"startup.supabase.first_frame_with_data.{ms}ms{suffix}.cpu", cached_cpu, "s",
                reference=ref_cpu, reference_name="the same reference, CPU until its rows",
                extra={"frame": "CPU (all threads) until the cached view is on screen: "
                       "other processes' load does not add to it", "latency_ms": ms},
            )  # fmt: skip
            report(
                f"startup.supabase.first_live_data_frame.{ms}ms{suffix}", fresh, refs,
                latency_ms=ms, frame="live data replacing the cached view (read ahead)",
            )  # fmt: skip
            report(
                f"startup.supabase.first_live_frame.{ms}ms{suffix}", live, refs,
                latency_ms=ms, frame="connected: ● live",
                last_requests=list(paths),
            )  # fmt: skip
            report(
                f"startup.supabase.first_frame_with_data.no_cache.{ms}ms{suffix}", plain, refs,
                latency_ms=ms, frame="no cache: the opening read ahead, or live data",
                last_requests=list(paths),
            )  # fmt: skip
    finally:
        loop.run(fake.stop())
        loop.stop()
        drop_database(_server_url(), DB_NAME)
        shutil.rmtree(folder, ignore_errors=True)  # its stand-in session and local key


def _server_url() -> str:
    from devsync_tui.backend.postgres import server as local

    return local.ensure_running()


if __name__ == "__main__":
    main()
