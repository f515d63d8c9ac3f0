"""The wizard, the repair offer and the hidden prompts, through a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import sys
import tomllib
from pathlib import Path

import pexpect

from codex_cf import credentials, profile_rules
from codex_cf.constants import ExitStatus, Secret
from helpers import profiles
from helpers.terminal import answer_setup, finish, spawn
from helpers.tokens import assert_absent, assert_no_part, assert_same_secret, digest, fake_token


def answer_wizard(child: pexpect.spawn, token: str) -> None:
    child.expect_exact("Cloudflare account ID (32 hex characters): ")
    child.sendline("not-an-id")
    child.expect_exact("32 hexadecimal characters")
    child.expect_exact("Cloudflare account ID (32 hex characters): ")
    child.sendline(profiles.ACCOUNT.upper())
    child.expect_exact("AI Gateway slug [default]: ")
    child.sendline("team-gw")
    child.expect_exact("Billing [1]: ")
    child.sendline("")
    child.expect_exact("Model [gpt-5.5]: ")
    child.sendline("")
    child.expect_exact("Reasoning effort [medium]: ")
    child.sendline("high")
    child.expect_exact("Cloudflare API token for profile 'cloudflare-aig': ")
    child.sendline(token)


def test_wizard_on_a_fresh_machine(home) -> None:
    token = fake_token()
    child = spawn("setup")
    answer_wizard(child, token)
    child.expect_exact("Write these changes? [Y/n] ")
    shown = child.before
    assert "+++ " in shown
    assert "team-gw" in shown
    child.sendline("y")
    child.expect_exact("Saved the Cloudflare API token")
    assert finish(child) == 0
    assert_absent(token, child.before or "", shown, where="the terminal (hidden prompt echoed?)")
    document = tomllib.loads(home.profile().read_text())
    assert document["model_reasoning_effort"] == "high"
    assert document["model_providers"]["cloudflare-ai-gateway"]["base_url"] == (
        f"https://gateway.ai.cloudflare.com/v1/{profiles.ACCOUNT}/team-gw/openai"
    )
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_refusing_the_diff_writes_nothing(home) -> None:
    child = spawn("setup")
    answer_wizard(child, fake_token())
    child.expect_exact("Write these changes? [Y/n] ")
    child.sendline("n")
    child.expect_exact("Nothing was written.")
    assert finish(child) == ExitStatus.FAILURE
    assert not home.profile().exists()
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None


def test_update_asks_only_for_what_is_missing(home) -> None:
    profiles.write(home.profile(), profiles.CURRENT + "\n[tui]\nnotifications = true # mine\n")
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, fake_token())
    child = spawn("setup", "--gateway", "other")
    child.expect_exact("Write these changes? [Y/n] ")
    assert "account ID" not in child.before  # known from the profile
    child.sendline("")
    assert finish(child) == 0
    text = home.profile().read_text()
    assert "/other/openai" in text
    assert "notifications = true # mine" in text


def test_launch_offers_repair_then_starts_codex(home, stand_in) -> None:
    token = fake_token()
    child = spawn("exec", "hello")
    child.expect_exact("is not ready for Codex")
    child.expect_exact("Run codex-cf setup now? [Y/n] ")
    child.sendline("y")
    answer_wizard(child, token)
    child.expect_exact("Write these changes? [Y/n] ")
    child.sendline("y")
    assert finish(child) == 0
    (run,) = stand_in.runs()
    assert run["args"] == ["--profile", "cloudflare-aig", "exec", "hello"]
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)
    assert profile_rules.check("cloudflare-aig").current


def test_launch_declining_repair_does_not_start_codex(home, stand_in) -> None:
    child = spawn("exec", "hello")
    child.expect_exact("Run codex-cf setup now? [Y/n] ")
    child.sendline("n")
    assert finish(child) == ExitStatus.PROFILE_NOT_CURRENT
    assert stand_in.runs() == []


def test_launch_without_token_prompts_hidden_and_offers_to_save(home, stand_in) -> None:
    profiles.write(home.profile())
    token = fake_token()
    child = spawn("exec", "hello")
    child.expect_exact("Cloudflare API token (input hidden): ")
    child.sendline(token)
    child.expect_exact("Save it in the keyring for next time? [Y/n] ")
    assert_absent(token, child.before, where="the terminal")
    child.sendline("y")
    assert finish(child) == 0
    (run,) = stand_in.runs()
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_token_set_prompt_is_hidden(home) -> None:
    token = fake_token()
    child = spawn("token", "set")
    child.logfile_read = terminal = io.StringIO()  # everything the terminal shows
    child.expect_exact("(input hidden): ")
    child.sendline(token)
    child.expect_exact("Saved the Cloudflare API token")
    assert finish(child) == 0
    assert_no_part(token, terminal.getvalue(), where="the terminal")
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_command_mode_prompt_saves_the_token_codex_will_ask_for(
    home, stand_in, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert (
        spawn(
            "setup", "--account-id", profiles.ACCOUNT, "--auth", "command", "--no-token", "--yes"
        ).expect(pexpect.EOF)
        == 0
    )
    token = fake_token()
    child = spawn("exec", "hello")
    child.expect_exact("Cloudflare API token (input hidden): ")
    child.sendline(token)
    child.expect_exact("Codex asks codex-cf for it")
    assert finish(child) == 0
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)
    (run,) = stand_in.runs()
    assert "CLOUDFLARE_API_KEY" not in run["env"]  # command mode exports nothing


def test_wizard_offers_the_account_id_from_wrangler(home, tmp_path, monkeypatch) -> None:
    wrangler = tmp_path / "wrangler-bin" / "wrangler"
    wrangler.parent.mkdir()
    wrangler.write_text(
        f"#!/bin/sh\necho 'Account Name | Account ID'\necho 'Example | {profiles.ACCOUNT}'\n"
    )
    wrangler.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrangler.parent}{os.pathsep}{os.environ['PATH']}")
    child = spawn("setup", "--no-token")
    # Enter takes wrangler's account ID
    answer_setup(child, "", f"Cloudflare account ID (32 hex characters) [{profiles.ACCOUNT}]: ")
    child.expect_exact("Write these changes? [Y/n] ")
    child.sendline("y")
    assert finish(child) == 0
    assert profiles.ACCOUNT in home.profile().read_text()


def test_doctor_colours_only_on_a_terminal_without_no_color(home, stand_in, monkeypatch) -> None:
    child = spawn("doctor", "--offline")
    coloured = child.read()
    child.close()
    assert "\x1b[31m✗" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    child = spawn("doctor", "--offline")
    plain = child.read()
    child.close()
    assert "✗" in plain
    assert "\x1b[" not in plain
