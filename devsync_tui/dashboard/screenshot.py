"""Textual's screenshot (the palette's "Screenshot", ``App.save_screenshot``), made safe: every
secret revealed in this process is masked in the picture, whole or cut (a table cell's
"postgres://bob:…", a value wrapped over two lines), and the file is written readable by its
owner only (0600), as the .env export is."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from platformdirs import user_downloads_path
from rich.console import Console
from rich.segment import Segment, Segments
from textual.app import App

from devsync_tui.logging_setup import known_secrets

#: A run of at least this many characters shared with a secret is masked (a secret shorter
#: than this: the whole secret).
MIN_RUN = 6
MASK_CHAR = "•"


def masked_svg(app: App[Any], secrets: Iterable[str] | None = None) -> str:
    """An SVG of the current screen with ``secrets`` (default: every secret revealed so far)
    masked."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    screen_render = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=False
    )
    if screen_render is None:  # nothing on screen to draw
        return console.export_svg(title=app.title)
    segments = list(console.render(screen_render))
    wanted = [s for s in (known_secrets() if secrets is None else secrets) if s]
    console.print(Segments(mask_segments(segments, wanted)), end="")
    return console.export_svg(title=app.title)


def screenshot_folder() -> Path:
    """The downloads folder where it exists (where Textual saves screenshots), else the
    folder DevSync was started in: a server reached over SSH usually has no ~/Downloads."""
    downloads = user_downloads_path()
    return downloads if downloads.is_dir() else Path.cwd()


def save_masked(app: App[Any], filename: str, directory: str | Path | None = None) -> Path:
    """Write ``masked_svg`` to ``directory`` (default: the downloads folder, where Textual
    saves it) as ``filename``, readable by the owner only; the path written."""
    folder = Path(directory).expanduser() if directory else screenshot_folder()
    path = folder / filename
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(masked_svg(app))
    return path


def mask_segments(segments: list[Segment], secrets: list[str]) -> list[Segment]:
    """The segments with every character that belongs to a run shared with a secret (at least
    ``MIN_RUN`` long, or the whole secret) replaced by ``MASK_CHAR``, line by line."""
    if not secrets:
        return segments
    out: list[Segment] = []
    line: list[Segment] = []
    for segment in segments:
        if segment.text == "\n" or segment.control:
            out.extend(_mask_line(line, secrets))
            line = []
            out.append(segment)
        else:
            line.append(segment)
    out.extend(_mask_line(line, secrets))
    return out


def _mask_line(line: list[Segment], secrets: list[str]) -> list[Segment]:
    text = "".join(s.text for s in line)
    hidden = _secret_positions(text, secrets)
    if not hidden:
        return line
    masked: list[Segment] = []
    at = 0
    for segment in line:
        chars = [
            MASK_CHAR if at + i in hidden and not ch.isspace() else ch
            for i, ch in enumerate(segment.text)
        ]
        at += len(segment.text)
        masked.append(Segment("".join(chars), segment.style, segment.control))
    return masked


def _secret_positions(text: str, secrets: list[str]) -> set[int]:
    """Positions in ``text`` of runs it shares with a secret (see ``mask_segments``)."""
    hidden: set[int] = set()
    for secret in secrets:
        need = min(MIN_RUN, len(secret))
        for start in range(len(text) - need + 1):
            piece = text[start : start + need]
            if piece.isspace() or piece not in secret:
                continue
            end = start + need
            while end < len(text) and text[start : end + 1] in secret:
                end += 1
            hidden.update(range(start, end))
    return hidden
