"""Profile names, and the codex-cf command lines that carry one.

The one place that knows how a profile is named (the option, $CODEX_CF_PROFILE,
the default) and how a name goes into a command: the fix lines people are told
to type, and the `token print` arguments Codex runs in command mode.
"""

from __future__ import annotations

import os

from codex_cf.constants import DEFAULT_PROFILE, PROFILE_ENV, PROGRAM, Secret
from codex_cf.errors import UsageError

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def command_for(profile: str, command: str) -> str:
    """A codex-cf command line for this profile, as a user would type it."""
    if profile == DEFAULT_PROFILE:
        return f"{PROGRAM} {command}"
    return f"{PROGRAM} {command} --profile {profile}"


def valid_profile_name(name: str) -> bool:
    """Letters, digits, '.', '_', '-'; not starting with '.' or '-'; at most 64."""
    return (
        0 < len(name) <= 64
        and name[0] not in ".-"
        and all(character in _NAME_CHARACTERS for character in name)
    )


def resolve_name(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The profile to use: the option, else $CODEX_CF_PROFILE, else cloudflare-aig."""
    env = os.environ if environ is None else environ
    if option is not None:
        name, fix = option, f"use --profile {DEFAULT_PROFILE} or another valid name"
    else:
        name = env.get(PROFILE_ENV) or DEFAULT_PROFILE
        fix = f"fix or unset ${PROFILE_ENV}"
    if not valid_profile_name(name):
        raise UsageError(
            f"{name!r} is not a profile name (letters, digits, '.', '_', '-'; at most 64)", fix
        )
    return name


def auth_command_args(profile: str, secret: Secret) -> list[str]:
    """What Codex passes to codex-cf in command mode: print this profile's secret."""
    args = ["token", "print", "--profile", profile]
    if secret is not Secret.CLOUDFLARE:
        args += ["--which", secret.value]
    return args


def read_auth_command_args(args: object) -> tuple[Secret, str | None] | None:
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
