"""A scan stays inside the folder it was given and never shows a file's content: links out
are skipped (walk) or refused (named file), ``-r``/``-c`` outside the folder are refused, and
error text neither quotes the file nor carries its name's control characters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devsync_tui.core.lockfiles import LockfileError, scan_path


def scan_error(path: Path) -> LockfileError:
    with pytest.raises(LockfileError) as info:
        scan_path(path)
    return info.value


def environment_values() -> list[str]:
    """Values of this process's environment as /proc/self/environ holds them."""
    raw = Path("/proc/self/environ").read_bytes().split(b"\0")
    values = [item.partition(b"=")[2].decode("utf-8", "replace") for item in raw]
    return [v for v in values if len(v) >= 6]


@pytest.mark.parametrize("option", ["-r", "--requirement", "-c", "--constraint"])
def test_an_include_of_proc_self_environ_is_refused_without_its_content(
    tmp_path: Path, option: str
) -> None:
    (tmp_path / "requirements.txt").write_text(f"flask==3.0.0\n{option} /proc/self/environ\n")
    error = scan_error(tmp_path)
    assert error.line == 2
    assert "outside" in error.message
    assert str(tmp_path) in error.message
    for value in environment_values():
        assert value not in str(error)


def test_an_include_through_a_link_that_leaves_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "env.txt").symlink_to("/proc/self/environ")
    (tmp_path / "requirements.txt").write_text("-r env.txt\n")
    error = scan_error(tmp_path / "requirements.txt")
    assert (error.line, "outside" in error.message) == (1, True)
    for value in environment_values():
        assert value not in str(error)


def test_includes_inside_the_folder_are_read_and_one_level_up_is_refused(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("attrs==23.1.0\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "dev.txt").write_text("-r ../base.txt\npytest==8.0.0\n")
    (tmp_path / "requirements.txt").write_text("-r requirements/dev.txt\n")
    # From the project folder, both includes stay inside it.
    found = {p.name for p in scan_path(tmp_path / "requirements.txt").packages}
    assert found == {"attrs", "pytest"}
    # Named on its own, requirements/dev.txt is scanned from its folder: ../ leaves it.
    error = scan_error(tmp_path / "requirements" / "dev.txt")
    assert error.line == 1
    assert "scan a folder that holds both" in error.message


def test_a_walk_skips_links_that_leave_the_folder_and_says_so(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    (outside / "Gemfile.lock").write_text("GEM\n  specs:\n    rails (7.1.2)\n")
    root = tmp_path / "project"
    root.mkdir()
    (root / "Cargo.lock").write_text(
        '[[package]]\nname = "log"\nversion = "0.4.20"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
    )
    (root / "Gemfile.lock").symlink_to(outside / "Gemfile.lock")
    (root / "vendored").symlink_to(outside)
    (root / "same.lock").symlink_to(root / "Cargo.lock")  # inside: no warning, not read
    result = scan_path(root)
    assert [(p.name, p.version) for p in result.packages] == [("log", "0.4.20")]
    assert result.files == (root / "Cargo.lock",)
    assert len(result.warnings) == 2
    assert all("outside" in w and str(root) in w for w in result.warnings)
    assert any(str(root / "Gemfile.lock") in w for w in result.warnings)
    assert any(str(root / "vendored") in w for w in result.warnings)


def test_a_named_file_that_is_a_link_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "Cargo.lock").write_text("")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "Cargo.lock").symlink_to(tmp_path / "real" / "Cargo.lock")
    error = scan_error(tmp_path / "project" / "Cargo.lock")
    assert "outside its folder" in error.message


SECRET = "S3CR3T-C0NTENT"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("requirements.txt", f"{SECRET} ==> 1\n"),
        ("Gemfile.lock", f"GEM\n  specs:\n    {SECRET}\n"),
        ("Gemfile.lock", f"DEPENDENCIES\n  {SECRET} (~> 1\n"),
        ("package-lock.json", f'{{"lockfileVersion": "{SECRET}"}}'),
        ("package-lock.json", f'{{"lockfileVersion": 3, "packages": {{"{SECRET}": 1}}}}'),
        ("package-lock.json", f'{{"lockfileVersion": 1, "dependencies": {{"{SECRET}": []}}}}'),
        ("Pipfile.lock", f'{{"default": {{"{SECRET}": "==1"}}}}'),
        ("pnpm-lock.yaml", f"lockfileVersion: {SECRET}\n"),
        ("pnpm-lock.yaml", f"lockfileVersion: '9.0'\npackages: *{SECRET}\n"),
        ("pnpm-lock.yaml", f"lockfileVersion: '9.0'\npackages: '{SECRET}\n"),
        ("yarn.lock", f'{SECRET}@^1:\n  resolved "x"\n\nb@^1:\n  version "1"\n'),
        ("yarn.lock", f"__metadata:\n  version: 8\n{SECRET}: [1]\n"),
        ("poetry.lock", f'[[package]]\nname = "a"\nversion = {SECRET}\n'),
        ("Cargo.toml", f"[dependencies]\nserde = {SECRET}\n"),
        ("pyproject.toml", f'[project]\ndependencies = ["{SECRET} >>= 2"]\n'),
    ],
)
def test_no_error_quotes_the_file(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    error = scan_error(tmp_path)
    assert error.path == tmp_path / name
    assert SECRET not in str(error)
    assert SECRET.lower() not in str(error).lower()


def test_control_characters_in_a_file_name_are_shown_not_replayed(tmp_path: Path) -> None:
    folder = tmp_path / "evil\x1b]52;c;Zm9v\x07"
    folder.mkdir()
    (folder / "requirements.txt").write_text("bad ==> 1\n")
    error = scan_error(tmp_path)
    assert "\x1b" not in str(error)
    assert "\x07" not in str(error)
    assert "␛]52;c;Zm9v␇" in str(error)


def test_a_link_skipped_in_a_walk_is_named_safely(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("attrs==23.1.0\n")
    os.symlink("/etc/hostname", tmp_path / "x\x1b[2J.txt")
    result = scan_path(tmp_path)
    assert len(result.warnings) == 1
    assert "\x1b" not in result.warnings[0]
    assert "␛[2J" in result.warnings[0]
