"""Fuzzing the parsers with hypothesis: whatever bytes a file holds, a scan returns rows or
raises LockfileError — nothing else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devsync_tui.core.lockfiles import LockfileError, scan_path
from devsync_tui.core.lockfiles.detect import KNOWN_NAMES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
NAMES = sorted(KNOWN_NAMES | {"requirements.txt"})
SEEDS = {
    p.name: p.read_text()
    for p in FIXTURES.rglob("*")
    if p.is_file() and p.suffix != ".gz" and "third_party" not in p.parts
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "",
                    "node_modules/a",
                    "version",
                    "dependencies",
                    "packages",
                    "lockfileVersion",
                    "x",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def scan_text(name: str, content: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        try:
            result = scan_path(Path(folder))
        except LockfileError as error:
            failed: LockfileError | None = error
        else:
            failed = None
            assert all(package.name for package in result.packages)
    assert failed is None or failed.path.name == name


def mutate(seed: str, data: st.DataObject) -> str:
    """Cut, duplicate or splice random text into a real lockfile."""
    if not seed:
        return seed
    i = data.draw(st.integers(0, len(seed)))
    j = data.draw(st.integers(i, min(len(seed), i + 200)))
    insert = data.draw(st.text(max_size=20) | st.sampled_from(["\n", "  ", ":", '"', "{", "@"]))
    return seed[:i] + insert + seed[j:]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), content=st.text(max_size=400))
def test_random_text(name: str, content: str) -> None:
    scan_text(name, content)


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(NAMES), content=st.binary(max_size=300))
def test_random_bytes(name: str, content: bytes) -> None:
    scan_text(name, content)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["package-lock.json", "Pipfile.lock", "package.json"]),
    value=json_values,
)
def test_random_json_structures(name: str, value: object) -> None:
    scan_text(name, json.dumps(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(SEEDS)), data=st.data())
def test_mutated_real_lockfiles(seed: str, data: st.DataObject) -> None:
    name = seed if seed in KNOWN_NAMES or "requirements" in seed else "requirements.txt"
    scan_text(name, mutate(SEEDS[seed], data))
