"""Running the installed codex-cf as users do: a separate process, no terminal."""

from __future__ import annotations

import os
import subprocess

from helpers import real_parts


def run_codex_cf(
    *args: str,
    stdin_text: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Standard input is closed unless `stdin_text` is given, as in CI."""
    return subprocess.run(
        [real_parts.codex_cf(), *args],
        input=stdin_text,
        stdin=None if stdin_text is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
