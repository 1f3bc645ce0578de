"""The one clock DevSync reads, so tests (snapshots) can freeze it.

Everything that shows "3 min ago" or picks a time window asks ``clock.now()``.
"""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time (timezone-aware, UTC), or the frozen time in tests."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at ``at`` (aware datetime); ``None`` unfreezes it."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = at


#: How often a shown age ("3 min ago") is drawn again: the tables and History redraw theirs.
AGE_TICK_SECONDS = 30.0


def ago(then: datetime | None, *, reference: datetime | None = None) -> str:
    """A short relative time: "just now", "3 min ago", "2 h ago", "5 d ago", or "never"."""
    if then is None:
        return "never"
    seconds = int(((reference or now()) - then).total_seconds())
    if seconds < 0:
        return "just now"
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"
