"""Lockfile and manifest parsers, one module per ecosystem, and the scanner that finds them.

``scan_path(path)`` is the entry point: it returns a ``ScanResult`` with one ``ParsedPackage``
per distinct (manager, package, version), or raises ``LockfileError`` naming the file and
line that could not be read. ``one_version_per_name`` is the bridge to today's one-row-per-
package report. Nothing here imports the backend or the UI.
"""

from devsync_tui.core.lockfiles.base import LockfileError, ParsedPackage
from devsync_tui.core.lockfiles.detect import ScanResult, scan_path
from devsync_tui.core.lockfiles.report_bridge import one_version_per_name

__all__ = ["LockfileError", "ParsedPackage", "ScanResult", "one_version_per_name", "scan_path"]
