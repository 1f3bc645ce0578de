"""When a machine that says it is active has gone quiet: its agent reports every
``AGENT_INTERVAL`` seconds (``devsync agent``'s default), so a report older than twice that
means it is not running, whatever status it last wrote."""

from __future__ import annotations

from datetime import datetime, timedelta

from devsync_tui.core.models import EnvStatus

#: ``devsync agent``'s default ``--interval`` (seconds).
AGENT_INTERVAL = 60.0
#: An environment that last reported longer ago than this is stale.
STALE_AFTER = timedelta(seconds=2 * AGENT_INTERVAL)
#: The state shown for such an environment (beside EnvStatus's values).
STALE = "stale"


def is_stale(status: EnvStatus, last_sync_at: datetime | None, now: datetime) -> bool:
    """An environment that says it is active or syncing but has not reported for longer than
    ``STALE_AFTER`` (or never). Offline and error states say what they are already."""
    if status not in (EnvStatus.ACTIVE, EnvStatus.SYNCING):
        return False
    return last_sync_at is None or now - last_sync_at > STALE_AFTER


def shown_status(status: EnvStatus, last_sync_at: datetime | None, now: datetime) -> str:
    """What to call the environment's state on screen: its status, or ``"stale"``."""
    return STALE if is_stale(status, last_sync_at, now) else status.value
