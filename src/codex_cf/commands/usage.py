"""`codex-cf usage`: requests, tokens, cost and errors of the profile's gateway over a period.

Reads the gateway's logs (the Logs API, AI Gateway Read, free); where that
API does not serve the gateway, or has nothing while requests were made,
GraphQL analytics gives the totals, and the output says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from codex_cf import (
    cloudflare_api,
    credentials,
    gateway_url,
    profile_names,
    profile_rules,
    terminal,
)
from codex_cf.constants import DEFAULT_GATEWAY, ExitStatus, Secret
from codex_cf.errors import ApiUnreachable, ProfileNotCurrent, TokenInvalid, UsageError
from codex_cf.gateway_usage import (
    PER_PAGE,
    WORKERS_OBSERVABILITY,
    Group,
    Report,
    Source,
    fetch_logs,
    group_analytics,
    group_logs,
    iso,
    parse_since,
    render_table,
    to_json,
)

DEFAULT_SINCE = "24h"


@dataclass(frozen=True)
class UsageOptions:
    profile: str | None = None
    since: str = DEFAULT_SINCE
    by: str = Group.DAY.value
    as_json: bool = False


def _coordinates(profile: str) -> tuple[str, str]:
    report = profile_rules.check(profile)
    provider = profile_rules.provider_table(report.document)
    setup = profile_names.command_for(profile, "setup")
    if provider is None:
        raise ProfileNotCurrent(f"profile {profile!r} is not set up", setup)
    url = provider.get("base_url")
    coordinates = gateway_url.gateway_coordinates(url) if isinstance(url, str) else None
    if coordinates is None:
        raise UsageError(
            f"profile {profile!r} sends requests to {url!r}, which names no AI Gateway "
            "account and gateway to read usage from",
            f"{setup} --account-id ID --gateway SLUG",
        )
    return coordinates


def _refused(status: cloudflare_api.ReadStatus, detail: str, profile: str) -> None:
    """Raise the error a refusal means; return for the ones a fallback may answer."""
    read = cloudflare_api.ReadStatus
    again = profile_names.command_for(profile, "usage")
    if status is read.INVALID:
        fix = credentials.set_command(profile, Secret.CLOUDFLARE)
        raise TokenInvalid(detail, f"check the token, then {fix}")
    if status is read.FORBIDDEN:
        fix = credentials.set_command(profile, Secret.CLOUDFLARE)
        raise TokenInvalid(
            detail, f"create a token with AI Gateway - Read (and Run, for Codex), then {fix}"
        )
    if status is read.UNREACHABLE:
        raise ApiUnreachable(detail, f"check the network, then run {again} again")


def _analytics(
    token: str, coordinates: tuple[str, str], by: Group, start: datetime, end: datetime
) -> tuple[Report | None, cloudflare_api.AnalyticsRows]:
    account, gateway = coordinates
    answer = terminal.run_with_progress(
        "usage: waiting for Cloudflare's analytics",
        lambda: cloudflare_api.gateway_analytics(
            token, account, gateway, start=iso(start), end=iso(end)
        ),
    )
    if answer.status is not cloudflare_api.ReadStatus.OK:
        return None, answer
    return group_analytics(answer.rows, by, start, end), answer


def build(
    profile: str, token: str, coordinates: tuple[str, str], by: Group, start: datetime
) -> Report:
    """The report, from the logs where they serve, else from analytics, with notes saying so."""
    account, gateway = coordinates
    end = datetime.now(UTC)

    def read_page(page: int) -> cloudflare_api.LogsPage:
        return terminal.run_with_progress(
            f"usage: reading the logs of gateway {gateway!r} (page {page})",
            lambda: cloudflare_api.gateway_logs(
                token,
                account,
                gateway,
                start=iso(start),
                end=iso(end),
                page=page,
                per_page=PER_PAGE,
            ),
        )

    fetched = fetch_logs(read_page)
    _refused(fetched.status, fetched.detail, profile)
    read = cloudflare_api.ReadStatus
    if fetched.status is read.MISSING:
        found = cloudflare_api.gateway_settings(token, account, gateway)
        if found.status is cloudflare_api.GatewayStatus.MISSING and gateway == DEFAULT_GATEWAY:
            # Cloudflare creates the default gateway on its first request: nothing yet.
            empty = Report(by, Source.NONE, start, end)
            empty.notes.append(
                f"gateway {gateway!r} does not exist yet; "
                "Cloudflare creates it on the first request"
            )
            return empty
        if found.status is cloudflare_api.GatewayStatus.MISSING:
            setup = profile_names.command_for(profile, "setup")
            raise UsageError(
                f"Cloudflare has no gateway {gateway!r} in account {account}",
                f"create it in the dashboard, or {setup} --account-id ID --gateway SLUG",
            )
    if fetched.status is read.OK and fetched.logs:
        report = group_logs(fetched.logs, by, start, end)
        if fetched.partial:
            report.partial = True
            report.notes.append(
                f"partial: the newest {len(fetched.logs):,} requests only ({fetched.detail})"
            )
        return report
    # No logs: an empty period, or a gateway that logs elsewhere. Analytics tells which.
    analytics, answered = _analytics(token, coordinates, by, start, end)
    said = answered.detail
    logs_said = (
        "the Logs API has no requests in this period"
        if fetched.status is read.OK
        else f"the Logs API does not serve gateway {gateway!r} ({fetched.detail})"
    )
    if analytics is not None and analytics.total.requests:
        analytics.notes.append(
            f"{logs_said}, but analytics counts {analytics.total.requests:,}: this account "
            f"logs through Workers Observability (or the gateway collects no logs); "
            f"figures from GraphQL analytics; per-request logs: {WORKERS_OBSERVABILITY}"
        )
        if by in (Group.PROJECT, Group.SESSION):
            analytics.notes.append(
                f"--by {by.value} needs the request tags, which only the Logs API returns; "
                "shown: one total"
            )
        return analytics
    if analytics is not None:
        empty = Report(
            by, Source.LOGS if fetched.status is read.OK else Source.ANALYTICS, start, end
        )
        empty.notes.append(f"no requests reached gateway {gateway!r} in this period")
        return empty
    if fetched.status is read.OK:
        empty = Report(by, Source.LOGS, start, end)
        empty.notes.append(
            f"{logs_said}; accounts that log through Workers Observability show theirs in "
            f"{WORKERS_OBSERVABILITY} (analytics: {said})"
        )
        return empty
    again = profile_names.command_for(profile, "usage")
    if answered.status in (read.FORBIDDEN, read.INVALID):
        fix = credentials.set_command(profile, Secret.CLOUDFLARE)
        raise TokenInvalid(
            f"{logs_said}, and GraphQL analytics refused the token ({said})",
            f"give the token Account Analytics - Read too, then {fix}; "
            f"or see {WORKERS_OBSERVABILITY}",
        )
    raise ApiUnreachable(
        f"{logs_said}, and GraphQL analytics did not answer either ({said})",
        f"see {WORKERS_OBSERVABILITY}, or run {again} again later",
    )


def run(options: UsageOptions) -> int:
    profile = profile_names.resolve_name(options.profile)
    by = Group(options.by)
    start = parse_since(options.since, datetime.now(UTC))
    coordinates = _coordinates(profile)
    resolved = credentials.resolve(profile, Secret.CLOUDFLARE)
    if not resolved.value:
        raise credentials.missing_error(profile, Secret.CLOUDFLARE)
    report = build(profile, resolved.value, coordinates, by, start)
    account, gateway = coordinates
    if options.as_json:
        document = to_json(report, profile=profile, account=account, gateway=gateway)
        print(json.dumps(document, indent=2))
        return ExitStatus.OK
    print(f"gateway {gateway!r} of account {account}, {iso(report.start)} to {iso(report.end)}")
    if report.groups:
        print(render_table(report))
    for note in report.notes:
        print(f"note: {note}")
    return ExitStatus.OK
