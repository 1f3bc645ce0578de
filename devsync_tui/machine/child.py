"""The child of ``devsync run``: its environment, its private files, its signals, its exit.

- Variables are added to (and override) this process's environment. The command itself is
  found with this process's ``PATH`` before that (:func:`resolve_command`).
- File configurations are written under a fresh private directory (``mkdtemp``: 0700; files
  0600), named to the child by ``DEVSYNC_FILES_DIR``, and removed when the child is done.
- Signals sent to ``devsync run`` (TERM, INT, HUP, QUIT, USR1, USR2, WINCH) go on to the child.
  The child shares our process group, so a Ctrl-C typed at a terminal already reached it:
  SIGINT is forwarded only when we are not the terminal's foreground group (a ``kill -INT``).
- The exit code is the child's; a child killed by signal N gives 128 + N, as shells report it.
- Given secrets to mask, the child's stdout and stderr go through ``machine/output.py`` (a pty
  per stream where ours is a terminal, else a pipe) and come out with each secret's value
  replaced by a placeholder; without, the child writes straight to our streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from devsync_tui.machine.errors import InputError
from devsync_tui.machine.output import MaskedStream

FILES_DIR_VAR = "DEVSYNC_FILES_DIR"
FORWARDED = tuple(
    getattr(signal, name)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")
    if hasattr(signal, name)
)
STOPPING = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, getattr(signal, "SIGQUIT", 3)}


#: The shell's exit codes for a command it could not start: found but not executable (a file
#: without the x bit, a folder, a format the kernel cannot run), and not found.
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127


class LaunchError(Exception):
    """The command could not be started (not found, not executable). One plain sentence, and
    the exit code a shell gives for it (:data:`EXIT_NOT_FOUND`, :data:`EXIT_CANNOT_EXECUTE`)."""

    def __init__(self, message: str, exit_code: int = EXIT_CANNOT_EXECUTE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def write_files(files: Mapping[str, str]) -> Path | None:
    """Write file configurations into a new private directory; None when there are none."""
    if not files:
        return None
    root = Path(tempfile.mkdtemp(prefix="devsync-run-"))
    try:
        for key, content in files.items():
            path = (root / key).resolve()
            if root.resolve() not in path.parents:
                raise LaunchError(f"The file configuration {key!r} points outside its folder.")
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                # e.g. both "conf" and "conf/app.json" are file configurations.
                clash = sorted(k for k in files if k != key and _nested(k, key))
                raise InputError(
                    f"The file configuration {key!r} clashes with "
                    + (", ".join(repr(k) for k in clash) or "another one")
                    + ": one path is used as both a file and a folder."
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def _nested(a: str, b: str) -> bool:
    """Whether one of two relative paths is a folder the other lies in."""
    pa, pb = Path(a).parts, Path(b).parts
    shorter, longer = (pa, pb) if len(pa) <= len(pb) else (pb, pa)
    return longer[: len(shorter)] == shorter


def child_environment(
    variables: Mapping[str, str], files_dir: Path | None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(variables)
    if files_dir is not None:
        env[FILES_DIR_VAR] = str(files_dir)
    else:
        env.pop(FILES_DIR_VAR, None)
    return env


def resolve_command(name: str) -> str:
    """The executable ``name`` starts, found with this process's own ``PATH`` (and
    ``PATHEXT``), never with the configured one the child gets: a ``PATH`` stored in the
    configuration must not decide which program ``devsync run`` starts. A name with a
    directory part is used as it is."""
    if os.sep in name or (os.altsep and os.altsep in name):
        return name
    found = shutil.which(name, path=os.environ.get("PATH", os.defpath))
    if found is None:
        raise LaunchError(f"Command not found: {name}.", EXIT_NOT_FOUND)
    return found


def exit_status(returncode: int) -> int:
    """The shell's view of a child's end: its code, or 128 + N when signal N killed it."""
    return 128 - returncode if returncode < 0 else returncode


def _terminal_sent_it() -> bool:
    """True when we are the foreground process group of our terminal (Ctrl-C hit us all)."""
    for stream in (sys.stdin, sys.stderr, sys.stdout):
        try:
            return os.tcgetpgrp(stream.fileno()) == os.getpgrp()
        except (OSError, ValueError, AttributeError):
            continue
    return False


class Child:
    """One run of the command: start, forward signals, stop, and clean up its files."""

    def __init__(
        self,
        command: Sequence[str],
        variables: Mapping[str, str],
        files: Mapping[str, str],
        masks: Mapping[bytes, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.variables = dict(variables)
        self.files = dict(files)
        self.masks = dict(masks or {})
        self.process: asyncio.subprocess.Process | None = None
        self.files_dir: Path | None = None
        self.streams: list[MaskedStream] = []

    async def start(self) -> None:
        program = resolve_command(self.command[0])
        self.files_dir = write_files(self.files)
        env = child_environment(self.variables, self.files_dir)
        if self.masks:
            self.streams = [
                MaskedStream(sys.stdout, self.masks),
                MaskedStream(sys.stderr, self.masks),
            ]
        ends: list[int | None] = [s.child_fd for s in self.streams] or [None, None]
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, executable=program, env=env, stdout=ends[0], stderr=ends[1]
            )
        except FileNotFoundError:
            self.cleanup()
            raise LaunchError(f"Command not found: {self.command[0]}.", EXIT_NOT_FOUND) from None
        except PermissionError:
            self.cleanup()
            raise LaunchError(f"Command is not executable: {self.command[0]}.") from None
        except OSError as exc:
            self.cleanup()
            raise LaunchError(f"Cannot start {self.command[0]}: {exc.strerror or exc}.") from None
        for stream in self.streams:
            stream.start()

    def resize(self) -> None:
        """Our terminal changed size: so do the child's ptys."""
        for stream in self.streams:
            stream.resize()

    def send(self, signum: int) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    async def wait(self) -> int:
        assert self.process is not None
        try:
            status = exit_status(await self.process.wait())
            for stream in self.streams:
                await stream.drain()
            return status
        finally:
            self.cleanup()

    async def stop(self, grace: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns the exit status."""
        self.send(signal.SIGTERM)
        assert self.process is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), grace)
        except TimeoutError:
            self.send(signal.SIGKILL)
        return await self.wait()

    def cleanup(self) -> None:
        for stream in self.streams:
            stream.close()
        if self.files_dir is not None:
            shutil.rmtree(self.files_dir, ignore_errors=True)
            self.files_dir = None


class SignalRelay:
    """Forward signals to whichever child is current; remember if we were asked to stop."""

    def __init__(self, current: Callable[[], Child | None]) -> None:
        self._current = current
        self.stop_requested: int | None = None
        self._installed: list[int] = []

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in FORWARDED:
            try:
                loop.add_signal_handler(signum, self._on_signal, signum)
            except (ValueError, RuntimeError, NotImplementedError):
                continue  # not the main thread (in-process tests) or unsupported
            self._installed.append(signum)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._installed:
            loop.remove_signal_handler(signum)
        self._installed.clear()

    def _on_signal(self, signum: int) -> None:
        if signum in STOPPING:
            self.stop_requested = signum
        child = self._current()
        if child is None:
            return
        if signum == getattr(signal, "SIGWINCH", None):
            child.resize()
        if signum == signal.SIGINT and _terminal_sent_it():
            return  # the terminal already delivered it to the child
        child.send(signum)
