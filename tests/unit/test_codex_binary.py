"""Finding the real Codex: never codex-cf itself, never too old, never in a loop."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from codex_cf import codex_binary, launch
from codex_cf.constants import REENTRY_ENV, ExitStatus
from codex_cf.errors import CodexNotFound, CodexUnusable
from helpers import profiles, stand_in_codex
from helpers.process import run_codex_cf


def plan(*args: str) -> launch.Launch:
    return launch.plan_launch(list(args), dict(os.environ), person=None)


def test_codex_not_found(home, monkeypatch, token) -> None:
    monkeypatch.setenv("PATH", str(home.root / "empty"))
    profiles.write(home.profile())
    with pytest.raises(CodexNotFound) as raised:
        plan("exec", "hi")
    assert "npm install -g @openai/codex" in (raised.value.fix or "")
    assert raised.value.exit_status == 127


def test_codex_cf_symlinked_as_codex_is_skipped(home, stand_in, token, monkeypatch) -> None:
    profiles.write(home.profile())
    shim_dir = home.root / "shims"
    shim_dir.mkdir()
    (shim_dir / "codex").symlink_to(Path(sys.executable).with_name("codex-cf"))
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    assert plan("exec", "hi").executable == str(stand_in.path)
    # With nothing else to reach, it stops at once with a clear error.
    monkeypatch.setenv("PATH", str(shim_dir))
    with pytest.raises(CodexNotFound, match="is codex-cf itself"):
        plan("exec", "hi")


def test_codex_override_variable(home, stand_in, token, monkeypatch) -> None:
    profiles.write(home.profile())
    other = stand_in_codex.install(home.root / "elsewhere")
    monkeypatch.setenv("CODEX_CF_CODEX", str(other.path))
    assert plan("exec", "hi").executable == str(other.path)


def test_old_codex_is_refused(home, token, monkeypatch) -> None:
    profiles.write(home.profile())
    old = stand_in_codex.install(home.root / "old", version="0.157.1")
    monkeypatch.setenv("PATH", str(old.path.parent))
    with pytest.raises(
        CodexUnusable,
        match=r"0\.157\.1 .* older than 0\.158\.0, the first that keeps the token from the "
        r"agent's commands",
    ):
        plan("exec", "hi")


# 0.157.1 is the last release whose shell snapshot hands the agent the token.
@pytest.mark.parametrize(
    "version", ["0.157.1", "0.157.99", "0.134.0", "0.99.0", "0.0.1", "0.9.158"]
)
def test_every_codex_before_0_158_0_is_refused(home, token, monkeypatch, version) -> None:
    profiles.write(home.profile())
    old = stand_in_codex.install(home.root / "old", version=version)
    monkeypatch.setenv("PATH", str(old.path.parent))
    with pytest.raises(CodexUnusable, match=r"older than 0\.158\.0"):
        plan("exec", "hi")
    assert old.runs() == []


@pytest.mark.parametrize(
    "version", ["0.158.0", "0.158.1", "0.159.0", "0.169.0", "0.1000.0", "1.0.0"]
)
def test_codex_0_158_0_and_later_is_accepted(home, token, monkeypatch, version) -> None:
    profiles.write(home.profile())
    codex = stand_in_codex.install(home.root / "new", version=version)
    monkeypatch.setenv("PATH", str(codex.path.parent))
    assert plan("exec", "hi").executable == str(codex.path)


def test_version_is_probed_once_per_binary(home, stand_in, token) -> None:
    profiles.write(home.profile())
    plan("exec", "a")
    plan("exec", "b")
    assert stand_in.version_probes() == 1
    # A changed binary (an upgrade) is probed again.
    stand_in.path.write_text(stand_in.path.read_text() + "\n# upgraded\n")
    plan("exec", "c")
    assert stand_in.version_probes() == 2


def test_reentry_through_a_wrapper_is_stopped(home, stand_in, token) -> None:
    profiles.write(home.profile())
    environ = dict(os.environ)
    environ[REENTRY_ENV] = f"{os.getpid()}:0"
    with pytest.raises(CodexUnusable, match="loop"):
        launch.plan_launch(["exec", "hi"], environ, person=None)


def test_a_wrapper_that_runs_codex_cf_without_exec_does_not_loop(home, token, tmp_path) -> None:
    """`codex` = a script running codex-cf as a child: the version probe must not recurse."""
    wrapper_dir = tmp_path / "wrapped"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "codex"
    calls = tmp_path / "calls"
    wrapper.write_text(
        f'#!/bin/sh\necho x >> "{calls}"\n"{Path(sys.executable).with_name("codex-cf")}" "$@"\n'
    )
    wrapper.chmod(0o755)
    profiles.write(home.profile())
    env = dict(os.environ, CODEX_CF_CODEX=str(wrapper))
    done = run_codex_cf("exec", "hi", env=env, timeout=60)
    assert done.returncode == ExitStatus.CODEX_UNUSABLE
    assert calls.read_text().count("x") == 1  # probed once, not again and again
    assert "CODEX_CF_CODEX" in done.stderr


def test_only_codex_version_output_is_a_codex_version() -> None:
    assert codex_binary.parse_version("codex-cli 0.169.0\n") == (0, 169, 0)
    assert codex_binary.parse_version("codex-cf 0.1.0\ncodex 0.169.0 (/usr/bin/codex)") is None
