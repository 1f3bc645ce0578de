"""Variables that control execution: names that make a program load or run code chosen by
their value (PERMISSIONS.md, "Rules that are easy to get wrong").

Only admins of a team may create, change, restore or delete such an env_var key, at every
scope; the database enforces it (migration ``20261205100200_execution_control``, whose
``private.execution_control_names()`` / ``_prefixes()`` this module mirrors: a test asserts the
two agree). The UI uses this list only to hide what the database would refuse, and
``devsync run`` to say when one of them changes under ``--watch``.

Names match case-insensitively: Windows environment names are, so ``Path`` is ``PATH`` there.
File keys never count: a file configuration is written in the run's private folder, where no
program loads it by that name.
"""

from __future__ import annotations

#: Exact names (upper case).
EXECUTION_CONTROL_NAMES: tuple[str, ...] = (
    # which executable a bare command name resolves to (PATHEXT, COMSPEC: Windows)
    "PATH",
    "PATHEXT",
    "COMSPEC",
    # the dynamic loader: libraries loaded into every process
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "GCONV_PATH",
    # shells: files sourced, options and trace prompts evaluated
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    # interpreters: options and module paths
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONWARNINGS",
    "PYTHONBREAKPOINT",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PERL5DB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    # git: programs it runs, configuration it reads
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_PROXY_COMMAND",
    "GIT_EXTERNAL_DIFF",
    "GIT_TEMPLATE_DIR",
    "GIT_CONFIG",
)

#: Prefixes (upper case): macOS dyld's DYLD_*, and git's GIT_CONFIG_* (GIT_CONFIG_GLOBAL,
#: GIT_CONFIG_COUNT / KEY_n / VALUE_n set any setting, core.sshCommand included).
EXECUTION_CONTROL_PREFIXES: tuple[str, ...] = ("DYLD_", "GIT_CONFIG_")

_NAMES = frozenset(EXECUTION_CONTROL_NAMES)


def is_execution_control(key: str, type: str = "env_var") -> bool:
    """Whether a configuration key is an execution-control variable (any case; env_var only)."""
    if type != "env_var":
        return False
    upper = key.upper()
    return upper in _NAMES or upper.startswith(EXECUTION_CONTROL_PREFIXES)


def described() -> str:
    """The list for a sentence or a help text: ``PATH, PATHEXT, …, DYLD_*, GIT_CONFIG_*``."""
    return ", ".join([*EXECUTION_CONTROL_NAMES, *(p + "*" for p in EXECUTION_CONTROL_PREFIXES)])


def refusal(key: str) -> str:
    """What a non-admin is told for such a key: the database's own sentence (42501)."""
    return f"Only team admins may set or change {key}: it decides which programs run."
