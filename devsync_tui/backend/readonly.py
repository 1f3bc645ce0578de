"""A read-only Backend: what ``devsync --read-only`` (or ``read_only = true``) connects the
dashboard through. Every call that is not a read on the list below (a write, a reveal, a
token) is refused before it reaches the database, whatever the UI offered."""

from __future__ import annotations

from typing import Any, cast

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import PermissionDenied

#: The calls a read-only dashboard makes: reads, the change feed, its own presence.
READS = frozenset(
    {
        "whoami", "my_roles", "connect", "close", "ping", "changes", "presence", "set_presence",
        "list_teams", "list_members", "list_projects", "list_templates", "list_environments",
        "list_configurations", "effective_configuration", "project_configuration",
        "configuration_history", "list_dependencies", "health_series", "health_buckets",
        "health_latest", "audit_log", "answer_now",
    }
)  # fmt: skip

REFUSAL = (
    "This dashboard is read-only (--read-only, or read_only in the settings): "
    "it neither changes nor reveals anything."
)


class ReadOnlyBackend:
    """Passes reads (``READS``) and plain attributes (``label``) to ``backend``; every other
    call raises PermissionDenied."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if callable(value) and name not in READS:
            return _refused
        return value


async def _refused(*_args: object, **_kwargs: object) -> Any:
    raise PermissionDenied(REFUSAL)


def read_only(backend: Backend) -> Backend:
    """``backend`` behind a ReadOnlyBackend (one already read-only is returned as it is)."""
    if isinstance(backend, ReadOnlyBackend):
        return backend
    return cast(Backend, ReadOnlyBackend(backend))
