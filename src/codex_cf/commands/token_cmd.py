"""`codex-cf token`: the secrets live in the OS keyring and are shown masked, except by `print`."""

from __future__ import annotations

import os
import sys

from codex_cf import (
    credentials,
    gateway_url,
    paths,
    profile_names,
    profile_rules,
    terminal,
)
from codex_cf.constants import SECRET_LABEL, SECRET_VARIABLE, ExitStatus, Secret
from codex_cf.errors import (
    ApiUnreachable,
    KeyringUnavailable,
    NoSecureKeyring,
    TokenInactive,
    TokenInvalid,
    TokenMissing,
    UsageError,
)


def shape_problem(secret: Secret, value: str) -> str | None:
    """Cheap checks that catch a pasted wrong thing; never the token itself in the message."""
    if any(c.isspace() for c in value):
        return f"the {SECRET_LABEL[secret]} contains spaces"
    if not all(33 <= ord(c) < 127 for c in value):
        return f"the {SECRET_LABEL[secret]} holds characters no API token has"
    if secret is Secret.OPENAI and not value.startswith("sk-"):
        return "an OpenAI API key starts with sk-"
    return None


def read_new_secret(secret: Secret, profile: str, from_stdin: bool) -> str:
    label = SECRET_LABEL[secret]
    if from_stdin or not terminal.is_interactive():
        value = terminal.read_secret_from_stdin(label)
    else:
        value = terminal.ask_secret(f"{label} for profile {profile!r} (input hidden)").strip()
        if not value:
            raise UsageError(f"no {label} was entered", "run the command again and paste it")
    problem = shape_problem(secret, value)
    if problem:
        raise UsageError(f"{problem}; nothing was saved", "paste the value again")
    return value


def set_token(profile_option: str | None, secret: Secret, from_stdin: bool) -> int:
    profile = profile_names.resolve_name(profile_option)
    value = read_new_secret(secret, profile, from_stdin)
    backend = credentials.store(profile, secret, value)
    terminal.say(
        f"Saved the {SECRET_LABEL[secret]} for profile {profile!r} in the keyring ({backend})."
    )
    return ExitStatus.OK


def status(profile_option: str | None, secret: Secret) -> int:
    profile = profile_names.resolve_name(profile_option)
    variable = SECRET_VARIABLE[secret]
    print(f"profile:  {profile}")
    print(f"secret:   {SECRET_LABEL[secret]}")
    env_value = credentials.from_environment(os.environ, variable)
    try:
        backend = credentials.current_backend()
        stored = credentials.get(profile, secret)
    except KeyringUnavailable as error:
        if not env_value:
            raise
        print(f"keyring:  unavailable ({error.message})")
        stored = None
    else:
        held = f"stored {terminal.mask(stored)}" if stored else "nothing stored"
        print(f"keyring:  {backend} ({held})")
    if env_value:
        print(f"source:   environment (${variable} is set and wins) {terminal.mask(env_value)}")
    elif stored:
        print(f"source:   keyring {terminal.mask(stored)}")
    else:
        print("source:   none")
        raise credentials.missing_error(profile, secret)
    return ExitStatus.OK


def delete(profile_option: str | None, secret: Secret) -> int:
    profile = profile_names.resolve_name(profile_option)
    if credentials.delete(profile, secret):
        terminal.say(
            f"Deleted the {SECRET_LABEL[secret]} for profile {profile!r} from the keyring."
        )
    else:
        terminal.say(f"No {SECRET_LABEL[secret]} for profile {profile!r} was in the keyring.")
    if credentials.from_environment(os.environ, SECRET_VARIABLE[secret]):
        terminal.say(f"Note: ${SECRET_VARIABLE[secret]} is still set in this shell and wins.")
    return ExitStatus.OK


def print_token(profile_option: str | None, secret: Secret) -> int:
    """The one command that shows a secret in full: Codex's auth command and scripts read it."""
    profile = profile_names.resolve_name(profile_option)
    resolved = credentials.resolve(profile, secret)
    if not resolved.value:
        raise credentials.missing_error(profile, secret)
    sys.stdout.write(resolved.value + "\n")
    sys.stdout.flush()
    return ExitStatus.OK


def _account_id(profile: str) -> str | None:
    """The account in the profile's gateway URL: account-owned tokens are verified there."""
    provider = profile_rules.provider_table(profile_rules.check(profile).document)
    url = provider.get("base_url") if provider else None
    parts = gateway_url.gateway_coordinates(url) if isinstance(url, str) else None
    return parts[0] if parts else None


def verify(profile_option: str | None) -> int:
    from codex_cf import cloudflare_api

    profile = profile_names.resolve_name(profile_option)
    resolved = credentials.resolve(profile, Secret.CLOUDFLARE)
    if not resolved.value:
        raise credentials.missing_error(profile, Secret.CLOUDFLARE)
    token, account = resolved.value, _account_id(profile)
    verdict = terminal.run_with_progress(
        "token verify: waiting for Cloudflare's answer",
        lambda: cloudflare_api.verify_token(token, account),
    )
    source = f"(token from the {resolved.source})"
    if verdict.status is cloudflare_api.TokenStatus.ACTIVE:
        print(f"✓ {verdict.detail} {source}")
        return ExitStatus.OK
    fix = profile_names.command_for(profile, "token set")
    if verdict.status is cloudflare_api.TokenStatus.INACTIVE:
        raise TokenInactive(f"{verdict.detail} {source}", f"create a new token, then {fix}")
    if verdict.status is cloudflare_api.TokenStatus.INVALID:
        raise TokenInvalid(f"{verdict.detail} {source}", f"check the token, then {fix}")
    again = profile_names.command_for(profile, "token verify")
    raise ApiUnreachable(verdict.detail, f"check the network, then run {again} again")


def import_token(profile_option: str | None, secret: Secret) -> int:
    """Move a secret from the environment into the keyring; point at the plain-text copies."""
    from codex_cf import rc_files

    profile = profile_names.resolve_name(profile_option)
    variable = SECRET_VARIABLE[secret]
    value = credentials.from_environment(os.environ, variable)
    if not value:
        raise TokenMissing(
            f"${variable} is not set in this shell, so there is nothing to import",
            credentials.set_command(profile, secret),
        )
    problem = shape_problem(secret, value)
    if problem:
        raise UsageError(
            f"${variable} does not look right: {problem}",
            f"fix ${variable}, or use codex-cf token set",
        )
    backend = credentials.store(profile, secret, value)
    terminal.say(
        f"Saved ${variable} as the {SECRET_LABEL[secret]} for profile {profile!r} ({backend})."
    )
    exports = rc_files.find_exports([variable], paths.home())
    if exports:
        terminal.say("These lines still export it in plain text; delete them and open a new shell:")
        for found in exports:
            terminal.say(f"  {found.path}:{found.line}")
    else:
        terminal.say(f"Unset it in this shell: unset {variable}")
    return ExitStatus.OK


def prompt_for_launch(profile: str, secret: Secret, must_save: bool = False) -> str:
    """The launch found no secret on a terminal: ask (hidden), offer to save, go on.

    In command auth mode Codex asks codex-cf for the token later, so it must be saved.
    """
    label = SECRET_LABEL[secret]
    terminal.say(f"codex-cf: no {label} for profile {profile!r} in the keyring.")
    value = _ask_for_launch(profile, secret, f"{label} (input hidden)")
    if must_save:
        backend = credentials.store(profile, secret, value)
        terminal.say(f"Saved it in the keyring ({backend}): Codex asks codex-cf for it.")
    elif terminal.confirm("Save it in the keyring for next time?", default=True):
        backend = credentials.store(profile, secret, value)
        terminal.say(f"Saved ({backend}).")
    return value


def prompt_for_this_run(profile: str, secret: Secret, no_store: NoSecureKeyring) -> str:
    """No secure store on this machine: ask (hidden), use it once, say how to keep it safely."""
    label = SECRET_LABEL[secret]
    terminal.say(f"codex-cf: {no_store.message}, so there is no {label} for {profile!r}.")
    value = _ask_for_launch(profile, secret, f"{label} for this run only (input hidden)")
    terminal.say(f"Using it for this run only; nothing was saved. To keep it: {no_store.fix}")
    return value


def _ask_for_launch(profile: str, secret: Secret, prompt: str) -> str:
    """Ask (hidden) for a secret the launch needs; nothing usable stops Codex from starting."""
    value = terminal.ask_secret(prompt).strip()
    if not value:
        raise credentials.missing_error(profile, secret)
    problem = shape_problem(secret, value)
    if problem:
        raise UsageError(f"{problem}; Codex was not started", "run codex-cf again and paste it")
    return value
