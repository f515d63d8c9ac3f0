"""`codex-cf doctor` for a profile behind Cloudflare Access: cloudflared, the token's expiry,
the custom domain answering through Access, the service token's items."""

from __future__ import annotations

import json
import os

import pytest

from codex_cf import credentials
from codex_cf.commands import doctor, setup_cmd
from codex_cf.commands.doctor import DoctorOptions
from codex_cf.commands.setup_cmd import SetupOptions
from codex_cf.constants import Secret
from codex_cf.fake_gateway import FakeGateway, RecordedRequest
from helpers import profiles
from helpers.fake_cloudflared import FakeCloudflared
from helpers.tokens import assert_absent, fake_token


def checks_of(capsys, **options: object) -> dict[str, dict[str, object]]:
    capsys.readouterr()  # what setup printed
    doctor.run(DoctorOptions(as_json=True, **options))  # type: ignore[arg-type]
    return {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}


@pytest.fixture
def cloudflared(tmp_path, monkeypatch) -> FakeCloudflared:
    fake = FakeCloudflared(tmp_path / "cf")
    monkeypatch.setenv("PATH", f"{fake.bin}{os.pathsep}{os.environ['PATH']}")
    return fake


@pytest.fixture
def behind_access(home, stand_in, cloudflared):
    def access(request: RecordedRequest) -> bool | None:
        sent = request.header("cf-access-token")
        return None if sent is None else cloudflared.accepts(sent)

    with FakeGateway(profiles.ACCOUNT, "x", access=access) as gateway:
        options = SetupOptions(base_url=gateway.base_url, access="cloudflared", offline=True)
        assert setup_cmd.execute(options, interactive=False) == 0
        yield gateway


def test_a_current_token_and_access_in_front_pass(behind_access, cloudflared, capsys) -> None:
    token = cloudflared.log_in(lifetime=5 * 3600)
    checks = checks_of(capsys)
    assert checks["access.cloudflared"]["status"] == "ok"
    assert checks["access.token"]["status"] == "ok"
    assert "expires in 5.0 h" in str(checks["access.token"]["message"])
    assert checks["access.gate"]["status"] == "ok"
    assert "HTTP 302" in str(checks["access.gate"]["message"])
    # The probe passed Access with the token, and reached the gateway behind it.
    assert checks["gateway.reachable"]["status"] == "ok"
    models = [r for r in behind_access.requests if r.path.endswith("/models")]
    assert [r.header("cf-access-token") is not None for r in models] == [False, True]
    for check_id in ("token.verify", "gateway.settings"):
        assert checks[check_id]["status"] == "skip"
        assert "not applicable" in str(checks[check_id]["message"])
    assert checks["keyring.backend"]["status"] == "skip"
    assert {c["status"] for c in checks.values()} <= {"ok", "skip", "warn"}
    assert_absent(token, json.dumps(checks), where="doctor's output")


def test_less_than_an_hour_left_warns(behind_access, cloudflared, capsys) -> None:
    cloudflared.log_in(lifetime=20 * 60)
    check = checks_of(capsys, offline=True)["access.token"]
    assert check["status"] == "warn"
    assert "expires in 19 min" in str(check["message"]) or "expires in 20 min" in str(
        check["message"]
    )
    assert str(check["fix"]).startswith("cloudflared access login http://127.0.0.1:")


def test_no_token_fails_with_the_login(behind_access, cloudflared, capsys) -> None:
    cloudflared.expire()
    check = checks_of(capsys, offline=True)["access.token"]
    assert check["status"] == "fail"
    assert str(check["fix"]) == f"cloudflared access login {behind_access.base_url[:-7]}"


def test_without_cloudflared_doctor_says_how_to_install(
    behind_access, capsys, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    check = checks_of(capsys, offline=True)["access.cloudflared"]
    assert check["status"] == "fail"
    assert "install cloudflared" in str(check["fix"])


def test_a_domain_that_answers_without_access_warns(home, stand_in, capsys) -> None:
    with FakeGateway(profiles.ACCOUNT, "x") as open_gateway:
        options = SetupOptions(
            base_url=open_gateway.base_url, access="service-token", no_token=True, offline=True
        )
        assert setup_cmd.execute(options, interactive=False) == 0
        checks = checks_of(capsys)
    assert checks["access.gate"]["status"] == "warn"
    assert "does not seem to protect it" in str(checks["access.gate"]["message"])
    assert checks["token.access-id"]["status"] == "fail"
    assert checks["token.access-id"]["fix"] == "codex-cf token set --which access-id"
    assert "access.token" not in checks  # a service token has no expiry to read


def test_service_token_items_present(home, stand_in, capsys) -> None:
    options = SetupOptions(
        custom_domain="ai.example.com", access="service-token", no_token=True, offline=True
    )
    assert setup_cmd.execute(options, interactive=False) == 0
    credentials.store("cloudflare-aig", Secret.ACCESS_ID, fake_token("id"))
    credentials.store("cloudflare-aig", Secret.ACCESS_SECRET, fake_token("secret"))
    checks = checks_of(capsys, offline=True)
    assert checks["token.access-id"]["status"] == "ok"
    assert checks["token.access-secret"]["status"] == "ok"
    assert "token.cloudflare" not in checks
