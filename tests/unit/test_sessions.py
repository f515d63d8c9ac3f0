"""The stale-session listing: this user's Codex processes on this very profile file only.

Other users, other CODEX_HOMEs and other profiles run Codex on the same
machine; none of them is a session codex-cf should ask to restart.
"""

from __future__ import annotations

import os
import time

from codex_cf import sessions

PROFILE = "cloudflare-aig"
NOBODY = 65534


def listed(profile: str = PROFILE) -> set[int]:
    return {s.pid for s in sessions.running(profile, started_before=time.time() + 60)}


def env_with(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_lists_this_users_codex_on_this_profile(home, codex_sessions) -> None:
    ours = codex_sessions.start("--profile", PROFILE, "exec", "x")
    short = codex_sessions.start("-p", PROFILE)
    other_profile = codex_sessions.start("--profile", "another", "exec", "x")
    assert ours in listed()
    assert short in listed()
    assert other_profile not in listed()
    assert other_profile in listed("another")


def test_the_same_codex_home_by_another_path_is_ours(home, codex_sessions, tmp_path) -> None:
    link = tmp_path / "link-to-codex-home"
    link.symlink_to(home.codex_home)
    by_link = codex_sessions.start("--profile", PROFILE, env=env_with(CODEX_HOME=str(link)))
    by_home = codex_sessions.start("--profile", PROFILE, env=env_with(CODEX_HOME=None))
    relative = codex_sessions.start(
        "--profile", PROFILE, env=env_with(CODEX_HOME=".codex"), cwd=home.home
    )
    assert {by_link, by_home, relative} <= listed()


def test_codex_under_another_codex_home_is_not_listed(home, codex_sessions, tmp_path) -> None:
    other_home = tmp_path / "other-codex-home"
    other_home.mkdir()
    other = codex_sessions.start("--profile", PROFILE, env=env_with(CODEX_HOME=str(other_home)))
    default_elsewhere = codex_sessions.start(
        "--profile", PROFILE, env=env_with(CODEX_HOME=None, HOME=str(tmp_path))
    )
    ours = codex_sessions.start("--profile", PROFILE)
    found = listed()
    assert other not in found
    assert default_elsewhere not in found
    assert ours in found


def test_another_users_codex_is_not_listed(home, codex_sessions) -> None:
    """Same command line, same CODEX_HOME in its environment, but another user's process."""
    theirs = codex_sessions.start("--profile", PROFILE, user=NOBODY)
    ours = codex_sessions.start("--profile", PROFILE)
    found = listed()
    assert theirs not in found
    assert ours in found
