"""The Cloudflare API client, against a fake Cloudflare API over real loopback HTTP."""

from __future__ import annotations

import socket
import time

import pytest

from codex_cf.cloudflare_api import (
    GatewayStatus,
    ProbeStatus,
    TokenKind,
    TokenStatus,
    gateway_settings,
    probe_gateway,
    verify_token,
)
from helpers.fake_cloudflare_api import OMIT, FakeCloudflareApi
from helpers.tokens import assert_absent, digest, fake_token

ACCOUNT = "0123456789abcdef0123456789abcdef"
OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210"
USER_VERIFY = "/client/v4/user/tokens/verify"
ACCOUNT_VERIFY = f"/client/v4/accounts/{ACCOUNT}/tokens/verify"
GATEWAY_PATH = f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default"
# Generous against a loaded machine, small against the delays below.
MARGIN = 1.5


def clean(result: object, *secrets: str) -> None:
    """No secret in the result's detail or repr."""
    for secret in secrets:
        assert_absent(secret, result.detail, repr(result), where="the result")  # type: ignore[attr-defined]


@pytest.fixture
def token() -> str:
    return fake_token()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- token verify -----------------------------------------------------------------


def test_active_user_token(token) -> None:
    with FakeCloudflareApi(user_tokens={token: "active"}) as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.ACTIVE
    assert verdict.kind is TokenKind.USER
    assert verdict.cloudflare_status == "active"
    assert verdict.token_id  # Cloudflare's identifier tag came through
    assert [(r.method, r.path) for r in api.requests] == [("GET", USER_VERIFY)]
    assert api.requests[0].authorization == digest("Bearer " + token)
    clean(verdict, token)


def test_unknown_token_is_invalid_and_names_the_account_id(token) -> None:
    with FakeCloudflareApi(user_tokens={fake_token(): "active"}) as api:
        verdict = verify_token(token, None, api_base=api.url)
    assert verdict.status is TokenStatus.INVALID
    assert verdict.http_status == 401
    assert "Invalid API Token" in verdict.detail
    assert "account ID" in verdict.detail  # an account-owned token needs it
    assert api.paths() == [USER_VERIFY]
    clean(verdict, token)


def test_unknown_token_is_checked_at_both_endpoints_when_the_account_is_known(token) -> None:
    with FakeCloudflareApi() as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.INVALID
    assert "both" in verdict.detail
    assert api.paths() == [USER_VERIFY, ACCOUNT_VERIFY]
    clean(verdict, token)


@pytest.mark.parametrize("state", ["disabled", "expired"])
def test_inactive_user_token_says_which(token, state) -> None:
    with FakeCloudflareApi(user_tokens={token: state}) as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.INACTIVE
    assert verdict.cloudflare_status == state
    assert state.removesuffix("d") in verdict.detail  # "disable…" / "expire…"
    assert api.paths() == [USER_VERIFY]  # a verdict: no second endpoint
    clean(verdict, token)


def test_expired_token_says_when(token) -> None:
    with FakeCloudflareApi(user_tokens={token: "expired"}) as api:
        verdict = verify_token(token, None, api_base=api.url)
    assert verdict.expires_on
    assert verdict.expires_on in verdict.detail


def test_account_owned_token_falls_through_to_the_account_endpoint(token) -> None:
    with FakeCloudflareApi(account_tokens={ACCOUNT: {token: "active"}}) as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.ACTIVE
    assert verdict.kind is TokenKind.ACCOUNT
    assert ACCOUNT in verdict.detail
    assert api.paths() == [USER_VERIFY, ACCOUNT_VERIFY]
    assert {r.authorization for r in api.requests} == {digest("Bearer " + token)}
    clean(verdict, token)


def test_account_owned_token_of_another_account_is_invalid(token) -> None:
    with FakeCloudflareApi(account_tokens={OTHER_ACCOUNT: {token: "active"}}) as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.INVALID


def test_disabled_account_owned_token_is_inactive(token) -> None:
    with FakeCloudflareApi(account_tokens={ACCOUNT: {token: "disabled"}}) as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.INACTIVE
    assert verdict.kind is TokenKind.ACCOUNT


def test_account_id_cannot_reach_another_path(token) -> None:
    with FakeCloudflareApi() as api:
        verify_token(token, "../../user/tokens", api_base=api.url)
    assert api.paths()[1] == "/client/v4/accounts/..%2F..%2Fuser%2Ftokens/tokens/verify"


def test_closed_port_is_unreachable(token, closed_port) -> None:
    verdict = verify_token(token, ACCOUNT, api_base=f"http://127.0.0.1:{closed_port}")
    assert verdict.status is TokenStatus.UNREACHABLE
    assert "refused" in verdict.detail
    clean(verdict, token)


def test_slow_server_is_unreachable_within_the_timeout(token) -> None:
    with FakeCloudflareApi(user_tokens={token: "active"}, delay=10) as api:
        started = time.monotonic()
        verdict = verify_token(token, ACCOUNT, api_base=api.url, timeout=0.5)
        elapsed = time.monotonic() - started
    assert verdict.status is TokenStatus.UNREACHABLE
    assert elapsed < 0.5 + MARGIN
    assert "0.5 s" in verdict.detail
    assert api.paths() == [USER_VERIFY]  # no verdict: no second try
    clean(verdict, token)


def test_trickling_server_is_cut_off_at_the_timeout(token) -> None:
    # Bytes keep coming, so no socket read ever times out: the call as a whole must.
    with FakeCloudflareApi(user_tokens={token: "active"}, trickle=0.1) as api:
        started = time.monotonic()
        verdict = verify_token(token, ACCOUNT, api_base=api.url, timeout=0.5)
        elapsed = time.monotonic() - started
    assert verdict.status is TokenStatus.UNREACHABLE
    assert elapsed < 0.5 + MARGIN


def test_server_error_is_unreachable_not_invalid(token) -> None:
    with FakeCloudflareApi(user_tokens={token: "active"}, outage=True) as api:
        verdict = verify_token(token, ACCOUNT, api_base=api.url)
    assert verdict.status is TokenStatus.UNREACHABLE
    assert verdict.http_status == 503
    assert api.paths() == [USER_VERIFY]


def test_an_answer_that_is_not_cloudflares_gives_no_verdict(token) -> None:
    # The fake answers unknown paths with a plain-text 404, as any web server would.
    with FakeCloudflareApi(user_tokens={token: "active"}) as api:
        verdict = verify_token(token, None, api_base=f"{api.url}/elsewhere")
    assert verdict.status is TokenStatus.UNREACHABLE
    assert "not the Cloudflare API" in verdict.detail


def test_redirects_are_not_followed_with_the_token(token) -> None:
    with FakeCloudflareApi(user_tokens={token: "active"}) as target:
        with FakeCloudflareApi(redirect_to=target.url) as api:
            verdict = verify_token(token, ACCOUNT, api_base=api.url)
        assert target.requests == []
    assert verdict.status is TokenStatus.UNREACHABLE
    assert "redirect" in verdict.detail


def test_tls_failure_is_unreachable(token) -> None:
    # https to a plain-HTTP port: a real handshake failure.
    with FakeCloudflareApi(user_tokens={token: "active"}) as api:
        verdict = verify_token(token, ACCOUNT, api_base=f"https://127.0.0.1:{api.port}")
    assert verdict.status is TokenStatus.UNREACHABLE
    assert "TLS" in verdict.detail
    clean(verdict, token)


def test_plain_http_goes_to_loopback_only(token) -> None:
    # 0.0.0.0 reaches this host on Linux, but it is not a loopback address.
    with FakeCloudflareApi(user_tokens={token: "active"}) as api:
        verdict = verify_token(token, None, api_base=f"http://0.0.0.0:{api.port}")
    assert verdict.status is TokenStatus.UNREACHABLE
    assert "https" in verdict.detail
    assert api.requests == []


def test_api_base_comes_from_the_environment(token, monkeypatch) -> None:
    with FakeCloudflareApi(user_tokens={token: "active"}) as api:
        monkeypatch.setenv("CODEX_CF_API_BASE", api.url + "/")
        verdict = verify_token(token, None)
    assert verdict.status is TokenStatus.ACTIVE
    assert api.paths() == [USER_VERIFY]


@pytest.mark.parametrize("bad", ["", "two words", "line\nbreak", "caf\u00e9-token"])
def test_a_malformed_token_is_invalid_and_never_sent(bad) -> None:
    with FakeCloudflareApi() as api:
        verdict = verify_token(bad, ACCOUNT, api_base=api.url)
        lookup = gateway_settings(bad, ACCOUNT, "default", api_base=api.url)
    assert verdict.status is TokenStatus.INVALID
    assert lookup.status is GatewayStatus.INVALID
    assert api.requests == []
    if bad:
        clean(verdict, bad)
        clean(lookup, bad)


# --- gateway settings -------------------------------------------------------------


def lookup_with(token: str, settings: dict | None, **fake: object):
    gateways = {} if settings is None else {(ACCOUNT, "default"): settings}
    with FakeCloudflareApi(user_tokens={token: "active"}, gateways=gateways, **fake) as api:
        result = gateway_settings(token, ACCOUNT, "default", api_base=api.url)
    return result, api


def test_gateway_found(token) -> None:
    lookup, api = lookup_with(token, {})
    assert lookup.status is GatewayStatus.FOUND
    assert lookup.authentication is False
    assert lookup.byok_only is False
    assert lookup.raw["id"] == "default"
    assert api.paths() == [GATEWAY_PATH]
    assert api.requests[0].authorization == digest("Bearer " + token)
    clean(lookup, token)


def test_gateway_authenticated(token) -> None:
    lookup, _ = lookup_with(token, {"authentication": True})
    assert lookup.status is GatewayStatus.FOUND
    assert lookup.authentication is True
    assert "authenticated gateway on" in lookup.detail


def test_gateway_byok_only(token) -> None:
    lookup, _ = lookup_with(token, {"byok_only": True})
    assert lookup.byok_only is True
    assert "(byok_only) on" in lookup.detail


def test_gateway_without_a_byok_only_field_says_unknown(token) -> None:
    lookup, _ = lookup_with(token, {"byok_only": OMIT})
    assert lookup.status is GatewayStatus.FOUND
    assert lookup.byok_only is None
    assert "not reported" in lookup.detail


def test_gateway_missing(token) -> None:
    lookup, _ = lookup_with(token, None)
    assert lookup.status is GatewayStatus.MISSING
    assert lookup.http_status == 404
    assert "'default'" in lookup.detail
    clean(lookup, token)


def test_gateway_lookup_without_ai_gateway_read(token) -> None:
    lookup, _ = lookup_with(token, {}, no_gateway_read={token})
    assert lookup.status is GatewayStatus.FORBIDDEN
    assert "AI Gateway - Read" in lookup.detail
    clean(lookup, token)


def test_gateway_lookup_with_a_rejected_token(token) -> None:
    with FakeCloudflareApi(gateways={(ACCOUNT, "default"): {}}) as api:
        lookup = gateway_settings(token, ACCOUNT, "default", api_base=api.url)
    assert lookup.status is GatewayStatus.INVALID
    assert "Invalid API Token" in lookup.detail
    clean(lookup, token)


def test_account_owned_token_reads_its_accounts_gateway(token) -> None:
    with FakeCloudflareApi(
        account_tokens={ACCOUNT: {token: "active"}}, gateways={(ACCOUNT, "default"): {}}
    ) as api:
        lookup = gateway_settings(token, ACCOUNT, "default", api_base=api.url)
    assert lookup.status is GatewayStatus.FOUND


def test_gateway_secrets_stay_out_of_the_result(token) -> None:
    otel_secret = fake_token("otel")
    otel = [{"url": "https://otel.example/v1/traces", "authorization": otel_secret, "headers": {}}]
    lookup, _ = lookup_with(token, {"otel": otel})
    assert lookup.raw["otel"][0]["url"] == "https://otel.example/v1/traces"
    assert_absent(otel_secret, repr(lookup), repr(lookup.raw), where="the lookup")
    clean(lookup, token)


def test_gateway_lookup_unreachable_and_slow(token, closed_port) -> None:
    lookup = gateway_settings(token, ACCOUNT, "default", api_base=f"http://127.0.0.1:{closed_port}")
    assert lookup.status is GatewayStatus.UNREACHABLE
    with FakeCloudflareApi(user_tokens={token: "active"}, delay=10) as api:
        started = time.monotonic()
        lookup = gateway_settings(token, ACCOUNT, "default", api_base=api.url, timeout=0.5)
        elapsed = time.monotonic() - started
    assert lookup.status is GatewayStatus.UNREACHABLE
    assert elapsed < 0.5 + MARGIN
    clean(lookup, token)


def test_gateway_lookup_server_error(token) -> None:
    lookup, _ = lookup_with(token, {}, outage=True)
    assert lookup.status is GatewayStatus.UNREACHABLE
    assert lookup.http_status == 503


# --- gateway probe ----------------------------------------------------------------


def bearer(value: str) -> str:
    return "Bearer " + value


def test_probe_own_key_on_an_open_gateway(token) -> None:
    openai_key = fake_token("openai")
    with FakeCloudflareApi(gateways={(ACCOUNT, "default"): {}}, provider_keys={openai_key}) as api:
        probe = probe_gateway(
            api.gateway_url(ACCOUNT, "default"), {"Authorization": bearer(openai_key)}
        )
    assert probe.status is ProbeStatus.REACHABLE
    assert probe.http_status == 200
    assert probe.provider_rejected is False
    # The probe is a GET of the model list: it never reaches /responses.
    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", f"/v1/{ACCOUNT}/default/openai/models")
    ]
    assert api.requests[0].authorization == digest(bearer(openai_key))
    clean(probe, openai_key)


def test_probe_authenticated_gateway_with_a_good_token(token) -> None:
    openai_key = fake_token("openai")
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, "default"): {"authentication": True}},
        provider_keys={openai_key},
    ) as api:
        probe = probe_gateway(
            api.gateway_url(ACCOUNT, "default"),
            {"Authorization": bearer(openai_key), "cf-aig-authorization": bearer(token)},
        )
    assert probe.status is ProbeStatus.REACHABLE
    assert api.requests[0].cf_aig_authorization == digest(bearer(token))
    clean(probe, token, openai_key)


@pytest.mark.parametrize("state", [None, "disabled"])
def test_probe_authenticated_gateway_refuses_a_missing_or_inactive_token(token, state) -> None:
    openai_key = fake_token("openai")
    headers = {"Authorization": bearer(openai_key)}
    if state:
        headers["cf-aig-authorization"] = bearer(token)
    with FakeCloudflareApi(
        user_tokens={token: state} if state else {},
        gateways={(ACCOUNT, "default"): {"authentication": True}},
        provider_keys={openai_key},
    ) as api:
        probe = probe_gateway(api.gateway_url(ACCOUNT, "default"), headers)
    assert probe.status is ProbeStatus.AUTH_REJECTED
    assert probe.http_status == 401
    assert probe.provider_rejected is False
    clean(probe, token, openai_key)


def test_probe_unified_billing_passes_the_gateway(token) -> None:
    # Cloudflare's Codex page: the Cloudflare token as Authorization, no provider key.
    # The gateway accepts it; OpenAI's model list is not paid for by Unified Billing.
    with FakeCloudflareApi(
        user_tokens={token: "active"}, gateways={(ACCOUNT, "default"): {"authentication": True}}
    ) as api:
        probe = probe_gateway(api.gateway_url(ACCOUNT, "default"), {"Authorization": bearer(token)})
    assert probe.status is ProbeStatus.REACHABLE
    assert probe.provider_rejected is True
    clean(probe, token)


def test_probe_wrong_own_key_is_the_providers_refusal() -> None:
    openai_key = fake_token("openai")
    with FakeCloudflareApi(gateways={(ACCOUNT, "default"): {}}) as api:
        probe = probe_gateway(
            api.gateway_url(ACCOUNT, "default"), {"Authorization": bearer(openai_key)}
        )
    assert probe.status is ProbeStatus.REACHABLE
    assert probe.provider_rejected is True
    assert "Incorrect API key" in probe.detail
    clean(probe, openai_key)


def test_probe_unreachable_slow_and_failing(token, closed_port) -> None:
    headers = {"Authorization": bearer(token)}
    probe = probe_gateway(f"http://127.0.0.1:{closed_port}/v1/{ACCOUNT}/default/openai", headers)
    assert probe.status is ProbeStatus.UNREACHABLE
    assert "refused" in probe.detail
    with FakeCloudflareApi(gateways={(ACCOUNT, "default"): {}}, delay=10) as api:
        started = time.monotonic()
        probe = probe_gateway(api.gateway_url(ACCOUNT, "default"), headers, timeout=0.5)
        elapsed = time.monotonic() - started
    assert probe.status is ProbeStatus.UNREACHABLE
    assert elapsed < 0.5 + MARGIN
    with FakeCloudflareApi(gateways={(ACCOUNT, "default"): {}}, outage=True) as api:
        probe = probe_gateway(api.gateway_url(ACCOUNT, "default"), headers)
    assert probe.status is ProbeStatus.UNREACHABLE
    assert probe.http_status == 503
    clean(probe, token)


def test_probe_sends_credentials_over_plain_http_to_loopback_only(token) -> None:
    with FakeCloudflareApi(gateways={(ACCOUNT, "default"): {}}) as api:
        base = api.gateway_url(ACCOUNT, "default").replace("127.0.0.1", "0.0.0.0")
        probe = probe_gateway(base, {"Authorization": bearer(token)})
    assert probe.status is ProbeStatus.UNREACHABLE
    assert api.requests == []


def test_probe_refuses_a_header_http_cannot_carry(token) -> None:
    with pytest.raises(ValueError, match="cf-aig-authorization") as raised:
        probe_gateway("http://127.0.0.1:9/x", {"cf-aig-authorization": bearer(token) + "\n"})
    assert_absent(token, str(raised.value), where="the error")


def test_plain_http_never_goes_through_a_proxy(monkeypatch) -> None:
    """A proxy would see the Authorization header in clear; loopback needs none."""
    import http.server
    import threading

    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(502)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    token = fake_token()
    try:
        with FakeCloudflareApi(user_tokens={token: "active"}) as api:
            monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
            monkeypatch.delenv("no_proxy", raising=False)
            monkeypatch.delenv("NO_PROXY", raising=False)
            verdict = verify_token(token, None, api_base=api.url)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert seen == []
    assert verdict.status is TokenStatus.ACTIVE
