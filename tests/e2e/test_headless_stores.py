"""The README's recipes for machines without a desktop keyring, end to end with the real Codex.

Each test starts with no D-Bus session in its environment, as over SSH or in
a container: pass (GnuPG) through keyring-pass, and a private Secret Service
for the login (gnome-keyring in dbus-run-session, unlocked with a password).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_cf.fake_gateway import FakeGateway
from helpers import profiles, real_parts
from helpers.process import run_codex_cf
from helpers.tokens import Withheld, assert_absent, assert_same_secret, fake_token

VARIABLE = "CLOUDFLARE_API_KEY"
COMMAND = f'printenv {VARIABLE}; echo "printenv status: $?"'
KEYRING_PASSWORD = "codex-cf-login-password"


@pytest.fixture
def gateway(home, headless) -> Iterator[FakeGateway]:
    with FakeGateway(profiles.ACCOUNT, "headless", COMMAND) as running:
        profiles.write(home.profile(), profiles.with_base_url(running.base_url))
        yield running


def _codex_turn_used(gateway: FakeGateway, token: str, done: subprocess.CompletedProcess[str]):
    """Codex got the stored token, and its agent could not read it."""
    assert_absent(token, done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr[-2000:]
    sent = gateway.responses_requests()
    assert sent, "no request reached the gateway"
    for request in sent:
        assert_same_secret(
            Withheld(request.header("Authorization") or ""), Withheld(f"Bearer {token}"), "auth"
        )
    assert gateway.turn_completed.wait(0), "Codex never sent the command's output back"
    (output,) = gateway.tool_outputs
    assert_absent(token, output, where="the agent's command output")
    assert "printenv status: 1" in output


@pytest.fixture
def pass_store(headless, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throwaway GnuPG home with a passphrase-less test key, and `pass init` done with it."""
    for tool in ("pass", "gpg", "gpg-agent"):
        real_parts.tool(tool)
    gnupg = Path(tempfile.mkdtemp(prefix="cf-gpg-"))  # short: the agent's socket lives there
    store = gnupg.parent / f"{gnupg.name}-store"
    gnupg.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(gnupg))
    monkeypatch.setenv("PASSWORD_STORE_DIR", str(store))
    try:
        subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
             "--quick-gen-key", "codex-cf test <test@example.invalid>", "default", "default",
             "never"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            ["pass", "init", "test@example.invalid"], check=True, capture_output=True, timeout=60
        )
        yield store
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(gnupg, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)


def test_pass_recipe_with_the_real_codex(codex, project, gateway, pass_store) -> None:
    token = fake_token()
    saved = run_codex_cf("token", "set", "--stdin", stdin_text=token)
    assert saved.returncode == 0, saved.stderr
    assert "keyring_pass.PasswordStoreBackend" in saved.stderr
    shown = subprocess.run(
        ["pass", "show", "python-keyring/codex-cf/cloudflare-aig"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert_same_secret(shown.stdout.strip(), token, "pass show")
    stored = [p for p in pass_store.rglob("*") if p.is_file()]
    assert any(p.suffix == ".gpg" for p in stored)
    for path in stored:
        assert_absent(token, path.read_bytes(), where=str(path))  # encrypted, not plain text
    doctor = run_codex_cf("doctor", "--offline")
    assert "✓ keyring backend keyring_pass.PasswordStoreBackend" in doctor.stdout
    done = run_codex_cf("exec", "--skip-git-repo-check", "hi", cwd=str(project), timeout=180)
    _codex_turn_used(gateway, token, done)


_LOGIN = """
set -e
# The README's unlock line, with the password from a variable instead of the terminal.
printf '%s' "$KEYRING_PASSWORD" |
  gnome-keyring-daemon --replace --daemonize --unlock --components=secrets >/dev/null
"""


def _login_session(script: str, stdin_text: str | None, cwd: Path) -> subprocess.CompletedProcess:
    """One login: a private session bus, the keyring unlocked, then the script's commands."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        real_parts.tool(tool)
    runtime = Path(tempfile.mkdtemp(prefix="cf-run-"))
    env = dict(os.environ, KEYRING_PASSWORD=KEYRING_PASSWORD, XDG_RUNTIME_DIR=str(runtime))
    env["PATH"] = os.pathsep.join([str(Path(real_parts.codex_cf()).parent), env["PATH"]])
    try:
        return subprocess.run(
            ["dbus-run-session", "--", "bash", "-c", _LOGIN + script],
            input=stdin_text, stdin=None if stdin_text else subprocess.DEVNULL,
            capture_output=True, text=True, env=env, cwd=cwd, timeout=240, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def test_private_secret_service_recipe_with_the_real_codex(codex, project, headless, home) -> None:
    token = fake_token()
    # The agent also asks the Secret Service itself: its D-Bus connection is refused.
    lookup = 'secret-tool lookup service codex-cf username cloudflare-aig; echo "lookup: $?"'
    with FakeGateway(profiles.ACCOUNT, "headless", f"{COMMAND}; {lookup}") as gateway:
        profiles.write(home.profile(), profiles.with_base_url(gateway.base_url))
        first = _login_session(
            "codex-cf token set --stdin\ncodex-cf exec --skip-git-repo-check hi\n", token, project
        )
        assert "keyring.backends.SecretService.Keyring" in first.stderr, first.stderr[-2000:]
        _codex_turn_used(gateway, token, first)
        (output,) = gateway.tool_outputs
        assert "lookup: " in output
        assert "lookup: 0" not in output
    keyrings = list((home.home / ".local" / "share" / "keyrings").glob("*.keyring"))
    assert keyrings, "gnome-keyring kept no keyring file in the HOME"
    for path in keyrings:
        assert_absent(token, path.read_bytes(), where=str(path))  # encrypted at rest
    # The next login unlocks the same keyring with the same password, and the token is there.
    with FakeGateway(profiles.ACCOUNT, "headless", COMMAND) as again:
        profiles.write(home.profile(), profiles.with_base_url(again.base_url))
        second = _login_session("codex-cf exec --skip-git-repo-check hi\n", None, project)
        _codex_turn_used(again, token, second)


def test_the_agent_cannot_read_the_pass_store(codex, project, home, pass_store) -> None:
    """Codex's default sandbox: the agent's `pass show` gets nothing (gpg-agent is out of reach)."""
    token = fake_token()
    assert run_codex_cf("token", "set", "--stdin", stdin_text=token).returncode == 0
    command = 'pass show python-keyring/codex-cf/cloudflare-aig; echo "pass status: $?"'
    with FakeGateway(profiles.ACCOUNT, "headless", command) as gateway:
        profiles.write(home.profile(), profiles.with_base_url(gateway.base_url))
        done = run_codex_cf("exec", "--skip-git-repo-check", "hi", cwd=str(project), timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        assert gateway.turn_completed.wait(0), "Codex never sent the command's output back"
        (output,) = gateway.tool_outputs
    assert_absent(token, output, where="the agent's command output")
    assert "pass status: " in output
    assert "pass status: 0" not in output, output[-600:]
