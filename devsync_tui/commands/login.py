"""``devsync login``, ``devsync logout`` and ``devsync whoami``.

``login`` signs in to the Supabase project of a profile: interactively (e-mail, then a password
or, left empty, a one-time code sent by e-mail — no browser needed over SSH) or from flags:
``--email E --password-stdin``, ``--email E --otp`` (sends a code, then asks for it, or verifies
``--code``), ``--signup`` to create the account. ``--url``/``--anon-key`` add a supabase profile,
saved once the sign-in works. The session goes to the OS keyring, or to a 0600 file where there
is none (said once).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from devsync_tui.backend.supabase import auth
from devsync_tui.backend.supabase.backend import SupabaseBackend
from devsync_tui.commands.common import (
    UsageError,
    eprint,
    open_from_args,
    print_json,
    profile_of,
    run_async,
    say,
)
from devsync_tui.commands.prompt import ask
from devsync_tui.exit_codes import EXIT_OK
from devsync_tui.settings import LOCAL_PROFILE, SupabaseProfile, load_settings, save_settings

if TYPE_CHECKING:
    from devsync_tui.backend.supabase.session import SessionStorage


def register(subparsers: Any) -> None:
    """Add ``login``, ``logout`` and ``whoami``."""
    login = subparsers.add_parser(
        "login",
        help="sign in to a Supabase profile (password or e-mailed code)",
        description="Sign in to the Supabase project of a profile. Without flags it asks for "
        "your e-mail and a password; leave the password empty to get a one-time code by e-mail.",
    )
    _profile_flag(login)
    login.add_argument("--email", help="your e-mail address")
    login.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    login.add_argument("--otp", action="store_true", help="sign in with a code sent by e-mail")
    login.add_argument("--code", help="with --otp: the code from the e-mail (skips sending one)")
    login.add_argument("--signup", action="store_true", help="create the account first")
    login.add_argument("--username", help="with --signup: the username to show to your team")
    login.add_argument("--url", help="save a supabase profile with this project URL first")
    login.add_argument("--anon-key", help="with --url: the project's anon (public) key")
    login.set_defaults(func=run_login)

    logout = subparsers.add_parser(
        "logout",
        help="sign out and forget the stored session",
        description="Forget the stored session of a profile (every DevSync process of the "
        "profile on this machine stops using it) and end it at Supabase, so that it cannot be "
        "refreshed again.",
    )
    _profile_flag(logout)
    logout.add_argument(
        "--everywhere",
        action="store_true",
        help="end every session of your account, on every machine (a lost laptop)",
    )
    logout.set_defaults(func=run_logout)

    whoami = subparsers.add_parser("whoami", help="who you are signed in as, and your teams")
    _profile_flag(whoami)
    whoami.add_argument("--user", default=argparse.SUPPRESS, help="local profile: demo user")
    whoami.add_argument("--json", action="store_true", help="machine-readable output")
    whoami.set_defaults(func=run_whoami)


def _profile_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a `devsync --profile X login` from being reset by the subcommand's default.
    parser.add_argument("--profile", default=argparse.SUPPRESS, help="settings profile to use")


def _supabase_profile(args: argparse.Namespace) -> tuple[str, SupabaseProfile, bool]:
    """The profile to sign in to, and whether it is new from ``--url``/``--anon-key`` (then it
    is saved by :func:`_save_profile` only once the sign-in worked: a profile that cannot sign
    in must not become the default every command then fails with)."""
    settings = load_settings()
    explicit = getattr(args, "profile", None)
    url, key = getattr(args, "url", None), getattr(args, "anon_key", None)
    # Given empty they name no project: bad input, never "sign in to the default profile".
    for name, value, what in (
        ("--url", url, "URL (https://abcd.supabase.co)"),
        ("--anon-key", key, "anon key"),
    ):
        if value is not None and not value.strip():
            raise UsageError(f"{name} takes the project's {what}, not an empty string.")
    if url or key:
        if not (url and key):
            raise UsageError("--url and --anon-key go together.")
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise UsageError(
                "--url must be the project's http(s) URL, like https://abcd.supabase.co."
            )
        if parts.path.rstrip("/") or parts.query or parts.fragment:
            raise UsageError(
                "--url is the project's base URL, like https://abcd.supabase.co, without "
                f"{parts.path or '?' + parts.query} (DevSync adds /auth/v1 and /rest/v1 itself)."
            )
        return explicit or "supabase", SupabaseProfile(url=url.rstrip("/"), anon_key=key), True
    name, profile = settings.profile(explicit)
    if not isinstance(profile, SupabaseProfile):
        raise UsageError(
            f"Profile {name!r} is the local database: there is nothing to sign in to "
            "(pick a demo user with --user). Add a Supabase project with "
            "`devsync login --url URL --anon-key KEY`."
        )
    return name, profile, False


def _save_profile(name: str, profile: SupabaseProfile) -> None:
    """Save the profile ``--url`` named, after the sign-in worked; the default profile too
    when there was none (said, since every command then uses it). Read again: the file may
    have changed while the user typed."""
    settings = load_settings()
    settings.profiles[name] = profile
    became_default = settings.default_profile is None
    if became_default:
        settings.default_profile = name
    path = save_settings(settings)
    eprint(f"Saved profile {name!r} in {path}.")
    if became_default:
        eprint(
            f"Commands now use profile {name!r} by default (it was {LOCAL_PROFILE!r}); "
            f"`--profile {LOCAL_PROFILE}` picks the local database."
        )


def _storage(profile: SupabaseProfile) -> SessionStorage:
    # Deferred: the session store imports supabase-py's auth package (~0.27 s), which
    # `devsync whoami` on a local profile never needs.
    from devsync_tui.backend.supabase.session import SessionStorage

    return SessionStorage(auth.storage_namespace(profile.url))


def _read_secret_line(what: str) -> str:
    # Bounded: a stdin that never sends a newline (/dev/zero) must not eat the memory.
    line = sys.stdin.readline(_MAX_LINE + 3)
    if not line:
        raise UsageError(f"Expected the {what} on standard input.")
    text = line.rstrip("\r\n")
    if len(text) > _MAX_LINE:
        raise UsageError(f"The {what} on standard input is longer than {_MAX_LINE} characters.")
    return text


#: The longest password or code line read from stdin.
_MAX_LINE = 4096


def _ask(prompt: str, *, secret: bool = False) -> str:
    if not sys.stdin.isatty():
        raise UsageError(
            "Standard input is not a terminal: pass --email with --password-stdin or --otp."
        )
    try:
        return ask(prompt, secret=secret, eof_cancels=False)
    except EOFError:
        raise UsageError("No answer given.") from None


def run_login(args: argparse.Namespace) -> int:
    return run_async(_login(args))


async def _login(args: argparse.Namespace) -> int:
    name, profile, new = _supabase_profile(args)
    email = (args.email or "").strip() or _ask("E-mail: ").strip()
    if args.code and not args.otp:
        raise UsageError("--code goes with --otp.")
    if args.otp and (args.password_stdin or args.signup):
        raise UsageError("--otp signs in without a password: drop --password-stdin/--signup.")
    storage = _storage(profile)
    client = await auth.create_client(profile.url, profile.anon_key, storage)
    try:
        if args.otp:
            await _with_code(client, email, args.code)
        else:
            if args.password_stdin:
                password = _read_secret_line("password")
            elif args.signup:
                password = _ask("Choose a password: ", secret=True)
                if password != _ask("The same password again: ", secret=True):
                    raise UsageError("The passwords differ.")
            else:
                password = _ask("Password (empty: e-mail me a code): ", secret=True)
            if args.signup:
                result = await auth.sign_up(client, email, password, args.username)
                if isinstance(result, auth.PendingConfirmation):
                    if new:  # the account exists: the login it asks for needs the profile
                        _save_profile(name, profile)
                    print(
                        f"Account created. Confirm {email} (see the e-mail), then run "
                        f"`devsync login --profile {name}`."
                    )
                    return EXIT_OK
            elif password:
                await auth.sign_in_with_password(client, email, password)
            else:
                await _with_code(client, email, None)
    finally:
        await auth.close_client(client)
    if new:
        _save_profile(name, profile)
    notice = storage.pop_notice()
    if notice:
        eprint(notice)
    identity = await _identity(profile, storage)
    say(f"Signed in to {_host(profile.url)} as {identity} (profile {name}).")
    return EXIT_OK


async def _with_code(client: Any, email: str, code: str | None) -> None:
    if code is None:
        await auth.send_code(client, email)
        if sys.stdin.isatty():
            code = _ask(f"Code sent to {email}; type it here: ").strip()
        else:
            code = _read_secret_line("code from the e-mail").strip()
    await auth.verify_code(client, email, code)


async def _identity(profile: SupabaseProfile, storage: SessionStorage) -> str:
    backend = SupabaseBackend(profile.url, profile.anon_key, storage=storage)
    await backend.connect()
    try:
        me = await backend.whoami()
    finally:
        await backend.close()
    return f"{me.username} <{me.email}>" if me.email else me.username


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def run_logout(args: argparse.Namespace) -> int:
    return run_async(_logout(args))


async def _logout(args: argparse.Namespace) -> int:
    """Forget the stored session at once (every DevSync process of the profile stops using it
    before its next request), then ask Supabase Auth to revoke it: this session only, which
    every DevSync process of the profile on this machine shares, or with ``--everywhere``
    every session of the user."""
    from devsync_tui.backend.supabase.session import sign_out

    name, profile, _new = _supabase_profile(args)
    everywhere = bool(getattr(args, "everywhere", False))
    host = _host(profile.url)
    outcome = await sign_out(
        _storage(profile),
        profile.url,
        profile.anon_key,
        scope="global" if everywhere else "local",
    )
    if not outcome.was_signed_in:
        print(f"You were not signed in to {host} (profile {name}).")
        return EXIT_OK
    if outcome.problem is not None:
        eprint(
            f"Could not tell {host} to end the session ({outcome.problem.rstrip('.')}); "
            "it is forgotten here anyway, and no DevSync process of this profile uses it again."
        )
    elif not outcome.revoked:
        eprint(
            f"{host} did not confirm the end of the session; it is forgotten here anyway, "
            "and no DevSync process of this profile uses it again."
        )
    where = " on every device" if everywhere else ""
    print(f"Signed out of {host}{where} (profile {name}).")
    return EXIT_OK


def run_whoami(args: argparse.Namespace) -> int:
    return run_async(_whoami(args))


async def _whoami(args: argparse.Namespace) -> int:
    async with open_from_args(args) as backend:
        me = await backend.whoami()
        roles = await backend.my_roles()
        teams = {t.id: t for t in await backend.list_teams()}
    profile = profile_of(args)
    memberships = sorted(
        ((teams[t].name if t in teams else str(t), str(role)) for t, role in roles.items()),
    )
    if getattr(args, "json", False):
        print_json(
            {
                "profile": profile,
                "workspace": backend.label,
                "kind": backend.kind,
                "user_id": str(me.user_id),
                "username": me.username,
                "email": me.email,
                "teams": [{"team": team, "role": role} for team, role in memberships],
            }
        )
        return EXIT_OK
    who = f"{me.username} <{me.email}>" if me.email else me.username
    say(f"{who} on {backend.label} (profile {profile})")
    for team, role in memberships:
        say(f"  {team}: {role}")
    if not memberships:
        print("  in no team yet")
    return EXIT_OK
