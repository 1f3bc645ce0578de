"""`devsync --offline` shows the cached view and contacts nothing: it does not try to announce
presence either (no "presence not announced" traceback in the log every heartbeat)."""

from __future__ import annotations

import logging

import pytest

from tests.dashboard.conftest import wait_for
from tests.dashboard.test_cached_view import _age, _app, _factory, _keys, _see_live

pytestmark = pytest.mark.db


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_offline_announces_no_presence(fresh_db_url: str) -> None:
    await _see_live(fresh_db_url, project="storefront")
    _age(fresh_db_url, 1)
    app = _app(fresh_db_url, _factory(fresh_db_url, calls=[]), offline=True)
    records = _Records()
    logger = logging.getLogger("devsync.ui")
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.main_or_none is not None and bool(_keys(app)))
            asked: list[object] = []
            backend = app.main.session.backend

            async def set_presence(*args: object, **kwargs: object) -> None:
                asked.append(args)

            backend.set_presence = set_presence  # type: ignore[method-assign]
            await pilot.press("j", "k")  # moving announces where a live dashboard is
            await pilot.pause(0.5)
            assert asked == []
            await pilot.press("q")
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    presence = [r for r in records.records if "presence" in r.getMessage()]
    assert presence == []
