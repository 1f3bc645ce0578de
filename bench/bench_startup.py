"""Startup: process start → first frame showing data, DevSync beside a minimal Textual app.

Both run on the same pseudo-terminal harness (``pty_screen``: a pyte screen of 120×40) in the
same run, alternating, and are timed until a marker is on screen: for DevSync a configuration
key of the demo project (data read from the database), for the reference a DataTable row.
The embedded database is started first (DevSync's steady state: the server keeps running).
A second figure times DevSync with its warm start turned off (``DEVSYNC_WARM_START=0``).

Usage: python bench/bench_startup.py [--runs 7]   (target: ratio ≤ 1.5)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import figure
from pty_screen import time_to_text


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
    # one warm-up each (page cache, .pyc files)
    time_to_text(devsync, args.marker)
    time_to_text(reference, "REFERENCE_READY")
    # For comparison, the same start without the warm start (connecting, then reading, after
    # the UI is up): what a first start, or a Supabase profile, goes through.
    no_warm = {"DEVSYNC_WARM_START": "0"}
    time_to_text(devsync, args.marker, env=no_warm)
    ours: list[float] = []
    refs: list[float] = []
    plain: list[float] = []
    for _ in range(args.runs):
        ours.append(time_to_text(devsync, args.marker))
        refs.append(time_to_text(reference, "REFERENCE_READY"))
        plain.append(time_to_text(devsync, args.marker, env=no_warm))
    name = "minimal Textual app with a DataTable"
    figure(
        "startup.first_frame_with_data", ours, "s", reference=refs, reference_name=name, target=1.5
    )
    figure(
        "startup.first_frame_with_data.no_warm_start",
        plain,
        "s",
        reference=refs,
        reference_name=name,
    )


if __name__ == "__main__":
    main()
