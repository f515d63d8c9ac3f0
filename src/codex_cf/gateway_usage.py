"""What a gateway did over a period: Cloudflare's logs or analytics, added up and grouped.

The Logs API gives one record per request, with the cf-aig-metadata tags, so
it can group by project and launch (session). GraphQL analytics serves every
account but has no tags, so it can group by day and model only; it is the
fallback where the Logs API does not serve the gateway (accounts that log
through Workers Observability). Pure functions apart from `fetch_logs` and
`check_live`, which read through cloudflare_api.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from codex_cf import cloudflare_api, metadata
from codex_cf.checks import Check, Status
from codex_cf.errors import UsageError

PER_PAGE = 50
# The most logs one `usage` reads (200 pages): past this it says the figures are partial.
MAX_LOGS = 10_000
# doctor --live reads at most this many of the newest logs since the launch.
LIVE_PAGES = 2
WORKERS_OBSERVABILITY = "Workers Observability in the Cloudflare dashboard"

_SINCE = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Group(enum.StrEnum):
    DAY = "day"
    MODEL = "model"
    PROJECT = "project"
    SESSION = "session"


# The metadata key each tag grouping reads.
TAG_KEYS = {Group.PROJECT: metadata.PROJECT, Group.SESSION: metadata.LAUNCH}


class Source(enum.StrEnum):
    LOGS = "logs"
    ANALYTICS = "analytics"
    NONE = "none"


@dataclass
class Totals:
    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    errors: int = 0

    def add(self, other: Totals) -> None:
        self.requests += other.requests
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.cost += other.cost
        self.errors += other.errors


@dataclass
class Report:
    by: Group
    source: Source
    start: datetime
    end: datetime
    groups: dict[str, Totals] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    partial: bool = False

    @property
    def total(self) -> Totals:
        total = Totals()
        for totals in self.groups.values():
            total.add(totals)
        return total


def parse_since(text: str, now: datetime) -> datetime:
    """`24h`, `90m`, `7d`, `2w`, or an ISO 8601 date or time (UTC unless it says)."""
    value = text.strip()
    match = _SINCE.fullmatch(value.lower())
    if match:
        start = now - timedelta(**{_UNITS[match[2]]: int(match[1])})
    else:
        try:
            start = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--since {text!r} is neither a duration nor a date",
                "use --since 24h, 7d, 2w, or a date such as 2026-11-30",
            ) from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    if start >= now:
        raise UsageError(
            f"--since {text!r} is not in the past", "use --since 24h or an earlier date"
        )
    return start


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tags(log: Mapping[str, Any]) -> dict[str, Any]:
    """A log's cf-aig-metadata: Cloudflare sends it as a JSON string (or not at all)."""
    raw = log.get("metadata")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value)


def _log_totals(log: Mapping[str, Any]) -> Totals:
    status = log.get("status_code")
    failed = log.get("success") is False or (isinstance(status, int) and status >= 400)
    return Totals(
        1,
        int(_number(log.get("tokens_in"))),
        int(_number(log.get("tokens_out"))),
        _number(log.get("cost")),
        int(failed),
    )


def _log_key(log: Mapping[str, Any], by: Group) -> str:
    if by is Group.DAY:
        created = log.get("created_at")
        return created[:10] if isinstance(created, str) and len(created) >= 10 else "(unknown)"
    if by is Group.MODEL:
        model = log.get("model")
        return model if isinstance(model, str) and model else "(unknown)"
    value = tags(log).get(TAG_KEYS[by])
    return str(value) if value not in (None, "") else metadata.UNTAGGED


def group_logs(
    logs: Iterable[Mapping[str, Any]], by: Group, start: datetime, end: datetime
) -> Report:
    report = Report(by, Source.LOGS, start, end)
    for log in logs:
        report.groups.setdefault(_log_key(log, by), Totals()).add(_log_totals(log))
    return report


def group_analytics(
    rows: Iterable[Mapping[str, Any]], by: Group, start: datetime, end: datetime
) -> Report:
    """GraphQL rows; without tags, project and session groupings become one total."""
    report = Report(by, Source.ANALYTICS, start, end)
    for row in rows:
        sums = _mapping(row.get("sum"))
        dims = _mapping(row.get("dimensions"))
        totals = Totals(
            int(_number(row.get("count"))),
            int(_number(sums.get("cachedTokensIn")) + _number(sums.get("uncachedTokensIn"))),
            int(_number(sums.get("cachedTokensOut")) + _number(sums.get("uncachedTokensOut"))),
            _number(sums.get("cost")),
            int(_number(sums.get("erroredRequests"))),
        )
        if by is Group.DAY:
            hour = dims.get("datetimeHour")
            key = hour[:10] if isinstance(hour, str) and len(hour) >= 10 else "(unknown)"
        elif by is Group.MODEL:
            model = dims.get("model")
            key = model if isinstance(model, str) and model else "(unknown)"
        else:
            key = "(all)"
        report.groups.setdefault(key, Totals()).add(totals)
    return report


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def render_table(report: Report) -> str:
    """Aligned columns, the busiest group first (days in order), a total line last."""
    header = [report.by.value, "requests", "tokens in", "tokens out", "cost (USD)", "errors"]
    keys = list(report.groups)
    if report.by is Group.DAY:
        keys.sort()
    else:
        keys.sort(key=lambda k: (-report.groups[k].requests, k))
    rows = [[k, *_cells(report.groups[k])] for k in keys]
    if len(rows) != 1:
        rows.append(["total", *_cells(report.total)])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _cells(totals: Totals) -> list[str]:
    return [
        f"{totals.requests:,}",
        f"{totals.tokens_in:,}",
        f"{totals.tokens_out:,}",
        f"{totals.cost:.4f}",
        f"{totals.errors:,}",
    ]


def to_json(report: Report, **context: Any) -> dict[str, Any]:
    """The report for scripts: numbers unformatted, groups in the table's order."""
    return {
        **context,
        "since": iso(report.start),
        "until": iso(report.end),
        "by": report.by.value,
        "source": report.source.value,
        "partial": report.partial,
        "groups": [{"key": key, **asdict(totals)} for key, totals in report.groups.items()],
        "total": asdict(report.total),
        "notes": report.notes,
    }


@dataclass(frozen=True)
class Fetched:
    status: cloudflare_api.ReadStatus
    detail: str
    logs: list[Mapping[str, Any]]
    partial: bool = False


Reader = Callable[[int], cloudflare_api.LogsPage]


def fetch_logs(read_page: Reader, limit: int = MAX_LOGS) -> Fetched:
    """Every page `read_page(n)` gives, up to `limit` logs; the first refusal stops it."""
    logs: list[Mapping[str, Any]] = []
    page = 1
    while True:
        answer = read_page(page)
        if answer.status is not cloudflare_api.ReadStatus.OK:
            if page == 1:
                return Fetched(answer.status, answer.detail, [])
            # A later page failing leaves what came so far, marked partial.
            detail = f"page {page} failed: {answer.detail}"
            return Fetched(cloudflare_api.ReadStatus.OK, detail, logs, partial=True)
        logs.extend(answer.logs)
        total = answer.total_count
        done = not answer.logs or len(answer.logs) < PER_PAGE
        if total is not None:
            done = done or len(logs) >= total
        if done:
            return Fetched(answer.status, answer.detail, logs)
        if len(logs) >= limit:
            detail = f"codex-cf reads at most {limit:,} requests; a shorter --since reads them all"
            return Fetched(answer.status, detail, logs[:limit], partial=True)
        page += 1


def check_live(
    profile: str,
    token: str | None,
    coordinates: tuple[str, str] | None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Check:
    """Did requests tagged with the profile's last launch id reach the gateway?

    Reads at most LIVE_PAGES pages of logs since the launch started: free API calls.
    """
    from codex_cf import profile_names

    check_id = "gateway.traffic"
    launch = metadata.last_launch(profile, environ)
    if launch is None:
        return Check(
            check_id,
            Status.SKIP,
            "traffic: no tagged launch yet; launches record their id once they tag requests",
        )
    if coordinates is None:
        return Check(check_id, Status.SKIP, "traffic: skipped for a custom endpoint")
    if not token:
        return Check(check_id, Status.SKIP, "traffic: skipped without a Cloudflare token")
    account, gateway = coordinates
    now = datetime.now(UTC)
    found = fetch_logs(
        lambda page: cloudflare_api.gateway_logs(
            token, account, gateway, start=launch.started, end=iso(now), page=page
        ),
        limit=LIVE_PAGES * PER_PAGE,
    )
    status = cloudflare_api.ReadStatus
    again = profile_names.command_for(profile, "doctor --live")
    if found.status is status.FORBIDDEN or found.status is status.INVALID:
        return Check(
            check_id,
            Status.SKIP,
            f"traffic: {found.detail}",
            "give the token AI Gateway - Read, then " + again,
        )
    if found.status is status.UNREACHABLE:
        return Check(
            check_id, Status.WARN, f"traffic: {found.detail}", f"check the network, then {again}"
        )
    if found.status is not status.OK:
        return Check(
            check_id,
            Status.WARN,
            f"traffic: cannot confirm: the Logs API does not serve gateway {gateway!r} "
            f"({found.detail})",
            f"look for metadata {metadata.LAUNCH}={launch.launch_id} in {WORKERS_OBSERVABILITY}",
        )
    tagged = [log for log in found.logs if tags(log).get(metadata.LAUNCH) == launch.launch_id]
    if tagged:
        return Check(
            check_id,
            Status.OK,
            f"traffic: {len(tagged)} request(s) of the last launch ({metadata.LAUNCH}="
            f"{launch.launch_id}, started {launch.started}) reached gateway {gateway!r}",
        )
    return Check(
        check_id,
        Status.WARN,
        f"traffic: no request of the last launch ({metadata.LAUNCH}={launch.launch_id}, "
        f"started {launch.started}) is in gateway {gateway!r}'s logs yet",
        f"logs can take a minute to appear: {again} again; if still none, check that the "
        f"gateway collects logs, or look in {WORKERS_OBSERVABILITY}",
    )
