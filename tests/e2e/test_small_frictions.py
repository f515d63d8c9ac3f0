"""The small frictions of a first run: bare groups, old Codex, a killed write (typos: test_main)."""

from __future__ import annotations

from codex_cf.constants import ExitStatus
from helpers import profiles, stand_in_codex
from helpers.process import run_codex_cf


def test_a_bare_group_prints_its_help_without_an_error(home) -> None:
    done = run_codex_cf("token")
    assert done.returncode == 0
    assert "Commands:" in done.stdout
    assert "codex-cf:" not in done.stderr


def test_version_flags_a_codex_too_old(home, monkeypatch) -> None:
    old = stand_in_codex.install(home.root / "old", version="0.157.1")
    monkeypatch.setenv("CODEX_CF_CODEX", str(old.path))
    done = run_codex_cf("--version")
    assert done.returncode == 0
    assert "older than 0.158.0" in done.stdout
    assert "npm install -g @openai/codex@latest" in done.stdout


def test_a_setup_killed_mid_write_leaves_nothing_after_the_next(home) -> None:
    leftover = home.codex_home / ".cloudflare-aig.config.toml.k1ll3d_x.tmp"
    leftover.write_text("half a profile")
    done = run_codex_cf("setup", "--account-id", profiles.ACCOUNT, "--no-token", "--offline")
    assert done.returncode == ExitStatus.OK, done.stderr
    assert not leftover.exists()
    assert [p.name for p in home.codex_home.iterdir()] == ["cloudflare-aig.config.toml"]
