"""`enter` on a Health row: one machine (environment) in detail — its health now and over the
last day, and a summary of its dependencies against the project baseline. (Configuration
drift per machine is not recorded yet, so this dialog has no section for it.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core import clock
from devsync_tui.core.models import Dependency, DependencyStatus, EnvStatus, MetricType
from devsync_tui.core.staleness import STALE, STALE_AFTER, shown_status
from devsync_tui.core.wording import count
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.health_series import EnvHealth, format_latest

#: Dependencies read for the summary (per place); more are counted as "at least".
DEPENDENCY_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class DependencySummary:
    """What a machine runs, against the project baseline."""

    total: int
    by_manager: dict[str, int]
    differ: int
    missing: int
    vulnerable: int
    outdated: int
    capped: bool

    def lines(self) -> list[str]:
        if not self.total and not self.missing:
            return ["No dependencies reported yet (`devsync scan` or `devsync agent` there)."]
        at_least = "at least " if self.capped else ""
        managers = ", ".join(f"{m} {n}" for m, n in sorted(self.by_manager.items()))
        first = f"{at_least}{count(self.total, 'package')}" + (f" ({managers})" if managers else "")
        against = f"{self.differ} differ from the baseline · {self.missing} of the baseline missing"
        health = f"{self.vulnerable} vulnerable · {self.outdated} outdated"
        return [first, against, health]


def summarize(
    mine: Sequence[Dependency], baseline: Sequence[Dependency], capped: bool
) -> DependencySummary:
    """Count ``mine`` by manager and status, and against ``baseline`` (same manager and
    name: a different resolved version differs; a baseline package absent here is missing)."""
    base = {(d.package_manager, d.package_name): d.resolved_version for d in baseline}
    here = {(d.package_manager, d.package_name): d.resolved_version for d in mine}
    differ = sum(1 for k, v in here.items() if k in base and base[k] != v)
    statuses = Counter(d.status for d in mine)
    return DependencySummary(
        total=len(here),
        by_manager=dict(Counter(str(d.package_manager) for d in mine)),
        differ=differ,
        missing=sum(1 for k in base if k not in here),
        vulnerable=statuses[DependencyStatus.VULNERABLE],
        outdated=statuses[DependencyStatus.OUTDATED],
        capped=capped,
    )


class MachineDetailScreen(ModalScreen[None]):
    """One environment's health and dependencies."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL)

    def __init__(self, backend: Backend, row: EnvHealth) -> None:
        super().__init__(classes="dialog")
        self._backend = backend
        self.row = row
        #: The dependency summary once read (tests wait on it).
        self.summary: DependencySummary | None = None

    def compose(self) -> ComposeResult:
        env = self.row.environment
        with Vertical(classes="dialog-box wide", id="machine-detail"):
            yield Static(Text(env.name, style="bold"), classes="dialog-title")
            yield Static(self._health_text(), id="machine-health")
            yield Static("Dependencies: reading…", id="machine-deps")
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
        self.summary = summarize(mine, baseline, capped)
        deps.update("Dependencies: " + "\n  ".join(self.summary.lines()))

    def action_cancel(self) -> None:
        self.dismiss(None)
