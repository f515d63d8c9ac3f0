"""How credentials judges a backend by name, and names the command that adds one."""

from __future__ import annotations

import sys

import pytest

from codex_cf import credentials


@pytest.mark.parametrize(
    ("backend", "plaintext", "vouched"),
    [
        ("keyrings.alt.file.PlaintextKeyring", True, False),
        ("keyrings.cryptfile.file.PlaintextKeyring", True, False),  # a fork, by its name
        ("keyrings.alt.Windows.RegistryKeyring", True, False),
        ("keyring.backends.SecretService.Keyring", False, True),
        ("keyring_pass.PasswordStoreBackend", False, True),
        ("helpers.keyrings.FileKeyring", False, False),  # unknown: used, not vouched for
    ],
)
def test_backends_are_judged_by_name(backend: str, plaintext: bool, vouched: bool) -> None:
    assert credentials.is_plaintext(backend) is plaintext
    assert credentials.is_vouched(backend) is vouched


@pytest.mark.parametrize(
    ("prefix", "install", "uninstall"),
    [
        (
            "/home/u/.local/share/pipx/venvs/codex-cf",
            "pipx inject codex-cf keyring-pass",
            "pipx runpip codex-cf uninstall -y keyring-pass",
        ),
        (
            "/home/u/.local/share/uv/tools/codex-cf",
            "uv tool install codex-cf --with keyring-pass",
            "uv pip uninstall --python",
        ),
        ("/home/u/project/.venv", "-m pip install keyring-pass", "-m pip uninstall keyring-pass"),
    ],
)
def test_the_package_command_fits_how_codex_cf_was_installed(
    monkeypatch: pytest.MonkeyPatch, prefix: str, install: str, uninstall: str
) -> None:
    monkeypatch.setattr(sys, "prefix", prefix)
    assert install in credentials.package_command("install", "keyring-pass")
    assert uninstall in credentials.package_command("uninstall", "keyring-pass")
