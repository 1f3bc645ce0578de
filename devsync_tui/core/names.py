"""Package names compared the way each ecosystem compares them.

``package_key(manager, name)`` is the comparison key: two names with the same key are the
same package. Parsers store names as the ecosystem publishes them (pip's in PEP 503 normal
form, which is how pip itself looks them up); drift and every other comparison go through the
key, never through ``==`` on the names.

- pip (PEP 503): runs of ``-``, ``_`` and ``.`` are one ``-``, case is ignored
  (``Foo_Bar.baz`` is ``foo-bar-baz``).
- npm: exactly as published. The registry is case-sensitive (``JSONStream`` and
  ``jsonstream`` are two different packages) and scopes are never case-folded
  (``@Types/node`` is not ``@types/node``); new names must be lowercase, legacy ones keep
  their capitals.
- gem: exactly as published (RubyGems and Bundler compare names as given).
- cargo: crates.io refuses a crate whose name differs from an existing one only in case or in
  ``-`` versus ``_``, and Cargo finds a crate under either spelling, so those differences are
  ignored (``serde_json`` is ``Serde-JSON``) — lossless, since no two published crates differ
  only that way.

:func:`closest` is the other question asked of names: which known name did someone who typed
an unknown one probably mean (``did you mean LOG_LEVEL?``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from devsync_tui.core.models import PackageManager

_PEP503_SEPARATORS = re.compile(r"[-_.]+")


def pep503(name: str) -> str:
    """A Python distribution name in PEP 503 normal form."""
    return _PEP503_SEPARATORS.sub("-", name.strip()).lower()


def crate_key(name: str) -> str:
    """A crate name as crates.io compares it (case and ``-``/``_`` ignored)."""
    return name.strip().lower().replace("_", "-")


def package_key(manager: PackageManager, name: str) -> str:
    """The key under which ``manager`` considers ``name`` one package."""
    if manager is PackageManager.PIP:
        return pep503(name)
    if manager is PackageManager.CARGO:
        return crate_key(name)
    return name.strip()  # npm and gems: as published


def same_package(manager: PackageManager, a: str, b: str) -> bool:
    """Whether two names denote the same package of ``manager``."""
    return package_key(manager, a) == package_key(manager, b)


#: How alike (``difflib`` ratio, letter case ignored) a name must be to be suggested
#: (difflib's own default: "store" → "storefront" is 0.67).
CLOSE_ENOUGH = 0.6


def closest(
    name: str, known: Iterable[str], *, limit: int = 3, cutoff: float = CLOSE_ENOUGH
) -> list[str]:
    """The names among ``known`` that someone who typed ``name`` probably meant, best first,
    at most ``limit``: those equal to it in another letter case (``log_level`` →
    ``LOG_LEVEL``), else those close to it (``LOG_LEVL`` → ``LOG_LEVEL``; at least ``cutoff``
    alike); none when nothing is close. ``name`` itself is never suggested."""
    by_fold: dict[str, list[str]] = {}
    for candidate in sorted(set(known) - {name}):
        by_fold.setdefault(candidate.casefold(), []).append(candidate)
    folded = name.casefold()
    if folded in by_fold:
        return by_fold[folded][:limit]
    near = difflib.get_close_matches(folded, list(by_fold), n=limit, cutoff=cutoff)
    return [candidate for match in near for candidate in by_fold[match]][:limit]
