"""The Access token: its exp read without verifying, and cloudflared as the launch runs it."""

from __future__ import annotations

import os
import time

import pytest

from codex_cf import access_token
from codex_cf.access_token import AccessToken
from codex_cf.errors import TokenMissing
from helpers.fake_cloudflared import FakeCloudflared, make_jwt
from helpers.tokens import assert_absent, assert_same_secret

ORIGIN = "https://ai.example.com"


def test_exp_is_read_from_the_payload_without_verifying():
    assert access_token.expiry(make_jwt(1_900_000_000)) == 1_900_000_000


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b",
        "a.!!!.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig",  # no exp
        "eyJhbGciOiJub25lIn0.eyJleHAiOiJzb29uIn0.sig",  # exp is not a number
        "eyJhbGciOiJub25lIn0.WzFd.sig",  # the payload is a list
    ],
)
def test_a_token_without_a_readable_exp_has_none(token):
    assert access_token.expiry(token) is None


def test_expired_is_judged_by_exp():
    now = time.time()
    assert access_token.is_expired(AccessToken("x", int(now) - 1), now)
    assert not access_token.is_expired(AccessToken("x", int(now) + 60), now)
    assert not access_token.is_expired(AccessToken("x", None), now)


@pytest.fixture
def stand_in(tmp_path, monkeypatch) -> FakeCloudflared:
    fake = FakeCloudflared(tmp_path / "cf")
    monkeypatch.setenv("PATH", f"{fake.bin}{os.pathsep}{os.environ['PATH']}")
    return fake


def test_current_token_comes_from_cloudflared(stand_in):
    token = stand_in.log_in()
    assert_same_secret(access_token.current(ORIGIN, os.environ, can_log_in=False), token)
    assert stand_in.calls() == [["access", "token", f"-app={ORIGIN}"]]


def test_no_token_without_a_terminal_names_the_login(stand_in):
    with pytest.raises(TokenMissing, match="not signed in") as raised:
        access_token.current(ORIGIN, os.environ, can_log_in=False)
    assert raised.value.fix == f"cloudflared access login {ORIGIN}, then run codex-cf again"
    stand_in.expire()
    with pytest.raises(TokenMissing, match="session ended"):
        access_token.current(ORIGIN, os.environ, can_log_in=False)
    (stand_in.state / "print_expired").touch()  # a cloudflared that prints it anyway
    with pytest.raises(TokenMissing, match="it has expired"):
        access_token.current(ORIGIN, os.environ, can_log_in=False)


def test_login_shows_its_instructions_but_never_the_token(stand_in, capfd):
    stand_in.expire()
    token = access_token.current(ORIGIN, os.environ, can_log_in=True)
    assert_same_secret(token, stand_in.current())
    shown = capfd.readouterr()
    assert "cloudflareaccess.com" in shown.err
    assert_absent(token, shown.out, shown.err, where="what the sign-in showed")
    assert ["access", "login", ORIGIN] in stand_in.calls()


def test_a_missing_cloudflared_names_the_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TokenMissing, match="cloudflared is not installed") as raised:
        access_token.current(ORIGIN, os.environ, can_log_in=True)
    assert "install cloudflared" in (raised.value.fix or "")
