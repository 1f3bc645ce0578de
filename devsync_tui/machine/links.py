"""Which environment this machine/checkout is: the link store behind the default ``--env``.

An environment is a real machine, and on one machine a person may work in several checkouts
(each one a different project, or the same project as two environments). So a link is kept
per **(profile, identity, host, checkout)**:

- *profile*: the active settings profile's name;
- *identity*: the signed-in username (``Backend.whoami``), so alice and bob sharing a demo
  database on one box never pick up each other's machine;
- *host*: ``socket.gethostname()``, so a state dir on a shared home (NFS) never mixes machines;
- *checkout*: the nearest ancestor of the working directory holding ``.git`` (else the working
  directory itself), resolved to an absolute path.

The store is one JSON file, ``locations.state_dir()/links.json`` (0600, replaced atomically)::

    {"version": 1,
     "links": {"<profile>|<identity>@<host>": {
         "<checkout path>": {"project_id": "…", "environment_id": "…", "linked_at": "…",
                             "files": ["config/dev.env"]},
         "*": {"project_id": "…", "environment_id": "…", "linked_at": "…",
               "checkout": "<checkout path>"}}}}

``"*"`` is the machine-wide link: the last environment ``devsync agent`` or ``devsync env link``
registered on this host, used from a directory that has no link of its own; ``checkout`` is
where it was linked from (absent in stores written before it was recorded). Nothing in the
store is secret (ids and paths only). Written by ``devsync env link`` and ``devsync agent``;
read by every data command through ``machine.targets.resolve_target``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from devsync_tui import locations
from devsync_tui.machine.errors import InputError

MACHINE_WIDE = "*"
_log = logging.getLogger("devsync.links")


@dataclass(frozen=True, slots=True)
class Link:
    """A checkout (or the machine, ``checkout == "*"``) linked to an environment."""

    project_id: UUID
    environment_id: UUID
    checkout: str
    #: dotenv files beyond ``.env`` and ``.env.local`` that the checkout uses (relative paths)
    files: tuple[str, ...] = ()
    #: the machine-wide link only: the checkout it was linked from (None when not recorded)
    origin: str | None = None

    @property
    def machine_wide(self) -> bool:
        """Whether this is the machine's link, not one of the working directory's checkout."""
        return self.checkout == MACHINE_WIDE


def store_path() -> Path:
    return locations.state_dir() / "links.json"


def checkout_root(start: Path | None = None) -> Path:
    """The checkout the working directory belongs to (nearest ``.git``; else the directory)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def scope_key(profile: str | None, user: str | None) -> str:
    return f"{profile or 'default'}|{user or ''}@{socket.gethostname()}"


def _load() -> dict[str, Any]:
    path = store_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "links": {}}
    except (OSError, ValueError) as exc:
        # A damaged store only loses defaults; say so in the log and start over.
        _log.warning("ignoring unreadable link store %s: %s", path, exc)
        return {"version": 1, "links": {}}
    if not isinstance(data, dict) or not isinstance(data.get("links"), dict):
        return {"version": 1, "links": {}}
    return data


def _save(data: dict[str, Any]) -> None:
    path = store_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".links.", dir=path.parent)
    except OSError as exc:
        raise InputError(locations.state_dir_problem(exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse(entry: Any, checkout: str) -> Link | None:
    try:
        files = entry.get("files") or []
        origin = entry.get("checkout") if checkout == MACHINE_WIDE else None
        return Link(
            UUID(entry["project_id"]),
            UUID(entry["environment_id"]),
            checkout,
            tuple(str(f) for f in files if isinstance(f, str)),
            origin if isinstance(origin, str) and origin else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def listed_files(checkout: Path, environment_id: UUID) -> tuple[str, ...]:
    """The dotenv files a link of this host lists for ``checkout`` and that environment,
    whoever linked it (a machine token has no user scope of its own)."""
    name = str(checkout.resolve())
    host = "@" + socket.gethostname()
    for scope_name, scope in sorted(_load()["links"].items()):
        if not (isinstance(scope, dict) and str(scope_name).endswith(host)):
            continue
        link = _parse(scope.get(name), name) if name in scope else None
        if link is not None and link.environment_id == environment_id and link.files:
            return link.files
    return ()


def find(profile: str | None, user: str | None, cwd: Path | None = None) -> Link | None:
    """The link for this checkout, else the machine-wide one, else None."""
    scope = _load()["links"].get(scope_key(profile, user))
    if not isinstance(scope, dict):
        return None
    checkout = str(checkout_root(cwd))
    for name in (checkout, MACHINE_WIDE):
        if name in scope:
            link = _parse(scope[name], name)
            if link is not None:
                return link
    return None


def save(
    profile: str | None,
    user: str | None,
    project_id: UUID,
    environment_id: UUID,
    *,
    cwd: Path | None = None,
    machine_wide: bool = True,
    files: tuple[str, ...] | None = None,
) -> Link:
    """Link this checkout (and, by default, the machine) to an environment. ``files``: the
    extra dotenv files it uses (None: keep those of an existing link to the same environment)."""
    data = _load()
    scope = data["links"].setdefault(scope_key(profile, user), {})
    checkout = str(checkout_root(cwd))
    if files is None:
        old = _parse(scope.get(checkout), checkout) if checkout in scope else None
        files = old.files if old is not None and old.environment_id == environment_id else ()
    entry: dict[str, Any] = {
        "project_id": str(project_id),
        "environment_id": str(environment_id),
        "linked_at": datetime.now(UTC).isoformat(),
    }
    if files:
        entry["files"] = list(files)
    scope[checkout] = entry
    if machine_wide:
        machine = {k: v for k, v in entry.items() if k != "files"}
        scope[MACHINE_WIDE] = {**machine, "checkout": checkout}
    _save(data)
    return Link(project_id, environment_id, checkout, tuple(files))


def remove(profile: str | None, user: str | None, cwd: Path | None = None) -> bool:
    """Forget this checkout's link (and the machine-wide one if it names the same env)."""
    data = _load()
    scope = data["links"].get(scope_key(profile, user))
    if not isinstance(scope, dict):
        return False
    checkout = str(checkout_root(cwd))
    entry = scope.pop(checkout, None)
    if entry is None:
        return False
    machine = scope.get(MACHINE_WIDE)
    if isinstance(machine, dict) and machine.get("environment_id") == entry.get("environment_id"):
        scope.pop(MACHINE_WIDE)
    _save(data)
    return True
