"""User settings: a TOML file at ``locations.config_file()`` (``DEVSYNC_CONFIG`` overrides it).

Example::

    default_profile = "team"
    theme = "textual-dark"
    reveal_timeout = 30.0
    read_only = false            # true: the dashboard never writes nor reveals

    [profiles.team]
    kind = "supabase"
    url = "https://abcd.supabase.co"
    anon_key = "eyJ..."          # public by design; sessions live in the keyring

    [profiles.scratch]
    kind = "local"
    database_url = "postgresql://me@localhost/devsync"
    user = "bob"

    [keymap]
    reveal = "r,ctrl+r"

Environment overrides: ``DEVSYNC_PROFILE`` picks the profile; ``SUPABASE_URL`` with
``SUPABASE_ANON_KEY`` adds an implicit supabase profile named ``env-supabase``;
``DEVSYNC_DATABASE_URL`` adds an implicit local profile named ``env-local`` on that URL. With no
profile at all, the built-in ``local`` profile runs the embedded database.

``redraw_interval``, which earlier versions wrote into this file but never used, is accepted and
ignored (a warning would mostly reach people who never typed it); saving drops it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from devsync_tui import locations

#: The variable naming a PostgreSQL server to use instead of the embedded database.
DATABASE_URL_VAR = "DEVSYNC_DATABASE_URL"
#: Name of the built-in profile that runs the embedded database.
LOCAL_PROFILE = "local"
#: Names of the implicit profiles made from environment variables.
ENV_SUPABASE_PROFILE = "env-supabase"
ENV_LOCAL_PROFILE = "env-local"

_KEYS_RE = re.compile(r"^[A-Za-z0-9_+\-]+(,[A-Za-z0-9_+\-]+)*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class SettingsError(ValueError):
    """The settings file (or an environment override) is unusable; the message names the file
    and, where known, the line."""


@dataclass(frozen=True, slots=True)
class LocalProfile:
    """Direct PostgreSQL transport: the embedded database, or a server you name."""

    kind: Literal["local"] = "local"
    database_url: str | None = None
    """libpq connection string or URL; None = the embedded database in the data dir."""
    user: str | None = None
    """Act as this user (a profiles.username); None = the workspace owner."""
    from_env: bool = False
    """True for the implicit profile made from ``DEVSYNC_DATABASE_URL`` (never saved)."""

    def conninfo(self, environ: Mapping[str, str] = os.environ) -> str | None:
        """The server this profile connects to: its ``database_url``, else
        ``DEVSYNC_DATABASE_URL``; None = the embedded database (in ``locations.data_dir()``)."""
        return self.database_url or environ.get("DEVSYNC_DATABASE_URL", "").strip() or None


@dataclass(frozen=True, slots=True)
class SupabaseProfile:
    """A Supabase project: its API URL and public anon key."""

    url: str
    """The project URL, e.g. ``https://abcd.supabase.co``."""
    anon_key: str
    """The project's anon (publishable) key. Public by design; sessions go to the keyring."""
    kind: Literal["supabase"] = "supabase"
    from_env: bool = False
    """True for the implicit profile made from ``SUPABASE_URL``/``SUPABASE_ANON_KEY``."""


ProfileSettings = LocalProfile | SupabaseProfile


@dataclass(slots=True)
class Settings:
    """Everything the settings file holds, after environment overrides."""

    profiles: dict[str, ProfileSettings] = field(default_factory=dict)
    """Named connection profiles (the built-in ``local`` one is always there)."""
    default_profile: str | None = None
    """The profile used when none is named (``--profile``, ``DEVSYNC_PROFILE``)."""
    theme: str = "textual-dark"
    """Textual theme name."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Action id → keys (comma-separated Textual key names), e.g. ``{"reveal": "r,ctrl+r"}``."""
    reveal_timeout: float = 30.0
    """Seconds a revealed secret stays visible before it is masked again."""
    read_only: bool = False
    """The dashboard neither writes nor reveals (``devsync --read-only`` sets it for a run):
    for a wall screen, or pairing over SSH on a shared server."""
    path: Path | None = None
    """The settings file they were read from, or would be saved to when it does not exist yet
    (None: built in memory)."""
    env_profile: str | None = None
    """The profile ``DEVSYNC_PROFILE`` names, if set."""

    def active_profile_name(self, explicit: str | None = None) -> str:
        """Which profile to use: ``explicit`` (``--profile``), then ``DEVSYNC_PROFILE``, then an
        implicit env profile (supabase before local), then ``default_profile``, then ``local``."""
        for name in (explicit, self.env_profile):
            if name:
                return name
        for implicit in (ENV_SUPABASE_PROFILE, ENV_LOCAL_PROFILE):
            if implicit in self.profiles:
                return implicit
        return self.default_profile or LOCAL_PROFILE

    def profile(self, explicit: str | None = None) -> tuple[str, ProfileSettings]:
        """The active profile's name and settings; SettingsError for an unknown name."""
        name = self.active_profile_name(explicit)
        found = self.profiles.get(name)
        if found is None:
            known = ", ".join(sorted(self.profiles))
            where = f" in {self.path}" if self.path else ""
            raise SettingsError(f"No profile named {name!r}{where}; known profiles: {known}.")
        return name, found


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file (absent = defaults) and apply the environment overrides."""
    env = os.environ if environ is None else environ
    if path is None:
        override = env.get("DEVSYNC_CONFIG")
        path = Path(override) if override else locations.config_file()
    settings = Settings()
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"Cannot read the settings file {path}: {exc}.") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}.") from None
        settings = _parse(data, _Locator(path, text))
        settings.path = path
    elif path.exists():
        raise SettingsError(f"The settings path {path} exists but is not a file.")
    else:
        settings.path = path
    settings.profiles.setdefault(LOCAL_PROFILE, LocalProfile())
    _apply_env(settings, env)
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (temp file + rename, mode 0600). Implicit profiles from
    environment variables are not written, nor is a database URL holding a password. A missing
    folder is made private (0700: the session file may join it); an existing one is left as
    it is."""
    target = path or settings.path or locations.config_file()
    text = dump_settings(settings)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    settings.path = target
    return target


def save_theme(
    theme: str, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Set ``theme`` in the settings file (``path``, else where ``load_settings`` reads),
    keeping everything else the file holds; the path written."""
    env = os.environ if environ is None else environ
    if path is None:
        override = env.get("DEVSYNC_CONFIG")
        path = Path(override) if override else locations.config_file()
    stored = load_settings(path, environ={})
    stored.theme = theme
    return save_settings(stored, path)


def dump_settings(settings: Settings) -> str:
    """The TOML text ``save_settings`` writes."""
    lines: list[str] = []
    if settings.default_profile:
        lines.append(f"default_profile = {_toml_str(settings.default_profile)}")
    lines.append(f"theme = {_toml_str(settings.theme)}")
    lines.append(f"reveal_timeout = {float(settings.reveal_timeout)!r}")
    if settings.read_only:
        lines.append("read_only = true")
    for name, prof in sorted(settings.profiles.items()):
        if prof.from_env or (name == LOCAL_PROFILE and prof == LocalProfile()):
            continue
        lines.append("")
        lines.append(f"[profiles.{_toml_key(name)}]")
        lines.append(f"kind = {_toml_str(prof.kind)}")
        if isinstance(prof, SupabaseProfile):
            lines.append(f"url = {_toml_str(prof.url)}")
            lines.append(f"anon_key = {_toml_str(prof.anon_key)}")
        else:
            if prof.database_url:
                if _has_password(prof.database_url):
                    raise SettingsError(
                        f"Profile {name!r}: refusing to store a database URL with a password; "
                        "put the password in ~/.pgpass instead."
                    )
                lines.append(f"database_url = {_toml_str(prof.database_url)}")
            if prof.user:
                lines.append(f"user = {_toml_str(prof.user)}")
    if settings.keymap:
        lines.append("")
        lines.append("[keymap]")
        for action, keys in sorted(settings.keymap.items()):
            lines.append(f"{_toml_key(action)} = {_toml_str(keys)}")
    return "\n".join(lines) + "\n"


# -- parsing ---------------------------------------------------------------------------------
class _Locator:
    """Finds the line a setting is on, for error messages (tomllib keeps no positions)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, *patterns: str) -> int | None:
        """First line matching the patterns in order (e.g. a table header, then a key in it)."""
        start = 0
        found: int | None = None
        for pattern in patterns:
            rx = re.compile(pattern)
            for index in range(start, len(self.lines)):
                if rx.search(self.lines[index]):
                    found, start = index, index + 1
                    break
            else:
                return found + 1 if found is not None else None
        return found + 1 if found is not None else None

    def error(self, message: str, *patterns: str) -> SettingsError:
        line = self.line_of(*patterns) if patterns else None
        where = f"{self.path}, line {line}" if line else str(self.path)
        return SettingsError(f"{where}: {message}")


def _key_rx(key: str) -> str:
    return rf"^\s*[\"']?{re.escape(key)}[\"']?\s*="


def _table_rx(*parts: str) -> str:
    quoted = r"\s*\.\s*".join(rf"[\"']?{re.escape(part)}[\"']?" for part in parts)
    return rf"^\s*\[\s*{quoted}\s*\]"


#: Settings older versions wrote that no longer mean anything: accepted and ignored.
_OBSOLETE = frozenset({"redraw_interval"})


def _parse(data: dict[str, Any], loc: _Locator) -> Settings:
    known = {"profiles", "default_profile", "theme", "keymap", "reveal_timeout", "read_only"}
    for key in data:
        if key not in known and key not in _OBSOLETE:
            raise loc.error(f"unknown setting {key!r}.", _key_rx(key))
    settings = Settings()
    settings.default_profile = _opt_str(data, "default_profile", loc)
    settings.theme = _opt_str(data, "theme", loc) or settings.theme
    settings.reveal_timeout = _seconds(data, "reveal_timeout", settings.reveal_timeout, loc)
    read_only = data.get("read_only", False)
    if not isinstance(read_only, bool):
        raise loc.error("'read_only' must be true or false.", _key_rx("read_only"))
    settings.read_only = read_only
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise loc.error(
            "'profiles' must be a table of [profiles.NAME] tables.", _key_rx("profiles")
        )
    for name, raw in profiles.items():
        settings.profiles[name] = _parse_profile(name, raw, loc)
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        raise loc.error("'keymap' must be a table of action = \"keys\".", _key_rx("keymap"))
    for action, keys in keymap.items():
        if isinstance(keys, dict):  # drift.filter = "F": TOML read a table "drift"
            dotted = f"{action}.{next(iter(keys), 'action')}"
            raise loc.error(
                f'keymap: quote binding ids, which hold dots: "{dotted}" = "…".',
                _table_rx("keymap"),
                rf"^\s*[\"']?{re.escape(action)}[\"']?\s*\.",
            )
        if not isinstance(keys, str) or not _KEYS_RE.match(keys.replace(" ", "")):
            raise loc.error(
                f'keymap {action!r} must be a string of comma-separated keys like "r,ctrl+r".',
                _table_rx("keymap"),
                _key_rx(action),
            )
        settings.keymap[action] = keys.replace(" ", "")
    default = settings.default_profile
    if default and default not in settings.profiles and default != LOCAL_PROFILE:
        raise loc.error(
            f"default_profile {default!r} is not a [profiles.*] table.",
            _key_rx("default_profile"),
        )
    return settings


def _parse_profile(name: str, raw: object, loc: _Locator) -> ProfileSettings:
    where = (_table_rx("profiles", name),)
    if not _NAME_RE.match(name):
        raise loc.error(
            f"profile name {name!r} may only hold letters, digits, '_', '-', '.'.", *where
        )
    if not isinstance(raw, dict):
        raise loc.error(f"profile {name!r} must be a table.", *where)
    kind = raw.get("kind", "local")

    def field_error(key: str, message: str) -> SettingsError:
        return loc.error(f"profile {name!r}: {message}", *where, _key_rx(key))

    def text(key: str, *, required: bool) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                raise loc.error(f"profile {name!r} ({kind}) needs {key!r}.", *where)
            return None
        if not isinstance(value, str) or not value.strip():
            raise field_error(key, f"{key!r} must be a non-empty string.")
        return value.strip()

    if kind == "local":
        allowed = {"kind", "database_url", "user"}
        for key in raw:
            if key not in allowed:
                raise field_error(key, f"unknown key {key!r} for a local profile.")
        return LocalProfile(
            database_url=text("database_url", required=False), user=text("user", required=False)
        )
    if kind == "supabase":
        allowed = {"kind", "url", "anon_key"}
        for key in raw:
            if key not in allowed:
                raise field_error(key, f"unknown key {key!r} for a supabase profile.")
        url = text("url", required=True) or ""
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise field_error("url", "'url' must be an http(s) URL like https://abcd.supabase.co.")
        return SupabaseProfile(url=url.rstrip("/"), anon_key=text("anon_key", required=True) or "")
    raise field_error("kind", f'kind must be "local" or "supabase", not {kind!r}.')


def _opt_str(data: Mapping[str, Any], key: str, loc: _Locator) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise loc.error(f"{key!r} must be a non-empty string.", _key_rx(key))
    return value.strip()


def _seconds(data: Mapping[str, Any], key: str, default: float, loc: _Locator) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise loc.error(f"{key!r} must be a number of seconds between 0 and 3600.", _key_rx(key))
    return float(value)


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    url, key = env.get("SUPABASE_URL", "").strip(), env.get("SUPABASE_ANON_KEY", "").strip()
    if url or key:
        if not (url and key):
            missing = "SUPABASE_ANON_KEY" if url else "SUPABASE_URL"
            raise SettingsError(
                f"SUPABASE_URL and SUPABASE_ANON_KEY go together; {missing} is not set."
            )
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise SettingsError(
                "SUPABASE_URL must be an http(s) URL like https://abcd.supabase.co."
            )
        settings.profiles[ENV_SUPABASE_PROFILE] = SupabaseProfile(
            url=url.rstrip("/"), anon_key=key, from_env=True
        )
    database_url = env.get(DATABASE_URL_VAR, "").strip()
    if DATABASE_URL_VAR in env and not database_url:
        # As DEVSYNC_TOKEN (core.machine_token): a CI variable that did not arrive, which taken
        # as unset would send every command to the embedded demo database instead.
        raise SettingsError(
            f"{DATABASE_URL_VAR} is set but empty, so it names no database; give it a "
            f"PostgreSQL URL, or unset {DATABASE_URL_VAR} to use the embedded database."
        )
    if database_url:
        settings.profiles[ENV_LOCAL_PROFILE] = LocalProfile(
            database_url=database_url, from_env=True
        )
    chosen = env.get("DEVSYNC_PROFILE", "").strip()
    settings.env_profile = chosen or None


def _has_password(url: str) -> bool:
    if "://" in url:
        return urlsplit(url).password is not None
    return re.search(r"(^|\s)password\s*=", url) is not None


def _toml_str(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    escaped = re.sub(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped
    )
    return f'"{escaped}"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else _toml_str(key)
