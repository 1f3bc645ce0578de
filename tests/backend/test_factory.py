"""open_backend: profiles → connected backends (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest

from devsync_tui.backend.errors import InvalidInput
from devsync_tui.backend.factory import open_backend
from devsync_tui.backend.postgres import server
from devsync_tui.backend.postgres.backend import PostgresBackend, label_for
from devsync_tui.settings import LocalProfile, Settings, SupabaseProfile, load_settings
from tests.support import demo

pytestmark = pytest.mark.db


async def test_database_url_env_profile_connects_as_owner(demo_db_url: str, tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "none.toml", environ={"DEVSYNC_DATABASE_URL": demo_db_url})
    backend = await open_backend(settings)
    try:
        assert isinstance(backend, PostgresBackend)
        assert backend.kind == "local"
        assert (await backend.whoami()).user_id == demo.TEAM_OWNER.id
        assert [t.id for t in await backend.list_teams()] == [demo.TEAM_ACME]
    finally:
        await backend.close()


async def test_profile_user_and_explicit_user(demo_db_url: str) -> None:
    settings = Settings(profiles={"p": LocalProfile(database_url=demo_db_url, user="carol")})
    backend = await open_backend(settings, profile="p")
    try:
        assert (await backend.whoami()).username == "carol"
    finally:
        await backend.close()
    backend = await open_backend(settings, profile="p", user="bob")
    try:
        assert (await backend.whoami()).username == "bob"
    finally:
        await backend.close()
    with pytest.raises(InvalidInput, match="known users: alice"):  # bad input: exit 2
        await open_backend(settings, profile="p", user="nobody")


async def test_bad_choices_are_one_sentence() -> None:
    settings = Settings(
        profiles={"cloud": SupabaseProfile(url="https://x.supabase.co", anon_key="k")}
    )
    with pytest.raises(InvalidInput, match="No profile named 'ghost'"):
        await open_backend(settings, profile="ghost")
    with pytest.raises(InvalidInput, match="local profiles only"):
        await open_backend(settings, profile="cloud", user="bob")


def test_labels() -> None:
    assert label_for("postgresql://u@db.example.com:5432/x", embedded=False) == "db.example.com"
    assert label_for("host=/tmp/sock dbname=x", embedded=False) == "LOCAL"
    assert label_for("host=pg.internal dbname=x", embedded=False) == "pg.internal"
    assert label_for("postgresql://u@db.example.com/x", embedded=True) == "LOCAL"


async def test_embedded_database_when_nothing_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not tmp_path: pytest keeps it 0700, which locks out the user pgserver runs postgres as.
    data_dir = Path(tempfile.mkdtemp(prefix="devsync-factory-"))
    monkeypatch.setenv("DEVSYNC_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DEVSYNC_DATABASE_URL", raising=False)
    lines: list[str] = []
    settings = load_settings(data_dir / "none.toml", environ={})
    backend = await open_backend(settings, user="bob", progress=lines.append)
    try:
        assert backend.label == "LOCAL"
        assert (await backend.whoami()).username == "bob"
        assert [t.id for t in await backend.list_teams()] == [demo.TEAM_ACME]
        assert lines  # the first start said what it was doing
        await backend.close()

        # Later starts: the running server and its checked schema are known from files alone.
        quick = server.running_url()
        assert quick is not None
        assert quick == server.url()
        lines.clear()
        backend = await open_backend(settings, user="carol", progress=lines.append)
        assert (await backend.whoami()).username == "carol"
        assert lines == []
        await backend.close()

        # The shortcut is only a shortcut: a database dropped behind the server's back is
        # noticed when connecting, and the long way rebuilds it.
        with server.connect(server.with_database(quick, "postgres"), autocommit=True) as conn:
            conn.execute("drop database devsync with (force)")
        assert server.running_url() == quick  # the files cannot know
        backend = await open_backend(settings, user="bob", progress=lines.append)
        assert [t.id for t in await backend.list_teams()] == [demo.TEAM_ACME]
        assert "Loading the demo workspace" in lines
        await backend.close()

        # A stamp from another server start (or other migrations) is not trusted.
        stamp = data_dir / ".schema-checked"
        stamp.write_text(stamp.read_text().replace("\n", " 1\n", 1))
        assert server.running_url() is None
        backend = await open_backend(settings, user="bob")
        assert server.running_url() == quick  # the long way checked it and wrote it again
    finally:
        await backend.close()
        # Stop it and delete it (as root, its cluster in /var/lib/devsync/<id> too).
        await asyncio.to_thread(server.reset)
        shutil.rmtree(data_dir, ignore_errors=True)
        assert server.running_url() is None
        await asyncio.to_thread(server.reset)  # as root, its service folder too
        shutil.rmtree(data_dir, ignore_errors=True)
