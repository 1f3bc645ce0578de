"""What an npm-family dependency specifier says about a package: where it comes from (its
``PackageKind``), the real package behind an alias, and the range. Shared by the npm, Yarn
and pnpm parsers (they all read package.json specifiers)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from devsync_tui.core.models import PackageKind

_GIT_PREFIXES = ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:")
_PATH_PREFIXES = ("file:", "link:", "portal:", "exec:")
# ``user/repo`` and ``user/repo#ref``: npm's GitHub shorthand.
_SHORTHAND_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(#\S*)?$")


@dataclass(frozen=True, slots=True)
class Spec:
    """A specifier read: ``kind``, ``name`` (the aliased package, or None when the specifier
    names no other package) and ``range`` (the version range, or the whole specifier for
    anything not from the registry)."""

    kind: PackageKind
    name: str | None
    range: str


def split_name(descriptor: str) -> tuple[str, str]:
    """``"@scope/name@^1.2"`` → (``@scope/name``, ``^1.2``); no ``@`` → (descriptor, '')."""
    descriptor = descriptor.strip().strip('"')
    at = descriptor.find("@", 1)
    if at < 0:
        return descriptor, ""
    return descriptor[:at], descriptor[at + 1 :]


def classify(spec: str) -> Spec:
    """Read one package.json specifier (``^1.2``, ``npm:bar@^1``, ``workspace:*``,
    ``file:../x``, ``github:user/repo``, ``https://host/x.tgz``...)."""
    spec = spec.strip()
    if spec.startswith("npm:"):
        name, version_range = split_name(spec[4:])
        return Spec(PackageKind.REGISTRY, name or None, version_range)
    if spec.startswith("workspace:"):
        return Spec(PackageKind.WORKSPACE, None, spec)
    if spec.startswith(_PATH_PREFIXES) or spec.startswith((".", "/", "~/")):
        return Spec(PackageKind.PATH, None, spec)
    if spec.startswith(_GIT_PREFIXES) or _SHORTHAND_RE.match(spec):
        return Spec(PackageKind.GIT, None, spec)
    if spec.startswith(("http://", "https://")):
        kind = PackageKind.GIT if ".git#" in spec or spec.endswith(".git") else PackageKind.URL
        return Spec(kind, None, spec)
    return Spec(PackageKind.REGISTRY, None, spec)


def resolved_kind(resolved: str | None, name: str) -> PackageKind:
    """The kind of an installed package from its ``resolved`` field (package-lock.json):
    a registry tarball is ``<registry>/<name>/-/<file>.tgz``; any other URL is a tarball
    from elsewhere; ``git+…`` a git checkout; ``file:`` a local file."""
    if not resolved:
        return PackageKind.REGISTRY
    if resolved.startswith(_GIT_PREFIXES):
        return PackageKind.GIT
    if resolved.startswith("file:"):
        return PackageKind.PATH
    if resolved.startswith(("http://", "https://")):
        return PackageKind.REGISTRY if f"/{name}/-/" in resolved else PackageKind.URL
    return PackageKind.REGISTRY
