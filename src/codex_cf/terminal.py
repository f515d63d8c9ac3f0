"""Questions to the person at the terminal; prompts go to stderr so stdout stays clean.

The launch path asks `is_interactive` on every start, so this module loads no
more than the standard library's core; the rest comes in when a question is asked.
"""

from __future__ import annotations

import sys
import time

from codex_cf.errors import UsageError

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future
    from typing import TypeVar

    T = TypeVar("T")

_SPINNER = "|/-\\"


def is_interactive() -> bool:
    """A person is there to answer: prompts and repair offers are allowed."""
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


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
    import getpass

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


def wait_for(future: Future[T], label: str) -> T:
    """The future's result; meanwhile, on a terminal, a spinner with the seconds waited.

    A slow network then shows what is being waited for instead of silence.
    """
    from concurrent.futures import TimeoutError as FutureTimeout

    try:
        shown = sys.stderr.isatty()
    except (AttributeError, ValueError):
        shown = False
    if not shown:
        return future.result()
    started = time.monotonic()
    turns = 0
    try:
        while True:
            try:
                return future.result(timeout=0.1)
            except FutureTimeout:
                turns += 1
                waited = int(time.monotonic() - started)
                sys.stderr.write(f"\r{_SPINNER[turns % 4]} {label} ({waited} s)")
                sys.stderr.flush()
    finally:
        if turns:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def run_with_progress(label: str, work: Callable[[], T]) -> T:
    """`work()` in a thread, with `wait_for`'s spinner while it runs."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return wait_for(pool.submit(work), label)
