"""`doctor --self-test` with the real Codex 0.169.0: free, loopback only, no file changed."""

from __future__ import annotations

import json
import os

import pytest

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
        "self_test.finished",
    ):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert list(home.codex_home.iterdir()) == []  # nothing left behind


@pytest.mark.parametrize("mode", ["env", "command"])
def test_set_up_machine_passes_and_no_file_changes(
    real_keyring, real_codex_env, home, mode
) -> None:
    token = fake_token()
    profile = f"selftest-{mode}"
    real_keyring.clear(profile)
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
        env=real_codex_env,
    )
    assert done.returncode == 0, done.stderr
    config = home.codex_home / "config.toml"
    config.write_text("# mine\n[tui]\nnotifications = false\n")
    before = {p.name: p.read_bytes() for p in home.codex_home.iterdir()}
    try:
        status, checks, output = self_test(real_codex_env, "--profile", profile)
    finally:
        real_keyring.clear(profile)
    assert status == 0, checks
    assert checks["self_test.authorization"]["status"] == "ok"
    assert checks["self_test.hidden"]["status"] == "ok"
    expected_scan = "ok" if mode == "command" else "warn"  # env mode's known full-access gap
    assert checks["self_test.environ"]["status"] == expected_scan, checks["self_test.environ"]
    assert {p.name: p.read_bytes() for p in home.codex_home.iterdir()} == before
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
