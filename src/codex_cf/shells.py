"""The user's shells: which one runs codex-cf, and where its completion scripts go.

`completion` asks which shell to write for and where; `remove` asks which
completion files codex-cf installed. What the start-up files hold is rc_files'.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from codex_cf import paths
from codex_cf.constants import PROGRAM, SHELLS
from codex_cf.errors import UsageError

# A comment line in every completion script codex-cf ships, so a file that
# holds it is codex-cf's own and `remove` may delete it.
MARKER = "codex-cf-completion-script"

_NAME_HINT = f"{PROGRAM} completion {'|'.join(SHELLS)}"
_PROCESS_SHELLS = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "pwsh": "powershell",
    "powershell": "powershell",
}
# Shells codex-cf has no script for: detection stops there instead of
# guessing at a shell further up.
_OTHER_SHELLS = frozenset(
    {"sh", "dash", "ash", "ksh", "mksh", "csh", "tcsh", "nu", "elvish", "xonsh", "cmd"}
)
# Programs that commonly stand between the shell and codex-cf.
_WRAPPERS = frozenset(
    {
        "codex-cf",
        "env",
        "sudo",
        "doas",
        "nice",
        "nohup",
        "time",
        "timeout",
        "strace",
        "uv",
        "uvx",
        "pipx",
        "poetry",
        "pdm",
        "hatch",
        "rye",
        "py",
    }
)
_MAX_ANCESTORS = 6


def detect_shell() -> str:
    """The shell codex-cf was started from: its nearest ancestor that is a shell."""
    import psutil

    try:
        process = psutil.Process().parent()
        for _ in range(_MAX_ANCESTORS):
            if process is None:
                break
            name = _process_name(process.name())
            if name in _PROCESS_SHELLS:
                return _PROCESS_SHELLS[name]
            if name in _OTHER_SHELLS:
                raise UsageError(
                    f"codex-cf has no completion script for {name}", f"name one: {_NAME_HINT}"
                )
            if name not in _WRAPPERS and not name.startswith(("python", "pypy")):
                break
            process = process.parent()
    except psutil.Error:
        pass
    raise UsageError(
        "could not tell which shell started codex-cf", f"name your shell: {_NAME_HINT}"
    )


def _process_name(name: str) -> str:
    name = name.lower().lstrip("-")
    return name.removesuffix(".exe")


def completion_file(
    shell: str, command: str, home: Path, environ: Mapping[str, str] | None = None
) -> Path:
    """Where `completion --install` puts the script that completes `command`.

    bash-completion and fish load these by command name on first TAB, zsh
    through $fpath; PowerShell has no such place, so its one script lives in
    codex-cf's data folder and the profile loads it.
    """
    env = paths.with_home(home, environ)
    if shell == "bash":
        return paths.data_home(env) / "bash-completion" / "completions" / command
    if shell == "zsh":
        return home / ".zfunc" / f"_{command}"
    if shell == "fish":
        return paths.config_home(env) / "fish" / "completions" / f"{command}.fish"
    if shell == "powershell":
        return paths.data_home(env) / PROGRAM / f"{PROGRAM}.ps1"
    raise ValueError(shell)


def is_own_file(path: Path) -> bool:
    """The file carries codex-cf's marker in its first lines."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError:
        return False
    return MARKER.encode() in head


def installed_completion_files(home: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The completion files `completion --install` wrote, for every shell and alias."""
    found: list[Path] = []
    for shell in SHELLS:
        folder = completion_file(shell, PROGRAM, home, environ).parent
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        found.extend(
            entry
            for entry in entries
            if entry.is_file() and not entry.is_symlink() and is_own_file(entry)
        )
    return found
