"""The self-test's probe, run by a shell outside any sandbox: each path it tries finds the token."""

from __future__ import annotations

import os
import subprocess

from codex_cf import credentials, self_test
from codex_cf.constants import Secret
from helpers.tokens import assert_absent, fake_token


def _probe(profile: str, tokens: list[str], secrets: tuple[Secret, ...]) -> tuple[str, str]:
    command = self_test.agent_command(["CLOUDFLARE_API_KEY"], tokens, profile, secrets)
    assert_absent(tokens[0], command, where="the agent's command line")
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout, command


def test_every_path_to_the_keyring_is_tried_for_every_secret(home) -> None:
    """Outside the sandbox each keyring path finds both of a profile's secrets."""
    tokens = {Secret.CLOUDFLARE: fake_token(), Secret.OPENAI: "sk-" + fake_token("openai")}
    for secret, value in tokens.items():
        credentials.store("own", secret, value)
    output, _ = _probe("own", list(tokens.values()), tuple(tokens))
    for value in tokens.values():
        assert_absent(value, output, where="the probe's output")
    results = self_test.probe_results(output)
    assert results["keyring"] == "2"  # python keyring, through the user's backend
    assert results["token-print"] == "2"  # codex-cf token print, --which openai too
    assert results["secret-tool"] in ("0", "-")  # the test keyring is no Secret Service
    assert f"{self_test.SCAN_MARKER} 0" in output


def test_the_variable_and_the_environment_are_found_too(home) -> None:
    token = fake_token()
    env = dict(os.environ, CLOUDFLARE_API_KEY=token)
    command = self_test.agent_command(["CLOUDFLARE_API_KEY"], [token])
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    leaked = token in done.stdout  # printenv shows it: the hidden check's evidence
    assert leaked
    held = int(done.stdout.rsplit(self_test.SCAN_MARKER, 1)[1].split()[0])
    assert held >= 1  # at least bash's own /proc/<pid>/environ
    assert self_test.probe_results(done.stdout)["token-print"] == "1"  # the variable wins there


def test_nothing_stored_is_nothing_found(home) -> None:
    output, _ = _probe("empty", [fake_token()], (Secret.CLOUDFLARE,))
    results = self_test.probe_results(output)
    assert results["keyring"] == results["token-print"] == "0"
    assert results["bus"] == "closed"  # the test's bus address leads nowhere
