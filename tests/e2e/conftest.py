"""Fixtures for tests that drive the real Codex."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import real_parts
from helpers.secret_service import SecretServiceSession
from helpers.tokens import Withheld, fake_token


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives real parts: `pytest -m "not e2e"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def codex(home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real Codex for codex-cf, and a TMPDIR that does not hold CODEX_HOME.

    Codex will not create its helper binaries under the temporary folder
    (and warns) when CODEX_HOME is inside it, as pytest's tmp_path is in /tmp.
    """
    path = real_parts.real_codex()
    monkeypatch.setenv("CODEX_CF_CODEX", path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The folder Codex works in."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def token(real_keyring: SecretServiceSession) -> Iterator[Withheld]:
    """A fake token in the real Secret Service, for the default profile."""
    value = fake_token()
    real_keyring.clear("cloudflare-aig")
    real_keyring.store("cloudflare-aig", value)
    yield value
    real_keyring.clear("cloudflare-aig")


@pytest.fixture
def headless(home, monkeypatch: pytest.MonkeyPatch) -> None:
    """No D-Bus session and no store chosen by a variable: keyring decides alone, as on
    a fresh SSH box (with keyrings.alt installed, that is its plain-text file)."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("GNUPGHOME", raising=False)
    monkeypatch.delenv("PASSWORD_STORE_DIR", raising=False)
