"""`c` on an environment: compare its effective configuration with another environment of the
project (masked as `devsync env diff` prints it), and promote a key from the first to the
second (`p`: the normal write rules, after a confirmation).

Secrets are not revealed to be compared: every reveal writes an audit row ("revealed X"), and
the log must not say a value was shown when the screen showed none. The database tells
whether two secrets hold the same value (``Backend.secrets_equal``: no value leaves it, no
reveal is recorded) for whoever may reveal both; a secret the user may not reveal on one side
is listed as not compared (``?``). `r` on a secret line reveals both values (each reveal
recorded) and shows them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.cells import cell_len, set_cell_size
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
from devsync_tui.machine.env_transfer import EnvDiff, diff_rows, secret_pairs

MASK = "••••••••"
#: The narrowest value column; the cells' padding (4 columns) and the scrollbar's width.
VALUE_MIN, TABLE_PADDING = 8, 2 * 4 + 2


@dataclass(frozen=True, slots=True)
class Line:
    """One differing key: the mark (``-`` only in A, ``+`` only in B, ``~`` differs, ``?``
    cannot compare), and the cells."""

    key: str
    mark: str
    a: str
    b: str


def compare_rows(
    rows_a: dict[str, EffectiveConfigRow],
    rows_b: dict[str, EffectiveConfigRow],
    revealed: dict[str, tuple[str, str]],
    equal: dict[str, bool] | None = None,
) -> EnvDiff:
    """The differences between two effective configurations, without revealing anything: a
    secret pair is compared by its values in ``revealed`` (key → (a, b)), else by what the
    database said of it in ``equal`` (key → same value), else it is "not compared"."""
    same = dict(equal or {})
    same.update({key: a == b for key, (a, b) in revealed.items()})
    return diff_rows(rows_a, rows_b, same)


def diff_lines(
    diff: EnvDiff,
    a: str,
    b: str,
    *,
    rows: tuple[dict[str, EffectiveConfigRow], dict[str, EffectiveConfigRow]] = ({}, {}),
    revealed: dict[str, tuple[str, str]] | None = None,
    may_reveal: Callable[[EffectiveConfigRow], bool] = lambda row: True,
) -> list[Line]:
    """The diff as table lines, masked as `devsync env diff` prints it; a secret the user
    revealed here shows its values. A side that stays masked because the user may not reveal
    it says so in its own cell (the other side may be a plain value they see)."""
    revealed = revealed or {}

    def cell(row: EffectiveConfigRow | None, side: int, key: str) -> str:
        if row is None:
            return ""
        if key in revealed:
            return visible(revealed[key][side])
        if not row.is_secret:
            return visible(row.value or "")
        return MASK if may_reveal(row) else f"{MASK} you may not reveal it"

    lines = [Line(k, "-", "set", f"only in {a}") for k in diff.only_a]
    lines += [Line(k, "+", f"only in {b}", "set") for k in diff.only_b]
    for item in diff.different:
        if item.key in revealed:
            ra, rb = rows[0].get(item.key), rows[1].get(item.key)
            lines.append(Line(item.key, "~", cell(ra, 0, item.key), cell(rb, 1, item.key)))
        elif item.secret:
            lines.append(Line(item.key, "~", MASK, f"{MASK} (differs)"))
        else:
            lines.append(Line(item.key, "~", visible(item.a or ""), visible(item.b or "")))
    for k in diff.cannot_compare:
        ra, rb = rows[0].get(k), rows[1].get(k)
        if ra is None or rb is None:
            lines.append(Line(k, "?", MASK, "secret; not compared"))
        else:
            lines.append(Line(k, "?", cell(ra, 0, k), cell(rb, 1, k)))
    same = {x.key for x in lines}
    lines += [
        Line(k, "=", visible(va), visible(vb))
        for k, (va, vb) in revealed.items()
        if k not in same and k in rows[0] and k in rows[1]
    ]
    return sorted(lines, key=lambda line: line.key.lower())


def _s(items: list[str]) -> str:
    return "" if len(items) == 1 else "s"


def _share(room: int, a_needs: int, b_needs: int) -> tuple[int, int]:
    """The two value columns' widths in ``room`` cells: half each, except that a column
    needing less than its half leaves the rest to the other (never under ``VALUE_MIN``)."""
    half = max(VALUE_MIN, room // 2)
    if a_needs < half:
        a = max(VALUE_MIN, a_needs)
        return a, max(VALUE_MIN, room - a)
    if b_needs < half:
        b = max(VALUE_MIN, b_needs)
        return max(VALUE_MIN, room - b), b
    return half, half


def _needs(text: str) -> int:
    """The cells ``text`` needs uncut by ``_cut``: its first line, and "…" if more follow."""
    first, _, rest = text.partition("\n")
    return cell_len(first) + (1 if rest or text.endswith("\n") else 0)


def _cut(text: str, width: int) -> str:
    """The first line of ``text`` within ``width`` cells, "…" marking a cut."""
    first = text.splitlines()[0] if text else ""
    if cell_len(first) <= width and "\n" not in text:
        return first
    return set_cell_size(first, max(0, width - 1)) + "…"


class CompareScreen(ModalScreen[bool]):
    """Two environments' differences; dismisses with True when a key was promoted."""

    BINDINGS = cmd.bindings(cmd.DIALOG_CANCEL, cmd.COMPARE_PROMOTE, cmd.CFG_REVEAL)

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
        #: Secrets the user revealed here to compare them: key → (value in a, value in b).
        self.revealed: dict[str, tuple[str, str]] = {}
        #: What the database said of each secret pair the user may reveal: the same value?
        self.equal: dict[str, bool] = {}
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
        offered only then), else why not; `r` where the selected secret may be revealed to
        compare it."""
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
        if self.diff is not None and self.reveal_refusal(self._selected()) is None:
            reveal = cmd.key_name(self.app, cmd.CFG_REVEAL)
            why = f"{reveal} reveals both values · {why}"
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
        except DevSyncError as exc:
            summary.update(f"Could not compare: {str(exc).rstrip('.')}.")
            return
        # What the user revealed stays shown only while it is still the same configuration.
        self.revealed = {
            k: v for k, v in self.revealed.items() if k in self._rows_a and k in self._rows_b
        }
        self.equal = await self._ask_equal()
        self._show_diff()
        self.query_one(KeyTable).focus()

    async def _ask_equal(self) -> dict[str, bool]:
        """For each secret that differs in configuration and that the user may reveal on both
        sides: whether the two hold the same value (the database compares; nothing is
        revealed or recorded). A refusal (rights changed meanwhile) leaves it not compared."""
        backend = self.session.backend
        pairs = [
            (key, ra, rb)
            for key, ra, rb in secret_pairs(self._rows_a, self._rows_b)
            if all(
                not row.is_secret or self.access.can_reveal(row.environment_id) for row in (ra, rb)
            )
        ]

        async def ask(first: EffectiveConfigRow, second: EffectiveConfigRow) -> bool | None:
            try:
                return await backend.secrets_equal(first.configuration_id, second.configuration_id)
            except DevSyncError:
                return None

        answers = await asyncio.gather(*(ask(ra, rb) for _, ra, rb in pairs))
        return {
            key: same for (key, _, _), same in zip(pairs, answers, strict=True) if same is not None
        }

    def _show_diff(self) -> None:
        diff = compare_rows(self._rows_a, self._rows_b, self.revealed, self.equal)
        self.diff = diff
        self.lines = diff_lines(
            diff,
            self.a.name,
            self.b.name,
            rows=(self._rows_a, self._rows_b),
            revealed=self.revealed,
            may_reveal=lambda row: self.access.can_reveal(row.environment_id),
        )
        self._fill_table()
        summary = self.query_one("#compare-summary", Static)
        if not self.lines:
            summary.update(f"{self.a.name} and {self.b.name} have the same configuration.")
        else:
            summary.update(
                f"{len(diff.only_a)} only in {self.a.name} · {len(diff.only_b)} only in "
                f"{self.b.name} · {len(diff.different)} differ"
                + (
                    f" · {len(diff.cannot_compare)} secret{_s(diff.cannot_compare)} "
                    "not compared (?)"
                    if diff.cannot_compare
                    else ""
                )
            )
        self._row_moved()

    def _fill_table(self) -> None:
        """The lines, each column as wide as the dialog allows: the key column as wide as its
        longest key (up to a third), the two value columns sharing the rest."""
        table = self.query_one(KeyTable)
        keep = self._selected()
        room = (table.size.width or self.query_one("#compare").content_size.width or 96) - (
            TABLE_PADDING + 1
        )
        key_w = min(max([3, *(cell_len(x.key) for x in self.lines)]), max(8, room // 3))
        a_w, b_w = _share(
            room - key_w,
            max([cell_len(self.a.name), *(_needs(x.a) for x in self.lines)]),
            max([cell_len(self.b.name), *(_needs(x.b) for x in self.lines)]),
        )
        table.clear(columns=True)
        table.add_column("", width=1)
        table.add_column("Key", width=key_w)
        table.add_column(_cut(self.a.name, a_w), width=a_w)
        table.add_column(_cut(self.b.name, b_w), width=b_w)
        for x in self.lines:
            table.add_row(x.mark, _cut(x.key, key_w), _cut(x.a, a_w), _cut(x.b, b_w), key=x.key)
        if keep is not None and keep.key in {x.key for x in self.lines}:
            table.move_cursor(row=table.get_row_index(keep.key))

    def on_resize(self) -> None:
        if self.diff is not None:
            self.call_after_refresh(self._fill_table)

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

    def reveal_refusal(self, line: Line | None) -> str | None:
        """None when the selected key is a secret not shown yet that the user may reveal on
        each side where it is secret; else why `r` does nothing here."""
        rows = [self._rows_a.get(line.key), self._rows_b.get(line.key)] if line else []
        secret = any(row is not None and row.is_secret for row in rows)
        if line is None or line.key in self.revealed or not secret or line.mark == "=":
            return "Only a secret not shown yet can be revealed here."
        for row, env in zip(rows, (self.a, self.b), strict=True):
            if row is None:
                return f"{line.key} is not set in {env.name}."
            if row.is_secret and not self.access.can_reveal(row.environment_id):
                return self.access.reveal_reason(row.environment_id)
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "promote":
            return self.promote_refusal(self._selected()) is None
        if action == "reveal":
            return self.reveal_refusal(self._selected()) is None
        return True

    def action_reveal(self) -> None:
        line = self._selected()
        refusal = self.reveal_refusal(line)
        if refusal is not None or line is None:
            self.app.notify(refusal or "Select a key first.", severity="warning")
            return
        self._reveal(line.key)

    @work(group="compare-reveal", exit_on_error=False)
    async def _reveal(self, key: str) -> None:
        """Reveal the key's secret sides (the user asked: each reveal is recorded, and the
        values are then on screen) and compare them."""
        backend = self.session.backend
        values: list[str] = []
        try:
            for row in (self._rows_a[key], self._rows_b[key]):
                value = row.value or ""
                if row.is_secret:
                    value = await backend.reveal_secret(row.configuration_id)
                    register_secret(value)
                values.append(value)
        except DevSyncError as exc:
            self.app.notify(str(exc) or f"{key} could not be revealed.", severity="error")
            return
        self.revealed[key] = (values[0], values[1])
        self._show_diff()
        # Masked again after the table's reveal timeout, as everywhere else.
        self.set_timer(self.session.settings.reveal_timeout, partial(self._mask, key))

    def _mask(self, key: str) -> None:
        if self.revealed.pop(key, None) is not None and self.diff is not None:
            self._show_diff()

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
