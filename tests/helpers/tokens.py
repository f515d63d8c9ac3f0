"""Comparing secrets without ever showing them, even in a failure message.

These helpers raise AssertionError themselves: pytest rewrites `assert` only
in test modules and conftest files, so nothing here echoes the operands.
"""

from __future__ import annotations

import hashlib
import secrets


class Withheld(str):
    """A token whose repr never shows it: pytest prints frame arguments on failure."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<token withheld>'"


def fake_token(label: str = "cf") -> Withheld:
    """A fresh fake token: long, random, and recognisable as a test value."""
    return Withheld(f"test-{label}-{secrets.token_hex(16)}")


def digest(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:16]


def assert_absent(secret: str, *texts: str | bytes, where: str = "output") -> None:
    __tracebackhide__ = True  # the frame's arguments hold the token
    needle = secret.encode()
    for index, text in enumerate(texts):
        haystack = text.encode(errors="surrogateescape") if isinstance(text, str) else text
        if needle in haystack:
            raise AssertionError(f"the token appears in {where} #{index} (value withheld)")


def assert_no_part(secret: str, text: str, where: str = "output", length: int = 8) -> None:
    """Not the token, nor any `length` characters of it in a row (a mask shows fewer)."""
    __tracebackhide__ = True  # the frame's arguments hold the token
    parts = {secret[i : i + length] for i in range(len(secret) - length + 1)}
    if any(part in text for part in parts):
        raise AssertionError(f"{length} characters of the token appear in {where} (withheld)")


def assert_same_secret(actual: str | bytes | None, expected: str, what: str = "value") -> None:
    __tracebackhide__ = True  # the frame's arguments hold the token
    if digest(actual) != digest(expected):
        raise AssertionError(
            f"{what} differs from the expected token "
            f"(sha256 {digest(actual)} != {digest(expected)}; values withheld)"
        )
