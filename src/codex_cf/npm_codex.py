"""npm's Codex launcher, done in advance: the native binary it would start, and how.

`@openai/codex/bin/codex.js` is a Node script that finds the platform package's
native `codex` and starts it with a few variables set; on Node older than
23.11 it stays alive as the parent, one more process holding the token in its
environment. codex-cf execs that native binary itself, with the same argv[0]
and environment, but only for launchers it has read: a `codex.js` whose digest
is in KNOWN_LAUNCHERS, a platform package with `layoutVersion` 1 and the entry
point the launcher hard-codes. Anything else (None here) means exec'ing the
launcher as it is. What the launcher decides from its files is cached per
launcher file signature, like Codex's version; what it decides from the
environment (bun's variables) is decided again on every launch.
"""

from __future__ import annotations

import os

from codex_cf import launch_cache
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping

PACKAGE_ROOT_ENV = "CODEX_MANAGED_PACKAGE_ROOT"
MANAGED_BY_ENV = {
    "npm": "CODEX_MANAGED_BY_NPM",
    "bun": "CODEX_MANAGED_BY_BUN",
    "pnpm": "CODEX_MANAGED_BY_PNPM",
    "vite-plus": "CODEX_MANAGED_BY_VITE_PLUS",
}
# sha256 of each bin/codex.js read line by line, and the start it performs:
# "0.134" spawns, prepends the package's codex-path folder to PATH (dropping
# empty PATH entries) and tells npm from bun; "0.169" execs where Node can,
# leaves PATH alone, also tells pnpm and Vite+ by their ownership files, and
# clears any CODEX_MANAGED_BY_* it inherited.
KNOWN_LAUNCHERS = {
    "aa3c64b122c9d06bf48eaf988f5970aa69556d69506c3118cf07d10b2401b48a": "0.134",  # 0.134.0
    "e14fc83739c13c1074b12bd1acce4010c893c7f6fbfc1593b4a31d74cabb57af": "0.169",  # 0.169.0
    "0e0c66f50074965a40cbd12f625b0a35963baf41bbd8c201a93e32fddbe2e073": "0.169",  # 0.171.0
}
_LAUNCHER_TAIL = ("@openai", "codex", "bin", "codex.js")
_TRIPLES = {
    ("linux", "x64"): "x86_64-unknown-linux-musl",
    ("linux", "arm64"): "aarch64-unknown-linux-musl",
    ("darwin", "x64"): "x86_64-apple-darwin",
    ("darwin", "arm64"): "aarch64-apple-darwin",
    ("win32", "x64"): "x86_64-pc-windows-msvc",
    ("win32", "arm64"): "aarch64-pc-windows-msvc",
}
_NODE_ARCH = {"x86_64": "x64", "amd64": "x64", "x64": "x64", "aarch64": "arm64", "arm64": "arm64"}
_LAYOUT_VERSION = 1
_PATH_DIR = "codex-path"  # what the 0.134 launcher prepends, hard-coded there
_MAX_LAUNCHER_BYTES = 1 << 20


class Start(NamedTuple):
    """What a known launcher decides from its files (cached as a JSON list)."""

    launcher: str  # "0.134" or "0.169": a value of KNOWN_LAUNCHERS
    native: str  # the binary, named as the launcher names it: argv[0] and execve's path
    package_root: str  # the realpath of @openai/codex
    path_dir: str | None  # prepended to PATH (0.134, when the folder exists)
    owner: str | None  # "pnpm" or "vite-plus" by ownership files (0.169), else None
    bun_folder: bool  # the package lies in bun's global install folder


def native_start(path: str, resolved: str, environ: Mapping[str, str]) -> Start | None:
    """The native start for the launcher at `path`, from the cache while its file is unchanged."""
    signature = launch_cache.file_signature(resolved)
    if signature is None:
        return None
    key = f"{os.path.abspath(path)}\n{resolved}"
    cache = launch_cache.load(launch_cache.CODEX_STARTS, environ)
    entry = cache.get(key)
    if isinstance(entry, dict) and entry.get("signature") == signature:
        cached = _from_json(entry.get("start"))
        if cached is None or os.path.isfile(cached.native):
            return cached
    start = read_start(path, resolved)
    if launch_cache.is_settled(signature):
        cache[key] = {"signature": signature, "start": list(start) if start else None}
        launch_cache.store(launch_cache.CODEX_STARTS, cache, environ)
    return start


def _from_json(value: object) -> Start | None:
    if not isinstance(value, list) or len(value) != len(Start._fields):
        return None
    launcher, native, root, path_dir, owner, bun_folder = value
    if launcher not in KNOWN_LAUNCHERS.values() or not (
        isinstance(native, str) and isinstance(root, str) and isinstance(bun_folder, bool)
    ):
        return None
    return Start(
        launcher,
        native,
        root,
        path_dir if isinstance(path_dir, str) else None,
        owner if owner in ("pnpm", "vite-plus") else None,
        bun_folder,
    )


def environment(start: Start, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the launcher gives the native binary, from the one it got."""
    env = dict(environ)
    manager = _package_manager(start, environ)
    if start.launcher == "0.134":
        dirs = [start.path_dir] if start.path_dir else []
        env["PATH"] = os.pathsep.join(
            [*dirs, *(d for d in environ.get("PATH", "").split(os.pathsep) if d)]
        )
        env[MANAGED_BY_ENV[manager]] = "1"
        env[PACKAGE_ROOT_ENV] = start.package_root
        return env
    env[PACKAGE_ROOT_ENV] = start.package_root
    for variable in MANAGED_BY_ENV.values():
        env.pop(variable, None)
    env[MANAGED_BY_ENV[manager]] = "1"
    return env


def _package_manager(start: Start, environ: Mapping[str, str]) -> str:
    """The launcher's own guess: ownership files, then bun's variables or folder, else npm."""
    if start.owner and start.launcher != "0.134":
        return start.owner
    agent = environ.get("npm_config_user_agent", "")
    if _has_word_prefixed(agent, "bun/") or "bun" in environ.get("npm_execpath", ""):
        return "bun"
    return "bun" if start.bun_folder else "npm"


def _has_word_prefixed(text: str, word: str) -> bool:
    """JavaScript's /\\bword/: `word` where no ASCII letter, digit or _ comes just before it."""
    at = text.find(word)
    while at >= 0:
        before = text[at - 1] if at else " "
        if not (before.isascii() and (before.isalnum() or before == "_")):
            return True
        at = text.find(word, at + 1)
    return False


def read_start(
    path: str, resolved: str, platform: str | None = None, machine: str | None = None
) -> Start | None:
    """Read the launcher and the platform package as Node would; None when unsure.

    `platform` and `machine` default to this computer's (Node's names or
    Python's); tests pass Windows' to check a simulated npm tree anywhere.
    """
    platform = platform or _node_platform()
    arch = _NODE_ARCH.get((machine or _machine()).lower(), "")
    if resolved.lower().endswith(".cmd"):
        script = _cmd_shim_target(resolved)
        if script is None:
            return None
        entrypoint, launcher_file = script, os.path.realpath(script)
    else:
        entrypoint, launcher_file = os.path.abspath(path), resolved
    launcher = _known_launcher(launcher_file)
    triple = _TRIPLES.get((platform, arch))
    if launcher is None or triple is None:
        return None
    bin_dir = os.path.dirname(launcher_file)
    package_root = os.path.realpath(os.path.dirname(bin_dir))
    manifest = _resolve_package_json(bin_dir, f"codex-{platform}-{arch}")
    if manifest is None:
        return None
    package_dir = os.path.join(os.path.dirname(manifest), "vendor", triple)
    binary = "codex.exe" if platform == "win32" else "codex"
    layout = _read_layout(os.path.join(package_dir, "codex-package.json"))
    if (
        layout is None
        or layout.get("layoutVersion") != _LAYOUT_VERSION
        or layout.get("entrypoint") != f"bin/{binary}"
        or (launcher == "0.134" and layout.get("pathDir") != _PATH_DIR)
    ):
        return None
    native = os.path.join(package_dir, "bin", binary)
    if not (os.path.isfile(native) and (platform == "win32" or os.access(native, os.X_OK))):
        return None
    path_dir = os.path.join(package_dir, _PATH_DIR)
    return Start(
        launcher,
        native,
        package_root,
        path_dir if launcher == "0.134" and os.path.exists(path_dir) else None,
        _owner(package_root, os.path.dirname(entrypoint)) if launcher == "0.169" else None,
        ".bun/install/global" in bin_dir or ".bun\\install\\global" in bin_dir,
    )


def _node_platform() -> str:
    """Node's process.platform for this computer."""
    import sys

    return "linux" if sys.platform.startswith("linux") else sys.platform


def _machine() -> str:
    if hasattr(os, "uname"):
        return os.uname().machine
    return os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get("PROCESSOR_ARCHITECTURE", "")


def _known_launcher(launcher_file: str) -> str | None:
    import hashlib
    from pathlib import Path

    if tuple(Path(launcher_file).parts[-len(_LAUNCHER_TAIL) :]) != _LAUNCHER_TAIL:
        return None
    try:
        with open(launcher_file, "rb") as handle:
            content = handle.read(_MAX_LAUNCHER_BYTES + 1)
    except OSError:
        return None
    return KNOWN_LAUNCHERS.get(hashlib.sha256(content).hexdigest())


def _cmd_shim_target(shim: str) -> str | None:
    """The codex.js an npm `codex.cmd` runs (`"%dp0%\\...\\codex.js"`), as a path here."""
    import re

    try:
        with open(shim, "rb") as handle:
            text = handle.read(_MAX_LAUNCHER_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    targets = set(re.findall(r'"%dp0%\\([^"%]+\.js)"', text))
    if len(targets) != 1:
        return None
    parts = [part for part in targets.pop().split("\\") if part]
    if ".." in parts[-len(_LAUNCHER_TAIL) :]:
        return None
    return os.path.join(os.path.dirname(shim), *parts)


def _resolve_package_json(from_dir: str, name: str) -> str | None:
    """Node's require.resolve("@openai/<name>/package.json") through node_modules folders.

    Only the folders above the launcher: when they hold no platform package,
    Node would go on to NODE_PATH and global folders, which this leaves to Node.
    """
    current = from_dir
    while True:
        if os.path.basename(current) != "node_modules":
            candidate = os.path.join(current, "node_modules", "@openai", name, "package.json")
            if os.path.isfile(candidate):
                return os.path.realpath(candidate)
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _read_layout(manifest: str) -> dict[str, object] | None:
    import json

    try:
        with open(manifest, "rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _owner(package_root: str, entrypoint_dir: str) -> str | None:
    """The 0.169 launcher's ownership search: Vite+ metadata or pnpm's node_modules."""
    for start_dir in dict.fromkeys([package_root, entrypoint_dir]):
        root = _filesystem_root(start_dir)
        current = start_dir
        while current != root:
            if _vite_plus_owns(current, package_root):
                return "vite-plus"
            if _pnpm_owns(os.path.join(current, "node_modules"), package_root):
                return "pnpm"
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        if _pnpm_owns(os.path.join(root, "node_modules"), package_root):
            return "pnpm"
    return None


def _filesystem_root(path: str) -> str:
    drive, _ = os.path.splitdrive(path)
    return drive + os.sep


def _pnpm_owns(node_modules: str, package_root: str) -> bool:
    if not os.path.exists(os.path.join(node_modules, ".modules.yaml")):
        return False
    codex = os.path.join(node_modules, "@openai", "codex")
    return os.path.exists(codex) and os.path.realpath(codex) == package_root


def _vite_plus_owns(packages: str, package_root: str) -> bool:
    if os.path.basename(packages) != "packages":
        return False
    metadata = _read_layout(os.path.join(packages, "@openai", "codex.json"))
    if metadata is None or metadata.get("name") != "@openai/codex":
        return False
    install_id = metadata.get("installId") or ""
    if not isinstance(install_id, str):
        return False
    if install_id.startswith("#"):
        install_dir = os.path.join(packages, f"@openai/codex{install_id}")
    else:
        install_dir = os.path.join(packages, "@openai/codex", install_id)
    for node_modules in (
        os.path.join(install_dir, "lib", "node_modules"),
        os.path.join(install_dir, "node_modules"),
    ):
        codex = os.path.join(node_modules, "@openai", "codex")
        if os.path.exists(codex) and os.path.realpath(codex) == package_root:
            return True
    return False
