"""Keyring backends for tests, selected with PYTHON_KEYRING_BACKEND.

`FileKeyring` shares its items between the test and the codex-cf processes
it starts (a JSON file named by CODEX_CF_TEST_KEYRING_FILE); the others
cause the faults a real store cannot be made to cause on demand.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

FILE_ENV = "CODEX_CF_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]  # never chosen or chained unless named

    def _path(self) -> Path:
        return Path(os.environ[FILE_ENV])

    def _items(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._items().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._items()
        items[f"{service}\0{username}"] = password
        self._path().write_text(json.dumps(items))

    def delete_password(self, service: str, username: str) -> None:
        items = self._items()
        if items.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._path().write_text(json.dumps(items))


class RaisingKeyring(KeyringBackend):
    """A backend whose every call fails, its message carrying the password it was given."""

    priority = -1  # type: ignore[assignment]  # never chosen or chained unless named

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("backend exploded")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"backend exploded while storing {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("backend exploded")


class HangingKeyring(KeyringBackend):
    """A backend that never answers (a Secret Service stuck behind a prompt)."""

    priority = -1  # type: ignore[assignment]  # never chosen or chained unless named

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(3600)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(3600)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(3600)


class LockedKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]  # never chosen or chained unless named

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class GarbageKeyring(KeyringBackend):
    """A backend that accepts anything and answers with bytes no token is made of."""

    priority = -1  # type: ignore[assignment]  # never chosen or chained unless named

    def get_password(self, service: str, username: str) -> str | None:
        return b"\x00\xff garbage\n" * 3  # type: ignore[return-value]

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass
