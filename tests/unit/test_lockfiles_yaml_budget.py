"""YAML lockfiles (pnpm-lock.yaml, Yarn Berry's yarn.lock) are built from the parser's events
in one pass that stops at a budget of values and of items per list: a file under the size
limit must not cost gigabytes and minutes (a 12 MB ``junk: [a, a, …]`` took 57 s and 2.3 GB
before). What it builds is what PyYAML's safe loader builds."""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from devsync_tui.core.lockfiles import LockfileError, base, scan_path
from devsync_tui.core.lockfiles.base import MAX_YAML_ITEMS, load_yaml, load_yaml_documents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"
HERE = Path("pnpm-lock.yaml")


def safe_load_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def test_a_budget_of_values_stops_the_build() -> None:
    text = "a: [1, 2, 3]\nb: {c: d}\n"  # 10 values: 2 mappings, 1 list, 7 scalars
    assert load_yaml(HERE, text, max_nodes=10) == {"a": [1, 2, 3], "b": {"c": "d"}}
    with pytest.raises(LockfileError) as info:
        load_yaml(HERE, text, max_nodes=9)
    assert info.value.line == 2
    assert info.value.message == "over 9 YAML values, far more than any lockfile"


def test_a_budget_of_items_per_list() -> None:
    assert load_yaml(HERE, "a: [1, 2, 3]\n", max_items=3) == {"a": [1, 2, 3]}
    with pytest.raises(LockfileError) as info:
        load_yaml(HERE, "x: 1\na: [1, 2, 3, 4]\n", max_items=3)
    assert info.value.line == 2
    assert info.value.message == "a YAML list of over 3 items, far more than any lockfile"


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"), ("yarn.lock", "__metadata:\n  version: 8\n")],
)
def test_scans_refuse_files_over_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, prefix: str
) -> None:
    monkeypatch.setattr(base, "MAX_YAML_NODES", 100)
    entries = "".join(f'"p{i}@npm:1.0.0":\n  version: 1.0.0\n' for i in range(60))
    (tmp_path / name).write_text(prefix + entries)
    with pytest.raises(LockfileError) as info:
        scan_path(tmp_path)
    assert info.value.path == tmp_path / name
    assert info.value.message == "over 100 YAML values, far more than any lockfile"


def test_the_hostile_list_is_refused_fast(tmp_path: Path) -> None:
    """QA's 12 MB file, cut to just over the list limit and followed by more of the same (the
    build stops at the limit: the rest is never built)."""
    items = ",".join(["a"] * (MAX_YAML_ITEMS + 1))
    (tmp_path / "pnpm-lock.yaml").write_text(
        f"lockfileVersion: '9.0'\nimporters: {{}}\npackages: {{}}\njunk: [{items}]\n"
        f"more: [{items}]\n"
    )
    started = time.perf_counter()
    with pytest.raises(LockfileError) as info:
        scan_path(tmp_path)
    assert time.perf_counter() - started < 5
    assert (info.value.line, info.value.message) == (
        4,
        f"a YAML list of over {MAX_YAML_ITEMS:,} items, far more than any lockfile",
    )


def test_the_default_budget_leaves_room_for_the_report_limit() -> None:
    """Real lockfiles hold about 24 values per reported row; 20,000 rows is the most a report
    takes. The budget must let such a lockfile through, twice over."""
    assert base.MAX_YAML_NODES >= 2 * 24 * 20_000


SNIPPETS = [
    "",
    "a: 1",
    "lockfileVersion: 5.4\nx: '9.0'\ny: 6.0\nz: 0x1F\nw: 1_000\nv: .inf\nu: -.5e3",
    "a: ~\nb: null\nc: yes\nd: false\ne: 2001-01-01\nf: 2001-12-14t21:59:43.10-05:00",
    "a: !!str 1\nb: !!int '3'\nc: !!float '2'\nd: !!binary aGVsbG8=\ne: !!null ''",
    "a: 1\na: 2\n~: x\n1: y\n2.5: z\ntrue: t\n=: eq",
    "a: {b: [c, {d: e}, [f, g]], h: []}\ni: {}",
    "'quoted': \"s\\u00e9\"\nplain: héllo\nblock: |\n  x\n  y\nfolded: >\n  x\n  y\n",
    "---\n...\n---\na: 1\n---\n- 1\n- 2\n",
    "? a\n: b\n? c\n",
    "!!map {a: !!seq [1]}",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_what_is_built_is_what_the_safe_loader_builds(text: str) -> None:
    assert load_yaml_documents(HERE, text) == safe_load_all(text)


@pytest.mark.parametrize(
    "lockfile",
    [
        *sorted((FIXTURES / "third_party").glob("pnpm-*/pnpm-lock.yaml.gz")),
        *sorted((FIXTURES / "third_party").glob("yarn-berry-*/yarn.lock.gz")),
        *sorted(FIXTURES.glob("pnpm-v*/pnpm-lock.yaml")),
        FIXTURES / "yarn-berry" / "yarn.lock",
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_real_lockfiles_build_as_the_safe_loader_reads_them(lockfile: Path) -> None:
    data = lockfile.read_bytes()
    text = (gzip.decompress(data) if lockfile.suffix == ".gz" else data).decode()
    assert load_yaml_documents(lockfile, text) == safe_load_all(text)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # These escaped PyYAML as ValueError (a traceback, not a LockfileError).
        ("a: 1\nlockfileVersion: 2001-13-45\n", 2, "invalid YAML: a value does not fit its type"),
        ("a: !!int abc\n", 1, "invalid YAML: a value does not fit its type"),
        ("a: !!float x\n", 1, "invalid YAML: a value does not fit its type"),
        ("a: " + "1" * 5000 + "\n", 1, "invalid YAML: a value does not fit its type"),
        # Merge keys reuse anchored content; collection tags build sets and pairs.
        ("a: 1\n<<: {b: 1}\n", 2, "YAML merge keys are not accepted in a lockfile"),
        ("a: !!set {x}\n", 1, "YAML tags on mappings and lists are not accepted in a lockfile"),
        ("? [1]\n: 2\n", 1, "invalid YAML: found unhashable key"),
        ("a: !custom x\n", 1, "invalid YAML: could not determine a constructor for the tag …"),
        ("a: " + "[" * 65 + "]" * 65 + "\n", 1, "YAML nested too deeply"),
        ("a: &x 1\nb: 2\n", 1, "YAML anchors and aliases are not accepted in a lockfile"),
        ("a: 1\nb: *x\n", 2, "YAML anchors and aliases are not accepted in a lockfile"),
    ],
)
def test_refusals_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(LockfileError) as info:
        load_yaml_documents(HERE, text)
    assert (info.value.line, info.value.message) == (line, message)
