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
"First rows" is from ``show()`` to the first frame that renders a data row; "all rows" to the
first frame with every package; a keystroke is from the key to the frame with its filter;
memory is the process's peak RSS (``ru_maxrss``) and its RSS once everything is shown.

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
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
import psycopg
from common import figure, machine
from textual.app import App, ComposeResult
from textual.strip import Strip

from devsync_tui.backend.base import Backend
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.drift import build_matrix
from devsync_tui.core.models import Environment, Project
from devsync_tui.dashboard.panes import drift as drift_pane
from devsync_tui.dashboard.panes.drift import DriftLoaded, DriftPane
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable

SIZE = (120, 40)
TEAM = UUID("00000000-0000-4000-b000-000000000001")
ALICE = UUID("00000000-0000-4000-a000-000000000001")
PROJECT = Project(UUID("00000000-0000-4000-c000-00000000f00d"), TEAM, "monolith")
FILTER_TEXT = "pkg-0042"

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


FIRST, FULL = Probe(), Probe()
STATE: dict[str, Any] = {"filter": "", "packages": 0}


class ProbedMatrix(DriftMatrixTable):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y >= 1 and self.rows and self.filter_text == STATE["filter"]:
            FIRST.hit()
            if len(self.all_rows) == STATE["packages"]:
                FULL.hit()
        return strip


class Host(App[None]):
    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        yield DriftPane(self.backend)


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
    drift_pane.DriftMatrixTable = ProbedMatrix  # type: ignore[misc]
    app = Host(backend)
    try:
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(DriftPane)
            start = time.perf_counter()
            if case == "pages":
                pane.show(PROJECT, envs)
            else:
                pane.environments = envs
                await _whole(pane, backend, [e.id for e in envs])
            first = await FIRST.wait(start)
            full = await FULL.wait(start)
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
    finally:
        await backend.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "first_s": first,
        "full_s": full,
        "keys_s": keys,
        "rss_shown_mb": rss_shown / 2**20,
        "rss_peak_mb": peak / 2**20,
        "packages_shown": shown,
    }


def _child(url: str, case: str, packages: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, "--url", url, "--packages", str(packages)],
        capture_output=True,
        text=True,
        check=True,
    )
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
        local.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
