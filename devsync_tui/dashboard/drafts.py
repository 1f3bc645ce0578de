"""Unsaved edits, kept on disk so that nothing typed is lost even if the app closes.

One file per (project, environment, key) under ``locations.state_dir()/drafts``, mode 0600.
A draft of a secret is encrypted with ``core.crypto`` (context ``draft:<file id>``, so a blob
copied to another draft's name does not open); other drafts are plain JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from devsync_tui import locations
from devsync_tui.core import clock, crypto

log = logging.getLogger("devsync.drafts")

#: The key under which the draft of a not-yet-named new key is kept.
NEW_KEY = "\0new"


@dataclass(frozen=True, slots=True)
class Draft:
    """An edit in progress: what was typed, and the version it was based on."""

    project_id: str
    environment_id: str | None
    key: str
    value: str
    type: str
    is_secret: bool
    base_version: int | None
    saved_at: str

    @property
    def saved(self) -> datetime:
        return datetime.fromisoformat(self.saved_at)


def _file_id(
    owner: str, project_id: UUID | str, environment_id: UUID | str | None, key: str
) -> str:
    raw = f"{owner}|{project_id}|{environment_id or ''}|{key}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class DraftStore:
    """Drafts on disk. Failures to write are logged and never interrupt the user.

    Drafts belong to the user who typed them (``owner``, the signed-in user's id): another
    person signed in on the same machine and profile never sees them (a draft may hold a
    secret they may not reveal)."""

    def __init__(self, root: Path | None = None, *, owner: UUID | str = "") -> None:
        self.root = root or locations.state_dir() / "drafts"
        self.owner = str(owner)

    def _paths(self, file_id: str) -> tuple[Path, Path]:
        return self.root / f"{file_id}.json", self.root / f"{file_id}.enc"

    def save(
        self,
        project_id: UUID,
        environment_id: UUID | None,
        key: str,
        value: str,
        *,
        type: str,
        is_secret: bool,
        base_version: int | None,
        name: str | None = None,
    ) -> None:
        """Keep ``value`` as the draft of this key (``name`` overrides the key for new keys)."""
        draft = Draft(
            str(project_id),
            str(environment_id) if environment_id else None,
            name if name is not None else key,
            value,
            type,
            is_secret,
            base_version,
            clock.now().isoformat(),
        )
        file_id = _file_id(self.owner, project_id, environment_id, key)
        plain, sealed = self._paths(file_id)
        data = json.dumps(asdict(draft)).encode()
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if is_secret:
                self._write(sealed, crypto.encrypt(data, context=f"draft:{file_id}"))
                plain.unlink(missing_ok=True)
            else:
                self._write(plain, data)
                sealed.unlink(missing_ok=True)
        except (OSError, crypto.CryptoError):
            log.warning("could not keep a draft", exc_info=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def load(self, project_id: UUID, environment_id: UUID | None, key: str) -> Draft | None:
        """The draft of this key, or None (also when it cannot be read)."""
        file_id = _file_id(self.owner, project_id, environment_id, key)
        plain, sealed = self._paths(file_id)
        try:
            if sealed.exists():
                data = crypto.decrypt(sealed.read_bytes(), context=f"draft:{file_id}")
            elif plain.exists():
                data = plain.read_bytes()
            else:
                return None
            return Draft(**json.loads(data))
        except (OSError, ValueError, TypeError, crypto.CryptoError):
            log.warning("a draft could not be read; it is left in place", exc_info=True)
            return None

    def delete(self, project_id: UUID, environment_id: UUID | None, key: str) -> None:
        for path in self._paths(_file_id(self.owner, project_id, environment_id, key)):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
