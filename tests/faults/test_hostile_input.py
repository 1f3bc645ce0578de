"""Hostile input wherever a user or a file can put it: a clear DevSync error, bounded time and
memory, nothing written. Through the Backend (what the TUI and CLI call) and the CLI."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.backend.postgres.backend import PostgresBackend
from devsync_tui.core.models import ConfigType
from tests.support.demo import PROJECT_STOREFRONT as STOREFRONT
from tests.support.devsync_cli import DevsyncCLI, make_devsync

pytestmark = pytest.mark.db


def _counts(db_url: str) -> tuple[int, ...]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select (select count(*) from public.configurations),"
            " (select count(*) from public.configuration_history),"
            " (select count(*) from public.env_templates),"
            " (select count(*) from public.projects),"
            " (select count(*) from public.environments),"
            " (select count(*) from public.dependencies)"
        ).fetchone()
    assert row is not None
    return tuple(int(x) for x in row)


@pytest.fixture
async def alice(fresh_db_url: str) -> Any:
    backend = PostgresBackend(fresh_db_url, "alice", embedded=False)
    await backend.connect()
    yield backend
    await backend.close()


def _deep(depth: int) -> Any:
    node: Any = {}
    for _ in range(depth):
        node = {"a": node}
    return node


HOSTILE_KEYS = [
    "\x1b[2J\x1b[HPWNED",  # terminal escape: clear screen
    "KEY\x00NUL",
    "KEY\nINJECTED=1",
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "K" * 5000,
    "",
    "\udcff",  # a lone surrogate: what invalid UTF-8 decodes to with surrogateescape
]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=range(len(HOSTILE_KEYS)))
async def test_hostile_env_var_keys_are_refused(alice: Any, fresh_db_url: str, key: str) -> None:
    before = _counts(fresh_db_url)
    with pytest.raises(InvalidInput) as info:
        await alice.save_configuration(
            STOREFRONT,
            None,
            key,
            "x",
            is_secret=False,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    assert "\x1b" not in str(info.value)
    assert _counts(fresh_db_url) == before


HOSTILE_VALUES = [
    "x" * (10 * 1024 * 1024),  # 10 MB
    "a\x00b",
    "bad \udcff utf-8",
    "\x1b[2J\x1b]52;c;ZXZpbA==\x07",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=["10MB", "nul", "surrogate", "escapes"])
@pytest.mark.parametrize("secret", [False, True], ids=["plain", "secret"])
async def test_hostile_env_var_values_are_refused(
    alice: Any, fresh_db_url: str, value: str, secret: bool
) -> None:
    before = _counts(fresh_db_url)
    started = time.monotonic()
    with pytest.raises(InvalidInput) as info:
        await alice.save_configuration(
            STOREFRONT,
            None,
            "HOSTILE",
            value,
            is_secret=secret,
            type=ConfigType.ENV_VAR,
            expected_version=None,
        )
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert len(message) < 300
    assert "\x1b" not in message
    assert "ZXZpbA" not in message
    assert _counts(fresh_db_url) == before


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../outside.env", "a/../../b", "dir\\win.ini", "a\x00b", "x/\x1b[2J"]
)
async def test_hostile_file_keys_are_refused(alice: Any, fresh_db_url: str, path: str) -> None:
    before = _counts(fresh_db_url)
    with pytest.raises(InvalidInput):
        await alice.save_configuration(
            STOREFRONT,
            None,
            path,
            "content",
            is_secret=False,
            type=ConfigType.FILE,
            expected_version=None,
        )
    assert _counts(fresh_db_url) == before


@pytest.mark.parametrize(
    "name", ["\x1b[2Jevil", "bad\x00name", "line\nbreak", "x" * 10_000, "", "   "]
)
async def test_hostile_names_are_refused(alice: Any, fresh_db_url: str, name: str) -> None:
    before = _counts(fresh_db_url)
    with pytest.raises(InvalidInput):
        await alice.create_project(
            (await alice.list_teams())[0].id, name, description=None, repository_url=None
        )
    with pytest.raises(InvalidInput):
        await alice.create_environment(STOREFRONT, name)
    assert _counts(fresh_db_url) == before


async def test_deeply_nested_template_json_is_refused(alice: Any, fresh_db_url: str) -> None:
    before = _counts(fresh_db_url)
    started = time.monotonic()
    with pytest.raises(InvalidInput):
        await alice.create_template(STOREFRONT, "deep", _deep(100_000), [])
    assert time.monotonic() - started < 10
    assert _counts(fresh_db_url) == before


async def test_huge_template_json_is_refused(alice: Any, fresh_db_url: str) -> None:
    before = _counts(fresh_db_url)
    huge = {f"KEY_{i}": "v" * 1000 for i in range(20_000)}  # ~20 MB
    with pytest.raises(InvalidInput):
        await alice.create_template(STOREFRONT, "huge", huge, [])
    assert _counts(fresh_db_url) == before


@pytest.fixture
def devsync(
    fresh_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> DevsyncCLI:
    return make_devsync(fresh_db_url, tmp_path, capsys, monkeypatch)


def test_cli_import_of_invalid_utf8_names_the_file(devsync: DevsyncCLI, tmp_path: Path) -> None:
    before = _counts(devsync.db_url)
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"GOOD=1\nBAD=\xff\xfe\n")
    result = devsync("env", "import", str(bad), "--project", "storefront", "--user", "alice")
    assert result.code == 2
    assert "bad.env" in result.err
    assert "Traceback" not in result.err
    assert _counts(devsync.db_url) == before


def test_cli_set_from_a_10mb_file_is_refused(devsync: DevsyncCLI, tmp_path: Path) -> None:
    before = _counts(devsync.db_url)
    big = tmp_path / "big.json"
    big.write_text("x" * (10 * 1024 * 1024))
    result = devsync(
        "env",
        "set",
        "big.json",
        "--file",
        str(big),
        "--project",
        "storefront",
        "--user",
        "alice",
    )
    assert result.code == 2
    assert "Traceback" not in result.err
    assert len(result.err) < 500
    assert _counts(devsync.db_url) == before


@pytest.mark.parametrize(
    "argv",
    [
        ("env", "set", "ENDLESS", "--file", "/dev/zero"),
        ("env", "import", "/dev/zero", "--dry-run"),
    ],
    ids=["set", "import"],
)
def test_cli_reads_of_an_endless_file_are_bounded(
    devsync: DevsyncCLI, argv: tuple[str, ...]
) -> None:
    # /dev/zero never ends: read whole, it took all the machine's memory (MemoryError at best).
    before = _counts(devsync.db_url)
    started = time.monotonic()
    result = devsync(*argv, "--project", "storefront", "--env", "bob-laptop", "--user", "bob")
    assert time.monotonic() - started < 20
    assert result.code == 2
    assert "/dev/zero is too large" in result.err
    assert "nothing was written" in result.err
    assert _counts(devsync.db_url) == before


def test_cli_scan_of_a_deeply_nested_lockfile_is_refused(
    devsync: DevsyncCLI, tmp_path: Path
) -> None:
    before = _counts(devsync.db_url)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    nested = '{"a":' * 200_000 + "1" + "}" * 200_000
    (checkout / "package-lock.json").write_text(
        '{"name": "x", "lockfileVersion": 3, "packages": {"": {}, "node_modules/a": '
        + nested
        + "}}"
    )
    started = time.monotonic()
    result = devsync(
        "scan", str(checkout), "--project", "storefront", "--env", "bob-laptop", "--user", "bob"
    )
    assert time.monotonic() - started < 20
    assert result.code == 2
    assert "package-lock.json" in result.err
    assert "Traceback" not in result.err
    assert _counts(devsync.db_url) == before


def test_cli_env_values_with_escapes_never_reach_the_terminal_raw(
    devsync: DevsyncCLI,
) -> None:
    """A hostile value stored by someone else is shown escaped by `env get`/`env list`."""
    with psycopg.connect(devsync.db_url) as conn:
        conn.execute(
            "select private.write_configuration(%s, null, 'ESCAPED', %s, false, 'file', null)",
            (STOREFRONT, "line1\n\x1b[2J\x1b]52;c;ZXZpbA==\x07"),
        )
    result = devsync("env", "list", "--project", "storefront", "--user", "alice")
    assert result.code == 0
    assert "\x1b" not in result.out
    assert "\x07" not in result.out
