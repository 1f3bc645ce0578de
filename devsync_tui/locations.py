"""Every path DevSync reads or writes, from one place (platformdirs, overridable by env vars)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs(appname="devsync", appauthor=False)
_PACKAGE = Path(__file__).resolve().parent


def config_file() -> Path:
    """The settings file (TOML). Override with ``DEVSYNC_CONFIG``."""
    override = os.environ.get("DEVSYNC_CONFIG")
    return Path(override) if override else Path(_DIRS.user_config_dir) / "config.toml"


def config_dir() -> Path:
    """Directory beside the settings file (session fallback file, keys)."""
    return config_file().parent


def data_dir() -> Path:
    """User data: the embedded database lives here. Override with ``DEVSYNC_DATA_DIR``."""
    override = os.environ.get("DEVSYNC_DATA_DIR")
    return Path(override) if override else Path(_DIRS.user_data_dir)


def state_dir() -> Path:
    """Logs, drafts, offline snapshots. Override with ``DEVSYNC_STATE_DIR``."""
    override = os.environ.get("DEVSYNC_STATE_DIR")
    if override:
        return Path(override)
    return Path(_DIRS.user_state_dir)


def state_dir_problem(exc: OSError) -> str:
    """One sentence for a state folder that cannot be used (a file in its place, no right to
    make it), naming it as DevSync's and ``DEVSYNC_STATE_DIR`` when that variable chose it."""
    chosen = " (set by DEVSYNC_STATE_DIR)" if os.environ.get("DEVSYNC_STATE_DIR") else ""
    why = exc.strerror or type(exc).__name__
    return f"DevSync's state folder {state_dir()}{chosen} cannot be used: {why}."


def cache_dir() -> Path:
    """Caches that can be rebuilt (OSV answers). Override with ``DEVSYNC_CACHE_DIR``."""
    override = os.environ.get("DEVSYNC_CACHE_DIR")
    return Path(override) if override else Path(_DIRS.user_cache_dir)


def log_file() -> Path:
    """The log file (details of errors; never secret values)."""
    return state_dir() / "devsync.log"


def database_dir() -> Path:
    """Data directory of the embedded PostgreSQL server."""
    return data_dir() / "pgdata"


def sql_dir() -> Path:
    """Package SQL (the vanilla-Postgres stand-in for Supabase)."""
    return _PACKAGE / "sql"


def supabase_dir() -> Path:
    """The Supabase CLI folder: migrations/ and seed.sql.

    Installed wheels carry a copy under ``devsync_tui/_supabase``; a source checkout
    (editable install) uses the repository's ``supabase/`` folder.
    """
    bundled = _PACKAGE / "_supabase"
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / "supabase"


def migrations_dir() -> Path:
    return supabase_dir() / "migrations"


def seed_file() -> Path:
    return supabase_dir() / "seed.sql"
