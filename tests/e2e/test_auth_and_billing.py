"""Command auth mode and every billing layout, with the real Codex 0.169.0 and gnome-keyring.

The fake gateway records the exact headers of every request and asks the
agent to print every secret variable and to count the processes whose
environment holds a secret (by digest), with full access.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from codex_cf.fake_gateway import FakeGateway
from codex_cf.self_test import SCAN_MARKER, agent_command
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import Withheld, assert_absent, assert_same_secret, fake_token

VARIABLES = ["CF_AIG_AUTHORIZATION", "CLOUDFLARE_API_KEY", "OPENAI_API_KEY"]
FULL_ACCESS = ["--dangerously-bypass-approvals-and-sandbox"]


@pytest.fixture
def secrets(request, real_keyring) -> dict[str, Withheld]:
    name = "e2e-" + request.node.name[-30:].strip("[]").replace("[", "-").replace("]", "")
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    values = {
        "profile": name,
        "cloudflare": fake_token("cf"),
        "openai": Withheld("sk-" + fake_token("openai")),
    }
    yield values
    real_keyring.clear(name)
    real_keyring.clear(f"{name}:openai")


def _gateway(secrets: dict[str, Withheld]) -> FakeGateway:
    tokens = [secrets["cloudflare"], secrets["openai"]]
    return FakeGateway(profiles.ACCOUNT, "layouts", agent_command(VARIABLES, tokens))


def _setup(secrets, gateway: FakeGateway, *options: str) -> None:
    done = run_codex_cf(
        "setup",
        "--profile",
        secrets["profile"],
        "--base-url",
        gateway.base_url,
        "--token-stdin",
        "--yes",
        *options,
        stdin_text=secrets["cloudflare"],
    )
    assert done.returncode == 0, done.stderr


def _exec(secrets, project, *args: str) -> subprocess.CompletedProcess[str]:
    return run_codex_cf(
        "-p",
        secrets["profile"],
        *args,
        "exec",
        "--skip-git-repo-check",
        "run it",
        cwd=str(project),
        timeout=180,
    )


def _headers(gateway: FakeGateway) -> list[dict[str, str | None]]:
    sent = gateway.responses_requests()
    assert sent, "no request reached the gateway"
    return [{h: r.header(h) for h in ("authorization", "cf-aig-authorization")} for r in sent]


def _scan(gateway: FakeGateway, secrets) -> int:
    outputs = Withheld("\n".join(gateway.tool_outputs))
    assert SCAN_MARKER in outputs, "the agent's command did not run"
    for key in ("cloudflare", "openai"):
        assert_absent(secrets[key], outputs, where="the agent's command output")
    return int(outputs.rsplit(SCAN_MARKER, 1)[1].split()[0])


@pytest.mark.parametrize(
    ("billing", "options", "authorization", "gateway_header"),
    [
        ("unified", [], "cloudflare", None),
        ("unified", ["--authenticated-gateway"], "cloudflare", "cloudflare"),
        ("byok", [], None, "cloudflare"),
        ("own-key", [], "openai", None),
        ("own-key", ["--authenticated-gateway"], "openai", "cloudflare"),
    ],
)
def test_each_layout_sends_exactly_its_headers(
    codex, project, secrets, billing, options, authorization, gateway_header
) -> None:
    with _gateway(secrets) as gateway:
        if billing == "own-key":
            stored = run_codex_cf(
                "token",
                "set",
                "--profile",
                secrets["profile"],
                "--which",
                "openai",
                "--stdin",
                stdin_text=secrets["openai"],
            )
            assert stored.returncode == 0, stored.stderr
        _setup(secrets, gateway, "--billing", billing, *options)
        done = _exec(secrets, project, *FULL_ACCESS)
        assert done.returncode == 0, done.stderr
        for headers in _headers(gateway):
            for name, secret in (
                ("authorization", authorization),
                ("cf-aig-authorization", gateway_header),
            ):
                if secret is None:
                    assert headers[name] is None, f"{name} was sent"
                else:
                    assert_same_secret(headers[name], f"Bearer {secrets[secret]}", name)
        _scan(gateway, secrets)
        for key in ("cloudflare", "openai"):
            assert_absent(secrets[key], done.stdout, done.stderr)


def test_a_missing_second_secret_stops_the_launch_before_codex(codex, project, secrets) -> None:
    with _gateway(secrets) as gateway:
        _setup(secrets, gateway, "--billing", "own-key", "--authenticated-gateway", "--no-token")
        run_codex_cf(
            "token",
            "set",
            "--profile",
            secrets["profile"],
            "--stdin",
            stdin_text=secrets["cloudflare"],
        )
        done = _exec(secrets, project)
        assert done.returncode == 4
        assert "OpenAI API key" in done.stderr
        assert "--which openai" in done.stderr
        assert gateway.requests == []


@pytest.mark.usefixtures("codex_cf_off_path")
def test_command_mode_keeps_the_token_out_of_every_environment(codex, project, secrets) -> None:
    with _gateway(secrets) as gateway:
        _setup(secrets, gateway, "--auth", "command")
        done = _exec(secrets, project, *FULL_ACCESS)
        assert done.returncode == 0, done.stderr
        for headers in _headers(gateway):
            assert_same_secret(headers["authorization"], f"Bearer {secrets['cloudflare']}")
        assert _scan(gateway, secrets) == 0  # no process environment holds it


def test_env_mode_with_full_access_leaves_it_in_codex_environment(codex, project, secrets) -> None:
    """The known gap command mode closes: the scan does see the env-mode token."""
    with _gateway(secrets) as gateway:
        _setup(secrets, gateway)
        assert _exec(secrets, project, *FULL_ACCESS).returncode == 0
        assert _scan(gateway, secrets) > 0


@pytest.mark.usefixtures("codex_cf_off_path")
def test_plain_codex_works_with_a_command_mode_profile(codex, project, secrets) -> None:
    with _gateway(secrets) as gateway:
        _setup(secrets, gateway, "--auth", "command")
        env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
        done = subprocess.run(
            [codex, "--profile", secrets["profile"], "exec", "--skip-git-repo-check", "run it"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, Withheld(done.stderr)
        for headers in _headers(gateway):
            assert_same_secret(headers["authorization"], f"Bearer {secrets['cloudflare']}")


def test_after_token_delete_command_mode_stops_before_codex(codex, project, secrets) -> None:
    with _gateway(secrets) as gateway:
        _setup(secrets, gateway, "--auth", "command")
        assert run_codex_cf("token", "delete", "--profile", secrets["profile"]).returncode == 0
        done = _exec(secrets, project)
        assert done.returncode == 4
        assert "codex-cf token set" in done.stderr
        assert gateway.requests == []


@pytest.mark.parametrize(("mode", "billing"), [("command", "unified"), ("env", "byok")])
def test_a_token_exported_in_the_users_shell_stays_hidden_from_the_agent(
    codex, project, secrets, monkeypatch, mode, billing
) -> None:
    """Cloudflare's page has users export CLOUDFLARE_API_KEY; no layout lets the agent print it."""
    with _gateway(secrets) as gateway:
        _setup(secrets, gateway, "--auth", mode, "--billing", billing)
        monkeypatch.setenv("CLOUDFLARE_API_KEY", secrets["cloudflare"])
        done = _exec(secrets, project)
        assert done.returncode == 0, done.stderr
        _scan(gateway, secrets)  # printenv of every secret variable shows none of them
