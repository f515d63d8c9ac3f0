"""The launch's fast path: the Secret Service item keyring itself would return.

`import keyring` plus its backend discovery costs more than the whole rest
of a launch. On Linux keyring's SecretService backend is a thin layer over
`secretstorage`; this module asks the Secret Service the very same
question (default collection, attributes service + username) through
`dbus_secret`, without keyring, secretstorage, jeepney or cryptography, but
only while everything keyring uses to choose its backend is unchanged since
keyring itself last answered (`record_backend`). Any doubt returns None, and
the caller asks keyring.
"""

from __future__ import annotations

import sys

from codex_cf import launch_cache, paths
from codex_cf.constants import FAST_KEYRING_TIMEOUT_SECONDS, KEYRING_SERVICE

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"


def fingerprint(environ: Mapping[str, str]) -> list[Any] | None:
    """Everything keyring's backend choice depends on, or None if it is not knowable here.

    keyring picks its backend from PYTHON_KEYRING_BACKEND, keyringrc.cfg, the
    installed backend plugins (site-packages changes whenever a package is
    installed or removed) and, for KWallet's priority, the desktop; backend
    properties come from KEYRING_PROPERTY_* variables.
    """
    if not sys.platform.startswith("linux"):
        return None
    if any(name.startswith("KEYRING_PROPERTY_") for name in environ):
        return None
    return [
        sys.executable,
        environ.get("PYTHON_KEYRING_BACKEND"),
        launch_cache.file_signature(paths.keyring_config(environ)),
        environ.get("XDG_CURRENT_DESKTOP"),
        # sys.path[0] is the script's folder (or the working one), not where backends install.
        [launch_cache.file_signature(entry) for entry in sys.path[1:] if entry],
    ]


def backend_name(backend: object) -> str:
    """A keyring backend as keyring names it (PYTHON_KEYRING_BACKEND's form)."""
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def record_backend(backend: object, environ: Mapping[str, str]) -> None:
    """Remember which backend answered, for the next launches.

    This is the backend credentials actually asked: for keyring's chainer
    (several backends installed, e.g. keyrings.alt beside the Secret Service)
    its first member that is not plain text, so a hit read here is its answer.
    """
    name = backend_name(backend)
    customised = getattr(backend, "scheme", "default") != "default" or hasattr(
        backend, "preferred_collection"
    )
    launch_cache.store(
        launch_cache.KEYRING_BACKEND,
        {"backend": name, "customised": customised, "fingerprint": fingerprint(environ)},
        environ,
    )


def _lookup(username: str, environ: Mapping[str, str]) -> str | None:
    from codex_cf import dbus_secret

    attributes = {"username": username, "service": KEYRING_SERVICE}
    return dbus_secret.lookup(attributes, environ, FAST_KEYRING_TIMEOUT_SECONDS)


def lookup(username: str, environ: Mapping[str, str]) -> str | None:
    """The token keyring would return, or None for a miss or any doubt."""
    record = launch_cache.load(launch_cache.KEYRING_BACKEND, environ)
    if record.get("backend") != SECRET_SERVICE_BACKEND or record.get("customised", True):
        return None
    current = fingerprint(environ)
    if current is None or record.get("fingerprint") != _jsonable(current):
        return None
    return _lookup(username, environ)


def _jsonable(value: Any) -> Any:
    """The value as it reads back from JSON (tuples become lists)."""
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
