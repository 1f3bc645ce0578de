"""What a live batch did to the Configuration tab's view (``panes.config_keys``): the keys it
touched, found without indexing the shown rows unless an event lacks its row (a delete), and
the view's rows merged with the keys read again (in place for the same keys; in order for new
ones)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

from devsync_tui.backend.live import ChangeEvent
from devsync_tui.core.models import ConfigType, EffectiveConfigRow, Project, Team
from devsync_tui.dashboard.messages import LiveBatch
from devsync_tui.dashboard.panes.config_keys import merge_rows, touched
from devsync_tui.dashboard.session import Selection

TEAM = Team(uuid4(), "Acme", "acme", uuid4())
PROJECT = Project(uuid4(), TEAM.id, "storefront")
SELECTION = Selection(TEAM, PROJECT)


def _row(key: str, version: int = 1) -> EffectiveConfigRow:
    return EffectiveConfigRow(
        uuid4(), PROJECT.id, None, key, "v", False, ConfigType.ENV_VAR, version, "default"
    )


class _Rows(tuple[EffectiveConfigRow, ...]):
    """The shown rows, counting how often they are walked."""

    walks = 0

    def __iter__(self) -> Iterator[EffectiveConfigRow]:
        type(self).walks += 1
        return super().__iter__()


def _event(row: EffectiveConfigRow | None, ident: UUID) -> ChangeEvent:
    op = "UPDATE" if row is not None else "DELETE"
    return ChangeEvent("configurations", op, str(ident), row, TEAM.id, PROJECT.id, None)


def test_saves_are_placed_by_their_rows_without_walking_the_view() -> None:
    rows = _Rows(_row(f"KEY_{i:04}") for i in range(1000))
    _Rows.walks = 0
    saved = [_row("KEY_0007", 2), _row("KEY_0500", 3)]
    batch = LiveBatch([_event(r, r.configuration_id) for r in saved])
    found = touched(batch, SELECTION, rows, {})
    assert found is not None
    assert found.keys == {"KEY_0007", "KEY_0500"}
    assert not found.whole
    assert _Rows.walks == 0


def test_a_delete_is_placed_by_the_shown_row_with_its_id() -> None:
    rows = _Rows(_row(f"KEY_{i:04}") for i in range(10))
    _Rows.walks = 0
    gone = rows[3]
    found = touched(LiveBatch([_event(None, gone.configuration_id)]), SELECTION, rows, {})
    assert found is not None
    assert found.keys == {"KEY_0003"}
    assert _Rows.walks == 1  # indexed once, for the event without its row


def test_the_same_keys_are_merged_in_place() -> None:
    rows = tuple(_row(k) for k in ("a", "B", "c"))
    new_b = _row("B", 2)
    merged = merge_rows(rows, {"B"}, [new_b])
    assert merged == (rows[0], new_b, rows[2])
    assert merged[0] is rows[0]
    assert merged[2] is rows[2]


def test_new_and_deleted_keys_keep_the_whole_reads_order() -> None:
    rows = tuple(_row(k) for k in ("a", "c", "d"))
    merged = merge_rows(rows, {"B", "d"}, [_row("B")])  # B added, d deleted
    assert [r.key for r in merged] == ["a", "B", "c"]
    assert merged[0] is rows[0]
    assert merge_rows(rows, {"c"}, []) == (rows[0], rows[2])
    assert merge_rows(rows, {"zz"}, []) == rows
