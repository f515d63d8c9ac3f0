"""`codex-cf doctor`: every check as one line, each failure with the command that fixes it."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

from codex_cf import diagnostics, profile_facts, profile_rules
from codex_cf.checks import Check, Status
from codex_cf.constants import PROGRAM, ExitStatus, Secret

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


def collect(profile: str, offline: bool) -> list[Check]:
    checks, codex = diagnostics.check_codex(os.environ)
    profile_checks, report = diagnostics.check_profile(profile)
    checks += profile_checks
    checks += diagnostics.check_auth_mode(report)
    checks.append(diagnostics.check_sandbox(profile, report.facts))
    keyring = diagnostics.check_keyring()
    checks.append(keyring)
    facts = report.facts
    secrets = list(facts.required) if facts and facts.required else [Secret.CLOUDFLARE]
    token_checks, values = diagnostics.check_tokens(profile, secrets, keyring.ok)
    checks += token_checks
    exports = facts.exports if facts else ()
    hidden = profile_facts.hidden_variables(exports, tuple(secrets))
    checks += diagnostics.check_rc_exports(sorted(hidden))
    checks.append(diagnostics.check_sessions(profile))
    checks += _online(report, values, offline)
    reminder = diagnostics.self_test_reminder(codex)
    if reminder:
        checks.append(reminder)
    return checks


def _online(report: profile_rules.Report, values: dict[Secret, str], offline: bool) -> list[Check]:
    if offline:
        return [
            Check(n, Status.SKIP, f"{what}: skipped (--offline)") for n, what in _ONLINE.items()
        ]
    facts, document = report.facts, report.document
    if facts is None or document is None:
        return [
            Check(n, Status.SKIP, f"{what}: skipped until the profile is usable")
            for n, what in _ONLINE.items()
        ]
    provider = profile_rules.provider_table(document) or {}
    base_url = str(provider["base_url"])
    coordinates = profile_rules.gateway_coordinates(base_url)
    account = coordinates[0] if coordinates else None
    token = values.get(Secret.CLOUDFLARE)
    checks = []
    if token:
        checks.append(diagnostics.check_token_verify(token, account))
        if coordinates:
            sends_header = any(e.prefix for e in facts.exports)
            checks.append(
                diagnostics.check_gateway_settings(
                    token, coordinates[0], coordinates[1], facts.billing, sends_header
                )
            )
        else:
            checks.append(
                Check(
                    "gateway.settings",
                    Status.SKIP,
                    f"{_ONLINE['gateway.settings']}: skipped for a custom endpoint",
                )
            )
    else:
        checks += [
            Check(n, Status.SKIP, f"{_ONLINE[n]}: skipped without a Cloudflare token")
            for n in ("token.verify", "gateway.settings")
        ]
    headers = diagnostics.gateway_headers(facts, values)
    checks.append(diagnostics.check_gateway_reachable(base_url, headers, facts.billing))
    return checks


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
    profile = profile_facts.resolve_name(options.profile)
    if options.self_test:
        from codex_cf import self_test

        checks, codex = diagnostics.check_codex(os.environ)
        if codex is not None and all(c.status is Status.OK for c in checks):
            checks += self_test.run(profile)
            if all(c.status is not Status.FAIL for c in checks):
                diagnostics.remember_self_test(codex)
    else:
        checks = collect(profile, options.offline)
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
        print(render(checks))
        if failed:
            print(f"\nSome checks failed; run the fix commands above, then {PROGRAM} doctor again.")
    return int(ExitStatus.FAILURE if failed else ExitStatus.OK)
