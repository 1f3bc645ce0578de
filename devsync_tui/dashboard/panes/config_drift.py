"""The Config drift tab: keys × the project's machines, what each machine reported it runs
(``devsync env status``, the agent), loaded in a worker and kept live by the change feed.

One load serves three views: this matrix, the tree's mark on machines with drift, and the
Configuration tab's mark on keys whose machine copy differs (``ConfigDriftSeen``, handled by
the main screen).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from devsync_tui.backend.base import Backend, ChangeEvent, FeedEvent, Resync
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core.config_matrix import ConfigDriftMatrix, ConfigDriftRow, build_config_matrix
from devsync_tui.core.config_states import ConfigState
from devsync_tui.core.models import Environment, Project
from devsync_tui.core.wording import count
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.messages import ConfigDriftSeen
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.panes.when_shown import focus_if_lost
from devsync_tui.dashboard.screens.config_drift_detail import ConfigKeyDetailScreen
from devsync_tui.dashboard.widgets.config_drift_matrix import ConfigDriftTable, legend_text
from devsync_tui.dashboard.widgets.virtual_table import FilterInput

#: Feed bursts within this many seconds become one reload.
COALESCE_SECONDS = 0.1

log = logging.getLogger("devsync.ui")


def with_keys(matrix: ConfigDriftMatrix, keys: Collection[str]) -> ConfigDriftMatrix:
    """``matrix`` with a row for each of the project's ``keys`` no machine reported (a key
    added since the last reports): no machine has reported it yet, every cell says so."""
    reported = {row.key for row in matrix.rows}
    missing = [key for key in keys if key not in reported]
    if not missing:
        return matrix
    empty = (None,) * len(matrix.environment_ids)
    rows = [*matrix.rows, *(ConfigDriftRow(key, empty) for key in missing)]
    return ConfigDriftMatrix(matrix.environment_ids, tuple(sorted(rows, key=lambda r: r.key)))


def status_text(matrix: ConfigDriftMatrix, shown: int, *, drifted_only: bool = False) -> str:
    """The line under the matrix: keys (shown of all), drifted keys, machines that drift; or,
    before any machine reported, that none has."""
    total = len(matrix.rows)
    machines = count(len(matrix.environment_ids), "machine")
    keys = count(total, "key") if shown == total else f"{shown} of {count(total, 'key')}"
    if not matrix.reported():
        return f"{keys} · none of {machines} has reported yet"
    drifted = sum(1 for row in matrix.rows if row.drifted)
    parts = [
        keys,
        f"{drifted} drifted",
        f"{len(matrix.drifted_environments())} of {machines} drift",
    ]
    if drifted_only:
        parts.append("drifted only")
    return " · ".join(parts)


class ConfigStatesLoaded(Message):
    """A worker read a project's states."""

    bubble = False

    def __init__(
        self,
        project_id: UUID,
        states: list[ConfigState],
        matrix: ConfigDriftMatrix,
        keys: frozenset[str] | None = None,
    ):
        super().__init__()
        self.project_id = project_id
        self.states = states
        self.matrix = matrix
        self.keys = keys


class ConfigDriftPane(Widget):
    """Keys × machines, filterable, drifted-only, with a key detail."""

    BINDINGS = cmd.bindings(cmd.CFGDRIFT_FILTER, cmd.CFGDRIFT_DRIFTED, cmd.CFGDRIFT_CLEAR)

    DEFAULT_CSS = """
    ConfigDriftPane {
        height: 1fr;
        layout: vertical;
        #cfgdrift-filter { height: 3; }
        #cfgdrift-status { height: 1; color: $text-muted; padding: 0 1; }
        #cfgdrift-legend { height: auto; color: $text-muted; padding: 0 1; }
        #cfgdrift-message { height: auto; padding: 1 2; color: $text-muted; display: none; }
        &.-message #cfgdrift-message { display: block; }
        &.-message ConfigDriftTable { display: none; }
    }
    """

    drifted_only: var[bool] = var(False)

    def __init__(self, backend: Backend | None, **widget_kwargs: object) -> None:
        super().__init__(**widget_kwargs)  # type: ignore[arg-type]
        self.backend = backend
        self.project: Project | None = None
        self.environments: list[Environment] = []
        self.focus_env: UUID | None = None
        #: The machine the tree chose last: the cursor goes to its column when that changes
        #: only (a reload or the same selection again leaves the cursor where the user put it).
        self._tree_focus: UUID | None = None
        #: The project's configuration keys (None: not read yet, or not readable).
        self.keys: frozenset[str] | None = None
        self.matrix: ConfigDriftMatrix | None = None
        self.states: list[ConfigState] = []
        self._reload_timer: Timer | None = None
        #: Machines whose states changed since the last load (None: reload everything).
        self._changed: set[UUID] | None = set()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield FilterInput("Filter keys…", id="cfgdrift-filter")
            yield Static("", id="cfgdrift-message")
            yield ConfigDriftTable(id="cfgdrift-table")
            yield Static("", id="cfgdrift-status")
            yield Static(legend_text(), id="cfgdrift-legend")

    def on_resize(self, event: Resize) -> None:
        self.query_one("#cfgdrift-legend", Static).update(legend_text(event.size.width - 2))

    @property
    def table(self) -> ConfigDriftTable:
        return self.query_one(ConfigDriftTable)

    # -- the interface the app uses ------------------------------------------------------------
    def show(
        self,
        project: Project,
        environments: Sequence[Environment],
        focus_env: UUID | None = None,
    ) -> None:
        same = self.project is not None and self.project.id == project.id
        same_envs = [e.id for e in environments] == [e.id for e in self.environments]
        self.environments = list(environments)
        moved, self._tree_focus = focus_env != self._tree_focus, focus_env
        self.focus_env = focus_env if moved or not same else None
        if same and same_envs and self.matrix is not None:
            self._focus_column(self.focus_env)
            self.focus_env = None
            return
        if not same:
            self.matrix = None
            self.states = []
            self.keys = None
            self._set_message("Loading configuration states…")
        self.project = project
        self._load()

    def show_nothing(self, text: str) -> None:
        self.project = None
        self.environments = []
        self.matrix = None
        self.states = []
        self._set_message(text)

    def apply_changes(self, events: Sequence[FeedEvent]) -> None:
        if self.project is None:
            return
        relevant = False
        for e in events:
            if isinstance(e, Resync):
                self._changed, relevant = None, True
            elif isinstance(e, ChangeEvent) and e.project_id == self.project.id:
                if e.table == "environments":
                    self._changed, relevant = None, True
                elif e.table == "configurations":  # a key added or deleted: its row
                    self.keys, relevant = None, True
                elif e.table == "machine_config_states":
                    relevant = True
                    if self._changed is not None and e.environment_id is not None:
                        self._changed.add(e.environment_id)
                    else:
                        self._changed = None
        if relevant and self._reload_timer is None:
            self._reload_timer = self.set_timer(COALESCE_SECONDS, self._reload_now)

    def _reload_now(self) -> None:
        """A machine's report re-reads that machine's states only; anything else, all."""
        self._reload_timer = None
        changed, self._changed = self._changed, set()
        self._load(changed if changed and self.matrix is not None else None)

    # -- loading -------------------------------------------------------------------------------
    @work(exclusive=True, group="cfgdrift", exit_on_error=False)
    async def _load(self, only: set[UUID] | None = None) -> None:
        project, backend = self.project, self.backend
        if project is None or backend is None:
            return
        env_ids = [env.id for env in self.environments]
        if only:
            fresh = await backend.config_states(project.id, sorted(only, key=str))
            states = [s for s in self.states if s.environment_id not in only] + fresh
        else:
            states = await backend.config_states(project.id)
        keys = self.keys
        if keys is None:
            keys = await self._project_keys(backend, project.id, env_ids)
        matrix = await asyncio.to_thread(build_config_matrix, states, env_ids)
        matrix = with_keys(matrix, keys or ())
        self.post_message(ConfigStatesLoaded(project.id, states, matrix, keys))

    @staticmethod
    async def _project_keys(
        backend: Backend, project_id: UUID, env_ids: Sequence[UUID]
    ) -> frozenset[str] | None:
        """The keys configured for the project's defaults or one of these machines (None:
        not readable now, e.g. a cached view: the reported keys are shown alone)."""
        try:
            found = await backend.project_keys(project_id)
        except DevSyncError as exc:
            log.info("the project's keys could not be read for Config drift: %s", exc)
            return None
        shown = set(env_ids)
        return frozenset(key for env_id, key in found if env_id is None or env_id in shown)

    @on(ConfigStatesLoaded)
    def _loaded(self, message: ConfigStatesLoaded) -> None:
        if self.project is None or message.project_id != self.project.id:
            return
        previous = self.matrix
        self.matrix = message.matrix
        self.states = message.states
        self.keys = message.keys
        if message.matrix.reported():
            self._set_message(None)
        else:
            self._set_message(
                "No machine of this project has reported its configuration yet. Run "
                "`devsync env status` in a linked checkout, or `devsync agent`."
            )
        self._refresh_rows()
        if previous is not None:
            self.table.flash(_changed_keys(previous, message.matrix))
        self.post_message(
            ConfigDriftSeen(message.project_id, message.matrix.environment_ids, message.states)
        )

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "cfgdrift" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self._set_message(load_failure(self, "the configuration states", error))

    def _set_message(self, text: str | None) -> None:
        self.query_one("#cfgdrift-message", Static).update(text or "")
        self.set_class(text is not None, "-message")
        if text is None:
            focus_if_lost(self, self.table)

    def _refresh_rows(self) -> None:
        matrix = self.matrix
        if matrix is None:
            return
        view = matrix.drifted() if self.drifted_only else matrix
        names = {env.id: env.name for env in self.environments}
        self.table.set_matrix(matrix, view.rows, names)
        self._focus_column(self.focus_env)
        self.focus_env = None
        self._update_status()

    def _focus_column(self, env_id: UUID | None) -> None:
        matrix = self.matrix
        if env_id is not None and matrix is not None and env_id in matrix.environment_ids:
            self.table.cursor_column = 1 + matrix.environment_ids.index(env_id)

    def _update_status(self) -> None:
        matrix = self.matrix
        if matrix is None:
            return
        text = status_text(matrix, len(self.table.rows), drifted_only=self.drifted_only)
        self.query_one("#cfgdrift-status", Static).update(text)

    # -- keys ------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    @on(Input.Changed, "#cfgdrift-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter(event.value)
        self._update_status()

    @on(Input.Submitted, "#cfgdrift-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_toggle_drifted(self) -> None:
        self.drifted_only = not self.drifted_only

    def watch_drifted_only(self) -> None:
        self._refresh_rows()
        self.refresh_bindings()  # esc clears it: offered while there is something to clear

    def action_clear(self) -> None:
        self.query_one(FilterInput).close()
        self.table.filter("")
        self.drifted_only = False
        self._update_status()
        self.table.focus()
        self.refresh_bindings()  # nothing left to clear: esc is no longer offered

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear":
            filtering = self.query_one(FilterInput).display
            return filtering or self.drifted_only or bool(self.table.filter_text)
        return True

    @on(ConfigDriftTable.RowSelected)
    def _row_selected(self, event: ConfigDriftTable.RowSelected) -> None:
        event.stop()
        matrix = self.matrix
        if matrix is None or not isinstance(event.row, ConfigDriftRow):
            return
        column = self.table.cursor_column - 1
        focus = (
            matrix.environment_ids[column] if 0 <= column < len(matrix.environment_ids) else None
        )
        names = {env.id: env.name for env in self.environments}
        self.app.push_screen(
            ConfigKeyDetailScreen(event.row, matrix.environment_ids, names, focus, self.backend)
        )


def _changed_keys(before: ConfigDriftMatrix, after: ConfigDriftMatrix) -> set[object]:
    if before.environment_ids != after.environment_ids:
        return set()
    old = {row.key: row for row in before.rows}
    return {row.key for row in after.rows if old.get(row.key) != row}
