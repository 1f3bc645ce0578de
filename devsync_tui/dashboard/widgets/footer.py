"""The key footer, rebuilt only when what it shows changes.

Textual's ``Footer`` recomposes (about twenty new ``FooterKey`` widgets) every time the screen
says its bindings may have changed, which every row highlight and every live data change
does. Each recompose also leaves the old keys registered as watchers of the footer's
``compact`` (``data_bind``; Textual prunes them only when ``compact`` changes), so they are never
freed: about 20 widgets and 0.3 MiB per teammate change, and garbage-collection pauses that
grow with them (issue 16). This footer compares what it would show with what it shows and
recomposes only on a difference, and drops the watchers of keys it removed.

It also fits the width: Textual's footer cuts the last keys off mid-label when they do not fit
(at 80 columns an admin's table offers eleven). Here the keys that do not fit are left out
whole, from the right, except Quit and Help (`?` lists every key of the screen, the ones left
out too).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

#: Actions never left out to make room (the help screen names the keys that were): how to
#: leave and how to find every other key.
KEEP_ACTIONS = frozenset({"app.help", "help", "app.quit", "quit"})


def key_width(key: FooterKey, compact: bool) -> int:
    """Cells a footer key takes with Textual's footer styles, its margin included."""
    text = cell_len(key.key_display) + cell_len(str(key.description))
    if compact:  # "k Label" and a one-cell margin
        return text + (1 if key.description else 0) + 1
    return text + 2 + (1 if key.description else 0)  # " k " and "Label "


def fitted(keys: list[FooterKey], width: int, compact: bool) -> list[FooterKey]:
    """``keys`` without those that do not fit in ``width``, dropped from the right; a key
    whose action is in ``KEEP_ACTIONS`` stays."""
    kept = list(keys)
    droppable = [k for k in reversed(kept) if k.action not in KEEP_ACTIONS]
    while sum(key_width(k, compact) for k in kept) > width and droppable:
        kept.remove(droppable.pop(0))
    return kept


class Footer(TextualFooter):
    """``textual.widgets.Footer`` without the rebuilds that show nothing new."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: What the keys on screen were composed from (None: not known, compose again).
        self._shown: tuple[Hashable, ...] | None = None
        #: What the last ``compose`` drew from, read as it ran.
        self._composed: tuple[Hashable, ...] | None = None

    def shown(self) -> tuple[Hashable, ...]:
        """Everything ``compose`` draws from: the shown bindings with their key display,
        description, group, whether they are enabled and their tooltip, and the styles."""
        active = self.screen.active_bindings
        keys = tuple(
            (
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                binding.group,
                enabled,
                tooltip,
            )
            for (_, binding, enabled, tooltip) in active.values()
            if binding.show
        )
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        palette_state = None if palette is None else (palette[1].key, palette[2], palette[3])
        return (keys, palette_state, self.compact, self.show_command_palette, self.app.size.width)

    def compose(self) -> ComposeResult:
        self._composed = self.shown() if self._bindings_ready else None
        widgets = list(super().compose())
        if any(not isinstance(w, FooterKey) for w in widgets):  # binding groups: as Textual
            yield from widgets
            return
        footer_keys = [w for w in widgets if isinstance(w, FooterKey)]
        palette = [w for w in footer_keys if w.has_class("-command-palette")]
        keys = [w for w in footer_keys if not w.has_class("-command-palette")]
        room = self.app.size.width - sum(_palette_width(w, self.compact) for w in palette)
        kept = fitted(keys, room, self.compact)
        yield from _in_order(widgets, [*kept, *palette])

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._recompose_if_changed)

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached or self.shown() == self._shown:
            return
        await self.recompose()

    async def recompose(self) -> None:
        self._composed = None
        await super().recompose()
        # What compose drew from, not what the bindings are now: the focus may have moved
        # while the new keys were mounted, and that change must still recompose (its
        # ``bindings_changed`` compares against this). Reading ``shown()`` here instead kept
        # the keys of the widget focused a moment before, with nothing left to replace them.
        self._shown = self._composed
        self._drop_removed_watchers()

    def _drop_removed_watchers(self) -> None:
        """Forget watchers registered by keys that are no longer in the footer."""
        watchers = getattr(self, "__watchers", {})
        for registered in watchers.values():
            registered[:] = [(node, cb) for node, cb in registered if node.is_attached]


def _palette_width(key: FooterKey, compact: bool) -> int:
    """The palette hint, docked right with a one-cell edge (and a padding unless compact)."""
    return key_width(key, compact) + (1 if compact else 2)


def _in_order(widgets: Iterable[Widget], kept: list[FooterKey]) -> list[Widget]:
    chosen = {id(w) for w in kept}
    return [w for w in widgets if id(w) in chosen]
