"""The README documents what the code does: exit statuses, own commands, the test command."""

from __future__ import annotations

import re
from pathlib import Path

from codex_cf.constants import OWN_COMMANDS, ExitStatus

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def test_every_exit_status_is_documented_and_no_other() -> None:
    section = README.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    documented = {int(n) for n in re.findall(r"^\| (\d+) \|", section, re.M)}
    assert documented == {int(s) for s in ExitStatus}


def test_every_own_command_is_in_the_usage_table() -> None:
    for name, module in OWN_COMMANDS.items():
        if module is not None:
            assert f"`codex-cf {name}" in README


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    first_screen = README.split("---", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", first_screen, re.S)[0].strip().splitlines()
    assert len(commands) == 2
    assert "codex-cf doctor --self-test" in commands[0]
    assert commands[1] == "scripts/test"
    assert "scripts/test" in (REPO / ".ci" / "run").read_text()


def test_the_first_command_installs_a_command_reachable_by_name() -> None:
    first_screen = README.split("---", 1)[0]
    first = re.findall(r"```sh\n(.*?)```", first_screen, re.S)[0].strip().splitlines()[0]
    # By its full path: pipx's folder is not on a new machine's PATH until a new shell.
    assert first.startswith("pipx install . && ~/.local/bin/codex-cf ")
    assert "uv tool install . && ~/.local/bin/codex-cf doctor --self-test" in first_screen
    assert "pipx ensurepath" in first_screen
    assert ".venv/bin/codex-cf" in first_screen
