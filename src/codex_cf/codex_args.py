"""Reading Codex's command line the way Codex's own parser (clap) does.

Pure functions: the launch decides from their answer whether a command gets
the profile checks and `--profile`, and tests can feed them any argv.
"""

from __future__ import annotations

from codex_cf.constants import (
    CODEX_COMMANDS,
    CODEX_INFO_OPTIONS,
    CODEX_MULTI_VALUE_OPTIONS,
    CODEX_VALUE_OPTIONS,
    RUNTIME_COMMANDS,
    RUNTIME_DEBUG_COMMANDS,
)
from codex_cf.errors import UsageError
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Sequence

# Sub-commands whose first positional starts a command line of its own
# (`codex sandbox grep -p x .` hands `-p x` to grep).
TRAILING_COMMAND = frozenset({"sandbox"})


class CodexCommandLine(NamedTuple):
    """What a Codex argv asks for."""

    original: tuple[str, ...]
    without_profile: tuple[str, ...]
    profile: str | None
    subcommand: str | None
    runtime: bool
    cd: str | None = None  # -C/--cd DIR: the working directory Codex will use

    def codex_argv(self, profile: str | None) -> list[str]:
        """The arguments Codex gets: `--profile` once, and only where it is accepted."""
        if not self.runtime or profile is None:
            return list(self.original)
        return ["--profile", profile, *self.without_profile]


def _profile_value(token: str, following: str | None) -> tuple[str | None, int]:
    """The profile an option token names and how many tokens it spans (0: not one)."""
    if token in ("-p", "--profile"):
        if following is None or following == "":
            raise UsageError(f"{token} needs a profile name", "codex-cf --profile NAME ...")
        return following, 2
    if token.startswith("--profile="):
        if token == "--profile=":
            raise UsageError("--profile= needs a profile name", "codex-cf --profile NAME ...")
        return token.removeprefix("--profile="), 1
    if token.startswith("-p") and not token.startswith("--") and len(token) > 2:
        return token[2:], 1
    return None, 0


def _cd_value(token: str, following: str | None) -> str | None:
    """The folder a -C/--cd token names (its value in the token or the next one)."""
    if token in ("-C", "--cd"):
        return following
    if token.startswith("--cd="):
        return token.removeprefix("--cd=")
    if token.startswith("-C") and len(token) > 2:
        return token[2:]
    return None


def _value_span(args: Sequence[str], index: int) -> int:
    """How many tokens an option at args[index] spans, its values included."""
    token = args[index]
    if token not in CODEX_VALUE_OPTIONS:
        return 1
    span = 2
    if token in CODEX_MULTI_VALUE_OPTIONS:
        while index + span < len(args) and not args[index + span].startswith("-"):
            span += 1
    return min(span, len(args) - index)


def parse(args: Sequence[str]) -> CodexCommandLine:
    """Find the profile option, the sub-command and whether it is a runtime command."""
    kept: list[str] = []
    profile: str | None = None
    positionals: list[str] = []
    info_only = False
    cd: str | None = None
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            kept.extend(args[i:])
            if not positionals:
                positionals.append("")  # what follows is a prompt, never a sub-command
            break
        following = args[i + 1] if i + 1 < len(args) else None
        name, span = _profile_value(token, following)
        if span:
            if profile is not None:
                raise UsageError(
                    "--profile is given twice; Codex accepts it once",
                    "keep one -p/--profile NAME",
                )
            profile = name
            i += span
            continue
        if token in CODEX_INFO_OPTIONS:
            info_only = True
        if token.startswith("-") and token != "-":
            cd = _cd_value(token, following) or cd
            span = _value_span(args, i)
            kept.extend(args[i : i + span])
            i += span
            continue
        positionals.append(token)
        kept.append(token)
        i += 1
        if positionals[0] in TRAILING_COMMAND and len(positionals) == 2:
            kept.extend(args[i:])  # the command to run belongs to it, options and all
            break
    subcommand = _subcommand(positionals)
    return CodexCommandLine(
        original=tuple(args),
        without_profile=tuple(kept),
        profile=profile,
        subcommand=subcommand,
        runtime=not info_only and _is_runtime(subcommand, positionals),
        cd=cd,
    )


def _subcommand(positionals: list[str]) -> str | None:
    if positionals and positionals[0] in CODEX_COMMANDS:
        return positionals[0]
    return None


def _is_runtime(subcommand: str | None, positionals: list[str]) -> bool:
    if subcommand is None:
        return True  # the interactive TUI, with or without a prompt
    if subcommand == "debug":
        return len(positionals) > 1 and positionals[1] in RUNTIME_DEBUG_COMMANDS
    return subcommand in RUNTIME_COMMANDS
