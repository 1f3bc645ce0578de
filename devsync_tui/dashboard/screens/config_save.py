"""Saving the configuration editor's value (:class:`EditTarget`: what is edited and where it
is saved): the save itself, a save whose link broke before the answer came (asked again until
the database can tell), and a save over a newer version (the conflict dialog: theirs, yours
and the diff). The draft is dropped only once the value is saved. Mixed into
``ConfigEditor``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from textual import work

from devsync_tui.backend.base import Backend
from devsync_tui.backend.errors import (
    Conflict,
    DevSyncError,
    OutcomeUnknown,
    PermissionDenied,
    Unavailable,
)
from devsync_tui.core.execution_control import is_execution_control
from devsync_tui.core.models import ConfigType, Configuration
from devsync_tui.dashboard.screens.conflict import ConflictDialog, merge_text
from devsync_tui.dashboard.session import Session
from devsync_tui.logging_setup import register_secret

if TYPE_CHECKING:
    from textual.app import App
    from textual.await_complete import AwaitComplete
    from textual.widgets import Input, TextArea

#: How often a save whose link broke is checked (with backoff up to 5 s: about a minute).
CONFIRM_TRIES = 15


@dataclass(frozen=True, slots=True)
class EditTarget:
    """What is being edited and where it will be saved."""

    project_id: UUID
    environment_id: UUID | None
    key: str  # "" for a new key
    type: ConfigType
    is_secret: bool
    expected_version: int | None  # None: create
    value: str | None  # None: a secret the user may replace but not see
    where: str  # "project default of storefront", "override for bob-laptop"
    can_reveal: bool = True

    @property
    def is_new(self) -> bool:
        return not self.key


class EditorSaving:
    """The editor's save, and what follows when it does not simply succeed."""

    if TYPE_CHECKING:
        app: App[Any]
        session: Session
        target: EditTarget
        expected: int | None

        def dismiss(self, result: bool | None = None) -> AwaitComplete: ...
        def value(self) -> str: ...
        def set_value(self, value: str) -> None: ...
        def keep_draft(self) -> None: ...
        def _drop_draft(self) -> None: ...
        def _key(self) -> str: ...
        def _type(self) -> ConfigType: ...
        def _is_secret(self) -> bool: ...
        def _value_widget(self) -> Input | TextArea: ...
        def _set_note(self, text: str) -> None: ...
        def _error(self, text: str) -> None: ...

    @work(exclusive=True, group="editor-save", exit_on_error=False)
    async def save(self) -> None:
        t = self.target
        key, value, kind = self._key(), self.value(), self._type()
        secret = self._is_secret()
        backend = self.session.backend
        try:
            await backend.save_configuration(
                t.project_id, t.environment_id, key, value,
                is_secret=secret, type=kind, expected_version=self.expected,
            )  # fmt: skip
        except Conflict as exc:
            await self._resolve(exc, key, value)
            return
        except OutcomeUnknown:
            await self._settle_unknown(key, value)
            return
        except PermissionDenied as exc:
            # The execution-control rule (PATH, …: admins only) is the database's sentence.
            self._error(
                str(exc)
                if is_execution_control(key, kind)
                else f"You may not change the {t.where}."
            )
            return
        except DevSyncError as exc:
            self._error(str(exc) or "The value could not be saved.")
            return
        self._drop_draft()
        self.app.notify(f"Saved {key}.")
        self.dismiss(True)

    async def _settle_unknown(self, key: str, value: str) -> None:
        """The link broke after the save was sent: ask the database, once it is back, whether
        it happened (a save is one transaction: exactly once or not at all) and say which.
        The draft stays on disk until the answer is "saved"."""
        t = self.target
        self._error("The connection broke while saving; checking whether it was saved…")
        delay = 0.5
        for _ in range(CONFIRM_TRIES):
            try:
                saved = await self.session.backend.confirm_save(
                    t.project_id, t.environment_id, key, value, expected_version=self.expected
                )
            except Unavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            except DevSyncError as exc:
                self._error(str(exc) or "Could not tell whether the value was saved.")
                return
            if saved:
                self._drop_draft()
                self.app.notify(
                    f"Saved {key} (the connection broke after it was written; "
                    "it was saved exactly once)."
                )
                self.dismiss(True)
            else:
                self._error(
                    f"{key} was not saved: the connection broke before it was written. "
                    "Your edit is kept; save again."
                )
            return
        self._error(
            "The database is still unreachable, so it is not known whether this was saved. "
            "Your edit is kept as a draft; save again once the database is back."
        )

    async def _resolve(self, exc: Conflict, key: str, yours: str) -> None:
        """Show theirs, yours and the diff; act on the user's choice."""
        t = self.target
        current = exc.current if isinstance(exc.current, Configuration) else None
        if current is None and exc.current_version is not None:
            current = await _read_current(self.session.backend, t, key)
        theirs: str | None = None
        hidden = False
        if current is not None:
            theirs = current.value
            if current.is_secret:
                hidden = not t.can_reveal
                theirs = None if hidden else await _reveal(self.session.backend, current.id)
            elif theirs is None:
                theirs = ""  # a plain value that is empty, not one kept from us
        version = current.version if current is not None else exc.current_version
        author = await _author(self.session.backend, t, key, version)
        choice = await self.app.push_screen_wait(
            ConflictDialog(
                key,
                theirs=theirs,
                yours=yours,
                their_version=version,
                their_author=author,
                theirs_hidden=hidden,
            )
        )
        if choice == "overwrite":
            self.expected = version
            self.keep_draft()
            self.save()
        elif choice == "theirs":
            self._drop_draft()
            self.app.notify(f"Kept their version of {key}.")
            self.dismiss(True)
        elif choice == "merge":
            self.expected = version
            self.target = replace(self.target, value=theirs)
            self.set_value(merge_text(theirs or "", yours))
            self._set_note(f"Merging with version {version}: edit, then save.")
            self._value_widget().focus()
        else:
            self._set_note("Not saved: someone else saved first. Save again to choose.")


async def _author(
    backend: Backend, target: EditTarget, key: str, version: int | None
) -> str | None:
    """Who saved ``version`` of the key (None: who deleted it), from its history; None
    when that cannot be read."""
    try:
        entries = await backend.configuration_history(target.project_id, target.environment_id, key)
    except DevSyncError:
        return None
    for entry in entries:  # the newest first
        if version is None and entry.op == "delete":
            return entry.changed_by_username
        if version is not None and entry.version == version and entry.op != "delete":
            return entry.changed_by_username
    return None


async def _read_current(backend: Backend, target: EditTarget, key: str) -> Configuration | None:
    try:
        rows = await backend.list_configurations(target.project_id, target.environment_id)
    except DevSyncError:
        return None
    return next((r for r in rows if r.key == key), None)


async def _reveal(backend: Backend, configuration_id: UUID) -> str | None:
    try:
        value = await backend.reveal_secret(configuration_id)
    except DevSyncError:
        return None
    register_secret(value)
    return value
