"""Calls that may hang (a keyring on D-Bus) run with a deadline."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The call did not return in time; its thread is left to die with the process."""


def call_with_deadline(function: Callable[[], T], seconds: float) -> T:
    """Run function in a daemon thread and give up after `seconds`.

    A thread, not a signal: it works off the main thread and on Windows, and a
    D-Bus call blocked in the kernel cannot be interrupted anyway.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="codex-cf-deadline", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
