"""core.dotenv: parsing like python-dotenv, and renderers that python-dotenv, POSIX sh and
Docker's env-file reader (a port of docker/cli opts/file.go, as Docker is not installed here)
read back to exactly the values written."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import time
import unicodedata
from pathlib import Path

import dotenv as python_dotenv
import pytest
from dotenv.parser import parse_stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devsync_tui.core import dotenv

TRICKY = [
    "$",
    "$$",
    "${",
    "}",
    "${HOME}",
    "${A:-b}",
    "$(id)",
    "`id`",
    "#",
    " #",
    "# x",
    "'",
    '"',
    "\\",
    "\\n",
    "\\'",
    '\\"',
    "\n",
    "\r",
    "\r\n",
    "\t",
    " ",
    "=",
    "export ",
    "é",
    "日本",
    "😀",
    "\u2028",
    "\x85",
    "\xa0",
    "a",
]


# Names POSIX shells give a meaning of their own (setting them changes the reading shell).
SHELL_SPECIAL = {"IFS", "PATH", "PPID", "PS1", "PS2", "PS4", "OPTIND", "OPTARG", "PWD", "ENV"}


def _values_strategy() -> st.SearchStrategy[dict[str, str]]:
    chars = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
    piece = st.one_of(st.sampled_from(TRICKY), st.text(chars, max_size=6))
    value = st.lists(piece, max_size=6).map("".join)
    key = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
        lambda k: k not in SHELL_SPECIAL
    )
    return st.dictionaries(key, value, max_size=8)


def python_dotenv_read(text: str) -> dict[str, str | None]:
    return dict(python_dotenv.dotenv_values(stream=io.StringIO(text)))


def docker_read(text: str) -> dict[str, str]:
    """docker/cli opts/file.go parseKeyValueFile, line for line (bufio.ScanLines semantics)."""
    data = text.encode()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out: dict[str, str] = {}
    for number, raw in enumerate(lines):
        if len(raw) + 1 > 64 * 1024:
            raise ValueError("bufio.Scanner: token too long")
        raw = raw.removesuffix(b"\r")  # ScanLines drops a trailing CR
        if number == 0:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        line = raw.decode().lstrip()  # strings.TrimLeftFunc(unicode.IsSpace)
        if not line or line.startswith("#"):
            continue
        variable, sep, value = line.partition("=")
        if not variable or any(c in variable for c in " \t\n\v\f\r"):
            raise ValueError(f"bad key {variable!r}")
        if sep:
            out[variable] = value
    return out


def sh_read(path: Path, keys: list[str]) -> dict[str, str]:
    # The loop variable's name is longer than any generated key, so it never shadows one.
    script = (
        '. "$1"; shift; for devsync_loop_variable_x; do '
        'eval "printf \'%s\\0\' \\"\\$$devsync_loop_variable_x\\""; done'
    )
    result = subprocess.run(
        ["sh", "-c", script, "sh", str(path), *keys], capture_output=True, check=True
    )
    parts = result.stdout.split(b"\0")[:-1]
    return dict(zip(keys, (p.decode() for p in parts), strict=True))


# -- parsing ------------------------------------------------------------------------------------
def test_parse_the_usual_forms() -> None:
    text = (
        "\ufeff# comment\n"
        "export A=1\n"
        "B = 'x y' # note\n"
        'C="l1\\nl2\\t\\"q\\" \\$x"\n'
        "D='multi\nline'\n"
        "E=${A}-${Z:-def}-${B}\n"
        "F\n"
        "G= # only a comment\n"
        "H=#kept\n"
        "I=a # gone\n"
        "'J K'=quoted key\n"
    )
    assert [(e.key, e.value, e.line) for e in dotenv.parse(text)] == [
        ("A", "1", 2),
        ("B", "x y", 3),
        ("C", 'l1\nl2\t"q" \\$x', 4),
        ("D", "multi\nline", 5),
        ("E", "1-def-x y", 7),
        ("F", None, 8),
        ("G", "", 9),
        ("H", "#kept", 10),
        ("I", "a", 11),
        ("J K", "quoted key", 12),
    ]


def test_interpolation_never_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVSYNC_TEST_LEAK", "local-only")
    assert dotenv.parse_values("A=${DEVSYNC_TEST_LEAK:-none}") == {"A": "none"}
    assert dotenv.parse_values("A=${X}", environ={"X": "given"}) == {"A": "given"}
    assert dotenv.parse_values("A=${X}", interpolate=False) == {"A": "${X}"}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('A=1\nB="never closed\nC=3\n', 2, "double-quoted value is never closed"),
        ("A=1\n\nB='x\n", 3, "single-quoted value is never closed"),
        ("A B=1\n", 1, "expected '=' after 'A'"),
        ("=x\n", 1, "found no key"),
        ('A="x" y\n', 1, "after the closing quote of 'A'"),
        ("A=1\n'K=2\n", 2, "quoted key is never closed"),
    ],
)
def test_errors_name_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(dotenv.DotenvError) as info:
        dotenv.parse(text, source=".env")
    assert info.value.line == line
    assert reason in str(info.value)
    assert str(info.value).startswith(f".env, line {line}: ")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([*"AB=#'\"\\ \t\n\r$x{}:-é", "export ", "\\n"]), max_size=25).map(
        "".join
    )
)
def test_parser_agrees_with_python_dotenv(text: str) -> None:
    theirs = list(parse_stream(io.StringIO(text)))
    if any(b.error for b in theirs):
        with pytest.raises(dotenv.DotenvError):
            dotenv.parse(text, interpolate=False)
        return
    expected = [(b.key, b.value) for b in theirs if b.key is not None]
    assert [(e.key, e.value) for e in dotenv.parse(text, interpolate=False)] == expected


# -- rendering: round trips ---------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(_values_strategy())
def test_dotenv_round_trips_through_python_dotenv_and_our_parser(values: dict[str, str]) -> None:
    assert dotenv.LITERAL_DOLLAR_VAR not in os.environ
    text = dotenv.render_dotenv(values)
    assert python_dotenv_read(text) == values
    assert dotenv.parse_values(text) == values


@settings(max_examples=300, deadline=None)
@given(_values_strategy())
def test_dotenv_without_quoted_lines_reads_the_same_in_docker(values: dict[str, str]) -> None:
    # A quoted (possibly multi-line) value makes the file as a whole unsafe for Docker: its
    # continuation lines would read as bindings of their own. The CLI warns in that case.
    text = dotenv.render_dotenv(values)
    if dotenv.docker_incompatible(values):
        assert "'" in text
        return
    assert docker_read(text) == values


@settings(max_examples=300, deadline=None)
@given(_values_strategy())
def test_docker_format_round_trips_or_refuses(values: dict[str, str]) -> None:
    breaks = sorted(k for k, v in values.items() if "\n" in v or v.endswith("\r"))
    if breaks:
        with pytest.raises(dotenv.DotenvError, match="line breaks: " + ", ".join(breaks)):
            dotenv.render_docker(values)
        return
    assert docker_read(dotenv.render_docker(values)) == values


def test_docker_refuses_lines_over_its_buffer() -> None:
    with pytest.raises(dotenv.DotenvError, match="over 65535 bytes: BIG"):
        dotenv.render_docker({"BIG": "x" * 70_000, "SMALL": "y"})


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX sh")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=_values_strategy())
def test_shell_round_trips_through_sh(values: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "env.sh"
    path.write_text(dotenv.render_shell(values), encoding="utf-8")
    assert sh_read(path, list(values)) == values


def test_shell_sample_is_readable() -> None:
    assert dotenv.render_shell({"A": "it's $HOME"}) == "export A='it'\\''s $HOME'\n"


@settings(max_examples=200, deadline=None)
@given(_values_strategy())
def test_json_round_trips(values: dict[str, str]) -> None:
    assert json.loads(dotenv.render_json(values)) == values


def test_exact_tricky_sample_everywhere(tmp_path: Path) -> None:
    values = {
        "DOLLAR": "pa$$word ${HOME} $(id) `id`",
        "HASH": "a #b#c",
        "QUOTES": 'it\'s "quoted" \\\' \\"',
        "MULTI": "line1\nline2\r\n\ttab",
        "UNICODE": unicodedata.normalize("NFD", "café 日本 😀"),
        "EMPTY": "",
        "SPACES": "  padded  ",
    }
    text = dotenv.render_dotenv(values)
    assert python_dotenv_read(text) == values
    path = tmp_path / "env.sh"
    path.write_text(dotenv.render_shell(values), encoding="utf-8")
    assert sh_read(path, list(values)) == values
    # Quotes inside a value need no quoting of their own; a leading quote would.
    assert dotenv.docker_incompatible(values) == ["DOLLAR", "HASH", "MULTI", "SPACES"]
    assert "QUOTES=" + values["QUOTES"] + "\n" in text
    assert "EMPTY=\n" in text
    assert "UNICODE=" + values["UNICODE"] + "\n" in text


def test_renderers_refuse_bad_keys_and_the_reserved_name() -> None:
    for render in (dotenv.render_dotenv, dotenv.render_shell, dotenv.render_docker):
        with pytest.raises(dotenv.DotenvError, match="not a variable name"):
            render({"1BAD": "x"})
    with pytest.raises(dotenv.DotenvError, match="reserved"):
        dotenv.render_dotenv({dotenv.LITERAL_DOLLAR_VAR: "x"})


def _regex_interpolate(value: str, env: dict[str, str | None]) -> str:
    """python-dotenv's own way (``re.sub`` of its variable pattern): the reference."""

    def resolve(match: re.Match[str]) -> str:
        default = match["default"] if match["default"] is not None else ""
        found = env.get(match["name"], default)
        return found if found is not None else ""

    return dotenv._VARIABLE.sub(resolve, value)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="${}:-ab", max_size=24))
def test_interpolation_is_python_dotenvs(value: str) -> None:
    env: dict[str, str | None] = {"a": "X", "": "E", "b": None, "a:": "Q", "ab": "AB", "$": "D"}
    assert dotenv._interpolate(value, env) == _regex_interpolate(value, env)


def test_a_value_full_of_unclosed_variables_is_read_in_linear_time() -> None:
    # The regex retried from every "${" to the end of the value: 300,000 of them took minutes
    # (`devsync env import` of such a file hung).
    started = time.monotonic()
    entries = dotenv.parse('A="' + "${" * 300_000 + '"\nB=${A:-x}}\n', source="hostile.env")
    assert time.monotonic() - started < 5
    assert entries[0].value == "${" * 300_000
    assert entries[1].value == "${" * 300_000 + "}"
