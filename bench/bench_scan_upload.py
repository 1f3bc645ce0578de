"""Scan + upload of a 3,000-package package-lock.json (target ≤ 1 s), and the reference: a
fresh Python process that only json-loads the same file. Whole processes, as a user runs them.

Usage: python bench/bench_scan_upload.py [--runs 5] [--database-url URL]
(default: the embedded database; uploads to storefront/bob-laptop as bob, OSV and registry
lookups off).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, figure


def write_lockfile(folder: Path, packages: int) -> Path:
    """A package-lock.json v3 with ``packages`` entries (a tenth of them direct)."""
    direct = {f"pkg-{i:04d}": f"^{i % 9}.{i % 7}.0" for i in range(0, packages, 10)}
    entries: dict[str, object] = {
        "": {"name": "bench-app", "version": "1.0.0", "dependencies": direct}
    }
    for i in range(packages):
        name = f"pkg-{i:04d}"
        entries[f"node_modules/{name}"] = {
            "version": f"{i % 9}.{i % 7}.{i % 5}",
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{i % 9}.{i % 7}.{i % 5}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
        }
    (folder / "package.json").write_text(
        json.dumps({"name": "bench-app", "version": "1.0.0", "dependencies": direct})
    )
    lock = folder / "package-lock.json"
    lock.write_text(
        json.dumps(
            {"name": "bench-app", "version": "1.0.0", "lockfileVersion": 3, "packages": entries}
        )
    )
    return lock


def _time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 1 = drift found, which is fine here
        raise SystemExit(f"{argv} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--packages", type=int, default=3000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = database_url(args.database_url)
    env = dict(os.environ, DEVSYNC_DATABASE_URL=url)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lock = write_lockfile(folder, args.packages)
        env["DEVSYNC_STATE_DIR"] = str(folder / "state")
        env["DEVSYNC_CONFIG"] = str(folder / "config.toml")
        scan = [
            sys.executable,
            "-m",
            "devsync_tui",
            "scan",
            str(folder),
            "--project",
            "storefront",
            "--env",
            "bob-laptop",
            "--user",
            "bob",
            "--no-osv",
            "--no-registry",
        ]
        reference = [sys.executable, "-c", f"import json; json.load(open({str(lock)!r}))"]
        _time(scan, env)
        ours, refs = [], []
        for _ in range(args.runs):
            ours.append(_time(scan, env))
            refs.append(_time(reference, env))
    figure(
        f"scan_upload.package_lock_{args.packages}",
        ours,
        "s",
        reference=refs,
        reference_name="python process that only json-loads the lockfile",
        target=1.0,
    )


if __name__ == "__main__":
    main()
