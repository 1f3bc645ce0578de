"""Drift view with 100k dependency rows: time to open, time per filter keystroke, RSS.

200 environments × 500 packages (+ the baseline: 100,500 ``Dependency`` objects) are generated
in-process and served by an in-memory Backend, so the figures are the view's own cost
(building the matrix, laying out, rendering), not the database's. Beside it, Textual's stock
``DataTable`` holding the same matrix rows (500 × 202 cells), opened and filtered the same way.

Each repeat runs in a fresh process (RSS would otherwise accumulate) under a headless
``App.run_test`` at 120×40. "Open" is from ``show()`` (or ``add_rows`` for the reference) to the
first frame that renders a data row (the pane reads 20,000 rows a page and shows the first
page's packages at once); "all rows on screen" is to the first frame with every package; a
"keystroke" is from the key press to the first frame that renders the re-filtered rows.

Usage: python bench/bench_drift_view.py [--repeats 5] [--keys 8]
Prints one JSON object per figure (median, min, max, n, reference, ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import figure, machine
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import DataTable, Input

from devsync_tui.backend.base import Backend
from devsync_tui.backend.data import DEPENDENCY_PAGE_ROWS
from devsync_tui.core.drift import SYMBOLS, build_matrix
from devsync_tui.core.models import (
    Dependency,
    DependencyStatus,
    Environment,
    EnvStatus,
    PackageManager,
    Project,
)
from devsync_tui.dashboard.panes import drift as drift_screen
from devsync_tui.dashboard.panes.drift import DriftPane
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable, cell_text

ENVIRONMENTS = 200
PACKAGES = 500
SIZE = (120, 40)
#: Typed one character at a time; every prefix matches some packages.
FILTER_TEXT = "react-do"
NS = UUID("6d1b2b9e-0000-4000-8000-000000000000")
PROJECT = Project(uuid5(NS, "project"), uuid5(NS, "team"), "monolith")

_SYLLABLES = ("react", "lodash", "py", "serde", "rails", "tokio", "numpy", "express", "jest")
_SUFFIXES = ("core", "dom", "utils", "cli", "test", "async", "types", "json", "http", "io")


def package_names() -> list[tuple[PackageManager, str]]:
    managers = list(PackageManager)
    names = []
    for i in range(PACKAGES):
        a = _SYLLABLES[i % len(_SYLLABLES)]
        b = _SUFFIXES[(i // len(_SYLLABLES)) % len(_SUFFIXES)]
        names.append((managers[i % len(managers)], f"{a}-{b}-{i:03d}"))
    return names


def generate() -> tuple[list[Environment], list[Dependency]]:
    """The environments and 100,500 dependency rows, the same on every run."""
    rnd = random.Random(42)
    owner = uuid5(NS, "owner")
    envs = [
        Environment(uuid5(NS, f"env{i}"), PROJECT.id, owner, f"env-{i:03d}", EnvStatus.ACTIVE)
        for i in range(ENVIRONMENTS)
    ]
    deps: list[Dependency] = []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for p, (manager, name) in enumerate(package_names()):
        major, minor = 1 + p % 5, p % 20
        base = f"{major}.{minor}.0"
        constraint = f"^{major}.{minor}.0"
        row = (PROJECT.id, None, manager, name, constraint, base, DependencyStatus.HEALTHY, now)
        deps.append(Dependency(uuid5(NS, f"b{p}"), *row))
        for e, env in enumerate(envs):
            roll = rnd.random()
            if roll < 0.02:
                continue  # missing on this machine
            version, status = base, DependencyStatus.HEALTHY
            if roll < 0.10:
                version = f"{major}.{minor}.{rnd.randint(1, 9)}"
            elif roll < 0.13:
                version, status = f"{major}.{max(0, minor - 1)}.0", DependencyStatus.OUTDATED
            elif roll < 0.14:
                version = f"{major + 1}.0.0"
            elif roll < 0.145:
                status = DependencyStatus.VULNERABLE
            deps.append(
                Dependency(
                    uuid5(NS, f"d{p}.{e}"), PROJECT.id, env.id, manager, name, constraint,
                    version, status, now,
                )
            )  # fmt: skip
    # The order the Backend contract promises: manager, name, baseline first, environment.
    deps.sort(key=lambda d: (d.package_manager, d.package_name, d.environment_id is not None))
    return envs, deps


def _unsupported(name: str) -> Any:
    async def method(self: object, *args: object, **kwargs: object) -> object:
        raise NotImplementedError(f"{name} is not part of this benchmark")

    return method


async def _dependency_pages(
    self: Any,
    project_id: UUID,
    rows_per_page: int = DEPENDENCY_PAGE_ROWS,
    first_pages: Sequence[int] = (),
) -> AsyncIterator[list[Dependency]]:
    """Pages of whole packages, as ``Backend.dependency_pages`` gives them."""
    rows: list[Dependency] = self.deps
    sizes = iter(first_pages)
    start = 0
    while start < len(rows):
        end = min(start + next(sizes, rows_per_page), len(rows))
        while end < len(rows) and rows[end].package_name == rows[end - 1].package_name:
            end += 1
        yield rows[start:end]
        start = end


async def _no_risks(self: Any, project_id: UUID) -> list[Any]:
    return []


#: An in-memory Backend that serves only the dependency rows.
MemoryBackend: type[Backend] = type(
    "MemoryBackend",
    (Backend,),
    {
        **{name: _unsupported(name) for name in Backend.__abstractmethods__},
        "kind": "memory",
        "label": "MEMORY",
        "dependency_pages": _dependency_pages,
        "accepted_risks": _no_risks,
    },
)


class FrameProbe:
    """Records when a table renders a data line (render_line with y >= 1 over data)."""

    def __init__(self) -> None:
        self.stamp: float | None = None

    def reset(self) -> None:
        self.stamp = None

    def hit(self) -> None:
        if self.stamp is None:
            self.stamp = time.perf_counter()

    async def wait(self, since: float, limit_s: float = 120.0) -> float:
        deadline = time.perf_counter() + limit_s
        while self.stamp is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame rendered")
            await asyncio.sleep(0.0005)
        return self.stamp - since


PROBE = FrameProbe()
#: The first frame that shows every package (after the first page, the rest loads).
PROBE_FULL = FrameProbe()
#: The filter text a keystroke's frame must show before it counts.
EXPECT: dict[str, Any] = {"filter": None}


class ProbedMatrix(DriftMatrixTable):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y >= 1 and self.rows and self.filter_text == (EXPECT["filter"] or ""):
            PROBE.hit()
            if len(self.all_rows) == PACKAGES:
                PROBE_FULL.hit()
        return strip


class ProbedDataTable(DataTable[str]):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        applied = getattr(self, "applied", None)
        if y >= 1 and self.row_count and (EXPECT["filter"] or "") == applied:
            PROBE.hit()
        return strip


class DriftHost(App[None]):
    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        yield DriftPane(self.backend)


class DataTableHost(App[None]):
    """The reference: stock DataTable with the same matrix rows, refilled on each keystroke."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []

    def compose(self) -> ComposeResult:
        yield Input(id="filter")
        yield ProbedDataTable()

    def fill(self, text: str) -> None:
        table = self.query_one(ProbedDataTable)
        table.clear()
        needle = text.lower()
        table.add_rows(r for r in self.rows if needle in r[0].lower())
        table.applied = text  # type: ignore[attr-defined]

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)


def _matrix_rows(deps: Sequence[Dependency], envs: Sequence[Environment]) -> list[tuple[str, ...]]:
    matrix = build_matrix(deps, [env.id for env in envs])
    return [
        (
            f"{SYMBOLS[row.worst]} {row.package_manager} {row.package_name}",
            (row.baseline.version or "") if row.baseline else "·",
            *(cell_text(cell) for cell in row.cells),
        )
        for row in matrix.rows
    ]


async def run_case(case: str, keys: int) -> dict[str, Any]:
    envs, deps = generate()
    process = psutil.Process()
    rss_before = process.memory_info().rss
    keystrokes: list[float] = []
    if case == "drift":
        backend = MemoryBackend()
        backend.deps = deps  # type: ignore[attr-defined]
        # The pane composes whatever class this module-level name holds: add the frame probe.
        drift_screen.DriftMatrixTable = ProbedMatrix  # type: ignore[misc]
        app: App[None] = DriftHost(backend)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(DriftPane)
            PROBE.reset()
            PROBE_FULL.reset()
            start = time.perf_counter()
            pane.show(PROJECT, envs)
            opened = await PROBE.wait(start)
            complete = await PROBE_FULL.wait(start)
            pane.table.focus()  # where the keyboard is when someone presses "/"
            rss_after = process.memory_info().rss
            shown = len(pane.table.rows)
            await pilot.press("slash")
            keystrokes = await _type(pilot, keys)
            filtered = len(pane.table.rows)
    else:
        app = DataTableHost()
        async with app.run_test(size=SIZE) as pilot:
            host = app
            assert isinstance(host, DataTableHost)
            table = app.query_one(ProbedDataTable)
            PROBE.reset()
            start = time.perf_counter()
            host.rows = _matrix_rows(deps, envs)
            table.add_columns("package", "baseline", *(env.name for env in envs))
            host.fill("")
            opened = complete = await PROBE.wait(start)
            rss_after = process.memory_info().rss
            shown = table.row_count
            app.query_one(Input).focus()
            keystrokes = await _type(pilot, keys)
            filtered = table.row_count
    return {
        "open_s": opened,
        "complete_s": complete,
        "keystroke_s": keystrokes,
        "rss_mb": rss_after / 2**20,
        "rss_delta_mb": (rss_after - rss_before) / 2**20,
        "rows_shown": shown,
        "rows_after_filter": filtered,
        "dependency_rows": len(deps),
    }


async def _type(pilot: Any, keys: int) -> list[float]:
    times = []
    for n in range(1, keys + 1):
        text = FILTER_TEXT[:n]
        EXPECT["filter"] = text
        PROBE.reset()
        start = time.perf_counter()
        await pilot.press(text[-1])
        times.append(await PROBE.wait(start))
    EXPECT["filter"] = None
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keys", type=int, default=len(FILTER_TEXT))
    parser.add_argument("--case", choices=("drift", "datatable"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    keys = max(1, min(args.keys, len(FILTER_TEXT)))
    if args.case:
        print(json.dumps(asyncio.run(run_case(args.case, keys))))
        return
    results: dict[str, list[dict[str, Any]]] = {"drift": [], "datatable": []}
    for _ in range(args.repeats):
        for case in results:
            out = subprocess.run(
                [sys.executable, __file__, "--case", case, "--keys", str(keys)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results[case].append(json.loads(out.stdout.strip().splitlines()[-1]))
    drift, ref = results["drift"], results["datatable"]
    ref_name = "textual DataTable, same 500×202 matrix"
    info = {"dependency_rows": drift[0]["dependency_rows"], "size": f"{SIZE[0]}x{SIZE[1]}"}
    figure(
        "drift_view_open", [r["open_s"] for r in drift], "s",
        reference=[r["open_s"] for r in ref], reference_name=ref_name, target=0.5, extra=info,
    )  # fmt: skip
    figure(
        "drift_view_all_rows_on_screen", [r["complete_s"] for r in drift], "s",
        reference=[r["complete_s"] for r in ref], reference_name=ref_name, extra=info,
    )  # fmt: skip
    figure(
        "drift_view_filter_keystroke",
        [t for r in drift for t in r["keystroke_s"]], "s",
        reference=[t for r in ref for t in r["keystroke_s"]], reference_name=ref_name,
        target=0.05, extra={"rows_after_filter": drift[0]["rows_after_filter"]},
    )  # fmt: skip
    figure(
        "drift_view_rss_after_open", [r["rss_mb"] for r in drift], "MiB",
        reference=[r["rss_mb"] for r in ref], reference_name=ref_name,
        extra={"delta_over_generated_rows_mib": round(
            statistics.median(r["rss_delta_mb"] for r in drift), 1)},
    )  # fmt: skip
    print(json.dumps({"name": "machine", **machine()}))


if __name__ == "__main__":
    main()
