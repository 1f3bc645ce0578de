"""The health table: one line per environment with status, last sync, ping and CPU / memory /
disk sparklines over the last day. Built on the virtual table, so 200 environments cost the
same as 3; the sparklines widen with the terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.message import Message

from devsync_tui.core import clock
from devsync_tui.core.models import EnvStatus, MetricType
from devsync_tui.core.printable import cells
from devsync_tui.core.staleness import STALE, shown_status
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.widgets.health_series import (
    PERCENT_METRICS,
    EnvHealth,
    format_latest,
    sparkline,
    sparkline_window,
)
from devsync_tui.dashboard.widgets.virtual_table import CellRender, Column, VirtualTable

#: Symbol per status: the status reads without colour.
STATUS_SYMBOLS: dict[EnvStatus, str] = {
    EnvStatus.ACTIVE: "●",
    EnvStatus.SYNCING: "◐",
    EnvStatus.OFFLINE: "○",
    EnvStatus.ERROR: "✗",
}
#: A machine that says it is active but has not reported for two agent intervals.
STALE_SYMBOL = "◌"
METRIC_LABELS: dict[MetricType, str] = {
    MetricType.CPU: "cpu",
    MetricType.MEMORY: "memory",
    MetricType.DISK: "disk",
    MetricType.PING: "ping",
}
NAME_MIN, NAME_MAX = 12, 22
STATUS_WIDTH = 10
SYNC_WIDTH = 11
PING_WIDTH = 9
#: Room for " 100%" after a sparkline.
VALUE_WIDTH = 5
MIN_SPARK = 6


def level_class(value: float | None) -> str:
    """Component class for a percentage: ok below 70, warn below 90, else high."""
    if value is None:
        return "health--none"
    if value < 70:
        return "health--ok"
    if value < 90:
        return "health--warn"
    return "health--high"


def name_width(rows: Sequence[EnvHealth]) -> int:
    """Width of the environment column: the longest name, bounded."""
    longest = max((cells(row.environment.name) for row in rows), default=0)
    return max(NAME_MIN, min(longest + 2, NAME_MAX))


def spark_width(total_width: int, name: int = NAME_MIN) -> int:
    """Sparkline width so the three metric columns fill what the other columns leave."""
    fixed = name + STATUS_WIDTH + SYNC_WIDTH + PING_WIDTH
    per_metric = (total_width - fixed) // len(PERCENT_METRICS)
    return max(MIN_SPARK, per_metric - VALUE_WIDTH - 1)


class HealthTable(VirtualTable[EnvHealth]):
    """Environments with their status and metrics."""

    class SparkWidthChanged(Message):
        """The sparklines changed width (the terminal did): their slots are worth reading
        again at the new width (until then the old ones are stretched to fit)."""

    BINDINGS = cmd.bindings(cmd.HEALTH_SELECT)

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        *(f"health--{status.value}" for status in EnvStatus),
        f"health--{STALE}",
        "health--ok",
        "health--warn",
        "health--high",
        "health--none",
    }

    DEFAULT_CSS = """
    HealthTable {
        & > .health--active { color: $success; }
        & > .health--syncing { color: $accent; }
        & > .health--offline { color: $text-muted; }
        & > .health--error { color: $error; text-style: bold; }
        & > .health--stale { color: $warning; text-style: bold; }
        & > .health--ok { color: $success; }
        & > .health--warn { color: $warning; }
        & > .health--high { color: $error; }
        & > .health--none { color: $text-muted; }
        /* Without colour (NO_COLOR) the monochrome filter makes red a quiet grey: the most
           serious states stand out the most instead, on a light box, never dim. */
        &:nocolor {
            & > .health--error, & > .health--high {
                color: $background; background: $foreground; text-style: bold;
            }
            & > .health--stale, & > .health--warn { color: $foreground; text-style: bold; }
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            search_text=lambda row: row.environment.name,
            row_key=lambda row: row.environment.id,
            empty_text="No environments in this project yet.",
            id=id,
            classes=classes,
        )
        self._spark = MIN_SPARK
        self._name_width = NAME_MIN

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name)

    def _status(self, row: EnvHealth) -> CellRender:
        env = row.environment
        shown = shown_status(EnvStatus(env.status), env.last_sync_at, clock.now())
        symbol = STALE_SYMBOL if shown == STALE else STATUS_SYMBOLS[EnvStatus(env.status)]
        return f"{symbol} {shown}", self._style(f"health--{shown}")

    def _metric(self, metric: MetricType) -> Callable[[EnvHealth], CellRender]:
        def render(row: EnvHealth) -> CellRender:
            latest = row.latest(metric)
            start, end = sparkline_window(clock.now(), self._spark)
            spark = sparkline(row.buckets(metric, start, end, self._spark))
            text = f"{spark}{format_latest(metric, latest).rjust(VALUE_WIDTH)}"
            return text, self._style(level_class(latest))

        return render

    def _last_sync(self, row: EnvHealth) -> CellRender:
        return clock.ago(row.environment.last_sync_at), None

    def _ping(self, row: EnvHealth) -> CellRender:
        latest = row.latest(MetricType.PING)
        return format_latest(MetricType.PING, latest), None

    @property
    def spark_slots(self) -> int:
        """How many slots each sparkline draws now (one character each)."""
        return self._spark

    def spark_for(self, rows: Sequence[EnvHealth]) -> int:
        """The sparkline width ``rows`` will get at the current size (before they are shown)."""
        return spark_width(self.scrollable_content_region.width or 80, name_width(rows))

    def build_columns(self) -> None:
        """(Re)make the columns for the current width."""
        self._spark = spark_width(self.scrollable_content_region.width or 80, self._name_width)
        metric_width = self._spark + VALUE_WIDTH + 1
        columns: list[Column[EnvHealth]] = [
            Column("environment", self._name_width, lambda row: (row.environment.name, None)),
            Column("status", STATUS_WIDTH, self._status),
            Column("last sync", SYNC_WIDTH, self._last_sync),
            *(
                Column(f"{METRIC_LABELS[m]} 24h", metric_width, self._metric(m))
                for m in PERCENT_METRICS
            ),
            # Last: beside the tree at 80 columns it is the one to scroll to, not the graphs.
            Column("ping", PING_WIDTH, self._ping),
        ]
        self.set_columns(columns, fixed=1)

    def show_rows(self, rows: Sequence[EnvHealth]) -> None:
        """Show one line per environment (columns sized for the names and the width)."""
        width = name_width(rows)
        if not self.columns or width != self._name_width:
            self._name_width = width
            self.build_columns()
        self.set_rows(rows)

    def on_resize(self, event: events.Resize) -> None:
        if not self.scrollable_content_region.width:
            return  # hidden ("Loading health…"): keep the columns for when it shows again
        if spark_width(self.scrollable_content_region.width, self._name_width) != self._spark:
            self.build_columns()
            self.post_message(self.SparkWidthChanged())
