"""The small frictions of a first run: typos, bare groups, old Codex, a killed write."""

from __future__ import annotations

import os

from codex_cf.constants import ExitStatus
from helpers import profiles, stand_in_codex
from helpers.process import run_codex_cf
from helpers.terminal import finish, spawn


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


def test_a_bare_group_prints_its_help_without_an_error(home) -> None:
    done = run_codex_cf("token")
    assert done.returncode == 0
    assert "Commands:" in done.stdout
    assert "codex-cf:" not in done.stderr


def test_version_flags_a_codex_too_old(home, monkeypatch) -> None:
    old = stand_in_codex.install(home.root / "old", version="0.133.9")
    monkeypatch.setenv("CODEX_CF_CODEX", str(old.path))
    done = run_codex_cf("--version")
    assert done.returncode == 0
    assert "older than 0.134.0" in done.stdout
    assert "npm install -g @openai/codex@latest" in done.stdout


def test_a_setup_killed_mid_write_leaves_nothing_after_the_next(home) -> None:
    leftover = home.codex_home / ".cloudflare-aig.config.toml.k1ll3d_x.tmp"
    leftover.write_text("half a profile")
    done = run_codex_cf("setup", "--account-id", profiles.ACCOUNT, "--no-token", "--offline")
    assert done.returncode == ExitStatus.OK, done.stderr
    assert not leftover.exists()
    assert [p.name for p in home.codex_home.iterdir()] == ["cloudflare-aig.config.toml"]
