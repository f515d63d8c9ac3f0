"""No plain text, ever: keyrings.alt's PlaintextKeyring is refused whoever chose it.

keyrings.alt is really installed (test extras). Without a D-Bus session keyring
picks its plain-text file on its own, as on a fresh SSH box; the variable and
keyringrc.cfg choose it explicitly. Also: what a machine without a secure
store still gets (CI with the variable, a one-off hidden prompt, a setup that
says so first).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_cf.constants import ExitStatus
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.terminal import answer_setup, finish, spawn
from helpers.tokens import assert_absent, digest, fake_token

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
REFUSED = "codex-cf refuses to use it"


def _choose_plaintext(chooser: str, home, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make keyrings.alt's plain-text backend the choice; the fix words that undo it."""
    if chooser == "PYTHON_KEYRING_BACKEND":
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", PLAINTEXT)
        return "unset PYTHON_KEYRING_BACKEND"
    if chooser == "keyringrc.cfg":
        rc = home.config / "python_keyring" / "keyringrc.cfg"
        rc.parent.mkdir(parents=True)
        rc.write_text(f"[backend]\ndefault-keyring={PLAINTEXT}\n")
        return f"delete the default-keyring line in {rc}"
    return "uninstall keyrings.alt"


def _plant(token: str) -> Path:
    """A token already in the plain-text file (written by keyrings.alt, as before the fix)."""
    code = (
        "import sys; from keyrings.alt.file import PlaintextKeyring as K; "
        "k = K(); k.set_password('codex-cf', 'cloudflare-aig', sys.stdin.read()); "
        "print(k.file_path)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=token, capture_output=True, text=True, check=True
    )
    return Path(done.stdout.strip())


def _plain_text_digest() -> str | None:
    """The digest (helpers.tokens.digest) of what keyrings.alt's plain-text file holds for
    codex-cf, None for nothing.

    Read through keyrings.alt itself: it keeps values base64-encoded, so the file never
    shows the token's own bytes, stored or not.
    """
    code = (
        "import hashlib; from keyrings.alt.file import PlaintextKeyring as K; "
        "v = K().get_password('codex-cf', 'cloudflare-aig'); "
        "print('' if v is None else hashlib.sha256(v.encode()).hexdigest()[:16])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip() or None


def _checks(doctor_json: str) -> dict[str, dict[str, str]]:
    return {c["id"]: c for c in json.loads(doctor_json)["checks"]}


def _files_holding(token: str, root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]


@pytest.mark.parametrize("chooser", ["PYTHON_KEYRING_BACKEND", "keyringrc.cfg", "keyring itself"])
def test_plain_text_is_refused_for_storing_and_reading(
    headless, home, stand_in, monkeypatch, chooser
) -> None:
    undo = _choose_plaintext(chooser, home, monkeypatch)
    profiles.write(home.profile())
    planted = fake_token("planted")
    _plant(planted)
    token = fake_token()
    for args, stdin in (
        (["token", "set", "--stdin"], token),
        (["token", "print"], None),
        (["exec", "hi"], None),
        (["setup", "--yes", "--token-stdin"], token),
    ):
        done = run_codex_cf(*args, stdin_text=stdin)
        assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE, (args, done.stderr)
        assert REFUSED in done.stderr
        assert undo in done.stderr
        assert "pass" in done.stderr
        assert "Traceback" not in done.stderr
        assert_absent(planted, done.stdout, done.stderr)
    assert stand_in.runs() == []
    assert _plain_text_digest() == digest(planted)  # the new token was never written there
    encoded = (token.encode(), base64.b64encode(token.encode()))
    leftovers = [
        p
        for p in home.root.rglob("*")
        if p.is_file() and any(form in p.read_bytes() for form in encoded)
    ]
    assert leftovers == []
    doctor = run_codex_cf("doctor", "--offline", "--json")
    assert doctor.returncode == 1
    keyring_check = _checks(doctor.stdout)["keyring.backend"]
    assert keyring_check["status"] == "fail"
    assert undo in keyring_check["fix"]
    # token delete still works on it: it removes the plain-text copy.
    deleted = run_codex_cf("token", "delete")
    assert deleted.returncode == 0, deleted.stderr
    assert _plain_text_digest() is None


def test_beside_a_secure_backend_the_plain_text_one_is_never_read(real_keyring, home) -> None:
    """keyring chains every installed backend; codex-cf reads the secure one only."""
    real_keyring.clear("cloudflare-aig")
    planted = fake_token("planted")
    _plant(planted)
    done = run_codex_cf("token", "print")
    assert done.returncode == ExitStatus.TOKEN_MISSING, done.stderr
    assert_absent(planted, done.stdout, done.stderr)
    token = fake_token()
    assert run_codex_cf("token", "set", "--stdin", stdin_text=token).returncode == 0
    assert digest(real_keyring.lookup("cloudflare-aig")) == digest(token)


def test_ci_with_the_variable_and_no_keyring_is_green(
    headless, home, stand_in, monkeypatch
) -> None:
    profiles.write(home.profile())
    token = fake_token()
    monkeypatch.setenv("CLOUDFLARE_API_KEY", token)
    done = run_codex_cf("doctor", "--offline", "--json")
    checks = _checks(done.stdout)
    assert done.returncode == 0, [c for c in checks.values() if c["status"] == "fail"]
    assert checks["keyring.backend"]["status"] == "skip"
    assert "not used" in checks["keyring.backend"]["message"]
    assert checks["token.cloudflare"]["status"] == "ok"
    assert run_codex_cf("exec", "hi").returncode == 0
    (run,) = stand_in.runs()
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)


def test_launch_without_a_secure_store_asks_for_this_run_only(headless, home, stand_in) -> None:
    profiles.write(home.profile())
    token = fake_token()
    child = spawn("exec", "hello", env=dict(os.environ))
    child.expect_exact(REFUSED)
    child.expect_exact("Cloudflare API token for this run only (input hidden): ")
    child.sendline(token)
    child.expect_exact("Using it for this run only; nothing was saved. To keep it:")
    assert finish(child) == 0
    assert_absent(token, child.before or "", where="the terminal")
    (run,) = stand_in.runs()
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)
    leftovers = [
        p for p in home.root.rglob("*") if p.is_file() and token.encode() in p.read_bytes()
    ]
    assert leftovers == []


def test_setup_says_first_and_can_finish_without_the_token(headless, home) -> None:
    child = spawn("setup", env=dict(os.environ))
    child.expect_exact(REFUSED)
    before_question = child.before
    child.expect_exact("Set up the profile now and store the token later? [Y/n] ")
    assert "account ID" not in before_question + child.before  # nothing was asked before
    child.sendline("y")
    answer_setup(child, profiles.ACCOUNT)
    child.expect_exact("Write these changes? [Y/n] ")
    assert "Cloudflare API token" not in child.before
    child.sendline("y")
    assert finish(child) == 0
    assert home.profile().exists()
