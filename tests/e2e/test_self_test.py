"""`doctor --self-test` with the real Codex 0.169.0: free, loopback only, no file changed."""

from __future__ import annotations

import json
import os
import re

import pytest

from codex_cf import metadata
from helpers import profiles, real_parts, stand_in_codex
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, fake_token


@pytest.fixture
def real_codex_env(home) -> dict[str, str]:
    return dict(os.environ, CODEX_CF_CODEX=real_parts.real_codex())


def self_test(env: dict[str, str], *extra: str) -> tuple[int, dict[str, dict[str, str]], str]:
    done = run_codex_cf("doctor", "--self-test", "--json", *extra, env=env, timeout=240)
    document = json.loads(done.stdout)
    return done.returncode, {c["id"]: c for c in document["checks"]}, done.stdout + done.stderr


def test_bare_machine_passes_with_a_throwaway_profile(real_codex_env, home) -> None:
    status, checks, _ = self_test(real_codex_env)
    assert status == 0, checks
    assert "throwaway" in checks["self_test.setting"]["message"]
    for check_id in (
        "self_test.profile",
        "self_test.path",
        "self_test.authorization",
        "self_test.hidden",
        "self_test.environ",
        "self_test.keyring",
        "self_test.finished",
    ):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert list(home.codex_home.iterdir()) == []  # nothing left behind


def _set_up(env: dict[str, str], profile: str, mode: str, token: str) -> None:
    done = run_codex_cf(
        "setup",
        "--profile",
        profile,
        "--account-id",
        profiles.ACCOUNT,
        "--auth",
        mode,
        "--token-stdin",
        stdin_text=token,
        env=env,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("mode", ["env", "command"])
def test_set_up_machine_passes_and_no_file_changes(
    real_keyring, real_codex_env, home, mode
) -> None:
    token = fake_token()
    profile = f"selftest-{mode}"
    real_keyring.clear(profile)
    _set_up(real_codex_env, profile, mode, token)
    config = home.codex_home / "config.toml"
    config.write_text("# mine\n[tui]\nnotifications = false\n")
    before = {p.name: p.read_bytes() for p in home.codex_home.iterdir()}
    # A real launch's id, which the self-test's own (loopback) launch must not replace.
    real_launch = metadata.Launch("0123456789abcdef", "2026-01-01T00:00:00Z")
    metadata.remember_launch(profile, real_launch)
    try:
        status, checks, output = self_test(real_codex_env, "--profile", profile)
    finally:
        real_keyring.clear(profile)
    assert status == 0, checks
    assert checks["self_test.authorization"]["status"] == "ok"
    assert checks["self_test.hidden"]["status"] == "ok"
    # Codex's default sandbox: no /proc of Codex's processes, no D-Bus.
    assert checks["self_test.environ"]["status"] == "ok", checks["self_test.environ"]
    assert checks["self_test.keyring"]["status"] == "ok", checks["self_test.keyring"]
    assert {p.name: p.read_bytes() for p in home.codex_home.iterdir()} == before
    assert metadata.last_launch(profile) == real_launch
    assert_absent(token, output)


def test_codex_that_ignores_the_profile_fails_with_the_fix(home, tmp_path) -> None:
    ignoring = stand_in_codex.install(tmp_path / "ignoring")  # never contacts any gateway
    env = dict(os.environ, CODEX_CF_CODEX=str(ignoring.path))
    status, checks, _ = self_test(env)
    assert status == 1
    assert checks["self_test.profile"]["status"] == "fail"
    assert "ignored the profile" in checks["self_test.profile"]["message"]
    assert checks["self_test.profile"]["fix"]


def test_exclude_removed_by_hand_is_reported(home, real_codex_env) -> None:
    profiles.write(
        home.profile(),
        profiles.CURRENT.replace('exclude = ["CLOUDFLARE_API_KEY"]', 'exclude = ["OTHER"]'),
    )
    env = dict(real_codex_env, CLOUDFLARE_API_KEY=fake_token())
    status, checks, output = self_test(env)
    assert status == 1
    failed = [c for c in checks.values() if c["status"] == "fail"]
    assert any("exclude" in c["message"] and c["fix"] == "codex-cf setup" for c in failed)
    assert_absent(env["CLOUDFLARE_API_KEY"], output)


def test_plain_doctor_asks_for_the_self_test_until_it_passed_with_this_codex(
    real_codex_env, home
) -> None:
    def due() -> dict[str, str] | None:
        done = run_codex_cf("doctor", "--offline", "--json", env=real_codex_env)
        checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
        return checks.get("self_test.due")

    reminder = due()
    assert reminder is not None
    assert reminder["fix"] == "codex-cf doctor --self-test"
    assert self_test(real_codex_env)[0] == 0
    assert due() is None


NETWORK = 'sandbox_mode = "workspace-write"\n[sandbox_workspace_write]\nnetwork_access = true\n'
FULL_ACCESS = 'sandbox_mode = "danger-full-access"\n'


# What the agent reached, measured with Codex 0.169.0 on Linux: (config.toml,
# profile additions) -> (keyring, environ in env mode).
SANDBOXES = {
    "read-only": ('sandbox_mode = "read-only"\n', "", "ok", "ok"),
    "workspace-write": ('sandbox_mode = "workspace-write"\n', "", "ok", "ok"),
    "network-access": (NETWORK, "", "fail", "ok"),
    "full-access": (FULL_ACCESS, "", "fail", "fail"),
    # The profile's keys win over config.toml's, table by table.
    "profile-keeps-the-sandbox": (FULL_ACCESS, 'sandbox_mode = "workspace-write"\n', "ok", "ok"),
    "profile-turns-network-off": (
        NETWORK,
        "[sandbox_workspace_write]\nnetwork_access = false\n",
        "ok",
        "ok",
    ),
}


def _add_to_profile(path, text: str) -> None:
    """Top-level keys go before the first table; a table goes at the end."""
    current = path.read_text()
    if text.startswith("["):
        path.write_text(current + "\n" + text)
    else:
        path.write_text(text + current)


def test_a_throwaway_run_still_uses_your_config_toml(real_keyring, real_codex_env, home) -> None:
    """No token of yours in the keyring to find, but the bus is open to the agent: say so."""
    (home.codex_home / "config.toml").write_text(NETWORK)
    status, checks, _ = self_test(real_codex_env)
    assert "throwaway" in checks["self_test.setting"]["message"]
    check = checks["self_test.keyring"]
    assert check["status"] == "warn", check
    assert "Secret Service" in check["message"]
    assert "network_access = false" in check["fix"]
    assert status == 0  # a warning: nothing of yours was read
    assert [p.name for p in home.codex_home.iterdir()] == ["config.toml"]


@pytest.mark.parametrize("mode", ["env", "command"])
@pytest.mark.parametrize("sandbox", list(SANDBOXES))
def test_the_verdict_is_about_your_own_sandbox_settings(
    real_keyring, real_codex_env, home, mode, sandbox
) -> None:
    config_text, profile_text, keyring, environ = SANDBOXES[sandbox]
    token = fake_token()
    profile = f"reach-{mode}"
    real_keyring.clear(profile)
    _set_up(real_codex_env, profile, mode, token)
    (home.codex_home / "config.toml").write_text(config_text)
    if profile_text:
        _add_to_profile(home.profile(profile), profile_text)
    try:
        status, checks, output = self_test(real_codex_env, "--profile", profile)
    finally:
        real_keyring.clear(profile)
    assert_absent(token, output)
    assert checks["self_test.authorization"]["status"] == "ok"
    assert checks["self_test.keyring"]["status"] == keyring, checks["self_test.keyring"]
    expected_environ = environ if mode == "env" else "ok"  # command mode: in no environment
    assert checks["self_test.environ"]["status"] == expected_environ, checks["self_test.environ"]
    assert status == (0 if keyring == expected_environ == "ok" else 1)
    if keyring == "fail":
        message = checks["self_test.keyring"]["message"]
        for path in ("secret-tool lookup", "python keyring", "codex-cf token print"):
            assert path in message
        fix = checks["self_test.keyring"]["fix"]
        assert str(home.profile(profile)) in fix
        wanted = "network_access = false" if config_text == NETWORK else "workspace-write"
        assert wanted in fix


@pytest.mark.parametrize("answer", ["nothing", "another token"])
def test_a_request_without_the_token_fails_the_self_test(
    real_keyring, real_codex_env, home, tmp_path, answer
) -> None:
    """Codex sends no Authorization header when the auth command fails (or the wrong one
    when it prints something else): the self-test must say so, not pass."""
    profile = "header"
    real_keyring.clear(profile)
    _set_up(real_codex_env, profile, "command", fake_token())
    impostor = tmp_path / "impostor" / "codex-cf"  # the name the profile rules accept
    impostor.parent.mkdir()
    body = "exit 1" if answer == "nothing" else f"echo {fake_token('other')}"
    impostor.write_text(f"#!/bin/sh\n{body}\n")
    impostor.chmod(0o755)
    path = home.profile(profile)
    path.write_text(re.sub(r'(?m)^command = ".*"$', f'command = "{impostor}"', path.read_text()))
    try:
        status, checks, _ = self_test(real_codex_env, "--profile", profile)
    finally:
        real_keyring.clear(profile)
    assert status == 1
    check = checks["self_test.authorization"]
    assert check["status"] == "fail", check
    assert ("was missing" if answer == "nothing" else "did not carry") in check["message"]
    assert check["fix"]
