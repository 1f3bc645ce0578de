"""The npm parser against npm itself: ``npm ls --package-lock-only --json --all`` on the same
lockfiles (v1, v2, v3, and a 3,192-entry v3 lock of a large front-end monorepo's dependencies)
must name the same packages, and the version we keep for each must be one npm installs — for
direct dependencies, exactly the one at the top of the tree."""

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


def walk(tree: dict[str, Any], out: dict[str, set[str]]) -> None:
    for name, node in (tree.get("dependencies") or {}).items():
        if "version" in node:
            out.setdefault(name, set()).add(node["version"])
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
        [npm, "ls", "--package-lock-only", "--json", "--all", "--offline"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    tree = json.loads(completed.stdout)
    versions: dict[str, set[str]] = {}
    walk(tree, versions)
    top = {name: node["version"] for name, node in tree["dependencies"].items()}

    ours = {p.name: p for p in scan_path(work).packages}
    assert set(ours) == set(versions)
    for name, package in ours.items():
        assert package.version in versions[name], name
    direct = {name: p.version for name, p in ours.items() if p.direct}
    assert direct == top
