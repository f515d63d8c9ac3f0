"""The Secret Service fast path: the keyring's answer without importing keyring, or none.

It answers only when nothing could make keyring answer differently; every
doubt is a miss, and the launch then asks keyring itself. Compared with keyring
through a real gnome-keyring, so these are e2e tests kept beside their module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_cf import credentials, launch_cache, secret_service
from codex_cf.constants import KEYRING_TIMEOUT_SECONDS, ExitStatus, Secret
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.secret_service import TEST_PASSWORD, SecretServiceSession
from helpers.tokens import assert_same_secret, fake_token

pytestmark = pytest.mark.e2e

# A keyring that never answers is given up on after KEYRING_TIMEOUT_SECONDS; the
# rest is room for a loaded machine.
BOUNDED = KEYRING_TIMEOUT_SECONDS + 40


def test_fast_path_returns_what_keyring_returns(real_keyring, profile, home) -> None:
    token = fake_token()
    real_keyring.store(profile, token)
    env = dict(os.environ)
    assert secret_service.lookup(profile, env) is None  # nothing recorded yet: no fast path
    import keyring

    assert_same_secret(keyring.get_password("codex-cf", profile), token, "keyring")
    assert_same_secret(credentials.get(profile, Secret.CLOUDFLARE), token, "credentials")
    recorded = launch_cache.load("keyring-backend")
    assert recorded["backend"] == "keyring.backends.SecretService.Keyring"
    assert_same_secret(secret_service.lookup(profile, env), token, "fast path")


@pytest.fixture
def plugins(home, monkeypatch) -> Path:
    """A folder on sys.path where backend plugins could install (as site-packages is)."""
    folder = home.root / "site-packages"
    folder.mkdir()
    # sys.path[0] is the script's own folder; installed packages live after it.
    monkeypatch.setattr(sys, "path", [sys.path[0], str(folder), *sys.path[1:]])
    return folder


@pytest.fixture
def recorded(real_keyring, profile, plugins) -> tuple[str, str]:
    token = fake_token()
    real_keyring.store(profile, token)
    assert credentials.get(profile, Secret.CLOUDFLARE) == token  # records the backend
    assert secret_service.lookup(profile, dict(os.environ)) == token
    return profile, token


@pytest.mark.parametrize(
    "doubt",
    [
        "PYTHON_KEYRING_BACKEND",
        "KEYRING_PROPERTY_SCHEME",
        "XDG_CURRENT_DESKTOP",
        "keyringrc.cfg",
        "site-packages changed",
        "record missing",
        "record names another backend",
    ],
)
def test_every_doubt_falls_back_to_keyring(recorded, plugins, home, doubt) -> None:
    profile, _ = recorded
    env = dict(os.environ)
    if doubt == "PYTHON_KEYRING_BACKEND":
        env[doubt] = "keyring.backends.SecretService.Keyring"
    elif doubt == "KEYRING_PROPERTY_SCHEME":
        env[doubt] = "KeePassXC"
    elif doubt == "XDG_CURRENT_DESKTOP":
        env[doubt] = "KDE"
    elif doubt == "keyringrc.cfg":
        rc = home.config / "python_keyring" / "keyringrc.cfg"
        rc.parent.mkdir(parents=True)
        rc.write_text("[backend]\ndefault-keyring=keyrings.alt.file.PlaintextKeyring\n")
    elif doubt == "site-packages changed":
        (plugins / "keyrings_newly_installed.py").write_text("")
    elif doubt == "record missing":
        launch_cache.discard(launch_cache.KEYRING_BACKEND)
    else:
        record = launch_cache.load("keyring-backend")
        record["backend"] = "keyring.backends.kwallet.DBusKeyring"
        launch_cache.store("keyring-backend", record)
    assert secret_service.lookup(profile, env) is None


def test_a_miss_and_a_locked_collection_fall_back(tmp_path, home, monkeypatch, stand_in) -> None:
    session = SecretServiceSession(tmp_path / "own-bus").start()
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        session.store("present", fake_token())
        assert credentials.get("present", Secret.CLOUDFLARE)  # records the backend
        assert secret_service.lookup("absent", dict(os.environ)) is None
        assert secret_service.lookup("present", dict(os.environ)) is not None
        session.lock()
        assert secret_service.lookup("present", dict(os.environ)) is None
        # keyring then tries to unlock (no prompt is possible here): it fails in bounded time.
        profiles.write(home.profile("present"))
        started = time.monotonic()
        done = run_codex_cf("-p", "present", "exec", "hi", timeout=120)
        assert time.monotonic() - started <= BOUNDED
        assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE, done.stderr
        assert "keyring" in done.stderr
        # The fix's headless unlock, with the password on stdin instead of the terminal.
        unlock = done.stderr.split("without one: ", 1)[1].split(" | ", 1)[1].split(")", 1)[0]
        assert unlock.startswith("gnome-keyring-daemon --replace")
        # Only this test's session: its bus, HOME and control socket, never the shared one's.
        daemon_env = dict(
            os.environ,
            DBUS_SESSION_BUS_ADDRESS=session.address,
            HOME=str(session.root / "home"),
            XDG_DATA_HOME=str(session.root / "home" / ".local" / "share"),
            XDG_RUNTIME_DIR=str(session.root / "run"),
        )
        subprocess.run(
            unlock.split(), input=TEST_PASSWORD, env=daemon_env, capture_output=True,
            text=True, timeout=30, check=True,
        )  # fmt: skip
        done = run_codex_cf("-p", "present", "exec", "hi", timeout=120)
        assert done.returncode == 0, done.stderr
        assert len(stand_in.runs()) == 1
    finally:
        session.stop()


_CHAINED = """
import os, sys
from keyring.backend import KeyringBackend
import keyring

class Extra(KeyringBackend):  # a second installed backend, as keyrings.alt adds
    priority = 0.5
    def get_password(self, service, username): return None
    def set_password(self, service, username, password): raise NotImplementedError
    def delete_password(self, service, username): raise NotImplementedError

from codex_cf import credentials, secret_service
from codex_cf.constants import Secret
print(type(keyring.get_keyring()).__name__)
credentials.get(sys.argv[1], Secret.CLOUDFLARE)
fast = secret_service.lookup(sys.argv[1], dict(os.environ))
print(fast == credentials.get(sys.argv[1], Secret.CLOUDFLARE))
"""


def test_fast_path_under_keyrings_chainer(recorded, home) -> None:
    profile, _ = recorded
    launch_cache.discard(launch_cache.KEYRING_BACKEND)
    done = subprocess.run(
        [sys.executable, "-c", _CHAINED, profile],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["ChainerBackend", "True"], done.stderr
    assert (
        launch_cache.load("keyring-backend")["backend"] == "keyring.backends.SecretService.Keyring"
    )
