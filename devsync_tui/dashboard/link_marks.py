"""The header's right-hand mark: the link's state, or that the view is the cached one and
how old it is. Imports no UI: a start writes the mark into a replayed frame before Textual is
imported (``dashboard.frame_replay``), and it must read as the header's own."""

from __future__ import annotations

from datetime import datetime

from devsync_tui.core import clock

LINKS = {
    "live": ("● live", "green"),
    "reconnecting": ("○ reconnecting", "yellow"),
    "offline": ("○ offline", "red"),
    "connecting": ("○ connecting", "grey50"),
}


def link_mark(
    link: str, detail: str, cached_at: datetime | None, *, now: datetime | None = None
) -> tuple[str, str]:
    """The mark and its colour for the link's state ``link`` (``detail``: why it is not
    live), ``cached_at``: when the cached view on screen was seen (None: live data)."""
    label, colour = LINKS.get(link, (link, "grey50"))
    if cached_at is not None:
        ago = clock.ago(cached_at, reference=now)
        if link == "offline":
            more = f" ({detail})" if detail == "--offline" else ""
            return f"○ offline — cached view from {ago}{more}", "red"
        old = ago.replace(" ago", " old")
        return f"◌ cached · {old} · {label.lstrip('●○ ')}", "yellow"
    if link in ("reconnecting", "offline") and detail:
        label = f"{label} — {detail}"
    return label, colour
