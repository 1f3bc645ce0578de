"""Encrypted offline snapshots of an effective configuration, for ``devsync run --offline``.

Every successful online ``devsync run`` saves what it gave the child (variables and files,
secrets included) so that a later run can start while the backend is unreachable. A snapshot
is JSON encrypted with :mod:`core.crypto` (AES-GCM, key in the keyring or a 0600 key file),
stored at ``locations.state_dir()/snapshots/<id>.bin`` (0600 in a 0700 folder, replaced
atomically). Plaintext never touches the disk.

The snapshot id is a hash of the lookup key — the inputs that pick the target without a
backend: profile, ``--user``, ``--project``, ``--env`` and the checkout — and the key is also
the encryption context, so a snapshot renamed or copied to another key does not open.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from devsync_tui import locations
from devsync_tui.core import crypto
from devsync_tui.core.private_file import write_private

FORMAT_VERSION = 1


class SnapshotError(Exception):
    """No usable snapshot (missing, unreadable, altered, other key). One plain sentence."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What ``devsync run`` gave its child: variables and files, and where they came from."""

    project_id: str
    project_name: str
    environment_id: str | None
    environment_name: str | None
    saved_at: datetime
    variables: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # the variables that are secrets

    def to_json(self) -> bytes:
        payload: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "project_id": self.project_id,
            "project_name": self.project_name,
            "environment_id": self.environment_id,
            "environment_name": self.environment_name,
            "saved_at": self.saved_at.isoformat(),
            "variables": self.variables,
            "files": self.files,
            "secrets": self.secrets,
        }
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Snapshot:
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("format") != FORMAT_VERSION:
                raise SnapshotError("The offline snapshot has an unknown format.")
            return cls(
                project_id=str(raw["project_id"]),
                project_name=str(raw["project_name"]),
                environment_id=raw["environment_id"],
                environment_name=raw["environment_name"],
                saved_at=datetime.fromisoformat(raw["saved_at"]),
                variables={str(k): str(v) for k, v in raw["variables"].items()},
                files={str(k): str(v) for k, v in raw["files"].items()},
                # Older snapshots did not say: every variable is then masked as a secret.
                secrets=[str(k) for k in raw.get("secrets", raw["variables"])],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SnapshotError("The offline snapshot is damaged.") from exc


def lookup_key(**parts: str | None) -> str:
    """A stable key from the inputs that select a target (sorted, JSON-encoded)."""
    return json.dumps(parts, sort_keys=True)


def snapshot_dir() -> Path:
    return locations.state_dir() / "snapshots"


def path_for(key: str) -> Path:
    return snapshot_dir() / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".bin")


def _context(key: str) -> str:
    return f"snapshot:v{FORMAT_VERSION}:{key}"


def save(key: str, snapshot: Snapshot) -> Path:
    """Encrypt and store ``snapshot`` under ``key`` (atomic replace, 0600)."""
    blob = crypto.encrypt(snapshot.to_json(), context=_context(key))
    folder = snapshot_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = path_for(key)
    write_private(path, blob)
    return path


def load(key: str) -> Snapshot:
    """The snapshot stored under ``key``; SnapshotError when there is none usable."""
    path = path_for(key)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(
            "There is no offline snapshot for this target yet; run once while online."
        ) from None
    except OSError as exc:
        raise SnapshotError(f"The offline snapshot {path} cannot be read.") from exc
    try:
        data = crypto.decrypt(blob, context=_context(key))
    except crypto.CryptoError as exc:
        raise SnapshotError(f"The offline snapshot cannot be opened: {exc}") from exc
    return Snapshot.from_json(data)


def delete(key: str) -> bool:
    """Remove the snapshot under ``key``; True if there was one."""
    try:
        path_for(key).unlink()
    except FileNotFoundError:
        return False
    return True
