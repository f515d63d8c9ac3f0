"""Finding the real parts the end-to-end tests drive.

On a developer's laptop a missing part skips its tests; in CI (CI=true) it
fails them, since a skipped real-parts test proves nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CODEX_ENV = "CODEX_CF_TEST_CODEX"
REPO = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    message = f"{what} is not available (scripts/test installs it)"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        missing(f"`{name}`")
    assert found is not None
    return found


def codex_cf() -> str:
    """The installed console script, as users run it."""
    script = Path(sys.executable).with_name("codex-cf")
    if not script.exists():
        missing("the installed codex-cf console script (pip install -e '.[test]')")
    return str(script)


def real_codex() -> str:
    """The npm Codex: $CODEX_CF_TEST_CODEX (scripts/test sets it), else `codex` on PATH."""
    path = os.environ.get(CODEX_ENV) or shutil.which("codex")
    if not path:
        missing("the real Codex (@openai/codex@0.169.0)")
    assert path is not None
    version = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    if "codex-cli" not in version:
        missing(f"a working Codex at {path}")
    return path


# npm's Codex releases whose launchers (bin/codex.js) differ; scripts/test installs each.
NPM_CODEX_VERSIONS = ("0.134.0", "0.169.0", "0.171.0")


def npm_codex(version: str) -> Path:
    """`node_modules/.bin/codex` of npm's Codex VERSION, as scripts/test installs it."""
    folder = "codex" if version == "0.169.0" else f"codex-{version}"
    path = REPO / ".test-tools" / folder / "node_modules" / ".bin" / "codex"
    answer = (
        subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
        if path.exists()
        else ""
    )
    if answer.strip() != f"codex-cli {version}":
        missing(f"npm's Codex {version} in {path.parents[2]}")
    return path
