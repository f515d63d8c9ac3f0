"""Setup asks Cloudflare before it writes, and a setup that cannot finish changes nothing.

The Cloudflare API is the loopback fake, answering as the documented API does.
"""

from __future__ import annotations

import io
import os

import pytest

from codex_cf import credentials
from codex_cf.commands import setup_cmd
from codex_cf.commands.setup_cmd import SetupOptions
from codex_cf.constants import ExitStatus, Secret
from codex_cf.errors import FileConflict, TokenInactive, TokenInvalid, UsageError
from helpers import profiles
from helpers.fake_cloudflare_api import FakeCloudflareApi
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, assert_same_secret, fake_token

ACCOUNT = profiles.ACCOUNT
OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210"


def setup_with(monkeypatch: pytest.MonkeyPatch, token: str, **options: object) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    return setup_cmd.execute(
        SetupOptions(token_stdin=True, **options),  # type: ignore[arg-type]
        interactive=False,
    )


def test_an_active_token_and_gateway_are_confirmed(
    home, cloudflare_api, monkeypatch, capsys
) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    cloudflare_api.gateways[(ACCOUNT, "team")] = {}
    assert setup_with(monkeypatch, token, account_id=ACCOUNT, gateway="team") == 0
    err = capsys.readouterr().err
    assert "token is active" in err
    assert "Cloudflare has the gateway 'team'" in err
    assert "Next:" in err
    assert "codex-cf doctor" in err
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)
    assert any("/tokens/verify" in path for path in cloudflare_api.paths())


@pytest.mark.parametrize(
    ("state", "error", "status"),
    [
        (None, TokenInvalid, ExitStatus.TOKEN_INVALID),
        ("disabled", TokenInactive, ExitStatus.TOKEN_INACTIVE),
        ("expired", TokenInactive, ExitStatus.TOKEN_INACTIVE),
    ],
)
def test_a_token_cloudflare_refuses_writes_and_stores_nothing(
    home, cloudflare_api, monkeypatch, state, error, status
) -> None:
    token = fake_token()
    if state:
        cloudflare_api.user_tokens[token] = state
    with pytest.raises(error, match="nothing was written") as raised:
        setup_with(monkeypatch, token, account_id=ACCOUNT)
    assert raised.value.exit_status == status  # the statuses `token verify` uses
    assert "setup" in (raised.value.fix or "")
    assert "network" not in (raised.value.fix or "")
    assert not home.profile().exists()
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None


def test_an_account_token_is_verified_at_its_account(
    home, cloudflare_api, monkeypatch, capsys
) -> None:
    token = fake_token()
    cloudflare_api.account_tokens[ACCOUNT] = {token: "active"}
    assert setup_with(monkeypatch, token, account_id=ACCOUNT) == 0
    assert f"account-owned token of account {ACCOUNT}" in capsys.readouterr().err
    # One typo in the account ID, and the same account token is refused.
    with pytest.raises(TokenInvalid):
        setup_with(monkeypatch, token, account_id=OTHER_ACCOUNT)
    assert ACCOUNT in home.profile().read_text()


def test_a_named_gateway_that_does_not_exist_is_a_typo(home, cloudflare_api, monkeypatch) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    cloudflare_api.gateways[(ACCOUNT, "team")] = {}
    with pytest.raises(UsageError, match="no gateway 'taem'") as raised:
        setup_with(monkeypatch, token, account_id=ACCOUNT, gateway="taem")
    assert "--account-id" in (raised.value.fix or "")
    assert "--gateway" in (raised.value.fix or "")
    assert not home.profile().exists()
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None


def test_a_missing_default_gateway_is_only_a_warning(
    home, cloudflare_api, monkeypatch, capsys
) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    assert setup_with(monkeypatch, token, account_id=ACCOUNT) == 0
    err = capsys.readouterr().err
    assert "! gateway settings:" in err
    assert "default gateway" in err
    assert home.profile().exists()


def test_an_authenticated_gateway_is_followed_when_nobody_chose(
    home, cloudflare_api, monkeypatch, capsys
) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    cloudflare_api.gateways[(ACCOUNT, "default")] = {"authentication": True}
    assert setup_with(monkeypatch, token, account_id=ACCOUNT) == 0
    assert "Authenticated Gateway" in capsys.readouterr().err
    assert "cf-aig-authorization" in home.profile().read_text()


@pytest.mark.parametrize(
    ("settings", "options", "fix"),
    [
        ({"authentication": True}, {"authenticated_gateway": False}, "--authenticated-gateway"),
        ({"byok_only": True}, {}, "--billing byok"),
    ],
)
def test_a_gateway_the_layout_does_not_fit_is_refused(
    home, cloudflare_api, monkeypatch, settings, options, fix
) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    cloudflare_api.gateways[(ACCOUNT, "default")] = settings
    with pytest.raises(UsageError, match="nothing was written") as raised:
        setup_with(monkeypatch, token, account_id=ACCOUNT, **options)
    assert fix in (raised.value.fix or "")
    assert not home.profile().exists()


@pytest.mark.parametrize("fault", ["refused", "outage", "slow"])
def test_no_answer_from_cloudflare_is_a_warning(home, monkeypatch, capsys, fault) -> None:
    token = fake_token()
    with FakeCloudflareApi(outage=fault == "outage", delay=3 if fault == "slow" else 0) as fake:
        url = fake.url
        monkeypatch.setenv("CODEX_CF_API_BASE", url)
        monkeypatch.setattr("codex_cf.cloudflare_api.DEFAULT_TIMEOUT", 0.5)
        if fault == "refused":
            fake.__exit__(None, None, None)
        assert setup_with(monkeypatch, token, account_id=ACCOUNT) == 0
    err = capsys.readouterr().err
    assert "! token verify:" in err
    assert "codex-cf doctor" in err
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_offline_asks_nobody(home, cloudflare_api, monkeypatch, capsys) -> None:
    token = fake_token()  # unknown to the fake: it would be refused
    assert setup_with(monkeypatch, token, account_id=ACCOUNT, offline=True) == 0
    assert cloudflare_api.paths() == []
    assert "--offline" in capsys.readouterr().err


def test_a_pasted_bearer_header_and_dashboard_address(
    home, cloudflare_api, monkeypatch, capsys
) -> None:
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    address = f"https://dash.cloudflare.com/{ACCOUNT.upper()}/ai/ai-gateway"
    assert setup_with(monkeypatch, "Bearer " + token, account_id=address) == 0
    assert "'Bearer ' prefix" in capsys.readouterr().err
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)
    assert f"/v1/{ACCOUNT}/default/openai" in home.profile().read_text()


def test_a_failed_profile_write_puts_the_previous_token_back(home, monkeypatch) -> None:
    old, new = fake_token(), fake_token()
    profiles.write(home.profile())
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, old)
    monkeypatch.setattr("sys.stdin", io.StringIO(new + "\n"))
    options = SetupOptions(gateway="other", token_stdin=True, offline=True)
    plan = setup_cmd.build_plan(options, "cloudflare-aig", interactive=False)
    setup_cmd._collect_secrets(plan, options, interactive=False)
    home.profile().write_text(profiles.CURRENT + "# Codex wrote here meanwhile\n")
    with pytest.raises(FileConflict):
        setup_cmd.commit(plan)
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), old)
    assert "/other/" not in home.profile().read_text()


def test_an_unreachable_keyring_leaves_the_profile_as_it_was(home, cloudflare_api) -> None:
    """The issue's case: new account and gateway, token on stdin, no keyring."""
    profiles.write(home.profile())
    before = home.profile().read_bytes()
    token = fake_token()
    cloudflare_api.user_tokens[token] = "active"
    cloudflare_api.gateways[(OTHER_ACCOUNT, "other")] = {}
    env = dict(os.environ)
    env.pop("PYTHON_KEYRING_BACKEND")  # the real chain, and D-Bus points nowhere
    done = run_codex_cf(
        "setup",
        "--account-id",
        OTHER_ACCOUNT,
        "--gateway",
        "other",
        "--token-stdin",
        stdin_text=token + "\n",
        env=env,
    )
    assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE, done.stderr
    assert "Wrote" not in done.stderr
    assert "fix:" in done.stderr
    assert home.profile().read_bytes() == before
    assert_absent(token, done.stdout, done.stderr)


def test_a_keyring_that_does_not_answer_says_so_and_changes_nothing(home) -> None:
    profiles.write(home.profile())
    before = home.profile().read_bytes()
    token = fake_token()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "helpers.keyrings.HangingKeyring"}
    done = run_codex_cf(
        "setup", "--gateway", "other", "--offline", "--token-stdin", stdin_text=token, env=env
    )
    assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE, done.stderr
    assert "did not answer within 5 s" in done.stderr
    assert home.profile().read_bytes() == before
