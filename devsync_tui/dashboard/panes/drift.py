"""The Dependencies tab: a project's drift matrix, loaded in a worker, kept live.

The app mounts one ``DriftPane`` and calls ``show`` whenever the selection changes and
``apply_changes`` with every batch of feed events; the pane decides what concerns it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator, Sequence
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
from devsync_tui.core import clock
from devsync_tui.core.drift import Accepted, DriftMatrix, DriftRow, build_matrix
from devsync_tui.core.drift_columns import replace_columns
from devsync_tui.core.drift_facts import accepted_versions
from devsync_tui.core.models import (
    Dependency,
    DependencyStatus,
    DependencySummary,
    Environment,
    PackageFacts,
    Project,
)
from devsync_tui.core.printable import cells
from devsync_tui.core.wording import count
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.panes.when_shown import ReadWhenShown, focus_if_lost
from devsync_tui.dashboard.screens.drift_detail import PackageDetailScreen
from devsync_tui.dashboard.widgets.drift_matrix import DriftMatrixTable, legend_text, row_key
from devsync_tui.dashboard.widgets.virtual_table import FilterInput

#: Feed bursts within this many seconds become one reload.
COALESCE_SECONDS = 0.25
#: A first load still going after this many seconds shows the packages read so far...
SHOW_FIRST = 0.1
#: ...and then again this often, until it has them all.
SHOW_EVERY = 0.5
#: A first page's rows at most: read and built in ~0.1 s (500 environments' rows of ten
#: packages); the rest of the screen comes in the next page.
QUICK_ROWS = 5_000

#: Environments whose dependency rows changed, with how many changes each.
Stale = dict[UUID, int]


class DriftLoaded(Message):
    """A worker built the matrix of a project."""

    #: Only the pane that loaded it cares.
    bubble = False

    def __init__(
        self,
        project_id: UUID,
        matrix: DriftMatrix | None,
        live: bool,
        *,
        partial: bool = False,
        columns: Stale | None = None,
        base: DriftMatrix | None = None,
    ) -> None:
        super().__init__()
        self.project_id = project_id
        #: None from a column reload that cannot know the result: read everything.
        self.matrix = matrix
        #: True when a live change caused the load: changed rows flash.
        self.live = live
        #: True for the first page of a big first load: the rest is still coming.
        self.partial = partial
        #: A column reload: the changes it read (environment → count) and the matrix it
        #: rebuilt part of (the result only holds if that is still the one shown).
        self.columns = columns
        self.base = base


class SummaryLoaded(Message):
    """The database counted a project's packages (``Backend.dependency_summary``)."""

    bubble = False

    def __init__(
        self, project_id: UUID, environment_ids: tuple[UUID, ...], summary: DependencySummary
    ) -> None:
        super().__init__()
        self.project_id = project_id
        self.environment_ids = environment_ids
        self.summary = summary


class DriftPane(Widget):
    """Packages × (baseline + environments), filterable, sortable, with a package detail."""

    BINDINGS = cmd.bindings(cmd.DRIFT_FILTER, cmd.DRIFT_DRIFTED, cmd.DRIFT_SORT, cmd.DRIFT_CLEAR)

    DEFAULT_CSS = """
    DriftPane {
        height: 1fr;
        layout: vertical;
        #drift-filter { height: 3; }
        #drift-status { height: 1; color: $text-muted; padding: 0 1; }
        #drift-legend { height: auto; color: $text-muted; padding: 0 1; }
        #drift-message { height: auto; padding: 1 2; color: $text-muted; display: none; }
        &.-message #drift-message { display: block; }
        &.-message DriftMatrixTable { display: none; }
    }
    """

    drifted_only: var[bool] = var(False)
    sort_by_severity: var[bool] = var(False)

    def __init__(self, backend: Backend | None, **widget_kwargs: object) -> None:
        super().__init__(**widget_kwargs)  # type: ignore[arg-type]
        #: May be set after construction (the app connects after composing its screens).
        self.backend = backend
        self.project: Project | None = None
        self.environments: list[Environment] = []
        self.focus_env: UUID | None = None
        self.matrix: DriftMatrix | None = None
        #: Whether that matrix has no baseline at all, found once per matrix.
        self._baseline_known: tuple[DriftMatrix | None, bool] = (None, False)
        self._reload_timer: Timer | None = None
        #: Environments whose rows changed since they were read: only their columns are read
        #: again (a machine's report is ~2,000 rows; the project can be a million).
        self._stale_columns: Stale = {}
        #: Something only a whole read shows changed (the baseline, the environments, a gap),
        #: or a whole read is under way.
        self._stale_all = False
        self._whole_read_running = False
        #: The last load failed: the next show() reads again whatever it shows.
        self._failed = False
        #: True while only the first page of a big project is shown.
        self.loading_more = False
        #: The team-wide counts the database gave for the environments shown: what the status
        #: line says while pages still arrive (then the whole matrix's own counts).
        self.summary: DependencySummary | None = None
        #: The shown matrix's counts (``DriftMatrix.summary``), once it is whole.
        self._counts: DependencySummary | None = None
        #: This whole read asked the database for the counts (only a read that shows a screen
        #: of packages before the rest does: a small project is whole at once).
        self._summary_asked = False
        #: Reads wait until the Dependencies tab is shown (a hidden tab reads nothing).
        self.reads = ReadWhenShown(self, lambda: self._read_all(live=False))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield FilterInput("Filter packages…", id="drift-filter")
            yield Static("", id="drift-message")
            yield DriftMatrixTable(id="drift-table")
            yield Static("", id="drift-status")
            yield Static(legend_text(), id="drift-legend")

    def on_resize(self, event: Resize) -> None:
        self.query_one("#drift-legend", Static).update(legend_text(event.size.width - 2))
        self._update_status()

    @property
    def table(self) -> DriftMatrixTable:
        return self.query_one(DriftMatrixTable)

    # -- the interface the app uses ------------------------------------------------------------
    def show(
        self,
        project: Project,
        environments: Sequence[Environment],
        focus_env: UUID | None = None,
    ) -> None:
        """Load and show ``project``'s matrix with a column per environment. Showing the same
        project and environments again only moves the cursor to ``focus_env``: live changes
        keep the loaded matrix current."""
        same_envs = [e.id for e in environments] == [e.id for e in self.environments]
        if self.project is not None and self.project.id == project.id:
            if same_envs and self.matrix is not None and not self._failed:
                self.environments = list(environments)
                self._focus_column(focus_env)
                return
        else:
            self.matrix = None
            self.summary = self._counts = None
        self.project = project
        self.environments = list(environments)
        self.focus_env = focus_env
        if self.matrix is None:
            self._set_message("Loading dependencies…")
        self.reads.now_or_when_shown()

    def on_show(self) -> None:
        self.reads.shown()

    def show_nothing(self, text: str) -> None:
        """No project is selected: forget the one shown and say what to select."""
        self.project = None
        self.environments = []
        self.matrix = None
        self.summary = self._counts = None
        self._set_message(text)

    def apply_changes(self, events: Sequence[FeedEvent]) -> None:
        """React to feed events: dependency or environment changes of this project, or a
        resync, schedule one reload however many events arrive together."""
        if self.project is None:
            return
        relevant = False
        for event in events:
            if isinstance(event, Resync):
                relevant = self._stale_all = True
            elif isinstance(event, ChangeEvent) and event.project_id == self.project.id:
                if event.table == "environments":
                    self._apply_environment_change(event)
                    relevant = self._stale_all = True
                elif event.table == "dependencies":
                    relevant = True
                    env = event.environment_id
                    if env is None:
                        self._stale_all = True  # the baseline (or a change without scope)
                    else:
                        self._stale_columns[env] = self._stale_columns.get(env, 0) + 1
        if relevant:
            self._reload_soon()

    def _apply_environment_change(self, event: ChangeEvent) -> None:
        envs = [e for e in self.environments if str(e.id) != event.id]
        if event.op != "DELETE" and isinstance(event.row, Environment):
            position = next(
                (i for i, e in enumerate(self.environments) if str(e.id) == event.id),
                len(envs),
            )
            envs.insert(position, event.row)
        self.environments = envs

    def _reload_now(self) -> None:
        self._reload_timer = None
        self.reads.now_or_when_shown(self._reload_changed)

    def _reload_changed(self) -> None:
        """Read what changed: the changed environments' columns (and the baseline they are
        compared with) when only machines reported, else everything."""
        matrix = self.matrix
        shown = [env.id for env in self.environments]
        whole = (
            self._stale_all
            or self._whole_read_running
            or self._failed
            or matrix is None
            or self.loading_more
            or tuple(shown) != matrix.environment_ids
        )
        if whole:
            self._read_all(live=True)
            return
        stale = {env: n for env, n in self._stale_columns.items() if env in shown}
        self._stale_columns = stale  # changes of environments not shown do not matter
        if stale:
            self._load_columns(dict(stale))

    def _read_all(self, live: bool) -> None:
        """Read the whole project: it shows every change made before it starts."""
        self._stale_all = False
        self._stale_columns = {}
        self._whole_read_running = True
        self._summary_asked = False
        self._load(live)

    # -- loading -------------------------------------------------------------------------------
    @work(exclusive=True, group="drift", exit_on_error=False)
    async def _load(self, live: bool) -> None:
        project, backend = self.project, self.backend
        if project is None or backend is None:
            return
        env_ids = [env.id for env in self.environments]
        today = clock.now().date()
        # The accepted risks are read beside the first page, not one round trip before it.
        risks_read = asyncio.ensure_future(backend.accepted_risks(project.id))
        facts: PackageFacts | None = None
        # A project is read a page of whole packages at a time and only its matrix rows are
        # kept: never the whole project's dependency rows at once (1M rows were ~1 GB). The
        # first pages hold what fills the screen (a whole page of 20,000 rows takes ~0.3 s);
        # a first load still going after SHOW_FIRST shows what it has then, each page as it
        # comes until the screen is full, then every SHOW_EVERY seconds; a reload keeps the
        # matrix on screen until the new one is whole.
        on_screen = self._rows_on_screen()
        # On Supabase a quick page is one response (1,000 rows), not five one after another.
        quick = min(QUICK_ROWS, backend.rows_per_request or QUICK_ROWS)
        pages = backend.dependency_pages(
            project.id, first_pages=first_pages(on_screen * (len(env_ids) + 1), quick)
        )
        # One page is read ahead: the next one is asked for before this one is built.
        reading = asyncio.ensure_future(_next_page(pages))
        rows: list[DriftRow] = []
        first = self.matrix is None
        show_at = time.monotonic() + SHOW_FIRST
        try:
            while True:
                if first and rows and not _ended(reading):
                    # Due, or the next page is not in by then: show what there is.
                    wait = show_at - time.monotonic()
                    if wait <= 0 or not (await asyncio.wait({reading}, timeout=wait))[0]:
                        so_far = DriftMatrix(tuple(env_ids), _in_name_order(rows))
                        self.post_message(DriftLoaded(project.id, so_far, live, partial=True))
                        # Until the screen is full each page shows as it comes.
                        full = len(rows) >= on_screen
                        show_at = time.monotonic() + (SHOW_EVERY if full else 0)
                page = await reading
                if page is None:
                    break
                reading = asyncio.ensure_future(_next_page(pages))
                risks = await risks_read
                # A vulnerable version whose every advisory the project accepted shows as such.
                accepted: Accepted = frozenset()
                if any(r.active(today) for r in risks) and any(
                    d.status is DependencyStatus.VULNERABLE for d in page
                ):
                    if facts is None:
                        facts = await backend.package_facts(project.id)
                    accepted = accepted_versions(page, facts, risks, today)
                # Building is pure CPU work in core/: keep the event loop free meanwhile.
                part = await asyncio.to_thread(build_matrix, page, env_ids, accepted)
                rows.extend(part.rows)
                del page, part
        finally:
            # Stopped, failed or done: nothing is left reading, no error is left unretrieved.
            for task in (reading, risks_read):
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await pages.aclose()
        matrix = DriftMatrix(tuple(env_ids), _in_name_order(rows))
        self.post_message(DriftLoaded(project.id, matrix, live))

    def _rows_on_screen(self) -> int:
        """How many packages the table can show at most: the pane's height (the table is
        hidden while "Loading…" is shown), else the screen's."""
        return max(self.size.height or self.app.size.height, 1)

    @work(exclusive=True, group="drift-summary", exit_on_error=False)
    async def _load_summary(self) -> None:
        """Ask the database for the team-wide counts while the rest of the pages arrive (a
        whole read of a million rows takes seconds; the counts come in one query)."""
        project, backend = self.project, self.backend
        if project is None or backend is None:
            return
        env_ids = tuple(env.id for env in self.environments)
        summary = await backend.dependency_summary(project.id, env_ids)
        if summary is not None:
            self.post_message(SummaryLoaded(project.id, env_ids, summary))

    @on(SummaryLoaded)
    def _summary_loaded(self, message: SummaryLoaded) -> None:
        shown = tuple(env.id for env in self.environments)
        if self.project is None or message.project_id != self.project.id:
            return
        if message.environment_ids == shown:
            self.summary = message.summary
            self._update_status()

    @work(exclusive=True, group="drift", exit_on_error=False)
    async def _load_columns(self, stale: Stale) -> None:
        """Read the baseline and the changed environments' rows, build their columns and put
        them in the shown matrix (``core.drift_columns``)."""
        project, backend, base = self.project, self.backend, self.matrix
        if project is None or backend is None or base is None:
            return
        order = [env for env in base.environment_ids if env in stale]
        places: list[UUID | None] = [None, *order]
        deps = await backend.list_dependencies(project.id, environment_ids=places)
        risks = await backend.accepted_risks(project.id)
        today = clock.now().date()
        accepted: Accepted = frozenset()
        if any(r.active(today) for r in risks) and any(
            d.status is DependencyStatus.VULNERABLE for d in deps
        ):
            facts = await backend.package_facts(project.id)
            accepted = accepted_versions(deps, facts, risks, today)
        part = await asyncio.to_thread(build_matrix, deps, order, accepted)
        del deps
        merged = await asyncio.to_thread(replace_columns, base, part)
        self.post_message(DriftLoaded(project.id, merged, True, columns=stale, base=base))

    @on(DriftLoaded)
    def _loaded(self, message: DriftLoaded) -> None:
        if self.project is None or message.project_id != self.project.id:
            return
        if message.columns is not None:
            self._columns_loaded(message)
            return
        assert message.matrix is not None  # only a column reload leaves it unknown
        if not message.partial:
            self._whole_read_running = False
        elif not self._summary_asked and len(message.matrix.rows) >= self._rows_on_screen():
            # Once the screen is full: the count (~1 s of the server's CPU at 1M rows) would
            # slow the pages that fill it.
            self._summary_asked = True
            self._load_summary()
        self._show_matrix(message.matrix, message.live, message.partial)

    def _columns_loaded(self, message: DriftLoaded) -> None:
        if message.base is not self.matrix or message.matrix is None:
            # A whole read replaced the matrix meanwhile, or the baseline moved.
            if message.matrix is None:
                self._stale_all = True
            self._reload_soon()
            return
        for env, n in (message.columns or {}).items():
            if self._stale_columns.get(env) == n:
                del self._stale_columns[env]  # no change of it came after the read began
        self._show_matrix(message.matrix, live=True, partial=False)
        if self._stale_columns:
            self._reload_soon()

    def _reload_soon(self) -> None:
        if self._reload_timer is None:
            self._reload_timer = self.set_timer(COALESCE_SECONDS, self._reload_now)

    def _show_matrix(self, matrix: DriftMatrix, live: bool, partial: bool) -> None:
        previous = self.matrix
        self.matrix = matrix
        self.loading_more = partial
        self._counts = None if partial else matrix.summary()
        self._failed = False
        self._set_message(None)
        self._refresh_rows()
        if live and previous is not None:
            self.table.flash(_changed_keys(previous, matrix))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "drift" or event.state != WorkerState.ERROR:
            return
        self._failed = True
        self._whole_read_running = False
        error = event.worker.error
        self._set_message(load_failure(self, "the dependencies", error))
        self.log.error("drift load failed", error=repr(error))

    def _set_message(self, text: str | None) -> None:
        message = self.query_one("#drift-message", Static)
        message.update(text or "")
        self.set_class(text is not None, "-message")
        if text is None:
            focus_if_lost(self, self.table)

    def _refresh_rows(self) -> None:
        matrix = self.matrix
        if matrix is None:
            return
        view = matrix.drifted() if self.drifted_only else matrix
        if self.sort_by_severity:
            view = view.sorted_by_severity()
        names = {env.id: env.name for env in self.environments}
        self.table.set_matrix(matrix, view.rows, names)
        # Only the first load after show() jumps to the focused environment.
        self._focus_column(self.focus_env)
        self.focus_env = None
        self._update_status()

    def _focus_column(self, env_id: UUID | None) -> None:
        matrix = self.matrix
        if env_id is not None and matrix is not None and env_id in matrix.environment_ids:
            self.table.cursor_column = 2 + matrix.environment_ids.index(env_id)

    def _update_status(self) -> None:
        matrix = self.matrix
        if matrix is None:
            return
        # Whole: the matrix's own counts. While pages arrive: the database's, for the whole
        # project (the same definitions), once they have come.
        counts = self._counts if not self.loading_more else self.summary
        total = counts.packages if counts is not None else len(matrix.rows)
        shown = len(self.table.rows)
        if counts is not None:
            drifted = f"{counts.drifted:,} drifted"
        else:  # pages still arriving, the database's counts not yet here
            drifted = f"{sum(1 for row in matrix.rows if row.worst > 0):,} drifted so far"
        # The filter text is in the input above the table: the status need not repeat it.
        # (priority, text): on a narrow screen the least needed go first (the counts of
        # states are in the matrix and its legend too).
        parts: list[tuple[int, str]] = [
            (0, f"{total:,} packages" if shown == total else f"{shown:,} of {total:,} packages"),
            (0, drifted),
        ]
        if counts is not None:
            parts += [(3, f"{counts.vulnerable:,} vulnerable"), (4, f"{counts.missing:,} missing")]
        parts += [
            (5, count(len(matrix.environment_ids), "env")),
            (2, "by severity" if self.sort_by_severity else "by name"),
        ]
        if self.drifted_only:
            parts.append((1, "drifted only"))
        if self.loading_more:
            parts.append((1, "loading the rest…"))
        elif self._without_baseline(matrix):
            # Every package then "differs" (the baseline lacks it): say what is missing.
            parts.insert(0, (0, "no baseline yet: `devsync scan --baseline`"))
        self.query_one("#drift-status", Static).update(_fitted(parts, self.size.width - 2))

    def _without_baseline(self, matrix: DriftMatrix) -> bool:
        """Whether the project has packages but no baseline at all (asked once per matrix)."""
        if self._baseline_known[0] is not matrix:
            none = bool(matrix.rows) and all(row.baseline is None for row in matrix.rows)
            self._baseline_known = (matrix, none)
        return self._baseline_known[1]

    # -- keys ------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one(FilterInput).open()

    @on(Input.Changed, "#drift-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter(event.value)
        self._update_status()

    @on(Input.Submitted, "#drift-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_toggle_drifted(self) -> None:
        self.drifted_only = not self.drifted_only

    def action_toggle_sort(self) -> None:
        self.sort_by_severity = not self.sort_by_severity

    def watch_drifted_only(self) -> None:
        self._refresh_rows()
        self.refresh_bindings()  # esc clears it: offered while there is something to clear

    def watch_sort_by_severity(self) -> None:
        self._refresh_rows()

    def action_clear(self) -> None:
        self.query_one(FilterInput).close()
        self.table.filter("")
        self.drifted_only = False
        self._update_status()
        self.table.focus()
        self.refresh_bindings()  # nothing left to clear: esc is no longer offered

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear":
            # Nothing to clear: let esc go on to whatever "back" means around the pane.
            filtering = self.query_one(FilterInput).display
            return filtering or self.drifted_only or bool(self.table.filter_text)
        if action == "detail":
            return self.table.cursor_value is not None
        return True

    def action_detail(self) -> None:
        row = self.table.cursor_value
        if row is not None:
            self._open_detail(row)

    @on(DriftMatrixTable.RowSelected)
    def _row_selected(self, event: DriftMatrixTable.RowSelected) -> None:
        event.stop()
        if isinstance(event.row, DriftRow):
            self._open_detail(event.row)

    def _open_detail(self, row: DriftRow) -> None:
        if self.matrix is None:
            return
        names = {env.id: env.name for env in self.environments}
        backend, project = self.backend, self.project
        facts = None
        if backend is not None and project is not None:
            project_id = project.id

            async def facts() -> PackageFacts:
                found = await backend.package_facts(project_id)
                risks = await backend.accepted_risks(project_id)
                return dataclasses.replace(found, accepted=tuple(risks))

        self.app.push_screen(PackageDetailScreen(row, self.matrix.environment_ids, names, facts))


def first_pages(screen_rows: int, quick: int = QUICK_ROWS) -> tuple[int, ...]:
    """The sizes of a load's first pages: a screen's dependency rows (``screen_rows``: the
    packages it shows × the places), the first ``quick`` of them on their own."""
    if screen_rows <= quick:
        return (screen_rows,)
    return (quick, screen_rows - quick)


def _ended(reading: asyncio.Future[list[Dependency] | None]) -> bool:
    """The pages are known to have ended: the whole matrix is next, no partial first."""
    return (
        reading.done()
        and not reading.cancelled()
        and reading.exception() is None
        and (reading.result() is None)
    )


async def _next_page(pages: AsyncGenerator[list[Dependency], None]) -> list[Dependency] | None:
    """The next page, None after the last (a coroutine: it runs as a task of its own)."""
    return await anext(pages, None)


def _in_name_order(rows: list[DriftRow]) -> tuple[DriftRow, ...]:
    """Rows in ``build_matrix``'s order (manager, name): pages come in the database's key
    order, which differs from it for names with capitals."""
    return tuple(sorted(rows, key=lambda r: (r.package_manager, r.package_name)))


def _changed_keys(before: DriftMatrix, after: DriftMatrix) -> set[object]:
    """Keys of rows that are new or whose cells changed between two loads."""
    if before.environment_ids != after.environment_ids:
        return set()
    old = {row_key(row): row for row in before.rows}
    return {row_key(row) for row in after.rows if old.get(row_key(row)) != row}


def _fitted(parts: Sequence[tuple[int, str]], width: int) -> str:
    """The parts joined with " · ", leaving out the least needed (highest number first, the
    last of equals first) until the line fits ``width`` (0 or less: not laid out yet, all)."""
    kept = list(parts)
    while width > 0 and len(kept) > 1 and cells(" · ".join(text for _, text in kept)) > width:
        drop = max(range(len(kept)), key=lambda i: (kept[i][0], i))
        if kept[drop][0] == 0:
            break
        del kept[drop]
    return " · ".join(text for _, text in kept)
