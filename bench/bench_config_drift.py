"""Configuration drift: ``devsync env status`` on a big checkout, the Config drift view with
200 machines × 200 keys, and a machine's report reaching another user's screen.

1. status: a checkout with 500 keys (50 of them secrets) in ``.env``/``.env.local`` and 20
   ``file`` configurations, some drifted; ``devsync env status`` as a user runs it, twice:
   in-process (``cli.main``: connect, read, reveal, compare, store, print) and as a whole
   process (interpreter start included). Reference: ``devsync env list`` on the same
   environment, the same two ways. Target 0.5 s.
2. view open: 40,000 states served by an in-memory Backend, so the figure is the view's own
   cost (building the matrix, laying out, rendering), headless at 120×40: from ``show()`` to
   the first frame with a data row. Target 0.3 s.
3. live: alice's Config drift pane, fed by her change feed as the app does (``apply_changes``
   then its reload); bob reports his machine's states; from bob's commit to the first frame of
   alice's table that shows the new state. Target 0.5 s.

Usage: python bench/bench_config_drift.py [--repeats 5] [--database-url URL]
Without a URL it starts a private embedded server (demo workspace) in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import figure, machine
from textual.app import App, ComposeResult
from textual.strip import Strip

from devsync_tui.backend.base import Backend, ChangeEvent, LinkChanged
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.config_states import ConfigState, ConfigStateInput, DriftState
from devsync_tui.core.models import ConfigType, Environment, EnvStatus, Project
from devsync_tui.dashboard.panes import config_drift as pane_module
from devsync_tui.dashboard.panes.config_drift import ConfigDriftPane
from devsync_tui.dashboard.widgets.config_drift_matrix import ConfigDriftTable

NS = UUID("7d1b2b9e-0000-4000-8000-000000000000")
SIZE = (120, 40)
MACHINES, KEYS = 200, 200
STOREFRONT = UUID("00000000-0000-4000-c000-000000000001")
BOB_LAPTOP = UUID("00000000-0000-4000-d000-000000000001")
TEAM_ACME = UUID("00000000-0000-4000-b000-000000000001")


# -- 1. env status ---------------------------------------------------------------------------
async def make_big_environment(url: str) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """A project of alice's with one environment holding 500 keys and 20 files."""
    alice = PostgresBackend(url, "alice", embedded=False)
    await alice.connect()
    try:
        suffix = os.getpid()
        project = await alice.create_project(TEAM_ACME, f"cfgbench-{suffix}")
        env = await alice.create_environment(project.id, "big-machine")
        values = {f"KEY_{i:03d}": f"value-{i}-" + "x" * (i % 40) for i in range(500)}
        files = {f"conf/file_{i:02d}.json": json.dumps({"n": i}) + "\n" for i in range(20)}
        slots = asyncio.Semaphore(4)

        async def save(key: str, value: str, kind: ConfigType, secret: bool) -> None:
            async with slots:
                await alice.save_configuration(
                    project.id, env.id, key, value, is_secret=secret, type=kind,
                    expected_version=None,
                )  # fmt: skip

        variables = [save(k, v, ConfigType.ENV_VAR, i % 10 == 0) for i, (k, v) in
                     enumerate(values.items())]  # fmt: skip
        await asyncio.gather(
            *variables, *(save(k, v, ConfigType.FILE, False) for k, v in files.items())
        )
        return project.name, env.name, values, files
    finally:
        await alice.close()


def write_checkout(root: Path, values: dict[str, str], files: dict[str, str]) -> None:
    (root / ".git").mkdir(parents=True)
    keys = list(values)
    drifted = {k: v + "-old" for k, v in list(values.items())[::25]}
    merged = {**values, **drifted}
    (root / ".env").write_text("".join(f"{k}='{merged[k]}'\n" for k in keys[:250]))
    (root / ".env.local").write_text("".join(f"{k}='{merged[k]}'\n" for k in keys[250:]))
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)


def in_process(argv: list[str]) -> tuple[float, int]:
    from devsync_tui import cli

    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(argv)
    return time.perf_counter() - start, code


def whole_process(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "devsync_tui", *argv], env=env, cwd=cwd, capture_output=True
    )
    return time.perf_counter() - start, done.returncode


def bench_status(url: str, repeats: int) -> None:
    project, env, values, files = asyncio.run(make_big_environment(url))
    home = Path(tempfile.mkdtemp(prefix="devsync-cfgbench-"))
    root = home / "checkout"
    write_checkout(root, values, files)
    os.environ.update(
        DEVSYNC_DATABASE_URL=url,
        DEVSYNC_STATE_DIR=str(home / "state"),
        DEVSYNC_CONFIG=str(home / "config.toml"),
        DEVSYNC_KEYRING="off",
    )
    os.chdir(root)
    target = ["--user", "alice", "--project", project, "--env", env]
    assert in_process(["env", "link", *target])[1] == 0
    status = ["env", "status", "--user", "alice"]
    listing = ["env", "list", *target]
    code = in_process(status)[1]
    assert code == 1, f"env status exited {code}"
    runs: dict[str, list[float]] = {"status": [], "list": [], "status_proc": [], "list_proc": []}
    for _ in range(repeats):
        runs["status"].append(in_process(status)[0])
        runs["list"].append(in_process(listing)[0])
        runs["status_proc"].append(whole_process(status, dict(os.environ), root)[0])
        runs["list_proc"].append(whole_process(listing, dict(os.environ), root)[0])
    info = {"keys": len(values), "files": len(files), "secrets": len(values) // 10}
    figure(
        "env_status_500_keys_20_files", runs["status"], "s", reference=runs["list"],
        reference_name="devsync env list, same environment, in-process", target=0.5, extra=info,
    )  # fmt: skip
    figure(
        "env_status_500_keys_20_files_process", runs["status_proc"], "s",
        reference=runs["list_proc"], reference_name="devsync env list, whole process",
        target=0.5, extra=info,
    )  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)


# -- 2. the view with 200 × 200 --------------------------------------------------------------
class FrameProbe:
    def __init__(self) -> None:
        self.stamp: float | None = None
        self.want: str | None = None

    def hit(self, text: str) -> None:
        if self.stamp is None and (self.want is None or self.want in text):
            self.stamp = time.perf_counter()

    async def wait(self, since: float, limit: float = 60.0) -> float:
        deadline = time.perf_counter() + limit
        while self.stamp is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame rendered")
            await asyncio.sleep(0.0005)
        return self.stamp - since


PROBE = FrameProbe()


class ProbedTable(ConfigDriftTable):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if y >= 1 and self.rows:
            PROBE.hit(strip.text)
        return strip


class Host(App[None]):
    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        yield ConfigDriftPane(self.backend)


def generated() -> tuple[Project, list[Environment], list[ConfigState]]:
    project = Project(uuid5(NS, "p"), uuid5(NS, "t"), "monolith")
    owner = uuid5(NS, "owner")
    envs = [
        Environment(uuid5(NS, f"e{i}"), project.id, owner, f"env-{i:03d}", EnvStatus.ACTIVE)
        for i in range(MACHINES)
    ]
    states = [DriftState.IN_SYNC] * 17 + [DriftState.DIFFERS, DriftState.BEHIND, DriftState.MISSING]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ConfigState(
            env.id, project.id, f"KEY_{k:03d}", str(states[(k * 7 + e) % 20]), 3,
            2 if states[(k * 7 + e) % 20] is DriftState.BEHIND else None, at,
        )
        for e, env in enumerate(envs)
        for k in range(KEYS)
    ]  # fmt: skip
    return project, envs, rows


async def open_once() -> float:
    project, envs, states = generated()

    async def config_states(self: Any, project_id: UUID, environment_ids: Any = None) -> Any:
        return states

    backend = type(
        "MemoryBackend",
        (Backend,),
        {
            **{n: _unsupported(n) for n in Backend.__abstractmethods__},
            "kind": "memory",
            "label": "MEMORY",
            "config_states": config_states,
        },
    )()
    pane_module.ConfigDriftTable = ProbedTable  # type: ignore[misc]
    app = Host(backend)
    async with app.run_test(size=SIZE):
        pane = app.query_one(ConfigDriftPane)
        PROBE.stamp, PROBE.want = None, None
        start = time.perf_counter()
        pane.show(project, envs)
        return await PROBE.wait(start)


def _unsupported(name: str) -> Any:
    async def method(self: object, *args: object, **kwargs: object) -> object:
        raise NotImplementedError(name)

    return method


# -- 3. live ---------------------------------------------------------------------------------
async def live_once(url: str, n: int) -> float:
    alice = PostgresBackend(url, "alice", embedded=False)
    bob = PostgresBackend(url, "bob", embedded=False)
    await alice.connect()
    await bob.connect()
    pane_module.ConfigDriftTable = ProbedTable  # type: ignore[misc]
    app = Host(alice)
    try:
        async with app.run_test(size=SIZE):
            pane = app.query_one(ConfigDriftPane)
            project = next(p for p in await alice.list_projects() if p.id == STOREFRONT)
            pane.show(project, await alice.list_environments(project.id))
            feed = alice.changes()
            async for event in feed:
                if event == LinkChanged("live"):
                    break
            for _ in range(2000):  # the first load (up to 10 s)
                if pane.matrix is not None:
                    break
                await asyncio.sleep(0.005)

            async def pump() -> None:
                async for event in feed:
                    if isinstance(event, ChangeEvent):
                        pane.apply_changes([event])

            pumping = asyncio.create_task(pump())
            key = f"LIVE_{os.getpid()}_{n}"
            PROBE.stamp, PROBE.want = None, key
            start = time.perf_counter()
            await bob.report_config_states(
                BOB_LAPTOP, [ConfigStateInput(key, DriftState.DIFFERS, 1)]
            )
            elapsed = await PROBE.wait(start, limit=10)
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
            await feed.aclose()  # type: ignore[attr-defined]
            return elapsed
    finally:
        await alice.close()
        await bob.close()


def start_embedded() -> tuple[str, Path]:
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-bench-"))
    os.environ["DEVSYNC_DATA_DIR"] = str(data_dir)
    from devsync_tui.backend.postgres import server as local

    return local.ensure_running(), data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("DEVSYNC_DATABASE_URL"))
    parser.add_argument("--case", choices=("open",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case == "open":
        print(json.dumps({"open_s": asyncio.run(open_once())}))
        return
    opens = []
    for _ in range(args.repeats):  # a fresh process each: nothing cached between opens
        out = subprocess.run(
            [sys.executable, __file__, "--case", "open"], check=True, capture_output=True,
            text=True,
        )  # fmt: skip
        opens.append(json.loads(out.stdout.strip().splitlines()[-1])["open_s"])
    figure(
        "config_drift_view_open_200x200", opens, "s", target=0.3,
        extra={"machines": MACHINES, "keys": KEYS, "size": f"{SIZE[0]}x{SIZE[1]}"},
    )  # fmt: skip
    url, data_dir = args.database_url, None
    if not url:
        url, data_dir = start_embedded()
    try:
        live = [asyncio.run(live_once(url, n)) for n in range(args.repeats)]
        figure("config_state_report_to_screen", live, "s", target=0.5)
        bench_status(url, args.repeats)
    finally:
        if data_dir is not None:
            from devsync_tui.backend.postgres import server as local

            local.reset()
            shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps({"name": "machine", **machine()}))


if __name__ == "__main__":
    main()
