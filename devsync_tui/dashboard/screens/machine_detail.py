"""`enter` on a Health row: one machine (environment) in detail — its health now, a summary of
its dependencies against the project baseline, and of its actual configuration against the
synced one (``core/machine_summary.py``)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core import clock
from devsync_tui.core.machine_summary import (
    ConfigDriftSummary,
    DependencySummary,
    summarize_config,
    summarize_dependencies,
)
from devsync_tui.core.models import EnvStatus, MetricType
from devsync_tui.core.printable import visible
from devsync_tui.core.staleness import STALE, STALE_AFTER, shown_status
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.health_series import EnvHealth, format_latest

#: Dependencies read for the summary (per place); more are counted as "at least".
DEPENDENCY_LIMIT = 5000


class MachineDetailScreen(ModalScreen[None]):
    """One environment's health, dependencies and configuration drift."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL)

    def __init__(self, backend: Backend, row: EnvHealth) -> None:
        super().__init__(classes="dialog")
        self._backend = backend
        self.row = row
        #: The dependency summary once read (tests wait on it).
        self.summary: DependencySummary | None = None
        #: The configuration drift summary once read.
        self.config_summary: ConfigDriftSummary | None = None

    def compose(self) -> ComposeResult:
        env = self.row.environment
        with Vertical(classes="dialog-box wide", id="machine-detail"):
            yield Static(Text(env.name, style="bold"), classes="dialog-title")
            yield Static(self._health_text(), id="machine-health")
            yield Static("Dependencies: reading…", id="machine-deps")
            yield Static("Configuration: reading…", id="machine-config")
            close = cmd.key_name(self.app, cmd.DIALOG_CANCEL)
            yield Static(Text(f"{close} closes", style="dim"), classes="dialog-note")

    def _health_text(self) -> Text:
        env, now = self.row.environment, clock.now()
        shown = shown_status(EnvStatus(env.status), env.last_sync_at, now)
        status = Text(shown, style="bold reverse" if shown in (STALE, "error") else "bold")
        minutes = int(STALE_AFTER.total_seconds() // 60)
        why = (
            f"  (it says {env.status}, but has not reported for over {minutes} min)"
            if shown == STALE
            else ""
        )
        metrics = "  ".join(
            f"{m.value} {format_latest(m, self.row.latest(m)).strip()}" for m in MetricType
        )
        return Text.assemble(
            "Status: ", status, why, "\n",
            f"Last report: {clock.ago(env.last_sync_at)}\n",
            f"Now: {metrics}",
        )  # fmt: skip

    def on_mount(self) -> None:
        self._load_dependencies()
        self._load_config_states()

    @work(exclusive=True, group="machine-detail", exit_on_error=False)
    async def _load_dependencies(self) -> None:
        env = self.row.environment
        deps = self.query_one("#machine-deps", Static)
        try:
            mine = await self._backend.list_dependencies(
                env.project_id, environment_ids=[env.id], limit=DEPENDENCY_LIMIT
            )
            baseline = await self._backend.list_dependencies(
                env.project_id, environment_ids=[None], limit=DEPENDENCY_LIMIT
            )
        except DevSyncError as exc:
            deps.update(f"Dependencies: could not be read ({str(exc).rstrip('.')}).")
            return
        capped = len(mine) >= DEPENDENCY_LIMIT or len(baseline) >= DEPENDENCY_LIMIT
        self.summary = summarize_dependencies(mine, baseline, capped)
        deps.update("Dependencies: " + "\n  ".join(self.summary.lines()))

    @work(exclusive=True, group="machine-config", exit_on_error=False)
    async def _load_config_states(self) -> None:
        env = self.row.environment
        shown = self.query_one("#machine-config", Static)
        try:
            states = await self._backend.config_states(env.project_id, [env.id])
        except DevSyncError as exc:
            shown.update(f"Configuration: could not be read ({str(exc).rstrip('.')}).")
            return
        summary = self.config_summary = summarize_config(states)
        ago = clock.ago(summary.observed_at) if summary.observed_at else None
        shown.update(Text(visible("Configuration: " + "\n  ".join(summary.lines(ago)))))

    def action_cancel(self) -> None:
        self.dismiss(None)
