"""The key footer, rebuilt only when what it shows changes.

Textual's ``Footer`` recomposes (about twenty new ``FooterKey`` widgets) every time the screen
says its bindings may have changed, which every row highlight and every live data change
does. Each recompose also leaves the old keys registered as watchers of the footer's
``compact`` (``data_bind``; Textual prunes them only when ``compact`` changes), so they are never
freed: about 20 widgets and 0.3 MiB per teammate change, and garbage-collection pauses that
grow with them (issue 16). This footer compares what it would show with what it shows and
recomposes only on a difference, and drops the watchers of keys it removed.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """``textual.widgets.Footer`` without the rebuilds that show nothing new."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._shown: tuple[Hashable, ...] | None = None

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
        return (keys, palette_state, self.compact, self.show_command_palette)

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
        await super().recompose()
        self._shown = self.shown() if self._bindings_ready else None
        self._drop_removed_watchers()

    def _drop_removed_watchers(self) -> None:
        """Forget watchers registered by keys that are no longer in the footer."""
        watchers = getattr(self, "__watchers", {})
        for registered in watchers.values():
            registered[:] = [(node, cb) for node, cb in registered if node.is_attached]
