"""`c` on an environment: compare its effective configuration with another environment of the
project (the same comparison and masking as `devsync env diff`), and promote a key from the
first to the second (`p`: the normal write rules, after a confirmation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from devsync_tui.backend.errors import Conflict, DevSyncError
from devsync_tui.core.execution_control import refusal as execution_control_refusal
from devsync_tui.core.models import EffectiveConfigRow, Environment, Project
from devsync_tui.core.printable import visible
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.screens.dialogs import ConfirmDialog, Field, FormDialog
from devsync_tui.dashboard.session import Access, Selection, Session
from devsync_tui.dashboard.widgets.filter_table import KeyTable
from devsync_tui.logging_setup import register_secret
from devsync_tui.machine import env_transfer
from devsync_tui.machine.env_transfer import EnvDiff
from devsync_tui.machine.targets import Target

MASK = "••••••••"
#: Characters of a value shown in a column (the whole value is in the line below the table).
VALUE_WIDTH = 30


@dataclass(frozen=True, slots=True)
class Line:
    """One differing key: the mark (``-`` only in A, ``+`` only in B, ``~`` differs, ``?``
    cannot compare), and the cells."""

    key: str
    mark: str
    a: str
    b: str


def diff_lines(diff: EnvDiff, a: str, b: str) -> list[Line]:
    """The diff as table lines, worded and masked as `devsync env diff` prints it."""
    lines = [Line(k, "-", "set", f"only in {a}") for k in diff.only_a]
    lines += [Line(k, "+", f"only in {b}", "set") for k in diff.only_b]
    for item in diff.different:
        if item.secret:
            lines.append(Line(item.key, "~", MASK, f"{MASK} (differs)"))
        else:
            lines.append(Line(item.key, "~", visible(item.a or ""), visible(item.b or "")))
    lines += [Line(k, "?", MASK, "secret; you may not reveal it on both sides")
              for k in diff.cannot_compare]  # fmt: skip
    return sorted(lines, key=lambda line: line.key.lower())


def _cut(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return (
        first if len(first) <= VALUE_WIDTH and "\n" not in text else first[: VALUE_WIDTH - 1] + "…"
    )


class CompareScreen(ModalScreen[bool]):
    """Two environments' differences; dismisses with True when a key was promoted."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.COMPARE_PROMOTE)

    def __init__(
        self, session: Session, access: Access, project: Project, a: Environment, b: Environment
    ) -> None:
        super().__init__(classes="dialog")
        self.session, self.access = session, access
        self.project, self.a, self.b = project, a, b
        self.diff: EnvDiff | None = None
        self.lines: list[Line] = []
        self._rows_a: dict[str, EffectiveConfigRow] = {}
        self._rows_b: dict[str, EffectiveConfigRow] = {}
        self.promoted = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide", id="compare"):
            yield Static(
                Text(f"{self.a.name} → {self.b.name}", style="bold"), classes="dialog-title"
            )
            yield Static("Comparing…", id="compare-summary", classes="dialog-note")
            table = KeyTable(id="compare-table")
            table.cursor_type = "row"
            yield table
            yield Static(self._keys_line(), id="compare-keys", classes="dialog-note")

    def _keys_line(self) -> Text:
        """What the keys do here: `p` only where the selected key may be promoted (it is
        offered only then), else why not."""
        close = cmd.key_name(self.app, cmd.DIALOG_CANCEL)
        if self.diff is not None and not self.lines:
            return Text(f"{close} closes", style="dim")
        if self.diff is not None and not self.access.can_edit_config(self.b.id):
            why = f"You may not change {self.b.name}, so nothing can be promoted to it."
        elif self.diff is not None and (refusal := self.promote_refusal(self._selected())):
            why = refusal
        else:
            promote = cmd.key_name(self.app, cmd.COMPARE_PROMOTE)
            why = (
                f"{promote} copies the selected key from {self.a.name} to {self.b.name} "
                "(asks first)"
            )
        return Text(f"{why} · {close} closes", style="dim")

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="compare-load", exit_on_error=False)
    async def load(self) -> None:
        backend = self.session.backend
        summary = self.query_one("#compare-summary", Static)
        try:
            self._rows_a = {r.key: r for r in await backend.effective_configuration(self.a.id)}
            self._rows_b = {r.key: r for r in await backend.effective_configuration(self.b.id)}
            diff = await env_transfer.compare(
                backend, Target(self.project, self.a), Target(self.project, self.b)
            )
        except DevSyncError as exc:
            summary.update(f"Could not compare: {str(exc).rstrip('.')}.")
            return
        self.diff = diff
        self.lines = diff_lines(diff, self.a.name, self.b.name)
        table = self.query_one(KeyTable)
        keep = self._selected()
        table.clear(columns=True)
        table.add_columns("", "Key", self.a.name, self.b.name)
        for x in self.lines:
            table.add_row(x.mark, x.key, _cut(x.a), _cut(x.b), key=x.key)
        if keep is not None and keep.key in {x.key for x in self.lines}:
            table.move_cursor(row=table.get_row_index(keep.key))
        if not self.lines:
            summary.update(f"{self.a.name} and {self.b.name} have the same configuration.")
        else:
            summary.update(
                f"{len(diff.only_a)} only in {self.a.name} · {len(diff.only_b)} only in "
                f"{self.b.name} · {len(diff.different)} differ"
                + (
                    f" · {len(diff.cannot_compare)} cannot be compared"
                    if diff.cannot_compare
                    else ""
                )
            )
        table.focus()
        self._row_moved()

    @on(DataTable.RowHighlighted, "#compare-table")
    def _row_moved(self) -> None:
        # `p` and the line saying what it does follow the row under the cursor.
        self.query_one("#compare-keys", Static).update(self._keys_line())
        self.refresh_bindings()

    def _selected(self) -> Line | None:
        table = self.query_one(KeyTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((x for x in self.lines if x.key == row_key.value), None)

    def promote_refusal(self, line: Line | None) -> str | None:
        """None when the selected key may be promoted; else why not, in one sentence."""
        if line is None:
            return "Select a key first."
        row = self._rows_a.get(line.key)
        if row is None:
            return f"{line.key} is not set in {self.a.name}: there is nothing to promote."
        if not self.access.can_edit_config(self.b.id):
            return f"You may not change {self.b.name}."
        if not self.access.can_edit_config(self.b.id, row.key, row.type):
            return execution_control_refusal(row.key)
        if row.is_secret and not self.access.can_reveal(row.environment_id):
            return f"You may not see {line.key} in {self.a.name}, so it cannot be copied."
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "promote":
            return self.promote_refusal(self._selected()) is None
        return True

    def action_promote(self) -> None:
        line = self._selected()
        refusal = self.promote_refusal(line)
        if refusal is not None or line is None:
            self.app.notify(refusal or "Select a key first.", severity="warning")
            return
        self._promote(line)

    @work(group="compare-promote", exit_on_error=False)
    async def _promote(self, line: Line) -> None:
        row = self._rows_a[line.key]
        target = self._rows_b.get(line.key)
        question = f"Promote {line.key} from {self.a.name} to {self.b.name}?"
        if target is not None and target.environment_id == self.b.id:
            question += f" It replaces {self.b.name}'s own value (version {target.version})."
        else:
            question += f" It becomes an override in {self.b.name}."
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(question, confirm="Promote", danger=False)
        )
        if not confirmed:
            return
        backend = self.session.backend
        expected = (
            target.version if target is not None and target.environment_id == self.b.id else None
        )
        try:
            value = row.value or ""
            if row.is_secret:
                value = await backend.reveal_secret(row.configuration_id)
                register_secret(value)
            await backend.save_configuration(
                self.project.id,
                self.b.id,
                row.key,
                value,
                is_secret=row.is_secret,
                type=row.type,
                expected_version=expected,
            )
        except Conflict:
            self.app.notify(
                f"Someone changed {line.key} in {self.b.name} meanwhile; compare again and retry.",
                severity="warning",
            )
        except DevSyncError as exc:
            self.app.notify(str(exc) or "The key could not be promoted.", severity="error")
        else:
            self.promoted = True
            self.app.notify(f"Promoted {line.key} from {self.a.name} to {self.b.name}.")
        self.load()

    def action_cancel(self) -> None:
        self.dismiss(self.promoted)


async def compare_with_another(
    app: App[Any], session: Session, access: Access, selection: Selection
) -> bool:
    """Ask which other environment of the project to compare the selected one with (none to
    ask when there is one), then show the comparison; True when a key was promoted."""
    here, project = selection.environment, selection.project
    if here is None or project is None:
        return False
    others = [e for e in selection.environments if e.id != here.id]
    if not others:
        app.notify(f"{project.name} has no other environment to compare with.")
        return False
    other = others[0]
    if len(others) > 1:
        options = [(e.name, str(e.id)) for e in others]
        values = await app.push_screen_wait(
            FormDialog(
                f"Compare {here.name} with",
                [Field("env", "Environment", "select", options=options)],
                submit="Compare",
                required=["env"],
            )
        )
        if not values:
            return False
        other = next(e for e in others if str(e.id) == values["env"])
    screen = CompareScreen(session, access, project, here, other)
    promoted: bool = await app.push_screen_wait(screen)
    return promoted
