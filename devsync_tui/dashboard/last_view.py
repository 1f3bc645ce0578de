"""The dashboard's side of the cached last view (``core.view_cache``): whose cache a start
reads, the opening it makes of one, and the cache made of a view on screen.

Imports no UI: ``launch`` reads the cache before Textual is imported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit
from uuid import UUID

from devsync_tui.backend.cached import CachedBackend
from devsync_tui.backend.opening import (
    Opening,
    opening_from_document,
    places_from_document,
    view_document,
)
from devsync_tui.core import clock, view_cache
from devsync_tui.core.models import EffectiveConfigRow, EnvTemplate
from devsync_tui.core.targets import resolve_target
from devsync_tui.core.view_cache import CachedView, ScreenFrame
from devsync_tui.dashboard.workspace import WorkspaceData, tree_document
from devsync_tui.settings import LocalProfile, Settings, SettingsError, SupabaseProfile

log = logging.getLogger("devsync.view_cache")


def owner(settings: Settings, *, profile: str | None, user: str | None) -> str | None:
    """Whose cache this start reads and writes: the profile and the user it signs in as.
    None where no cache applies (an unknown profile, which the start reports; a Supabase
    profile without a stored session, which must sign in first)."""
    try:
        name, chosen = settings.profile(profile)
    except SettingsError:
        return None
    if isinstance(chosen, LocalProfile):
        # The server it connects to; the embedded one is told apart by its data directory
        # (DEVSYNC_DATA_DIR: another workspace, another cache).
        conninfo = chosen.conninfo()
        where = view_cache.location(conninfo) if conninfo else view_cache.embedded_location()
        return view_cache.owner_key(name, "local", where, user or chosen.user or "")
    if isinstance(chosen, SupabaseProfile):
        user_id = _stored_user(chosen.url)
        if user_id is None:
            return None
        where = view_cache.location(chosen.url.rstrip("/"))
        return view_cache.owner_key(name, "supabase", where, user_id)
    return None


def _stored_user(url: str) -> str | None:
    """The user id of the session stored for this Supabase project (read locally only)."""
    from devsync_tui.backend.supabase import auth, session_store

    try:
        stored = auth.stored_session(
            session_store.peek(auth.storage_namespace(url), auth.SESSION_KEY)
        )
    except Exception:  # an unusable store means "no session": the start says what to do
        log.debug("no stored session readable for the cached view", exc_info=True)
        return None
    user = stored.get("user") if stored is not None else None
    found = user.get("id") if isinstance(user, dict) else None
    return str(found) if found else None


def load(cache_owner: str | None) -> CachedView | None:
    """The owner's cached view (None: none, or not usable)."""
    return view_cache.load(cache_owner) if cache_owner is not None else None


class Reading:
    """The owner's cached view, read in a thread while the UI is imported (the local key
    store alone takes ~0.07 s where it has to import ``keyring``); ``result`` waits for it.
    ``then`` is called with it in that thread (None: none, or not readable), e.g. to replay
    its recorded frame at once."""

    def __init__(
        self, cache_owner: str | None, then: Callable[[CachedView | None], None] | None = None
    ) -> None:
        self._owner = cache_owner
        self._then = then
        self._view: CachedView | None = None
        self._thread = threading.Thread(target=self._read, name="devsync-last-view", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._view = load(self._owner)
        except Exception:  # never a crash: no cache
            log.debug("the cached view could not be read", exc_info=True)
        if self._then is not None:
            self._then(self._view)

    def result(self) -> CachedView | None:
        self._thread.join()
        return self._view


#: How long a read ahead held for the cached frame waits for it at most (seconds).
FRAME_WAIT = 1.0

#: Reads an opening for (project, environment): the opening and the label of its backend.
OpeningRead = Callable[[str | None, str | None], tuple[Opening, str]]


class Prefetch:
    """The opening read (``open_workspace``, as the user the app signs in as) in a thread
    while the UI is imported — waiting on the database costs the UI nothing. It is the first
    frame of a first start, and replaces a cached view before the app is connected.

    On a Supabase profile one plain HTTP request (supabase-py, ~0.35 s to import, is not
    needed for it; nothing is asked when the stored session has expired: the app refreshes
    it). On a local profile psycopg, over the embedded database only when it already runs
    (never started here), or the profile's database URL. Any failure: no opening (logged at
    debug), the app connects the ordinary way and says why."""

    def __init__(
        self,
        kind: str,
        read: OpeningRead,
        project: str | None,
        environment: str | None,
        reading: Reading,
        *,
        after_cached_frame: bool = False,
        replayed: Callable[[], bool] = lambda: False,
    ) -> None:
        """``kind``: the transport (``local``/``supabase``); ``reading``: the cached view
        being read (where it was open is read ahead). ``after_cached_frame``: where a cached
        view exists, the read waits until it is on screen (``frame_shown``) — the local read
        imports the database driver (~0.15 s of CPU under the UI's GIL), which would delay
        the cached frame as much as the app's own connecting would (it waits for it too).
        ``replayed``: whether the cached view's recorded frame is already on the terminal
        (asked once the cached view is read): then nothing is waited for — the picture the
        user sees is up, and the app's own drawing of it is held back anyway
        (``held_driver``), so the read goes on at once and live data comes sooner."""
        self.kind = kind
        self._after_cached_frame = after_cached_frame
        self._replayed = replayed
        self._shown = threading.Event()
        #: The label of the backend that read it (the stand-in's until connected).
        self.label = kind
        self._read_opening = read
        self._target = (project, environment)
        self._reading = reading
        self._opening: Opening | None = None
        self._thread = threading.Thread(target=self._read, name="devsync-opening", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        project, environment = self._target
        try:
            cached = self._reading.result()
            if cached is not None and project is None and environment is None:
                project, environment = cached.project_id, cached.environment_id  # where it was
            if cached is not None and self._after_cached_frame and not self._replayed():
                self._shown.wait(FRAME_WAIT)
            self._opening, self.label = self._read_opening(project, environment)
        except Exception:  # any failure: the app connects the ordinary way and says why
            log.debug("the opening could not be read ahead", exc_info=True)

    def frame_shown(self) -> None:
        """The app's first view is on screen (a read held for it goes on)."""
        self._shown.set()

    def result(self, wait: float) -> Opening | None:
        """The opening, if it came within ``wait`` seconds (None otherwise)."""
        self._thread.join(wait)
        return None if self._thread.is_alive() else self._opening


def prefetch(
    settings: Settings,
    *,
    profile: str | None,
    project: str | None,
    environment: str | None,
    reading: Reading,
    user: str | None = None,
    replayed: Callable[[], bool] = lambda: False,
) -> Prefetch | None:
    """A ``Prefetch`` for the profile (``user``: a local profile's ``--user``; ``replayed``:
    see ``Prefetch``); None for an unknown profile."""
    try:
        _name, chosen = settings.profile(profile)
    except SettingsError:
        return None
    if isinstance(chosen, SupabaseProfile):
        return Prefetch("supabase", _supabase_read(chosen), project, environment, reading)
    if isinstance(chosen, LocalProfile):
        read = _local_read(chosen, user)
        return Prefetch(
            "local", read, project, environment, reading, after_cached_frame=True,
            replayed=replayed,
        )  # fmt: skip
    return None


def _supabase_read(chosen: SupabaseProfile) -> OpeningRead:
    def read(project: str | None, environment: str | None) -> tuple[Opening, str]:
        from devsync_tui.backend.supabase.opening_request import fetch_opening

        found = fetch_opening(chosen.url, chosen.anon_key, project, environment, timeout=5.0)
        if found is None:
            raise LookupError("no opening read ahead (no usable stored session)")
        return found, urlsplit(chosen.url).hostname or "Supabase"

    return read


def _local_read(chosen: LocalProfile, user: str | None) -> OpeningRead:
    def read(project: str | None, environment: str | None) -> tuple[Opening, str]:
        from devsync_tui.backend.factory import read_local_opening

        return read_local_opening(chosen, user, project, environment, timeout=5.0)

    return read


def opens_here(
    view: CachedView, team: str | None, project: str | None, environment: str | None
) -> bool:
    """Whether a start asked for ``--team``/``--project``/``--env`` (as the dashboard
    resolves them: ``core.targets``) opens the place ``view`` shows; no flags: it does."""
    if not (team or project or environment):
        return True
    if not (project or environment):
        return False  # a team opens on its members
    try:
        teams, projects, environments = places_from_document(view.document)
        key = resolve_target(teams, projects, environments, team, project, environment)
    except Exception:  # a document it cannot read: not the place asked for
        log.debug("the cached view's places cannot be read", exc_info=True)
        return False
    if key is None or key[1] is None:
        return False
    shown = None if key[2] is None else str(key[2])
    return str(key[1]) == view.project_id and shown == view.environment_id


def standing_in(view: CachedView, kind: str) -> tuple[CachedBackend, Opening] | None:
    """A backend answering ``view``'s reads, and its opening (None: the cache's document
    cannot be read as one, e.g. from an older DevSync: ignored)."""
    try:
        opening = opening_from_document(view.document)
    except Exception:  # a damaged cache is no cache (logged), never a crash
        log.debug("the cached view cannot be opened; ignored", exc_info=True)
        return None
    return CachedBackend(view.label, kind, opening.answers, view.age()), opening


def of_view(
    document: dict[str, object] | None,
    label: str,
    project_id: UUID,
    environment_id: UUID | None,
    rows: Sequence[EffectiveConfigRow],
    required: tuple[tuple[str, ...], str | None],
    template_id: UUID | None,
    frame: ScreenFrame | None = None,
    tree: WorkspaceData | None = None,
) -> CachedView | None:
    """The cache of a view on screen: the live opening's ``document`` with the tree as it is
    now (``tree``, the main screen's last read of it: the opening's is as old as the
    connection) and the shown scope's ``rows``, and its template's required keys as far as
    the view knows them (``required``: the missing ones and the template's name — what the
    cached view shows again from the same rows), and the screen recorded with it (``frame``,
    if any). None without a live document."""
    if not document:
        return None
    if tree is not None:
        document = tree_document(document, tree)
    template = None
    missing, template_name = required
    if template_id is not None and template_name is not None:
        template = EnvTemplate(
            id=template_id,
            project_id=project_id,
            name=template_name,
            config_json={key: {"required": True} for key in missing},
        )
    return CachedView(
        document=view_document(document, project_id, environment_id, rows, template),
        project_id=str(project_id),
        environment_id=None if environment_id is None else str(environment_id),
        label=label,
        saved_at=clock.now(),
        frame=frame,
    )
