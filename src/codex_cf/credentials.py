"""The token store: the OS keyring, read fast where provably the same, bounded in time.

The only module that imports `keyring`, and only when it is needed: a warm
launch on Linux is answered by `secret_service.lookup`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from codex_cf import bounded, profile_facts, secret_service
from codex_cf.constants import (
    KEYRING_SERVICE,
    KEYRING_TIMEOUT_SECONDS,
    SECRET_LABEL,
    SECRET_VARIABLE,
    Secret,
)
from codex_cf.errors import KeyringUnavailable, TokenMissing

T = TypeVar("T")


def keyring_username(profile: str, secret: Secret) -> str:
    """The Cloudflare token is stored under the bare profile name (SPEC), others beside it."""
    return profile if secret is Secret.CLOUDFLARE else f"{profile}:{secret.value}"


def _remedies(secret: Secret) -> str:
    return (
        "unlock your desktop keyring, install a backend such as keyrings.alt "
        f"(pip install keyrings.alt), or set {SECRET_VARIABLE[secret]} for this shell"
    )


def _redacted(text: str, secret_value: str | None) -> str:
    if secret_value:
        text = text.replace(secret_value, "****")
    return text


def _call_keyring(
    action: Callable[[Any], T], secret: Secret, secret_value: str | None = None
) -> tuple[T, Any]:
    """Run action(keyring) under the deadline; every failure becomes one clear error."""

    def run() -> tuple[T, Any]:
        import keyring

        backend = keyring.get_keyring()
        return action(backend), backend

    try:
        return bounded.call_with_deadline(run, KEYRING_TIMEOUT_SECONDS)
    except bounded.DeadlineExceeded as exc:
        raise KeyringUnavailable(
            f"the keyring did not answer within {KEYRING_TIMEOUT_SECONDS:g} s "
            "(locked, or the Secret Service is not responding)",
            _remedies(secret),
        ) from exc
    except Exception as exc:
        raise KeyringUnavailable(_describe(exc, secret_value), _remedies(secret)) from None


def _describe(exc: Exception, secret_value: str | None) -> str:
    from keyring import errors

    if isinstance(exc, errors.NoKeyringError):
        return "no usable keyring backend was found on this machine"
    if isinstance(exc, errors.KeyringLocked):
        return "the keyring is locked"
    if isinstance(exc, errors.InitError):
        return "the keyring could not be opened (is the Secret Service running?)"
    detail = _redacted(str(exc), secret_value).splitlines()
    reason = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    return f"the keyring backend failed ({reason})"


def get(profile: str, secret: Secret, environ: Mapping[str, str] | None = None) -> str | None:
    """The stored token, or None when there is none."""
    env = os.environ if environ is None else environ
    username = keyring_username(profile, secret)
    fast = secret_service.lookup(username, env)
    if fast is not None:
        return fast
    found, backend = _call_keyring(lambda k: k.get_password(KEYRING_SERVICE, username), secret)
    value: str | None = found
    if value is not None:
        secret_service.record_backend(backend, env)
    return value


def store(
    profile: str, secret: Secret, value: str, environ: Mapping[str, str] | None = None
) -> str:
    """Save the token; returns the backend's name (for the message)."""
    env = os.environ if environ is None else environ
    username = keyring_username(profile, secret)
    _, backend = _call_keyring(
        lambda k: k.set_password(KEYRING_SERVICE, username, value), secret, value
    )
    secret_service.record_backend(backend, env)
    return secret_service.backend_name(backend)


def delete(profile: str, secret: Secret) -> bool:
    """Remove the token; False when there was none."""
    username = keyring_username(profile, secret)

    def remove(backend: Any) -> bool:
        from keyring.errors import PasswordDeleteError

        if backend.get_password(KEYRING_SERVICE, username) is None:
            return False
        try:
            backend.delete_password(KEYRING_SERVICE, username)
        except PasswordDeleteError:
            return False
        return True

    removed, _ = _call_keyring(remove, secret)
    return removed


def current_backend() -> str:
    """The backend keyring resolves here, for status and doctor."""
    _, backend = _call_keyring(lambda k: None, Secret.CLOUDFLARE)
    return secret_service.backend_name(backend)


def from_environment(environ: Mapping[str, str], variable: str) -> str | None:
    """A token variable as codex-cf reads it: stripped, and blank counts as unset.

    One rule for the launch, `token` and doctor, so a stray space or newline
    neither hides the keyring token nor reaches the gateway.
    """
    return environ.get(variable, "").strip() or None


class Resolved(NamedTuple):
    value: str | None
    source: str  # "environment" | "keyring" | "none"


def resolve(profile: str, secret: Secret, environ: Mapping[str, str] | None = None) -> Resolved:
    """The token codex-cf would use: the environment variable wins, then the keyring."""
    env = os.environ if environ is None else environ
    from_env = from_environment(env, SECRET_VARIABLE[secret])
    if from_env:
        return Resolved(from_env, "environment")
    stored = get(profile, secret, env)
    return Resolved(stored, "keyring" if stored else "none")


def set_command(profile: str, secret: Secret) -> str:
    """The command that stores this secret, as a user would type it."""
    command = profile_facts.command_for(profile, "token set")
    if secret is not Secret.CLOUDFLARE:
        command += f" --which {secret.value}"
    return command


def missing_error(profile: str, secret: Secret) -> TokenMissing:
    """No such secret anywhere: say so, and name the command that stores it."""
    return TokenMissing(
        f"no {SECRET_LABEL[secret]} for profile {profile!r} in the keyring or "
        f"${SECRET_VARIABLE[secret]}",
        set_command(profile, secret),
    )
