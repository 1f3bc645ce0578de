"""machine.env_transfer's file side as a library: a .env file checked as a whole, warnings
handed to the caller, an effective configuration rendered (no database needed)."""

from __future__ import annotations

from uuid import UUID

import pytest

from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from devsync_tui.machine.env_transfer import export, parse_import
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.values import Effective


def test_a_dotenv_file_is_read_with_its_warnings() -> None:
    warnings: list[str] = []
    values = parse_import(b"A=1\nEMPTY\nA=2\nB='x y'\n", ".env", warnings.append)
    assert values == {"A": "2", "B": "x y"}
    assert warnings == [
        ".env, line 2: EMPTY has no value; skipped.",
        ".env, line 3: A repeated; the last wins.",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"GOOD=1\n1BAD=2\n", ".env, line 2: '1BAD' is not a valid variable name"),
        # An invalid name is one with or without a value: not "a key without a value".
        (b"GOOD=1\n1BAD\n", ".env, line 2: '1BAD' is not a valid variable name"),
        (b"\x00\x01\x02binary\n", ".env, line 1: '\\x00\\x01\\x02binary' is not a valid"),
        (b"config/app.json\n", ".env, line 1: 'config/app.json' is not a valid variable name"),
        (b"A=\xff\n", ".env is not UTF-8 text."),
        (b"A=x\x07y\n", ".env, line 1: the value of A contains control characters"),
    ],
)
def test_one_bad_line_refuses_the_whole_file(raw: bytes, message: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_import(raw, ".env", lambda _line: None)
    assert str(refused.value).startswith(message)


def _row(
    key: str, value: str | None, *, secret: bool = False, file: bool = False
) -> EffectiveConfigRow:
    return EffectiveConfigRow(
        configuration_id=UUID(int=len(key)),
        project_id=UUID(int=1),
        environment_id=None,
        key=key,
        value=value,
        is_secret=secret,
        type=ConfigType.FILE if file else ConfigType.ENV_VAR,
        version=1,
        source="default",
    )


def test_export_leaves_out_files_and_withheld_secrets() -> None:
    rows = [
        _row("PLAIN", " padded"),
        _row("conf/app.json", "{}", file=True),
        _row("TOKEN", None, secret=True),
    ]
    effective = Effective(
        rows={r.key: r for r in rows},
        values={"PLAIN": " padded", "conf/app.json": "{}"},
        withheld=["TOKEN"],
    )
    done = export(effective, "json")
    assert done.variables == {"PLAIN": " padded"}
    assert done.files_left_out == ["conf/app.json"]
    assert done.withheld == ["TOKEN"]
    assert '"PLAIN": " padded"' in done.text
    assert export(effective, "dotenv").docker_incompatible == ["PLAIN"]
    lines = Effective({"X": _row("X", "1\n2")}, {"X": "1\n2"}, [])
    with pytest.raises(InputError, match="line break"):
        export(lines, "docker")


def test_a_dotenv_export_says_when_no_format_carries_it_to_docker() -> None:
    values = {"QUOTED": " padded", "QA_ML": "1\n2", "LONG": "x" * 70_000}
    rows = {key: _row(key, value) for key, value in values.items()}
    done = export(Effective(rows, values, []), "dotenv")
    assert done.docker_incompatible == ["QA_ML", "QUOTED"]
    # The very sentence --format docker refuses with (line breaks are told first).
    assert done.docker_refused == "docker --env-file cannot carry values with line breaks: QA_ML"
    with pytest.raises(InputError, match=f"^{done.docker_refused}"):
        export(Effective(rows, values, []), "docker")
    del values["QA_ML"]
    long_only = export(Effective(rows, values, []), "dotenv")
    assert long_only.docker_refused == "docker --env-file cannot read lines over 65535 bytes: LONG"
    del values["LONG"]
    assert export(Effective(rows, values, []), "dotenv").docker_refused is None
