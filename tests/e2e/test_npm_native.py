"""The real npm Codex 0.169.0 and 0.171.0 started natively by codex-cf; 0.134.0 refused.

Each run goes to the loopback fake gateway, which holds its first answer
while the test looks at the processes, and until Codex has its shell
snapshot (which it sources before the agent's commands): through codex-cf,
codex-cf's own PID is the native Codex, with no Node process beside it
holding the token; through npm's launcher (Cloudflare's manual recipe, token
exported), the same native Codex runs under Node. Codex must see the same
package-manager variables, PATH and ignored signals either way, and finish
the turn with the token. 0.134.0 gives its agent the token from that
snapshot, so codex-cf refuses it before anything reaches the gateway.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from codex_cf import npm_codex
from codex_cf.constants import CODEX_OVERRIDE_ENV, ExitStatus
from codex_cf.fake_gateway import FakeGateway
from helpers import profiles, real_parts
from helpers.process import run_codex_cf
from helpers.snapshot_gateway import SnapshotGateway
from helpers.tokens import Withheld, assert_absent, assert_same_secret

PROFILE = "cloudflare-aig"
VARIABLE = "CLOUDFLARE_API_KEY"
COMMAND = f'printenv {VARIABLE}; echo "printenv status: $?"'
HOLD_SECONDS = 120
_SHOWN = ("CODEX_MANAGED_", "PATH")  # the variables compared; none holds a secret
EXEC = ("exec", "--skip-git-repo-check", "check the variable")


class HeldGateway(SnapshotGateway):
    """The fake gateway, holding its first answer until the test releases it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrived = threading.Event()
        self.release = threading.Event()

    def _answer(self, body: Mapping[str, Any]) -> bytes:
        self.arrived.set()
        self.release.wait(HOLD_SECONDS)
        return super()._answer(body)


@dataclass
class Seen:
    """The native Codex of one run, as the system shows it while its request is held."""

    status: int
    pid: int  # of the command the test ran
    native_pid: int
    native_parent: int
    node_processes: int  # in the command's process tree
    variables: dict[str, str]  # CODEX_MANAGED_* and PATH (no secrets)
    ignored_signals: str  # SigIgn from /proc
    printenv_status: str = ""  # what the agent's `printenv` of the token variable returned


def _native_in(root: psutil.Process, native: str) -> psutil.Process:
    for process in [root, *root.children(recursive=True)]:
        try:
            if os.path.realpath(process.exe()) == native:
                return process
        except psutil.Error:
            continue
    raise AssertionError(f"no process of {native} under {root.pid}")


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.NoSuchProcess:  # a short-lived helper of Codex's
        return ""


def _ignored(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return line.split()[1]
    raise AssertionError("no SigIgn line")


def _run(argv: list[str], env: dict[str, str], cwd: Path, native: str, token: str) -> Seen:
    codex_home = Path(env["CODEX_HOME"])
    with HeldGateway(codex_home, profiles.ACCOUNT, "codex-native", COMMAND) as gateway:
        profiles.write(
            codex_home / f"{PROFILE}.config.toml", profiles.with_base_url(gateway.base_url)
        )
        child = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert gateway.arrived.wait(HOLD_SECONDS), "Codex sent no request"
            root = psutil.Process(child.pid)
            process = _native_in(root, native)
            family = [root, *root.children(recursive=True)]
            environ = process.environ()
            seen = Seen(
                status=-1,
                pid=child.pid,
                native_pid=process.pid,
                native_parent=process.ppid(),
                node_processes=sum(1 for p in family if _name(p) == "node"),
                variables={
                    k: v
                    for k, v in environ.items()
                    if k.startswith("CODEX_MANAGED_") or k == "PATH"
                },
                ignored_signals=_ignored(process.pid),
            )
        finally:
            gateway.release.set()
            _, stderr = child.communicate(timeout=HOLD_SECONDS)
        seen.status = child.returncode
        assert seen.status == 0, Withheld(stderr.decode("utf-8", "replace"))
        assert gateway.turn_completed.wait(HOLD_SECONDS), "the turn did not complete"
        assert gateway.snapshot_seen, "Codex made no shell snapshot"
        assert len(gateway.tool_outputs) == 1
        output = gateway.tool_outputs[0]
        seen.printenv_status = output[output.rfind("printenv status: ") :].strip()
        sent = gateway.responses_requests()
        assert sent
        for request in sent:
            assert_same_secret(
                Withheld(request.header("Authorization") or ""),
                Withheld(f"Bearer {token}"),
                "Authorization",
            )
        return seen


def _release(version: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """npm's Codex `version` for codex-cf, and the native binary its launcher starts."""
    launcher = real_parts.npm_codex(version)
    start = npm_codex.read_start(str(launcher), os.path.realpath(launcher))
    assert start is not None, f"codex-cf does not recognise npm's Codex {version}"
    monkeypatch.setenv(CODEX_OVERRIDE_ENV, str(launcher))
    return launcher, os.path.realpath(start.native)


@pytest.fixture(params=real_parts.SUPPORTED_NPM_CODEX_VERSIONS)
def npm_release(request, codex, monkeypatch) -> tuple[Path, str]:
    return _release(request.param, monkeypatch)


def test_codex_cf_becomes_the_native_codex_npm_would_start(
    home, project, token, npm_release
) -> None:
    launcher, native = npm_release
    env = dict(os.environ)
    via_codex_cf = _run([real_parts.codex_cf(), *EXEC], env, project, native, token)
    # The native Codex is codex-cf's own process, started by the test: nothing between.
    assert via_codex_cf.native_pid == via_codex_cf.pid
    assert via_codex_cf.native_parent == os.getpid()
    assert via_codex_cf.node_processes == 0

    # Cloudflare's manual recipe with npm's launcher: the reference for what Codex sees.
    recipe_env = {**env, VARIABLE: str(token)}
    via_npm = _run([str(launcher), "--profile", PROFILE, *EXEC], recipe_env, project, native, token)
    assert via_codex_cf.variables == via_npm.variables
    assert "CODEX_MANAGED_BY_NPM" in via_codex_cf.variables
    assert via_codex_cf.ignored_signals == via_npm.ignored_signals
    assert via_codex_cf.printenv_status == via_npm.printenv_status == "printenv status: 1"


def test_npm_codex_0_134_0_gives_the_agent_the_token(home, codex, project, token, monkeypatch):
    """Why codex-cf refuses it: with the profile's exclude, its snapshot still exports the token."""
    launcher, native = _release(real_parts.TOO_OLD_NPM_CODEX, monkeypatch)
    recipe_env = {**os.environ, VARIABLE: str(token)}
    via_npm = _run([str(launcher), "--profile", PROFILE, *EXEC], recipe_env, project, native, token)
    assert via_npm.printenv_status == "printenv status: 0"


def test_codex_cf_refuses_npm_codex_0_134_0_before_any_request(
    home, codex, project, token, monkeypatch
) -> None:
    launcher, _ = _release(real_parts.TOO_OLD_NPM_CODEX, monkeypatch)
    with FakeGateway(profiles.ACCOUNT, "codex-native", COMMAND) as gateway:
        profiles.write(home.profile(PROFILE), profiles.with_base_url(gateway.base_url))
        done = run_codex_cf(*EXEC, cwd=str(project), timeout=120)
        stdout, stderr = Withheld(done.stdout), Withheld(done.stderr)
        assert_absent(token, stdout, stderr)
        assert done.returncode == ExitStatus.CODEX_UNUSABLE, stderr
        assert stderr.startswith(f"codex-cf: Codex 0.134.0 at {launcher} is older than 0.158.0")
        assert "\n  fix: npm install -g @openai/codex@latest\n" in stderr
        assert "Traceback" not in stderr
        assert gateway.requests == []
    assert not (home.codex_home / "shell_snapshots").exists()
