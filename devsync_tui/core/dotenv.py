"""`.env` files: parse them as python-dotenv does, and render values so readers get them back.

Parsing follows python-dotenv 1.x exactly (its grammar, regexes and escapes): ``export``
prefix, ``#`` comments (inline after whitespace), single quotes (escapes ``\\\\`` and ``\\'``),
double quotes (escapes ``\\\\ \\' \\" \\a \\b \\f \\n \\r \\t \\v``), multi-line quoted values,
unquoted values taken literally up to the end of the line, ``KEY`` alone (no value), and
``${NAME}`` / ``${NAME:-default}`` interpolation. Two deliberate differences: a line
python-dotenv would skip with a warning is a :class:`DotenvError` naming the line, and
interpolation reads earlier keys of the file plus ``environ`` (empty by default) — never this
process's environment, so importing a file cannot leak local variables into a team's config.

Rendering (every format gives the exact values back, including ``$``, ``#``, quotes,
backslashes, newlines and unicode):

- :func:`render_dotenv` for python-dotenv (default ``interpolate=True``). Values it would read
  literally when unquoted are written unquoted — those lines ``docker --env-file`` reads the
  same. Others are single-quoted (only ``\\`` and ``'`` escaped); a literal ``${`` is written as
  ``${DEVSYNC_LITERAL_DOLLAR_:-$}{`` because python-dotenv has no escape for it (the variable is
  never set, so its default ``$`` comes back). :func:`docker_incompatible` names the keys such
  lines hold.
- :func:`render_docker` for ``docker run --env-file``: ``KEY=value`` verbatim, since Docker
  strips no quotes and expands nothing. Docker reads one line per variable, so a value with a
  newline (or ending in CR), or a line over 64 KiB, cannot be carried: :class:`DotenvError`
  names the keys (:func:`docker_refusal`, which ``env export`` asks before it suggests the
  format).
- :func:`render_shell` for POSIX ``sh`` (``. file``): ``export KEY='…'`` with ``'`` as ``'\\''``.
- :func:`render_json`: one JSON object, key → value.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DOCKER_MAX_LINE",
    "LITERAL_DOLLAR_VAR",
    "DotenvError",
    "Entry",
    "binding_spans",
    "docker_incompatible",
    "docker_refusal",
    "parse",
    "parse_values",
    "render_docker",
    "render_dotenv",
    "render_json",
    "render_shell",
]

#: Docker reads env files with Go's bufio.Scanner, whose default buffer caps a line at 64 KiB.
DOCKER_MAX_LINE = 65_535
#: Never-set variable whose ``:-$`` default spells a literal ``$`` before ``{`` in dotenv output.
LITERAL_DOLLAR_VAR = "DEVSYNC_LITERAL_DOLLAR_"

# python-dotenv's grammar (dotenv/parser.py), kept identical so the two agree byte for byte.
_NEWLINE = re.compile(r"(\r\n|\n|\r)")
_MULTILINE_WS = re.compile(r"\s*", re.MULTILINE)
_WS = re.compile(r"[^\S\r\n]*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_SINGLE_QUOTED_KEY = re.compile(r"'([^']+)'")
_UNQUOTED_KEY = re.compile(r"([^=\#\s]+)")
_EQUAL_SIGN = re.compile(r"(=[^\S\r\n]*)")
_SINGLE_QUOTED_VALUE = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)
_DOUBLE_QUOTED_VALUE = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_UNQUOTED_VALUE = re.compile(r"([^\r\n]*)")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_END_OF_LINE = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_REST_OF_LINE = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")
_DOUBLE_QUOTE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_SINGLE_QUOTE_ESCAPES = re.compile(r"\\[\\']")
_VARIABLE = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")


class DotenvError(ValueError):
    """A line that is not ``KEY=VALUE`` (or a value no reader can carry). Names the line."""

    def __init__(self, message: str, *, line: int | None = None, source: str = "") -> None:
        self.line = line
        self.source = source
        self.reason = message
        where = ""
        if source and line is not None:
            where = f"{source}, line {line}: "
        elif line is not None:
            where = f"line {line}: "
        elif source:
            where = f"{source}: "
        super().__init__(f"{where}{message}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``KEY=VALUE`` binding, with the line it starts on (1-based)."""

    key: str
    value: str | None  # None: the key stands alone, without ``=``
    line: int


class _Fail(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text.removeprefix("\ufeff")
        self.pos = 0
        self.line = 1

    def has_next(self) -> bool:
        return self.pos < len(self.text)

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def read(self, regex: re.Pattern[str], failure: str) -> tuple[str, ...]:
        match = regex.match(self.text, self.pos)
        if match is None:
            raise _Fail(failure, self.line)
        self._advance(match.end())
        return match.groups()

    def _advance(self, end: int) -> None:
        self.line += len(_NEWLINE.findall(self.text, self.pos, end))
        self.pos = end


def _decode(regex: re.Pattern[str], text: str) -> str:
    return regex.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"), text)


def _value(reader: _Reader) -> str:
    char = reader.peek()
    start = reader.line
    if char == "'":
        try:
            (raw,) = reader.read(_SINGLE_QUOTED_VALUE, "")
        except _Fail:
            raise _Fail("the single-quoted value is never closed", start) from None
        return _decode(_SINGLE_QUOTE_ESCAPES, raw)
    if char == '"':
        try:
            (raw,) = reader.read(_DOUBLE_QUOTED_VALUE, "")
        except _Fail:
            raise _Fail("the double-quoted value is never closed", start) from None
        return _decode(_DOUBLE_QUOTE_ESCAPES, raw)
    if char in ("", "\n", "\r"):
        return ""
    (part,) = reader.read(_UNQUOTED_VALUE, "expected a value")
    return re.sub(r"\s+#.*", "", part).rstrip()


def _binding(reader: _Reader) -> Entry | None:
    reader.read(_MULTILINE_WS, "")
    if not reader.has_next():
        return None
    line = reader.line
    reader.read(_EXPORT, "")
    if reader.peek() == "#":
        reader.read(_COMMENT, "")
        reader.read(_END_OF_LINE, "unexpected text after the comment")
        return None
    if reader.peek() == "'":
        (key,) = reader.read(_SINGLE_QUOTED_KEY, "the quoted key is never closed")
    else:
        (key,) = reader.read(_UNQUOTED_KEY, "expected KEY=VALUE, found no key")
    reader.read(_WS, "")
    value: str | None = None
    problem = f"expected '=' after {key!r}"
    if reader.peek() == "=":
        (equal_sign,) = reader.read(_EQUAL_SIGN, "")
        # python-dotenv: "KEY= # note" is empty; "KEY=#x" keeps the "#".
        value = "" if len(equal_sign) > 1 and reader.peek() == "#" else _value(reader)
        problem = f"unexpected text after the closing quote of {key!r}"
    reader.read(_COMMENT, "")
    reader.read(_END_OF_LINE, problem)
    return Entry(key, value, line)


def _interpolate(value: str, env: Mapping[str, str | None]) -> str:
    """``_VARIABLE.sub`` with python-dotenv's semantics, in linear time.

    The regex retries from every ``${`` and scans to the next ``}`` each time, which is
    quadratic: one hostile value (``${`` repeated a few hundred thousand times) took minutes.
    Here the next ``}`` and ``:`` are found once and reused while they lie ahead.
    """
    if "${" not in value:
        return value
    size = len(value)
    out: list[str] = []
    done = 0  # value[:done] is in out
    close = colon = -1  # the next "}" / ":" at or after the last start (size: none)
    start = value.find("${")
    while start != -1:
        head = start + 2
        if close < head:
            close = value.find("}", head) % (size + 1)  # -1 → size
        if colon < head:
            colon = value.find(":", head) % (size + 1)
        if close == size:
            break  # no "}" ahead: nothing from here on is a variable
        end, default = -1, None
        if close < colon:
            end = close
        elif value.startswith(":-", colon):
            end, default = close, value[colon + 2 : close]
        if end < 0:
            start = value.find("${", start + 1)
            continue
        name = value[head : min(close, colon)]
        found = env.get(name, default or "")
        out.append(value[done:start])
        out.append(found if found is not None else "")
        done = end + 1
        start = value.find("${", done)
    out.append(value[done:])
    return "".join(out)


def parse(
    text: str,
    *,
    source: str = "",
    interpolate: bool = True,
    environ: Mapping[str, str] | None = None,
) -> list[Entry]:
    """Every binding of a .env text, in order (duplicates kept; the last one wins on load).

    Raises DotenvError naming the first line python-dotenv could not read.
    """
    reader = _Reader(text)
    entries: list[Entry] = []
    seen: dict[str, str | None] = dict(environ or {})
    while reader.has_next():
        try:
            entry = _binding(reader)
        except _Fail as fail:
            raise DotenvError(fail.message, line=fail.line, source=source) from None
        if entry is None:
            continue
        if interpolate and entry.value is not None:
            entry = Entry(entry.key, _interpolate(entry.value, seen), entry.line)
        seen[entry.key] = entry.value
        entries.append(entry)
    return entries


def binding_spans(text: str, *, source: str = "") -> tuple[str, list[tuple[str, int, int]]]:
    """Where each binding of a .env text is: the text as read (a BOM removed) and, per
    binding, (key, start, end) character offsets, ``end`` past its line end; for editing one
    binding in place (``devsync env pull``). DotenvError as :func:`parse`."""
    reader = _Reader(text)
    spans: list[tuple[str, int, int]] = []
    while reader.has_next():
        reader.read(_MULTILINE_WS, "")
        start = reader.pos
        try:
            entry = _binding(reader)
        except _Fail as fail:
            raise DotenvError(fail.message, line=fail.line, source=source) from None
        if entry is not None:
            spans.append((entry.key, start, reader.pos))
    return reader.text, spans


def parse_values(text: str, **options: object) -> dict[str, str | None]:
    """The mapping python-dotenv's ``dotenv_values`` would give (the last duplicate wins)."""
    return {e.key: e.value for e in parse(text, **options)}  # type: ignore[arg-type]


# -- rendering --------------------------------------------------------------------------------
_NEEDS_QUOTES = re.compile(r"[\r\n]|^\s|\s$|\s#|^['\"#]|\$\{")


def _check_keys(keys: Iterable[str]) -> None:
    for key in keys:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise DotenvError(f"{key!r} is not a variable name")


def _dotenv_value(value: str) -> str:
    if value and not _NEEDS_QUOTES.search(value):
        return value
    if value == "":
        return ""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("${", "${" + LITERAL_DOLLAR_VAR + ":-$}{")
    return f"'{escaped}'"


def docker_incompatible(values: Mapping[str, str]) -> list[str]:
    """Keys whose dotenv line ``docker --env-file`` would read differently (sorted)."""
    return sorted(k for k, v in values.items() if v and _NEEDS_QUOTES.search(v))


def render_dotenv(values: Mapping[str, str]) -> str:
    """A .env text python-dotenv reads back to exactly ``values`` (keys in the given order)."""
    _check_keys(values)
    if LITERAL_DOLLAR_VAR in values:
        raise DotenvError(f"{LITERAL_DOLLAR_VAR} is reserved by the dotenv renderer")
    return "".join(f"{key}={_dotenv_value(value)}\n" for key, value in values.items())


def docker_refusal(values: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """Why no file can carry ``values`` to ``docker --env-file`` (one sentence) and the keys
    it names, or None: a value with a line break (or ending in CR), or a line over
    :data:`DOCKER_MAX_LINE` bytes. :func:`render_docker` refuses with this very sentence."""
    bad = sorted(k for k, v in values.items() if "\n" in v or v.endswith("\r"))
    if bad:
        return "docker --env-file cannot carry values with line breaks: " + ", ".join(bad), bad
    long = sorted(k for k, v in values.items() if len(f"{k}={v}".encode()) > DOCKER_MAX_LINE)
    if long:
        return (
            f"docker --env-file cannot read lines over {DOCKER_MAX_LINE} bytes: " + ", ".join(long),
            long,
        )
    return None


def render_docker(values: Mapping[str, str]) -> str:
    """A ``docker run --env-file`` file; DotenvError if :func:`docker_refusal` names a key."""
    _check_keys(values)
    refused = docker_refusal(values)
    if refused is not None:
        raise DotenvError(refused[0])
    return "".join(f"{key}={value}\n" for key, value in values.items())


def render_shell(values: Mapping[str, str]) -> str:
    """POSIX sh: ``export KEY='value'`` lines; ``. file`` sets exactly ``values``."""
    _check_keys(values)
    lines = []
    for key, value in values.items():
        quoted = "'" + value.replace("'", "'\\''") + "'"
        lines.append(f"export {key}={quoted}\n")
    return "".join(lines)


def render_json(values: Mapping[str, str]) -> str:
    """A JSON object of the values (UTF-8, not ASCII-escaped), newline-terminated."""
    return json.dumps(dict(values), indent=2, ensure_ascii=False) + "\n"
