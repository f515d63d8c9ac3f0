"""The first run as a person at a terminal sees it, against the loopback fake Cloudflare API."""

from __future__ import annotations

import os

import pexpect
import pytest

from codex_cf import credentials
from codex_cf.constants import ExitStatus, Secret
from helpers import profiles
from helpers.fake_cloudflare_api import FakeCloudflareApi
from helpers.terminal import answer_setup, finish, spawn
from helpers.tokens import assert_absent, assert_same_secret, fake_token

TOKEN_PROMPT = "Cloudflare API token for profile 'cloudflare-aig': "


def answer_up_to_the_token(child: pexpect.spawn) -> None:
    child.expect_exact("dash.cloudflare.com/<account ID>")  # where to find it
    answer_setup(child, f"https://dash.cloudflare.com/{profiles.ACCOUNT}/ai/ai-gateway")
    child.expect_exact("AI Gateway - Run")  # how to create the token, by permission name
    child.expect_exact(TOKEN_PROMPT)


def test_guided_first_run_with_a_pasted_header_and_address(home, cloudflare_api) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    child = spawn("setup")
    answer_up_to_the_token(child)
    assert "AI Gateway - Read" in child.before
    child.sendline("Bearer " + token)
    child.expect_exact("'Bearer ' prefix")
    child.expect_exact("token is active")
    child.expect_exact("Write these changes? [Y/n] ")
    child.sendline("")
    child.expect_exact("Next:")
    assert finish(child) == 0
    assert_absent(token, child.before or "")
    assert f"/v1/{profiles.ACCOUNT}/default/openai" in home.profile().read_text()
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_a_rejected_token_at_the_prompt_writes_nothing(home, cloudflare_api) -> None:
    child = spawn("setup")
    answer_up_to_the_token(child)
    child.sendline(fake_token())  # unknown to Cloudflare
    child.expect_exact("nothing was written")
    assert finish(child) == ExitStatus.TOKEN_INVALID
    assert not home.profile().exists()
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None


@pytest.mark.parametrize("key", ["\x03", "\x04"], ids=["ctrl-c", "ctrl-d"])
def test_leaving_at_a_prompt_says_nothing_was_written(home, cloudflare_api, key) -> None:
    child = spawn("setup")
    answer_up_to_the_token(child)
    child.send(key)
    child.expect_exact("nothing was written")
    assert finish(child) == ExitStatus.INTERRUPTED
    assert not home.profile().exists()


def test_the_plain_text_export_is_offered_for_import(home, cloudflare_api) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    profiles.write(home.profile())
    rc = home.home / ".bashrc"
    rc.write_text(f"alias ll='ls -l'\nexport CLOUDFLARE_API_KEY={token}\n")
    env = {**os.environ, "CLOUDFLARE_API_KEY": token}
    child = spawn("setup", env=env)
    child.expect_exact(f"{rc}:2")
    child.expect_exact("Import it into the keyring for profile 'cloudflare-aig'? [Y/n] ")
    child.sendline("y")
    child.expect_exact("Delete the plain-text copy")
    child.expect_exact(f"{rc}:2")
    assert finish(child) == 0
    assert_absent(token, child.before or "")
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_doctor_shows_what_it_waits_for(home, stand_in, monkeypatch) -> None:
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)
    with FakeCloudflareApi(user_tokens={token: "active"}, delay=3) as fake:
        monkeypatch.setenv("CODEX_CF_API_BASE", fake.url)
        url = fake.gateway_url(profiles.ACCOUNT, "default")
        profiles.write(home.profile(), profiles.with_base_url(url))
        child = spawn("doctor")
        child.expect_exact("Codex found")  # the local checks come first, at once
        child.expect_exact("token verify: waiting for an answer")
        child.expect_exact("token verify: Cloudflare says the token is active")
        finish(child)
