"""The tree's config-drift marks (≠) for every project, not only the one on screen.

The Config drift pane reads the states of the project it shows and marks its machines
(``ConfigDriftSeen``). Mixed into MainScreen, this reads the other projects' states once the
first view is up, and again for a project when one of its machines reports — so a drifting
machine is marked wherever it is in the tree, before anyone opens its project.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from textual import work

from devsync_tui.backend.errors import DevSyncError
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.session import Selection, Session

if TYPE_CHECKING:
    from devsync_tui.dashboard.widgets.nav_tree import NavTree
    from devsync_tui.dashboard.workspace import WorkspaceData

#: The table whose changes move the marks.
STATES_TABLE = "machine_config_states"


class TreeDriftMarks:
    """Mixed into MainScreen: marks in the tree for the projects not on screen."""

    session: Session | None
    selection: Selection | None
    _data: WorkspaceData | None

    if TYPE_CHECKING:

        @property
        def nav_tree(self) -> NavTree: ...  # provided by MainScreen

    def _shown_project(self) -> UUID | None:
        selection = self.selection
        return selection.project.id if selection and selection.project else None

    def mark_other_projects(self, only: Iterable[UUID] | None = None) -> None:
        """Read the states of the projects in the tree (or of ``only``) except the one the
        Config drift pane shows (it reads its own), and mark their machines."""
        data, shown = self._data, self._shown_project()
        if data is None or self.session is None:
            return
        wanted = set(only) if only is not None else None
        ids = [
            p.id
            for p in data.projects
            if p.id != shown and (wanted is None or p.id in wanted) and data.environments.get(p.id)
        ]
        if ids:
            self._read_marks(ids)

    def tree_drift_changes(self, batch: LiveBatch) -> None:
        """A machine of another project reported: read that project's states again."""
        touched = {c.project_id for c in batch.changes if c.table == STATES_TABLE and c.project_id}
        if touched:
            self.mark_other_projects(touched)

    @work(group="tree-drift", exit_on_error=False)
    async def _read_marks(self, project_ids: list[UUID]) -> None:
        session, data = self.session, self._data
        if session is None or data is None:
            return
        for project_id in project_ids:
            try:
                states = await session.backend.config_states(project_id)
            except DevSyncError:
                continue  # not readable now: the marks wait for the next report
            machines = [e.id for e in data.environments.get(project_id, ())]
            self.nav_tree.mark_config_drift(
                machines, {s.environment_id for s in states if s.drifted}
            )
