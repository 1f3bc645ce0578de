"""The comparison behind ``devsync env status`` (core.config_states), the matrix of the Config
drift view (core.config_matrix) and the in-place dotenv edit of ``devsync env pull``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devsync_tui.core import dotenv
from devsync_tui.core.config_matrix import build_config_matrix
from devsync_tui.core.config_states import (
    ConfigState,
    DriftState,
    KeyVersion,
    Synced,
    compare,
    is_drift,
    legend,
    needs_history,
)
from devsync_tui.machine.config_pull import edited_dotenv, write_keeping_mode
from devsync_tui.machine.config_status import read_local
from devsync_tui.machine.errors import InputError

AT = datetime(2026, 1, 1, tzinfo=UTC)


def version(key: str, n: int, value: str | None, *, secret: bool = False) -> KeyVersion:
    return KeyVersion(key, n, None if secret else value, secret, "update", AT, "bob")


def test_every_state() -> None:
    synced = [
        Synced("SAME", 2, False, False, "a"),
        Synced("OTHER", 1, False, False, "a"),
        Synced("GONE", 1, False, False, "a"),
        Synced("OLD", 3, False, False, "new"),
        Synced("HIDDEN", 1, True, False, None),
        Synced("ROTATED", 2, True, False, "s2"),
        Synced("conf/app.json", 1, False, True, "{}"),
    ]
    local = {"SAME": "a", "OTHER": "b", "OLD": "old", "HIDDEN": "x", "ROTATED": "s1", "EXTRA": "1"}
    first = compare(synced, local, {"conf/app.json": "{}"})
    assert needs_history(first) == ["OLD", "OTHER"]
    history = {
        "OLD": [version("OLD", 1, "old"), version("OLD", 2, "mid"), version("OLD", 3, "new")],
        "ROTATED": [version("ROTATED", 1, "s1", secret=True)],
    }
    states = {s.key: (s.state, s.synced_version, s.behind_version) for s in compare(
        synced, local, {"conf/app.json": "{}"}, history
    )}  # fmt: skip
    assert states == {
        "SAME": (DriftState.IN_SYNC, 2, None),
        "OTHER": (DriftState.DIFFERS, 1, None),
        "GONE": (DriftState.MISSING, 1, None),
        "OLD": (DriftState.BEHIND, 3, 1),
        "HIDDEN": (DriftState.UNKNOWN, 1, None),
        "ROTATED": (DriftState.DIFFERS, 2, None),  # old secrets are never compared
        "conf/app.json": (DriftState.IN_SYNC, 1, None),
        "EXTRA": (DriftState.ONLY_LOCAL, None, None),
    }
    assert is_drift(compare(synced, local, {}))
    assert not is_drift(compare([Synced("H", 1, True, False, None)], {"H": "x"}, {}))


def test_legend_names_every_symbol() -> None:
    text = legend()
    for word in ("in sync", "differs", "missing", "only on the machine", "behind", "unknown"):
        assert word in text


def test_matrix_columns_rows_and_drift() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    p = uuid.uuid4()
    states = [
        ConfigState(a, p, "K", "in_sync", 1, None),
        ConfigState(b, p, "K", "behind", 2, 1),
        ConfigState(b, p, "L", "some_new_state", None, None),
        ConfigState(uuid.uuid4(), p, "Z", "differs", 1, None),  # not a column
    ]
    matrix = build_config_matrix(states, [a, b, c])
    assert [r.key for r in matrix.rows] == ["K", "L"]
    assert matrix.rows[0].cells[2] is None
    assert matrix.drifted_environments() == {b}
    assert [r.key for r in matrix.drifted().rows] == ["K", "L"]  # unknown states are shown
    assert matrix.reported() == {a, b}


def test_edited_dotenv_keeps_everything_else() -> None:
    text = "# top\nexport A=1\nB='two'  # note\n\nC=\"multi\nline\"\nD=4"
    out = edited_dotenv(text, {"A": "one", "C": "x", "D": "$4 #", "NEW": "n"}, ".env")
    assert out == "# top\nexport A=one\nB='two'  # note\n\nC=x\nD='$4 #'\nNEW=n\n"
    assert dotenv.parse_values(out) == {"A": "one", "B": "two", "C": "x", "D": "$4 #", "NEW": "n"}
    with pytest.raises(InputError):
        edited_dotenv("not a binding\n", {"A": "1"}, ".env")


def test_write_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    path.chmod(0o644)
    write_keeping_mode(path, b"A=2\n")
    assert path.read_text() == "A=2\n"
    assert path.stat().st_mode & 0o777 == 0o644
    fresh = tmp_path / "new.env"
    write_keeping_mode(fresh, b"X=1\n")
    assert fresh.stat().st_mode & 0o777 == 0o600


def test_read_local_merges_in_order_and_stays_inside(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\nB=1\nLONE\n")
    (tmp_path / ".env.local").write_text("B=2\n")
    (tmp_path / "x.env").write_text("C=3\n")
    (tmp_path / "f.txt").write_bytes(b"\xff\xfe")
    outside = tmp_path.parent / f"outside-{uuid.uuid4().hex}"
    outside.write_text("secret")
    (tmp_path / "link").symlink_to(outside)
    local = read_local(tmp_path, ["x.env"], ["f.txt", "link", "none.txt"])
    assert local.values == {"A": "1", "B": "2", "C": "3"}
    assert local.origin == {"A": ".env", "B": ".env.local", "C": "x.env"}
    assert local.files["none.txt"] is None
    assert local.files["f.txt"] not in (None, "")
    assert local.unreadable == {"link"}
    with pytest.raises(InputError, match="outside the checkout"):
        read_local(tmp_path, ["../elsewhere.env"], [])
    outside.unlink()
