"""``devsync`` with no subcommand: load the settings and run the dashboard."""

from __future__ import annotations

import argparse
import sys

from devsync_tui.core import crypto
from devsync_tui.core.view_cache import CachedView
from devsync_tui.dashboard import frame_replay, last_view, startup_gc
from devsync_tui.exit_codes import EXIT_INPUT, EXIT_OK, EXIT_UNAVAILABLE
from devsync_tui.logging_setup import setup_logging
from devsync_tui.settings import Settings, SettingsError, load_settings


def run_tui(args: argparse.Namespace) -> int:
    """Open the TUI on the profile/user/team/project/environment the flags name."""
    startup_gc.pause()  # until the first view is on screen (or at the latest, the app ends)
    try:
        return _run(args)
    finally:
        startup_gc.resume()


def _run(args: argparse.Namespace) -> int:
    setup_logging()
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"devsync: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if getattr(args, "read_only", False):
        settings.read_only = True

    # The last view this user saw, drawn in the first frame (before the UI is imported: the
    # key store and the decryption are then the only work before it).
    offline = bool(getattr(args, "offline", False))
    owner = last_view.owner(settings, profile=args.profile, user=args.user)
    cached: CachedView | None = None
    if offline:
        cached = last_view.load(owner)
        if cached is not None and last_view.standing_in(cached, "local") is None:
            cached = None  # its document cannot be read (logged)
    if offline and cached is None:
        print(
            "devsync: --offline opens the last view this dashboard showed on this machine, "
            "and there is none for this profile and user yet: start `devsync` once while "
            "the database can be reached.",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    if not _on_a_terminal():
        # Textual reads keys from stdin and draws on stderr; without a terminal it would spin.
        print(
            "devsync: the dashboard needs a terminal (stdin and stderr are not one here); "
            "in scripts use a command such as `devsync env` or `devsync scan` "
            "(see `devsync --help`).",
            file=sys.stderr,
        )
        return EXIT_INPUT

    # The screen recorded with the cached view, drawn as soon as it is read (a terminal of
    # the same size etc.; ``frame_replay``): the first frame before the UI is imported.
    replay = frame_replay.for_start(
        theme=settings.theme,
        read_only=settings.read_only,
        offline=offline,
        opens=lambda view: last_view.opens_here(view, args.team, args.project, args.env),
    )
    try:
        return _run_app(args, settings, owner, cached, replay)
    finally:
        if replay is not None:
            replay.undo()  # only if the app never took the terminal over


def _run_app(
    args: argparse.Namespace,
    settings: Settings,
    owner: str | None,
    cached: CachedView | None,
    replay: frame_replay.Replay | None,
) -> int:
    offline = bool(getattr(args, "offline", False))  # then ``cached`` is its view
    ahead = None
    opened: CachedView | last_view.Reading | None = cached
    if not offline:  # read while the UI is imported
        opened = last_view.Reading(owner, then=replay.show if replay is not None else None)
        # The opening is read meanwhile too (Supabase: one HTTP request; local: psycopg,
        # only if the database already runs).
        ahead = last_view.prefetch(
            settings, profile=args.profile, project=args.project, environment=args.env,
            reading=opened, user=args.user,
            replayed=(lambda: replay.shown) if replay is not None else (lambda: False),
        )  # fmt: skip
    from devsync_tui.backend.factory import open_backend
    from devsync_tui.dashboard.app import make_app

    app = make_app(
        settings,
        open_backend,
        profile=args.profile,
        user=args.user,
        team=args.team,
        project=args.project,
        env=args.env,
        cached=opened,
        cache_owner=owner,
        offline=offline,
        prefetch=ahead,
        replay=replay,
    )

    # Notices from the local key store (e.g. "no keyring: key kept in a 0600 file") as toasts.
    def notice(text: str) -> None:
        try:
            app.call_from_thread(app.notify, text, timeout=8)
        except RuntimeError:  # already on the app's thread
            app.notify(text, timeout=8)

    crypto.set_notice_handler(notice)
    result = app.run()
    _repeat_root_notice()
    if isinstance(result, int):
        return result
    # Quitting without ever getting connected is not a success (e.g. an unknown --user).
    return app.failure_code if app.failure_code is not None else EXIT_OK


def _repeat_root_notice() -> None:
    """What DevSync changed on the machine starting the database as root (a system user,
    folder permissions) was said while the screen was up: say it again where it stays."""
    server = sys.modules.get("devsync_tui.backend.postgres.server")
    for line in getattr(server, "root_notices", list)():
        try:
            print(f"devsync: {line}", file=sys.stderr)
        except OSError:  # the terminal hung up (the reason the app ended): nowhere to say it
            return


def _on_a_terminal() -> bool:
    streams = (sys.__stdin__, sys.__stderr__)
    return all(stream is not None and stream.isatty() for stream in streams)
