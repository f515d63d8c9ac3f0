"""Processes that look like running Codex sessions, for the stale-session listing.

Each is `/bin/sh <folder>/codex ARGS...` sleeping in its own process group,
so the listing sees a `codex` command line; the folder is readable by every
user, so one can also run as another user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from helpers import real_parts

_SCRIPT = "#!/bin/sh\nsleep 600\n"
_WAIT = 60.0


def _can_sudo() -> bool:
    try:
        done = subprocess.run(["sudo", "-n", "true"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class CodexSessions:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="codex-cf-sessions-"))
        self.folder.chmod(0o755)
        self.script = self.folder / "codex"
        self.script.write_text(_SCRIPT)
        self.script.chmod(0o755)
        self._started: list[subprocess.Popen[bytes]] = []
        self._sudo = False

    def start(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        user: int | None = None,
    ) -> int:
        """Start one and return its PID once it runs the script and its start time has passed."""
        command = [str(self.script), *args]
        if user is not None and os.geteuid() != 0:  # sudo keeps the environment given here
            if not _can_sudo():
                real_parts.missing("root or password-less sudo (to run a process as another user)")
            command = ["sudo", "-n", "--preserve-env", "-u", f"#{user}", *command]
            self._sudo = True
            user = None
        process = subprocess.Popen(
            command,
            env=env if env is not None else dict(os.environ),
            cwd=cwd,
            user=user,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
        )
        self._started.append(process)
        pid = self._script_pid(process)
        started = psutil.Process(pid).create_time()
        while time.time() <= started:
            time.sleep(0.05)
        return pid

    def _script_pid(self, process: subprocess.Popen[bytes]) -> int:
        """The process running the script (under sudo, sudo's child)."""
        deadline = time.monotonic() + _WAIT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the stand-in session ended at once: {process.returncode}")
            try:
                family = [psutil.Process(process.pid)]
                family += family[0].children(recursive=True)
                for member in family:
                    if str(self.script) in member.cmdline():
                        return member.pid
            except psutil.Error:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the stand-in session did not start within {_WAIT:.0f} s")

    def stop(self) -> None:
        for process in self._started:
            if self._sudo:
                kill = ["sudo", "-n", "kill", "-KILL", "--", f"-{process.pid}"]
                subprocess.run(kill, check=False, capture_output=True)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._started.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
