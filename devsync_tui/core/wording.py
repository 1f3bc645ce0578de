"""Small English helpers for what DevSync shows: counts and articles ("1 line", "an env"), and
long values cut to one readable line ("'aaaa…'… (1,048,576 characters)")."""

from __future__ import annotations

#: How many characters of a long value a change list, a diff or a listing shows.
SHOWN_CHARACTERS = 60


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number that fits: ``1 line``, ``2 lines``, ``0 envs``.

    ``plural`` is for nouns that do not just take an "s"."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def with_article(noun: str) -> str:
    """``noun`` with "a" or "an" before it, by its first letter: ``an environment``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def span(seconds: float) -> str:
    """A duration in its largest whole unit: ``24 h``, ``30 min``, ``5 s``."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _length(text: str) -> str:
    return f"… ({count(len(text), 'character')})"


def shortened(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """``text`` when it has at most ``limit`` characters, else its first ``limit`` and how
    long it is: ``aaaa… (1,048,576 characters)``. A 1 MiB value stays one short line."""
    return text if len(text) <= limit else text[:limit] + _length(text)


def quoted(value: str, limit: int = SHOWN_CHARACTERS) -> str:
    """A value as change lists show it, quoted (``repr``: line breaks and control characters
    escaped) and shortened like :func:`shortened`: ``'debug'``, ``'aaaa'… (1,048,576
    characters)``. Never pass a secret: callers show those masked."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + _length(value)
