"""`codex-cf doctor`: the right line and fix for each fault, and nothing else."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys

import pytest

from codex_cf import credentials, diagnostics
from codex_cf.checks import Status
from codex_cf.commands import doctor
from codex_cf.commands.doctor import DoctorOptions
from codex_cf.constants import Secret
from helpers import profiles, stand_in_codex
from helpers.fake_cloudflare_api import FakeCloudflareApi
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, fake_token


def checks_of(capsys, **options: object) -> tuple[int, dict[str, dict[str, object]]]:
    status = doctor.run(DoctorOptions(as_json=True, **options))  # type: ignore[arg-type]
    document = json.loads(capsys.readouterr().out)
    return status, {c["id"]: c for c in document["checks"]}


@pytest.fixture
def set_up(home, stand_in) -> str:
    profiles.write(home.profile())
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)
    return token


def failing(checks: dict[str, dict[str, object]]) -> dict[str, object]:
    return {k: v["fix"] for k, v in checks.items() if v["status"] == "fail"}


def test_fresh_machine_fails_with_the_fix_commands(home, stand_in, capsys) -> None:
    status, checks = checks_of(capsys, offline=True)
    assert status == 1
    assert failing(checks) == {
        "profile.file": "codex-cf setup",
        "token.cloudflare": "codex-cf token set",
    }
    assert checks["codex.found"]["status"] == "ok"


def test_fully_set_up_machine_passes_offline(set_up, capsys) -> None:
    status, checks = checks_of(capsys, offline=True)
    assert failing(checks) == {}
    assert status == 0
    assert {c["status"] for c in checks.values()} <= {"ok", "skip", "warn"}
    assert checks["token.verify"]["status"] == "skip"


def test_json_is_one_document_with_stable_keys(set_up, capsys) -> None:
    doctor.run(DoctorOptions(as_json=True, offline=True))
    out = capsys.readouterr().out
    document = json.loads(out)  # the whole of stdout is the document
    assert set(document) == {"program", "profile", "ok", "checks"}
    for check in document["checks"]:
        assert set(check) == {"id", "status", "message", "fix"}
        assert check["status"] in {"ok", "fail", "warn", "skip"}
    assert len({c["id"] for c in document["checks"]}) == len(document["checks"])


def _fault(name: str, home, monkeypatch) -> None:
    path = home.profile()
    if name == "codex missing":
        monkeypatch.setenv("PATH", str(home.root / "nothing"))
    elif name == "codex too old":
        old = stand_in_codex.install(home.root / "old", version="0.120.0")
        monkeypatch.setenv("PATH", str(old.path.parent))
    elif name == "placeholder":
        profiles.write(
            path,
            profiles.with_base_url("https://gateway.ai.cloudflare.com/v1/<ACCOUNT_ID>/x/openai"),
        )
    elif name == "no exclude":
        profiles.write(
            path, profiles.CURRENT.replace('exclude = ["CLOUDFLARE_API_KEY"]', "exclude = []")
        )
    elif name == "writable by others":
        path.chmod(0o666)
    elif name == "legacy config":
        (home.codex_home / "config.toml").write_text('profile = "cloudflare-aig"\n')
    elif name == "token missing":
        credentials.delete("cloudflare-aig", Secret.CLOUDFLARE)
    elif name == "no keyring":
        import keyring.core

        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        keyring.core.init_backend()
    elif name == "rc export":
        (home.home / ".zshrc").write_text("alias ll=ls\nexport CLOUDFLARE_API_KEY=abc123\n")


FAULTS = {
    "codex missing": ("codex.found", "npm install -g @openai/codex"),
    "codex too old": ("codex.version", "npm install -g @openai/codex@latest"),
    "placeholder": ("profile.base_url", "codex-cf setup"),
    "no exclude": ("profile.exclude", "codex-cf setup"),
    "writable by others": ("profile.permissions", "chmod 600"),
    "legacy config": ("config.legacy", "codex-cf setup"),
    "token missing": ("token.cloudflare", "codex-cf token set"),
    "no keyring": ("keyring.backend", "pass init"),
    "rc export": ("shell.rc_exports", "codex-cf token import"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_alone_is_reported_with_its_fix(
    set_up, home, monkeypatch, capsys, fault
) -> None:
    _fault(fault, home, monkeypatch)
    status, checks = checks_of(capsys, offline=True)
    check_id, fix_words = FAULTS[fault]
    assert status == 1
    assert checks[check_id]["status"] == "fail"
    assert fix_words in str(checks[check_id]["fix"])
    others = set(failing(checks)) - {check_id}
    if fault == "no keyring":
        others -= {"token.cloudflare"}  # without a keyring the token cannot be read either
    assert others == set()


def test_elsewhere_than_linux_the_sandbox_is_not_vouched_for(home, monkeypatch) -> None:
    """Codex's sandbox was measured on Linux; elsewhere doctor claims nothing it has not seen."""
    monkeypatch.setattr(sys, "platform", "darwin")
    check = diagnostics.check_sandbox("cloudflare-aig", None)
    assert check.status is Status.SKIP
    assert check.fix == "codex-cf doctor --self-test"
    (home.codex_home / "config.toml").write_text(FULL_ACCESS)
    assert diagnostics.check_sandbox("cloudflare-aig", None).status is Status.WARN


def test_a_blank_variable_is_no_token_for_doctor(home, stand_in, capsys, monkeypatch) -> None:
    profiles.write(home.profile())
    monkeypatch.setenv("CLOUDFLARE_API_KEY", " \n")
    _, checks = checks_of(capsys, offline=True)
    assert checks["token.cloudflare"]["status"] == "fail"
    assert checks["token.cloudflare"]["fix"] == "codex-cf token set"
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, fake_token())
    _, checks = checks_of(capsys, offline=True)
    assert checks["token.cloudflare"]["message"].endswith("found in the keyring")


def test_rc_export_names_file_and_line_never_the_value(set_up, home, capsys) -> None:
    secret = fake_token()
    (home.home / ".bashrc").write_text(f"# mine\nexport CLOUDFLARE_API_KEY={secret}\n")
    doctor.run(DoctorOptions(offline=True))
    out = capsys.readouterr().out
    assert f"{home.home / '.bashrc'}:2" in out
    assert_absent(secret, out)


NETWORK = 'sandbox_mode = "workspace-write"\n[sandbox_workspace_write]\nnetwork_access = true\n'
FULL_ACCESS = 'sandbox_mode = "danger-full-access"\n'
KEEP_SANDBOX = 'set sandbox_mode = "workspace-write"'
NETWORK_OFF = "set network_access = false under [sandbox_workspace_write]"

# (config.toml, prepended to the profile, appended to the profile) -> sandbox.reach, fix words
SANDBOXES = {
    "default": ("", "", "", "ok", None),
    "workspace-write": ('sandbox_mode = "workspace-write"\n', "", "", "ok", None),
    "network-access": (NETWORK, "", "", "warn", NETWORK_OFF),
    "full-access": (FULL_ACCESS, "", "", "warn", KEEP_SANDBOX),
    "profile-keeps-the-sandbox": (FULL_ACCESS, 'sandbox_mode = "read-only"\n', "", "ok", None),
    "profile-opens-the-network": (
        'sandbox_mode = "workspace-write"\n',
        "",
        "\n[sandbox_workspace_write]\nnetwork_access = true\n",
        "warn",
        NETWORK_OFF,
    ),
    "profile-closes-the-network": (
        NETWORK,
        "",
        "\n[sandbox_workspace_write]\nnetwork_access = false\n",
        "ok",
        None,
    ),
    "profile-gives-full-access": ("", FULL_ACCESS, "", "warn", KEEP_SANDBOX),
}


@pytest.mark.parametrize("mode", ["env", "command"])
@pytest.mark.parametrize("sandbox", list(SANDBOXES))
def test_sandbox_settings_that_open_the_keyring_warn_in_both_modes(
    home, stand_in, capsys, mode, sandbox
) -> None:
    config, before, after, expected, fix_words = SANDBOXES[sandbox]
    done = run_codex_cf(
        "setup", "--account-id", profiles.ACCOUNT, "--auth", mode, "--no-token", "--yes"
    )
    assert done.returncode == 0, done.stderr
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, fake_token())
    (home.codex_home / "config.toml").write_text(config)
    path = home.profile()
    path.write_text(before + path.read_text() + after)
    status, checks = checks_of(capsys, offline=True)
    check = checks["sandbox.reach"]
    assert check["status"] == expected, check
    assert checks["auth.mode"]["status"] == "ok"  # the auth mode is not the remedy
    assert failing(checks) == {}
    assert status == 0
    if fix_words is None:
        assert "cannot reach your keyring" in str(check["message"])
        return
    assert fix_words in str(check["fix"])
    assert str(path) in str(check["fix"])
    assert "keyring" in str(check["message"])
    proc = "/proc of Codex's own processes" in str(check["message"])
    assert proc == (mode == "env" and fix_words is KEEP_SANDBOX)


def test_running_codex_with_the_old_profile_is_a_stale_session(
    set_up, home, capsys, codex_sessions
) -> None:
    # A Codex session as codex-cf leaves it: `codex --profile cloudflare-aig ...`, running on.
    session = codex_sessions.start("--profile", "cloudflare-aig", "exec", "x")
    other = codex_sessions.start("--profile", "another", "exec", "x")
    elsewhere = home.root / "other-codex-home"
    elsewhere.mkdir()
    foreign = codex_sessions.start(
        "--profile", "cloudflare-aig", env=dict(os.environ, CODEX_HOME=str(elsewhere))
    )
    os.utime(home.profile())  # the profile changed after the sessions started
    _, checks = checks_of(capsys, offline=True)
    assert checks["sessions.stale"]["status"] == "warn"
    pids = {int(pid) for pid in re.findall(r"\d+", str(checks["sessions.stale"]["message"]))}
    assert session in pids
    assert other not in pids
    assert foreign not in pids
    codex_sessions.stop()
    _, checks = checks_of(capsys, offline=True)
    assert checks["sessions.stale"]["status"] == "ok"


@pytest.fixture
def online(set_up, home, monkeypatch):
    def start(**api: object) -> FakeCloudflareApi:
        fake = FakeCloudflareApi(**api).__enter__()  # type: ignore[arg-type]
        monkeypatch.setenv("CODEX_CF_API_BASE", fake.url)
        url = fake.gateway_url(profiles.ACCOUNT, "default")
        profiles.write(home.profile(), profiles.with_base_url(url))
        return fake

    return start


def test_online_checks_pass_against_the_api_and_gateway(online, set_up, capsys) -> None:
    fake = online(
        user_tokens={set_up: "active"},
        gateways={(profiles.ACCOUNT, "default"): {"authentication": False, "byok_only": False}},
    )
    status, checks = checks_of(capsys)
    fake.__exit__(None, None, None)
    assert failing(checks) == {}
    assert status == 0
    for check_id in ("token.verify", "gateway.settings", "gateway.reachable"):
        assert checks[check_id]["status"] == "ok", checks[check_id]


@pytest.mark.parametrize(
    ("api", "check_id", "fix_words"),
    [
        ({"user_tokens": {}}, "token.verify", "token set"),
        ({"gateways": {}}, "gateway.settings", "--gateway"),
        (
            {"gateways": {(profiles.ACCOUNT, "default"): {"authentication": True}}},
            "gateway.settings",
            "--authenticated-gateway",
        ),
        (
            {
                "gateways": {
                    (profiles.ACCOUNT, "default"): {"authentication": False, "byok_only": True}
                }
            },
            "gateway.settings",
            "--billing byok",
        ),
    ],
)
def test_online_faults(online, set_up, capsys, api, check_id, fix_words) -> None:
    api = {
        "user_tokens": {set_up: "active"},
        "gateways": {(profiles.ACCOUNT, "default"): {}},
        **api,
    }
    fake = online(**api)
    status, checks = checks_of(capsys)
    fake.__exit__(None, None, None)
    assert status == 1
    assert checks[check_id]["status"] == "fail"
    assert fix_words in str(checks[check_id]["fix"])


def test_missing_permission_skips_the_gateway_check(online, set_up, capsys) -> None:
    fake = online(
        user_tokens={set_up: "active"},
        gateways={(profiles.ACCOUNT, "default"): {}},
        no_gateway_read=[set_up],
    )
    _, checks = checks_of(capsys)
    fake.__exit__(None, None, None)
    assert checks["gateway.settings"]["status"] == "skip"
    assert "AI Gateway - Read" in str(checks["gateway.settings"]["fix"])


def test_output_never_contains_the_token(set_up, home) -> None:
    for args in (["doctor", "--offline"], ["doctor", "--offline", "--json"]):
        done = run_codex_cf(*args)
        assert_absent(set_up, done.stdout, done.stderr)


def test_colours_only_on_a_terminal(set_up) -> None:
    done = run_codex_cf("doctor", "--offline")
    assert "\033[" not in done.stdout
    assert "✓" in done.stdout


def test_network_checks_run_at_once(online, set_up, capsys) -> None:
    # The fake answers none of the three until all three have arrived.
    fake = online(
        user_tokens={set_up: "active"},
        gateways={(profiles.ACCOUNT, "default"): {}},
        gather=3,
    )
    _, checks = checks_of(capsys)
    fake.__exit__(None, None, None)
    for check_id in ("token.verify", "gateway.settings", "gateway.reachable"):
        assert checks[check_id]["status"] == "ok", checks[check_id]


def test_each_network_failure_names_its_check(online, set_up, capsys) -> None:
    fake = online(outage=True)
    doctor.run(DoctorOptions())
    out = capsys.readouterr().out
    fake.__exit__(None, None, None)
    failures = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failures) == len(set(failures))
    for name in ("token verify:", "gateway settings:", "gateway reachable:"):
        assert any(line.startswith(f"✗ {name}") for line in failures), name


def test_fixes_name_the_profile(home, stand_in, capsys, monkeypatch) -> None:
    token = fake_token()
    credentials.store("work", Secret.CLOUDFLARE, token)
    (home.home / ".bashrc").write_text(f"export CLOUDFLARE_API_KEY={token}\n")
    with FakeCloudflareApi() as fake:  # knows neither the token nor the gateway
        monkeypatch.setenv("CODEX_CF_API_BASE", fake.url)
        url = fake.gateway_url(profiles.ACCOUNT, "default")
        profiles.write(home.profile("work"), profiles.with_base_url(url))
        status, checks = checks_of(capsys, profile="work")
    assert status == 1
    assert checks["token.verify"]["fix"].endswith("codex-cf token set --profile work")
    assert "--profile work" in str(checks["gateway.settings"]["fix"])
    assert "network" not in str(checks["gateway.settings"]["fix"])
    assert "token import --profile work" in str(checks["shell.rc_exports"]["fix"])


def test_an_untagged_profile_is_told_how_to_tag_without_failing(set_up, home, capsys) -> None:
    """A profile from before codex-cf tagged requests stays untagged until setup --metadata."""
    status, checks = checks_of(capsys, offline=True)
    assert status == 0
    assert checks["profile.tags"]["status"] == "skip"
    assert "not tagged" in str(checks["profile.tags"]["message"])
    assert checks["profile.tags"]["fix"] == "codex-cf setup --metadata"
    assert "    fix: codex-cf setup --metadata\n" in run_codex_cf("doctor", "--offline").stdout
    profiles.write(home.profile(), profiles.TAGGED)
    _, checks = checks_of(capsys, offline=True)
    assert "profile.tags" not in checks


def test_the_tagging_fix_names_the_profile_and_works(home, stand_in, capsys) -> None:
    profiles.write(home.profile("work"))
    credentials.store("work", Secret.CLOUDFLARE, fake_token())
    _, checks = checks_of(capsys, profile="work", offline=True)
    fix = str(checks["profile.tags"]["fix"])
    assert fix == "codex-cf setup --metadata --profile work"
    done = run_codex_cf(*shlex.split(fix)[1:], "--offline")
    assert done.returncode == 0, done.stderr
    _, checks = checks_of(capsys, profile="work", offline=True)
    assert "profile.tags" not in checks
    assert "requests tagged" in str(checks["profile.auth"]["message"])
