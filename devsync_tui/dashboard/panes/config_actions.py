"""The Configuration tab's actions: edit, new, delete, reveal, copy, history, export."""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from textual import work
from textual.app import App

from devsync_tui.backend.errors import Conflict, DevSyncError
from devsync_tui.core.execution_control import refusal as execution_control_refusal
from devsync_tui.core.models import ConfigType, Configuration, EffectiveConfigRow
from devsync_tui.core.printable import visible
from devsync_tui.dashboard import keys as cmd
from devsync_tui.dashboard.session import Access, Selection, Session
from devsync_tui.dashboard.writes import attempt
from devsync_tui.logging_setup import register_secret


@dataclass(frozen=True, slots=True)
class ConfigView:
    """What the Configuration tab shows: a project's defaults or an environment's effective
    rows."""

    selection: Selection
    rows: tuple[EffectiveConfigRow, ...]


class ConfigActions:
    """Mixed into ConfigurationPane."""

    if TYPE_CHECKING:
        app: App[Any]
        session: Session | None
        view: ConfigView | None
        revealed: dict[UUID, str]

        @property
        def access(self) -> Access | None: ...

        def selected(self) -> EffectiveConfigRow | None: ...
        def fetch_secret(self, configuration_id: UUID, then_copy: bool) -> object: ...
        def mask(self, configuration_id: UUID) -> None: ...
        def load(self, selection: Selection, flash: frozenset[str]) -> object: ...

    def _env_id(self) -> UUID | None:
        view = self.view
        return view.selection.environment.id if view and view.selection.environment else None

    def _reload(self) -> None:
        if self.view is not None:
            self.load(self.view.selection, frozenset())

    # -- reveal / copy ---------------------------------------------------------------------
    def action_reveal(self) -> None:
        row, access = self.selected(), self.access
        if row is None or access is None:
            return
        if not row.is_secret:
            self.app.notify(f"{row.key} is not a secret; its value is shown.")
        elif row.configuration_id in self.revealed:
            self.mask(row.configuration_id)
        elif access.can_reveal(row.environment_id):
            self.fetch_secret(row.configuration_id, False)
        else:
            self.app.notify(access.reveal_reason(row.environment_id), severity="warning")

    def action_copy(self) -> None:
        row, access = self.selected(), self.access
        if row is None or access is None:
            return
        if not row.is_secret:
            self.app.copy_to_clipboard(row.value or "")
            self.app.notify(f"Copied the value of {row.key}.")
        elif row.configuration_id in self.revealed:
            self.copy_secret(row.key, self.revealed[row.configuration_id])
        elif access.can_reveal(row.environment_id):
            self.fetch_secret(row.configuration_id, True)
        else:
            self.app.notify(access.reveal_reason(row.environment_id), severity="warning")

    def copy_secret(self, key: str, value: str) -> None:
        """Copy a secret (OSC 52) without showing it, and empty the clipboard again after the
        reveal timeout if it still holds it (terminals that take OSC 52 writes clear it)."""
        if self.session is None:
            return
        app = self.app
        app.copy_to_clipboard(value)
        timeout = self.session.settings.reveal_timeout
        app.notify(f"Copied the secret {key}; the clipboard is emptied in {timeout:g} s.")
        app.set_timer(timeout, partial(clear_clipboard, app, value))

    # -- edit / new --------------------------------------------------------------------------
    def action_edit(self) -> None:
        row = self.selected()
        if row is not None:
            self._edit(row)

    def action_new(self) -> None:
        if self.view is not None and self.view.selection.project is not None:
            self._edit(None)

    @work(group="config-edit", exit_on_error=False)
    async def _edit(self, row: EffectiveConfigRow | None) -> None:
        session, access, view = self.session, self.access, self.view
        if session is None or access is None or view is None or view.selection.project is None:
            return
        env_id = self._env_id()
        if row is None:
            scope = env_id
            expected = None
        elif env_id is not None and row.environment_id is None:
            # An inherited default: editing it here makes an override (the project's own
            # view changes the default itself).
            scope, expected = env_id, None
        else:
            scope, expected = row.environment_id, row.version
        if not access.can_edit_config(scope):
            where = "this environment" if scope is not None else "the project defaults"
            self.app.notify(f"You may not change {where}.", severity="warning")
            return
        if row is not None and not access.can_edit_config(scope, row.key, row.type):
            self.app.notify(execution_control_refusal(row.key), severity="warning")
            return
        value: str | None = row.value if row is not None else ""
        note = ""
        if row is not None and row.is_secret:
            if access.can_reveal(row.environment_id):
                try:
                    value = await session.backend.reveal_secret(row.configuration_id)
                    register_secret(value)
                except DevSyncError as exc:
                    self.app.notify(str(exc), severity="error")
                    return
            else:
                value = None
                note = "You may replace this secret but not see it: type the new value."
        # Not at the top: the editor (TextArea, tree-sitter) costs the first frame ~19 ms
        # (measured with process_time after the app's imports), a sixteenth of it.
        from devsync_tui.dashboard.screens.config_editor import ConfigEditor
        from devsync_tui.dashboard.screens.config_save import EditTarget

        target = EditTarget(
            project_id=view.selection.project.id,
            environment_id=scope,
            key=row.key if row is not None else "",
            type=row.type if row is not None else ConfigType.ENV_VAR,
            is_secret=row.is_secret if row is not None else False,
            expected_version=expected,
            value=value,
            where=(
                _scope_label(view, scope).replace("override", "new override", 1)
                + " (the default stays)"
                if row is not None and expected is None and scope is not None
                else _scope_label(view, scope)
            ),
            can_reveal=access.can_reveal(scope),
        )
        saved = await self.app.push_screen_wait(ConfigEditor(session, target, note=note))
        if saved:
            self._reload()

    # -- delete ------------------------------------------------------------------------------
    def action_delete(self) -> None:
        row = self.selected()
        if row is not None:
            self._delete(row)

    @work(group="config-edit", exit_on_error=False)
    async def _delete(self, row: EffectiveConfigRow) -> None:
        session, access = self.session, self.access
        if session is None or access is None:
            return
        if self._env_id() is not None and row.environment_id is None:
            self.app.notify(
                f"{row.key} comes from the project defaults; select the project to delete it.",
                severity="warning",
            )
            return
        if not access.can_edit_config(row.environment_id):
            self.app.notify("You may not delete keys here.", severity="warning")
            return
        if not access.can_edit_config(row.environment_id, row.key, row.type):
            self.app.notify(execution_control_refusal(row.key), severity="warning")
            return
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.dialogs import ConfirmDialog

        if not await self.app.push_screen_wait(ConfirmDialog(f"Delete {row.key}?")):
            return
        version = row.version
        for _ in range(2):  # the version loaded, then (if the user agrees) the one now stored
            try:
                await session.backend.delete_configuration(row.configuration_id, version)
            except Conflict as exc:
                current = exc.current if isinstance(exc.current, Configuration) else None
                if current is None and exc.current_version is None:
                    self.app.notify(f"{row.key} was already deleted by someone else.")
                    break
                if current is None:  # the transport could not read what is there now
                    self.app.notify(
                        f"Someone changed {row.key} since you loaded it (now version "
                        f"{exc.current_version}); look again and retry.",
                        severity="warning",
                    )
                    break
                reveal_key = cmd.key_name(self.app, cmd.CFG_REVEAL)
                question = delete_conflict_text(row.key, current, access, reveal_key)
                if not await self.app.push_screen_wait(ConfirmDialog(question)):
                    break
                version = current.version
                continue
            except DevSyncError as exc:
                self.app.notify(str(exc) or "The key could not be deleted.", severity="error")
            else:
                self.app.notify(f"Deleted {row.key}.")
            break
        self._reload()

    # -- history -----------------------------------------------------------------------------
    def action_history(self) -> None:
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.dashboard.screens.history import HistoryScreen

        row, view, access = self.selected(), self.view, self.access
        if row is None or view is None or access is None or self.session is None:
            return
        assert view.selection.project is not None
        self.app.push_screen(
            HistoryScreen(
                self.session,
                access,
                view.selection.project.id,
                row.environment_id,
                row.key,
                row.type,
            ),
            callback=lambda restored: self._reload() if restored else None,
        )

    # -- compare -----------------------------------------------------------------------------
    def action_compare(self) -> None:
        view = self.view
        if view is not None and view.selection.environment is not None:
            self._compare()

    @work(group="config-edit", exit_on_error=False)
    async def _compare(self) -> None:
        session, view, access = self.session, self.view, self.access
        if session is None or view is None or access is None:
            return
        from devsync_tui.dashboard.screens.compare import compare_with_another

        if await compare_with_another(self.app, session, access, view.selection):
            self._reload()

    # -- export ------------------------------------------------------------------------------
    def action_export(self) -> None:
        if self.view is not None and self.view.rows:
            self._export()

    @work(group="config-export", exit_on_error=False)
    async def _export(self) -> None:
        session, view, access = self.session, self.view, self.access
        if session is None or view is None or access is None:
            return
        # Not at the top: the dialogs, history and .env writer cost the first frame ~12 ms.
        from devsync_tui.core import dotenv
        from devsync_tui.dashboard.screens.dialogs import (
            ConfirmDialog,
            Field,
            FormDialog,
            FormValues,
        )

        sel = view.selection
        named = sel.environment or sel.project
        name = safe_file_name(named.name if named is not None else "")

        async def check(values: FormValues) -> str | None:
            # A path that cannot be written is said in the dialog, the path kept to correct.
            return await asyncio.to_thread(_unwritable, Path(str(values["path"])))

        if session.read_only:  # it acts as a viewer: reveals nothing
            note = "A read-only session reveals nothing: secrets are left out of the file"
        else:
            note = "Secrets you may reveal are written (each reveal is recorded)"
        typed = f"{name}.env"
        while True:
            values = await self.app.push_screen_wait(
                FormDialog(
                    "Export as .env",
                    [Field("path", "File", value=typed)],
                    submit="Export",
                    required=["path"],
                    note=f"{note}; the file is created readable by you only.",
                    on_submit=check,
                )
            )
            if not values:
                return
            typed = str(values["path"])
            path, replace = await asyncio.to_thread(_existing, Path(typed))
            # Not replacing goes back to the form with the path kept, to choose another.
            if not replace or await self.app.push_screen_wait(
                ConfirmDialog(
                    f"Replace {path}?",
                    confirm="Replace",
                    cancelled=f"{path} was left as it was; choose another file or replace it.",
                )
            ):
                break
        out: dict[str, str] = {}
        omitted: list[str] = []
        skipped_files: list[str] = []
        for row in view.rows:
            if row.type is ConfigType.FILE:
                skipped_files.append(row.key)
            elif not row.is_secret:
                out[row.key] = row.value or ""
            elif access.can_reveal(row.environment_id):
                secret = await attempt(
                    self.app, session.backend.reveal_secret(row.configuration_id)
                )
                if secret is None:
                    omitted.append(row.key)
                    continue
                register_secret(secret)
                out[row.key] = secret
            else:
                omitted.append(row.key)
        try:
            text = dotenv.render_dotenv(out)
            path = await asyncio.to_thread(write_private, path, text, replace=replace)
        except FileExistsError:
            self.app.notify(
                f"Not exported: {path} appeared meanwhile; export again to replace it.",
                severity="warning",
            )
            return
        except OSError as exc:
            self.app.notify(_write_problem(path, exc), severity="error")
            return
        except dotenv.DotenvError as exc:
            self.app.notify(f"Could not write {path}: {exc}", severity="error")
            return
        message = f"Wrote {len(out)} keys to {path}."
        if omitted:
            message += f" Left out {len(omitted)} secret(s) you may not see: {', '.join(omitted)}."
        if skipped_files:
            message += f" Files are not env vars: {', '.join(skipped_files)} not included."
        self.app.notify(message, severity="warning" if omitted else "information", timeout=8)


def clear_clipboard(app: App[Any], value: str) -> None:
    """Empty the clipboard (OSC 52 with an empty payload) if the last copy was ``value``."""
    if app.is_running and app.clipboard == value:
        app.copy_to_clipboard("")


def write_private(path: Path, text: str, *, replace: bool = True) -> Path:
    """Write ``text`` to ``path`` (``~`` expanded) readable by the user only; the path used.

    ``replace=False`` never touches an existing file (FileExistsError): the user was not
    asked about it. A replaced file is made 0600 too (it may have been readable by others)."""
    path = path.expanduser()
    flags = os.O_CREAT | os.O_WRONLY | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
    return path


def _existing(path: Path) -> tuple[Path, bool]:
    """``path`` with ``~`` expanded, and whether something is there already."""
    path = path.expanduser()
    return path, path.exists()


def _unwritable(path: Path) -> str | None:
    """Why an export could not write ``path`` (``~`` expanded), in one sentence; None when
    it looks writable (the write may still fail: ``_write_problem`` then says why)."""
    path = path.expanduser()
    folder = path.parent
    try:
        if path.is_dir():
            return f"{path} is a folder; name a file in it."
        if not folder.exists():
            return f"The folder {folder} does not exist."
        if not folder.is_dir():
            return f"{folder} is not a folder."
        if path.exists():
            return None if os.access(path, os.W_OK) else f"You may not write {path}."
    except PermissionError:  # a folder on the way may not be looked into
        return f"You may not open the folder {folder}."
    except OSError as exc:
        return f"Could not write {path}: {(exc.strerror or 'it failed').lower()}."
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"You may not create files in the folder {folder}."
    return None


def _write_problem(path: Path, exc: OSError) -> str:
    """One plain sentence for a write of ``path`` that failed (no errno, no repr)."""
    found = _unwritable(path)
    if found is not None:
        return found
    reason = (exc.strerror or "it failed").lower()
    return f"Could not write {path}: {reason}."


def safe_file_name(name: str, fallback: str = "devsync") -> str:
    """``name`` as a plain file name: letters, digits, ``-``, ``_`` and ``.`` (others become
    ``_``), no leading dots, so it cannot name another directory or a hidden file."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    cleaned = re.sub(r"\.{2,}", ".", cleaned).lstrip("._").rstrip("_")
    return cleaned[:100] or fallback


def delete_conflict_text(key: str, current: Configuration, access: Access, reveal_key: str) -> str:
    """What changed under a delete, worded for the case: the value is called hidden only when
    it is a secret this user may not reveal (``reveal_key`` reveals one)."""
    head = f"Someone changed {key} since you loaded it (now version {current.version})."
    if not current.is_secret:
        shown = visible(current.value or "")
        first = shown.splitlines()[0] if shown else ""
        if len(first) > 60 or "\n" in shown:
            first = first[:59] + "…"
        body = f" Its value is now: {first}" if first else " Its value is now empty."
    elif access.can_reveal(current.environment_id):
        body = f" It is a secret: its value is not shown here ({reveal_key} reveals it, recorded)."
    else:
        body = " Its value is a secret you may not see."
    return f"{head}{body}\nDelete it anyway?"


def _scope_label(view: ConfigView, scope: UUID | None) -> str:
    sel = view.selection
    if scope is None:
        return f"project default of {sel.project.name if sel.project else '?'}"
    env = next((e for e in sel.environments if e.id == scope), sel.environment)
    return f"override for {env.name if env else 'this environment'}"
