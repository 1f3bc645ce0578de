"""The last view a user saw in the dashboard, kept locally so that the next start draws it at
once (marked as cached with its age) and ``devsync --offline`` can open without a network.
With it, where it could be kept safely, the screen as the dashboard drew that view
(``ScreenFrame``): the next start in a terminal of the same size writes it before the UI is
even imported (``dashboard.frame_replay``).

What is kept is the document ``public.open_workspace`` answers (the tree, my roles, the
opened scope's configuration rows) for the view that was on screen, and which project and
environment that was. Never a secret value: ``sanitized`` drops the value of every secret row
(the database already sends them as NULL) and keeps of each template only which keys it
requires. The file is JSON encrypted with :mod:`core.crypto` (AES-GCM, the local key),
stored at ``locations.state_dir()/views/<id>.bin`` (0600 in a 0700 folder, replaced whole).

One cache per owner: the profile (its name, transport and where it points) and the user it
signs in as. The owner key names the file (hashed) and is the encryption context too, so one
user's cache copied over another's name does not open. Anything wrong with a cache (missing,
damaged, another key, an older format, too big) means "no cache": logged at debug, never
raised.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from devsync_tui import locations
from devsync_tui.core import clock, crypto
from devsync_tui.core.private_file import write_private

log = logging.getLogger("devsync.view_cache")

FORMAT_VERSION = 1
#: A view with more configuration rows than this is kept without its rows (the tree only).
MAX_ROWS = 5_000
#: A cache whose JSON would be larger than this is not kept at all (bytes).
MAX_BYTES = 4 * 1024 * 1024

#: A recorded screen larger than this is not kept (characters of terminal output).
MAX_FRAME_CHARS = 1024 * 1024
#: Stands for the header's right-hand mark in a recorded frame (``ScreenFrame.header``):
#: the start that replays it writes there how old the view is.
FRAME_TOKEN = "\ue000"

#: The parts of ``open_workspace``'s document a cached view keeps.
_PARTS = ("me", "roles", "teams", "projects", "environments", "members", "views", "templates")


@dataclass(frozen=True, slots=True)
class ScreenFrame:
    """The screen as the dashboard drew a view: terminal output that redraws it (cursor moves
    and styled text, for the terminal it was drawn on), recorded only where no secret
    revealed in that process is on screen (``dashboard.frame_record``). What it was drawn
    for — the terminal's size, the variables that choose its colours, the theme, read-only —
    must all be the same for it to be replayed. ``body``: every line but the header;
    ``header``: the header line with a run of ``FRAME_TOKEN`` where the mark saying how old
    the view is goes."""

    width: int
    height: int
    terminal: str
    theme: str
    read_only: bool
    body: str
    header: str

    def size(self) -> int:
        return len(self.body) + len(self.header)

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "terminal": self.terminal,
            "theme": self.theme,
            "read_only": self.read_only,
            "body": self.body,
            "header": self.header,
        }

    @classmethod
    def from_dict(cls, raw: object) -> ScreenFrame | None:
        """The frame, or None when ``raw`` is not one (an older or damaged cache)."""
        if not isinstance(raw, dict):
            return None
        fields = (raw.get("width"), raw.get("height"))
        texts = (raw.get("terminal"), raw.get("theme"), raw.get("body"), raw.get("header"))
        if not all(isinstance(n, int) and n > 0 for n in fields) or not all(
            isinstance(t, str) for t in texts
        ):
            return None
        return cls(
            width=raw["width"],
            height=raw["height"],
            terminal=raw["terminal"],
            theme=raw["theme"],
            read_only=bool(raw.get("read_only")),
            body=raw["body"],
            header=raw["header"],
        )


@dataclass(frozen=True, slots=True)
class CachedView:
    """A view as it was last seen: ``document`` in ``open_workspace``'s shape (sanitized),
    the project/environment that was open (ids as text), the workspace's label, and when."""

    document: dict[str, Any]
    project_id: str | None
    environment_id: str | None
    label: str
    saved_at: datetime
    #: The screen as it was drawn (None: not recorded, see ``ScreenFrame``).
    frame: ScreenFrame | None = None

    def age(self, now: datetime | None = None) -> str:
        """How old it is, as the header says it: "3 h ago", "just now"."""
        return clock.ago(self.saved_at, reference=now)

    def to_json(self) -> bytes:
        payload: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "document": self.document,
            "project_id": self.project_id,
            "environment_id": self.environment_id,
            "label": self.label,
            "saved_at": self.saved_at.isoformat(),
        }
        if self.frame is not None and self.frame.size() <= MAX_FRAME_CHARS:
            payload["frame"] = self.frame.to_dict()
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> CachedView | None:
        """The view, or None when ``data`` is not a cache of this format."""
        try:
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
                return None
            document = raw["document"]
            if not isinstance(document, dict) or not isinstance(document.get("me"), dict):
                return None
            saved_at = datetime.fromisoformat(str(raw["saved_at"]))
            if saved_at.tzinfo is None:
                return None
            return cls(
                document=sanitized(document),
                project_id=_opt_text(raw.get("project_id")),
                environment_id=_opt_text(raw.get("environment_id")),
                label=str(raw.get("label") or ""),
                saved_at=saved_at,
                frame=ScreenFrame.from_dict(raw.get("frame")),
            )
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            return None


def _opt_text(value: object) -> str | None:
    return None if value is None else str(value)


def sanitized(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with only the parts a cached view needs and no secret value: a secret
    row's value is dropped whatever it holds, a template keeps only its required keys (its
    other entries may be values), a view with more than ``MAX_ROWS`` rows keeps none."""
    kept: dict[str, Any] = {part: document[part] for part in _PARTS if part in document}
    views = []
    for view in kept.get("views") or ():
        if not isinstance(view, dict):
            continue
        rows = view.get("rows") or []
        if not isinstance(rows, list) or len(rows) > MAX_ROWS:
            continue  # the tree still opens; the view waits for live data
        clean = [_masked(r) for r in rows if isinstance(r, dict)]
        views.append({**view, "rows": clean})
    if "views" in kept:
        kept["views"] = views
    templates = []
    for template in kept.get("templates") or ():
        if not isinstance(template, dict):
            continue
        config = template.get("config_json")
        required = (
            {k: {"required": True} for k, v in config.items() if _required(v)}
            if isinstance(config, dict)
            else {}
        )
        templates.append(
            {
                "id": template.get("id"),
                "project_id": template.get("project_id"),
                "name": template.get("name"),
                "config_json": required,
                "is_public": bool(template.get("is_public")),
            }
        )
    if "templates" in kept:
        kept["templates"] = templates
    return kept


def _required(entry: object) -> bool:
    return isinstance(entry, dict) and entry.get("required") is True


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("is_secret") is False:
        return dict(row)
    # A secret, or a row that does not say: no value kept.
    return {**row, "is_secret": True, "value": None}


def owner_key(
    profile: str, kind: str, location: str | None, user: str | None, **more: str | None
) -> str:
    """Whose cache: the profile's name, transport and where it points (database URL,
    Supabase URL), and who signs in (``--user`` / the profile's user, or the stored
    Supabase session's user id)."""
    parts = {"profile": profile, "kind": kind, "location": location, "user": user, **more}
    return json.dumps(parts, sort_keys=True)


def location(where: str) -> str:
    """An owner's ``location`` for a database URL or Supabase URL ``where`` (a URL may hold a
    password: only its hash is kept)."""
    return _hash(where)


def embedded_location() -> str:
    """The ``location`` of the embedded database (told apart by its data folder)."""
    return location(f"embedded:{locations.data_dir().resolve()}")


def cache_dir() -> Path:
    return locations.state_dir() / "views"


def path_for(owner: str) -> Path:
    """``<where>-<whose>.bin``: the views of one database share a prefix (``forget_at``)."""
    return cache_dir() / f"{_where(owner)}-{_hash(owner)[:32]}.bin"


def _where(owner: str) -> str:
    try:
        found = json.loads(owner).get("location")
    except (ValueError, AttributeError):
        found = None
    return _hash(str(found))[:16]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _legacy_path(owner: str) -> Path:
    """Where DevSync before 2026-12-07 kept the view (removed as the view is kept anew)."""
    return cache_dir() / (_hash(owner)[:32] + ".bin")


def _context(owner: str) -> str:
    return f"view:v{FORMAT_VERSION}:{owner}"


def save(owner: str, view: CachedView) -> bool:
    """Keep ``view`` as ``owner``'s last view (encrypted, 0600). False (logged) when it was
    not kept: too big, or the disk or the key refused."""
    clean = CachedView(
        sanitized(view.document),
        view.project_id,
        view.environment_id,
        view.label,
        view.saved_at,
        view.frame,
    )
    data = clean.to_json()
    if len(data) > MAX_BYTES:
        log.debug("the view is %d bytes, more than %d: not cached", len(data), MAX_BYTES)
        forget(owner)  # an older view would open a place the user has left
        return False
    try:
        blob = crypto.encrypt(data, context=_context(owner))
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path_for(owner), blob)
        _legacy_path(owner).unlink(missing_ok=True)
    except (OSError, crypto.CryptoError):
        log.debug("the view could not be cached", exc_info=True)
        return False
    return True


def load(owner: str) -> CachedView | None:
    """``owner``'s last view, or None (none kept, or not usable: logged at debug)."""
    path = path_for(owner)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        log.debug("the cached view %s cannot be read", path, exc_info=True)
        return None
    if len(blob) > MAX_BYTES + 1024:
        log.debug("the cached view %s is too big; ignored", path)
        return None
    try:
        data = crypto.decrypt(blob, context=_context(owner))
    except crypto.CryptoError:
        log.debug("the cached view %s cannot be opened; ignored", path, exc_info=True)
        return None
    view = CachedView.from_json(data)
    if view is None:
        log.debug("the cached view %s has another format or is damaged; ignored", path)
    return view


def forget(owner: str) -> None:
    """Remove ``owner``'s cached view, if any."""
    try:
        path_for(owner).unlink(missing_ok=True)
    except OSError:
        log.debug("the cached view could not be removed", exc_info=True)


def forget_at(where: str) -> int:
    """Remove every user's cached view of the database at ``where`` (a ``location``), e.g.
    once that database is deleted; how many were removed."""
    removed = 0
    for path in cache_dir().glob(f"{_hash(where)[:16]}-*.bin"):
        try:
            path.unlink()
            removed += 1
        except OSError:
            log.debug("the cached view %s could not be removed", path, exc_info=True)
    return removed
