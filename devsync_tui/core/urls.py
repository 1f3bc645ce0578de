"""URLs shown to people or stored for the team, without the credentials they may carry."""

from __future__ import annotations

import re
from typing import overload

# ``scheme://user:password@`` / ``scheme://token@`` (up to the last @ before the path) and the
# query string (``?token=…``, signed-URL signatures) of any URL in a version, a constraint or a
# message.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
_URL_QUERY = re.compile(r"(?P<url>://[^\s?#]*)\?[^\s#]*")


@overload
def without_credentials(text: str) -> str: ...
@overload
def without_credentials(text: None) -> None: ...
def without_credentials(text: str | None) -> str | None:
    """``text`` with the credentials of any URL in it removed (user info, query string)."""
    if text is None or "://" not in text:
        return text
    return _URL_QUERY.sub(r"\g<url>", _URL_USERINFO.sub(r"\g<scheme>", text))
