"""Shell detection and codex-cf's own completion files."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from codex_cf import shells
from codex_cf.commands import completion
from helpers import real_parts
from helpers.files import write

VARIABLE = "CLOUDFLARE_API_KEY"


@pytest.fixture
def detect(tmp_path: Path) -> list[str]:
    """A Python program that prints the detected shell, or the error as users see it."""
    script = tmp_path / "detect.py"
    script.write_text(
        "from codex_cf import shells\n"
        "from codex_cf.errors import UsageError\n"
        "try:\n    print(shells.detect_shell())\n"
        "except UsageError as error:\n    print(error.render())\n"
    )
    return [sys.executable, str(script)]


def run(argv: list[str]) -> str:
    result = subprocess.run(argv, input="", capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# `; true` keeps the shell alive as Python's parent (a lone command is exec'd).
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_detects_the_shell_that_started_it(shell: str, detect: list[str]) -> None:
    assert run([real_parts.tool(shell), "-c", f"{shlex.join(detect)}; true"]) == shell


def test_walks_past_a_python_parent(detect: list[str]) -> None:
    wrapper = f"import subprocess, sys; sys.exit(subprocess.call({detect!r}))"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(wrapper)}; true"
    assert run([real_parts.tool("bash"), "-c", command]) == "bash"


def test_a_shell_without_a_script_is_named(detect: list[str]) -> None:
    output = run([real_parts.tool("dash"), "-c", f"{shlex.join(detect)}; true"])
    assert "no completion script for dash" in output
    assert "codex-cf completion bash|zsh|fish|powershell" in output


def test_an_unknown_parent_gives_the_commands_to_use(detect: list[str]) -> None:
    """xargs is no shell and no known wrapper: codex-cf says so instead of guessing."""
    output = run([real_parts.tool("xargs"), *detect])
    assert "could not tell which shell" in output
    assert "codex-cf completion bash|zsh|fish|powershell" in output


def test_installed_completion_files_are_those_with_the_marker(home) -> None:
    """codex-cf's scripts (any name) count; a foreign file next to them never does."""
    own = [
        shells.completion_file("bash", "codex-cf", home.home),
        shells.completion_file("bash", "codex", home.home),
        shells.completion_file("zsh", "codex-cf", home.home),
        shells.completion_file("fish", "codex-cf", home.home),
        shells.completion_file("powershell", "codex-cf", home.home),
    ]
    for path, shell in zip(own, ["bash", "bash", "zsh", "fish", "powershell"], strict=True):
        write(path, completion.shipped_script(shell))
    foreign = [
        write(shells.completion_file("bash", "git", home.home), "complete -F _git git\n"),
        write(shells.completion_file("zsh", "codex", home.home), "#compdef codex\n_codex() {}\n"),
        write(shells.completion_file("fish", "codex", home.home), "complete -c codex -l help\n"),
    ]
    found = shells.installed_completion_files(home.home)
    assert sorted(found) == sorted(own)
    assert not set(found) & set(foreign)


def test_installed_completion_files_follow_xdg_dirs(home, monkeypatch) -> None:
    data = home.root / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    path = shells.completion_file("bash", "codex-cf", home.home)
    assert path == data / "bash-completion" / "completions" / "codex-cf"
    write(path, completion.shipped_script("bash"))
    assert shells.installed_completion_files(home.home) == [path]


def test_nothing_installed(home) -> None:
    assert shells.installed_completion_files(home.home) == []
