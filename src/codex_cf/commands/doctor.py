"""`codex-cf doctor`: every check as one line, each failure with the command that fixes it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from codex_cf import diagnostics, profile_names, profile_rules, terminal
from codex_cf.checks import Check, Status
from codex_cf.constants import ACCESS_TOKEN_VARIABLE, PROGRAM, ExitStatus, Secret
from codex_cf.gateway_url import gateway_coordinates
from codex_cf.layout import Layout
from codex_cf.profile_facts import ProfileFacts

_ONLINE = {
    "token.verify": "token verify",
    "gateway.settings": "gateway settings",
    "gateway.reachable": "gateway reachable",
}
_SYMBOLS = {Status.OK: "✓", Status.FAIL: "✗", Status.WARN: "!", Status.SKIP: "-"}
_COLOURS = {Status.OK: "32", Status.FAIL: "31", Status.WARN: "33", Status.SKIP: "2"}


@dataclass(frozen=True)
class DoctorOptions:
    profile: str | None = None
    as_json: bool = False
    offline: bool = False
    self_test: bool = False
    live: bool = False


def collect(profile: str, offline: bool, live: bool = False) -> Iterator[Check]:
    """Every check, each as soon as it is known: the slow network ones come last."""
    local, codex = diagnostics.check_codex(os.environ)
    yield from local
    profile_checks, report = diagnostics.check_profile(profile)
    yield from profile_checks
    yield from diagnostics.check_auth_mode(report)
    yield from diagnostics.check_tags(report)
    yield from diagnostics.check_access_token(report.facts)
    yield diagnostics.check_sandbox(profile, report.facts)
    # Without a usable profile: the usual layout's, as a first setup would write it.
    layout = report.facts.layout if report.facts else Layout()
    secrets = list(layout.secrets)
    keyring = diagnostics.check_keyring(secrets)
    yield keyring
    token_checks, values = diagnostics.check_tokens(profile, secrets, keyring.ok)
    yield from token_checks
    yield from diagnostics.check_rc_exports(sorted(layout.secret_variables), profile)
    yield diagnostics.check_sessions(profile)
    yield from _online(report, values, offline)
    if live:
        yield _live(report, values, offline)
    reminder = diagnostics.self_test_reminder(codex)
    if reminder:
        yield reminder


def _online(
    report: profile_rules.Report, values: dict[Secret, str], offline: bool
) -> Iterator[Check]:
    """The network checks, run at once; shown in their fixed order as each one ends."""
    if offline:
        for check_id, what in _ONLINE.items():
            yield Check(check_id, Status.SKIP, f"{what}: skipped (--offline)")
        return
    facts, document = report.facts, report.document
    if facts is None or document is None:
        for check_id, what in _ONLINE.items():
            yield Check(check_id, Status.SKIP, f"{what}: skipped until the profile is usable")
        return
    profile = report.profile
    provider = profile_rules.provider_table(document) or {}
    base_url = str(provider["base_url"])
    coordinates = gateway_coordinates(base_url)
    account = coordinates[0] if coordinates else None
    token = values.get(Secret.CLOUDFLARE)
    access_token = None
    if facts.layout.access is not None:
        yield terminal.run_with_progress(
            "Cloudflare Access: waiting for an answer",
            lambda: diagnostics.check_access_gate(base_url, profile),
        )
        access_token = _current_access_token(facts)
    work: dict[str, Callable[[], Check]] = {}
    if token:
        work["token.verify"] = partial(diagnostics.check_token_verify, token, account, profile)
        if coordinates:
            work["gateway.settings"] = partial(
                diagnostics.check_gateway_settings,
                token,
                coordinates[0],
                coordinates[1],
                billing=facts.layout.billing,
                sends_header=facts.layout.sends_gateway_header,
                profile=profile,
            )
    headers = facts.layout.headers(values, access_token)  # what Codex would send
    work["gateway.reachable"] = partial(
        diagnostics.check_gateway_reachable, base_url, headers, facts.layout.billing, profile
    )
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        running = {check_id: pool.submit(job) for check_id, job in work.items()}
        for check_id, what in _ONLINE.items():
            if check_id in running:
                yield terminal.wait_for(running[check_id], f"{what}: waiting for an answer")
            elif facts.layout.access is not None:
                yield Check(
                    check_id,
                    Status.SKIP,
                    f"{what}: not applicable behind Cloudflare Access (no Cloudflare token is "
                    "sent, and a custom domain names no account or gateway)",
                )
            elif not token:
                yield Check(check_id, Status.SKIP, f"{what}: skipped without a Cloudflare token")
            else:
                yield Check(check_id, Status.SKIP, f"{what}: skipped for a custom endpoint")


def _current_access_token(facts: ProfileFacts) -> str | None:
    """What the launch would export as the Access token, without signing in."""
    from codex_cf import access_token, credentials

    if facts.access_app is None:
        return None
    given = credentials.from_environment(os.environ, ACCESS_TOKEN_VARIABLE)
    if given:
        return given
    program = access_token.cloudflared(os.environ)
    found = access_token.read(program, facts.access_app, os.environ) if program else None
    return found.value if found is not None else None


def _live(report: profile_rules.Report, values: dict[Secret, str], offline: bool) -> Check:
    """`--live`: the last launch's tagged requests in the gateway's logs."""
    from codex_cf import gateway_usage

    if offline:
        return Check("gateway.traffic", Status.SKIP, "traffic: skipped (--offline)")
    provider = profile_rules.provider_table(report.document) or {}
    base_url = provider.get("base_url")
    coordinates = gateway_coordinates(base_url) if isinstance(base_url, str) else None
    token = values.get(Secret.CLOUDFLARE)
    return terminal.run_with_progress(
        "traffic: waiting for the gateway's logs",
        lambda: gateway_usage.check_live(report.profile, token, coordinates),
    )


def _colour(status: Status, text: str) -> str:
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return text
    return f"\033[{_COLOURS[status]}m{text}\033[0m"


def render(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{_colour(check.status, _SYMBOLS[check.status])} {check.message}")
        if check.fix and check.status in (Status.FAIL, Status.WARN, Status.SKIP):
            lines.append(f"    fix: {check.fix}")
    return "\n".join(lines)


def run(options: DoctorOptions) -> int:
    profile = profile_names.resolve_name(options.profile)
    if options.self_test:
        from codex_cf import self_test

        checks, codex = diagnostics.check_codex(os.environ)
        if codex is not None and all(c.status is Status.OK for c in checks):
            checks += self_test.run(profile)
            if all(c.status is not Status.FAIL for c in checks):
                diagnostics.remember_self_test(codex)
    elif options.as_json:
        checks = list(collect(profile, options.offline, options.live))
    else:
        checks = []
        for check in collect(profile, options.offline, options.live):
            checks.append(check)
            print(render([check]), flush=True)
    failed = any(c.status is Status.FAIL for c in checks)
    if options.as_json:
        document = {
            "program": PROGRAM,
            "profile": profile,
            "ok": not failed,
            "checks": [c.to_json() for c in checks],
        }
        print(json.dumps(document, indent=2))
    else:
        if options.self_test:
            print(render(checks))
        if failed:
            again = profile_names.command_for(profile, "doctor")
            print(f"\nSome checks failed; run the fix commands above, then {again} again.")
    return ExitStatus.FAILURE if failed else ExitStatus.OK
