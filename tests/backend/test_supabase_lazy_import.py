"""Importing the Supabase transport must not import supabase-py (~0.6 s): the TUI's first
frame never waits for it."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_transport_does_not_import_supabase_py() -> None:
    code = (
        "import sys, devsync_tui.backend.supabase.backend, devsync_tui.commands.login; "
        "print(','.join(m for m in ('supabase', 'postgrest', 'realtime', 'supabase_auth', "
        "'httpx', 'websockets', 'keyring') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
