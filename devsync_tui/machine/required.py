"""Required keys of an environment, checked on this machine (``core/required.py`` says what
"required" and "missing" mean): the library behind ``devsync run``'s refusal to start.
"""

from __future__ import annotations

from collections.abc import Iterable

from devsync_tui.backend.base import Backend
from devsync_tui.backend.machine import MachineBackend
from devsync_tui.core.required import missing_required
from devsync_tui.machine.targets import Target


async def missing_keys(
    backend: Backend, target: Target, effective_keys: Iterable[str]
) -> tuple[list[str], str | None]:
    """The required keys ``target`` lacks, and the name of the template that requires them.
    Nothing is missing for the project defaults, an environment made from no template, or one
    whose template is gone. A machine token reads its own template's required keys only."""
    env = target.environment
    if env is None or env.template_id is None:
        return [], None
    if isinstance(backend, MachineBackend):
        keys, name = await backend.required_keys()
        present = set(effective_keys)
        return [k for k in keys if k not in present], name
    template = await backend.template(env.template_id)
    if template is None:
        return [], None
    return missing_required(template.config_json, effective_keys), template.name
