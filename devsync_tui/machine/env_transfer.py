"""Configuration in and out of files, and two environments side by side (the library behind
``devsync env export|import|diff``; ``commands/env/transfer.py`` shows and asks).

- export: :func:`export` renders the effective configuration as dotenv/json/shell/docker
  (``core.dotenv``). Secrets the user may not reveal are left out (named in ``withheld``),
  never written masked; file configurations are not variables and are left out too.
- import: :func:`parse_import` reads and checks a whole .env file before anything is written;
  ``machine/env_import.py`` plans and writes it. Keys absent from the file are kept: import
  merges, it never deletes.
- diff: :func:`compare` lists keys missing or different between two environments; secrets are
  compared by value where both may be revealed, else reported as "cannot compare".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied
from devsync_tui.core import dotenv
from devsync_tui.core.models import ConfigType, EffectiveConfigRow
from devsync_tui.machine.errors import InputError
from devsync_tui.machine.targets import Target
from devsync_tui.machine.values import Effective, problem_with

FORMATS = ("dotenv", "json", "shell", "docker")
_RENDER: dict[str, Callable[[Mapping[str, str]], str]] = {
    "dotenv": dotenv.render_dotenv,
    "json": dotenv.render_json,
    "shell": dotenv.render_shell,
    "docker": dotenv.render_docker,
}
#: The largest .env file read (far above any real one; values are 1 MiB each at most).
MAX_IMPORT_BYTES = 16 * 1024 * 1024


# -- export -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Export:
    """An effective configuration rendered as a file."""

    text: str
    variables: dict[str, str]
    files_left_out: list[str]  # file configurations (not variables)
    withheld: list[str]  # secrets the user may not reveal
    docker_incompatible: list[str]  # dotenv only: keys docker --env-file would misread
    #: dotenv only: why no format carries some of them to docker --env-file (a line break, a
    #: line too long), the sentence ``--format docker`` refuses with; None when it would not.
    docker_refused: str | None = None


def export(effective: Effective, format_: str) -> Export:
    """``effective`` rendered in ``format_`` (one of :data:`FORMATS`); InputError when a value
    cannot be written in it."""
    variables = {
        key: value
        for key, value in sorted(effective.values.items())
        if effective.rows[key].type == "env_var"
    }
    files = sorted(k for k, r in effective.rows.items() if r.type == "file")
    try:
        text = _RENDER[format_](variables)
    except dotenv.DotenvError as exc:
        raise InputError(f"{exc}.") from None
    docker: list[str] = []
    refused: str | None = None
    if format_ == "dotenv":
        docker = dotenv.docker_incompatible(variables)
        found = dotenv.docker_refusal(variables)
        refused = found[0] if found is not None else None
    return Export(text, variables, files, list(effective.withheld), docker, refused)


# -- import -----------------------------------------------------------------------------------
def parse_import(raw: bytes, source: str, warn: Callable[[str], None]) -> dict[str, str]:
    """The values of a .env file's bytes; InputError (naming ``source`` and the line) when any
    line cannot be imported, so that nothing is written: a line that is not ``KEY=VALUE``, a
    name that is not a variable's (``1BAD``, a path, control characters: with or without a
    value), a value the database would refuse. A valid name without ``=`` (python-dotenv
    leaves it unset) is skipped, and a repeated key is told too, to ``warn``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text.") from None
    try:
        entries = dotenv.parse(text, source=source)
    except dotenv.DotenvError as exc:
        raise InputError(f"{exc}.") from None
    values: dict[str, str] = {}
    for entry in entries:
        # The name first: a line of garbage is not a key "without a value".
        problem = problem_with(entry.key, "", ConfigType.ENV_VAR)
        if problem is None and entry.value is None:
            warn(f"{source}, line {entry.line}: {entry.key} has no value; skipped.")
            continue
        if problem is None:
            problem = problem_with(entry.key, entry.value or "", ConfigType.ENV_VAR)
        if problem or entry.value is None:
            raise InputError(f"{source}, line {entry.line}: {problem}; nothing was written.")
        if entry.key in values:
            warn(f"{source}, line {entry.line}: {entry.key} repeated; the last wins.")
        values[entry.key] = entry.value
    return values


# -- diff -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Difference:
    """A key both environments have with different values (``a``/``b`` None for secrets)."""

    key: str
    secret: bool
    a: str | None = None
    b: str | None = None


@dataclass(frozen=True, slots=True)
class EnvDiff:
    """Keys missing or different between two environments."""

    only_a: list[str]
    only_b: list[str]
    different: list[Difference]
    cannot_compare: list[str]  # secrets the user may not reveal on both sides

    @property
    def differs(self) -> bool:
        """Whether anything is known to differ."""
        return bool(self.only_a or self.only_b or self.different)

    def to_json(self) -> dict[str, object]:
        """The diff as JSON-ready data (a secret's values are never in it)."""
        return {
            "only_a": self.only_a,
            "only_b": self.only_b,
            "different": [
                {"key": d.key, "secret": True}
                if d.secret
                else {"key": d.key, "secret": False, "a": d.a, "b": d.b}
                for d in self.different
            ],
            "cannot_compare": self.cannot_compare,
        }


Rows = Mapping[str, EffectiveConfigRow]


def secret_pairs(
    rows_a: Rows, rows_b: Rows
) -> list[tuple[str, EffectiveConfigRow, EffectiveConfigRow]]:
    """The keys whose values only the database can compare (secret on either side, and not
    the one project default both inherit), with their two rows."""
    pairs = []
    for key in sorted(rows_a.keys() & rows_b.keys()):
        ra, rb = rows_a[key], rows_b[key]
        if (ra.is_secret or rb.is_secret) and ra.configuration_id != rb.configuration_id:
            pairs.append((key, ra, rb))
    return pairs


def diff_rows(rows_a: Rows, rows_b: Rows, same: Mapping[str, bool]) -> EnvDiff:
    """The differences between two effective configurations: plain values by their text, a
    secret pair (:func:`secret_pairs`) by ``same`` (key → the two hold the same value),
    "cannot compare" when ``same`` does not know it."""
    pairs = {key for key, _, _ in secret_pairs(rows_a, rows_b)}
    different: list[Difference] = []
    unknown: list[str] = []
    for key in sorted(rows_a.keys() & rows_b.keys()):
        ra, rb = rows_a[key], rows_b[key]
        if key in pairs:
            if key not in same:
                unknown.append(key)
            elif not same[key] or ra.type != rb.type:
                different.append(Difference(key, True))
        elif ra.is_secret or rb.is_secret:
            continue  # both inherit the same project default
        elif ra.value != rb.value or ra.type != rb.type:
            different.append(Difference(key, False, ra.value, rb.value))
    return EnvDiff(
        sorted(rows_a.keys() - rows_b.keys()),
        sorted(rows_b.keys() - rows_a.keys()),
        different,
        unknown,
    )


async def compare(backend: Backend, a: Target, b: Target) -> EnvDiff:
    """The differences between the effective configurations of two environments. Secrets are
    compared by the database (``Backend.secrets_equal``), never revealed to be compared; one
    the user may not reveal on both sides cannot be compared."""
    assert a.environment is not None
    assert b.environment is not None
    rows_a = {r.key: r for r in await backend.effective_configuration(a.environment.id)}
    rows_b = {r.key: r for r in await backend.effective_configuration(b.environment.id)}
    same: dict[str, bool] = {}
    for key, ra, rb in secret_pairs(rows_a, rows_b):
        try:
            same[key] = await backend.secrets_equal(ra.configuration_id, rb.configuration_id)
        except PermissionDenied:
            continue
    return diff_rows(rows_a, rows_b, same)
