"""The token store: the OS keyring, read fast where provably the same, bounded in time.

The only module that imports `keyring`, and only when it is needed: a warm
launch on Linux is answered by `secret_service.lookup`. Every call through
keyring first checks the backend it resolved: a store a sandboxed agent could
read as a file is refused, whoever chose it; one codex-cf does not know is
used (the user installed it) and doctor says it cannot vouch for it.
"""

from __future__ import annotations

import os
import sys

from codex_cf import paths, profile_names, secret_service
from codex_cf.constants import (
    KEYRING_SERVICE,
    KEYRING_TIMEOUT_SECONDS,
    SECRET_LABEL,
    SECRET_VARIABLE,
    Secret,
)
from codex_cf.errors import KeyringUnavailable, NoSecureKeyring, TokenMissing
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    T = TypeVar("T")


def keyring_username(profile: str, secret: Secret) -> str:
    """The Cloudflare token is stored under the bare profile name, others as `profile:which`."""
    return profile if secret is Secret.CLOUDFLARE else f"{profile}:{secret.value}"


# Backends whose store keeps the token encrypted, out of reach of a sandboxed
# agent's file reads: desktop keyrings, and pass (GnuPG-encrypted files).
VOUCHED_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring_pass.PasswordStoreBackend",
    }
)
# Backends any program of the user can read as a file: plain text, or
# Windows DPAPI, which decrypts for every process of the user without a password.
PLAINTEXT_BACKENDS = frozenset(
    {
        "keyrings.alt.file.PlaintextKeyring",
        "keyrings.alt.Windows.EncryptedKeyring",
        "keyrings.alt.Windows.RegistryKeyring",
    }
)
_ABSENT_BACKENDS = ("keyring.backends.fail.", "keyring.backends.null.")
UNLOCK_COMMAND = (
    'bash -c \'read -rsp "Keyring password: " p; printf %s "$p"\' | '
    "gnome-keyring-daemon --replace --daemonize --unlock --components=secrets"
)


def is_plaintext(backend: str) -> bool:
    """A store that a sandboxed agent could read as a file (forks of keyrings.alt included)."""
    return backend in PLAINTEXT_BACKENDS or "plaintext" in backend.rsplit(".", 1)[-1].lower()


def is_vouched(backend: str) -> bool:
    return backend in VOUCHED_BACKENDS


def package_command(action: str, package: str) -> str:
    """How to add (install) or remove (uninstall) a package beside codex-cf, as it was installed."""
    from pathlib import Path

    prefix = Path(sys.prefix).as_posix()
    if "/pipx/venvs/" in prefix:
        if action == "install":
            return f"pipx inject codex-cf {package}"
        return f"pipx runpip codex-cf uninstall -y {package}"
    if "/uv/tools/" in prefix:
        if action == "install":
            return f"uv tool install codex-cf --with {package}"
        return f"uv pip uninstall --python {sys.executable} {package}"
    return f"{sys.executable} -m pip {action} {package}"


def store_options(secret: Secret) -> str:
    """The secure stores this machine can have, each as its next step."""
    import importlib.util
    import shutil

    steps = [] if shutil.which("pass") else ["apt install pass"]
    if importlib.util.find_spec("keyring_pass") is None:
        steps.append(package_command("install", "keyring-pass"))
    steps.append("pass init YOUR-GPG-KEY-ID")
    tools = ("gnome-keyring-daemon", "dbus-run-session")
    service = "" if all(map(shutil.which, tools)) else "apt install gnome-keyring dbus, then "
    return (
        f"store it with pass ({'; '.join(steps)}), or in a Secret Service for this login "
        f"({service}dbus-run-session -- $SHELL, then unlock it), see the README's "
        f"'Without a desktop keyring'; or set {SECRET_VARIABLE[secret]} for this run"
    )


def _unlock_remedy(secret: Secret) -> str:
    return (
        f"unlock it (on a desktop: in your keyring app; without one: {UNLOCK_COMMAND}), "
        f"or set {SECRET_VARIABLE[secret]} for this run"
    )


def _plaintext_remedy(backend: str, secret: Secret, environ: Mapping[str, str]) -> str:
    """Undo whatever chose the backend: the variable, keyringrc.cfg, or the installed package."""
    if environ.get("PYTHON_KEYRING_BACKEND"):
        undo = "unset PYTHON_KEYRING_BACKEND"
    else:
        rc = paths.keyring_config_file(environ)
        try:
            chosen_in_rc = "default-keyring" in rc.read_text(errors="replace")
        except OSError:
            chosen_in_rc = False
        if chosen_in_rc:
            undo = f"delete the default-keyring line in {rc}"
        else:
            top = backend.partition(".")[0]
            package = "keyrings.alt" if backend.startswith("keyrings.alt.") else top
            undo = package_command("uninstall", package)
    return f"{undo}, then {store_options(secret)}"


def _secure(backend: Any, secret: Secret, refuse_plaintext: bool) -> Any:
    """The backend to use: never an absent one, never plain text (unless only deleting).

    keyring's chainer (several backends installed) reads from each in turn and
    stores in the first; codex-cf uses its first member that is not plain text.
    """
    if type(backend).__qualname__ == "ChainerBackend":
        members = list(getattr(backend, "backends", None) or [])
        safe = [m for m in members if not is_plaintext(secret_service.backend_name(m))]
        backend = (safe or members or [backend])[0]
    name = secret_service.backend_name(backend)
    if name.startswith(_ABSENT_BACKENDS) or type(backend).__qualname__ == "ChainerBackend":
        raise NoSecureKeyring(
            "no usable keyring backend was found on this machine", store_options(secret)
        )
    if refuse_plaintext and is_plaintext(name):
        raise NoSecureKeyring(
            f"the keyring backend {name} keeps secrets in a file that any program, Codex's "
            "sandboxed agent included, can read; codex-cf refuses to use it",
            _plaintext_remedy(name, secret, os.environ),
        )
    return backend


def _redacted(text: str, secret_value: str | None) -> str:
    if secret_value:
        text = text.replace(secret_value, "****")
    return text


def _call_keyring(
    action: Callable[[Any], T],
    secret: Secret,
    secret_value: str | None = None,
    refuse_plaintext: bool = True,
) -> tuple[T, Any]:
    """Run action(backend) under the deadline; every failure becomes one clear error."""
    from codex_cf import bounded  # its thread only for keyring: the fast path has a timeout

    stderr = sys.stderr

    def run() -> tuple[T, Any]:
        import keyring

        # Discovery asks every installed backend whether it is usable; some (keyring-pass
        # before `pass init`) print their no on stderr. The answer is judged here instead.
        with open(os.devnull, "w") as quiet:
            sys.stderr = quiet
            try:
                backend = _secure(keyring.get_keyring(), secret, refuse_plaintext)
            finally:
                sys.stderr = stderr
        return action(backend), backend

    try:
        return bounded.call_with_deadline(run, KEYRING_TIMEOUT_SECONDS)
    except KeyringUnavailable:
        raise
    except bounded.DeadlineExceeded as exc:
        sys.stderr = stderr  # discovery may still hang, its stderr swapped
        raise KeyringUnavailable(
            f"the keyring did not answer within {KEYRING_TIMEOUT_SECONDS:g} s "
            "(locked, or the Secret Service is not responding)",
            _unlock_remedy(secret),
        ) from exc
    except Exception as exc:
        raise _describe(exc, secret, secret_value) from None


def _describe(exc: Exception, secret: Secret, secret_value: str | None) -> KeyringUnavailable:
    from keyring import errors

    if isinstance(exc, errors.NoKeyringError):
        return NoSecureKeyring(
            "no usable keyring backend was found on this machine", store_options(secret)
        )
    if isinstance(exc, errors.KeyringLocked):
        return KeyringUnavailable("the keyring is locked", _unlock_remedy(secret))
    if isinstance(exc, errors.InitError):
        return NoSecureKeyring(
            "the keyring could not be opened (no Secret Service is running here)",
            store_options(secret),
        )
    detail = _redacted(str(exc), secret_value).splitlines()
    reason = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    return KeyringUnavailable(
        f"the keyring backend failed ({reason})",
        f"check it with codex-cf doctor, or set {SECRET_VARIABLE[secret]} for this run",
    )


def _token_or_none(found: object, profile: str, secret: Secret) -> str | None:
    """What a backend returned, if it is a usable token; garbage is an error, never used."""
    if found is None:
        return None
    value = found.strip() if isinstance(found, str) else ""
    if not value or not value.isprintable() or any(c.isspace() for c in value):
        raise KeyringUnavailable(
            f"the keyring returned something that is not a {SECRET_LABEL[secret]} "
            f"for profile {profile!r}",
            f"store it again: {set_command(profile, secret)}",
        )
    return value


def get(profile: str, secret: Secret, environ: Mapping[str, str] | None = None) -> str | None:
    """The stored token, or None when there is none."""
    env = os.environ if environ is None else environ
    username = keyring_username(profile, secret)
    fast = secret_service.lookup(username, env)
    if fast is not None:
        return _token_or_none(fast, profile, secret)
    found, backend = _call_keyring(lambda k: k.get_password(KEYRING_SERVICE, username), secret)
    value = _token_or_none(found, profile, secret)
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
    """Remove the token; False when there was none. Also from a plain-text store: cleaning up."""
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

    removed, _ = _call_keyring(remove, secret, refuse_plaintext=False)
    return removed


def holder(profile: str, secret: Secret) -> str | None:
    """The backend that holds this secret, else None; a plain-text store too, so that
    remove can clean it up (its value is looked at only to see that there is one)."""
    username = keyring_username(profile, secret)
    found, backend = _call_keyring(
        lambda k: k.get_password(KEYRING_SERVICE, username) is not None,
        secret,
        refuse_plaintext=False,
    )
    return secret_service.backend_name(backend) if found else None


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
    command = profile_names.command_for(profile, "token set")
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
