"""How a Backend read is named when its answer is kept for later: method, arguments, keywords.

The opening RPC fills answers under these keys and the cached view's stand-in answers by them;
both import the key from here, so neither needs the other (nor the Backend contract) to spell it.
"""

from __future__ import annotations

from collections.abc import Mapping

#: A read as the snapshot records it: method name, positional arguments, sorted keywords.
CallKey = tuple[str, tuple[object, ...], tuple[tuple[str, object], ...]]


def call_key(name: str, args: tuple[object, ...], kwargs: Mapping[str, object]) -> CallKey:
    """The snapshot key of ``name(*args, **kwargs)``; a list or set argument (some machines'
    ids) counts as the tuple of its items, so that every key can be looked up."""
    return (
        name,
        tuple(_hashable(a) for a in args),
        tuple(sorted((k, _hashable(v)) for k, v in kwargs.items())),
    )


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_hashable(v) for v in value)
    return value
