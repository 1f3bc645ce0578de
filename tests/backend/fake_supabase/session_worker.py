"""A separate DevSync process on a shared Supabase session, for the session-sharing tests.

``python -m tests.backend.fake_supabase.session_worker URL ANON_KEY SESSION_FILE COUNT`` opens
the Supabase transport on the session stored in SESSION_FILE (the fallback file, no keyring),
makes COUNT reads (each refreshes when the fake GoTrue hands out short tokens) and prints one
JSON line: ``{"reads": n, "error": null | "<sentence>"}``. Exit 0 when every read succeeded.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from devsync_tui.backend.errors import DevSyncError
from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.backend.supabase.session import SessionStorage


async def main(url: str, anon_key: str, session_file: Path, count: int) -> int:
    storage = SessionStorage(auth.storage_namespace(url), use_keyring=False, path=session_file)
    backend = SupabaseBackend(url, anon_key, storage=storage)
    reads = 0
    error: str | None = None
    try:
        await backend.connect()
        for _ in range(count):
            await backend.list_teams()
            reads += 1
    except DevSyncError as exc:
        error = str(exc)
    finally:
        await backend.close()
    print(json.dumps({"reads": reads, "error": error}), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    url, anon_key, path, count = sys.argv[1:5]
    sys.exit(asyncio.run(main(url, anon_key, Path(path), int(count))))
