"""doctor's checks: each returns data (a Check), never prints; one renderer shows them.

A check's id is stable: `doctor --json` users key on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_cf import (
    codex_binary,
    credentials,
    launch_cache,
    paths,
    profile_facts,
    profile_names,
    profile_rules,
    sandbox_settings,
    sessions,
)
from codex_cf.checks import Check, Status
from codex_cf.constants import (
    ACCESS_TOKEN_VARIABLE,
    GATEWAY_AUTH_HEADER,
    SECRET_LABEL,
    SECRET_VARIABLE,
    AuthMode,
    Billing,
    Secret,
)
from codex_cf.errors import CodexCfError
from codex_cf.layout import CODEX_AUTH_TIMEOUT_DEFAULT_MS


def check_codex(environ: Mapping[str, str]) -> tuple[list[Check], codex_binary.Codex | None]:
    try:
        codex = codex_binary.find(environ)
    except CodexCfError as error:
        return [Check("codex.found", Status.FAIL, error.message, error.fix)], None
    checks = [Check("codex.found", Status.OK, f"Codex found at {codex.path}")]
    try:
        found = codex_binary.require_supported(codex, environ)
    except CodexCfError as error:
        checks.append(Check("codex.version", Status.FAIL, error.message, error.fix))
    else:
        checks.append(
            Check("codex.version", Status.OK, f"Codex {codex_binary.format_version(found)}")
        )
    return checks, codex


def check_profile(profile: str) -> tuple[list[Check], profile_rules.Report]:
    report = profile_rules.check(profile)
    return list(report.findings), report


def _run_auth_command(provider: Mapping[str, Any]) -> Check:
    """Run the profile's auth command as Codex would, without showing what it prints."""
    auth = provider.get("auth") or {}
    command = auth.get("command")
    args = auth.get("args") or []
    timeout_ms = auth.get("timeout_ms") or CODEX_AUTH_TIMEOUT_DEFAULT_MS
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(command), *map(str, args)],
            capture_output=True,
            timeout=timeout_ms / 1000,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Check(
            "auth.command",
            Status.FAIL,
            f"the auth command did not answer within {timeout_ms} ms; Codex would send "
            "requests without a token",
            "check the keyring (codex-cf token status)",
        )
    except OSError as error:
        return Check(
            "auth.command",
            Status.FAIL,
            f"the auth command cannot run ({error.strerror})",
            "codex-cf setup",
        )
    elapsed = int((time.monotonic() - started) * 1000)
    if done.returncode != 0 or not done.stdout.strip():
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = first[0] if first else f"exit status {done.returncode}"
        return Check(
            "auth.command",
            Status.FAIL,
            f"the auth command yields no token ({reason}); Codex would send requests without one",
            "codex-cf token set",
        )
    return Check("auth.command", Status.OK, f"the auth command yields a token in {elapsed} ms")


def check_auth_mode(report: profile_rules.Report) -> list[Check]:
    facts = report.facts
    if facts is None or report.document is None:
        return []
    provider = profile_rules.provider_table(report.document) or {}
    checks = []
    layout = facts.layout
    if layout.access is not None:
        variables = ", ".join(layout.access_headers.values())
        message = (
            f"Cloudflare Access ({layout.access.value}): codex-cf exports {variables} to Codex "
            "and hides it from its commands; no Cloudflare token is sent"
        )
        checks.append(Check("auth.mode", Status.OK, message))
    elif layout.auth_mode is AuthMode.ENV:
        message = (
            "auth mode env: codex-cf exports the token to Codex and hides it from its commands"
        )
        checks.append(Check("auth.mode", Status.OK, message))
    else:
        checks.append(
            Check("auth.mode", Status.OK, "auth mode command: Codex asks codex-cf for the token")
        )
        checks.append(_run_auth_command(provider))
        if layout.sends_gateway_header:
            checks.append(
                Check(
                    "auth.header_in_environment",
                    Status.WARN,
                    f"the {GATEWAY_AUTH_HEADER} header can only come from the environment in "
                    "Codex today: the Cloudflare token stays in Codex's "
                    f"${layout.gateway_variable}",
                )
            )
    return checks


def check_tags(report: profile_rules.Report) -> list[Check]:
    """An untagged profile says so, with the command that tags it. Not a fault: an older
    codex-cf wrote none, and setup --no-metadata leaves the same file (neither is recorded)."""
    facts = report.facts
    if facts is None or facts.layout.metadata:
        return []
    message = (
        "requests are not tagged (no cf-aig-metadata), so the gateway's logs and codex-cf "
        "usage cannot group them by launch, project or host"
    )
    fix = profile_names.command_for(report.profile, "setup --metadata")
    return [Check("profile.tags", Status.SKIP, message, fix)]


def check_access_token(
    facts: profile_facts.ProfileFacts | None, now: float | None = None
) -> list[Check]:
    """Behind Access with cloudflared: cloudflared itself, and the current token's expiry
    (its exp read without verifying; Access verifies it)."""
    if facts is None or facts.access_app is None:
        return []
    from codex_cf import access_token
    from codex_cf.constants import CLOUDFLARED_INSTALL_HINT

    origin = facts.access_app
    program = access_token.cloudflared(os.environ)
    if program is None:
        return [
            Check(
                "access.cloudflared",
                Status.FAIL,
                "cloudflared is not installed: it signs you in to Cloudflare Access",
                f"{CLOUDFLARED_INSTALL_HINT}, then {access_token.login_command(origin)}",
            )
        ]
    checks = [Check("access.cloudflared", Status.OK, f"cloudflared found at {program}")]
    if credentials.from_environment(os.environ, ACCESS_TOKEN_VARIABLE):
        message = f"Access token: ${ACCESS_TOKEN_VARIABLE} is set and wins"
        checks.append(Check("access.token", Status.OK, message))
        return checks
    found = access_token.read(program, origin, os.environ)
    login = access_token.login_command(origin)
    now = time.time() if now is None else now
    if found is None or access_token.is_expired(found, now):
        why = "it has expired" if found is not None else "not signed in, or the session ended"
        checks.append(
            Check(
                "access.token",
                Status.FAIL,
                f"no current Cloudflare Access token for {origin} ({why}); on a terminal "
                "codex-cf signs you in at launch",
                login,
            )
        )
        return checks
    if found.expires_at is None:
        checks.append(Check("access.token", Status.OK, f"Access token for {origin} found"))
        return checks
    left = found.expires_at - now
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(found.expires_at))
    if left < access_token.EXPIRY_WARNING_SECONDS:
        checks.append(
            Check(
                "access.token",
                Status.WARN,
                f"the Access token for {origin} expires in {int(left // 60)} min ({when}): "
                "a Codex session started now would outlive it",
                login,
            )
        )
    else:
        hours = f"{left / 3600:.1f} h"
        message = f"Access token for {origin} is current; it expires in {hours} ({when})"
        checks.append(Check("access.token", Status.OK, message))
    return checks


def check_access_gate(base_url: str, profile: str) -> Check:
    """The custom domain answers through Access: a request without credentials is refused."""
    from codex_cf import cloudflare_api

    gate = cloudflare_api.probe_access(base_url)
    if gate.protected:
        return Check("access.gate", Status.OK, gate.detail)
    if gate.protected is None:
        again = profile_names.command_for(profile, "doctor")
        return Check("access.gate", Status.FAIL, gate.detail, f"check the network, then {again}")
    return Check(
        "access.gate",
        Status.WARN,
        gate.detail,
        "add a self-hosted Access application for the custom domain in Cloudflare One, "
        "or check the base_url (" + profile_names.command_for(profile, "setup") + ")",
    )


def check_sandbox(profile: str, facts: profile_facts.ProfileFacts | None) -> Check:
    """What the agent's commands can reach in this profile's effective sandbox settings.

    Both auth modes: whoever can talk to the Secret Service as the user can
    read the token from it, whichever way Codex gets it.
    """
    sandbox = sandbox_settings.for_profile(profile)
    fix = sandbox.fix(paths.profile_path(profile))
    if sandbox.full_access:
        reach = "your keyring (secret-tool, codex-cf token print)"
        layout = facts.layout if facts is not None else None
        if (
            layout is not None
            and layout.auth_mode is AuthMode.ENV
            and (
                any(e.secret is not None for e in layout.exports)
                or layout.access_token_variable is not None
            )
        ):
            reach += " and from /proc of Codex's own processes"
        return Check(
            "sandbox.reach",
            Status.WARN,
            f"{sandbox.describe()}: the agent's commands run as you and can read the token "
            f"from {reach}",
            fix,
        )
    if sys.platform != "linux":
        return Check(
            "sandbox.reach",
            Status.SKIP,
            f"{sandbox.describe()}: what the agent's commands can reach in Codex's sandbox was "
            f"measured on Linux, not on {sys.platform}",
            "codex-cf doctor --self-test",
        )
    if sandbox.network_open:
        return Check(
            "sandbox.reach",
            Status.WARN,
            f"{sandbox.describe()}: the agent's commands can reach your keyring over D-Bus "
            "and read the token (secret-tool, codex-cf token print)",
            fix,
        )
    return Check(
        "sandbox.reach",
        Status.OK,
        f"{sandbox.describe()}: the agent's commands cannot reach your keyring or Codex's "
        "environment",
    )


def check_tokens(
    profile: str, secrets: list[Secret], keyring_usable: bool
) -> tuple[list[Check], dict[Secret, str]]:
    """Each secret's source; with no usable keyring only the environment can be looked at."""
    checks = []
    values = {}
    for secret in secrets:
        check_id = f"token.{secret.value}"
        if not keyring_usable and not credentials.from_environment(
            os.environ, SECRET_VARIABLE[secret]
        ):
            message = f"{SECRET_LABEL[secret]}: not checked, the keyring is not usable"
            checks.append(Check(check_id, Status.SKIP, message))
            continue
        try:
            resolved = credentials.resolve(profile, secret)
        except CodexCfError as error:
            checks.append(Check(check_id, Status.FAIL, error.message, error.fix))
            continue
        label = SECRET_LABEL[secret]
        if resolved.value:
            values[secret] = resolved.value
            where = (
                f"${SECRET_VARIABLE[secret]}" if resolved.source == "environment" else "the keyring"
            )
            checks.append(Check(check_id, Status.OK, f"{label} found in {where}"))
        else:
            fix = credentials.set_command(profile, secret)
            checks.append(Check(check_id, Status.FAIL, f"no {label} for profile {profile!r}", fix))
    return checks, values


def check_keyring(secrets: list[Secret]) -> Check:
    """The backend, judged: refused or absent fails, unless every secret comes from a variable."""
    if not secrets:
        return Check(
            "keyring.backend",
            Status.SKIP,
            "keyring not used: this profile keeps no secret there (cloudflared keeps the "
            "Access token)",
        )
    variables = [SECRET_VARIABLE[s] for s in secrets]
    try:
        backend = credentials.current_backend()
    except CodexCfError as error:
        if all(credentials.from_environment(os.environ, v) for v in variables):
            where = ", ".join(f"${v}" for v in variables)
            message = f"keyring not used: the token comes from {where} ({error.message})"
            return Check("keyring.backend", Status.SKIP, message)
        return Check("keyring.backend", Status.FAIL, error.message, error.fix)
    if credentials.is_vouched(backend):
        return Check("keyring.backend", Status.OK, f"keyring backend {backend}")
    return Check(
        "keyring.backend",
        Status.WARN,
        f"keyring backend {backend}: codex-cf does not know it, so it cannot vouch that it "
        "keeps the token encrypted",
        "if it may keep it in plain text, switch to a store codex-cf knows "
        "(README: Where the token is kept)",
    )


def check_rc_exports(variables: list[str], profile: str) -> list[Check]:
    from codex_cf import rc_files

    found = rc_files.find_exports(variables, paths.home())
    if not found:
        return [Check("shell.rc_exports", Status.OK, "no shell start-up file exports the token")]
    return [
        Check(
            "shell.rc_exports",
            Status.FAIL,
            f"{e.path}:{e.line} exports ${e.variable} in plain text, readable by every program",
            f"delete that line ({profile_names.command_for(profile, 'token import')} "
            "moves the value into the keyring first)",
        )
        for e in found
    ]


def check_sessions(profile: str) -> Check:
    path = paths.profile_path(profile)
    try:
        changed = path.stat().st_mtime
    except OSError:
        return Check("sessions.stale", Status.OK, "no profile, so no stale Codex sessions")
    stale = sessions.running(profile, started_before=changed)
    if not stale:
        return Check("sessions.stale", Status.OK, "no Codex session runs with older settings")
    pids = ", ".join(str(s.pid) for s in stale)
    return Check(
        "sessions.stale",
        Status.WARN,
        f"Codex sessions started before the profile last changed still run (PID {pids})",
        "restart them to use the current settings",
    )


def check_token_verify(token: str, account_id: str | None, profile: str) -> Check:
    from codex_cf import cloudflare_api

    verdict = cloudflare_api.verify_token(token, account_id)
    if verdict.status is cloudflare_api.TokenStatus.ACTIVE:
        return Check("token.verify", Status.OK, f"token verify: {verdict.detail}")
    message = f"token verify: {verdict.detail}"
    if verdict.status is cloudflare_api.TokenStatus.UNREACHABLE:
        again = profile_names.command_for(profile, "token verify")
        return Check(
            "token.verify", Status.FAIL, message, f"check the network, then {again} (or --offline)"
        )
    fix = (
        "create a new token in the Cloudflare dashboard (AI Gateway - Run), then "
        + credentials.set_command(profile, Secret.CLOUDFLARE)
    )
    return Check("token.verify", Status.FAIL, message, fix)


def check_gateway_settings(
    token: str,
    account_id: str,
    gateway: str,
    *,
    billing: Billing,
    sends_header: bool,
    profile: str,
) -> Check:
    from codex_cf import cloudflare_api

    found = cloudflare_api.gateway_settings(token, account_id, gateway)
    setup = profile_names.command_for(profile, "setup")
    status = cloudflare_api.GatewayStatus
    message = f"gateway settings: {found.detail}"
    if found.status is status.FORBIDDEN:
        return Check(
            "gateway.settings",
            Status.SKIP,
            message,
            f"give the token AI Gateway - Read; if it has it, check the account ID ({setup})",
        )
    if found.status is status.MISSING:
        return Check(
            "gateway.settings",
            Status.FAIL,
            message,
            f"create the gateway in the dashboard, or check the slug and the account ID: "
            f"{setup} --account-id ID --gateway SLUG",
        )
    if found.status is status.INVALID:
        fix = credentials.set_command(profile, Secret.CLOUDFLARE)
        return Check("gateway.settings", Status.FAIL, message, f"store a valid token: {fix}")
    if found.status is not status.FOUND:
        again = profile_names.command_for(profile, "doctor")
        return Check(
            "gateway.settings", Status.FAIL, message, f"check the network, then {again} again"
        )
    if found.authentication and not sends_header:
        return Check(
            "gateway.settings",
            Status.FAIL,
            f"gateway {gateway!r} is authenticated, but the profile sends no {GATEWAY_AUTH_HEADER}",
            f"{setup} --authenticated-gateway"
            if billing is not Billing.BYOK
            else f"{setup} --billing byok",
        )
    if found.byok_only and billing is Billing.UNIFIED:
        return Check(
            "gateway.settings",
            Status.FAIL,
            f"gateway {gateway!r} requires provider credentials (byok_only) and answers 400 "
            "to Unified Billing requests",
            f"{setup} --billing byok (keys stored in Cloudflare) or --billing own-key",
        )
    return Check("gateway.settings", Status.OK, message)


def check_gateway_reachable(
    base_url: str, headers: Mapping[str, str], billing: Billing, profile: str
) -> Check:
    """The gateway's own checks passed; past them only an own key is the provider's business.

    Under Unified Billing and BYOK the gateway forwards a model list to the
    provider without a key it pays for, so the provider refusing it is normal.
    """
    from codex_cf import cloudflare_api

    try:
        probe = cloudflare_api.probe_gateway(base_url, headers)
    except ValueError as error:  # a header value HTTP cannot carry: a malformed secret
        fix = profile_names.command_for(profile, "token status")
        return Check("gateway.reachable", Status.FAIL, f"gateway reachable: {error}", fix)
    message = f"gateway reachable: {probe.detail}"
    if probe.status is cloudflare_api.ProbeStatus.REACHABLE:
        if probe.provider_rejected and billing is Billing.OWN_KEY:
            return Check(
                "gateway.reachable",
                Status.FAIL,
                f"{message}: OpenAI refused your key",
                credentials.set_command(profile, Secret.OPENAI),
            )
        return Check("gateway.reachable", Status.OK, message)
    if probe.status is cloudflare_api.ProbeStatus.AUTH_REJECTED:
        return Check(
            "gateway.reachable",
            Status.FAIL,
            message,
            profile_names.command_for(profile, "token verify"),
        )
    return Check(
        "gateway.reachable",
        Status.FAIL,
        message,
        f"check the network and the base_url ({profile_names.command_for(profile, 'setup')})",
    )


def self_test_reminder(codex: codex_binary.Codex | None) -> Check | None:
    """Suggest --self-test when it has not passed with this Codex build."""
    if codex is None:
        return None
    record = launch_cache.load(launch_cache.SELF_TEST)
    if record.get(codex.resolved) == launch_cache.file_signature(Path(codex.resolved)):
        return None
    return Check(
        "self_test.due",
        Status.WARN,
        "the self-test has not passed with this Codex build (it changes silently on updates)",
        "codex-cf doctor --self-test",
    )


def remember_self_test(codex: codex_binary.Codex) -> None:
    record = launch_cache.load(launch_cache.SELF_TEST)
    record[codex.resolved] = launch_cache.file_signature(Path(codex.resolved))
    launch_cache.store(launch_cache.SELF_TEST, record)
