"""codex-cf starts npm's native Codex as npm's own launcher would, or runs the launcher.

Each tree here is npm's, rebuilt from a real install (helpers/npm_tree.py):
the real `bin/codex.js` of 0.134.0, 0.169.0 and 0.171.0, and a recording
stand-in as the native binary. The same command goes once through codex-cf
and once through the launcher under Node; the stand-in must have been started
identically (argv[0], arguments, every environment variable), and by
codex-cf's own process, with no Node in between.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_cf import codex_binary, launch_cache, npm_codex
from codex_cf.constants import CODEX_OVERRIDE_ENV, REENTRY_ENV
from helpers import npm_tree, real_parts

VERSIONS = real_parts.NPM_CODEX_VERSIONS
COMMAND = ("features", "list")  # not a runtime command: no profile or token needed


@dataclass
class Started:
    pid: int  # of the command run: codex-cf, or Node running the launcher
    status: int
    stderr: str
    record: dict[str, Any] | None  # how the stand-in native binary was started, if it was

    def same_process(self) -> bool:
        return self.record is not None and self.record["pid"] == self.pid


def _run(argv: list[str], env: dict[str, str], tree: npm_tree.NpmTree) -> Started:
    before = len(tree.native.runs())
    child = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, stderr = child.communicate(timeout=60)
    runs = tree.native.runs()
    return Started(child.pid, child.returncode, stderr, runs[-1] if len(runs) > before else None)


def _both(tree: npm_tree.NpmTree, extra: dict[str, str] | None = None) -> tuple[Started, Started]:
    """The command through codex-cf, then through npm's launcher, in one environment."""
    real_parts.tool("node")
    env = {**os.environ, CODEX_OVERRIDE_ENV: str(tree.launcher), **(extra or {})}
    via_codex_cf = _run([real_parts.codex_cf(), *COMMAND], env, tree)
    via_npm = _run([str(tree.launcher), *COMMAND], env, tree)
    return via_codex_cf, via_npm


def _as_started(record: dict[str, Any] | None) -> tuple[str, list[str], dict[str, str]]:
    """argv[0], arguments and environment digests, less codex-cf's own re-entry marker."""
    assert record is not None, "the native binary was not started"
    env = {k: v for k, v in record["env"].items() if k != REENTRY_ENV}
    return record["argv0"], record["args"], env


def _vite_plus_tree(root: Path, version: str) -> npm_tree.NpmTree:
    packages = root / "vite" / "packages"
    (packages / "@openai").mkdir(parents=True)
    (packages / "@openai" / "codex.json").write_text(
        json.dumps({"name": "@openai/codex", "installId": "install-7"})
    )
    return npm_tree.build(packages / "@openai" / "codex" / "install-7" / "node_modules", version)


# How each install looks: (tree builder, extra environment, the variable the launcher sets
# from 0.169.0 on; 0.134.0 knows only npm and bun).
INSTALLS = {
    "npm": (lambda root, v: npm_tree.build(root / "node_modules", v), {}, "NPM"),
    "bun by user agent": (
        lambda root, v: npm_tree.build(root / "node_modules", v),
        {"npm_config_user_agent": "bun/1.2.19 npm/? node/v24.3.0 linux x64"},
        "BUN",
    ),
    "npm user agent, bun/ inside a word": (
        lambda root, v: npm_tree.build(root / "node_modules", v),
        {"npm_config_user_agent": "npm/10.8.2 node/v20.20.2 linux x64 ubun/1"},
        "NPM",
    ),
    "bun global folder": (
        lambda root, v: npm_tree.build(root / ".bun" / "install" / "global" / "node_modules", v),
        {},
        "BUN",
    ),
    "pnpm": (
        lambda root, v: _with_pnpm_marker(npm_tree.build(root / "node_modules", v)),
        {},
        "PNPM",
    ),
    "vite-plus": (_vite_plus_tree, {}, "VITE_PLUS"),
    "inherited variables, empty PATH entries": (
        lambda root, v: npm_tree.build(root / "node_modules", v),
        {"CODEX_MANAGED_BY_BUN": "1", "PATH": f"::{os.environ['PATH']}:"},
        "NPM",
    ),
}


def _with_pnpm_marker(tree: npm_tree.NpmTree) -> npm_tree.NpmTree:
    (tree.node_modules / ".modules.yaml").write_text("layoutVersion: 5\n")
    return tree


@pytest.mark.parametrize("install", list(INSTALLS))
@pytest.mark.parametrize("version", VERSIONS)
def test_native_start_matches_the_launcher(home, tmp_path, version, install) -> None:
    build, extra, manager = INSTALLS[install]
    tree = build(tmp_path / "install", version)
    via_codex_cf, via_npm = _both(tree, extra)
    assert via_codex_cf.status == via_npm.status == 0, via_codex_cf.stderr + via_npm.stderr
    assert via_codex_cf.same_process(), "a process sat between codex-cf and the native Codex"
    assert _as_started(via_codex_cf.record) == _as_started(via_npm.record)
    assert via_codex_cf.record is not None
    if version == "0.134.0":
        manager = "BUN" if manager == "BUN" else "NPM"
    assert f"CODEX_MANAGED_BY_{manager}" in via_codex_cf.record["env"]
    assert "CODEX_MANAGED_PACKAGE_ROOT" in via_codex_cf.record["env"]


def _edit_launcher(tree: npm_tree.NpmTree) -> None:
    with tree.script.open("a") as handle:
        handle.write("// edited after install\n")


BREAKAGES = {
    "another layout version": lambda tree: tree.set_layout(layoutVersion=2),
    "another entry point": lambda tree: tree.set_layout(entrypoint="bin/codex-next"),
    "an edited launcher": _edit_launcher,
    "no codex-package.json": lambda tree: tree.layout.unlink(),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
@pytest.mark.parametrize("version", VERSIONS)
def test_an_unknown_tree_runs_the_launcher_itself(home, tmp_path, version, breakage) -> None:
    tree = npm_tree.build(tmp_path / "node_modules", version)
    BREAKAGES[breakage](tree)
    via_codex_cf, via_npm = _both(tree)
    assert via_codex_cf.status == via_npm.status == 0, via_codex_cf.stderr + via_npm.stderr
    assert not via_codex_cf.same_process(), "codex-cf started the native binary itself"
    assert _as_started(via_codex_cf.record) == _as_started(via_npm.record)


def test_a_missing_platform_package_is_the_launchers_error(home, tmp_path) -> None:
    tree = npm_tree.build(tmp_path / "node_modules", "0.171.0")
    shutil.rmtree(tree.platform_package)
    via_codex_cf, via_npm = _both(tree)
    assert via_codex_cf.record is via_npm.record is None
    assert via_codex_cf.status == via_npm.status == 1
    assert "Missing optional dependency" in via_codex_cf.stderr


def test_a_changed_launcher_is_read_again(home, tmp_path) -> None:
    tree = npm_tree.build(tmp_path / "node_modules", "0.171.0")
    time.sleep(launch_cache.RACY_SECONDS + 0.2)  # old enough to be cached
    first, _ = _both(tree)
    assert first.same_process()
    assert launch_cache.entry_path("codex-starts").exists()
    _edit_launcher(tree)
    second, _ = _both(tree)
    assert second.record is not None
    assert not second.same_process()


def test_the_version_probe_asks_the_native_binary(home, tmp_path, monkeypatch) -> None:
    tree = npm_tree.build(tmp_path / "node_modules", "0.134.0")
    monkeypatch.setenv(CODEX_OVERRIDE_ENV, str(tree.launcher))
    assert codex_binary.version(codex_binary.find(os.environ)) == (0, 134, 0)
    (probe,) = tree.native.starts()
    assert probe["args"] == ["--version"]
    assert probe["argv0"] == str(tree.vendor / "bin" / "codex")
    assert "CODEX_MANAGED_BY_NPM" in probe["env"]


def test_ignored_signals_are_restored_for_codex(home, tmp_path) -> None:
    """Python ignores SIGPIPE and SIGXFSZ; Codex and its commands must get the defaults."""
    status = tmp_path / "status"
    codex = tmp_path / "codex"
    codex.write_text(f"#!/bin/sh\ngrep '^SigIgn:' /proc/$$/status > '{status}'\n")
    codex.chmod(0o755)
    done = subprocess.run(
        [real_parts.codex_cf(), *COMMAND],
        env={**os.environ, CODEX_OVERRIDE_ENV: str(codex)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ignored = int(status.read_text().split()[1], 16)
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not ignored & (1 << (number - 1)), f"{number!r} is ignored in Codex"


# What npm's cmd-shim writes as codex.cmd on Windows (global: the prefix folder holds
# node_modules; local: node_modules/.bin holds the shim).
_CMD_SHIM = (
    "@ECHO off\r\nGOTO start\r\n:find_dp0\r\nSET dp0=%~dp0\r\nEXIT /b\r\n:start\r\nSETLOCAL\r\n"
    'CALL :find_dp0\r\n\r\nIF EXIST "%dp0%\\node.exe" (\r\n  SET "_prog=%dp0%\\node.exe"\r\n'
    ') ELSE (\r\n  SET "_prog=node"\r\n  SET PATHEXT=%PATHEXT:;.JS;=;%\r\n)\r\n\r\n'
    "endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "
    '"%_prog%"  "%dp0%\\{target}" %*\r\n'
)


def _windows_tree(prefix: Path, shim_dir: Path, target: str) -> tuple[Path, Path]:
    """npm's Windows layout of Codex 0.171.0 under prefix: the shim and the codex.exe."""
    real = real_parts.npm_codex("0.171.0").parent.parent / "@openai" / "codex"
    package = prefix / "node_modules" / "@openai" / "codex"
    shutil.copytree(real, package, symlinks=True)
    platform_package = prefix / "node_modules" / "@openai" / "codex-win32-x64"
    vendor = platform_package / "vendor" / "x86_64-pc-windows-msvc"
    (vendor / "bin").mkdir(parents=True)
    (platform_package / "package.json").write_text('{"name": "@openai/codex"}')
    (vendor / "codex-package.json").write_text(
        json.dumps({"layoutVersion": 1, "entrypoint": "bin/codex.exe", "pathDir": "codex-path"})
    )
    (vendor / "bin" / "codex.exe").write_bytes(b"MZ")
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "codex.cmd"
    shim.write_text(_CMD_SHIM.replace("{target}", target), newline="")
    return shim, vendor / "bin" / "codex.exe"


@pytest.mark.parametrize(
    ("where", "target"),
    [
        ("global", "node_modules\\@openai\\codex\\bin\\codex.js"),
        ("project", "..\\@openai\\codex\\bin\\codex.js"),
    ],
)
def test_a_windows_codex_cmd_resolves_to_codex_exe(tmp_path, where, target) -> None:
    """So Windows starts codex.exe itself: cmd.exe never sees the prompt's % & | or quotes."""
    prefix = tmp_path / "npm"
    shim_dir = prefix if where == "global" else prefix / "node_modules" / ".bin"
    shim, exe = _windows_tree(prefix, shim_dir, target)
    start = npm_codex.read_start(str(shim), str(shim), platform="win32", machine="AMD64")
    assert start is not None
    assert start.native == str(exe)
    assert start.package_root == str(prefix / "node_modules" / "@openai" / "codex")
    codex = codex_binary.Codex(str(shim), str(shim), start)
    prompt = 'fix "100%" & say | done'
    assert [codex.program, prompt] == [str(exe), prompt]
    env = codex.environment({"PATH": "C:\\bin"})
    assert env["CODEX_MANAGED_BY_NPM"] == "1"
    assert env["CODEX_MANAGED_PACKAGE_ROOT"] == start.package_root
    assert env["PATH"] == "C:\\bin"
    # The same tree on the wrong machine, or behind a shim that is not npm's: the shim runs.
    assert npm_codex.read_start(str(shim), str(shim), platform="win32", machine="x86") is None
    shim.write_text("@ECHO off\r\nnode other.js %*\r\n")
    assert npm_codex.read_start(str(shim), str(shim), platform="win32", machine="AMD64") is None
