"""``devsync run`` startup overhead: how much later the child starts than when run directly.

The child is ``python -c "import time; print(time.time())"``: it prints the wall-clock time at
which it got control. The clock starts right before the process is launched, so
``child time - launch time`` is the start latency; run directly it is Python's own start-up,
through ``devsync run --user bob --project storefront --env bob-laptop --`` it adds everything
devsync does first (imports, settings, connecting, resolving the target, reading the effective
configuration, revealing secrets, writing files). Runs alternate direct / via devsync so both
see the same machine load; the overhead is the median of the paired differences.

The CPU time of the devsync process tree is reported beside it (``cpu_overhead_median``):
the machines these run on are shared, and wall time there grows with other people's load.

Both are measured for the default path (the embedded database, found and checked through the
settings profile) and for ``DEVSYNC_DATABASE_URL`` naming the same server.

In the same runs, interleaved with those two, the same child is started as a machine: a token
for bob-laptop in ``DEVSYNC_TOKEN`` (made with ``devsync token create`` first) and no target
flags. ``run_machine_token_overhead_<path>`` gives its overhead beside the signed-in user's
and the ratio of the two medians (target: within 20 %, ratio ≤ 1.2).

A second figure is the whole wall time of ``devsync run -- true`` beside ``true`` (it includes
what devsync does after the child started: the encrypted snapshot, closing the backend).

Target: overhead ≤ 0.3 s.

Usage: python bench/bench_run_overhead.py [--runs 15] [--database-url URL]
Without a URL the benchmark uses the real default path — the embedded database — in a private
data dir (started, migrated and seeded first, stopped and removed afterwards). Settings, state
and the key file live in a temp dir. Prints one JSON object per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import figure, machine

TARGET = ("--user", "bob", "--project", "storefront", "--env", "bob-laptop")
CHILD = [sys.executable, "-c", "import time; print(repr(time.time()))"]


def _start_latency(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds until the child got control, CPU seconds spent by the process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    launched = time.time()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(out.strip().splitlines()[-1]) - launched, cpu


def _wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def make_token(env: dict[str, str]) -> str:
    """A machine token for bob-laptop, made as bob through the CLI."""
    out = subprocess.run(
        [sys.executable, "-m", "devsync_tui", "token", "create", *TARGET, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return str(json.loads(out)["token"])


def measure(name: str, env: dict[str, str], runs: int) -> None:
    devsync = [sys.executable, "-m", "devsync_tui", "run", *TARGET, "--"]
    as_machine = [sys.executable, "-m", "devsync_tui", "run", "--"]
    machine_env = {**env, "DEVSYNC_TOKEN": make_token(env)}
    # Warm up: first-run work (key file, byte-code cache, OS caches) is not start-up cost.
    for _ in range(2):
        _start_latency(devsync + CHILD, env)
        _start_latency(as_machine + CHILD, machine_env)
        _start_latency(CHILD, env)
    direct: list[float] = []
    via: list[float] = []
    as_token: list[float] = []
    cpu_direct: list[float] = []
    cpu_via: list[float] = []
    cpu_machine: list[float] = []
    for _ in range(runs):
        latency, cpu = _start_latency(CHILD, env)
        direct.append(latency)
        cpu_direct.append(cpu)
        latency, cpu = _start_latency(devsync + CHILD, env)
        via.append(latency)
        cpu_via.append(cpu)
        latency, cpu = _start_latency(as_machine + CHILD, machine_env)
        as_token.append(latency)
        cpu_machine.append(cpu)
    overhead = [v - d for v, d in zip(via, direct, strict=True)]
    machine_overhead = [m - d for m, d in zip(as_token, direct, strict=True)]
    machine_cpu = [m - d for m, d in zip(cpu_machine, cpu_direct, strict=True)]
    user_median = statistics.median(overhead)
    figure(
        f"run_machine_token_overhead_{name}",
        machine_overhead,
        "s",
        reference=overhead,
        reference_name="overhead of the same run as a signed-in user (bob)",
        target=1.2,
        extra={
            "target_applies_to": "ratio",
            "user_overhead_median": round(user_median, 4),
            "cpu_overhead_median": round(statistics.median(machine_cpu), 4),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
    )
    cpu_overhead = [v - d for v, d in zip(cpu_via, cpu_direct, strict=True)]
    figure(
        f"run_child_start_latency_{name}",
        via,
        "s",
        reference=direct,
        reference_name="child run directly",
        target=0.3,
        extra={
            "overhead_median": round(statistics.median(overhead), 4),
            "overhead_min": round(min(overhead), 4),
            "overhead_max": round(max(overhead), 4),
            "target_applies_to": "overhead_median",
            # CPU of the whole devsync run (incl. after the child started) minus the child's:
            # what the overhead would be on an idle machine, give or take database round trips.
            "cpu_overhead_median": round(statistics.median(cpu_overhead), 4),
            "load_average_1m": round(os.getloadavg()[0], 2),
            **machine(),
        },
    )
    true_direct = [_wall(["true"], env) for _ in range(runs)]
    true_via = [_wall([*devsync, "true"], env) for _ in range(runs)]
    figure(
        f"run_total_wall_time_{name}",
        true_via,
        "s",
        reference=true_direct,
        reference_name="true run directly",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("DEVSYNC_DATABASE_URL"))
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="devsync-bench-run-"))
    env = dict(os.environ)
    env.update(
        DEVSYNC_CONFIG=str(home / "config" / "config.toml"),
        DEVSYNC_STATE_DIR=str(home / "state"),
        DEVSYNC_CACHE_DIR=str(home / "cache"),
        DEVSYNC_DATA_DIR=str(home / "data"),
        DEVSYNC_KEYRING="off",
        # An installed devsync has byte code; a checkout run with PYTHONDONTWRITEBYTECODE would
        # recompile every module on every start. Keep the cache out of the source tree.
        PYTHONPYCACHEPREFIX=str(home / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("DEVSYNC_PROFILE", None)
    env.pop("DEVSYNC_DATABASE_URL", None)
    embedded = not args.database_url
    try:
        if embedded:
            os.environ["DEVSYNC_DATA_DIR"] = env["DEVSYNC_DATA_DIR"]
            from devsync_tui.backend.postgres import server as local

            url = local.ensure_running()
            # The default path: the embedded database found (and checked) by the profile.
            measure("embedded", env, args.runs)
        else:
            url = args.database_url
        # The same server named by DEVSYNC_DATABASE_URL (what CI and teams with a server use).
        measure("database_url", {**env, "DEVSYNC_DATABASE_URL": url}, args.runs)
    finally:
        if embedded:
            from devsync_tui.backend.postgres import server as local

            local.reset()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
