"""`codex-cf completion [SHELL] [--install] [--alias NAME]...`.

The scripts are files shipped with the package (`completions/` in the source
tree, `codex_cf/completions` in the wheel): TAB runs them in the shell, never
Python. Installing writes them where each shell looks for completions by
command name, so nothing is added to start-up files except where a shell has
no such place (zsh's fpath line, PowerShell's profile).
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from codex_cf import atomic_file, paths, rc_files, shells
from codex_cf.constants import PROGRAM, ExitStatus
from codex_cf.errors import CodexCfError, FileConflict, UsageError

SCRIPT_FILES = {
    "bash": "codex-cf.bash",
    "zsh": "_codex-cf",
    "fish": "codex-cf.fish",
    "powershell": "codex-cf.ps1",
}
# Names safe to write into shell code unquoted, and as file names.
_ALIAS = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
PROFILE_BEGIN = "# >>> codex-cf completion >>>"
PROFILE_END = "# <<< codex-cf completion <<<"
# Where distributions put bash-completion, which loads user completions on demand.
_BASH_COMPLETION = (
    Path("/usr/share/bash-completion/bash_completion"),
    Path("/etc/bash_completion"),
    Path("/usr/local/share/bash-completion/bash_completion"),
    Path("/usr/local/etc/profile.d/bash_completion.sh"),
    Path("/opt/homebrew/etc/profile.d/bash_completion.sh"),
)


@dataclass(frozen=True)
class CompletionOptions:
    shell: str | None
    install: bool
    aliases: tuple[str, ...]


def run(options: CompletionOptions) -> int:
    shell = options.shell or shells.detect_shell()
    aliases = _checked_aliases(options.aliases)
    text = script(shell, aliases)
    if not options.install:
        sys.stdout.write(text)
        return ExitStatus.OK
    for line in install(shell, text, aliases, paths.home()):
        print(line)
    return ExitStatus.OK


def _checked_aliases(aliases: tuple[str, ...]) -> tuple[str, ...]:
    for alias in aliases:
        if not _ALIAS.fullmatch(alias):
            raise UsageError(
                f"{alias!r} is not a command name codex-cf can complete",
                "use letters, digits and _ . + - only, e.g.: codex-cf completion --alias codex",
            )
    return tuple(dict.fromkeys(a for a in aliases if a != PROGRAM))


def shipped_script(shell: str) -> str:
    """The script as shipped: in the installed package, else the source tree (editable)."""
    name = SCRIPT_FILES[shell]
    packaged = resources.files("codex_cf") / "completions" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[3] / "completions" / name
    if source.is_file():
        return source.read_text(encoding="utf-8")
    raise CodexCfError(
        f"the {shell} completion script is missing from this installation",
        "reinstall codex-cf: pip install --force-reinstall codex-cf",
    )


def script(shell: str, aliases: tuple[str, ...] = ()) -> str:
    """The shipped script, plus what makes each alias complete like codex-cf."""
    text = shipped_script(shell)
    if not aliases:
        return text
    names = " ".join(aliases)
    if shell == "bash":
        lines = [f"_codex_cf_register {names}"]
    elif shell == "zsh":
        # The #compdef line registers the aliases when compinit finds the file in fpath.
        first, _, rest = text.partition("\n")
        text = f"{first} {names}\n{rest}"
        lines = [f"compdef _codex-cf {names}"]
    elif shell == "fish":
        lines = [f"complete -c {alias} --wraps codex-cf" for alias in aliases]
    else:
        lines = [
            f"Register-ArgumentCompleter -Native -CommandName '{alias}'"
            " -ScriptBlock $global:CodexCfCompleter"
            for alias in aliases
        ]
    return text + "\n# Aliases (codex-cf completion --alias)\n" + "\n".join(lines) + "\n"


def install(shell: str, text: str, aliases: tuple[str, ...], home: Path) -> list[str]:
    """Write the script where `shell` finds it; return what to tell the user."""
    main = shells.completion_file(shell, PROGRAM, home)
    targets = [main]
    if shell in ("bash", "fish"):
        # These load completions by the name typed, so each alias gets its copy.
        targets += [shells.completion_file(shell, alias, home) for alias in aliases]
    for target in targets:
        if target.exists() and not shells.is_own_file(target):
            raise FileConflict(
                f"{target} exists and was not written by codex-cf",
                f"move it away, then run: codex-cf completion {shell} --install",
            )
    for target in targets:
        _write_atomically(target, text, 0o644)
    messages = [f"codex-cf: wrote {target}" for target in targets]
    if shell == "bash":
        messages += _bash_activation(main, home)
    elif shell == "zsh":
        messages += _zsh_activation(main, home)
    elif shell == "fish":
        messages.append("fish loads it by itself: nothing to add.")
    else:
        messages += _powershell_activation(main, home)
    return messages


def _bash_activation(script_path: Path, home: Path) -> list[str]:
    line = f"  source {shlex.quote(str(script_path))}"
    bashrc = rc_files.rc_file("bash", home)
    if any(candidate.is_file() for candidate in _BASH_COMPLETION):
        return [
            "New shells load it through bash-completion. "
            f"If yours does not load bash-completion, add this line to {bashrc}:",
            line,
        ]
    return [f"To load it, add this line to {bashrc} and open a new shell:", line]


def _zsh_activation(script_path: Path, home: Path) -> list[str]:
    zshrc = rc_files.rc_file("zsh", home)
    try:
        content = zshrc.read_text(encoding="utf-8", errors="replace")
    except OSError:
        content = ""
    folder = script_path.parent
    shown = f"~/{folder.relative_to(home)}" if folder.is_relative_to(home) else str(folder)
    if any("fpath" in line and folder.name in line for line in content.splitlines()):
        return ["New shells load it: your .zshrc already adds it to fpath."]
    if "compinit" in content or "oh-my-zsh" in content:
        return [
            f"To load it, add this line to {zshrc} above compinit (or oh-my-zsh):",
            f"  fpath=({shown} $fpath)",
        ]
    return [
        f"To load it, add this line to {zshrc} and open a new shell:",
        f"  fpath=({shown} $fpath); autoload -Uz compinit && compinit",
    ]


def _powershell_activation(script_path: Path, home: Path) -> list[str]:
    """Add a marked block to the profile that dot-sources the script if it is there.

    The block stays harmless after `codex-cf remove` deletes the script.
    """
    profile = rc_files.rc_file("powershell", home)
    quoted = "'" + str(script_path).replace("'", "''") + "'"
    block = (
        f"{PROFILE_BEGIN}\nif (Test-Path -LiteralPath {quoted}) {{ . {quoted} }}\n{PROFILE_END}\n"
    )
    try:
        content = profile.read_bytes().decode("utf-8") if profile.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise FileConflict(
            f"cannot read {profile} as UTF-8 text ({error})",
            f"add this line to it yourself: . {quoted}",
        ) from None
    if block in content:
        return [f"{profile} already loads it."]
    begin, end = content.find(PROFILE_BEGIN), content.find(PROFILE_END)
    if 0 <= begin < end:
        stop = end + len(PROFILE_END)
        if content[stop : stop + 1] == "\n":
            stop += 1
        updated = content[:begin] + block + content[stop:]
    else:
        separator = "\n" if content and not content.endswith("\n") else ""
        updated = content + separator + block
    mode = profile.stat().st_mode & 0o7777 if profile.exists() else 0o644
    _write_atomically(profile, updated, mode)
    return [f"codex-cf: added the lines that load it to {profile}; open a new PowerShell."]


def _write_atomically(path: Path, text: str, mode: int) -> None:
    """Temp file in the same folder, fsync, rename: a reader sees old or new, never half."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_file.write(path, text, mode)
    except OSError as error:
        raise FileConflict(
            f"cannot write {path}: {error.strerror or error}",
            f"make {path.parent} writable, then run: codex-cf completion --install",
        ) from None
