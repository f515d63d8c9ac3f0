"""The README's first command, verbatim, as a newcomer runs it: a fresh HOME, pipx, a PATH
without ~/.local/bin, no keyring, no profile, no Cloudflare account."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from helpers import real_parts


def _first_command() -> str:
    readme = (real_parts.REPO / "README.md").read_text()
    first_screen = readme.split("---", 1)[0]
    return re.findall(r"```sh\n(.*?)```", first_screen, re.S)[0].strip().splitlines()[0]


def test_the_first_command_installs_codex_cf_and_the_self_test_passes(tmp_path: Path) -> None:
    pipx = real_parts.tool("pipx")
    codex_dir = tmp_path / "codex-bin"
    codex_dir.mkdir()
    (codex_dir / "codex").symlink_to(real_parts.real_codex())
    home = tmp_path / "newcomer"
    home.mkdir()
    # What a new login shell has: the system folders, Codex's and pipx's, nothing of ours.
    path = os.pathsep.join(
        [str(codex_dir), str(Path(pipx).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    )
    env = {"HOME": str(home), "PATH": path, "LANG": "C.UTF-8", "TERM": "dumb"}
    for passed_on in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "PIP_FIND_LINKS"):
        if passed_on in os.environ:
            env[passed_on] = os.environ[passed_on]
    done = subprocess.run(
        ["bash", "-c", _first_command()],
        cwd=real_parts.REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-3000:]
    assert "command not found" not in report
    # The self-test's own lines: Codex used the profile and the token reached the gateway.
    assert "✓ Codex used the profile's provider" in done.stdout, report[-3000:]
    assert "✗" not in done.stdout, report[-3000:]
    assert (home / ".local" / "bin" / "codex-cf").exists()
