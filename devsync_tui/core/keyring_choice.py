"""Whether DevSync may use the OS keyring at all (a module of its own: light to import)."""

from __future__ import annotations

import os


def keyring_disabled() -> bool:
    """``DEVSYNC_KEYRING=off`` (or 0, no, file): DevSync keeps the OS keyring out entirely —
    the local encryption key and Supabase sessions live in their 0600 files instead."""
    return os.environ.get("DEVSYNC_KEYRING", "").strip().lower() in {"off", "0", "no", "file"}
