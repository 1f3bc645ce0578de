"""The Configuration tab's line for required keys an environment lacks (``core/required.py``):
read with the rows, shown above the table only when something is missing."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import DevSyncError
from devsync_tui.core.models import EffectiveConfigRow
from devsync_tui.core.required import missing_required
from devsync_tui.dashboard.session import Selection


async def read_missing(
    backend: Backend, selection: Selection, rows: Sequence[EffectiveConfigRow]
) -> tuple[tuple[str, ...], str | None]:
    """The required keys the selected environment lacks, and its template's name."""
    env = selection.environment
    if env is None or env.template_id is None:
        return (), None
    try:
        template = await backend.template(env.template_id)
    except DevSyncError:  # not readable now: the line waits for the next load
        return (), None
    if template is None:
        return (), None
    return tuple(missing_required(template.config_json, (r.key for r in rows))), template.name


def missing_line(missing: Sequence[str], template: str | None) -> Text:
    """``⚠ Missing required: A, B (template T)``: the keys first, so that a narrow pane cuts
    the template's name, not them. (``devsync run`` will not start without them.)"""
    return Text.assemble(
        ("⚠ Missing required: ", "bold red"),
        (", ".join(missing), "bold"),
        f" (template {template})",
    )
