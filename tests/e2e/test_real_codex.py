"""The real Codex 0.169.0 through codex-cf, against a fake AI Gateway on 127.0.0.1.

The token comes from the real Secret Service; the gateway checks what
arrived, and asks the agent to read the token variable with a shell command.
Everything that may hold the token is wrapped in `Withheld` before an
assertion can show it: pytest prints the arguments of every failing frame.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex_cf.fake_gateway import FakeGateway
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import Withheld, assert_absent, assert_same_secret, fake_token

PROFILE = "cloudflare-aig"
GATEWAY = "codex-e2e"
VARIABLE = "CLOUDFLARE_API_KEY"
# printenv exits 1 when the variable is unset: the status line proves the
# command ran, whatever the output around it looks like in this Codex.
COMMAND = f'printenv {VARIABLE}; echo "printenv status: $?"'
RUNTIME_ONLY_ERROR = "--profile only applies to runtime commands"
EXCLUDE = f'[shell_environment_policy]\nexclude = ["{VARIABLE}"]\n'


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: Withheld
    stderr: Withheld


def _outcome(done: subprocess.CompletedProcess[str]) -> Outcome:
    return Outcome(done.returncode, Withheld(done.stdout), Withheld(done.stderr))


def _redacted(text: str, token: str) -> str:
    return text.replace(token, "<token>")


@pytest.fixture
def gateway(home):
    """The gateway, and a current profile pointing at it."""
    with FakeGateway(profiles.ACCOUNT, GATEWAY, COMMAND) as running:
        _write_profile(home, running)
        yield running


def _write_profile(home, gateway: FakeGateway, text: str = profiles.CURRENT) -> Path:
    return profiles.write(home.profile(PROFILE), profiles.with_base_url(gateway.base_url, text))


def _check_requests(gateway: FakeGateway, token: str) -> None:
    sent = gateway.responses_requests()
    assert sent, f"no request reached {gateway.responses_path}: {gateway.requests}"
    assert all(r.path == gateway.responses_path for r in gateway.requests if r.method == "POST")
    for request in sent:
        assert len(request.header_values("Authorization")) == 1
        assert_same_secret(
            Withheld(request.header("Authorization") or ""),
            Withheld(f"Bearer {token}"),
            "Authorization",
        )


def _one_tool_output(gateway: FakeGateway) -> Withheld:
    outputs = gateway.tool_outputs
    assert len(outputs) == 1, "Codex did not send back exactly one command output"
    return Withheld(outputs[0])


def test_exec_sends_keyring_token_and_hides_it_from_the_agent(
    codex, project, gateway, token
) -> None:
    done = _outcome(
        run_codex_cf(
            "exec", "--skip-git-repo-check", "check the variable", cwd=str(project), timeout=180
        )
    )
    assert_absent(token, done.stdout, done.stderr)
    assert done.status == 0, done.stderr
    assert gateway.wait_for_turn(0), "Codex never sent the command's output back"
    _check_requests(gateway, token)
    output = _one_tool_output(gateway)
    assert_absent(token, output, where="the agent's command output")
    assert "printenv status: 1" in output, output[-300:]
    assert gateway.reply in done.stdout
    assert "Refusing to create helper binaries" not in done.stderr


@pytest.mark.parametrize("value", ["blank", "padded"])
def test_whitespace_around_the_variable_never_reaches_the_gateway(
    codex, project, gateway, token, value
) -> None:
    """A blank variable is no token (the keyring's is sent); a padded one is sent stripped."""
    own = fake_token("env")
    given = " \n" if value == "blank" else f"  {own}\n"
    done = _outcome(
        run_codex_cf(
            "exec",
            "--skip-git-repo-check",
            "check the variable",
            cwd=str(project),
            timeout=180,
            env={**os.environ, VARIABLE: given},
        )
    )
    assert done.status == 0, _redacted(_redacted(done.stderr, token), own)
    _check_requests(gateway, token if value == "blank" else own)


def test_without_the_exclude_the_agent_reads_the_token(
    home, codex, project, gateway, token
) -> None:
    """The control: the same check sees a leak when the profile lacks the exclude.

    codex-cf refuses such a profile, so the real Codex runs it directly with
    the variable exported, as a hand-written setup would.
    """
    text = profiles.CURRENT.replace(EXCLUDE, "")
    assert text != profiles.CURRENT
    _write_profile(home, gateway, text)
    done = _outcome(
        subprocess.run(
            [codex, "--profile", PROFILE, "exec", "--skip-git-repo-check", "check the variable"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={**os.environ, VARIABLE: token},
            cwd=project,
            timeout=180,
            check=False,
        )
    )
    assert done.status == 0, _redacted(done.stderr, token)
    _check_requests(gateway, token)
    output = _one_tool_output(gateway)
    leaked = token in output
    assert leaked, _redacted(output, token)
    assert "printenv status: 0" in output, _redacted(output, token)


def test_codex_cf_refuses_the_profile_without_the_exclude(
    home, codex, project, gateway, token
) -> None:
    _write_profile(home, gateway, profiles.CURRENT.replace(EXCLUDE, ""))
    done = _outcome(
        run_codex_cf("exec", "--skip-git-repo-check", "hi", cwd=str(project), timeout=60)
    )
    assert_absent(token, done.stdout, done.stderr)
    assert done.status != 0
    assert gateway.requests == []


@pytest.mark.parametrize("args", [("login", "status"), ("features", "list")])
def test_non_runtime_commands_reach_codex_without_profile(
    codex, project, gateway, token, args
) -> None:
    """With a profile and a token at hand, codex-cf still adds no --profile here."""
    done = _outcome(run_codex_cf(*args, cwd=str(project), timeout=60))
    assert_absent(token, done.stdout, done.stderr)
    assert RUNTIME_ONLY_ERROR not in done.stderr
    direct = _outcome(
        subprocess.run(
            [codex, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=project,
            timeout=60,
            check=False,
        )
    )
    assert done == direct, f"codex-cf: {done.status} {done.stderr[-500:]}; codex: {direct.status}"
    assert done.stdout or done.stderr
    assert gateway.requests == []
