"""Questions to the person at the terminal; prompts go to stderr so stdout stays clean."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from codex_cf.errors import UsageError


def say(message: str = "") -> None:
    print(message, file=sys.stderr)


def _read_line(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise KeyboardInterrupt  # end of input: the user walked away
    return line.rstrip("\r\n")


def ask(
    question: str,
    default: str | None = None,
    check: Callable[[str], str | None] | None = None,
) -> str:
    """Ask until the answer passes `check` (which returns a problem, or None)."""
    suffix = f" [{default}]" if default else ""
    while True:
        answer = _read_line(f"{question}{suffix}: ").strip() or (default or "")
        problem = check(answer) if check else (None if answer else "an answer is needed")
        if problem is None:
            return answer
        say(f"  {problem}")


def confirm(question: str, default: bool = True) -> bool:
    hint = "Y/n" if default else "y/N"
    while True:
        answer = _read_line(f"{question} [{hint}] ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        say("  please answer y or n")


def ask_secret(question: str) -> str:
    """A hidden prompt: nothing typed is echoed. Ctrl-D is walking away, as in `ask`."""
    try:
        return getpass.getpass(f"{question}: ", stream=sys.stderr)
    except EOFError:
        raise KeyboardInterrupt from None


def read_secret_from_stdin(what: str) -> str:
    """One secret from standard input: surrounding whitespace stripped, one line only."""
    value = sys.stdin.read().strip()
    if not value:
        raise UsageError(f"standard input held no {what}", f"pipe the {what} into the command")
    if "\n" in value or "\r" in value:
        raise UsageError(
            f"standard input held several lines; a {what} is one line",
            f"pipe only the {what} into the command",
        )
    return value


def mask(value: str) -> str:
    """At most the last 4 characters, fewer for short values, never the whole."""
    shown = min(4, len(value) // 4)
    return "…" + value[-shown:] if shown else "…"
