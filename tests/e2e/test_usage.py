"""`codex-cf usage` and `doctor --live` as users run them: a process, the token in the real
Secret Service, the Cloudflare API a loopback fake answering as the documented endpoints."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from codex_cf import metadata
from helpers import profiles
from helpers.fake_cloudflare_api import FakeCloudflareApi, log
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent

ACCOUNT, GATEWAY = profiles.ACCOUNT, "default"


def at(hours_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# 130 requests over three pages (50 a page): two projects, three launches, some untagged.
LOGS = [
    *[log(at(1 + i / 100), metadata={"project": "alpha", "launch": "A1"}) for i in range(60)],
    *[log(at(2 + i / 100), metadata={"project": "beta", "launch": "B1"}) for i in range(40)],
    *[log(at(3 + i / 100), metadata={"project": "beta", "launch": "B2"}) for i in range(20)],
    *[log(at(4 + i / 100), success=False, model="gpt-5") for i in range(10)],
    log(at(72), metadata={"project": "old", "launch": "O1"}),  # before the default period
]


@pytest.fixture
def api(home, token):
    """The fake API, a profile pointing at its gateway, the environment to run codex-cf in."""
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs={(ACCOUNT, GATEWAY): LOGS},
    ) as fake:
        profiles.write(home.profile(), profiles.with_base_url(fake.gateway_url(ACCOUNT, GATEWAY)))
        env = {**os.environ, "CODEX_CF_API_BASE": fake.url}
        yield fake, env


def test_usage_by_project_reads_every_page_of_the_period(api, token) -> None:
    fake, env = api
    done = run_codex_cf("usage", "--by", "project", env=env)
    assert done.returncode == 0, done.stderr
    assert_absent(token, done.stdout, done.stderr)
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[2:]}
    assert rows["alpha"][0] == "60"
    assert rows["beta"][0] == "60"
    assert rows[metadata.UNTAGGED][0] == "10"
    assert rows[metadata.UNTAGGED][-1] == "10"  # every untagged one failed
    assert rows["total"][0] == "130"
    assert "old" not in rows  # 72 h ago is outside the default 24 h
    log_pages = [p for p in fake.paths() if p.split("?")[0].endswith("/logs")]
    assert len(log_pages) == 3


def test_usage_json_by_session_for_scripts(api, token) -> None:
    _, env = api
    done = run_codex_cf("usage", "--by", "session", "--since", "7d", "--json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    groups = {g["key"]: g["requests"] for g in document["groups"]}
    assert groups == {"A1": 60, "B1": 40, "B2": 20, metadata.UNTAGGED: 10, "O1": 1}
    assert document["source"] == "logs"
    assert document["total"]["errors"] == 10
    assert document["gateway"] == GATEWAY
    assert document["account"] == ACCOUNT


def test_an_empty_period_says_nothing_reached_the_gateway(api) -> None:
    _, env = api
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = run_codex_cf("usage", "--since", since, env=env)
    assert done.returncode == 0, done.stderr
    assert "no requests reached gateway 'default'" in done.stdout


def test_an_account_logging_elsewhere_gets_analytics_totals_and_where_to_look(api) -> None:
    fake, env = api
    fake.logs_elsewhere = {ACCOUNT}
    done = run_codex_cf("usage", "--by", "project", "--json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["source"] == "analytics"
    assert document["total"]["requests"] == 130
    notes = " ".join(document["notes"])
    assert "Workers Observability" in notes
    assert "--by project needs the request tags" in notes


def test_a_token_without_ai_gateway_read_exits_8_with_the_fix(api, token) -> None:
    fake, env = api
    fake.no_gateway_read = {token}
    done = run_codex_cf("usage", env=env)
    assert done.returncode == 8
    assert "AI Gateway - Read" in done.stderr
    assert "fix: " in done.stderr
    assert "token set" in done.stderr
    assert "Traceback" not in done.stderr
    assert_absent(token, done.stdout, done.stderr)


def test_an_unreachable_api_exits_10(api) -> None:
    fake, env = api
    fake.outage = True
    done = run_codex_cf("usage", env=env)
    assert done.returncode == 10
    assert "fix: check the network" in done.stderr


def test_a_bad_since_is_a_usage_error(api) -> None:
    _, env = api
    done = run_codex_cf("usage", "--since", "last tuesday", env=env)
    assert done.returncode == 2
    assert "--since" in done.stderr


def test_doctor_live_confirms_the_last_launch_and_says_when_there_is_none(api) -> None:
    _, env = api
    first = run_codex_cf("doctor", "--live", "--json", env=env)
    checks = {c["id"]: c for c in json.loads(first.stdout)["checks"]}
    assert checks["gateway.traffic"]["status"] == "skip"
    assert "no tagged launch yet" in checks["gateway.traffic"]["message"]
    metadata.remember_launch("cloudflare-aig", metadata.Launch("A1", at(2)))
    second = run_codex_cf("doctor", "--live", "--json", env=env)
    checks = {c["id"]: c for c in json.loads(second.stdout)["checks"]}
    assert checks["gateway.traffic"]["status"] == "ok"
    assert "60 request(s)" in checks["gateway.traffic"]["message"]
    without = run_codex_cf("doctor", "--json", env=env)
    assert "gateway.traffic" not in {c["id"] for c in json.loads(without.stdout)["checks"]}


def test_a_logs_api_refusal_falls_back_to_analytics_or_names_the_permission(api, token) -> None:
    fake, env = api
    fake.logs_elsewhere = {ACCOUNT}
    fake.logs_refusal = (400, 7003, "Logs are not available for this account")
    done = run_codex_cf("usage", "--by", "model", "--json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["source"] == "analytics"
    assert {g["key"]: g["requests"] for g in document["groups"]} == {"gpt-5.5": 120, "gpt-5": 10}
    fake.no_analytics_read = {token}
    refused = run_codex_cf("usage", env=env)
    assert refused.returncode == 8
    assert "Account Analytics - Read" in refused.stderr
    assert_absent(token, refused.stdout, refused.stderr)


def test_a_missing_default_gateway_is_no_usage_a_missing_named_one_a_typo(api, home) -> None:
    fake, env = api
    fake.gateways = {}
    done = run_codex_cf("usage", env=env)
    assert done.returncode == 0, done.stderr
    assert "gateway 'default' does not exist yet" in done.stdout
    profiles.write(home.profile(), profiles.with_base_url(fake.gateway_url(ACCOUNT, "typo")))
    done = run_codex_cf("usage", env=env)
    assert done.returncode == 2
    assert "no gateway 'typo'" in done.stderr
    assert "--gateway SLUG" in done.stderr
