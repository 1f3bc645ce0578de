"""Malformed and hostile input: one LockfileError naming file and line, never a traceback,
and bounded time and memory."""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from devsync_tui.core.lockfiles import LockfileError, scan_path
from devsync_tui.core.lockfiles.base import MAX_FILE_BYTES


def outcome(folder: Path) -> LockfileError | None:
    """The error a scan raised, or None if it read the folder."""
    try:
        scan_path(folder)
    except LockfileError as error:
        return error
    return None


def scan_error(folder: Path) -> LockfileError:
    with pytest.raises(LockfileError) as info:
        scan_path(folder)
    return info.value


@pytest.mark.parametrize(
    ("name", "content", "line", "words"),
    [
        (
            "package-lock.json",
            '{\n  "lockfileVersion": 3,\n  "packages": {,}\n}',
            3,
            "invalid JSON",
        ),
        ("package-lock.json", '{\n"lockfileVersion": 9\n}', 2, "lockfileVersion"),
        (
            "package-lock.json",
            '{"lockfileVersion": 3,\n"packages": {\n"node_modules/a": 5}}',
            3,
            "should be an object",
        ),
        ("package-lock.json", '{"lockfileVersion": 1,\n"dependencies": {\n"a": []}}', 3, "object"),
        ("package.json", '{\n"dependencies": ["react"]\n}', 2, "should be an object"),
        ("yarn.lock", '# yarn lockfile v1\n\nlodash@^4.17.21\n  version "4"\n', 3, "':'"),
        ("yarn.lock", '  version "1.0.0"\n', 1, "outside an entry"),
        ("yarn.lock", 'a@^1:\n  resolved "x"\n\nb@^1:\n  version "1.0.0"\n', 1, "no version"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters:\n  .: [\n", 4, "invalid YAML"),
        ("pnpm-lock.yaml", "lockfileVersion: banana\n", 1, "lockfileVersion"),
        ("requirements.txt", "flask==3.0\nrequests==>2\n", 2, "invalid requirement"),
        ("requirements.txt", "\n-r missing.txt\n", 2, "not found"),
        ("requirements.txt", 'a==1 ; os_name == "posix" and\n', 1, "invalid requirement"),
        ("poetry.lock", '[[package]]\nname = "a"\nversion = 1.0.0\n', 3, "invalid TOML"),
        ("uv.lock", 'version = 1\n[[package]]\nversion = "1.0"\n', 2, "no name"),
        ("Pipfile.lock", '{"default": {\n"flask": "==1.0"}}', 2, "should be an object"),
        ("Gemfile.lock", "GEM\n  specs:\n    rails 7.1.2\n", 3, "unexpected line"),
        ("Gemfile.lock", "DEPENDENCIES\n  rails (~> 7\n", 2, "unexpected dependency"),
        ("Cargo.lock", 'version = 3\n[[package]]\nname = "serde"\n', 2, "lacks name or version"),
        ("Cargo.toml", "[dependencies]\nserde = \n", 2, "invalid TOML"),
        ("pyproject.toml", '[project]\ndependencies = [\n"requests >>= 2"]\n', 3, "invalid"),
    ],
)
def test_malformed_file_names_file_and_line(
    tmp_path: Path, name: str, content: str, line: int, words: str
) -> None:
    (tmp_path / name).write_text(content)
    error = scan_error(tmp_path)
    assert error.path == tmp_path / name
    assert error.line == line
    assert words in error.message
    assert str(error).startswith(f"{tmp_path / name}:{line}: ")


def test_error_in_an_included_requirements_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r base/requirements-base.txt\n")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "requirements-base.txt").write_text("ok==1\n\nbad===\n")
    error = scan_error(tmp_path / "requirements.txt")
    assert error.path == (tmp_path / "base" / "requirements-base.txt").resolve()
    assert error.line == 3


def test_one_bad_file_fails_the_whole_scan(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"react": "^18"}}')
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Cargo.lock").write_text("[[package]\n")
    error = scan_error(tmp_path)
    assert error.path == tmp_path / "svc" / "Cargo.lock"


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "Gemfile.lock").write_bytes(b"GEM\n  specs:\n    caf\xe9 (1.0)\n")
    error = scan_error(tmp_path)
    assert (error.line, error.message) == (3, "the file is not UTF-8 text")


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "package-lock.json"
    with big.open("wb") as handle:  # sparse: no 50 MB written to disk
        handle.truncate(MAX_FILE_BYTES + 1)
    assert "50 MB" in scan_error(tmp_path).message


def test_unknown_single_file_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hi")
    assert "not a lockfile" in scan_error(tmp_path / "notes.md").message
    assert "no such file" in scan_error(tmp_path / "nope").message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("package-lock.json", "[" * 200_000),
        ("Pipfile.lock", '{"a":' * 200_000),
        ("pnpm-lock.yaml", "a:\n" + "[" * 50_000),
        ("poetry.lock", "a = " + "[" * 50_000),
    ],
)
def test_runaway_nesting_is_refused(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    scan_error(tmp_path)


def test_npm_v1_nesting_depth_is_bounded(tmp_path: Path) -> None:
    level: dict[str, object] = {"version": "1.0.0"}
    for _ in range(200):
        level = {"version": "1.0.0", "dependencies": {"x": level}}
    lock = {"lockfileVersion": 1, "dependencies": {"x": level}}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    assert "nested deeper" in scan_error(tmp_path).message


#: The classic "billion laughs": 362 bytes whose aliases expand to 9**9 strings.
BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "lockfileVersion: *i\n"
)


@pytest.mark.parametrize("name", ["pnpm-lock.yaml", "yarn.lock"])
def test_yaml_alias_bomb_is_refused_quickly_in_bounded_memory(tmp_path: Path, name: str) -> None:
    content = BILLION_LAUGHS if name == "pnpm-lock.yaml" else "__metadata:\n" + BILLION_LAUGHS
    assert len(BILLION_LAUGHS.encode()) == 362
    (tmp_path / name).write_text(content)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = scan_error(tmp_path)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.message == "YAML anchors and aliases are not accepted in a lockfile"
    assert error.line == (1 if name == "pnpm-lock.yaml" else 2)
    assert elapsed < 1
    assert peak < 2 * 1024 * 1024


def test_a_single_yaml_anchor_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\nimporters:\n  .: &root {}\n  web: *root\n"
    )
    error = scan_error(tmp_path)
    assert (error.line, error.message) == (
        3,
        "YAML anchors and aliases are not accepted in a lockfile",
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("requirements.txt", "a" + "=" * 200_000 + "\n"),
        ("requirements.txt", "a==1 " + "\\\n" * 100_000 + "--hash=sha256:" + "0" * 100_000),
        ("yarn.lock", "a@" + "@" * 300_000 + ":\n  version " + '"' * 300_000 + "\n"),
        ("Gemfile", "gem 'a'" + ", 'b'" * 100_000 + ",\n"),
        ("Gemfile.lock", "GEM\n  specs:\n    a (" + "(" * 300_000 + "\n"),
    ],
)
def test_pathological_lines_parse_in_bounded_time(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    started = time.perf_counter()
    error = outcome(tmp_path)
    assert time.perf_counter() - started < 5
    assert error is None or error.path == tmp_path / name


def test_links_to_devices_and_fifos_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "yarn.lock")
    assert scan_path(tmp_path).packages == ()  # skipped by the folder walk
    assert scan_error(tmp_path / "yarn.lock").message == "not a regular file"
    assert scan_error(tmp_path / "package-lock.json").message == "not a regular file"


def test_an_error_about_a_line_never_quotes_it(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "bad pkg @ https://user:REQTOKEN@files.example.com/x.tgz?sig=QSIG extra\n"
    )
    with pytest.raises(LockfileError) as info:
        scan_path(tmp_path)
    assert info.value.line == 1  # the line number says where; the line itself is not shown
    for text in (str(info.value), info.value.message):
        for secret in ("REQTOKEN", "QSIG", "files.example.com", "bad pkg"):
            assert secret not in text


def test_an_error_quoting_a_huge_line_stays_short(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("a" + "[" * 200_000 + "\n")
    with pytest.raises(LockfileError) as info:
        scan_path(tmp_path)
    assert info.value.line == 1
    assert "invalid requirement" in str(info.value)
    assert "[[[" not in str(info.value)
    assert len(str(info.value)) < 600
