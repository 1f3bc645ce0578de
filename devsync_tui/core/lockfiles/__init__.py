"""Lockfile and manifest parsers, one module per ecosystem, and the scanner that finds them.

``scan_path(path)`` is the entry point: it returns a ``ScanResult`` with one ``ParsedPackage``
per distinct (manager, package, version), or raises ``LockfileError`` naming the file and
line that could not be read. Every one of them is reported (one row per version). Nothing here
imports the backend or the UI.
"""

from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage
from devsync_tui.core.lockfiles.detect import ScanResult, scan_path

__all__ = ["LockfileError", "ParsedPackage", "ScanResult", "scan_path"]
