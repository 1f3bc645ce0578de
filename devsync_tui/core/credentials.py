"""Names and values that look like credentials: what ``devsync env import`` stores as a secret
unless told ``--plain``, and never prints.

A name looks like one when it ends in ``_TOKEN``, ``_SECRET`` or ``_KEY``, holds ``PASSWORD``
(or ``PASSWD``), or is ``TOKEN`` or ``SECRET`` itself (any letter case); a value
does when it holds a URL with a password (``scheme://user:password@host``).
"""

from __future__ import annotations

import re

_NAME = re.compile(r"(?:.*_)?(?:TOKEN|SECRET|KEY)|.*PASSW(?:OR)?D.*", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s@:]*:[^/?#\s@]+@")


def credential_name(name: str) -> bool:
    """Whether ``name`` reads as a credential's."""
    return _NAME.fullmatch(name) is not None and name.upper() != "KEY"


def url_with_password(value: str) -> bool:
    """Whether ``value`` holds a URL carrying a password."""
    return "://" in value and _URL_PASSWORD.search(value) is not None


def looks_like_credential(name: str, value: str | None) -> bool:
    """Whether a configuration should be kept secret by the look of its name or value."""
    return credential_name(name) or (value is not None and url_with_password(value))
