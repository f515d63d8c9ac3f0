"""Finding the real parts the end-to-end tests drive.

On a developer's laptop a missing part skips its tests; in CI (CI=true) it
fails them, since a skipped real-parts test proves nothing.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CODEX_ENV = "CODEX_CF_TEST_CODEX"
REPO = Path(__file__).resolve().parents[2]
# The PATH the test run started with; tests run with codex taken off it (conftest.py).
MACHINE_PATH = os.environ.get("PATH", os.defpath)
_CODEX_NAMES = ("codex", "codex.cmd", "codex.exe")


def codex_version() -> str:
    """The Codex version the test command installs (scripts/test says it once)."""
    text = (REPO / "scripts" / "test").read_text()
    found = re.search(r"^codex_version=(\S+)$", text, re.MULTILINE)
    assert found, "scripts/test no longer sets codex_version="
    return found.group(1)


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
    """The npm Codex the test command installs: $CODEX_CF_TEST_CODEX (scripts/test sets it),
    else a `codex` on the machine's PATH, if it is that same version."""
    path = os.environ.get(CODEX_ENV) or shutil.which("codex", path=MACHINE_PATH)
    if not path:
        missing(f"the real Codex (@openai/codex@{codex_version()}; ${CODEX_ENV})")
    assert path is not None
    return _checked_codex(path)


@functools.cache
def _checked_codex(path: str) -> str:
    try:
        done = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"the real Codex at {path} did not answer --version: {error}", pytrace=False)
    wanted = f"codex-cli {codex_version()}"
    if done.stdout.strip() != wanted:
        answer = done.stdout.strip() or done.stderr.strip()[:200] or f"exit {done.returncode}"
        pytest.fail(
            f"the Codex at {path} says {answer!r}, not {wanted!r}: "
            f"run scripts/test, or point ${CODEX_ENV} at Codex {codex_version()}",
            pytrace=False,
        )
    return path


def path_without_codex(path: str, mirrors: Path) -> str:
    """`path` with no `codex` on it: each folder that holds one is replaced by a folder
    under `mirrors` linking to everything else in it. Tests never start the machine's
    Codex by accident, and a missing Codex is missing on every machine."""
    folders = []
    for index, folder in enumerate(filter(None, path.split(os.pathsep))):
        source = Path(folder)
        if not any((source / name).is_file() for name in _CODEX_NAMES):
            folders.append(folder)
            continue
        mirror = mirrors / f"{index}-{source.name}"
        mirror.mkdir(parents=True, exist_ok=True)
        for entry in source.iterdir():
            if entry.name not in _CODEX_NAMES and not (mirror / entry.name).exists():
                (mirror / entry.name).symlink_to(entry)
        folders.append(str(mirror))
    return os.pathsep.join(folders)


# npm's Codex releases whose launchers (bin/codex.js) differ; scripts/test installs each.
NPM_CODEX_VERSIONS = ("0.134.0", "0.169.0", "0.171.0")
# The one of them codex-cf refuses: its shell snapshot gives the agent the token.
TOO_OLD_NPM_CODEX = "0.134.0"
SUPPORTED_NPM_CODEX_VERSIONS = tuple(v for v in NPM_CODEX_VERSIONS if v != TOO_OLD_NPM_CODEX)


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
