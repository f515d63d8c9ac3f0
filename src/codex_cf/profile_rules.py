"""Reading a profile and checking that it is current: every rule doctor shows as a line.

Standard library only: the launch runs these checks (on a cache miss) before
every start. The auth rules are the layout model's reading of the provider
(`layout.read_provider`); the URL rules are `gateway_url`'s.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_cf import codex_binary, paths, profile_facts
from codex_cf.checks import Check, verdict
from codex_cf.constants import WIRE_API
from codex_cf.gateway_url import access_url_problem, app_origin, base_url_problem
from codex_cf.layout import read_provider
from codex_cf.profile_facts import ProfileFacts
from codex_cf.profile_names import command_for


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


def _credentials(
    provider: Mapping[str, Any], profile: str, auth_fix: str
) -> tuple[list[Check], ProfileFacts | None, tuple[str, ...]]:
    """The auth rule's findings, the launch facts, and the variables to exclude."""
    reading = read_provider(provider, profile)
    problems = list(reading.problems)
    auth = provider.get("auth")
    if auth is not None and not codex_binary.is_codex_cf_executable(reading.auth_command):
        # Said before what is wrong with the arguments, as a person reads the table.
        command = auth.get("command") if isinstance(auth, Mapping) else None
        at = next((i for i, p in enumerate(problems) if p.startswith("auth.args")), len(problems))
        problems.insert(at, f"auth.command {command!r} is not an installed codex-cf")
    base_url = provider.get("base_url")
    if reading.layout is not None and reading.layout.access and isinstance(base_url, str):
        problem = access_url_problem(base_url)
        if problem:
            problems.append(problem)
    if problems or reading.layout is None:
        return [verdict("profile.auth", False, "; ".join(problems), auth_fix)], None, ()
    layout = reading.layout
    access_app = None
    if layout.access_token_variable is not None and isinstance(base_url, str):
        access_app = app_origin(base_url)
    facts = ProfileFacts(layout, reading.auth_command, access_app)
    # The tags' variable is hidden too where setup wrote it, but holds no secret: a
    # profile without it in the exclude list is still current.
    return [verdict("profile.auth", True, layout.describe())], facts, layout.secret_variables


def chat_providers(document: Mapping[str, Any]) -> list[str]:
    """Providers with wire_api = "chat": Codex >= 0.134 refuses to start with any of them."""
    providers = document.get("model_providers")
    if not isinstance(providers, Mapping):
        return []
    return [
        str(name)
        for name, table in providers.items()
        if isinstance(table, Mapping) and table.get("wire_api") == "chat"
    ]


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
    chat = chat_providers(document)
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
    for name in chat_providers(document):
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
