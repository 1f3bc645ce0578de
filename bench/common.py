"""Shared helpers for the benchmarks: repeat, summarise, print one JSON object per figure.

Every figure is printed as a single JSON line::

    {"name": ..., "value": median, "unit": ..., "min": ..., "max": ..., "n": ...,
     "reference": <median of the reference>, "reference_name": ..., "ratio": value/reference}

The machines are shared and noisy, so figures are medians over repeats, with the spread,
and compared against a reference measured in the same run where one exists.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def figure(
    name: str,
    values: Sequence[float],
    unit: str,
    *,
    reference: Sequence[float] | None = None,
    reference_name: str | None = None,
    target: float | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summarise ``values`` (median, min, max, p99 when there are many) and print the JSON line."""
    out: dict[str, Any] = {
        "name": name,
        "value": round(statistics.median(values), 4),
        "unit": unit,
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "n": len(values),
    }
    if len(values) >= 20:
        out["p99"] = round(percentile(values, 99), 4)
    if reference:
        ref = statistics.median(reference)
        out["reference"] = round(ref, 4)
        out["reference_name"] = reference_name
        out["reference_min"] = round(min(reference), 4)
        out["reference_max"] = round(max(reference), 4)
        out["ratio"] = round(out["value"] / ref, 3) if ref else None
    if target is not None:
        out["target"] = target
    if extra:
        out.update(extra)
    print(json.dumps(out), flush=True)
    return out


def machine() -> dict[str, Any]:
    """Where the figures came from."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def database_url(given: str | None) -> str:
    """The database a bench works on: the URL given, else the embedded database of
    ``DEVSYNC_DATA_DIR`` (started if need be)."""
    if given:
        return given
    from devsync_tui.backend.postgres import server as local

    return local.ensure_running()
