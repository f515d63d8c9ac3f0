"""Driving codex-cf through a real pseudo-terminal, as a person at a keyboard would."""

from __future__ import annotations

import os

import pexpect

from helpers import real_parts


def spawn(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> pexpect.spawn:
    child = pexpect.spawn(
        real_parts.codex_cf(),
        list(args),
        env=env if env is not None else dict(os.environ),
        encoding="utf-8",
        timeout=timeout,
        dimensions=(40, 160),
    )
    return child


def finish(child: pexpect.spawn, timeout: float = 120) -> int:
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


ACCOUNT_PROMPT = "Cloudflare account ID (32 hex characters): "
_DEFAULTS_AFTER_ACCOUNT = (
    "AI Gateway slug [default]: ",
    "Billing [1]: ",
    "Model [gpt-5.5]: ",
    "Reasoning effort [medium]: ",
)


def answer_setup(child: pexpect.spawn, account: str, account_prompt: str = ACCOUNT_PROMPT) -> None:
    """Answer setup's interview up to the token: `account` to the account question,
    then Enter to the gateway, billing, model and effort questions, taking the defaults."""
    child.expect_exact(account_prompt)
    child.sendline(account)
    for prompt in _DEFAULTS_AFTER_ACCOUNT:
        child.expect_exact(prompt)
        child.sendline("")
