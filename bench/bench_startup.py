"""Startup: process start → first frame showing data, DevSync beside a minimal Textual app.

Both run on the same pseudo-terminal harness (``pty_screen``: a pyte screen of 120×40) in the
same run, alternating, and are timed until a marker is on screen: for DevSync a configuration
key of the demo project, for the reference a DataTable row. The embedded database is started
first (DevSync's steady state: the server keeps running).

DevSync opens on the last view it showed (an encrypted cache in the state folder, here a
private temporary one): its first frame with data is that cached view, marked "cached", drawn
before the database answers; the live view replaces it after one round trip. The figures:

- ``startup.first_frame_with_data``: the cached view's frame (key + "cached" in the header):
  the screen recorded with the cached view, written before the UI is imported
  (``dashboard.frame_replay``);
- ``startup.first_frame_with_data.drawn``: the same start with that replay switched off
  (``DEVSYNC_FRAME_REPLAY=0``): the cached view as the dashboard's main screen draws it;
- ``startup.first_fresh_frame``: the same start's first frame of live data (key, no "cached"
  mark): the opening read ahead (psycopg in a thread while the UI loads) replacing the cached
  view, still "connecting", or the connected view if that comes first;
- ``startup.first_live_frame``: the same start's connected frame (key + "● live");
- ``startup.first_frame_with_data.cpu``: the CPU the process had used (all threads) when
  the cached view was on screen, against the reference's when its rows were: on a shared
  machine the wall times grow with everyone's load, this does not;
- ``startup.first_frame_with_data.no_cache``: a start with no cache (a first start, or the
  first after another user signed in): live data is the first data.

Usage: python bench/bench_startup.py [--runs 7]   (target: cached frame ≤ 1.2× the reference)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import figure
from pty_screen import time_to_text, times_to_screens

#: What is on screen in each frame the figures time (besides the marker key).
CACHED, LIVE = "cached ·", "● live"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--marker", default="FEATURE_FLAGS")
    args = parser.parse_args()

    # An installed DevSync has byte code (pip compiles it; an editable install writes it on
    # the first run). A shell with PYTHONDONTWRITEBYTECODE would time compiling our sources
    # on every start while the reference app's library has its .pyc files: not comparable.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    from devsync_tui.backend.postgres import server as local

    local.ensure_running()
    devsync = [sys.executable, "-m", "devsync_tui", "--user", "alice", "--project", "storefront"]
    reference = [sys.executable, str(HERE / "ref_minimal_datatable.py")]
    folder = Path(tempfile.mkdtemp(prefix="devsync-bench-startup-"))
    cached_env = {"DEVSYNC_STATE_DIR": str(folder / "state")}
    both = {
        "cached": (args.marker, CACHED),
        "fresh": (args.marker, "!" + CACHED),
        "live": (args.marker, LIVE),
    }

    def no_cache() -> float:
        empty = folder / "empty"
        shutil.rmtree(empty, ignore_errors=True)
        env = {"DEVSYNC_STATE_DIR": str(empty)}
        return times_to_screens(devsync, {"data": (args.marker,)}, env=env)["data"]

    try:
        # One start that stays long enough to keep its view (the cache every later start
        # opens on), then one warm-up each (page cache, .pyc files).
        times_to_screens(devsync, {"live": (args.marker, LIVE)}, env=cached_env, linger=2.5)
        times_to_screens(devsync, both, env=cached_env)
        time_to_text(reference, "REFERENCE_READY")
        no_cache()
        cached: list[float] = []
        live: list[float] = []
        fresh: list[float] = []
        refs: list[float] = []
        plain: list[float] = []
        cached_cpu: list[float] = []
        drawn: list[float] = []
        unreplayed = cached_env | {"DEVSYNC_FRAME_REPLAY": "0"}
        ref_cpu: list[float] = []
        for _ in range(args.runs):
            cpu: dict[str, float] = {}
            found = times_to_screens(devsync, both, env=cached_env, cpu=cpu)
            cached.append(found["cached"])
            cached_cpu.append(cpu["cached"])
            live.append(found["live"])
            fresh.append(found["fresh"])
            refs.append(time_to_text(reference, "REFERENCE_READY", cpu=cpu))
            ref_cpu.append(cpu["marker"])
            plain.append(no_cache())
            drawn.append(times_to_screens(devsync, both, env=unreplayed)["cached"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    name = "minimal Textual app with a DataTable"
    figure(
        "startup.first_frame_with_data", cached, "s", reference=refs, reference_name=name,
        target=1.2, extra={"frame": "the cached last view, marked cached"},
    )  # fmt: skip
    figure(
        "startup.first_frame_with_data.drawn", drawn, "s", reference=refs, reference_name=name,
        extra={"frame": "the cached view drawn by the main screen (the replay switched off)"},
    )  # fmt: skip
    figure(
        "startup.first_frame_with_data.cpu", cached_cpu, "s", reference=ref_cpu,
        reference_name=name + ", CPU until its rows are on screen",
        extra={"frame": "CPU (user + system, all threads) until the cached view is on screen; "
               "unlike the wall time, other processes' load does not add to it"},
    )  # fmt: skip
    figure(
        "startup.first_fresh_frame", fresh, "s", reference=refs, reference_name=name,
        extra={"frame": "live data (read ahead or connected) replacing the cached view"},
    )  # fmt: skip
    figure(
        "startup.first_live_frame", live, "s", reference=refs, reference_name=name,
        extra={"frame": "connected (● live) after the cached view"},
    )  # fmt: skip
    figure(
        "startup.first_frame_with_data.no_cache", plain, "s", reference=refs,
        reference_name=name, extra={"frame": "live data, no cache (a first start)"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
