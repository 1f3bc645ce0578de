"""Secret values masked in a byte stream: what ``devsync run`` does to its child's output.

:class:`Masker` takes chunks as they are read and gives back what may be shown now, each
secret value replaced by ``<concealed by devsync: NAME>`` (as 1Password's ``op run`` does).
It holds back at most ``len(longest secret) - 1`` bytes — only from where the output could be
the beginning of a secret — so a secret split across two reads is still found. A held-back
tail is released as soon as it cannot be the start of a secret: at a newline (when no secret
holds one), or when the caller flushes it (``final``) after a short quiet spell, so a prompt
without a newline still shows at once. A secret whose halves are written more than that
spell apart is shown as written (``machine/output.py``: 50 ms).

Values shorter than :data:`MIN_MASKED` characters are not masked: masking ``1`` or ``dev``
would blot out ordinary output everywhere and, by where the placeholders fall, tell the value
anyway. :func:`plan_masks` says which were left out so that ``devsync run`` can say so. The
same floor keeps such values out of the log scrubber (``logging_setup.register_secret``).
Matching is on the exact UTF-8 bytes; where two secrets could match at one place the longer
wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MIN_MASKED = 4
#: Above this length the whole tail is held back rather than checked place by place.
_EXACT_TAIL_LIMIT = 4096


def placeholder(name: str) -> bytes:
    """What a secret's value is replaced with."""
    return f"<concealed by devsync: {name}>".encode()


@dataclass(frozen=True, slots=True)
class MaskPlan:
    """The secrets to mask (value bytes -> name) and the names too short to mask."""

    masks: dict[bytes, str]
    too_short: list[str]


def plan_masks(secrets: Mapping[str, str]) -> MaskPlan:
    """Which of ``secrets`` (name -> value) are masked. Two names with one value share the
    first name in order."""
    masks: dict[bytes, str] = {}
    short: list[str] = []
    for name in sorted(secrets):
        value = secrets[name]
        if len(value) < MIN_MASKED:
            if value:
                short.append(name)
            continue
        masks.setdefault(value.encode("utf-8"), name)
    return MaskPlan(masks, short)


class Masker:
    """Masks the secrets of one output stream, chunk by chunk."""

    def __init__(self, masks: Mapping[bytes, str]) -> None:
        values = sorted(masks, key=len, reverse=True)  # the longer wins where both match
        self._values = values
        self._names = dict(masks)
        self._longest = len(values[0]) if values else 0
        self._newline_safe = not any(b"\n" in v for v in values)
        self._pending = b""

    @property
    def pending(self) -> int:
        """How many bytes are held back."""
        return len(self._pending)

    def feed(self, chunk: bytes, *, final: bool = False) -> bytes:
        """The bytes that may be shown after ``chunk``; ``final`` releases everything (end of
        the stream, or a quiet spell: no more of a secret is coming now)."""
        if not self._values:
            return chunk
        buf = self._pending + chunk
        # Up to here a match is complete for good: enough bytes follow for the longest secret,
        # or (no secret holds a newline) a newline follows.
        settled = len(buf) if final else len(buf) - self._longest + 1
        if self._newline_safe and not final:
            settled = max(settled, buf.rfind(b"\n") + 1)
        out: list[bytes] = []
        done = 0
        for start, value in self._matches(buf):
            if start >= settled and self._may_grow(buf[start:]):
                break  # a longer secret may begin here: wait for the bytes that tell
            out.append(buf[done:start])
            out.append(placeholder(self._names[value]))
            done = start + len(value)
        cut = len(buf) if final else self._held_from(buf, max(done, settled))
        out.append(buf[done:cut])
        self._pending = buf[cut:]
        return b"".join(out)

    def _matches(self, buf: bytes) -> list[tuple[int, bytes]]:
        """Where secrets occur in ``buf``, left to right, not overlapping; where several start
        at one place, the longest. (``bytes.find`` per value: far faster than one regular
        expression of alternatives.)"""
        found: list[tuple[int, int, bytes]] = []
        for value in self._values:
            at = buf.find(value)
            while at >= 0:
                found.append((at, -len(value), value))
                at = buf.find(value, at + 1)
        found.sort()
        chosen: list[tuple[int, bytes]] = []
        end = 0
        for at, _length, value in found:
            if at >= end:
                chosen.append((at, value))
                end = at + len(value)
        return chosen

    def _may_grow(self, rest: bytes) -> bool:
        """Whether more bytes after ``rest`` could make it the beginning of a secret."""
        if self._longest > _EXACT_TAIL_LIMIT:
            return True
        return any(len(value) > len(rest) and value.startswith(rest) for value in self._values)

    def _held_from(self, buf: bytes, start: int) -> int:
        """Where the bytes that could still become a secret begin (from ``start`` on): the
        first place whose rest is the beginning of a secret value."""
        if self._longest > _EXACT_TAIL_LIMIT:
            return start  # hold the whole tail: checking each place would cost too much
        for at in range(start, len(buf)):
            rest = buf[at:]
            if any(value.startswith(rest) for value in self._values):
                return at
        return len(buf)

    def flush(self) -> bytes:
        """Everything held back, masked."""
        return self.feed(b"", final=True)
