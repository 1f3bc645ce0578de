"""Transport-neutral rules of the Backend contract that are not sentences: the order of lists,
the bounds of paged reads, the checks made before a request leaves. ``base.Backend`` applies
them around every transport's calls (sentences live in ``refusals``).

Orders are computed here, not by the database: a server's collation depends on its locale (the
embedded one takes the machine's, a Supabase project its own), and lists must not change order
with it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar

from devsync_tui.backend.errors import Conflict, DevSyncError, InvalidInput, NotFound
from devsync_tui.backend.refusals import NO_SECRET_VALUE, NOT_FINITE, too_many
from devsync_tui.core.models import (
    AuditEntry,
    ConfigHistoryEntry,
    Configuration,
    EffectiveConfigRow,
    Environment,
    EnvTemplate,
    HealthCheck,
    Project,
    Team,
    TeamMember,
)
from devsync_tui.logging_setup import register_secret

Named = TypeVar("Named", Team, Project, EnvTemplate, Environment)
KeyedRow = TypeVar("KeyedRow", Configuration, EffectiveConfigRow)
Entry = TypeVar("Entry", ConfigHistoryEntry, AuditEntry)


def by_name(items: Iterable[Named]) -> list[Named]:
    """Teams, projects, templates, environments: by name as a person reads it (ignoring case),
    then by exact name, then by id, so that the order is total."""
    return sorted(items, key=lambda item: (item.name.casefold(), item.name, item.id))


def by_username(members: Iterable[TeamMember]) -> list[TeamMember]:
    """Members by username (ignoring case, then exact), then user id; members whose profile I
    may not read (no username) last."""
    return sorted(
        members,
        key=lambda m: (
            m.username is None,
            (m.username or "").casefold(),
            m.username or "",
            m.user_id,
        ),
    )


def by_key(rows: Iterable[KeyedRow]) -> list[KeyedRow]:
    """Configuration rows by key, exactly (code point order): keys are identifiers and paths,
    ``LOG_LEVEL`` and ``log_level`` are two keys. Within a scope a key is unique."""
    return sorted(rows, key=lambda row: row.key)


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """History and audit entries: newest (highest id) first."""
    return sorted(entries, key=lambda entry: entry.id, reverse=True)


def health_order(points: Iterable[HealthCheck]) -> list[HealthCheck]:
    """Raw health points by environment, metric, then time (the order of ``health_latest``
    and ``health_sparklines``)."""
    return sorted(points, key=lambda p: (p.environment_id, str(p.metric_type), p.recorded_at))


def at_least_one(limit: int) -> int:
    """``limit`` of a newest-first read (history, audit log): at least one entry is asked for."""
    return max(1, limit)


def page(limit: int | None, offset: int) -> tuple[int | None, int]:
    """``limit``/``offset`` of a paged list, never negative (None: no limit)."""
    return (None if limit is None else max(0, limit)), max(0, offset)


def check_report(what: str, limit: int, items: Sequence[Any]) -> None:
    """Refuse a report larger than the database accepts before sending it, in its words."""
    if len(items) > limit:
        raise too_many(what, limit, len(items))


def check_json(value: Any) -> None:
    """Refuse JSON with a number that is not finite (NaN, infinity): no transport can send it.
    Walks without recursion (JSON nested too deeply is refused when it is encoded)."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidInput(NOT_FINITE)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def revealed(value: str | None) -> str:
    """A revealed value, registered for log redaction before anyone can log it."""
    if value is None:
        raise NotFound(NO_SECRET_VALUE)
    register_secret(value)
    return value


async def with_current(conflict: Conflict, stored: Awaitable[Configuration | None]) -> Conflict:
    """``conflict`` with the row now stored and its version. When that row cannot be read (the
    link broke, row-level security hides it) the conflict is told as the database said it."""
    try:
        current = await stored
    except DevSyncError:
        return conflict
    if current is None:
        return conflict
    return Conflict(str(conflict), current_version=current.version, current=current)
