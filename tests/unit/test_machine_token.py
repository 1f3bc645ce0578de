"""core/machine_token.py: where a token comes from, what a token file may be, lifetimes, and
the one sentence for each refusal. A token never appears in a message or a repr."""

from __future__ import annotations

import json
import os
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from devsync_tui.core import machine_token as mt

TOKEN = "dsm_" + "ab" * 32


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_private_file_gives_its_token(tmp_path: Path) -> None:
    got = mt.read_file(_file(tmp_path, TOKEN + "\n"))
    assert got.value == TOKEN
    assert TOKEN not in repr(got)
    assert str(tmp_path) in got.source


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o601])
def test_a_file_others_may_read_is_refused_like_ssh_does(tmp_path: Path, mode: int) -> None:
    path = _file(tmp_path, TOKEN, mode)
    with pytest.raises(mt.TokenError) as caught:
        mt.read_file(path)
    message = str(caught.value)
    assert f"{mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert TOKEN not in message


def test_missing_folder_link_and_junk_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(mt.TokenError, match="There is no token file"):
        mt.read_file(tmp_path / "nope")
    with pytest.raises(mt.TokenError, match="is a folder"):
        mt.read_file(tmp_path)
    target = _file(tmp_path, TOKEN)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(mt.TokenError, match="symbolic link"):
        mt.read_file(link)
    with pytest.raises(mt.TokenError, match="does not hold a DevSync machine token"):
        mt.read_file(_file(tmp_path, "hunter2"))
    with pytest.raises(mt.TokenError, match="is empty"):
        mt.read_file(_file(tmp_path, "\n"))
    with pytest.raises(mt.TokenError, match="too large"):
        mt.read_file(_file(tmp_path, "x" * 5000))
    (tmp_path / "bin").write_bytes(b"\xff\xfe" * 4)
    (tmp_path / "bin").chmod(0o600)
    with pytest.raises(mt.TokenError, match="does not hold"):
        mt.read_file(tmp_path / "bin")


def _read_within(path: Path, seconds: float = 5.0) -> BaseException | None:
    """``read_file(path)`` in a thread that must be done within ``seconds`` (a FIFO once
    blocked ``open`` until a writer came: forever)."""
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            mt.read_file(path)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"reading {path} blocked"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_device_or_socket_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        sock_path.chmod(0o600)
        for path in (fifo, sock_path, Path("/dev/zero"), Path("/dev/null")):
            error = _read_within(path)
            assert isinstance(error, mt.TokenError), path
            assert str(error) == f"{path} is a special file, not a token file."


def test_a_file_swapped_after_the_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked before opening, then again on the open file: a path swapped in between (here:
    the check saw another file) is refused, not read."""
    path = _file(tmp_path, TOKEN)
    other = tmp_path / "other"
    other.write_text(TOKEN)
    other.chmod(0o600)
    real_lstat = os.lstat
    monkeypatch.setattr(
        mt.os, "lstat", lambda p: real_lstat(other) if str(p) == str(path) else real_lstat(p)
    )
    with pytest.raises(mt.TokenError, match="changed while it was read"):
        mt.read_file(path)


def test_environment_and_file_sources(tmp_path: Path) -> None:
    assert mt.from_environment({}, None) is None
    got = mt.from_environment({mt.ENV_VAR: f"  {TOKEN}\n"}, None)
    assert got is not None
    assert got.value == TOKEN
    assert got.source == mt.ENV_VAR
    path = _file(tmp_path, TOKEN)
    from_file = mt.from_environment({}, str(path))
    assert from_file is not None
    assert from_file.value == TOKEN
    with pytest.raises(mt.TokenError, match="not both"):
        mt.from_environment({mt.ENV_VAR: TOKEN}, str(path))
    with pytest.raises(mt.TokenError) as caught:
        mt.from_environment({mt.ENV_VAR: TOKEN[:-1] + "Z"}, None)
    assert TOKEN[:-1] not in str(caught.value)


@pytest.mark.parametrize("empty", ["", "  ", "\n"])
def test_a_token_variable_set_empty_is_refused_not_taken_as_unset(
    tmp_path: Path, empty: str
) -> None:
    """A CI job whose secret did not arrive must not act as whoever is signed in."""
    with pytest.raises(mt.TokenError, match="set but empty"):
        mt.from_environment({mt.ENV_VAR: empty}, None)
    # Beside --token-file the file says which token: an empty variable is no second one.
    got = mt.from_environment({mt.ENV_VAR: empty}, str(_file(tmp_path, TOKEN)))
    assert got is not None
    assert got.value == TOKEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        ("8w", timedelta(weeks=8)),
        (" 1D ", timedelta(days=1)),
        ("never", None),
        ("NEVER", None),
    ],
)
def test_lifetimes(text: str, expected: timedelta | None) -> None:
    assert mt.parse_lifetime(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30m", "-1d", "0d", "1.5d", "99999w", "soon"])
def test_bad_lifetimes_are_one_sentence(text: str) -> None:
    with pytest.raises(mt.TokenError, match="--expires"):
        mt.parse_lifetime(text)


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            {"reason": "expired", "at": "2026-12-01T10:00:00+00:00"},
            "This machine token has expired (on 2026-12-01 10:00 UTC); ask an admin of the team "
            "or the environment's owner for a new token.",
        ),
        (
            {"reason": "revoked", "at": "2026-12-02T09:30:00.123456+00:00"},
            "This machine token was revoked (on 2026-12-02 09:30 UTC); ask an admin of the team "
            "or the environment's owner for a new token.",
        ),
        ({"reason": "creator", "at": None}, "no longer has access to its environment"),
        ({"reason": "unknown", "at": None}, "This machine token is not valid"),
        ({"reason": "missing", "at": None}, "No machine token reached the database"),
    ],
)
def test_refusal_sentences(detail: dict[str, object], expected: str) -> None:
    sentence = mt.refusal_sentence(json.dumps(detail))
    assert expected in sentence
    assert sentence.endswith(".")


def test_a_garbled_detail_still_gives_a_sentence() -> None:
    for detail in (None, "", "not json", "[1]", '{"reason": 3, "at": 5}'):
        assert mt.refusal_sentence(detail).startswith("This machine token is not valid")
