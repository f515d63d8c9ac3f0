"""The AI Gateway URL grammar: which base_url may carry a token, and what it names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_cf import gateway_url as grammar
from codex_cf.gateway_url import (
    ACCOUNT_ID,
    GATEWAY_SLUG,
    base_url_problem,
    gateway_coordinates,
    gateway_url,
    is_loopback_host,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"


def test_the_url_setup_writes_is_cloudflares_and_reads_back() -> None:
    url = gateway_url(ACCOUNT, "default")
    assert url == f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/default/openai"
    assert base_url_problem(url) is None
    assert gateway_coordinates(url) == (ACCOUNT, "default")


@given(st.from_regex(ACCOUNT_ID, fullmatch=True), st.from_regex(GATEWAY_SLUG, fullmatch=True))
def test_every_account_and_slug_round_trip(account: str, slug: str) -> None:
    url = gateway_url(account, slug)
    assert base_url_problem(url) is None
    assert gateway_coordinates(url) == (account, slug)


def test_coordinates_come_from_the_path_alone() -> None:
    # A loopback double or an endpoint fronting the gateway still names its gateway.
    assert gateway_coordinates(f"http://127.0.0.1:8080/v1/{ACCOUNT}/work/openai/") == (
        ACCOUNT,
        "work",
    )
    assert gateway_coordinates("https://api.openai.com/v1") is None
    assert gateway_coordinates("https://gateway.ai.cloudflare.com/v1/short/default/openai") is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (None, "base_url is not set"),
        ("", "base_url is not set"),
        ("https://gateway.ai.cloudflare.com/v1/<ACCOUNT_ID>/<GATEWAY_ID>/openai", "placeholder"),
        ("https://gateway.ai.cloudflare.com/v1/${ACCOUNT}/default/openai", "placeholder"),
        ("https://gateway.ai.cloudflare.com/v1/openai", "is not /v1/<account>/<gateway>/openai"),
        ("https://gateway.ai.cloudflare.com/v1/0123abc/default/openai", "32 hexadecimal"),
        (f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/Bad_Slug/openai", "not a gateway slug"),
        ("http://example.com/v1/openai", "unencrypted"),
        ("http://127.attacker.example/v1/x", "unencrypted"),
        ("ftp://127.0.0.1/v1", "unencrypted"),
        ("https://[::1/v1", "is not a URL"),
    ],
)
def test_a_url_that_cannot_carry_the_token_says_why(url: object, words: str) -> None:
    problem = base_url_problem(url)
    assert problem is not None
    assert words in problem


@pytest.mark.parametrize(
    "url",
    [
        "https://my-proxy.example/v1",
        "http://127.0.0.1:8080/v1",
        "http://[::1]:9/v1",
        "http://localhost/v1",
    ],
)
def test_https_anywhere_and_plain_http_to_loopback_are_fine(url: str) -> None:
    assert base_url_problem(url) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("localhost.example", False),
        ("10.0.0.1", False),
        ("", False),
        (None, False),
    ],
)
def test_loopback_hosts(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize("host", ["ai.example.com", "gw-1.corp.example.co.uk"])
def test_a_custom_domain_is_an_https_base_url(host):
    assert grammar.custom_domain_problem(host) is None
    url = grammar.custom_domain_url(host)
    assert url == f"https://{host}/openai"
    assert grammar.base_url_problem(url) is None
    assert grammar.gateway_coordinates(url) is None  # the host names account and gateway
    assert grammar.access_url_problem(url) is None
    assert grammar.app_origin(url) == f"https://{host}"


@pytest.mark.parametrize(
    "host", ["https://ai.example.com", "ai.example.com/openai", "localhost", "-a.example.com"]
)
def test_a_custom_domain_is_a_bare_host_name(host):
    assert grammar.custom_domain_problem(host) is not None


def test_access_is_never_on_cloudflares_own_host():
    assert grammar.custom_domain_problem("gateway.ai.cloudflare.com") is not None
    assert "custom domain" in (grammar.access_url_problem(gateway_url(ACCOUNT, "default")) or "")
