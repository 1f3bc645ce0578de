"""The Configuration tab's live half: a teammate's change re-reads the keys it touched
(``config_keys``) and redraws just their rows (issue 16: a change updates what it touched,
never a whole-table re-read); a whole read where only that can tell. Mixed into
``ConfigurationPane``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from textual import work
from textual.message import Message

from devsync_tui.core import clock
from devsync_tui.core.models import EffectiveConfigRow
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.panes.config_actions import ConfigView
from devsync_tui.dashboard.panes.config_cells import (
    CellMaker,
    Layout,
    RowWidths,
    layout_for,
    row_widths,
)
from devsync_tui.dashboard.panes.config_keys import (
    Touched,
    merge_defaults,
    merge_rows,
    read_keys,
    touched,
)
from devsync_tui.dashboard.session import Access, Selection, Session
from devsync_tui.dashboard.widgets.filter_table import FilterableTable, Row

#: How often the "Changed" column's ages are brought up to date (they count minutes).
AGE_TICK_SECONDS = clock.AGE_TICK_SECONDS

#: The required keys an environment lacks, and its template's name.
Missing = tuple[tuple[str, ...], str | None]


class ConfigRowsLoaded(Message):
    """The rows of some keys, read again after a live change (``request``: which read this
    answers, so that an older answer never paints over a newer one)."""

    def __init__(
        self,
        selection: Selection,
        touch: Touched,
        request: int,
        rows: Sequence[EffectiveConfigRow],
        defaults: Sequence[EffectiveConfigRow] | None,
    ) -> None:
        super().__init__()
        self.selection = selection
        self.touch = touch
        self.request = request
        self.rows = tuple(rows)
        self.defaults = defaults


class LiveRows:
    """Live changes of the shown view, row by row."""

    if TYPE_CHECKING:
        session: Session | None
        view: ConfigView | None
        revealed: dict[UUID, str]
        _defaults: dict[UUID, EffectiveConfigRow]
        _required: dict[UUID, frozenset[str]]
        _layout: Layout | None
        _row_widths: dict[str, RowWidths]
        _ages: dict[str, str]
        _loading: bool
        _key_reads: dict[str, int]
        _key_read: int

        @property
        def access(self) -> Access | None: ...
        @property
        def rows_table(self) -> FilterableTable: ...

        def post_message(self, message: Message) -> bool: ...
        def refresh_bindings(self) -> None: ...
        def load(self, selection: Selection, flash: frozenset[str]) -> None: ...
        def _shows(self, selection: Selection) -> bool: ...
        def _seen(self, view: ConfigView) -> None: ...
        def _show_rows(self) -> None: ...
        def _width(self) -> int: ...
        def _in_env(self) -> bool: ...
        def _machine_marked(self, row: Row) -> Row: ...
        def _update_detail(self) -> None: ...
        def rights_changed(self, access: Access | None = None) -> None: ...

    def apply_live(self, batch: LiveBatch) -> None:
        """Read again the keys of the shown view that changed, and redraw just their rows
        (flashed); a whole read when only that can tell (``touched``, ``_whole_read``)."""
        if batch.touches("team_members"):  # a resync too: rights may have changed meanwhile
            self.rights_changed()
        view = self.view
        if view is None or view.selection.project is None:
            return
        touch = touched(batch, view.selection, view.rows, self._defaults)
        if touch is None:
            return
        for configuration_id in touch.stale:  # a revealed value that changed is stale
            self.revealed.pop(configuration_id, None)
        if self._whole_read(touch):
            self.load(view.selection, touch.keys)
            return
        self._key_read += 1
        self._key_reads.update(dict.fromkeys(touch.keys, self._key_read))
        self._read_keys(view.selection, touch, self._key_read)

    def _whole_read(self, touch: Touched) -> bool:
        """A whole read instead of a keyed one: the change says so (``Touched.whole``), the
        view is still loading, or a key the environment's template requires changed (the
        missing line is the whole view's to say) or its template is not known yet."""
        if touch.whole or self._loading or self.view is None:
            return True
        env = self.view.selection.environment
        if env is None or env.template_id is None:
            return False
        required = self._required.get(env.template_id)
        return required is None or not touch.keys.isdisjoint(required)

    @work(group="config-rows", exit_on_error=False)
    async def _read_keys(self, selection: Selection, touch: Touched, request: int) -> None:
        session = self.session
        if session is None:
            return
        rows, defaults = await read_keys(session.backend, selection, touch)
        self.post_message(ConfigRowsLoaded(selection, touch, request, rows, defaults))

    def on_config_rows_loaded(self, message: ConfigRowsLoaded) -> None:
        view = self.view
        if view is None or not self._shows(message.selection):
            return
        # Only the keys this read is the newest read of (a later read, whole or keyed, tells
        # the others).
        keys = {k for k in message.touch.keys if self._key_reads.get(k) == message.request}
        if not keys:
            return
        for key in keys:
            del self._key_reads[key]
        was_empty = not view.rows
        self.view = ConfigView(view.selection, merge_rows(view.rows, keys, message.rows))
        if message.defaults is not None:
            shown_defaults = keys & message.touch.default_keys
            self._defaults = merge_defaults(self._defaults, shown_defaults, message.defaults)
        if not self._show_changed(keys, was_empty):
            self.rows_table.flash(keys)
        self.refresh_bindings()
        self.rows_table.table.refresh_bindings()
        self._seen(self.view)

    def refresh_ages(self) -> None:
        """Keep the "Changed" column's ages current ("1m" is "4m" a while later): the rows
        whose age reads differently now are redrawn alone, not highlighted; nothing is read
        again, the table is not rebuilt and the cursor stays (called on ``AGE_TICK_SECONDS``)."""
        view, layout = self.view, self._layout
        if view is None or layout is None or "Changed" not in layout.columns:
            return
        now = clock.now()
        ages = {r.key: clock.ago(r.updated_at, reference=now) for r in view.rows}
        keys = {key for key, age in ages.items() if self._ages.get(key) != age}
        if keys:
            self._show_changed(keys, False, flash=False)

    def _show_changed(self, keys: set[str], was_empty: bool, *, flash: bool = True) -> bool:
        """Redraw the rows of ``keys`` alone, highlighted unless ``flash`` is False (True);
        everything when the layout changes with them (a wider value, a longer name) or the
        view becomes or stops being empty (False: not highlighted yet)."""
        view, access = self.view, self.access
        if view is None or access is None:
            return False
        cells = CellMaker(access, dict(self.revealed), self._in_env())
        # The layout from every row's widths, measuring only the changed rows: the others
        # are drawn as they were measured (``_show_rows``).
        widths = self._row_widths
        for key in keys:
            widths.pop(key, None)
        widths.update((r.key, row_widths(r, cells)) for r in view.rows if r.key in keys)
        if len(widths) != len(view.rows):  # not the rows drawn: measure them all again
            widths = {r.key: row_widths(r, cells) for r in view.rows}
            self._row_widths = widths
        layout = layout_for(widths.values(), self._width())
        if _same_cells(layout, self._layout, max((w.value for w in widths.values()), default=0)):
            self._layout = layout  # only the room left over changed: no value is cut anew
        if layout != self._layout or was_empty or not view.rows:
            self._show_rows()
            return False
        changed = [self._machine_marked(cells.row(r, layout)) for r in view.rows if r.key in keys]
        self.rows_table.update_rows(
            changed, [r.key for r in view.rows], flash=keys if flash else ()
        )
        self._ages.update((r.key, clock.ago(r.updated_at)) for r in view.rows if r.key in keys)
        self._update_detail()
        return True


def _same_cells(new: Layout, old: Layout | None, widest_value: int) -> bool:
    """Whether ``new`` draws every row as ``old`` does: the same columns, and a value column
    that cuts no value in either (a "Changed" cell a character wider only takes room the
    values left)."""
    return (
        old is not None
        and new.columns == old.columns
        and new.short_changed == old.short_changed
        and min(new.value_width, old.value_width) >= widest_value
    )
