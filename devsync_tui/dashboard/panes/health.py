"""The Health tab: each environment of a project with status, last sync, ping and CPU /
memory / disk over the last day. Loaded in a worker, kept live by the change feed.

The database averages a day of points into as many slots as a sparkline is wide
(``Backend.health_sparklines``: an array of a few dozen numbers per metric, not thousands of
points) and gives the newest reading per metric (``Backend.health_latest``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from devsync_tui.backend.base import Backend, ChangeEvent, FeedEvent, Resync
from devsync_tui.core import clock
from devsync_tui.core.models import (
    Environment,
    EnvStatus,
    HealthCheck,
    HealthSlots,
    MetricType,
    Project,
)
from devsync_tui.core.staleness import STALE, shown_status
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.panes.when_shown import ReadWhenShown, focus_if_lost
from devsync_tui.dashboard.widgets.health_series import EnvHealth, sparkline_window, summarize
from devsync_tui.dashboard.widgets.health_table import STALE_SYMBOL, STATUS_SYMBOLS, HealthTable
from devsync_tui.dashboard.widgets.virtual_table import FilterInput, VirtualTable

#: Feed bursts (an agent reports a batch per environment) within this window: one reload.
COALESCE_SECONDS = 0.5
#: The first read: the environments whose rows are on screen and as many again below (at least
#: this many), then per read the rest at once up to the RPC's limit. At 500 machines the rest
#: takes ~0.3-0.5 s (bench_health_pane.py --points 50m): reading the first 12 in the list first,
#: a screen of ~35 rows waited for it.
FIRST_BATCH = 12
BATCH = 500
#: "3 min ago" moves on by itself.
TICK_SECONDS = 30.0


class HealthLoaded(Message):
    """A worker read a project's health series."""

    #: Only the pane that loaded it cares.
    bubble = False

    def __init__(self, project_id: UUID, rows: list[EnvHealth], *, final: bool = False) -> None:
        super().__init__()
        self.project_id = project_id
        #: Rows of the environments this message covers (the others keep theirs).
        self.rows = rows
        #: True for the last message of a load.
        self.final = final


def _status_rank(row: EnvHealth) -> int:
    env = row.environment
    shown = shown_status(EnvStatus(env.status), env.last_sync_at, clock.now())
    return _SEVERITY.index(shown) if shown in _SEVERITY else len(_SEVERITY)


def _highest(metric: MetricType) -> Callable[[EnvHealth], tuple[bool, float]]:
    def key(row: EnvHealth) -> tuple[bool, float]:
        value = row.latest(metric)
        return (value is None, -(value or 0.0))  # no data last

    return key


_SEVERITY = ("error", STALE, "offline", "syncing", "active")
_NEVER = datetime.min.replace(tzinfo=UTC)

#: The orders `s` steps through: (name, key).
SORTS: tuple[tuple[str, Callable[[EnvHealth], Any]], ...] = (
    ("name", lambda row: row.environment.name.lower()),
    ("status (worst first)", _status_rank),
    ("last report (oldest first)", lambda row: row.environment.last_sync_at or _NEVER),
    ("cpu", _highest(MetricType.CPU)),
    ("memory", _highest(MetricType.MEMORY)),
    ("disk", _highest(MetricType.DISK)),
    ("ping", _highest(MetricType.PING)),
)


class HealthPane(Widget):
    """Environments' status and metrics for one project."""

    BINDINGS = cmd.bindings(cmd.HEALTH_FILTER, cmd.HEALTH_CLEAR, cmd.HEALTH_SORT)

    DEFAULT_CSS = """
    HealthPane {
        height: 1fr;
        layout: vertical;
        #health-filter { height: 3; }
        #health-message { height: auto; padding: 1 2; color: $text-muted; display: none; }
        &.-message #health-message { display: block; }
        &.-message HealthTable { display: none; }
        #health-status { height: 1; color: $text-muted; padding: 0 1; }
    }
    """

    def __init__(self, backend: Backend | None, **widget_kwargs: object) -> None:
        super().__init__(**widget_kwargs)  # type: ignore[arg-type]
        #: May be set after construction (the app connects after composing its screens).
        self.backend = backend
        self.project: Project | None = None
        self.environments: list[Environment] = []
        self.rows: list[EnvHealth] = []
        self._reload_timer: Timer | None = None
        self._focus_env: UUID | None = None
        #: The last load failed: the next show() reads again.
        self._failed = False
        #: Feed changes waiting for the coalescing timer: some environments, or everything.
        self._pending: set[UUID] = set()
        self._pending_all = False
        self._loading_all = False
        #: True once the series of every environment were read (tests wait on it).
        self.series_loaded = False
        #: The slots per sparkline of the last read (None before any).
        self._slots: int | None = None
        #: Which of ``SORTS`` orders the rows (`s` moves to the next).
        self.sort_index = 0
        #: Reads wait until the Health tab is shown (a hidden tab reads nothing).
        self.reads = ReadWhenShown(self, self._load)

    def compose(self) -> ComposeResult:
        yield FilterInput("Filter environments…", id="health-filter")
        yield Static("", id="health-message")
        yield HealthTable(id="health-table")
        yield Static("", id="health-status")

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self.table.refresh, name="health-tick")

    @property
    def table(self) -> HealthTable:
        return self.query_one(HealthTable)

    # -- the interface the app uses ------------------------------------------------------------
    def show(
        self,
        project: Project,
        environments: Sequence[Environment],
        focus_env: UUID | None = None,
    ) -> None:
        """Load and show the health of ``environments`` (the cursor on ``focus_env``). The same
        project and environments again only move the cursor: live changes keep it current."""
        same_envs = [e.id for e in environments] == [e.id for e in self.environments]
        if self.project is not None and self.project.id == project.id:
            if same_envs and self.rows and not self._failed:
                self._focus_row(focus_env)
                return
        else:
            self.rows = []
            self.series_loaded = False
        self.project = project
        self.environments = list(environments)
        self._focus_env = focus_env
        if not self.rows:
            self._set_message("Loading health…")
        self.reads.now_or_when_shown()

    def on_show(self) -> None:
        self.reads.shown()

    @property
    def settled(self) -> bool:
        """The last day is read at the width its sparklines are drawn now: shown, loaded,
        nothing stretched from a read at another width and no read again pending."""
        if not self.series_loaded or not self.table.scrollable_content_region.width:
            return False
        return self._slots == self.table.spark_for([EnvHealth(env) for env in self.environments])

    def show_nothing(self, text: str) -> None:
        """No project is selected: forget the one shown and say what to select."""
        self.project = None
        self.environments = []
        self.rows = []
        self.series_loaded = False
        self._set_message(text)

    def apply_changes(self, events: Sequence[FeedEvent]) -> None:
        """Environment status changes apply at once; new health points and resyncs schedule
        one reload per burst."""
        if self.project is None:
            return
        env_ids = {env.id for env in self.environments}
        before = (self._pending_all, len(self._pending))
        for event in events:
            if isinstance(event, Resync):
                self._pending_all = True
            elif not isinstance(event, ChangeEvent):
                continue
            elif event.table == "environments" and event.project_id == self.project.id:
                self._apply_environment_change(event)
            elif event.table == "health_checks":
                # Points of one machine: re-read only that machine's day, not the project's.
                if event.environment_id in env_ids:
                    self._pending.add(event.environment_id)
                elif event.environment_id is None and event.project_id == self.project.id:
                    self._pending_all = True
        changed = before != (self._pending_all, len(self._pending))
        if changed and self._reload_timer is None:
            self._reload_timer = self.set_timer(COALESCE_SECONDS, self._reload_now)

    def _apply_environment_change(self, event: ChangeEvent) -> None:
        old_ids = [str(env.id) for env in self.environments]
        envs = [env for env in self.environments if str(env.id) != event.id]
        if event.op != "DELETE" and isinstance(event.row, Environment):
            position = old_ids.index(event.id) if event.id in old_ids else len(envs)
            envs.insert(position, event.row)
        self.environments = envs
        by_id = {row.environment.id: row for row in self.rows}
        self.rows = [
            EnvHealth(env, by_id[env.id].series, by_id[env.id].newest)
            if env.id in by_id
            else EnvHealth(env)
            for env in envs
        ]
        self._show_rows(flash={env.id for env in envs if str(env.id) == event.id})

    @on(HealthTable.SparkWidthChanged)
    def _spark_width_changed(self) -> None:
        """Read the slots again at the new width (a resize drag is one reload)."""
        # Before the first read picked its width there is nothing to read again.
        if self.project is None or self._slots in (None, self.table.spark_slots):
            return
        # Drawn stretched until then: not "loaded" at this width yet (the status says so).
        self.series_loaded = False
        self._pending_all = True
        if self._reload_timer is None:
            self._reload_timer = self.set_timer(COALESCE_SECONDS, self._reload_now)

    def _reload_now(self) -> None:
        self._reload_timer = None
        # A full load in flight would be cancelled by this one: then this one is full too.
        everything = self._pending_all or self._loading_all
        only = None if everything else frozenset(self._pending)
        self._pending_all, self._pending = False, set()
        self.reads.now_or_when_shown(lambda: self._load(only))

    # -- loading -------------------------------------------------------------------------------
    @work(exclusive=True, group="health", exit_on_error=False)
    async def _load(self, only: frozenset[UUID] | None = None) -> None:
        project, backend = self.project, self.backend
        if project is None or backend is None:
            return
        self._loading_all = only is None
        environments = [env for env in self.environments if only is None or env.id in only]
        if not self.rows:
            # Status and last sync need no read: show every environment at once.
            self.post_message(HealthLoaded(project.id, summarize(environments, [])))
        # As many slots as the sparklines are wide, so what the database averaged is what is
        # drawn; the window's ends and slot length are whole 12-minute cells where that stays
        # near a day (sparkline_window), which the database reads from its roll-up.
        slots = await self._spark_slots()
        since, end = sparkline_window(clock.now(), slots)
        # The machines whose rows are on screen first, then the rest in batches, each shown as
        # it arrives.
        first, rest = self._on_screen_first(environments)
        batches = [first] if first else []
        batches += [rest[i : i + BATCH] for i in range(0, len(rest), BATCH)]
        for index, batch in enumerate(batches or [[]]):
            ids = [env.id for env in batch]
            series: list[HealthSlots] = []
            latest: list[HealthCheck] = []
            if ids:
                # Both reads at once (each on a connection or request of its own).
                series, latest = await asyncio.gather(
                    backend.health_sparklines(ids, since, slots, until=end),
                    backend.health_latest(ids, since),
                )
            rows = summarize(batch, series, latest, start=since, end=end, slots=slots)
            final = index >= len(batches) - 1
            self.post_message(HealthLoaded(project.id, rows, final=final))

    def _on_screen_first(
        self, environments: list[Environment]
    ) -> tuple[list[Environment], list[Environment]]:
        """``environments`` split into those whose rows are on screen (in the table's order,
        filtered and scrolled as shown) and a screen's height below them, at least
        ``FIRST_BATCH``, and the others, in their order."""
        table = self.table
        height = max(FIRST_BATCH, table.scrollable_content_region.height)
        shown: Sequence[EnvHealth] = table.rows
        top = int(table.scroll_y)
        if not table.all_rows:
            # The first load's rows are posted but not in the table yet: they will show from
            # the top in this order.
            shown = sorted((EnvHealth(env) for env in environments), key=SORTS[self.sort_index][1])
            top = 0
        near = {row.environment.id for row in shown[top : top + 2 * height]}
        first = [env for env in environments if env.id in near]
        if not first:
            return environments[:FIRST_BATCH], environments[FIRST_BATCH:]
        return first, [env for env in environments if env.id not in near]

    async def _spark_slots(self) -> int:
        """The sparklines' width once the table is laid out: the rows just posted show it
        (hidden while "Loading health…" is up). Reads wait for the tab to be shown
        (``ReadWhenShown``), so this is the width drawn; a resize reads again
        (SparkWidthChanged)."""
        for _ in range(50):
            if self.table.scrollable_content_region.width:
                break
            await asyncio.sleep(0.02)
        self._slots = self.table.spark_for([EnvHealth(env) for env in self.environments])
        return self._slots

    @on(HealthLoaded)
    def _loaded(self, message: HealthLoaded) -> None:
        if self.project is None or message.project_id != self.project.id:
            return
        if message.final:
            self._loading_all = False
            self.series_loaded = True
            self._failed = False
        # Environments may have changed while loading: keep the current list and its order;
        # environments this message does not cover keep what they had.
        by_id = {row.environment.id: row for row in self.rows}
        by_id.update((row.environment.id, row) for row in message.rows)
        self.rows = [
            EnvHealth(env, by_id[env.id].series, by_id[env.id].newest)
            if env.id in by_id
            else EnvHealth(env)
            for env in self.environments
        ]
        self._set_message(None)
        self._show_rows()
        self._focus_row(self._focus_env)
        if message.final:
            self._focus_env = None

    def _focus_row(self, env_id: UUID | None) -> None:
        if env_id is None:
            return
        for index, row in enumerate(self.table.rows):
            if row.environment.id == env_id:
                self.table.cursor_row = index

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "health" or event.state != WorkerState.ERROR:
            return
        self._loading_all = False
        self._failed = True
        error = event.worker.error
        self._set_message(load_failure(self, "the health data", error))
        self.log.error("health load failed", error=repr(error))

    def _set_message(self, text: str | None) -> None:
        self.query_one("#health-message", Static).update(text or "")
        self.set_class(text is not None, "-message")
        if text is None:
            focus_if_lost(self, self.table)

    def _show_rows(self, flash: set[UUID] | None = None) -> None:
        name, order = SORTS[self.sort_index]
        self.table.show_rows(sorted(self.rows, key=order))
        if flash:
            self.table.flash(flash)
        counts: dict[str, int] = {}
        now = clock.now()
        for row in self.rows:
            env = row.environment
            shown = shown_status(EnvStatus(env.status), env.last_sync_at, now)
            counts[shown] = counts.get(shown, 0) + 1
        symbols = {status.value: symbol for status, symbol in STATUS_SYMBOLS.items()}
        symbols[STALE] = STALE_SYMBOL
        count = len(self.rows)
        parts = [f"{count} environment{'' if count == 1 else 's'}"] + [
            f"{symbol} {counts[state]} {state}"
            for state, symbol in symbols.items()
            if counts.get(state)
        ]
        if self.sort_index:
            parts.append(f"sorted by {name}")
        if not self.series_loaded:
            parts.append("reading the last day…")
        self.query_one("#health-status", Static).update(" · ".join(parts))

    # -- keys ------------------------------------------------------------------------------------
    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._show_rows()  # the status line says the order

    @on(VirtualTable.RowSelected, "#health-table")
    def _row_chosen(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        row = event.row
        if self.backend is not None and isinstance(row, EnvHealth):
            from devsync_tui.dashboard.screens.machine_detail import MachineDetailScreen

            self.app.push_screen(MachineDetailScreen(self.backend, row))

    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    @on(Input.Changed, "#health-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter(event.value)

    @on(Input.Submitted, "#health-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_clear(self) -> None:
        self.query_one(FilterInput).close()
        self.table.filter("")
        self.table.focus()
        self.refresh_bindings()  # nothing left to clear: esc is no longer offered

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear":
            return self.query_one(FilterInput).display or bool(self.table.filter_text)
        return True
