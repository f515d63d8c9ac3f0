"""Reading a profile and checking that it is current (SPEC "What current means").

Standard library only: the launch runs these checks (on a cache miss) before
every start, and doctor shows each rule as its own line.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codex_cf import paths, profile_facts
from codex_cf.checks import Check, verdict
from codex_cf.constants import (
    BEARER_PREFIX,
    GATEWAY_AUTH_HEADER,
    GATEWAY_HOST,
    SECRET_VARIABLE,
    WIRE_API,
    AuthMode,
    Billing,
    Secret,
)
from codex_cf.profile_facts import (
    Export,
    ProfileFacts,
    command_for,
    is_codex_cf_executable,
)

_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ACCOUNT_ID = re.compile(r"[0-9a-fA-F]{32}")
GATEWAY_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_GATEWAY_PATH = re.compile(r"/v1/([^/]+)/([^/]+)/openai/?")
_PLACEHOLDER_CHARS = ("<", ">", "{", "}", "$")


@dataclass
class Report:
    """Every rule's verdict for one profile, and its facts when it is current."""

    profile: str
    path: Path
    findings: list[Check] = field(default_factory=list)
    facts: ProfileFacts | None = None
    document: dict[str, Any] | None = None

    @property
    def current(self) -> bool:
        return all(f.ok for f in self.findings)

    def first_failure(self) -> Check | None:
        return next((f for f in self.findings if not f.ok), None)


def valid_variable_name(name: str) -> bool:
    return _VARIABLE_NAME.fullmatch(name) is not None


def gateway_url(account_id: str, gateway: str) -> str:
    return f"https://{GATEWAY_HOST}/v1/{account_id}/{gateway}/openai"


def gateway_coordinates(url: str) -> tuple[str, str] | None:
    """(account ID, gateway slug) from an AI Gateway OpenAI URL's path, else None.

    Read from the path alone, so an endpoint chosen with --base-url that fronts
    the gateway (or a loopback test double) still names its gateway.
    """
    match = _GATEWAY_PATH.fullmatch(urlsplit(url).path)
    if not match or not ACCOUNT_ID.fullmatch(match.group(1)):
        return None
    return match.group(1), match.group(2)


def is_loopback_host(host: str | None) -> bool:
    """localhost or a loopback address: the only hosts a token may reach over plain http."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def base_url_problem(url: object) -> str | None:
    """Why a base_url cannot carry the token safely to a gateway, or None."""
    if not isinstance(url, str) or not url:
        return "base_url is not set"
    if any(char in url for char in _PLACEHOLDER_CHARS):
        return f"base_url {url!r} still holds a placeholder or a variable (Codex expands neither)"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"base_url {url!r} is not a URL"
    if parts.scheme == "https" and host == GATEWAY_HOST:
        match = _GATEWAY_PATH.fullmatch(parts.path)
        if not match:
            return f"base_url {url!r} is not /v1/<account>/<gateway>/openai on {GATEWAY_HOST}"
        account, gateway = match.groups()
        if not ACCOUNT_ID.fullmatch(account):
            return f"the account ID {account!r} in base_url is not 32 hexadecimal characters"
        if not GATEWAY_SLUG.fullmatch(gateway):
            return f"the gateway {gateway!r} in base_url is not a gateway slug"
        return None
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and is_loopback_host(host):
        return None
    return f"base_url {url!r} would send the token unencrypted or nowhere (use https)"


def _read_toml(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed file, or the error as people read it: file, line and column."""
    import tomllib

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path} cannot be read ({exc.strerror})"
    try:
        return tomllib.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, f"{path} is not UTF-8 text"
    except tomllib.TOMLDecodeError as exc:
        return None, f"{path} is not valid TOML: {exc}"


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _exclude_list(document: Mapping[str, Any]) -> tuple[list[str] | None, str | None]:
    """The profile's shell_environment_policy.exclude, or why it cannot hold one."""
    policy = document.get("shell_environment_policy")
    if policy is None:
        return [], None
    if not isinstance(policy, dict):
        return None, "shell_environment_policy is not a table"
    exclude = policy.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        return None, "shell_environment_policy.exclude is not a list of strings"
    return exclude, None


def auth_command_args(args: object) -> tuple[Secret, str | None] | None:
    """(secret, profile) a `codex-cf token print` auth command asks for, else None."""
    if not isinstance(args, list) or args[:2] != ["token", "print"]:
        return None
    options = args[2:]
    pairs = dict(zip(options[::2], options[1::2], strict=False))
    if len(options) % 2 or set(pairs) - {"--profile", "--which"}:
        return None
    try:
        return Secret(pairs.get("--which", Secret.CLOUDFLARE)), pairs.get("--profile")
    except ValueError:
        return None


@dataclass(frozen=True)
class Layout:
    """How a provider table authenticates, read leniently (setup reads broken ones too)."""

    auth_mode: AuthMode
    authorization: Secret | None  # what the Authorization header carries
    env_key: str | None
    gateway_variable: str | None  # the cf-aig-authorization variable
    auth_command: str | None
    problems: tuple[str, ...]

    @property
    def billing(self) -> Billing:
        if self.authorization is Secret.OPENAI:
            return Billing.OWN_KEY
        if self.authorization is None:
            return Billing.BYOK
        return Billing.UNIFIED

    @property
    def required(self) -> tuple[Secret, ...]:
        """The secrets this provider needs, Authorization's first."""
        needed: list[Secret] = []
        for secret in (self.authorization, *(e.secret for e in self.exports)):
            if secret is not None and secret not in needed:
                needed.append(secret)
        return tuple(needed)

    @property
    def hidden_variables(self) -> list[str]:
        """What the agent's commands must not see: every variable codex-cf exports, and
        each secret's usual variable, which users (following Cloudflare's page) export in
        their own shell whatever the mode."""
        return profile_facts.hidden_variables(self.exports, self.required)

    @property
    def exports(self) -> tuple[Export, ...]:
        found = []
        if self.env_key and self.authorization and self.auth_mode is AuthMode.ENV:
            found.append(Export(self.env_key, self.authorization))
        if self.gateway_variable:
            found.append(Export(self.gateway_variable, Secret.CLOUDFLARE, BEARER_PREFIX))
        return tuple(found)


def secret_for_env_key(env_key: str) -> Secret:
    """The Authorization secret an env_key carries: OPENAI_API_KEY is an OpenAI key."""
    return Secret.OPENAI if env_key == SECRET_VARIABLE[Secret.OPENAI] else Secret.CLOUDFLARE


def read_layout(provider: Mapping[str, Any], profile: str) -> Layout:
    env_key = provider.get("env_key")
    auth = provider.get("auth")
    headers = _table(provider.get("env_http_headers"))
    gateway_var = next(
        (v for h, v in headers.items() if h.lower() == GATEWAY_AUTH_HEADER and isinstance(v, str)),
        None,
    )
    problems: list[str] = []
    authorization: Secret | None = None
    auth_command: str | None = None
    valid_env_key: str | None = None
    if env_key is not None:
        if isinstance(env_key, str) and valid_variable_name(env_key):
            valid_env_key = env_key
        else:
            problems.append(f"env_key {env_key!r} is not a valid variable name")
    if auth is not None:
        mode = AuthMode.COMMAND
        auth_table = _table(auth)
        if env_key is not None:
            problems.append("the provider has both env_key and auth (Codex refuses to start)")
        command = auth_table.get("command")
        auth_command = command if isinstance(command, str) else None
        if not is_codex_cf_executable(command):
            problems.append(f"auth.command {command!r} is not an installed codex-cf")
        asked = auth_command_args(auth_table.get("args"))
        authorization = asked[0] if asked else None
        if asked is None or asked[1] != profile:
            problems.append(f"auth.args do not run `token print --profile {profile}`")
    else:
        mode = AuthMode.ENV
        if valid_env_key:
            authorization = secret_for_env_key(valid_env_key)
    if gateway_var is not None and not valid_variable_name(gateway_var):
        problems.append(f"env_http_headers names {gateway_var!r}, not a valid variable name")
        gateway_var = None
    if authorization is None and gateway_var is None and not problems:
        problems.append("the provider sends no token: no env_key, auth table or gateway header")
    return Layout(mode, authorization, valid_env_key, gateway_var, auth_command, tuple(problems))


def _credentials(
    provider: Mapping[str, Any], profile: str, auth_fix: str
) -> tuple[list[Check], ProfileFacts | None, list[str]]:
    """The auth rule's findings, the launch facts, and the variables to exclude."""
    layout = read_layout(provider, profile)
    if layout.problems:
        return [verdict("profile.auth", False, "; ".join(layout.problems), auth_fix)], None, []
    facts = ProfileFacts(
        layout.auth_mode, layout.billing, layout.exports, layout.required, layout.auth_command
    )
    summary = f"auth mode {layout.auth_mode.value}, billing {layout.billing.value}"
    return [verdict("profile.auth", True, summary)], facts, layout.hidden_variables


def provider_table(document: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The [model_providers.*] table that `model_provider` selects, if there is one."""
    if not document:
        return None
    provider_id = document.get("model_provider")
    if not isinstance(provider_id, str):
        return None
    provider = _table(document.get("model_providers")).get(provider_id)
    return provider if isinstance(provider, dict) else None


def check_profile_document(
    document: Mapping[str, Any], profile: str
) -> tuple[list[Check], ProfileFacts | None]:
    """The content rules of a parsed profile."""
    fix = command_for(profile, "setup")
    findings: list[Check] = []
    provider_id = document.get("model_provider")
    provider = provider_table(document)
    if provider is None:
        findings.append(
            verdict(
                "profile.provider",
                False,
                f"model_provider {provider_id!r} does not name a [model_providers.*] table",
                fix,
            )
        )
        return findings, None
    findings.append(verdict("profile.provider", True, f"model_provider is {provider_id!r}"))
    problem = base_url_problem(provider.get("base_url"))
    findings.append(
        verdict(
            "profile.base_url", problem is None, problem or f"base_url {provider['base_url']}", fix
        )
    )
    chat = [
        name
        for name, table in _table(document.get("model_providers")).items()
        if isinstance(table, dict) and table.get("wire_api") == "chat"
    ]
    wire_api = provider.get("wire_api")
    if wire_api != WIRE_API:
        findings.append(
            verdict("profile.wire_api", False, f'wire_api is {wire_api!r}, not "responses"', fix)
        )
    elif chat:
        findings.append(
            verdict(
                "profile.wire_api",
                False,
                f'provider {chat[0]!r} has wire_api = "chat" (Codex refuses to start)',
                fix,
            )
        )
    else:
        findings.append(verdict("profile.wire_api", True, 'wire_api is "responses"'))
    model = document.get("model")
    if isinstance(model, str) and model:
        findings.append(verdict("profile.model", True, f"model is {model!r}"))
    else:
        findings.append(verdict("profile.model", False, "model is not set", fix))
    auth_findings, facts, exported = _credentials(provider, profile, fix)
    findings.extend(auth_findings)
    exclude, exclude_problem = _exclude_list(document)
    if exclude_problem:
        findings.append(
            verdict(
                "profile.exclude",
                False,
                f"{exclude_problem}, so the token cannot be hidden from the agent's commands",
                "make it a table with an exclude list, then run " + fix,
            )
        )
    else:
        missing = [v for v in exported if v not in (exclude or [])]
        if missing:
            findings.append(
                verdict(
                    "profile.exclude",
                    False,
                    f"shell_environment_policy.exclude lacks {', '.join(missing)}: "
                    "the agent's commands could read the token",
                    fix,
                )
            )
        else:
            findings.append(
                verdict("profile.exclude", True, "the token's variables are hidden from the agent")
            )
    if not all(f.ok for f in findings):
        facts = None
    return findings, facts


def check_permissions(path: Path) -> Check:
    """Only the user may change where the token goes."""
    if sys.platform == "win32":
        return verdict("profile.permissions", True, "permissions not checked on Windows")
    st = path.stat()
    if st.st_uid != os.geteuid():
        return verdict(
            "profile.permissions",
            False,
            f"{path} belongs to another user (uid {st.st_uid})",
            f"chown {os.geteuid()} {path}",
        )
    if st.st_mode & 0o022:
        return verdict(
            "profile.permissions",
            False,
            f"{path} is writable by group or others (mode {st.st_mode & 0o777:o})",
            f"chmod 600 {path}",
        )
    return verdict("profile.permissions", True, f"{path} is private to you")


def check_base_config(document: Mapping[str, Any] | None, profile: str) -> Check:
    """config.toml must not hold what Codex >= 0.134 refuses or ignores for this profile."""
    fix = command_for(profile, "setup")
    if document is None:
        return verdict("config.legacy", True, "config.toml has no legacy entries")
    problems = []
    if "profile" in document:
        problems.append(f"a top-level profile = {document['profile']!r} (Codex refuses to start)")
    if profile in _table(document.get("profiles")):
        problems.append(f"a legacy [profiles.{profile}] table (Codex no longer reads it)")
    for name, table in _table(document.get("model_providers")).items():
        if isinstance(table, dict) and table.get("wire_api") == "chat":
            problems.append(f'provider {name!r} with wire_api = "chat" (Codex refuses to start)')
    if problems:
        return verdict("config.legacy", False, "config.toml holds " + "; ".join(problems), fix)
    return verdict("config.legacy", True, "config.toml has no legacy entries")


def check(profile: str, environ: Mapping[str, str] | None = None) -> Report:
    """Every rule, in the order a user would fix them."""
    path = paths.profile_path(profile, environ)
    report = Report(profile, path)
    setup = command_for(profile, "setup")
    document, error = _read_toml(path)
    if document is None and error is None:
        report.findings.append(
            verdict(
                "profile.file",
                False,
                f"{path} does not exist, and Codex would silently bypass the gateway",
                setup,
            )
        )
        return report
    report.findings.append(verdict("profile.file", True, f"{path} exists"))
    if document is None:
        report.findings.append(
            verdict(
                "profile.toml", False, str(error), f"correct the file by hand, then run {setup}"
            )
        )
        return report
    report.document = document
    report.findings.append(verdict("profile.toml", True, f"{path.name} parses as TOML"))
    report.findings.append(check_permissions(path))
    content, facts = check_profile_document(document, profile)
    report.findings.extend(content)
    base_path = paths.base_config_path(environ)
    base, base_error = _read_toml(base_path)
    if base_error:
        report.findings.append(
            verdict("config.toml", False, base_error, f"correct the file by hand, then run {setup}")
        )
    else:
        report.findings.append(
            verdict("config.toml", True, f"{base_path.name} parses or is absent")
        )
        report.findings.append(check_base_config(base, profile))
    report.facts = facts if report.current else None
    return report


def current_facts(profile: str, environ: Mapping[str, str] | None = None) -> ProfileFacts | Report:
    """The facts of a current profile (cached by file signature), else the failing report."""
    found = profile_facts.cached(profile, environ)
    return found if found is not None else check_and_remember(profile, environ)


def check_and_remember(
    profile: str, environ: Mapping[str, str] | None = None
) -> ProfileFacts | Report:
    """The full check; a current profile's facts are cached for the next launches."""
    checked = profile_facts.signature(profile, environ)
    report = check(profile, environ)
    if report.facts is None:
        return report
    profile_facts.remember(profile, report.facts, checked, environ)
    return report.facts
