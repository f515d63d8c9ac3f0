"""Usage figures: Cloudflare's logs and analytics read, added up, grouped and shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from codex_cf import cloudflare_api, gateway_usage, metadata
from codex_cf.checks import Status
from codex_cf.errors import UsageError
from codex_cf.gateway_usage import Group, Source
from helpers import profiles
from helpers.fake_cloudflare_api import FakeCloudflareApi, log
from helpers.tokens import fake_token

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ACCOUNT, GATEWAY = profiles.ACCOUNT, "default"
READ = cloudflare_api.ReadStatus


def at(hours_ago: float) -> str:
    return gateway_usage.iso(datetime.now(UTC) - timedelta(hours=hours_ago))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("90m", NOW - timedelta(minutes=90)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("2026-12-01T08:30:00Z", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01T08:30:00+02:00", datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_since_takes_durations_and_dates(text: str, expected: datetime) -> None:
    assert gateway_usage.parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "24x", "", "2027-01-01"])
def test_since_refuses_what_is_no_past_moment_with_a_fix(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        gateway_usage.parse_since(text, NOW)
    assert raised.value.fix
    assert "--since" in raised.value.fix


LOGS = [
    log("2026-12-01T10:00:00Z", metadata={"project": "alpha", "launch": "L1"}, cost=0.5),
    log("2026-12-01T11:00:00Z", metadata={"project": "alpha", "launch": "L1"}, success=False),
    log("2026-12-02T09:00:00Z", metadata={"project": "beta", "launch": "L2"}, model="gpt-5"),
    log("2026-12-02T09:30:00Z", tokens_in=7, tokens_out=3),
]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (Group.PROJECT, {"alpha": 2, "beta": 1, metadata.UNTAGGED: 1}),
        (Group.SESSION, {"L1": 2, "L2": 1, metadata.UNTAGGED: 1}),
        (Group.MODEL, {"gpt-5.5": 3, "gpt-5": 1}),
        (Group.DAY, {"2026-12-01": 2, "2026-12-02": 2}),
    ],
)
def test_logs_group_by_tags_model_and_day(by: Group, expected: dict[str, int]) -> None:
    report = gateway_usage.group_logs(LOGS, by, NOW - timedelta(days=2), NOW)
    assert {key: totals.requests for key, totals in report.groups.items()} == expected
    assert report.total.requests == 4


def test_totals_add_tokens_cost_and_errors() -> None:
    report = gateway_usage.group_logs(LOGS, Group.PROJECT, NOW - timedelta(days=2), NOW)
    alpha = report.groups["alpha"]
    assert (alpha.tokens_in, alpha.tokens_out, alpha.errors) == (200, 20, 1)
    assert alpha.cost == pytest.approx(0.501)
    assert report.total.tokens_in == 307
    assert report.total.errors == 1


def test_metadata_the_tagging_keys_read_as_the_api_sends_them() -> None:
    """Cloudflare lists metadata as a JSON string; a broken one counts as untagged."""
    broken = {**log("2026-12-01T10:00:00Z"), "metadata": "{not json"}
    report = gateway_usage.group_logs([broken], Group.SESSION, NOW, NOW)
    assert list(report.groups) == [metadata.UNTAGGED]


def test_table_is_aligned_busiest_first_with_a_total() -> None:
    report = gateway_usage.group_logs(LOGS, Group.PROJECT, NOW - timedelta(days=2), NOW)
    lines = gateway_usage.render_table(report).splitlines()
    assert lines[0].split()[:2] == ["project", "requests"]
    assert [line.split()[0] for line in lines[1:]] == ["alpha", metadata.UNTAGGED, "beta", "total"]
    # Numbers are right-aligned: every row ends its requests column at the same place.
    ends = {re.search(r"\S+\s+(\S+)", line).end(1) for line in lines}  # type: ignore[union-attr]
    assert len(ends) == 1
    assert lines[-1].split()[1:] == ["4", "307", "33", "0.5030", "1"]


def test_json_keeps_numbers_raw() -> None:
    report = gateway_usage.group_logs(LOGS, Group.MODEL, NOW - timedelta(days=2), NOW)
    document = gateway_usage.to_json(report, profile="p")
    assert document["total"] == {
        "requests": 4,
        "tokens_in": 307,
        "tokens_out": 33,
        "cost": pytest.approx(0.503),
        "errors": 1,
    }
    assert document["source"] == "logs"
    assert document["since"] == "2026-11-30T12:00:00Z"
    assert {g["key"] for g in document["groups"]} == {"gpt-5.5", "gpt-5"}


def test_analytics_rows_add_cached_and_uncached_tokens() -> None:
    rows = [
        {
            "count": 3,
            "sum": {
                "cost": 0.25,
                "erroredRequests": 1,
                "cachedTokensIn": 10,
                "uncachedTokensIn": 90,
                "cachedTokensOut": 0,
                "uncachedTokensOut": 12,
            },
            "dimensions": {"model": "gpt-5.5", "datetimeHour": "2026-12-01T10:00:00Z"},
        },
        {"count": 2, "sum": {}, "dimensions": {"model": "gpt-5", "datetimeHour": "2026-12-02T01"}},
    ]
    by_day = gateway_usage.group_analytics(rows, Group.DAY, NOW, NOW)
    assert by_day.source is Source.ANALYTICS
    assert by_day.groups["2026-12-01"].tokens_in == 100
    assert by_day.groups["2026-12-01"].errors == 1
    assert set(by_day.groups) == {"2026-12-01", "2026-12-02"}
    by_project = gateway_usage.group_analytics(rows, Group.PROJECT, NOW, NOW)
    assert {k: v.requests for k, v in by_project.groups.items()} == {"(all)": 5}


def pages_of(api: FakeCloudflareApi, token: str, start: str, end: str):
    def read(page: int) -> cloudflare_api.LogsPage:
        return cloudflare_api.gateway_logs(
            token, ACCOUNT, GATEWAY, start=start, end=end, page=page, api_base=api.url
        )

    return read


def test_every_page_is_read_and_only_the_period(monkeypatch) -> None:
    token = fake_token()
    inside = [log(at(1 + i / 100), metadata={"launch": f"L{i}"}) for i in range(120)]
    outside = [log(at(30))]
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs={(ACCOUNT, GATEWAY): inside + outside},
    ) as api:
        fetched = gateway_usage.fetch_logs(pages_of(api, token, at(24), at(0)))
        paths = api.paths()
    assert fetched.status is READ.OK
    assert len(fetched.logs) == 120
    assert not fetched.partial
    assert [re.search(r"[?&]page=(\d+)", p)[1] for p in paths] == ["1", "2", "3"]  # type: ignore[index]
    assert all("per_page=50" in p and "order_by=created_at" in p for p in paths)


def test_a_cap_on_logs_marks_the_figures_partial() -> None:
    token = fake_token()
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs={(ACCOUNT, GATEWAY): [log(at(1 + i / 100)) for i in range(120)]},
    ) as api:
        fetched = gateway_usage.fetch_logs(pages_of(api, token, at(24), at(0)), limit=100)
    assert fetched.partial
    assert len(fetched.logs) == 100
    assert "at most 100 requests" in fetched.detail


def test_an_empty_period_is_an_empty_answer() -> None:
    token = fake_token()
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs={(ACCOUNT, GATEWAY): [log(at(48))]},
    ) as api:
        fetched = gateway_usage.fetch_logs(pages_of(api, token, at(24), at(0)))
    assert fetched.status is READ.OK
    assert fetched.logs == []


@pytest.mark.parametrize(
    ("api", "status", "words"),
    [
        ({"no_gateway_read": "self"}, READ.FORBIDDEN, "AI Gateway - Read"),
        ({"user_tokens": {}}, READ.INVALID, "rejected the token"),
        ({"gateways": {}}, READ.MISSING, "found no logs of gateway"),
        ({"outage": True}, READ.UNREACHABLE, "server error"),
    ],
)
def test_logs_refusals_are_told_apart(api: dict, status: READ, words: str) -> None:
    token = fake_token()
    settings: dict = {
        "user_tokens": {token: "active"},
        "gateways": {(ACCOUNT, GATEWAY): {}},
        **api,
    }
    if settings.get("no_gateway_read") == "self":
        settings["no_gateway_read"] = [token]
    with FakeCloudflareApi(**settings) as fake:
        answer = cloudflare_api.gateway_logs(
            token, ACCOUNT, GATEWAY, start=at(24), end=at(0), api_base=fake.url
        )
    assert answer.status is status
    assert words in answer.detail
    assert token not in answer.detail


def test_analytics_counts_what_logs_elsewhere_and_says_when_not_allowed() -> None:
    token, denied = fake_token(), fake_token("denied")
    with FakeCloudflareApi(
        user_tokens={token: "active", denied: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs={(ACCOUNT, GATEWAY): [log(at(2)), log(at(3), success=False)]},
        logs_elsewhere=[ACCOUNT],
        no_analytics_read=[denied],
    ) as api:
        logs = cloudflare_api.gateway_logs(
            token, ACCOUNT, GATEWAY, start=at(24), end=at(0), api_base=api.url
        )
        rows = cloudflare_api.gateway_analytics(
            token, ACCOUNT, GATEWAY, start=at(24), end=at(0), api_base=api.url
        )
        refused = cloudflare_api.gateway_analytics(
            denied, ACCOUNT, GATEWAY, start=at(24), end=at(0), api_base=api.url
        )
    assert logs.status is READ.OK
    assert logs.logs == ()
    assert rows.status is READ.OK
    report = gateway_usage.group_analytics(rows.rows, Group.MODEL, NOW, NOW)
    assert report.total.requests == 2
    assert report.total.errors == 1
    assert refused.status is READ.FORBIDDEN
    assert "not authorized" in refused.detail


def test_live_check_without_a_launch_says_so(home) -> None:
    check = gateway_usage.check_live("cloudflare-aig", fake_token(), (ACCOUNT, GATEWAY))
    assert check.status is Status.SKIP
    assert "no tagged launch yet" in check.message


def test_live_check_finds_the_last_launchs_requests(home, monkeypatch) -> None:
    token = fake_token()
    metadata.remember_launch("cloudflare-aig", metadata.Launch("L-now", at(1)))
    metadata.remember_launch("other", metadata.Launch("L-other", at(1)))
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs={
            (ACCOUNT, GATEWAY): [
                log(at(0.5), metadata={"launch": "L-now"}),
                log(at(0.4), metadata={"launch": "L-now"}),
                log(at(0.3), metadata={"launch": "L-before"}),
            ]
        },
    ) as api:
        monkeypatch.setenv("CODEX_CF_API_BASE", api.url)
        found = gateway_usage.check_live("cloudflare-aig", token, (ACCOUNT, GATEWAY))
        missing = gateway_usage.check_live("other", token, (ACCOUNT, GATEWAY))
    assert found.status is Status.OK
    assert "2 request(s)" in found.message
    assert "L-now" in found.message
    assert missing.status is Status.WARN
    assert "L-other" in missing.message
    assert missing.fix
    assert "doctor --live" in missing.fix


def test_live_check_on_an_account_logging_elsewhere_names_where_to_look(home, monkeypatch) -> None:
    token = fake_token()
    metadata.remember_launch("cloudflare-aig", metadata.Launch("L1", at(1)))
    with FakeCloudflareApi(
        user_tokens={token: "active"},
        gateways={(ACCOUNT, GATEWAY): {}},
        logs_elsewhere=[ACCOUNT],
        logs_refusal=(400, 7003, "Logs are not available"),
    ) as api:
        monkeypatch.setenv("CODEX_CF_API_BASE", api.url)
        check = gateway_usage.check_live("cloudflare-aig", token, (ACCOUNT, GATEWAY))
    assert check.status is Status.WARN
    assert "Logs API does not serve" in check.message
    assert check.fix
    assert "Workers Observability" in check.fix
