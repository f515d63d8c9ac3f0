"""The token store against a real Secret Service (gnome-keyring in dbus-run-session)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from codex_cf.constants import KEYRING_TIMEOUT_SECONDS, ExitStatus
from helpers import profiles, stand_in_codex
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, assert_same_secret, digest, fake_token

# A keyring that never answers is given up on after KEYRING_TIMEOUT_SECONDS; the
# rest is room for a loaded machine (the hanging backends wait an hour).
BOUNDED = KEYRING_TIMEOUT_SECONDS + 40


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
