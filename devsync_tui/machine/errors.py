"""The error the machine library raises for input it cannot act on.

Backend errors (``backend/errors.py``) say what the database answered; :class:`InputError` says
that what was asked for cannot be done as asked: a name that matches nothing or several things,
a file configuration that cannot be written, a file that is not a .env file. Its message is one
sentence for a person; front ends show it as it is (the command line exits 2).
"""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be acted on; ``str(error)`` is one plain sentence."""
