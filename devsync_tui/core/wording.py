"""Small English helpers for counts and articles in what DevSync shows ("1 line", "an env")."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number that fits: ``1 line``, ``2 lines``, ``0 envs``.

    ``plural`` is for nouns that do not just take an "s"."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def with_article(noun: str) -> str:
    """``noun`` with "a" or "an" before it, by its first letter: ``an environment``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
