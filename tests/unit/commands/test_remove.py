"""`codex-cf remove`: every trace gone, nothing foreign touched, nothing lost."""

from __future__ import annotations

import os
import time

import pytest

from codex_cf import credentials, launch_cache
from codex_cf.constants import KEYRING_SERVICE, ExitStatus, Secret
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, fake_token


@pytest.fixture
def set_up(home, stand_in) -> dict[str, str]:
    """Two profiles set up by codex-cf, each with a token; one launch warmed the caches."""
    tokens = {}
    for name in ("cloudflare-aig", "work"):
        tokens[name] = fake_token(name)
        done = run_codex_cf(
            "setup",
            "--profile",
            name,
            "--account-id",
            profiles.ACCOUNT,
            "--token-stdin",
            stdin_text=tokens[name],
        )
        assert done.returncode == 0, done.stderr
    # A launcher changed just now is not cached (racy timestamps): wait until it would be.
    while not launch_cache.is_settled(launch_cache.file_signature(stand_in.path)):
        time.sleep(0.1)
    assert run_codex_cf("exec", "hi").returncode == 0
    assert launch_cache.entry_path("codex-starts").exists()
    (home.codex_home / "notes.txt").write_text("mine")
    (home.codex_home / "config.toml").write_text('# mine\nmodel = "o3"\n')
    (home.codex_home / "openai.config.toml").write_text('model_provider = "openai"\n')
    return tokens


def test_remove_one_profile(set_up, home) -> None:
    original = home.profile().read_bytes()
    done = run_codex_cf("remove", "--yes")
    assert done.returncode == 0, done.stderr
    assert not home.profile().exists()
    (kept,) = home.codex_home.glob("cloudflare-aig.config.toml.removed-*")
    assert kept.read_bytes() == original  # restores the profile byte for byte
    assert str(kept) in done.stderr
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None
    assert not launch_cache.entry_path("profile-cloudflare-aig").exists()
    # The other profile, and what is not codex-cf's, are untouched.
    assert home.profile("work").exists()
    assert credentials.get("work", Secret.CLOUDFLARE) is not None
    assert (home.codex_home / "notes.txt").read_text() == "mine"
    assert (home.codex_home / "config.toml").read_text() == '# mine\nmodel = "o3"\n'
    assert (home.codex_home / "openai.config.toml").exists()


def test_second_run_has_nothing_to_remove(set_up) -> None:
    assert run_codex_cf("remove", "--yes").returncode == 0
    again = run_codex_cf("remove", "--yes")
    assert again.returncode == 0
    assert "Nothing to remove" in again.stderr


def test_remove_all(set_up, home) -> None:
    done = run_codex_cf("remove", "--all", "--yes")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in home.codex_home.iterdir() if ".removed-" not in p.name) == [
        "config.toml",
        "notes.txt",
        "openai.config.toml",
    ]
    for name in ("cloudflare-aig", "work"):
        assert credentials.get(name, Secret.CLOUDFLARE) is None
    assert not (home.cache / "codex-cf").exists()


def test_dry_run_changes_nothing(set_up, home) -> None:
    before = {p: p.read_bytes() for p in home.root.rglob("*") if p.is_file()}
    done = run_codex_cf("remove", "--all", "--dry-run")
    assert done.returncode == 0
    assert "keyring item" in done.stderr
    after = {p: p.read_bytes() for p in home.root.rglob("*") if p.is_file()}
    assert after == before


def test_keep_token(set_up) -> None:
    assert run_codex_cf("remove", "--keep-token", "--yes").returncode == 0
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is not None


def test_without_terminal_and_without_yes_it_refuses_with_the_fix(set_up, home) -> None:
    done = run_codex_cf("remove")
    assert done.returncode == ExitStatus.USAGE
    assert "codex-cf remove --yes" in done.stderr
    assert home.profile().exists()


def test_a_profile_that_is_not_codex_cfs_is_left_alone(home) -> None:
    (home.codex_home / "mine.config.toml").write_text('model_provider = "openai"\n')
    done = run_codex_cf("remove", "--profile", "mine", "--yes")
    assert done.returncode == 0
    assert "Left alone" in done.stderr
    assert (home.codex_home / "mine.config.toml").exists()


def test_edited_profile_is_backed_up_not_lost(set_up, home) -> None:
    edited = home.profile().read_text() + '\n[projects."/src/app"]\ntrust_level = "trusted"\n'
    home.profile().write_text(edited)
    run_codex_cf("remove", "--yes")
    (kept,) = home.codex_home.glob("cloudflare-aig.config.toml.removed-*")
    assert kept.read_text() == edited


def test_config_backup_of_a_migration_is_kept_and_named(home, stand_in) -> None:
    (home.codex_home / "config.toml").write_text('profile = "cloudflare-aig"\n')
    run_codex_cf("setup", "--account-id", profiles.ACCOUNT, "--no-token", "--yes")
    done = run_codex_cf("remove", "--yes")
    assert "config.toml.bak" in done.stderr
    assert (home.codex_home / "config.toml.bak").read_text() == 'profile = "cloudflare-aig"\n'
    assert os.path.exists(home.codex_home / "config.toml")


def test_without_a_keyring_remove_names_keep_token(set_up, home) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    done = run_codex_cf("remove", "--yes", env=env)
    assert done.returncode == ExitStatus.KEYRING_UNAVAILABLE
    assert "--keep-token" in done.stderr
    assert home.profile().exists()
    kept = run_codex_cf("remove", "--yes", "--keep-token", env=env)
    assert kept.returncode == 0, kept.stderr
    assert not home.profile().exists()


def test_remove_deletes_the_items_of_a_refused_plain_text_store(home, monkeypatch) -> None:
    """codex-cf never reads a plain-text store, but deleting its copy is what remove is for."""
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    profiles.write(home.profile())
    planted = fake_token("planted")
    store = PlaintextKeyring()
    store.set_password(KEYRING_SERVICE, "cloudflare-aig", planted)  # as keyrings.alt wrote it
    refused = run_codex_cf("token", "print")
    assert refused.returncode == ExitStatus.KEYRING_UNAVAILABLE
    done = run_codex_cf("remove", "--yes")
    assert done.returncode == 0, done.stderr
    assert "plain-text" in done.stderr
    assert "keyrings.alt.file.PlaintextKeyring" in done.stderr
    assert "Removed the Cloudflare API token of profile 'cloudflare-aig'" in done.stderr
    assert_absent(planted, done.stdout, done.stderr)
    assert store.get_password(KEYRING_SERVICE, "cloudflare-aig") is None
    assert not home.profile().exists()
