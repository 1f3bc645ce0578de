"""The embedded PostgreSQL cluster itself: where it lives, who runs it, who may connect.

Only pgserver's bundled programs are used (``initdb``, ``pg_ctl``, ``postgres``); starting and
stopping is done here, so that nobody but the user who owns the local database can get in:

- No trust authentication. ``initdb`` sets a random superuser password, kept in a 0600
  pgpass file (``password_file``); ``pg_hba.conf`` asks for scram-sha-256 on the socket and on
  TCP. URLs name that file (``passfile=``), never the password.
- The server listens on a Unix socket only, in a folder only the server's user can enter
  (0700), created and owned by DevSync: beside the data folder, or, when that path has spaces or
  would be too long for a socket (107 bytes), in a short private folder ``devsync-<uid>`` in
  ``$XDG_RUNTIME_DIR`` or the temporary folder. A folder there that DevSync did not make (another
  owner, a looser mode) is refused, never used.
- Running as root: PostgreSQL runs as the system user ``pgserver`` with its own group (never the
  root group). Its data folder is ``pgserver``'s, in a place whose parents it can already enter
  (the data folder asked for if so, else ``/var/lib/devsync/<id>``); no folder above is loosened.
- One lock per user (in the user's own data folder), not one lock file in the shared /tmp.
- A cluster made by an older DevSync with trust authentication gets a password and a rewritten
  ``pg_hba.conf`` on its first start here, data kept.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from devsync_tui import locations
from devsync_tui.backend.errors import Unavailable

#: The system user PostgreSQL runs as when DevSync runs as root (pgserver's name for it).
SERVICE_USER = "pgserver"
#: Where root's clusters go when the data folder asked for is not open to the service user.
SERVICE_ROOT = Path("/var/lib/devsync")
#: ``sun_path`` holds 108 bytes with the final NUL.
SOCKET_PATH_MAX = 107
#: The socket's file name (PostgreSQL's default port; nothing listens on TCP).
SOCKET_NAME = ".s.PGSQL.5432"
PASSWORD_FILE = "local-db.pgpass"
LOCK_FILE = "local-db.lock"
SUPERUSER = "postgres"

HBA = """\
# Written by DevSync: every connection proves the superuser password (scram-sha-256).
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""


@dataclass(frozen=True)
class RunAs:
    """The operating-system account PostgreSQL runs as (None fields: this process's own)."""

    uid: int
    gid: int
    name: str | None

    @property
    def is_self(self) -> bool:
        return self.name is None


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def run_as(*, create: bool = False) -> RunAs:
    """This user, or (as root) the service user, made with ``useradd`` when ``create``."""
    if not is_root():
        return RunAs(os.geteuid(), os.getegid(), None)
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        if not create:
            raise Unavailable(f"The system user '{SERVICE_USER}' does not exist yet.") from None
        try:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home",
                 "--shell", "/usr/sbin/nologin", SERVICE_USER],
                check=True, capture_output=True,
            )  # fmt: skip
            entry = pwd.getpwnam(SERVICE_USER)
        except (subprocess.SubprocessError, OSError, KeyError):
            raise Unavailable(
                f"Running as root, DevSync runs PostgreSQL as the system user '{SERVICE_USER}', "
                "but could not create it with useradd; create it and try again."
            ) from None
    return RunAs(entry.pw_uid, entry.pw_gid, SERVICE_USER)


def _can_enter(path: Path, who: RunAs) -> bool:
    """Whether ``who`` may traverse ``path`` (by owner, group or other execute bit)."""
    try:
        info = path.stat()
    except OSError:
        return False
    mode = info.st_mode
    if info.st_uid == who.uid:
        return bool(mode & stat.S_IXUSR)
    if info.st_gid == who.gid:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def pgdata() -> Path:
    """The data folder: ``locations.database_dir()``; as root, a service folder when the one
    asked for sits below a folder the service user cannot enter (decided once: an existing
    cluster stays where it is)."""
    asked = locations.database_dir()
    if not is_root():
        return asked
    moved = SERVICE_ROOT / hashlib.sha256(str(asked).encode()).hexdigest()[:16] / "pgdata"
    if (asked / "PG_VERSION").exists():
        return asked
    if (moved / "PG_VERSION").exists():
        return moved
    try:
        service = run_as()
    except Unavailable:
        return moved  # no service user yet: nothing can be open to it
    if all(_can_enter(parent, service) for parent in asked.parents):
        return asked
    return moved


def password_file() -> Path:
    """The 0600 pgpass file with the superuser password (the invoking user's own)."""
    return locations.data_dir() / PASSWORD_FILE


def stopped_marker() -> Path:
    """Present while the user stopped the local database on purpose (``devsync local stop``):
    an open dashboard then leaves it stopped instead of starting it again. The next start
    removes it."""
    return locations.data_dir() / "locks" / "local-db.stopped"


def lock_file() -> Path:
    """The per-user lock around starting and migrating the cluster, in a private folder of its
    own (the data folder itself may have to stay open to the service user)."""
    return locations.data_dir() / "locks" / LOCK_FILE


def url_for(socket_dir: str | Path, database: str = "postgres") -> str:
    """A URL on the socket that reads the password from the pgpass file (no secret in it)."""
    host = quote(str(socket_dir), safe="/")
    passfile = quote(str(password_file()), safe="/")
    return f"postgresql://{SUPERUSER}@/{database}?host={host}&passfile={passfile}"


def socket_dir(data: Path, who: RunAs) -> tuple[Path, str | None]:
    """Where the socket goes, and a sentence when it is not beside the data folder."""
    beside = data.parent / "pg-socket"
    fits = len(os.fsencode(beside / SOCKET_NAME)) <= SOCKET_PATH_MAX
    plain = not _awkward(str(beside))
    if fits and plain:
        return beside, None
    # The user's runtime folder is private already; root's is closed to the service user.
    runtime = os.environ.get("XDG_RUNTIME_DIR", "") if who.is_self else ""
    base = Path(runtime) if runtime.startswith("/") and not _awkward(runtime) else Path("/tmp")
    short = base / f"devsync-{who.uid}" / hashlib.sha256(str(data).encode()).hexdigest()[:12]
    why = (
        "has spaces or quotes"
        if not plain
        else f"is longer than a socket path may be ({SOCKET_PATH_MAX} bytes)"
    )
    return short, f"The local database's folder {data.parent} {why}; its socket is in {short}."


def _awkward(text: str) -> bool:
    """Spaces or shell quotes: ``pg_ctl`` hands the socket folder to a shell."""
    return any(c.isspace() or c in "'\"\\$`" for c in text)


def prepare_private_dir(folder: Path, who: RunAs) -> bool:
    """Make ``folder`` (mode 0700, owned by ``who``) or check that an existing one is exactly
    that; refuse anything else with one sentence. True when it was made now."""
    made = False
    try:
        os.mkdir(folder, 0o700)
        made = True
    except FileExistsError:
        pass
    except OSError as exc:
        raise Unavailable(f"Cannot create the folder {folder}: {exc.strerror}.") from None
    if made:
        os.chmod(folder, 0o700)  # whatever the umask
        if not who.is_self:
            os.chown(folder, who.uid, who.gid)
        return True
    info = os.lstat(folder)
    owner = "you" if who.is_self else f"'{who.name}'"
    if not stat.S_ISDIR(info.st_mode):
        raise Unavailable(
            f"{folder} is not a folder; DevSync will not put the database socket there."
        )
    if info.st_uid != who.uid:
        raise Unavailable(
            f"The folder {folder} was not made by DevSync (it does not belong to {owner}); "
            "remove it or choose another DEVSYNC_DATA_DIR."
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        raise Unavailable(
            f"The folder {folder} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); "
            "DevSync only puts the database socket in a folder it made private; remove it."
        )
    return False


def prepare_socket_dir(folder: Path, who: RunAs) -> None:
    """The socket folder, and for the short one its private parent ``devsync-<uid>``."""
    if folder.parent.name == f"devsync-{who.uid}":
        prepare_private_dir(folder.parent, who)
    prepare_private_dir(folder, who)


def write_password_file(password: str) -> None:
    """The pgpass line for the superuser, in a 0600 file of the invoking user."""
    from devsync_tui.core.private_file import write_private

    path = password_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, f"*:*:*:{SUPERUSER}:{password}\n".encode())


def read_password() -> str | None:
    try:
        line = password_file().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    password = line.rpartition(":")[2]
    return password or None


def new_password() -> str:
    return secrets.token_urlsafe(32)  # no ':' or '\\': a pgpass field as it is


def uses_trust(data: Path) -> bool:
    """True when ``pg_hba.conf`` lets a connection in without proving the password with
    scram-sha-256 (trust, peer, md5, …: an older DevSync's cluster)."""
    try:
        text = (data / "pg_hba.conf").read_text(encoding="utf-8")
    except OSError:
        return True
    methods = [
        fields[-1] for line in text.splitlines() if (fields := line.split("#", 1)[0].split())
    ]
    return not methods or any(method != "scram-sha-256" for method in methods)


def write_hba(data: Path, who: RunAs) -> None:
    path = data / "pg_hba.conf"
    tmp = data / ".pg_hba.conf.devsync"
    tmp.write_text(HBA, encoding="utf-8")
    os.chmod(tmp, 0o600)
    if not who.is_self:
        os.chown(tmp, who.uid, who.gid)
    os.replace(tmp, path)
