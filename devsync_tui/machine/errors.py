"""The error the machine library raises for input it cannot act on.

Backend errors (``backend/errors.py``) say what the database answered; :class:`InputError` says
that what was asked for cannot be done as asked: a name that matches nothing or several things,
a file configuration that cannot be written, a file that is not a .env file. Its message is one
sentence for a person; front ends show it as it is (the command line exits 2).
:func:`named_refusal` names, in the database's refusal, the thing it refused.
"""

from __future__ import annotations

from devsync_tui.backend.errors import PermissionDenied


class InputError(Exception):
    """Input that cannot be acted on; ``str(error)`` is one plain sentence."""

    #: What stopped a command is logged as an answer, not as a crash (``logging_setup``).
    answers_the_user = True


def named_refusal(exc: PermissionDenied, vague: str, name: str) -> PermissionDenied:
    """The database's refusal with the thing it refused named: ``this environment`` becomes
    ``storefront/laptop`` (else the name is added at the end). A machine token's refusal
    (TokenRefused) already says which token and why: left as it is."""
    if type(exc) is not PermissionDenied:
        return exc
    text = str(exc).rstrip(".")
    text = text.replace(vague, name) if vague in text else f"{text} ({name})"
    return PermissionDenied(f"{text}.")
