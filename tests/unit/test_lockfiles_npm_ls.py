"""The npm parser against npm itself: ``npm ls --package-lock-only --json --all`` on the same
lockfiles (v1, v2, v3, and a 3,192-entry v3 lock of a large front-end monorepo's dependencies)
must name exactly the same (package, version) pairs — every installed copy — and the direct
rows must be exactly the top of the tree."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.core.lockfiles import scan_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"


def real_name(key: str, node: dict[str, Any]) -> str:
    """npm ls keys a node by the name it is installed as (an alias for ``npm:`` specs);
    ``--long`` adds the package's own ``name``."""
    name = node.get("name")
    return name if isinstance(name, str) else key


def walk(tree: dict[str, Any], out: dict[str, set[str]]) -> None:
    for key, node in (tree.get("dependencies") or {}).items():
        if "version" in node:
            out.setdefault(real_name(key, node), set()).add(node["version"])
        walk(node, out)


@pytest.mark.parametrize("folder", ["npm-v1", "npm-v2", "npm-v3", "npm-large"])
def test_matches_npm_ls(tmp_path: Path, folder: str) -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm is part of the test environment (Debian package)"
    work = tmp_path / folder
    shutil.copytree(FIXTURES / folder, work)
    packed = work / "package-lock.json.gz"
    if packed.exists():  # kept compressed in the repository (1.3 MB → 0.3 MB)
        (work / "package-lock.json").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    completed = subprocess.run(
        [npm, "ls", "--package-lock-only", "--json", "--all", "--long", "--offline"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    tree = json.loads(completed.stdout)
    versions: dict[str, set[str]] = {}
    walk(tree, versions)
    top = {real_name(key, node): node["version"] for key, node in tree["dependencies"].items()}

    ours = scan_path(work).packages
    pairs = {(p.name, p.version) for p in ours}
    assert len(pairs) == len(ours)
    assert pairs == {(name, v) for name, found in versions.items() for v in found}
    direct = {p.name: p.version for p in ours if p.direct}
    assert len(direct) == sum(1 for p in ours if p.direct)
    assert direct == top
