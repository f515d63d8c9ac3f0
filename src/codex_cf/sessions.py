"""Codex sessions still running with a profile's old settings (psutil)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codex_cf import codex_args, paths
from codex_cf.errors import UsageError

if TYPE_CHECKING:
    import psutil

_CODEX_NAMES = ("codex", "codex.js", "codex.exe", "codex.cmd")


@dataclass(frozen=True)
class Session:
    pid: int
    started: float  # seconds since the epoch
    command: str


def _codex_arguments(cmdline: list[str]) -> list[str] | None:
    """Codex's own arguments when this command line runs Codex, else None."""
    for index, word in enumerate(cmdline[:2]):
        if os.path.basename(word).lower() in _CODEX_NAMES:
            return cmdline[index + 1 :]
    return None


def profile_of(cmdline: list[str]) -> str | None:
    arguments = _codex_arguments(cmdline)
    if arguments is None:
        return None
    try:
        return codex_args.parse(arguments).profile
    except UsageError:
        return None


def _same_folder(first: Path, second: Path) -> bool:
    return os.path.normcase(os.path.realpath(first)) == os.path.normcase(os.path.realpath(second))


def _is_ours(process: psutil.Process, codex_home: Path) -> bool:
    """Run by this user with this CODEX_HOME; unreadable means someone else's."""
    import psutil

    try:
        if os.name == "nt":
            if process.username() != psutil.Process().username():
                return False
        elif process.uids().real != os.getuid():
            return False
        folder = paths.codex_home(process.environ())
        if not folder.is_absolute():
            folder = Path(process.cwd(), folder)
    except psutil.Error:
        return False
    return _same_folder(folder, codex_home)


def running(profile: str, started_before: float | None = None) -> list[Session]:
    """This user's Codex processes that use this very profile file: `--profile profile`
    under the same CODEX_HOME. Outermost only (the npm wrapper, not its child)."""
    import psutil

    codex_home = paths.codex_home()
    matches: dict[int, Session] = {}
    parents: dict[int, int] = {}
    for process in psutil.process_iter(["pid", "ppid", "cmdline", "create_time"]):
        info = process.info
        cmdline = info.get("cmdline") or []
        if profile_of(cmdline) != profile or not _is_ours(process, codex_home):
            continue
        started = float(info.get("create_time") or 0)
        if started_before is not None and started >= started_before:
            continue
        matches[info["pid"]] = Session(info["pid"], started, " ".join(cmdline))
        parents[info["pid"]] = info.get("ppid") or 0
    return sorted(
        (s for pid, s in matches.items() if parents[pid] not in matches), key=lambda s: s.pid
    )


def describe(sessions: list[Session]) -> list[str]:
    import time

    return [
        f"PID {s.pid}, started {time.strftime('%H:%M', time.localtime(s.started))}: "
        f"{s.command[:80]}"
        for s in sessions
    ]
