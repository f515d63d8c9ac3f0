"""A recording stand-in for Codex, for tests that check argv, environment and status.

It writes one JSON line per start to a log: its arguments, PID, and a digest
(never the value) of every environment variable. `--version` answers like
the real one, optionally as slowly.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TEMPLATE = r"""#!{python}
import hashlib, json, os, sys, time
LOG = {log!r}
args = sys.argv[1:]
record = {{
    "argv0": sys.argv[0],
    "args": args,
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "env": {{k: hashlib.sha256(v.encode("utf-8", "surrogateescape")).hexdigest()[:16]
            for k, v in os.environ.items()}},
}}
with open(LOG, "a", encoding="utf-8") as handle:
    handle.write(json.dumps(record) + "\n")
if args == ["--version"]:
    time.sleep({version_delay})
    print("codex-cli {version}")
    sys.exit(0)
sys.exit(int(os.environ.get("STAND_IN_EXIT", {exit_status})))
"""


@dataclass
class StandInCodex:
    path: Path
    log: Path

    def starts(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def runs(self) -> list[dict[str, Any]]:
        """Starts other than `--version` probes."""
        return [s for s in self.starts() if s["args"] != ["--version"]]

    def version_probes(self) -> int:
        return sum(1 for s in self.starts() if s["args"] == ["--version"])


def install(
    directory: Path,
    *,
    version: str = "0.169.0",
    exit_status: int = 0,
    version_delay: float = 0.0,
    name: str = "codex",
) -> StandInCodex:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    log = directory / f"{name}.log"
    path.write_text(
        _TEMPLATE.format(
            python=sys.executable,
            log=str(log),
            version=version,
            exit_status=exit_status,
            version_delay=version_delay,
        )
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return StandInCodex(path, log)


def path_with(directory: Path) -> str:
    return f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"
