"""The entry: a typo of an own command, and errors turned into one message and a status."""

from __future__ import annotations

import os

import pytest

from codex_cf import cli, main
from codex_cf.constants import ExitStatus
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.terminal import finish, spawn


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("doctr", "doctor"),
        ("setpu", "setup"),
        ("tokens", "token"),
        ("remov", "remove"),
        ("xsetup", "setup"),
    ],
)
def test_one_edit_apart(typed: str, name: str) -> None:
    assert main._one_edit_apart(typed, name)


@pytest.mark.parametrize(
    ("typed", "name"),
    [("doctor", "doctor"), ("dcotro", "doctor"), ("exec", "setup"), ("do", "doctor")],
)
def test_not_one_edit_apart(typed: str, name: str) -> None:
    assert not main._one_edit_apart(typed, name)


def test_a_typo_of_an_own_command_asks_on_a_terminal(home, stand_in) -> None:
    child = spawn("doctr")
    child.expect_exact("Run codex-cf doctor?")
    child.sendline("y")
    child.expect_exact("Codex found")
    finish(child)
    assert stand_in.runs() == []  # no Codex turn for the prompt "doctr"


def test_no_sends_the_typo_to_codex_and_names_the_way_to_skip_the_question(home, stand_in) -> None:
    profiles.write(home.profile())
    env = {**os.environ, "CLOUDFLARE_API_KEY": "test-cf-not-a-real-token"}
    child = spawn("setpu", env=env)
    child.expect_exact("Run codex-cf setup?")
    child.sendline("n")
    child.expect_exact("codex-cf -- setpu")
    finish(child)
    assert [run["args"][-1] for run in stand_in.runs()] == ["setpu"]


def test_without_a_terminal_the_argument_goes_to_codex_unasked(home, stand_in) -> None:
    profiles.write(home.profile())
    env = {**os.environ, "CLOUDFLARE_API_KEY": "test-cf-not-a-real-token"}
    done = run_codex_cf("doctr", env=env)
    assert done.returncode == 0, done.stderr
    assert [run["args"][-1] for run in stand_in.runs()] == ["doctr"]


def test_an_error_a_user_can_cause_is_its_message_fix_and_status(home, capsys) -> None:
    status = main.main(["remove", "--all", "--profile", "work"])
    assert status == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert "--profile and --all exclude each other" in err
    assert "codex-cf remove --all" in err
    assert "Traceback" not in err


def test_an_internal_error_is_one_line_pointing_at_the_debug_variable(home, monkeypatch, capsys):
    # A bug cannot be caused for real; a command that raises stands in for one.
    def broken(args: list[str]) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "run", broken)
    assert main.main(["doctor"]) == ExitStatus.FAILURE
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "codex-cf: internal error (RuntimeError); run again with CODEX_CF_DEBUG=1 "
        "to see where, and report it"
    ]
    monkeypatch.setenv(main.DEBUG_ENV, "1")
    with pytest.raises(RuntimeError, match="a bug"):
        main.main(["doctor"])


def test_ctrl_c_is_the_interrupted_status_without_a_traceback(home, monkeypatch, capsys) -> None:
    def interrupted(args: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    assert main.main(["doctor"]) == ExitStatus.INTERRUPTED
    assert "Traceback" not in capsys.readouterr().err


def test_without_a_terminal_the_launch_gets_no_person(home) -> None:
    assert main._person() is None  # pytest's standard input is no terminal
