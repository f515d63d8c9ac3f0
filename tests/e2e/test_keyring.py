"""The token store against a real Secret Service (gnome-keyring in dbus-run-session)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codex_cf import credentials, launch_cache, secret_service
from codex_cf.constants import KEYRING_TIMEOUT_SECONDS, ExitStatus, Secret
from helpers import profiles, stand_in_codex
from helpers.process import run_codex_cf
from helpers.secret_service import TEST_PASSWORD, SecretServiceSession
from helpers.tokens import assert_absent, assert_same_secret, digest, fake_token

# A keyring that never answers is given up on after KEYRING_TIMEOUT_SECONDS; the
# rest is room for a loaded machine (the hanging backends wait an hour).
BOUNDED = KEYRING_TIMEOUT_SECONDS + 40


def _username(request: pytest.FixtureRequest) -> str:
    """A profile name of its own per test: the Secret Service is shared by the session."""
    return "t-" + request.node.name.replace("[", "-").replace("]", "")[-40:].strip("-_")


@pytest.fixture
def profile(request, real_keyring, home) -> str:
    name = _username(request)
    real_keyring.clear(name)
    profiles.write(home.profile(name))
    yield name
    real_keyring.clear(name)


def test_token_set_by_codex_cf_is_readable_with_secret_tool(real_keyring, profile) -> None:
    token = fake_token()
    done = run_codex_cf("token", "set", "--profile", profile, "--stdin", stdin_text=token)
    assert done.returncode == 0, done.stderr
    assert "SecretService" in done.stderr
    assert_same_secret(real_keyring.lookup(profile), token, "secret-tool lookup")


def test_token_stored_with_secret_tool_is_used_by_the_launcher(
    real_keyring, profile, stand_in
) -> None:
    token = fake_token()
    real_keyring.store(profile, token)
    done = run_codex_cf("-p", profile, "exec", "hi")
    assert done.returncode == 0, done.stderr
    (run,) = stand_in.runs()
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)


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
        secret_service.forget()
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


def _keyring_env(backend: str) -> dict[str, str]:
    return dict(os.environ, PYTHON_KEYRING_BACKEND=backend)


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        ("keyring.backends.fail.Keyring", "no usable keyring backend"),
        ("helpers.keyrings.RaisingKeyring", "backend failed"),
        ("helpers.keyrings.LockedKeyring", "locked"),
        ("helpers.keyrings.HangingKeyring", "did not answer"),
        ("helpers.keyrings.GarbageKeyring", "not a Cloudflare API token"),
    ],
)
def test_keyring_trouble_is_clear_bounded_and_never_plain_text(
    home, stand_in, backend, words
) -> None:
    profiles.write(home.profile())
    token = fake_token()
    env = _keyring_env(backend)
    for args, stdin in ((["exec", "hi"], None), (["token", "set", "--stdin"], token)):
        started = time.monotonic()
        done = run_codex_cf(*args, stdin_text=stdin, env=env, timeout=120)
        assert time.monotonic() - started <= BOUNDED
        if backend.endswith("GarbageKeyring") and args[0] == "token":
            assert done.returncode == 0, done.stderr  # storing works; reading it back does not
            continue
        assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE, done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 2, done.stderr  # one sentence, one fix
        assert words in lines[0]
        assert lines[1].startswith("  fix: ")
        assert "keyrings.alt" not in done.stderr
        if backend.endswith(("LockedKeyring", "HangingKeyring")):
            assert "gnome-keyring-daemon --replace --daemonize --unlock" in done.stderr
            assert "pass init" not in done.stderr  # unlock it, not another backend
        if not backend.endswith("GarbageKeyring"):
            assert "CLOUDFLARE_API_KEY" in done.stderr
        assert "Traceback" not in done.stderr
        assert_absent(token, done.stdout, done.stderr)
    assert stand_in.runs() == []
    leftovers = [
        p for p in home.root.rglob("*") if p.is_file() and token.encode() in p.read_bytes()
    ]
    assert leftovers == []  # no silent plain-text fallback


def test_unreachable_dbus_without_other_backends(home, stand_in, monkeypatch) -> None:
    profiles.write(home.profile())
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus")
    env.pop("PYTHON_KEYRING_BACKEND")
    done = run_codex_cf("exec", "hi", env=env)
    assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE
    assert "Traceback" not in done.stderr


def _scan_cmdlines(needle: bytes, stop: threading.Event, hits: list[str]) -> None:
    while not stop.is_set():
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if needle in (entry / "cmdline").read_bytes():
                        hits.append(entry.name)
                except OSError:
                    pass
        time.sleep(0.005)


def test_the_token_is_in_no_process_argv(real_keyring, profile, home) -> None:
    token = fake_token()
    stop = threading.Event()
    hits: list[str] = []
    scanner = threading.Thread(target=_scan_cmdlines, args=(token.encode(), stop, hits))
    scanner.start()
    slow = stand_in_codex.install(home.root / "slow-bin", version_delay=0.3)
    env = dict(os.environ, PATH=stand_in_codex.path_with(slow.path.parent))
    try:
        run_codex_cf("token", "set", "--profile", profile, "--stdin", stdin_text=token, env=env)
        for _ in range(3):
            assert run_codex_cf("-p", profile, "exec", "hi", env=env).returncode == 0
        run_codex_cf("token", "print", "--profile", profile, env=env)
        run_codex_cf("token", "status", "--profile", profile, env=env)
    finally:
        stop.set()
        scanner.join()
    assert hits == []
    assert len(slow.runs()) == 3


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
    secret_service.forget()
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
