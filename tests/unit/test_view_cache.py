"""core.view_cache: the dashboard's last view, encrypted per owner, never a secret value."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devsync_tui.core import clock, crypto, view_cache
from devsync_tui.core.view_cache import CachedView

PROJECT = "11111111-1111-1111-1111-111111111111"
ENV = "22222222-2222-2222-2222-222222222222"
ME = "33333333-3333-3333-3333-333333333333"
ALICE = view_cache.owner_key("default", "local", "db", "alice")
BOB = view_cache.owner_key("default", "local", "db", "bob")
OTHER_PROFILE = view_cache.owner_key("work", "local", "db", "alice")


@pytest.fixture(autouse=True)
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEVSYNC_CONFIG", str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("DEVSYNC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEVSYNC_KEYRING", "off")
    crypto._reset_for_tests()
    yield tmp_path
    crypto._reset_for_tests()


def _row(key: str, value: str | None, *, secret: bool, **more: Any) -> dict[str, Any]:
    return {
        "configuration_id": f"4444444{len(key) % 10}-4444-4444-4444-444444444444",
        "project_id": PROJECT,
        "environment_id": ENV,
        "key": key,
        "value": value,
        "is_secret": secret,
        "type": "env_var",
        "version": 3,
        "source": "override",
        "updated_at": "2026-12-05T10:00:00+00:00",
        "updated_by": "alice",
        "overrides_id": None,
        **more,
    }


def _document(rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "me": {"id": ME, "username": "alice"},
        "roles": [{"team_id": "55555555-5555-5555-5555-555555555555", "role": "admin"}],
        "teams": [],
        "projects": [],
        "environments": [],
        "members": [],
        "views": [
            {
                "project_id": PROJECT,
                "environment_id": ENV,
                "rows": rows
                if rows is not None
                else [
                    _row("LOG_LEVEL", "debug", secret=False),
                    # The database sends secrets as NULL; a value here must still never be kept.
                    _row("STRIPE_SECRET_KEY", "sk_live_leaked_value", secret=True),
                    # A row that does not say whether it is a secret is treated as one.
                    {k: v for k, v in _row("UNSURE", "maybe-secret", secret=False).items()
                     if k != "is_secret"},
                ],
            }
        ],
        "templates": [
            {
                "id": "66666666-6666-6666-6666-666666666666",
                "project_id": PROJECT,
                "name": "web",
                "config_json": {
                    "API_URL": {"required": True},
                    "DEFAULT_TOKEN": "template-default-value",
                },
                "dependencies_json": [],
            }
        ],
        "unexpected": "dropped",
    }  # fmt: skip


def _view(document: dict[str, Any] | None = None, **more: Any) -> CachedView:
    return CachedView(
        document=document if document is not None else _document(),
        project_id=PROJECT,
        environment_id=ENV,
        label="LOCAL",
        saved_at=more.pop("saved_at", datetime(2026, 12, 5, 9, 0, tzinfo=UTC)),
        **more,
    )


def test_round_trip() -> None:
    assert view_cache.save(ALICE, _view())
    found = view_cache.load(ALICE)
    assert found is not None
    assert found.project_id == PROJECT
    assert found.environment_id == ENV
    assert found.label == "LOCAL"
    assert found.saved_at == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    rows = {r["key"]: r for r in found.document["views"][0]["rows"]}
    assert rows["LOG_LEVEL"]["value"] == "debug"
    assert rows["LOG_LEVEL"]["version"] == 3
    assert found.document["me"] == {"id": ME, "username": "alice"}
    assert "unexpected" not in found.document


def test_no_secret_value_is_kept_and_the_file_holds_no_plaintext() -> None:
    assert view_cache.save(ALICE, _view())
    path = view_cache.path_for(ALICE)
    on_disk = path.read_bytes()
    for plain in (b"LOG_LEVEL", b"debug", b"STRIPE_SECRET_KEY", b"sk_live", b"alice", b"API_URL"):
        assert plain not in on_disk
    decrypted = crypto.decrypt(on_disk, context=f"view:v1:{ALICE}").decode()
    assert "sk_live_leaked_value" not in decrypted
    assert "maybe-secret" not in decrypted
    assert "template-default-value" not in decrypted  # a template keeps its required keys only
    document = json.loads(decrypted)["document"]
    rows = {r["key"]: r for r in document["views"][0]["rows"]}
    assert rows["STRIPE_SECRET_KEY"]["value"] is None
    assert rows["UNSURE"] == {**rows["UNSURE"], "is_secret": True, "value": None}
    assert document["templates"][0]["config_json"] == {"API_URL": {"required": True}}


def test_files_are_private() -> None:
    assert view_cache.save(ALICE, _view())
    path = view_cache.path_for(ALICE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_another_user_or_profile_never_reads_it() -> None:
    assert view_cache.save(ALICE, _view())
    assert view_cache.load(BOB) is None
    assert view_cache.load(OTHER_PROFILE) is None
    # Even copied over their file names it does not open: the owner is the context too.
    for other in (BOB, OTHER_PROFILE):
        view_cache.path_for(other).write_bytes(view_cache.path_for(ALICE).read_bytes())
        assert view_cache.load(other) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # altered
        lambda blob: b"not a cache at all",
        lambda blob: b"",
        lambda blob: crypto.encrypt(b"{not json", context=f"view:v1:{ALICE}"),
        lambda blob: crypto.encrypt(b'{"format": 0}', context=f"view:v1:{ALICE}"),  # old format
        lambda blob: crypto.encrypt(
            json.dumps({"format": 1, "document": {"me": {}}, "saved_at": "yesterday"}).encode(),
            context=f"view:v1:{ALICE}",
        ),
    ],
    ids=["altered", "garbage", "empty", "not-json", "old-format", "bad-fields"],
)
def test_a_damaged_cache_is_ignored_quietly(damage: Any) -> None:
    assert view_cache.save(ALICE, _view())
    path = view_cache.path_for(ALICE)
    path.write_bytes(damage(path.read_bytes()))
    # A handler of its own: the app's logging set-up (another test) may stop propagation.
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("devsync.view_cache")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        assert view_cache.load(ALICE) is None
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert records  # said in the log, at debug
    assert all(r.levelno == logging.DEBUG for r in records)


def test_an_unreadable_key_is_ignored(homes: Path) -> None:
    assert view_cache.save(ALICE, _view())
    crypto._reset_for_tests()
    key = homes / "cfg" / "local-key"
    key.write_text("not base64 at all!\n")  # the key changed under it
    assert view_cache.load(ALICE) is None


def test_size_is_bounded() -> None:
    many = [_row(f"KEY_{i}", "v", secret=False) for i in range(view_cache.MAX_ROWS + 1)]
    assert view_cache.save(ALICE, _view(_document(many)))
    found = view_cache.load(ALICE)
    assert found is not None
    assert found.document["views"] == []  # the tree is kept; that view waits for live data
    # Beyond the byte bound nothing is kept, and an older view is not left to open instead.
    huge = _document()
    huge["projects"] = [{"name": "x" * 1000, "i": i} for i in range(view_cache.MAX_BYTES // 900)]
    assert not view_cache.save(ALICE, _view(huge))
    assert not view_cache.path_for(ALICE).exists()
    assert view_cache.load(ALICE) is None


def test_age_reads_as_the_header_says_it() -> None:
    view = _view(saved_at=clock.now() - timedelta(hours=3))
    assert view.age() == "3 h ago"
