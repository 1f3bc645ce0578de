"""Settings: TOML file, typed profiles, env overrides, clear errors, atomic save."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from devsync_tui import settings as s


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_local_embedded(tmp_path: Path) -> None:
    loaded = s.load_settings(tmp_path / "absent.toml", environ={})
    name, prof = loaded.profile()
    assert name == "local"
    assert prof == s.LocalProfile()
    assert loaded.theme == "textual-dark"
    assert loaded.reveal_timeout == 30.0
    assert loaded.path == tmp_path / "absent.toml"  # where save_settings will write


def test_a_directory_is_not_a_settings_file(tmp_path: Path) -> None:
    with pytest.raises(s.SettingsError, match="not a file"):
        s.load_settings(tmp_path, environ={})


def test_full_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
default_profile = "team"
theme = "nord"
redraw_interval = 0.25
reveal_timeout = 5

[profiles.team]
kind = "supabase"
url = "https://abcd.supabase.co/"
anon_key = "anon-key"

[profiles.scratch]
kind = "local"
database_url = "postgresql://me@localhost/devsync"
user = "bob"

[keymap]
reveal = "r, ctrl+r"
""",
    )
    loaded = s.load_settings(path, environ={})
    assert loaded.path == path
    assert loaded.theme == "nord"
    assert loaded.reveal_timeout == 5.0
    assert loaded.keymap == {"reveal": "r,ctrl+r"}
    name, prof = loaded.profile()
    assert name == "team"
    assert prof == s.SupabaseProfile(url="https://abcd.supabase.co", anon_key="anon-key")
    assert loaded.profile("scratch")[1] == s.LocalProfile(
        database_url="postgresql://me@localhost/devsync", user="bob"
    )
    assert "local" in loaded.profiles


def test_an_old_file_with_redraw_interval_loads_and_saving_drops_it(tmp_path: Path) -> None:
    # Earlier versions wrote redraw_interval into every saved file without ever using it.
    path = _write(tmp_path, 'theme = "nord"\nredraw_interval = 0.1\nreveal_timeout = 5\n')
    loaded = s.load_settings(path, environ={})
    assert (loaded.theme, loaded.reveal_timeout) == ("nord", 5.0)
    assert not hasattr(loaded, "redraw_interval")
    s.save_settings(loaded)
    assert "redraw_interval" not in path.read_text()
    assert s.load_settings(path, environ={}).reveal_timeout == 5.0


def test_env_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, 'default_profile = "local"\n')
    env = {"SUPABASE_URL": "https://x.supabase.co", "SUPABASE_ANON_KEY": "k"}
    loaded = s.load_settings(path, environ=env)
    assert loaded.profile() == (
        "env-supabase",
        s.SupabaseProfile(url="https://x.supabase.co", anon_key="k", from_env=True),
    )
    loaded = s.load_settings(path, environ={"DEVSYNC_DATABASE_URL": "postgresql:///x"})
    assert loaded.profile()[1] == s.LocalProfile(database_url="postgresql:///x", from_env=True)
    loaded = s.load_settings(path, environ={**env, "DEVSYNC_PROFILE": "local"})
    assert loaded.profile()[0] == "local"
    # --profile beats DEVSYNC_PROFILE
    assert loaded.profile("env-supabase")[0] == "env-supabase"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_database_url_variable_is_refused_not_taken_as_unset(
    tmp_path: Path, value: str
) -> None:
    # As an empty DEVSYNC_TOKEN: a CI variable that did not arrive must not send the command
    # to the embedded demo database instead.
    path = _write(tmp_path, 'default_profile = "local"\n')
    with pytest.raises(s.SettingsError) as raised:
        s.load_settings(path, environ={"DEVSYNC_DATABASE_URL": value})
    assert str(raised.value) == (
        "DEVSYNC_DATABASE_URL is set but empty, so it names no database; give it a PostgreSQL "
        "URL, or unset DEVSYNC_DATABASE_URL to use the embedded database."
    )


def test_devsync_config_env_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 'theme = "gruvbox"\n')
    assert s.load_settings(environ={"DEVSYNC_CONFIG": str(path)}).theme == "gruvbox"


def test_half_supabase_env_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(s.SettingsError, match="SUPABASE_ANON_KEY is not set"):
        s.load_settings(tmp_path / "none.toml", environ={"SUPABASE_URL": "https://x.supabase.co"})


def test_unknown_profile_lists_known(tmp_path: Path) -> None:
    loaded = s.load_settings(tmp_path / "none.toml", environ={"DEVSYNC_PROFILE": "nope"})
    with pytest.raises(s.SettingsError, match=r"No profile named 'nope'.*known profiles: local"):
        loaded.profile()


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'theme = "a"\n\n[profiles.x\nkind = "local"\n')
    with pytest.raises(s.SettingsError) as info:
        s.load_settings(path, environ={})
    assert str(path) in str(info.value)
    assert "line 3" in str(info.value)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('theme = "a"\n[profiles.x]\nkind = "ftp"\n', 3, "kind must be"),
        ('[profiles.x]\nkind = "supabase"\nurl = "https://a.b"\n', 1, "needs 'anon_key'"),
        ('[profiles.x]\nkind = "supabase"\nurl = "nope"\nanon_key = "k"\n', 3, "http(s) URL"),
        ('[profiles.x]\nkind = "local"\nport = 5\n', 3, "unknown key 'port'"),
        ('\nreveal_timeout = "soon"\n', 2, "reveal_timeout"),
        ('colour = "red"\n', 1, "unknown setting 'colour'"),
        ('default_profile = "ghost"\n', 1, "not a [profiles.*] table"),
        ("[keymap]\nquit = 5\n", 2, "keymap 'quit'"),
        ('[keymap]\ndrift.filter = "F"\n', 2, 'quote binding ids, which hold dots: "drift.filter"'),
    ],
)
def test_bad_values_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(s.SettingsError) as info:
        s.load_settings(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: ")
    assert fragment in message


def test_save_roundtrip_atomic_and_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    settings = s.Settings(
        profiles={
            "team": s.SupabaseProfile(url="https://a.supabase.co", anon_key='k"ey'),
            "mine": s.LocalProfile(database_url="postgresql://me@h/db", user="bob"),
            "env-supabase": s.SupabaseProfile(url="https://e.co", anon_key="e", from_env=True),
        },
        default_profile="team",
        theme="nord",
        keymap={"reveal": "r", "palette.open": "ctrl+p"},
    )
    written = s.save_settings(settings, path)
    assert written == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".config-")]
    loaded = s.load_settings(path, environ={})
    assert loaded.profiles["team"] == settings.profiles["team"]
    assert loaded.profiles["mine"] == settings.profiles["mine"]
    assert "env-supabase" not in loaded.profiles  # env-derived profiles are never saved
    assert loaded.keymap == settings.keymap
    assert loaded.default_profile == "team"
    assert loaded.theme == "nord"


def test_save_makes_a_missing_folder_private_and_leaves_an_existing_one_alone(
    tmp_path: Path,
) -> None:
    # The folder may be the user's home or the data folder pgserver enters: never chmod-ed.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    s.save_settings(s.Settings(), shared / "config.toml")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "config.toml").stat().st_mode) == 0o600
    s.save_settings(s.Settings(), shared / "new" / "config.toml")
    assert stat.S_IMODE((shared / "new").stat().st_mode) == 0o700  # made here: private


def test_save_refuses_password_in_url(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "keep"\n', encoding="utf-8")
    settings = s.Settings(profiles={"p": s.LocalProfile(database_url="postgresql://u:pw@h/db")})
    with pytest.raises(s.SettingsError, match="password"):
        s.save_settings(settings, path)
    assert path.read_text(encoding="utf-8") == 'theme = "keep"\n'  # untouched
    assert os.listdir(tmp_path) == ["config.toml"]
