"""The user's shell start-up files: which exist, and which lines export a secret.

doctor, `token import` and setup's offer to move a plain-text export ask which
rc lines export a token in plain text (path, line and name only: a value is
never returned, so it can never be printed); `completion` asks which file each
shell reads at start.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_cf import paths


@dataclass(frozen=True)
class RcExport:
    """A line of a start-up file that exports a variable with a literal value."""

    path: Path
    line: int
    variable: str


def _zdotdir(home: Path, env: Mapping[str, str]) -> Path:
    value = env.get("ZDOTDIR")
    return Path(value) if value else home


def _powershell_profiles(home: Path, env: Mapping[str, str]) -> list[Path]:
    """CurrentUserCurrentHost first, then CurrentUserAllHosts."""
    if sys.platform == "win32":
        documents = home / "Documents"
        folders = [documents / "PowerShell", documents / "WindowsPowerShell"]
    else:
        folders = [paths.config_home(env) / "powershell"]
    names = ("Microsoft.PowerShell_profile.ps1", "profile.ps1")
    return [folder / name for folder in folders for name in names]


def rc_file(shell: str, home: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The file each shell reads at every interactive start, where users add lines."""
    env = paths.with_home(home, environ)
    if shell == "bash":
        return home / ".bashrc"
    if shell == "zsh":
        return _zdotdir(home, env) / ".zshrc"
    if shell == "fish":
        return paths.config_home(env) / "fish" / "config.fish"
    if shell == "powershell":
        return _powershell_profiles(home, env)[0]
    raise ValueError(shell)


def rc_files(home: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The existing start-up files of bash, zsh, fish and PowerShell.

    fish's universal variables file is included: `set -Ux` stores values there.
    """
    env = paths.with_home(home, environ)
    zdotdir = _zdotdir(home, env)
    fish = paths.config_home(env) / "fish"
    candidates = [
        home / ".bashrc",
        home / ".bash_profile",
        home / ".bash_login",
        home / ".profile",
        zdotdir / ".zshenv",
        zdotdir / ".zprofile",
        zdotdir / ".zshrc",
        zdotdir / ".zlogin",
        fish / "config.fish",
        *sorted(fish.glob("conf.d/*.fish")),
        fish / "fish_variables",
        *_powershell_profiles(home, env),
    ]
    seen: set[Path] = set()
    found = []
    for candidate in candidates:
        if candidate not in seen and candidate.is_file():
            seen.add(candidate)
            found.append(candidate)
    return found


def find_exports(
    variables: Iterable[str], home: Path, environ: Mapping[str, str] | None = None
) -> list[RcExport]:
    """Lines in the rc files that export one of `variables` with a literal value.

    A value computed at start-up (`$(secret-tool lookup ...)`, `(pass show ...)`,
    `$OTHER`) is no plain-text copy and is not reported.
    """
    wanted = frozenset(variables)
    found: list[RcExport] = []
    for path in rc_files(home, environ):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        lines = text.splitlines()
        if path.name == "fish_variables":
            hits = _fish_universal_exports(lines, wanted)
        elif path.suffix == ".fish":
            hits = _fish_exports(lines, wanted)
        elif path.suffix == ".ps1":
            hits = _powershell_exports(lines, wanted)
        else:
            hits = _posix_exports(lines, wanted)
        found.extend(RcExport(path, number, name) for number, name in hits)
    return found


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEPARATORS = (";", "&&", "||", "|", "&")


def _statements(line: str) -> list[list[str]]:
    """Split a shell line into statements of raw words (quotes kept), up to a comment."""
    statements: list[list[str]] = [[]]
    word = ""
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            word += char
            if char == "\\" and quote == '"' and index + 1 < len(line):
                word += line[index + 1]
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            word += char
        elif char == "\\" and index + 1 < len(line):
            word += line[index : index + 2]
            index += 1
        elif char.isspace() or (char == "#" and not word):
            if word:
                statements[-1].append(word)
                word = ""
            if char == "#":
                break
        elif separator := next((s for s in _SEPARATORS if line.startswith(s, index)), ""):
            if word:
                statements[-1].append(word)
                word = ""
            statements.append([])
            index += len(separator) - 1
        else:
            word += char
        index += 1
    if word:
        statements[-1].append(word)
    return [statement for statement in statements if statement]


def _literal(value: str, substitutions: str) -> bool:
    """A non-empty value with no expansion outside single quotes."""
    quote = ""
    content = False
    for char in value:
        if quote:
            if char == quote:
                quote = ""
            elif quote == '"' and char in "$`":
                return False
            else:
                content = True
        elif char in "'\"":
            quote = char
        elif char in substitutions:
            return False
        else:
            content = True
    return content


def _posix_exports(lines: Iterable[str], wanted: frozenset[str]) -> Iterator[tuple[int, str]]:
    """bash/zsh: `export X=v`, `declare -x X=v`, `X=v; export X` (also across lines)."""
    assigned: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        for words in _statements(line):
            command, *arguments = words
            if command in ("export", "declare", "typeset", "local", "readonly"):
                options = [a for a in arguments if a.startswith("-")]
                exported = command == "export" or any(
                    "x" in option for option in options if not option.startswith("--")
                )
                if not exported or "-n" in options:
                    continue
                for argument in arguments:
                    name, equals, value = argument.partition("=")
                    if name not in wanted:
                        continue
                    if equals and _literal(value, "$`"):
                        yield number, name
                    elif not equals and name in assigned:
                        yield assigned.pop(name), name
            else:
                pairs = [word.partition("=") for word in words]
                if not all(equals and _NAME.fullmatch(name) for name, equals, _ in pairs):
                    continue  # a command, perhaps with `X=v` for itself only
                for name, _, value in pairs:
                    if name in wanted and _literal(value, "$`"):
                        assigned[name] = number
                    else:
                        assigned.pop(name, None)


def _fish_exports(lines: Iterable[str], wanted: frozenset[str]) -> Iterator[tuple[int, str]]:
    """fish: `set -x X v`, `set -gx`, `set -Ux`, `set --export X v`."""
    for number, line in enumerate(lines, 1):
        for statement in _statements(line):
            words = list(statement)
            while words and words[0] in ("and", "or", "not", "builtin", "command"):
                del words[0]
            if len(words) < 3 or words[0] != "set":
                continue
            arguments = words[1:]
            options = []
            while arguments and arguments[0].startswith("-"):
                options.append(arguments.pop(0))
            short = "".join(o[1:] for o in options if not o.startswith("--"))
            exported = "x" in short or "--export" in options
            # `set -e` erases and `set -q` queries: neither assigns.
            assigns = not ({"e", "q"} & set(short) or {"--erase", "--query"} & set(options))
            if not (exported and assigns) or len(arguments) < 2 or arguments[0] not in wanted:
                continue
            if all(_literal(value, "$(") for value in arguments[1:]):
                yield number, arguments[0]


def _fish_universal_exports(
    lines: Iterable[str], wanted: frozenset[str]
) -> Iterator[tuple[int, str]]:
    """fish_variables: `SETUVAR --export NAME:value`, written by `set -Ux`."""
    for number, line in enumerate(lines, 1):
        words = line.split(" ", 2)
        if len(words) == 3 and words[0] == "SETUVAR" and words[1] == "--export":
            name, colon, value = words[2].partition(":")
            if colon and value and name in wanted:
                yield number, name


_PS_ASSIGNMENTS = (
    re.compile(r"\$env:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)", re.IGNORECASE),
    re.compile(
        r"\[(?:System\.)?Environment\]::SetEnvironmentVariable\(\s*(['\"])"
        r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\1\s*,\s*(?P<value>.*)",
        re.IGNORECASE,
    ),
)


def _powershell_literal(value: str) -> bool:
    """A quoted string with content and, in double quotes, no `$` expansion."""
    value = value.strip()
    if len(value) < 3 or value[0] not in "'\"":
        return False
    end = value.find(value[0], 1)
    if end <= 1:
        return False
    return value[0] == "'" or "$" not in value[1:end]


def _powershell_exports(lines: Iterable[str], wanted: frozenset[str]) -> Iterator[tuple[int, str]]:
    """PowerShell: `$env:X = '...'`, `[Environment]::SetEnvironmentVariable('X', '...')`."""
    names = {name.lower(): name for name in wanted}
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            continue
        for pattern in _PS_ASSIGNMENTS:
            for match in pattern.finditer(line):
                name = match["name"].lower()
                if name in names and _powershell_literal(match["value"]):
                    yield number, names[name]
