"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from codex_cf import credentials
from codex_cf.constants import Secret
from helpers.tokens import fake_token


@pytest.fixture
def token() -> str:
    """A fake token stored for the default profile (in the test's file keyring)."""
    value = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, value)
    return value
