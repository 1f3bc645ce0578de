"""The sentence a view shows when reading its data failed.

When the database or the link is down, the reason is the one the header gives (what is wrong
and what to do: "the local database is stopped: `devsync local start`"), and the view says it
reads again by itself once the link is back — not "try again in a moment" forever.
"""

from __future__ import annotations

from textual.widget import Widget

from devsync_tui.backend.errors import DevSyncError, Unavailable
from devsync_tui.dashboard.widgets.status_header import StatusHeader


def load_failure(widget: Widget, what: str, error: BaseException | None) -> str:
    """What ``widget``'s view says when reading ``what`` ("the dependencies") failed."""
    if isinstance(error, Unavailable):
        details = [h.link_detail for h in widget.screen.query(StatusHeader) if h.link != "live"]
        detail = next((d for d in details if d), "")
        why = detail.rstrip(".") or "the database cannot be reached right now"
        return f"Could not load {what}: {why}. Read again by itself once the link is back."
    reason = str(error).rstrip(".") if isinstance(error, DevSyncError) else "unexpected error"
    return f"Could not load {what} ({reason}). Read again on the next change, or when you refresh."
