"""The edits setup makes: codex-cf's keys in the profile, legacy entries in config.toml.

Pure functions over tomlkit documents. They write what the layout model says
and change only the keys codex-cf owns (model, reasoning effort, the provider's
base_url, wire_api, auth keys, cf-aig and Access headers, the exclude list); tomlkit
keeps every other byte.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import tomlkit
from tomlkit.items import Array
from tomlkit.toml_document import TOMLDocument

from codex_cf.constants import (
    ACCESS_SERVICE_HEADERS,
    ACCESS_TOKEN_HEADER,
    DEFAULT_MODEL,
    DEFAULT_REASONING_EFFORT,
    GATEWAY_AUTH_HEADER,
    METADATA_HEADER,
    METADATA_VARIABLE,
    PROVIDER_ID,
    PROVIDER_NAME,
    WIRE_API,
)
from codex_cf.errors import ProfileNotCurrent
from codex_cf.layout import AUTH_COMMAND_TIMEOUT_MS, Layout
from codex_cf.profile_names import auth_command_args
from codex_cf.profile_rules import chat_providers


@dataclass(frozen=True)
class Desired:
    """What the profile should say after setup."""

    profile: str
    base_url: str
    model: str | None  # None: keep what is there (the default only when absent)
    reasoning_effort: str | None
    layout: Layout  # with the variable names to write (setup keeps the existing ones)
    codex_cf_path: str | None  # command mode: the absolute path Codex runs


Mapping = MutableMapping[str, Any]


def _mapping(value: object) -> TypeGuard[Mapping]:
    """A TOML table in any of its spellings: [table], inline {…}, dotted keys, or a
    table defined in pieces across the file (tomlkit's out-of-order proxy)."""
    return isinstance(value, MutableMapping)


def _set(container: MutableMapping[str, Any], key: str, value: Any) -> None:
    """Assign only when different, so an unchanged key keeps its exact bytes."""
    current = container.get(key)
    unwrap = getattr(current, "unwrap", None)
    plain = unwrap() if callable(unwrap) else current
    if plain != value or key not in container:
        container[key] = value


def _provider_table(document: TOMLDocument) -> Mapping:
    """This profile's provider table, created under codex-cf's id when absent.

    An existing `model_provider` that names a table keeps its id: `codex
    resume` lists only sessions of the current provider, so renaming it would
    orphan the user's history.
    """
    providers = document.get("model_providers")
    if providers is None:
        providers = tomlkit.table(is_super_table=True)
        document["model_providers"] = providers
    elif not _mapping(providers):
        raise ProfileNotCurrent(
            "model_providers in the profile is not a table; codex-cf will not guess",
            "make model_providers a table (or remove it), then run codex-cf setup again",
        )
    current_id = document.get("model_provider")
    if isinstance(current_id, str):
        current = providers.get(current_id)
        if _mapping(current):
            return current
    _set(document, "model_provider", PROVIDER_ID)
    existing = providers.get(PROVIDER_ID)
    if _mapping(existing):
        return existing
    table = tomlkit.table()
    providers[PROVIDER_ID] = table
    return table


def _apply_authorization(provider: Mapping, desired: Desired) -> None:
    """env_key, or an auth table running codex-cf, or neither: what the layout says."""
    layout = desired.layout
    env_key, secret = layout.env_key, layout.command_secret
    if env_key is None and "env_key" in provider:
        del provider["env_key"]
    if secret is None and "auth" in provider:
        del provider["auth"]
    if env_key is not None:
        _set(provider, "env_key", env_key)
    if secret is None:
        return
    assert desired.codex_cf_path is not None
    existing = provider.get("auth")
    auth: Mapping = existing if _mapping(existing) else tomlkit.table()
    _set(auth, "command", desired.codex_cf_path)
    _set(auth, "args", auth_command_args(desired.profile, secret))
    _set(auth, "timeout_ms", AUTH_COMMAND_TIMEOUT_MS)
    _set(auth, "refresh_interval_ms", 0)
    if auth is not existing:
        provider["auth"] = auth
        auth.add(tomlkit.nl())  # type: ignore[attr-defined]  # a blank line before the next table


def _apply_header(
    provider: Mapping, header: str, variable: str | None, owned: str | None = None
) -> None:
    """Set a header's variable in env_http_headers, or remove the header (variable None),
    keeping the spelling of its name. With `owned`, only a header naming that variable
    is removed: one naming another variable is the user's own."""
    headers = provider.get("env_http_headers")
    ours = None
    if _mapping(headers):
        ours = next((h for h in headers if str(h).lower() == header.lower()), None)
    if variable is None:
        if ours is not None and _mapping(headers) and owned in (None, headers[ours]):
            del headers[ours]
            if not headers:
                del provider["env_http_headers"]
        return
    if headers is None:
        headers = tomlkit.inline_table()
        provider["env_http_headers"] = headers
    elif not _mapping(headers):
        raise ProfileNotCurrent(
            "the provider's env_http_headers is not a table; codex-cf will not guess",
            "make env_http_headers a table (or remove it), then run codex-cf setup again",
        )
    _set(headers, ours or header, variable)


def _apply_access_headers(provider: Mapping, layout: Layout) -> None:
    """Set the Cloudflare Access headers the layout sends and remove the others."""
    wanted = layout.access_headers
    for header in (ACCESS_TOKEN_HEADER, *ACCESS_SERVICE_HEADERS.values()):
        _apply_header(provider, header, wanted.get(header))


def _exclude(document: TOMLDocument, variables: tuple[str, ...]) -> None:
    """Merge the variables into shell_environment_policy.exclude, keeping the user's list."""
    if not variables:
        return
    policy = document.get("shell_environment_policy")
    if policy is None:
        policy = tomlkit.table()
        document["shell_environment_policy"] = policy
    elif not _mapping(policy):
        raise ProfileNotCurrent(
            "shell_environment_policy in the profile is not a table, so it cannot take the "
            "exclude list that hides the token from the agent's commands; nothing was written",
            "make it a [shell_environment_policy] table, then run codex-cf setup again",
        )
    exclude = policy.get("exclude")
    if exclude is None:
        policy["exclude"] = list(variables)
        return
    if not isinstance(exclude, Array) or not all(isinstance(v, str) for v in exclude):
        raise ProfileNotCurrent(
            "shell_environment_policy.exclude in the profile is not a list of strings, so "
            "codex-cf cannot add the token's variable to it; nothing was written",
            "make exclude a list of variable names, then run codex-cf setup again",
        )
    for variable in variables:
        if variable not in exclude:
            exclude.append(variable)


def apply(document: TOMLDocument, desired: Desired, creating: bool) -> None:
    """Make the document say what desired says, touching only codex-cf's keys."""
    provider = _provider_table(document)
    if "model" not in document or desired.model is not None:
        _set(document, "model", desired.model or DEFAULT_MODEL)
    if desired.reasoning_effort is not None or (
        creating and "model_reasoning_effort" not in document
    ):
        _set(
            document,
            "model_reasoning_effort",
            desired.reasoning_effort or DEFAULT_REASONING_EFFORT,
        )
    if "name" not in provider:
        provider["name"] = PROVIDER_NAME
    _set(provider, "base_url", desired.base_url)
    _apply_authorization(provider, desired)
    _set(provider, "wire_api", WIRE_API)
    layout = desired.layout
    gateway_variable = layout.gateway_variable if layout.sends_gateway_header else None
    _apply_header(provider, GATEWAY_AUTH_HEADER, gateway_variable)
    _apply_access_headers(provider, layout)
    tags_variable = METADATA_VARIABLE if layout.metadata else None
    _apply_header(provider, METADATA_HEADER, tags_variable, owned=METADATA_VARIABLE)
    _exclude(document, desired.layout.hidden_variables)


def migrate_base_config(document: TOMLDocument, profile: str) -> list[str]:
    """Remove what Codex >= 0.134 refuses or ignores; returns what was changed, in words."""
    changes = []
    if "profile" in document:
        changes.append(f"remove the top-level profile = {document.unwrap()['profile']!r}")
        del document["profile"]
    profiles = document.get("profiles")
    if _mapping(profiles) and profile in profiles:
        changes.append(f"remove the legacy [profiles.{profile}] table")
        del profiles[profile]
        if not profiles:
            del document["profiles"]
    for name in chat_providers(document):
        changes.append(f'set wire_api = "responses" for provider {name!r} (was "chat")')
        document["model_providers"][name]["wire_api"] = WIRE_API
    return changes


def migrate_profile_chat(document: TOMLDocument) -> list[str]:
    """Other providers in the profile with wire_api = "chat" stop Codex from starting too."""
    changes = []
    for name in chat_providers(document):
        changes.append(f'set wire_api = "responses" for provider {name!r} in the profile')
        document["model_providers"][name]["wire_api"] = WIRE_API
    return changes
