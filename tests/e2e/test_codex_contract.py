"""codex-cf's tables of Codex facts, checked against the real Codex 0.169.0.

constants.py says which sub-commands exist, which of them take `--profile`
and which global options take a value; codex-cf adds `--profile` from those
tables, so a wrong entry either breaks a command or bypasses the gateway.
Codex runs with CODEX_HOME in the test's folder, a profile whose provider is
a loopback gateway, and every proxy variable pointing at a closed loopback
port: nothing here can reach anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from codex_cf import codex_args
from codex_cf.constants import (
    CODEX_COMMANDS,
    CODEX_INFO_OPTIONS,
    CODEX_MULTI_VALUE_OPTIONS,
    CODEX_VALUE_OPTIONS,
    RUNTIME_COMMANDS,
    RUNTIME_DEBUG_COMMANDS,
)
from codex_cf.fake_gateway import FakeGateway
from helpers import profiles, real_parts

PROFILE = "contract"
RUNTIME_ONLY_ERROR = "--profile only applies to runtime commands"
NO_SESSION = "00000000-0000-0000-0000-000000000000"
DEAD_PROXY = "http://127.0.0.1:9"

# Arguments that make each command fail fast or print once it is past the
# `--profile` check: no terminal, no session, no prompt on a closed stdin.
# Each answers within a second; one that is still running at the (generous)
# time limit fails the test: a timeout is never an answer.
HARMLESS_ARGS: dict[str, tuple[str, ...]] = {
    "agents": (),
    "exec": ("--skip-git-repo-check",),
    "review": (),
    "login": ("status",),
    "logout": (),
    "mcp": ("list",),
    "plugin": ("list",),
    "app-server": (),
    "remote-control": ("stop",),
    "completion": ("bash",),
    "update": (),
    "doctor": (),
    "sandbox": ("true",),
    "apply": ("no-such-task",),
    "resume": ("--last",),
    "queue": ("--thread", NO_SESSION, "--message", "hi"),
    "archive": (NO_SESSION,),
    "delete": (NO_SESSION,),
    "migrate-rollouts": (),
    "migrate-nfs-db": (),
    "unarchive": (NO_SESSION,),
    "fork": ("--last",),
    "cloud": ("list",),
    "exec-server": (),
    "features": ("list",),
}
HARMLESS_DEBUG_ARGS: dict[str, tuple[str, ...]] = {
    "models": (),
    "app-server": ("send-message-v2", "hi"),
    "prompt-input": ("hi",),
}
# clap's built-in `help` prints whatever else is on the line: it says
# nothing about --profile.
CLAP_HELP = "help"
# Each Codex start answers in well under a second on an idle machine; the
# limit leaves room for a loaded 2-CPU one, and two at a time keep it so.
ANSWER_SECONDS = 180
AT_ONCE = 2


@pytest.fixture
def codex(home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The real Codex, its CODEX_HOME holding a profile for a loopback gateway."""
    path = real_parts.real_codex()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, DEAD_PROXY)
        monkeypatch.setenv(name.lower(), DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,::1")
    with FakeGateway(profiles.ACCOUNT, profiles.GATEWAY) as gateway:
        profiles.write(home.profile(PROFILE), profiles.with_base_url(gateway.base_url))
        yield path


def _run(codex: str, args: Sequence[str], cwd: Path) -> tuple[int, str]:
    """Exit status and stderr; a Codex still running at the time limit fails the test."""
    process = subprocess.Popen(
        [codex, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=ANSWER_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(
            f"`codex {shlex.join(args)}` gave no answer within {ANSWER_SECONDS} s: "
            "give it arguments that make it exit (HARMLESS_ARGS)",
            pytrace=False,
        )
    if process.returncode < 0:
        pytest.fail(f"`codex {shlex.join(args)}` died of signal {-process.returncode}")
    return process.returncode, stderr


def _help(codex: str, *args: str) -> str:
    done = subprocess.run(
        [codex, *args, "--help"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"{title}:") + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"^\S", lines[i])), len(lines))
    return lines[start:end]


def _commands(help_text: str) -> dict[str, list[str]]:
    """Each sub-command in a `--help` page, with its aliases."""
    entries: dict[str, str] = {}
    current = None
    for line in _section(help_text, "Commands"):
        match = re.match(r"^  (\S+)(?:\s+(.*))?$", line)
        if match:
            current = match.group(1)
            entries[current] = match.group(2) or ""
        elif current and line.strip():
            entries[current] += " " + line.strip()
    return {
        name: [a.strip() for a in alias.group(1).split(",")]
        if (alias := re.search(r"\[aliases?: ([^\]]+)\]", text))
        else []
        for name, text in entries.items()
    }


def _accepts_profile(codex: str, args: Sequence[str], cwd: Path) -> bool:
    status, stderr = _run(codex, ["--profile", PROFILE, *args], cwd)
    if RUNTIME_ONLY_ERROR in stderr:
        assert status != 0, f"codex {' '.join(args)} printed the error but went on"
        return False
    return True


def _measure(
    codex: str, cases: dict[str, tuple[str, ...]], cwd: Path, prefix: Sequence[str] = ()
) -> dict[str, bool]:
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        answers = pool.map(
            lambda name: _accepts_profile(codex, [*prefix, name, *cases[name]], cwd), cases
        )
        return dict(zip(cases, answers, strict=True))


def test_command_names_match_codex_help(codex) -> None:
    listed = _commands(_help(codex))
    names = set(listed) | {alias for aliases in listed.values() for alias in aliases}
    assert names == CODEX_COMMANDS


def test_runtime_commands_match_what_codex_accepts_with_profile(codex, tmp_path: Path) -> None:
    listed = _commands(_help(codex))
    unprobed = set(listed) - set(HARMLESS_ARGS) - {CLAP_HELP, "debug"}
    assert not unprobed, f"Codex has new commands; give them harmless arguments: {unprobed}"
    cases = {
        name: HARMLESS_ARGS[command]
        for command, aliases in listed.items()
        if command in HARMLESS_ARGS
        for name in (command, *aliases)
    }
    accepted = _measure(codex, cases, tmp_path)
    assert {name for name, ok in accepted.items() if ok} == RUNTIME_COMMANDS
    misread = {
        name: ok
        for name, ok in accepted.items()
        if codex_args.parse([name, *cases[name]]).runtime != ok
    }
    assert not misread, f"codex_args.parse disagrees with Codex about --profile: {misread}"


def test_runtime_debug_commands_match_what_codex_accepts(codex, tmp_path: Path) -> None:
    listed = _commands(_help(codex, "debug"))
    unprobed = set(listed) - set(HARMLESS_DEBUG_ARGS) - {CLAP_HELP}
    assert not unprobed, f"`codex debug` has new commands; give them harmless arguments: {unprobed}"
    accepted = _measure(codex, HARMLESS_DEBUG_ARGS, tmp_path, prefix=["debug"])
    assert {name for name, ok in accepted.items() if ok} == RUNTIME_DEBUG_COMMANDS
    for name, ok in accepted.items():
        assert codex_args.parse(["debug", name, *HARMLESS_DEBUG_ARGS[name]]).runtime == ok, name


@pytest.mark.parametrize("args", [(), ("a prompt for the TUI",)])
def test_the_interactive_tui_takes_profile(codex, tmp_path: Path, args) -> None:
    assert _accepts_profile(codex, args, tmp_path)
    assert codex_args.parse(list(args)).runtime


def _global_options(help_text: str) -> dict[str, str]:
    """Each global option's names, mapped to its value placeholder ('' for a flag)."""
    options: dict[str, str] = {}
    for line in _section(help_text, "Options"):
        match = re.match(r"^\s+(?:(-\w), )?(--[\w-]+)(?: (<[^>]+>(?:\.\.\.)?))?\s*$", line)
        if match:
            short, long, value = match.groups()
            for name in filter(None, (short, long)):
                options[name] = value or ""
    return options


def test_value_options_match_codex_help(codex) -> None:
    options = _global_options(_help(codex))
    assert {"-p", "--profile", "-c", "--config"} <= set(options)  # the parse found the list
    assert {name for name, value in options.items() if value} == CODEX_VALUE_OPTIONS
    assert {name for name, value in options.items() if value.endswith("...")} == (
        CODEX_MULTI_VALUE_OPTIONS
    )
    assert {name for name in CODEX_INFO_OPTIONS if options.get(name) == ""} == CODEX_INFO_OPTIONS
