"""Where files live. The only module that reads HOME, CODEX_HOME and XDG dirs.

Each place comes as a string (os.path) for the launch path, which does without
`pathlib` (importing it costs a warm launch ~3 ms), and as a Path for the commands.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def home_folder(environ: Mapping[str, str] | None = None) -> str:
    """The home folder Codex uses: on Windows the profile folder, even under Git Bash's $HOME."""
    env = _env(environ)
    value = env.get("USERPROFILE") if os.name == "nt" else env.get("HOME")
    return value or os.path.expanduser("~")


def codex_folder(environ: Mapping[str, str] | None = None) -> str:
    """Codex's own rule: $CODEX_HOME, else ~/.codex."""
    env = _env(environ)
    return env.get("CODEX_HOME") or os.path.join(home_folder(env), ".codex")


def profile_file(name: str, environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(codex_folder(environ), f"{name}.config.toml")


def base_config_file(environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(codex_folder(environ), "config.toml")


def cache_folder(environ: Mapping[str, str] | None = None) -> str:
    """codex-cf's cache (Codex versions, checked profiles, keyring backend)."""
    env = _env(environ)
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA")
        if base:
            return os.path.join(base, "codex-cf", "Cache")
        return os.path.join(home_folder(env), ".codex-cf-cache")
    if sys.platform == "darwin":
        return os.path.join(home_folder(env), "Library", "Caches", "codex-cf")
    xdg = env.get("XDG_CACHE_HOME")
    return os.path.join(xdg or os.path.join(home_folder(env), ".cache"), "codex-cf")


def config_folder(environ: Mapping[str, str] | None = None) -> str:
    """The XDG config root (not codex-cf's: it keeps no config of its own)."""
    env = _env(environ)
    return env.get("XDG_CONFIG_HOME") or os.path.join(home_folder(env), ".config")


def keyring_config(environ: Mapping[str, str] | None = None) -> str:
    """keyring's keyringrc.cfg, which can pick another backend (keyring's own rule)."""
    env = _env(environ)
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or env.get("ProgramData") or "."
        return os.path.join(base, "Python Keyring", "keyringrc.cfg")
    return os.path.join(config_folder(env), "python_keyring", "keyringrc.cfg")


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def home(environ: Mapping[str, str] | None = None) -> Path:
    return _path(home_folder(environ))


def with_home(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment as seen by a user whose home is `home` (for the folders below)."""
    env = dict(_env(environ))
    env["HOME"] = str(home)
    return env


def codex_home(environ: Mapping[str, str] | None = None) -> Path:
    return _path(codex_folder(environ))


def profile_path(name: str, environ: Mapping[str, str] | None = None) -> Path:
    return _path(profile_file(name, environ))


def base_config_path(environ: Mapping[str, str] | None = None) -> Path:
    return _path(base_config_file(environ))


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    return _path(cache_folder(environ))


def config_home(environ: Mapping[str, str] | None = None) -> Path:
    return _path(config_folder(environ))


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    env = _env(environ)
    xdg = env.get("XDG_DATA_HOME")
    return _path(xdg or os.path.join(home_folder(env), ".local", "share"))


def keyring_config_file(environ: Mapping[str, str] | None = None) -> Path:
    return _path(keyring_config(environ))
