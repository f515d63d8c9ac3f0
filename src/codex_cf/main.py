"""The entry point and the one place errors become messages and exit statuses.

Own commands go to the click layer; everything else is a Codex start and
takes the launch path, which never imports click. The two doors never import
each other: what the launch needs from a person at the terminal (repair the
profile, type a token) is wired here, from the commands that know how.
Nothing imports this module.
"""

from __future__ import annotations

import os
import sys

from codex_cf import terminal
from codex_cf.constants import CODEX_COMMANDS, OWN_COMMANDS, ExitStatus
from codex_cf.errors import CodexCfError

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Sequence

    from codex_cf.constants import Secret
    from codex_cf.errors import NoSecureKeyring
    from codex_cf.launch import Person
    from codex_cf.profile_facts import ProfileFacts
    from codex_cf.profile_rules import Report

DEBUG_ENV = "CODEX_CF_DEBUG"


def _one_edit_apart(typed: str, name: str) -> bool:
    """One letter added, dropped, changed, or two neighbours swapped."""
    if typed == name or abs(len(typed) - len(name)) > 1:
        return False
    start = 0
    while start < min(len(typed), len(name)) and typed[start] == name[start]:
        start += 1
    a, b = typed[start:], name[start:]
    return (
        a[1:] == b[1:]
        or a[1:] == b
        or a == b[1:]
        or (len(a) >= 2 and a[0] == b[1] and a[1] == b[0] and a[2:] == b[2:])
    )


def _meant_own_command(args: list[str]) -> list[str]:
    """`codex-cf doctr` on a terminal: ask before it becomes a paid Codex turn."""
    if len(args) != 1 or args[0] in CODEX_COMMANDS or not terminal.is_interactive():
        return args
    near = [name for name in OWN_COMMANDS if name[0] != "-" and _one_edit_apart(args[0], name)]
    if len(near) != 1:
        return args
    terminal.say(f"codex-cf: {args[0]!r} is one letter away from the command {near[0]!r}.")
    question = f"Run codex-cf {near[0]}? (no: send {args[0]!r} to Codex as a prompt)"
    if terminal.confirm(question, default=True):
        return [near[0]]
    terminal.say(f"(codex-cf -- {args[0]} sends it without asking)")
    return ["--", *args]


def _repair_profile(report: Report) -> ProfileFacts:
    from codex_cf.commands import setup_cmd

    return setup_cmd.repair_for_launch(report)


def _prompt_for_token(profile: str, secret: Secret, must_save: bool) -> str:
    from codex_cf.commands import token_cmd

    return token_cmd.prompt_for_launch(profile, secret, must_save)


def _token_for_this_run(profile: str, secret: Secret, no_store: NoSecureKeyring) -> str:
    from codex_cf.commands import token_cmd

    return token_cmd.prompt_for_this_run(profile, secret, no_store)


def _person() -> Person | None:
    """The launch's helper at the terminal; the commands behind it load only when asked."""
    if not terminal.is_interactive():
        return None
    from codex_cf.launch import Person

    return Person(_repair_profile, _prompt_for_token, _token_for_this_run)


def _dispatch(args: list[str]) -> int:
    from codex_cf import codex_binary

    codex_binary.check_not_version_probe(os.environ)
    args = _meant_own_command(args)
    if args and args[0] in OWN_COMMANDS:
        from codex_cf import cli

        return cli.run(args)
    if args and args[0] == "--":
        args = args[1:]
    from codex_cf import launch

    plan = launch.plan_launch(args, os.environ, _person())
    return launch.exec_launch(plan)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except CodexCfError as error:
        print(error.render(), file=sys.stderr)
        return int(error.exit_status)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`codex-cf doctor | head`): say nothing more, and keep
        # Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitStatus.FAILURE
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"codex-cf: internal error ({type(error).__name__}); "
            f"run again with {DEBUG_ENV}=1 to see where, and report it",
            file=sys.stderr,
        )
        return ExitStatus.FAILURE
