"""The Configuration tab's whole reads: the view of the selected project or environment (on the
first frame when the backend can answer at once: the opening read, or the cached view), the
origins of an environment's values for the detail line, and the app told which live rows are on
screen. A teammate's change re-reads only the keys it touched (``config_live``). Mixed into
``ConfigurationPane``."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

from textual import work
from textual.message import Message

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core.models import EffectiveConfigRow
from devsync_tui.core.required import required_keys
from devsync_tui.dashboard.messages import ViewSeen
from devsync_tui.dashboard.panes.config_actions import ConfigView
from devsync_tui.dashboard.panes.config_live import Missing
from devsync_tui.dashboard.panes.config_required import missing_line, read_missing
from devsync_tui.dashboard.session import Access, Selection, Session
from devsync_tui.dashboard.workspace import read_rows

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import Static

    from devsync_tui.dashboard.widgets.filter_table import FilterableTable

log = logging.getLogger("devsync.ui")


class ConfigLoaded(Message):
    def __init__(
        self, view: ConfigView, flash: frozenset[str], missing: Missing, load: int = 0
    ) -> None:
        super().__init__()
        self.view = view
        self.flash = flash
        self.missing = missing
        self.load = load  # which whole read this answers (``ConfigurationPane.load``)


class ViewLoading:
    """Whole reads of the shown view, the newest one answering (``_load``)."""

    if TYPE_CHECKING:
        app: App[Any]
        session: Session | None
        view: ConfigView | None
        _defaults: dict[UUID, EffectiveConfigRow]
        _templates: dict[UUID, tuple[str, frozenset[str]]]
        _required: dict[UUID, frozenset[str]]
        _pending_key: str | None
        _missing: Missing
        _load: int
        _loading: bool
        _key_reads: dict[str, int]

        @property
        def access(self) -> Access | None: ...
        @property
        def rows_table(self) -> FilterableTable: ...
        @property
        def required_line(self) -> Static: ...

        def post_message(self, message: Message) -> bool: ...
        def refresh_bindings(self) -> None: ...
        def rights_changed(self, access: Access | None = None) -> None: ...
        def go_to_key(self, key: str) -> None: ...
        def _mask_all(self) -> None: ...
        def _hint(self, text: str) -> None: ...
        def _show_rows(self) -> None: ...
        def _update_detail(self) -> None: ...

    def show(self, session: Session, selection: Selection) -> None:
        """Show the configuration of the selected project or environment."""
        rights = self.access
        self.session = session
        self._key_reads.clear()  # what they read is read again here
        same = (
            self.view is not None
            and self.view.selection.project == selection.project
            and self.view.selection.environment == selection.environment
        )
        if not same:
            self._mask_all()
            self.required_line.display = False
        elif rights != Access.of(session, selection):
            # A new role, a membership or an environment's owner changed: what was revealed
            # under the old rights is dropped at once (PERMISSIONS.md), here and in History.
            self.rights_changed(Access.of(session, selection))
        if selection.project is None:
            self.view = None
            self.rows_table.set_rows([])
            self._hint("Select a project or an environment to see its configuration.")
            self._update_detail()  # nothing selected: no detail left from a project
            self.refresh_bindings()
            self.rows_table.table.refresh_bindings()
            return
        if not same:
            self.view = ConfigView(selection, ())
            self.rows_table.set_rows([])
            self._hint("Loading…")
        else:
            assert self.view is not None
            self.view = ConfigView(selection, self.view.rows)
        answer_now = getattr(session.backend, "answer_now", None)
        answered = answer_now(partial(_first_view, selection=selection)) if answer_now else None
        if answered is not None:  # the opening read (or the cached view): on the first frame
            rows, missing = answered
            self._load += 1
            self._loading = True
            view = ConfigView(selection, rows)
            self.on_config_loaded(ConfigLoaded(view, frozenset(), missing, self._load))
            return
        self.load(selection, frozenset())

    def load(self, selection: Selection, flash: frozenset[str]) -> None:
        """Read the whole view again (then flash ``flash``); keyed reads still to come are
        dropped, this one answers for them."""
        self._load += 1
        self._loading = True
        self._key_reads.clear()
        self._read_view(selection, flash, self._load)

    @work(exclusive=True, group="config-load", exit_on_error=False)
    async def _read_view(self, selection: Selection, flash: frozenset[str], load: int) -> None:
        session = self.session
        if session is None or selection.project is None:
            return
        rows, missing = await _first_view(session.backend, selection)
        self.post_message(ConfigLoaded(ConfigView(selection, rows), flash, missing, load))

    def _shows(self, selection: Selection) -> bool:
        """True when ``selection`` is the scope shown (a read for another one is dropped)."""
        current = self.view
        return (
            current is not None
            and current.selection.project == selection.project
            and current.selection.environment == selection.environment
        )

    def on_config_loaded(self, message: ConfigLoaded) -> None:
        if not self._shows(message.view.selection):
            return
        if message.load == self._load:
            self._loading = False
        self.view = message.view
        self._missing = message.missing
        required = self.required_line
        required.update(missing_line(*message.missing) if message.missing[0] else "")
        required.display = bool(message.missing[0])
        self._show_rows()
        if message.view.selection.environment is not None:
            self._load_origins(message.view.selection)
        pending, self._pending_key = self._pending_key, None
        if pending is not None and any(r.key == pending for r in message.view.rows):
            self.go_to_key(pending)
        self.refresh_bindings()
        self.rows_table.table.refresh_bindings()
        if message.flash:
            self.rows_table.flash(message.flash)
        self._seen(message.view)

    def _seen(self, view: ConfigView) -> None:
        """Live rows are on screen: tell the app (it keeps them as the cached last view; the
        screen stops what bubbles up to it)."""
        selection = view.selection
        if self.session is None or self.session.cached or selection.project is None:
            return
        environment = selection.environment
        self.app.post_message(
            ViewSeen(
                selection.project.id,
                environment.id if environment is not None else None,
                view.rows,
                self._missing,
                environment.template_id if environment is not None else None,
            )
        )

    @work(exclusive=True, group="config-origin", exit_on_error=False)
    async def _load_origins(self, selection: Selection) -> None:
        """An environment's project defaults (what its overrides replace) and its template's
        name and keys, for the detail line."""
        session = self.session
        env, project = selection.environment, selection.project
        if session is None or env is None or project is None:
            return
        try:
            defaults = await session.backend.project_configuration(project.id)
            templates = await session.backend.list_templates(project.id) if env.template_id else []
        except DevSyncError:
            log.info("origins of %s not read", env.id, exc_info=True)
            return
        self._defaults = {r.configuration_id: r for r in defaults}
        self._templates = {t.id: (t.name, frozenset(t.config_json)) for t in templates}
        self._required = {t.id: frozenset(required_keys(t.config_json)) for t in templates}
        self._update_detail()


async def _first_view(
    backend: Backend, selection: Selection
) -> tuple[tuple[EffectiveConfigRow, ...], Missing]:
    """A scope's rows and the required keys it lacks (with its template's name)."""
    assert selection.project is not None
    environment_id = selection.environment.id if selection.environment else None
    rows = await read_rows(backend, selection.project.id, environment_id)
    return rows, await read_missing(backend, selection, rows)
