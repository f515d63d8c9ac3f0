"""Profiles behind Cloudflare Access, with the real Codex 0.169.0.

The loopback gateway stands in for a custom domain behind Access: it answers
302 (to a sign-in page) without credentials and 403 with wrong ones, as Access
does before anything reaches the gateway. A stand-in cloudflared on PATH hands
out and renews the Access token; service tokens come from the real Secret
Service.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codex_cf import metadata
from codex_cf.fake_gateway import FakeGateway, RecordedRequest
from helpers import profiles
from helpers.fake_cloudflared import SIGN_IN_URL, FakeCloudflared
from helpers.process import run_codex_cf
from helpers.terminal import finish, spawn
from helpers.tokens import Withheld, assert_absent, assert_same_secret, fake_token

DONE = "codex-cf-access-probe-done"
AGENT = (
    "printenv CF_ACCESS_TOKEN CF_ACCESS_CLIENT_ID CF_ACCESS_CLIENT_SECRET CF_AIG_METADATA; "
    f"echo {DONE}"
)


@pytest.fixture
def cloudflared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCloudflared:
    stand_in = FakeCloudflared(tmp_path / "cloudflared")
    monkeypatch.setenv("PATH", f"{stand_in.bin}{os.pathsep}{os.environ['PATH']}")
    return stand_in


def _behind_access(cloudflared: FakeCloudflared) -> FakeGateway:
    def access(request: RecordedRequest) -> bool | None:
        sent = request.header("cf-access-token")
        return None if sent is None else cloudflared.accepts(sent)

    return FakeGateway(profiles.ACCOUNT, "access", AGENT, access=access)


def _setup(profile: str, gateway: FakeGateway, access: str) -> None:
    done = run_codex_cf(
        "setup", "--profile", profile, "--base-url", gateway.base_url, "--access", access, "--yes"
    )
    assert done.returncode == 0, done.stderr


def _exec_args(profile: str) -> list[str]:
    return ["-p", profile, "exec", "--skip-git-repo-check", "run it"]


def _agent_saw(gateway: FakeGateway, *secrets: str) -> None:
    outputs = Withheld("\n".join(gateway.tool_outputs))
    assert DONE in outputs, "the agent's command did not run"
    for secret in secrets:
        assert_absent(secret, outputs, where="the agent's command output")


def _no_secret_in_argv(cloudflared: FakeCloudflared, *secrets: str) -> None:
    calls = "\n".join(" ".join(c) for c in cloudflared.calls())
    for secret in secrets:
        assert_absent(secret, calls, where="cloudflared's argv")


def test_cloudflared_token_reaches_the_gateway_and_not_the_agent(
    codex, project, cloudflared
) -> None:
    """A new Access profile: the JWT in cf-access-token, no Authorization, tags beside it."""
    token = cloudflared.log_in()
    with _behind_access(cloudflared) as gateway:
        _setup("access-user", gateway, "cloudflared")  # a new profile: tags on
        done = run_codex_cf(*_exec_args("access-user"), cwd=str(project), timeout=180)
        assert done.returncode == 0, done.stderr
        sent = gateway.responses_requests()
        assert sent, "no request passed Access"
        for request in sent:
            assert_same_secret(request.header("cf-access-token"), token)
            assert request.header("authorization") is None, "an Authorization header was sent"
            assert request.header("cf-aig-authorization") is None
        tag_values = {v for r in sent for v in r.header_values("cf-aig-metadata")}
        assert [len(r.header_values("cf-aig-metadata")) for r in sent] == [1] * len(sent)
        assert len(tag_values) == 1, "the tags changed within one launch"
        tags = json.loads(tag_values.pop())
        assert tags[metadata.PROFILE] == "access-user"
        assert tags[metadata.PROJECT] == project.name
        assert len(tags[metadata.LAUNCH]) == 16
        _agent_saw(gateway, token)
        assert tags[metadata.LAUNCH] not in "\n".join(gateway.tool_outputs)
        assert_absent(token, done.stdout, done.stderr, where="codex-cf's output")
    origin = gateway.base_url.removesuffix("/openai")
    assert ["access", "token", f"-app={origin}"] in cloudflared.calls()
    _no_secret_in_argv(cloudflared, token)


def test_expired_token_without_a_terminal_stops_with_the_login_command(
    codex, project, cloudflared
) -> None:
    cloudflared.expire()
    with _behind_access(cloudflared) as gateway:
        _setup("access-expired", gateway, "cloudflared")
        done = run_codex_cf(*_exec_args("access-expired"), cwd=str(project), timeout=180)
        assert done.returncode == 4, done.stderr
        origin = gateway.base_url.removesuffix("/openai")
        assert "no current Cloudflare Access token" in done.stderr
        assert f"fix: cloudflared access login {origin}" in done.stderr
        assert not gateway.requests, "Codex started without an Access token"
    assert not any(c[:2] == ["access", "login"] for c in cloudflared.calls())


def test_expired_token_on_a_terminal_logs_in_and_goes_on(codex, project, cloudflared) -> None:
    cloudflared.expire()
    with _behind_access(cloudflared) as gateway:
        _setup("access-login", gateway, "cloudflared")
        os.chdir(project)
        child = spawn(*_exec_args("access-login"), timeout=180)
        child.expect_exact("signing in to Cloudflare Access")
        child.expect_exact(SIGN_IN_URL)
        assert finish(child, timeout=180) == 0
        token = cloudflared.current()
        assert token is not None
        sent = gateway.responses_requests()
        assert sent, "no request passed Access after the sign-in"
        for request in sent:
            assert_same_secret(request.header("cf-access-token"), token)
        _agent_saw(gateway, token)
    assert ["access", "login", gateway.base_url.removesuffix("/openai")] in cloudflared.calls()
    _no_secret_in_argv(cloudflared, token)


def test_failed_sign_in_on_a_terminal_stops(codex, project, cloudflared) -> None:
    (cloudflared.state / "fail_login").touch()
    with _behind_access(cloudflared) as gateway:
        _setup("access-cancelled", gateway, "cloudflared")
        os.chdir(project)
        child = spawn(*_exec_args("access-cancelled"), timeout=120)
        child.expect_exact("the sign-in did not finish")
        assert finish(child) == 4
        assert not gateway.requests


@pytest.fixture
def service_token(real_keyring):
    values = {"access-id": fake_token("id") + ".access", "access-secret": fake_token("secret")}
    yield {k: Withheld(v) for k, v in values.items()}
    for which in values:
        real_keyring.clear(f"access-ci:{which}")


def test_service_token_sends_both_headers_from_the_keyring(
    codex, project, real_keyring, service_token
) -> None:
    def access(request: RecordedRequest) -> bool | None:
        given = (request.header("CF-Access-Client-Id"), request.header("CF-Access-Client-Secret"))
        if given == (None, None):
            return None
        return given == (service_token["access-id"], service_token["access-secret"])

    with FakeGateway(profiles.ACCOUNT, "ci", AGENT, access=access) as gateway:
        for which, value in service_token.items():
            stored = run_codex_cf(
                "token", "set", "-p", "access-ci", "--which", which, "--stdin", stdin_text=value
            )
            assert stored.returncode == 0, stored.stderr
            assert_same_secret(real_keyring.lookup(f"access-ci:{which}"), value)
        _setup("access-ci", gateway, "service-token")
        done = run_codex_cf(*_exec_args("access-ci"), cwd=str(project), timeout=180)
        assert done.returncode == 0, done.stderr
        sent = gateway.responses_requests()
        assert sent, "no request passed Access"
        for request in sent:
            assert_same_secret(request.header("CF-Access-Client-Id"), service_token["access-id"])
            assert_same_secret(
                request.header("CF-Access-Client-Secret"), service_token["access-secret"]
            )
            assert request.header("authorization") is None
        _agent_saw(gateway, *service_token.values())


def test_service_token_missing_stops_before_codex(codex, project, real_keyring) -> None:
    def nobody(request: RecordedRequest) -> bool | None:
        return None

    with FakeGateway(profiles.ACCOUNT, "ci", AGENT, access=nobody) as gateway:
        refused = run_codex_cf(
            "setup",
            "-p",
            "access-none",
            "--base-url",
            gateway.base_url,
            "--access",
            "service-token",
            "--yes",
        )
        assert refused.returncode == 4, refused.stderr
        assert "token set --profile access-none --which access-id --stdin" in refused.stderr
        later = run_codex_cf(
            "setup",
            "-p",
            "access-none",
            "--base-url",
            gateway.base_url,
            "--access",
            "service-token",
            "--no-token",
            "--yes",
        )
        assert later.returncode == 0, later.stderr
        done = run_codex_cf(*_exec_args("access-none"), cwd=str(project))
        assert done.returncode == 4, done.stderr
        assert "token set --profile access-none --which access-id" in done.stderr
        assert not gateway.requests


def test_gateway_refuses_without_access(codex, cloudflared) -> None:
    """The stand-in for Access itself: nothing passes without the header."""
    import urllib.error
    import urllib.request

    with _behind_access(cloudflared) as gateway:

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(gateway.base_url + "/responses", data=b"{}", timeout=30)
        assert refused.value.code == 302
        request = urllib.request.Request(
            gateway.base_url + "/responses", data=b"{}", headers={"cf-access-token": "x.y.z"}
        )
        with pytest.raises(urllib.error.HTTPError) as forbidden:
            opener.open(request, timeout=30)
        assert forbidden.value.code == 403


def test_setup_on_a_terminal_asks_for_the_custom_domain(home) -> None:
    child = spawn("setup", "--access", "cloudflared", "--offline")
    child.expect_exact("custom domain")
    child.sendline("https://ai.example.com")
    child.expect_exact("a custom domain is a host name")
    child.sendline("ai.example.com")
    child.expect_exact("Model")
    child.sendline("")
    child.expect_exact("Reasoning effort")
    child.sendline("")
    child.expect_exact("Write these changes?")
    child.sendline("y")
    assert finish(child) == 0
    text = home.profile().read_text()
    assert 'base_url = "https://ai.example.com/openai"' in text
    assert 'cf-access-token = "CF_ACCESS_TOKEN"' in text


def test_self_test_runs_an_access_profile_without_asking_cloudflared(codex, cloudflared) -> None:
    done = run_codex_cf(
        "setup", "--access", "cloudflared", "--custom-domain", "ai.example.com", "--yes"
    )
    assert done.returncode == 0, done.stderr
    tested = run_codex_cf("doctor", "--self-test", timeout=240)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "cf-access-token carried the token codex-cf holds" in tested.stdout
    assert cloudflared.calls() == []
