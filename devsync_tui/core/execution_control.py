"""Configurations that control execution (PERMISSIONS.md, "Rules that are easy to get wrong"):
variables whose name makes a program load or run code chosen by their value, and files whose
path does once ``devsync env pull`` writes them into a checkout.

Only admins of a team may create, change, restore or delete such a key, at every scope; the
database enforces it (migrations ``20261205100200_execution_control`` and
``20261207200000_execution_control_files``, whose ``private.execution_control_names()``,
``_prefixes()``, ``_folders()`` and ``_file_names()`` this module mirrors: a test asserts they
agree). The UI uses this only to hide what the database would refuse, and ``devsync run`` to
say when a variable changes under ``--watch``.

Variable names match case-insensitively: Windows environment names are, so ``Path`` is
``PATH`` there. A file path counts when a part of it is a folder whose files tools run
(``.git/``, ``.vscode/``, …), when it is a dotenv file (``.env.local``, ``config/dev.env``), or
when its name makes a tool run code (``.npmrc``, ``.envrc``, …); parts compare in any case.
"""

from __future__ import annotations

import re

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

#: Folders (lower case; any part of a file configuration's path) whose files tools run:
#: version control with its hooks and configuration, Cargo's, Bundler's and Maven's
#: configuration, editors' and dev containers' tasks, git hooks.
EXECUTION_CONTROL_FOLDERS: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".jj",
    ".cargo",
    ".bundle",
    ".mvn",
    ".vscode",
    ".idea",
    ".devcontainer",
    ".husky",
)

#: File names (lower case) that name a program or code to run. Dotenv files (``.env``,
#: ``.env.*``, ``*.env``) count too: they carry variables to whatever loads them.
EXECUTION_CONTROL_FILE_NAMES: tuple[str, ...] = (
    ".envrc",
    ".flaskenv",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pnpmfile.cjs",
    ".pnpmfile.mjs",
    ".devcontainer.json",
    ".pre-commit-config.yaml",
    "lefthook.yml",
    ".lefthook.yml",
    "gradle.properties",
    "gradle-wrapper.properties",
)

_NAMES = frozenset(EXECUTION_CONTROL_NAMES)
_TRIMMED = re.compile(r"^ +|[. ]+$")
_FOLDERS = frozenset(EXECUTION_CONTROL_FOLDERS)
_FILE_NAMES = frozenset(EXECUTION_CONTROL_FILE_NAMES)


def is_execution_control(key: str, type: str = "env_var") -> bool:
    """Whether a configuration key controls execution: an env_var by its name, a file by its
    path (any case)."""
    if type == "env_var":
        upper = key.upper()
        return upper in _NAMES or upper.startswith(EXECUTION_CONTROL_PREFIXES)
    if type == "file":
        parts = path_parts(key)
        name = parts[-1]
        return not _FOLDERS.isdisjoint(parts) or name in _FILE_NAMES or is_dotenv_name(name)
    return False


def path_parts(path: str) -> list[str]:
    """A file path's parts as Windows would open them, in lower case: from a part's first
    ``:`` on (an NTFS stream: ``.npmrc::$DATA`` is ``.npmrc``) and its trailing dots and
    spaces (``.npmrc.``) are not its name; leading spaces go too."""
    return [_TRIMMED.sub("", part.split(":", 1)[0]) for part in path.lower().split("/")]


def is_dotenv_name(name: str) -> bool:
    """Whether a file name (lower case, as :func:`path_parts` gives it) is a dotenv file's:
    ``.env``, ``.env.*``, ``*.env``."""
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def described() -> str:
    """The list for a sentence or a help text: ``PATH, PATHEXT, …, DYLD_*, GIT_CONFIG_*``."""
    return ", ".join([*EXECUTION_CONTROL_NAMES, *(p + "*" for p in EXECUTION_CONTROL_PREFIXES)])


def refusal(key: str) -> str:
    """What a non-admin is told for such a key: the database's own sentence (42501)."""
    return f"Only team admins may set or change {key}: it decides which programs run."
