"""Where files live. The only module that reads HOME, CODEX_HOME and XDG dirs."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def home(environ: Mapping[str, str] | None = None) -> Path:
    """The home folder Codex uses: on Windows the profile folder, even under Git Bash's $HOME."""
    env = os.environ if environ is None else environ
    value = env.get("USERPROFILE") if os.name == "nt" else env.get("HOME")
    return Path(value) if value else Path.home()


def with_home(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment as seen by a user whose home is `home` (for the folders below)."""
    env = dict(os.environ if environ is None else environ)
    env["HOME"] = str(home)
    return env


def codex_home(environ: Mapping[str, str] | None = None) -> Path:
    """Codex's own rule: $CODEX_HOME, else ~/.codex."""
    env = os.environ if environ is None else environ
    value = env.get("CODEX_HOME")
    return Path(value) if value else home(env) / ".codex"


def profile_path(name: str, environ: Mapping[str, str] | None = None) -> Path:
    return codex_home(environ) / f"{name}.config.toml"


def base_config_path(environ: Mapping[str, str] | None = None) -> Path:
    return codex_home(environ) / "config.toml"


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """codex-cf's cache (Codex versions, checked profiles, keyring backend)."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA")
        return Path(base, "codex-cf", "Cache") if base else home(env) / ".codex-cf-cache"
    if sys.platform == "darwin":
        return home(env) / "Library" / "Caches" / "codex-cf"
    xdg = env.get("XDG_CACHE_HOME")
    return Path(xdg, "codex-cf") if xdg else home(env) / ".cache" / "codex-cf"


def config_home(environ: Mapping[str, str] | None = None) -> Path:
    """The XDG config root (not codex-cf's: it keeps no config of its own)."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else home(env) / ".config"


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME")
    return Path(xdg) if xdg else home(env) / ".local" / "share"


def keyring_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """keyring's keyringrc.cfg, which can pick another backend (keyring's own rule)."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or env.get("ProgramData") or "."
        return Path(base, "Python Keyring", "keyringrc.cfg")
    return config_home(env) / "python_keyring" / "keyringrc.cfg"
