"""Latest-release lookups (core.registry) of ~3,000 npm names against the local registry
stand-in (tests/support/fake_registry.py, in a child process so that it does not share this
one's interpreter): cold (every name asked, 16 at a time) and warm (all from the cache).

Usage: python bench/bench_registry_lookup.py [--runs 3] [--names 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import figure

from devsync_tui.core.models import PackageManager
from devsync_tui.core.registry import RegistryClient

SERVE = """
import sys
from tests.support.fake_registry import FakeRegistry
fake = FakeRegistry(npm_generated=lambda name: "2.0.0").start()
print(fake.root, flush=True)
sys.stdin.read()
"""


async def _lookup(cache: Path, root: str, names: int) -> tuple[float, int]:
    keys = [(PackageManager.NPM, f"pkg-{i:04d}") for i in range(names)]
    started = time.perf_counter()  # reading and writing the cache file count too
    client = RegistryClient(cache, urls=dict.fromkeys(PackageManager, f"{root}/npm"))
    result = await client.lookup(keys)
    elapsed = time.perf_counter() - started
    if not result.online or len(result.latest) != names:
        raise SystemExit(f"lookup incomplete: {len(result.latest)} of {names} ({result.note})")
    return elapsed, len(result.latest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--names", type=int, default=3000)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        root = server.stdout.readline().strip()
        cold, warm = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp) / "registry.json"
                cold.append(asyncio.run(_lookup(cache, root, args.names))[0])
                warm.append(asyncio.run(_lookup(cache, root, args.names))[0])
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)
    figure(f"registry_lookup.cold_{args.names}", cold, "s")
    figure(f"registry_lookup.warm_{args.names}", warm, "s")


if __name__ == "__main__":
    main()
