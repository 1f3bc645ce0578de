"""The keys a live batch touched in the Configuration tab's view, their keyed read, and the
merge of what it read into the rows shown (issue 16: a change updates what it touched, never a
whole-table re-read; ``config_live`` drives it). What cannot be placed from what is on screen
is left to a whole read of the view."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from devsync_tui.backend.base import Backend
from devsync_tui.core.models import EffectiveConfigRow
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.session import Selection

#: More keys than this in one batch: one whole read instead (an import, a restore of many).
MAX_KEYED = 50


@dataclass(frozen=True, slots=True)
class Touched:
    """What a batch did to the shown view."""

    #: The keys to read again (and flash).
    keys: frozenset[str]
    #: Of those, the keys whose project default changed: an environment's view re-reads its
    #: defaults too (the detail line names the default an override replaces).
    default_keys: frozenset[str]
    #: Configurations whose revealed value is stale now.
    stale: frozenset[UUID]
    #: Only a whole read can tell (a resync, too many keys, a row not placed).
    whole: bool


def touched(
    batch: LiveBatch,
    selection: Selection,
    rows: Sequence[EffectiveConfigRow],
    defaults: Mapping[UUID, EffectiveConfigRow],
) -> Touched | None:
    """The keys of the shown scope that ``batch`` changed; None when it changed none of them.

    A changed row says its scope and key; a deleted one only its id, found among the rows
    shown (or, in an environment, among the defaults its overrides replace). Another
    environment's row is none of this view's business. Whether a default shows through an
    environment is the database's to say: its key is simply read again."""
    assert selection.project is not None
    env_id = selection.environment.id if selection.environment else None
    keys: set[str] = set()
    default_keys: set[str] = set()
    stale: set[UUID] = set()
    whole = batch.resync
    shown = _ById(rows)
    by_id = _ById(defaults.values() if env_id is not None else ())
    relevant = whole
    for event in batch.changes:
        if event.table != "configurations" or event.project_id != selection.project.id:
            continue
        if (ident := _as_uuid(event.id)) is not None:
            stale.add(ident)
        place = _place(event.row, event.id, event.environment_id, env_id, shown, by_id)
        if place is None:  # another environment's row
            continue
        relevant = True
        if place is _UNPLACED:
            whole = True
            continue
        key, is_default = place
        keys.add(key)
        if is_default and env_id is not None:
            default_keys.add(key)
    if not relevant:
        return None
    whole = whole or len(keys) > MAX_KEYED
    return Touched(frozenset(keys), frozenset(default_keys), frozenset(stale), whole)


_UNPLACED = ("", False)


def _place(
    row: object,
    ident: str,
    scope: UUID | None,
    env_id: UUID | None,
    shown: _ById,
    defaults: _ById,
) -> tuple[str, bool] | None:
    """(key, is a project default) of a changed configuration; None: another environment's;
    ``_UNPLACED``: neither the event nor the screen says which key it was."""
    key = getattr(row, "key", None)
    if row is not None and isinstance(key, str):
        row_scope = getattr(row, "environment_id", None)
        if row_scope is not None and row_scope != env_id:
            return None
        return key, row_scope is None
    known = shown.get(ident) or defaults.get(ident)
    if known is not None:
        return known.key, known.environment_id is None
    if scope is not None and scope != env_id:
        return None
    return _UNPLACED


class _ById:
    """Rows by their configuration id as text, indexed on the first lookup: only an event
    without its row (a delete) looks one up, so a batch of saves costs nothing per row
    shown."""

    def __init__(self, rows: Iterable[EffectiveConfigRow]) -> None:
        self._rows = rows
        self._index: dict[str, EffectiveConfigRow] | None = None

    def get(self, ident: str) -> EffectiveConfigRow | None:
        if self._index is None:
            self._index = {str(r.configuration_id): r for r in self._rows}
        return self._index.get(ident)


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


async def read_keys(
    backend: Backend, selection: Selection, touch: Touched
) -> tuple[list[EffectiveConfigRow], list[EffectiveConfigRow] | None]:
    """The shown scope's rows of the touched keys, and in an environment its project defaults
    of the touched default keys (None when it read none)."""
    assert selection.project is not None
    project_id, env = selection.project.id, selection.environment
    if env is None:
        return await backend.project_configuration_keys(project_id, touch.keys), None
    rows = await backend.effective_configuration_keys(env.id, touch.keys)
    if not touch.default_keys:
        return rows, None
    return rows, await backend.project_configuration_keys(project_id, touch.default_keys)


def merge_rows(
    rows: Sequence[EffectiveConfigRow], keys: Iterable[str], fresh: Iterable[EffectiveConfigRow]
) -> tuple[EffectiveConfigRow, ...]:
    """``rows`` with the rows of ``keys`` replaced by ``fresh`` (absent there: gone), in the
    order a whole read gives (``workspace.read_rows``); the other rows are the same objects."""
    gone = set(keys)
    new = {r.key: r for r in fresh if r.key in gone}
    if new.keys() == {r.key for r in rows if r.key in gone}:  # the same keys, new rows
        return tuple(new.get(r.key, r) for r in rows)
    kept = [r for r in rows if r.key not in gone]
    merged = kept + list(new.values())
    if len(merged) == len(kept):
        return tuple(kept)
    return tuple(sorted(merged, key=lambda r: (r.key.lower(), r.key)))


def merge_defaults(
    defaults: Mapping[UUID, EffectiveConfigRow],
    keys: Iterable[str],
    fresh: Iterable[EffectiveConfigRow],
) -> dict[UUID, EffectiveConfigRow]:
    """The defaults by id with those of ``keys`` replaced by ``fresh``."""
    gone = set(keys)
    merged = {i: r for i, r in defaults.items() if r.key not in gone}
    merged.update((r.configuration_id, r) for r in fresh if r.key in gone)
    return merged
