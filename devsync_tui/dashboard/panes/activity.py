"""The Activity tab: the team's audit log (reveals, changes, membership), for admins."""

from __future__ import annotations

from uuid import UUID

from rich.cells import cell_len, set_cell_size
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from devsync_tui.core import clock, permissions
from devsync_tui.core.audit_wording import describe, who
from devsync_tui.core.models import AuditEntry
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.panes.load_failure import load_failure
from devsync_tui.dashboard.panes.when_shown import ReadWhenShown
from devsync_tui.dashboard.session import Selection, Session
from devsync_tui.dashboard.widgets.filter_table import FilterableTable, Row

#: The narrowest "What" column; the cells' padding and the scrollbar beside the columns.
_WHAT_MIN, _PADDING = 20, 2 * 4 + 2
#: The widest "Who" column, and the share of the width "Where" may take (at least
#: ``_WHERE_MIN``): a long user or environment name is cut, not the descriptions.
_WHO_MAX, _WHERE_SHARE, _WHERE_MIN = 16, 5, 12


def _cut(text: str, width: int) -> str:
    """``text`` within ``width`` cells, an ellipsis marking a cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(1, width - 1)) + "…"


class ActivityLoaded(Message):
    def __init__(self, team_id: UUID, entries: list[AuditEntry]) -> None:
        super().__init__()
        self.team_id = team_id
        self.entries = entries


class ActivityPane(Vertical):
    """Newest first; admins only, others see why not."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        self.selection: Selection | None = None
        #: Names of users, teams, projects and environments by id (text), from the tree.
        self.names: dict[str, str] = {}
        self._entries: list[AuditEntry] = []
        #: The log is read when its tab is shown (every write adds an entry: reading it on
        #: each change while hidden slowed the view on screen).
        self.reads = ReadWhenShown(self, self.load)

    def compose(self) -> ComposeResult:
        yield Static("Select a team.", id="activity-hint", classes="pane-hint")
        # Newest first: a cursor on the newest entry stays on the newest as entries arrive.
        yield FilterableTable(
            ("When", "Who", "What", "Where"), id="activity-rows", follow_first=True
        )

    def show(self, session: Session, selection: Selection) -> None:
        if self.selection is None or self.selection.team.id != selection.team.id:
            self._entries = []  # another team's log must not come back on a resize
        self.session, self.selection = session, selection
        table = self.query_one(FilterableTable)
        if not permissions.can_read_audit_log(session.member_role(selection.team.id)):
            table.display = False
            table.set_rows([])
            table.refresh_bindings()  # its `/` goes with it (FilterableTable.check_action)
            self.query_one("#activity-hint", Static).update(
                f"Only admins of {selection.team.name} see its activity log."
            )
            return
        if not table.display:
            table.display = True
            table.refresh_bindings()
        self.reads.now_or_when_shown()

    def on_show(self) -> None:
        self.reads.shown()

    @work(exclusive=True, group="activity-load", exit_on_error=False)
    async def load(self) -> None:
        if self.session is None or self.selection is None:
            return
        team_id = self.selection.team.id
        entries = await self.session.backend.audit_log(team_id, limit=200)
        self.post_message(ActivityLoaded(team_id, entries))

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        """Reading the log failed (offline, a cached view): say why, not "Select a team"."""
        if event.worker.group != "activity-load" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.query_one("#activity-hint", Static).update(
            load_failure(self, "the activity log", error)
        )

    def on_activity_loaded(self, message: ActivityLoaded) -> None:
        sel = self.selection
        if sel is None or sel.team.id != message.team_id:
            return
        self._entries = message.entries
        self._show_entries()
        self.query_one("#activity-hint", Static).update(
            f"Audit log of {sel.team.name}: configuration changes, reveals and membership."
        )

    def _show_entries(self) -> None:
        names = self.names
        cells = []
        for e in self._entries:
            scope = e.environment_id or e.project_id
            where = names.get(str(scope), "") if scope else ""
            cells.append(
                (
                    str(e.id),
                    clock.ago(e.created_at),
                    who(e),
                    describe(e, names),
                    where,
                )
            )
        # "What" gets the room the other columns leave, so that a long description (a long
        # key, an id without a name) never pushes "Where" out of sight; "Who" and "Where" are
        # bounded, so that one long name (an environment's) does not squeeze every
        # description. Every cut cell ends in "…" (the filter still searches all of it).
        width = (self.size.width or 100) - _PADDING

        def widest(i: int, label: str) -> int:
            return max([cell_len(label), *(cell_len(c[i]) for c in cells)])

        when_w = widest(1, "When")
        who_w = min(_WHO_MAX, widest(2, "Who"))
        where_w = min(max(_WHERE_MIN, width // _WHERE_SHARE), widest(4, "Where"))
        room = max(_WHAT_MIN, width - when_w - who_w - where_w)
        rows = [
            Row(
                key,
                (_cut(when, when_w), _cut(who, who_w), _cut(what, room), _cut(where, where_w)),
                f"{who} {what} {where}",
            )
            for key, when, who, what, where in cells
        ]
        self.query_one(FilterableTable).set_rows(rows)

    def on_resize(self) -> None:
        if self._entries:
            self._show_entries()

    def apply_live(self, batch: LiveBatch) -> None:
        sel = self.selection
        if sel is None or self.session is None:
            return
        if not permissions.can_read_audit_log(self.session.member_role(sel.team.id)):
            return
        if batch.resync or any(
            e.table == "audit_log" and e.team_id == sel.team.id for e in batch.changes
        ):
            self.reads.now_or_when_shown()
