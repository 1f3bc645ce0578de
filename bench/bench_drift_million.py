"""The Dependencies view of a team of 500 machines × 2,000 packages (1,002,000 rows) on real
PostgreSQL: first rows on screen, all rows, a filter keystroke, peak memory (issue 16).

A private embedded server gets the demo workspace and a project "monolith" of 500
environments, each running 2,000 npm packages (every 40th package of a machine one version
off), plus a 2,000-package baseline: set-based SQL as the superuser, triggers off. Each repeat
opens the pane in a fresh process, as alice under RLS, headless at 120×40:
- ``pages``: the pane as it is — ``Backend.dependency_pages`` (keyset pages of whole
  packages, ~20,000 rows each), only matrix rows kept;
- ``whole`` (the reference, what the pane did before): every row in one ``list_dependencies``,
  then one ``build_matrix``.
Then (``pages`` only) another client reports machine-001's 2,000 packages with one version
changed: from its commit to the first frame drawn with the new cell (the pane reads that
machine's column and the baseline again; before, a change re-read the whole project — the
reference is the whole read's time).
"First rows" is from ``show()`` to the first frame that renders a data row; "screen full" to
the first with a data row on every line of the table; "all rows" to the first frame with every
package; a keystroke is from the key to the frame with its filter;
memory is the process's peak RSS (``ru_maxrss``) and its RSS once everything is shown; the
team-wide counts are from ``show()`` to the database's ``dependency_summary`` reaching the pane
(asked once the first pages are on screen; "drifted" included, its undecided packages counted
by the client), against the moment every package was read; they must equal the whole matrix's.

Usage: python bench/bench_drift_million.py [--repeats 3] [--environments 500] [--packages 2000]
Prints one JSON object per figure (common.figure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
import psycopg
from common import figure, machine
from textual import work
from textual.app import App, ComposeResult
from textual.strip import Strip

from devsync_tui.backend.base import Backend
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.drift import DriftMatrix, DriftRow, build_matrix
from devsync_tui.core.models import DependencyInput, Environment, Project
from devsync_tui.dashboard.panes import drift as drift_pane
from devsync_tui.dashboard.panes.drift import DriftLoaded, DriftPane
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable

SIZE = (120, 40)
TEAM = UUID("00000000-0000-4000-b000-000000000001")
ALICE = UUID("00000000-0000-4000-a000-000000000001")
PROJECT = Project(UUID("00000000-0000-4000-c000-00000000f00d"), TEAM, "monolith")
# Matches pkg-00010 … pkg-00019 at every size the bench accepts (at least 20 packages).
FILTER_TEXT = "pkg-0001"
CHILD_LIMIT_S = 900.0

_GENERATE = [
    "set session_replication_role = replica",
    "insert into public.projects (id, team_id, name) values (%(project)s, %(team)s, 'monolith')",
    "insert into public.environments (id, project_id, user_id, name, status)"
    " select ('00000000-0000-4000-d000-00f00d' || lpad(to_hex(e), 6, '0'))::uuid, %(project)s,"
    " %(owner)s, 'machine-' || lpad(e::text, 3, '0'), 'active'"
    " from generate_series(1, %(envs)s) as e",
    "insert into public.dependencies (project_id, environment_id, package_manager, package_name,"
    " version_constraint, resolved_version, status)"
    " select %(project)s, null, 'npm', 'pkg-' || lpad(p::text, 5, '0'), '^1.0.0', '1.0.0',"
    " 'healthy' from generate_series(0, %(packages)s - 1) as p",
    "insert into public.dependencies (project_id, environment_id, package_manager, package_name,"
    " version_constraint, resolved_version, status)"
    " select %(project)s, ('00000000-0000-4000-d000-00f00d' || lpad(to_hex(e), 6, '0'))::uuid,"
    " 'npm', 'pkg-' || lpad(p::text, 5, '0'), '^1.0.0',"
    " case when (p + e) %% 40 = 0 then '1.0.1' else '1.0.0' end, 'healthy'"
    " from generate_series(1, %(envs)s) as e cross join generate_series(0, %(packages)s - 1) p",
    "analyze public.dependencies",
]


def generate(url: str, environments: int, packages: int) -> int:
    params = {
        "project": PROJECT.id,
        "team": TEAM,
        "owner": ALICE,
        "envs": environments,
        "packages": packages,
    }
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in _GENERATE:
            conn.execute(statement, params if "%(" in statement else None)
        row = conn.execute(
            "select count(*) from public.dependencies where project_id = %s", (PROJECT.id,)
        ).fetchone()
    return int(row[0]) if row else 0


class Probe:
    """When a table first renders a data line (optionally: with every package)."""

    def __init__(self) -> None:
        self.stamp: float | None = None

    def hit(self) -> None:
        if self.stamp is None:
            self.stamp = time.perf_counter()

    async def wait(self, since: float, limit_s: float = 600.0) -> float:
        deadline = time.perf_counter() + limit_s
        while self.stamp is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame rendered")
            await asyncio.sleep(0.0005)
        return self.stamp - since


FIRST, SCREEN, FULL, CHANGED = Probe(), Probe(), Probe(), Probe()
STATE: dict[str, Any] = {"filter": "", "packages": 0, "want": None, "armed": False}
#: The live change: machine-001 (the first column) reports this package at the first of these
#: versions it does not run already (every repeat must change something, or nothing is sent).
CHANGED_PACKAGE, CHANGED_VERSIONS = "pkg-00010", ("9.9.9", "9.9.8")


class ProbedMatrix(DriftMatrixTable):
    def set_matrix(
        self, matrix: DriftMatrix, rows: Sequence[DriftRow], env_names: Mapping[UUID, str]
    ) -> None:
        super().set_matrix(matrix, rows, env_names)
        if STATE["want"] is not None:
            row = next((r for r in matrix.rows if r.package_name == CHANGED_PACKAGE), None)
            cell = row.cells[0] if row is not None else None
            STATE["armed"] = cell is not None and cell.version == STATE["want"]

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y >= 1 and self.rows and self.filter_text == STATE["filter"]:
            FIRST.hit()
            if len(self.rows) >= self.scrollable_content_region.height - 1:  # but the header
                SCREEN.hit()
            if len(self.all_rows) == STATE["packages"]:
                FULL.hit()
            if STATE["armed"]:
                CHANGED.hit()
        return strip


class Host(App[None]):
    def __init__(self, backend: Backend, live: bool) -> None:
        super().__init__()
        self.backend = backend
        self.live = live

    def compose(self) -> ComposeResult:
        yield DriftPane(self.backend)

    def on_mount(self) -> None:
        if self.live:
            self._follow_feed()

    @work(group="feed", exit_on_error=False)
    async def _follow_feed(self) -> None:
        async for event in self.backend.changes():
            self.query_one(DriftPane).apply_changes([event])


async def _report_change(url: str, env: UUID) -> float:
    """Another client reports machine-001's packages with one version changed; the moment it
    committed."""
    other = PostgresBackend(url, "alice", embedded=False)
    await other.connect()
    try:
        current = await other.list_dependencies(PROJECT.id, environment_ids=[env])
        was = {d.resolved_version for d in current if d.package_name == CHANGED_PACKAGE}
        version = next(v for v in CHANGED_VERSIONS if v not in was)
        STATE["want"] = version
        rows = [
            DependencyInput(
                d.package_manager, d.package_name, d.version_constraint,
                version if d.package_name == CHANGED_PACKAGE else d.resolved_version,
                d.status,
            )
            for d in current
        ]  # fmt: skip
        await other.report_dependencies(PROJECT.id, env, rows)
        return time.perf_counter()
    finally:
        await other.close()


async def _whole(pane: DriftPane, backend: Backend, env_ids: list[UUID]) -> None:
    """The reference: what the pane did before — every row at once, one matrix."""
    deps = await backend.list_dependencies(PROJECT.id)
    matrix = await asyncio.to_thread(build_matrix, deps, env_ids)
    del deps
    pane.project = PROJECT
    pane.post_message(DriftLoaded(PROJECT.id, matrix, False))


async def run_case(url: str, case: str, packages: int) -> dict[str, Any]:
    STATE["packages"] = packages
    backend = PostgresBackend(url, "alice", embedded=False)
    await backend.connect()
    envs: list[Environment] = await backend.list_environments(PROJECT.id)
    envs.sort(key=lambda e: e.name)
    drift_pane.DriftMatrixTable = ProbedMatrix  # type: ignore[attr-defined]
    app = Host(backend, live=case == "pages")
    try:
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(DriftPane)
            start = time.perf_counter()
            summary: asyncio.Task[float] | None = None
            if case == "pages":
                pane.show(PROJECT, envs)
                summary = asyncio.create_task(_summary_shown(pane, start))
            else:
                pane.environments = envs
                await _whole(pane, backend, [e.id for e in envs])
            first = await FIRST.wait(start)
            screen = await SCREEN.wait(start)
            full = await FULL.wait(start)
            counts = await summary if summary is not None else None
            # The counts that came early must be the whole matrix's, "drifted" included.
            whole = pane.matrix.summary() if pane.matrix is not None else None
            if summary is not None and pane.summary != whole:
                sys.exit(f"counts differ: {pane.summary} != {whole}")
            rss_shown = psutil.Process().memory_info().rss
            pane.table.focus()
            await pilot.press("slash")
            keys = []
            for n in range(1, len(FILTER_TEXT) + 1):
                STATE["filter"] = FILTER_TEXT[:n]
                FIRST.stamp = None
                at = time.perf_counter()
                await pilot.press(FILTER_TEXT[n - 1])
                keys.append(await FIRST.wait(at))
            shown = len(pane.table.all_rows)
            change = None
            if case == "pages":
                # A machine reports: its column (and the baseline) is read again, not the
                # project (the reference: the whole read above, what a change cost before).
                await asyncio.sleep(0.5)  # the feed is listening
                committed = await _report_change(url, envs[0].id)
                change = await CHANGED.wait(committed, 120.0)
    finally:
        await backend.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "first_s": first,
        "screen_s": screen,
        "full_s": full,
        "keys_s": keys,
        "rss_shown_mb": rss_shown / 2**20,
        "rss_peak_mb": peak / 2**20,
        "packages_shown": shown,
        "change_s": change,
        "summary_s": counts,
    }


async def _summary_shown(pane: DriftPane, since: float) -> float:
    """When the database's team-wide counts reached the pane (``dependency_summary``, asked
    while the pages arrive)."""
    deadline = time.perf_counter() + 600.0
    while pane.summary is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("no summary came")
        await asyncio.sleep(0.001)
    return time.perf_counter() - since


def _child(url: str, case: str, packages: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, "--url", url, "--packages", str(packages)],
        capture_output=True,
        text=True,
        timeout=CHILD_LIMIT_S,
    )
    if out.returncode != 0:
        sys.exit(f"the {case} run failed ({out.returncode}):\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--environments", type=int, default=500)
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--case", choices=("pages", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.packages < 20 or args.environments < 1:
        parser.error("at least 20 packages and one environment")
    if args.case:
        print(json.dumps(asyncio.run(run_case(args.url, args.case, args.packages))))
        return
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-bench-million-"))
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    try:
        url = local.ensure_running()
        started = time.perf_counter()
        rows = generate(url, args.environments, args.packages)
        print(
            json.dumps({"generated_rows": rows, "seconds": round(time.perf_counter() - started)}),
            flush=True,
        )
        runs: dict[str, list[dict[str, Any]]] = {"pages": [], "whole": []}
        for _ in range(args.repeats):
            for case in runs:
                runs[case].append(_child(url, case, args.packages))
        pages, whole = runs["pages"], runs["whole"]
        size = {"rows": rows, "packages": args.packages, "environments": args.environments}
        for key, name, unit, target in (
            ("first_s", "drift_1m_first_rows", "s", 0.3),
            ("screen_s", "drift_1m_screen_full", "s", None),
            ("full_s", "drift_1m_all_rows", "s", None),
            ("rss_peak_mb", "drift_1m_peak_rss", "MiB", 250.0),
            ("rss_shown_mb", "drift_1m_rss_all_shown", "MiB", 250.0),
        ):
            figure(
                name,
                [r[key] for r in pages],
                unit,
                reference=[r[key] for r in whole],
                reference_name="every row at once, then one matrix (the pane before)",
                target=target,
                extra=size,
            )
        figure(
            "drift_1m_live_change",
            [r["change_s"] for r in pages],
            "s",
            reference=[r["full_s"] for r in whole],
            reference_name="reading the whole project again (what a change cost before)",
            extra=size,
        )
        figure(
            "drift_1m_summary_counts",
            [r["summary_s"] for r in pages],
            "s",
            reference=[r["full_s"] for r in pages],
            reference_name="every package read (when the matrix alone could count them)",
            extra=size,
        )
        figure(
            "drift_1m_filter_keystroke",
            [k for r in pages for k in r["keys_s"]],
            "s",
            reference=[k for r in whole for k in r["keys_s"]],
            reference_name="the same keystrokes after the whole load",
            target=0.05,
            extra=size,
        )
        machine()
    finally:
        local.reset()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
