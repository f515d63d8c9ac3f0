"""Codex's effective sandbox settings for a profile, and what they let the agent reach.

Codex layers the profile file over config.toml key by key (tables merge, the
profile's value wins), so each setting is looked up there first. Measured with
Codex 0.169.0 on Linux: the default sandbox (`read-only`, and `workspace-write`
without network) gives the agent's commands no D-Bus connection and their own
PID namespace; `network_access = true` opens the Secret Service to them; full
access also opens `/proc` of Codex's own processes. A `-s`/`-c` or
`--dangerously-bypass-approvals-and-sandbox` on Codex's command line is beyond
what any file can tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_cf import paths

FULL_ACCESS = "danger-full-access"
WORKSPACE_WRITE = "workspace-write"


@dataclass(frozen=True)
class Setting:
    """One effective value and the file it came from (None: Codex's default)."""

    value: Any
    source: Path | None


@dataclass(frozen=True)
class Sandbox:
    """The settings that decide what the agent's commands can reach."""

    mode: Setting
    network_access: Setting
    approval_policy: Setting

    @property
    def full_access(self) -> bool:
        return bool(self.mode.value == FULL_ACCESS)

    @property
    def network_open(self) -> bool:
        """workspace-write with network access: the bus, and so the keyring, is reachable."""
        return self.mode.value == WORKSPACE_WRITE and self.network_access.value is True

    @property
    def reaches_keyring(self) -> bool:
        return self.full_access or self.network_open

    def describe(self) -> str:
        """The settings as a user would write them, with where each came from."""
        if self.mode.value is None:
            text = "Codex's default sandbox"
        else:
            text = f'sandbox_mode = "{self.mode.value}"' + _where(self.mode)
        if self.mode.value == WORKSPACE_WRITE and self.network_access.value is not None:
            value = "true" if self.network_access.value is True else "false"
            text += f", network_access = {value}" + _where(self.network_access)
        if self.approval_policy.value is not None:
            text += f', approval_policy = "{self.approval_policy.value}"'
        return text

    def fix(self, profile_file: Path) -> str:
        """The change that keeps the agent away from the keyring, for this profile only."""
        if self.full_access:
            return (
                f'set sandbox_mode = "{WORKSPACE_WRITE}" in {profile_file}, or accept that '
                "the agent can read your keyring"
            )
        if self.network_open:
            return (
                f"set network_access = false under [sandbox_workspace_write] in {profile_file}, "
                "or accept that the agent can read your keyring"
            )
        return (
            "keep the token in the Secret Service (codex-cf token status names the backend): "
            "Codex's sandbox still lets the agent read files such as a keyring file"
        )


def _where(setting: Setting) -> str:
    return f" ({setting.source.name})" if setting.source is not None else ""


def _lookup(layers: list[tuple[Mapping[str, Any] | None, Path]], *keys: str) -> Setting:
    """The value of a dotted key in the first layer that has it."""
    for document, path in layers:
        value: Any = document
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None:
            return Setting(value, path)
    return Setting(None, None)


def effective(
    profile_document: Mapping[str, Any] | None,
    profile_file: Path,
    base_document: Mapping[str, Any] | None,
    base_file: Path,
) -> Sandbox:
    """The profile over config.toml, as Codex layers them."""
    layers = [(profile_document, profile_file), (base_document, base_file)]
    return Sandbox(
        mode=_lookup(layers, "sandbox_mode"),
        network_access=_lookup(layers, "sandbox_workspace_write", "network_access"),
        approval_policy=_lookup(layers, "approval_policy"),
    )


def _read(path: Path) -> dict[str, Any] | None:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def for_profile(profile: str, environ: Mapping[str, str] | None = None) -> Sandbox:
    """The effective settings of `codex --profile NAME` as the files on disk say."""
    profile_file = paths.profile_path(profile, environ)
    base_file = paths.base_config_path(environ)
    return effective(_read(profile_file), profile_file, _read(base_file), base_file)
