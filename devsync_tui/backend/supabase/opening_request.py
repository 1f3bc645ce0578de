"""``open_workspace`` in one plain HTTP request, without supabase-py: what a first start on a
Supabase profile (no cached view yet) shows first, read in a thread while the UI loads
(importing supabase-py alone takes longer than the UI: ~0.35 s; a thread waiting on the
network costs the UI nothing).

Only with a stored session whose access token is still valid: refreshing uses (and replaces)
the refresh token, which one holder alone may use, so an expired session is left to the app
(``SupabaseBackend``), which refreshes it and makes the same call.
"""

from __future__ import annotations

import json
import time
import urllib.request

from devsync_tui.backend.opening import Opening, opening_from_document
from devsync_tui.backend.supabase import auth, session_store


def fetch_opening(
    url: str,
    anon_key: str,
    project: str | None,
    environment: str | None,
    *,
    timeout: float,
) -> Opening | None:
    """The opening as the stored session's user; None without a valid stored session or when
    the answer is not that user's. Network and HTTP errors raise (``OSError``)."""
    url = url.rstrip("/")
    if not url.startswith(("https://", "http://")):
        return None  # the app reports a bad URL in its words
    stored = auth.stored_session(session_store.peek(auth.storage_namespace(url), auth.SESSION_KEY))
    if stored is None:
        return None
    expires_at = stored.get("expires_at")
    token = stored.get("access_token")
    if not isinstance(expires_at, int) or expires_at <= time.time() + auth.REFRESH_MARGIN:
        return None
    if not isinstance(token, str) or not token:
        return None
    user = stored.get("user")
    if not isinstance(user, dict):
        return None
    request = urllib.request.Request(
        f"{url}/rest/v1/rpc/open_workspace",
        data=json.dumps({"p_project": project, "p_environment": environment}).encode(),
        method="POST",
        headers={
            "apikey": anon_key,
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        doc = json.loads(response.read())
    if not isinstance(doc, dict):
        return None
    email = user.get("email")
    opening = opening_from_document(doc, email if isinstance(email, str) else None)
    if str(opening.identity.user_id) != str(user.get("id")):
        return None
    return opening
