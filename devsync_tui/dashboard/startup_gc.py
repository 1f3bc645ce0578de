"""Cyclic garbage collection paused while the dashboard starts.

Starting allocates hundreds of thousands of long-lived objects (modules, classes, widgets,
styles), and the collector scans them again and again as they pile up: about 30 ms of the
time to the first frame, for no garbage worth finding. ``pause`` before the imports;
``resume`` once the first view is on screen, freezing what exists by then (it lives as long as
the app) so that later collections skip it, which also keeps them short while the app runs.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collection (if it is on) until ``resume``."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Turn automatic collection back on after ``pause``; a no-op otherwise (and when
    called again)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
