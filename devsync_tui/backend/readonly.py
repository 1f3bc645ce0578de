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
        "list_configurations", "project_keys", "effective_configuration", "project_configuration",
        "effective_configuration_keys", "project_configuration_keys",
        "configuration_history", "list_dependencies", "dependency_pages", "dependency_summary",
        "health_series",
        "health_sparklines", "health_latest", "audit_log", "answer_now", "open_workspace",
        "template", "config_states", "key_versions", "package_facts", "accepted_risks",
        "list_machine_tokens", "secrets_equal",
    }
)  # fmt: skip

#: Every other call of the Backend: refused. A test holds READS and WRITES to the contract,
#: so a new Backend method must be put in one of them (a read left out breaks its view in a
#: read-only dashboard; a write let through breaks the promise).
WRITES = frozenset(
    {
        "add_member", "confirm_save", "create_environment", "create_machine_token",
        "create_project", "create_team", "create_template", "delete_configuration",
        "delete_environment", "delete_project", "delete_team", "delete_template",
        "ignore_advisory", "remove_member", "rename_environment", "rename_team",
        "report_config_states", "report_dependencies", "report_health", "report_package_facts",
        "restore_configuration", "reveal_history_secret", "reveal_secret",
        "revoke_machine_token", "rollup_health", "save_configuration", "set_environment_status",
        "set_environment_owner", "set_member_role", "unignore_advisory", "update_project",
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
