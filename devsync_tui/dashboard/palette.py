"""The command palette's providers: every action by name (from the bindings, which come from
the key registry in ``keys.py``), and a jump to any team, project, environment or key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widget import Widget


@dataclass(frozen=True, slots=True)
class JumpTarget:
    """A place the palette can jump to (a team, project, environment or configuration key)."""

    label: str
    help: str
    go: Callable[[], object]


@dataclass(frozen=True, slots=True)
class PaletteAction:
    """An action the palette offers: its name and help, how to run it, and the action it
    names (each action is listed once)."""

    name: str
    help: str
    run: Callable[[], object]
    action: str


@runtime_checkable
class PaletteSource(Protocol):
    """A screen that offers more than its focused widget's keys (the main screen: every tab's
    actions, the tabs themselves, and places to jump to)."""

    def palette_actions(self) -> list[PaletteAction]: ...

    def jump_targets(self) -> list[JumpTarget]: ...

    async def load_jump_keys(self) -> None: ...


def widget_actions(
    root: Widget, run: Callable[[Widget, str], Awaitable[None]]
) -> list[PaletteAction]:
    """Every DevSync command bound in ``root`` or below it that its widget offers now (its
    ``check_action``), each action once; the tables' own keys (``table.*``) are no commands.
    Each runs as ``run(widget, action)``."""
    found: list[PaletteAction] = []
    seen: set[str] = set()
    for node in (root, *root.query("*")):
        for cls in type(node).__mro__:
            for binding in cls.__dict__.get("BINDINGS", ()):
                if not isinstance(binding, Binding) or not binding.id:
                    continue
                if binding.action in seen or not binding.description:
                    continue
                if binding.id.startswith("table."):
                    continue
                if node.check_action(binding.action, ()) is False:
                    continue
                seen.add(binding.action)
                found.append(
                    PaletteAction(
                        binding.description,
                        binding.tooltip,
                        partial(run, node, binding.action),
                        binding.action,
                    )
                )
    return found


class ActionsProvider(Provider):
    """Every action that has a key on the current screen, by its name."""

    def _actions(self) -> list[PaletteAction]:
        found: list[PaletteAction] = []
        seen: set[str] = set()
        screen = self.screen
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            # Textual's own widget keys (cursor moves, paging, focus next) are no commands;
            # DevSync's all carry an id.
            if not binding.id:
                continue
            # The palette opens itself; the number keys' tabs are its "Show …" commands.
            if binding.action == "command_palette" or binding.action.startswith("show_tab_"):
                continue
            seen.add(binding.action)
            run = partial(self.app.run_action, binding.action, active.node)
            found.append(PaletteAction(binding.description, binding.tooltip, run, binding.action))
        # Actions of the views not focused now (a screen may offer them: MainScreen does).
        if isinstance(screen, PaletteSource):
            for more in screen.palette_actions():
                if more.action not in seen:
                    seen.add(more.action)
                    found.append(more)
        return found

    async def discover(self) -> Hits:
        for action in self._actions():
            yield DiscoveryHit(action.name, action.run, help=action.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self._actions():
            score = matcher.match(action.name)
            if score > 0:
                yield Hit(score, matcher.highlight(action.name), action.run, help=action.help)


class JumpProvider(Provider):
    """Jump to any team, project, environment or configuration key."""

    def _source(self) -> PaletteSource | None:
        return next((s for s in self.app.screen_stack if isinstance(s, PaletteSource)), None)

    async def startup(self) -> None:
        """Read every project's keys as the palette opens (not only the open view's)."""
        source = self._source()
        if source is not None:
            await source.load_jump_keys()

    def _targets(self) -> list[JumpTarget]:
        source = self._source()
        return source.jump_targets() if source is not None else []

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for target in self._targets():
            score = matcher.match(target.label)
            if score > 0:
                yield Hit(score, matcher.highlight(target.label), target.go, help=target.help)
