"""``devsync env pull``: write the synced values into the checkout (after
``config_status.check``).

What is written: every key that differs, is behind or is missing on the machine, and whose
synced value is known here (a secret only where the user may reveal it; the others are
listed as withheld). A dotenv key goes to the file its current value comes from (so the value
that wins changes), a missing one to the target file (``.env`` unless told). A ``file``
configuration is written at its path. Keys only on the machine are left alone.

Two kinds of file configuration are never written (``PullPlan.refused``, with the reason):
one inside a version-control folder (``.git/config``, ``.git/hooks/…``: git runs what they
name, so not even an admin's copy is written there), and one at the path of a dotenv file the
checkout reads (``.env``): that file is written key by key, never replaced whole.

Every destination is checked before the first file is written (a folder where a file goes, a
file where a folder goes, a file outside the checkout: nothing is written), by
:func:`prepare_pull`, which ``--dry-run`` runs too. Each file is written whole or not at all (a
temp file beside it, renamed over it) and keeps its mode; a new file is 0600. In a dotenv
file only the binding of a changed key is replaced (the last one, which is the one that
wins); other lines and comments stay as they are.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devsync_tui.core import dotenv
from devsync_tui.core.config_states import DriftState
from devsync_tui.core.execution_control import is_execution_control
from devsync_tui.machine.config_status import StatusReport, dotenv_refusal, inside, vcs_folder
from devsync_tui.machine.errors import InputError

#: The states pull brings in step (where it knows the value); ``only_local`` it leaves alone.
PULLED = frozenset({DriftState.DIFFERS, DriftState.BEHIND, DriftState.MISSING})


@dataclass(frozen=True, slots=True)
class PullChange:
    key: str
    path: str  # relative to the checkout: a dotenv file, or the file configuration itself
    kind: Literal["add", "change"]
    secret: bool
    is_file: bool
    old: str | None  # what the checkout has (never shown for a secret)
    new: str


@dataclass
class PullPlan:
    changes: list[PullChange] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # secrets I may not reveal
    left_alone: list[str] = field(default_factory=list)  # only on the machine
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file key, why not)

    @property
    def incomplete(self) -> bool:
        """Whether some synced value will still not be in the checkout afterwards."""
        return bool(self.withheld or self.refused)


def refusal(key: str, dotenv_paths: set[Path], root: Path) -> str | None:
    """Why the file configuration ``key`` is never written into the checkout, or None. The
    path is judged as named and as the checkout's links lead it: a link committed to the
    repository (``config -> .git``, ``npmrc -> .npmrc``) must not carry a file a member may
    store (``config/hooks/pre-commit``) to where only an admin's may go."""
    vcs = vcs_folder(key)
    if vcs is not None:
        return f"inside {vcs}/, whose hooks and configuration run programs; never written"
    path = inside(root, key)
    if path is None:
        return None
    if path in dotenv_paths:
        return "a dotenv file this checkout reads; its keys are written one by one, not the file"
    lands = path.relative_to(root.resolve()).as_posix()
    if lands != key and (
        vcs_folder(lands) is not None
        or (is_execution_control(lands, "file") and not is_execution_control(key, "file"))
    ):
        return f"a link in the checkout leads it to {lands}, where it may not go; never written"
    return None


def plan_pull(report: StatusReport, target_file: str = ".env") -> PullPlan:
    plan = PullPlan()
    local = report.local
    root = local.root
    found = (inside(root, name) for name in (*local.dotenv_names, target_file))
    dotenv_paths = {found_path for found_path in found if found_path is not None}
    for status in report.statuses:
        if status.state is DriftState.ONLY_LOCAL:
            plan.left_alone.append(status.key)
            continue
        value = report.values.get(status.key)
        if status.is_secret and value is None and status.state is not DriftState.IN_SYNC:
            plan.withheld.append(status.key)
            continue
        if status.state not in PULLED or value is None:
            continue  # in sync; unknown (a file outside the checkout is never written)
        if status.is_file:
            why = refusal(status.key, dotenv_paths, root)
            if why is not None:
                plan.refused.append((status.key, why))
                continue
            old = local.files.get(status.key)
            path = status.key
        else:
            old = local.values.get(status.key)
            path = local.origin.get(status.key, target_file)
        kind: Literal["add", "change"] = "add" if old is None else "change"
        plan.changes.append(
            PullChange(status.key, path, kind, status.is_secret, status.is_file, old, value)
        )
    return plan


def write_keeping_mode(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; its mode is kept (0600 for a new file)."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def edited_dotenv(text: str, values: dict[str, str], source: str) -> str:
    """``text`` with the winning binding of each key in ``values`` replaced, new keys added at
    the end."""
    try:
        text, spans = dotenv.binding_spans(text, source=source)
        last = {key: (start, end) for key, start, end in spans}
        rendered = {key: dotenv.render_dotenv({key: value}) for key, value in values.items()}
    except dotenv.DotenvError as exc:
        raise InputError(f"{exc}; nothing was written.") from None
    out: list[str] = []
    at = 0
    for key, (start, end) in sorted(
        ((k, span) for k, span in last.items() if k in values), key=lambda item: item[1][0]
    ):
        out.append(text[at:start])
        prefix = "export " if text.startswith("export", start) else ""
        line = prefix + rendered[key]
        # keep the line ending the old binding had (or none, at the end of a file without one)
        if not text[start:end].endswith(("\n", "\r")):
            line = line.removesuffix("\n")
        out.append(line)
        at = end
    out.append(text[at:])
    result = "".join(out)
    added = [rendered[k] for k in values if k not in last]
    if added:
        if result and not result.endswith(("\n", "\r")):
            result += "\n"
        result += "".join(added)
    return result


def prepare_pull(root: Path, plan: PullPlan) -> list[tuple[Path, bytes]]:
    """Every file the plan writes, with its new content; InputError (one sentence ending
    "nothing was written") when a destination may not or cannot be written: outside the
    checkout, a dotenv file refused (``dotenv_refusal``), a folder where a file goes, a file
    where a folder goes. Writes nothing: ``--dry-run`` asks this too, so that it refuses
    exactly as the real run does (:func:`apply_pull` asks it again just before writing)."""
    by_file: dict[str, dict[str, str]] = defaultdict(dict)
    whole: dict[str, str] = {}
    for change in plan.changes:
        if change.is_file:
            whole[change.path] = change.new
        else:
            by_file[change.path][change.key] = change.new
    ready: list[tuple[Path, bytes]] = []
    for name, values in by_file.items():
        path = inside(root, name)
        if path is None:
            raise InputError(f"{name} is outside the checkout {root}; nothing was written.")
        why = dotenv_refusal(root, name)
        if why is not None:
            raise InputError(f"{why}: no values are written there; nothing was written.")
        # Not a regular file (a folder, a FIFO): refused below by _unwritable, in its words.
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        ready.append((path, edited_dotenv(old, values, name).encode("utf-8")))
    for name, content in whole.items():
        path = inside(root, name)
        if path is None:
            raise InputError(f"{name} is outside the checkout {root}; nothing was written.")
        ready.append((path, content.encode("utf-8")))
    base = root.resolve()
    for path, _ in ready:
        problem = _unwritable(base, path)
        if problem is not None:
            raise InputError(f"{problem}; nothing was written.")
    return ready


def apply_pull(root: Path, plan: PullPlan) -> list[str]:
    """Write the plan; the files written (relative names). Every file is checked
    (:func:`prepare_pull`) before the first is written."""
    ready = prepare_pull(root, plan)
    base = root.resolve()
    written: list[str] = []
    for path, data in ready:
        name = str(path.relative_to(base))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_keeping_mode(path, data)
        except OSError as exc:
            left = [str(p.relative_to(base)) for p, _ in ready[len(written) + 1 :]]
            raise InputError(
                f"{name} could not be written ({exc.strerror or exc}); written before it: "
                f"{', '.join(written) or 'none'}; not written: {', '.join([name, *left])}."
            ) from None
        written.append(name)
    return sorted(set(written))


def readable_by_others(root: Path, plan: PullPlan) -> list[tuple[str, int]]:
    """The files the plan wrote a secret into that other users of this machine may read
    (group or other read bits, kept from the file as it was): (relative name, mode)."""
    found: dict[str, int] = {}
    for change in plan.changes:
        if not change.secret or change.path in found:
            continue
        try:
            mode = (root / change.path).stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o044:
            found[change.path] = mode
    return sorted(found.items())


def _unwritable(base: Path, path: Path) -> str | None:
    """Why ``path`` (inside ``base``) cannot be written as a file, or None."""
    name = path.relative_to(base)
    for folder in reversed(path.parents):
        if folder == base or base not in folder.parents:
            continue
        if folder.exists() and not folder.is_dir():
            return f"{name} cannot be written: {folder.relative_to(base)} is a file, not a folder"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{name} cannot be written ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return f"{name} cannot be written: it is a folder"
    if not stat.S_ISREG(mode):
        return f"{name} cannot be written: it is not a regular file"
    return None
