"""`codex-cf remove --all` on a fully set-up machine: gnome-keyring items, completions, caches."""

from __future__ import annotations

from codex_cf import shells
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import fake_token


def test_remove_all_leaves_the_machine_as_it_was(real_keyring, home, stand_in) -> None:
    names = ("rm-one", "rm-two")
    for name in names:
        done = run_codex_cf(
            "setup",
            "--profile",
            name,
            "--account-id",
            profiles.ACCOUNT,
            "--token-stdin",
            stdin_text=fake_token(name),
        )
        assert done.returncode == 0, done.stderr
        assert real_keyring.lookup(name)
        assert run_codex_cf("-p", name, "exec", "hi").returncode == 0  # warms the caches
    for shell in ("bash", "fish", "zsh"):
        assert run_codex_cf("completion", shell, "--install").returncode == 0
    installed = shells.installed_completion_files(home.home)
    assert len(installed) == 3
    foreign_completion = installed[0].with_name("mine")
    foreign_completion.write_text("complete -F _mine mine\n")
    (home.codex_home / "config.toml").write_text("# mine\n[tui]\nnotifications = true\n")
    (home.codex_home / "AGENTS.md").write_text("mine\n")
    originals = {name: home.profile(name).read_bytes() for name in names}

    done = run_codex_cf("remove", "--all", "--yes")
    assert done.returncode == 0, done.stderr

    for name in names:
        assert real_keyring.lookup(name) is None
        assert not home.profile(name).exists()
        (kept,) = home.codex_home.glob(f"{name}.config.toml.removed-*")
        assert kept.read_bytes() == originals[name]
    assert shells.installed_completion_files(home.home) == []
    assert foreign_completion.exists()
    assert (home.codex_home / "config.toml").read_text() == "# mine\n[tui]\nnotifications = true\n"
    assert (home.codex_home / "AGENTS.md").read_text() == "mine\n"
    assert not (home.cache / "codex-cf").exists()
    again = run_codex_cf("remove", "--all", "--yes")
    assert again.returncode == 0
    assert "Nothing to remove" in again.stderr
