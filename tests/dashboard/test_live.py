"""Live updates: bursts are coalesced; link state drives the header; resync re-reads."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from textual.message import Message

from devsync_tui.backend.base import ChangeEvent, LinkChanged, Resync
from devsync_tui.dashboard.messages import LiveBatch, coalesce
from tests.dashboard.conftest import make_test_app, wait_for, wait_ready
from tests.dashboard.helpers import cell_text, config_pane
from tests.support import demo

P = demo.PROJECT_STOREFRONT


def _change(table: str, ident: str, op: str = "UPDATE") -> ChangeEvent:
    return ChangeEvent(table, op, ident, None, project_id=P)  # type: ignore[arg-type]


def test_coalesce_keeps_the_newest_change_per_row_and_link_state() -> None:
    events = [
        _change("configurations", "a"),
        LinkChanged("reconnecting"),
        _change("configurations", "b"),
        _change("configurations", "a", "DELETE"),
        LinkChanged("live"),
    ]
    kept = coalesce(events)
    assert kept == [events[2], events[3], events[4]]


def test_coalesce_drops_changes_before_a_resync() -> None:
    events = [_change("configurations", str(i)) for i in range(500)]
    events += [Resync("reconnected"), _change("teams", "t")]
    kept = coalesce(events)
    assert kept == [events[500], events[501]]


def test_coalesce_keeps_a_presence_push_per_project() -> None:
    # one client moving from storefront to billing-api: two pushes with one client id
    moved_from = ChangeEvent("presence", "UPDATE", "c1", None, project_id=P)
    moved_to = ChangeEvent("presence", "UPDATE", "c1", None, project_id=demo.PROJECT_BILLING)
    again = ChangeEvent("presence", "UPDATE", "c2", None, project_id=P)
    assert coalesce([moved_from, moved_to, again]) == [moved_to, again]


def test_live_batch_answers_what_it_touches() -> None:
    batch = LiveBatch([_change("configurations", "a"), LinkChanged("offline")])
    assert batch.touches("configurations")
    assert not batch.touches("teams")
    assert batch.link == LinkChanged("offline")
    assert not batch.resync
    assert LiveBatch([Resync("gap")]).touches("anything")


@pytest.mark.db
async def test_a_burst_of_changes_is_a_few_redraws(fresh_db_url: str) -> None:
    batches: list[LiveBatch] = []

    def hook(message: Message) -> None:
        if isinstance(message, LiveBatch):
            batches.append(message)

    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size, message_hook=hook) as pilot:
        await wait_ready(pilot)
        batches.clear()

        def burst() -> None:
            # 200 separate commits by another client, as fast as they go.
            with psycopg.connect(fresh_db_url, autocommit=True) as conn:
                for i in range(200):
                    conn.execute(
                        "select private.write_configuration(%s, null, 'BURST', %s, false, "
                        "'env_var', %s)",
                        (P, str(i), None if i == 0 else i),
                    )

        await asyncio.to_thread(burst)
        pane = config_pane(app)
        await wait_for(
            pilot,
            lambda: any(r.key == "BURST" and r.version == 200 for r in pane.view.rows),
            within=10,
        )
        assert cell_text(pane, "BURST", 1) == "199"
        changes = sum(len(b.changes) for b in batches)
        assert len(batches) < 40, f"{len(batches)} redraws for 200 changes"
        print(f"burst: 200 commits -> {len(batches)} batches, {changes} change events")


@pytest.mark.db
async def test_link_state_shows_in_the_header_and_resync_rereads(fresh_db_url: str) -> None:
    app = make_test_app(fresh_db_url, "alice", project="storefront")
    async with app.run_test(size=app.test_size) as pilot:
        await wait_ready(pilot)
        header = app.main.header
        app.post_message(LiveBatch([LinkChanged("reconnecting", "connection lost")]))
        await wait_for(pilot, lambda: header.link == "reconnecting")
        assert "○ reconnecting" in str(header.render())
        # While "away", a value changes without a notification reaching us.
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute("set session_replication_role = replica")  # no triggers: no notify
            conn.execute(
                "update public.configurations set value = 'resynced' "
                "where project_id = %s and environment_id is null and key = 'NODE_ENV'",
                (P,),
            )
        app.post_message(LiveBatch([Resync("reconnected"), LinkChanged("live")]))
        await wait_for(pilot, lambda: header.link == "live")
        pane = config_pane(app)
        await wait_for(pilot, lambda: cell_text(pane, "NODE_ENV", 1) == "resynced")
