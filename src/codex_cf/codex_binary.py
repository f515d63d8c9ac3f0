"""Finding the real Codex, never codex-cf itself, and knowing its version.

Also the one place that recognises codex-cf's own executable, for both
questions asked about it: is this `codex` on PATH really codex-cf (so the
launch must skip it), and which codex-cf may a profile's auth command run.
"""

from __future__ import annotations

import os
import sys

from codex_cf import launch_cache, npm_codex
from codex_cf.constants import (
    CODEX_INSTALL_HINT,
    CODEX_OVERRIDE_ENV,
    MINIMUM_CODEX_VERSION,
    PROGRAM,
    REENTRY_ENV,
    VERSION_PROBE_ENV,
)
from codex_cf.errors import CodexCfError, CodexNotFound, CodexUnusable
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_VERSION_TIMEOUT_SECONDS = 15
_SCRIPT_PROBE_BYTES = 1024
# What a launcher script for codex-cf contains: pip's console-script wrapper
# imports the package; a shell shim execs the command.
_OWN_MARKERS = (b"from codex_cf", b"import codex_cf", b"exec codex-cf")


class Codex(NamedTuple):
    path: str  # as found
    resolved: str  # symlinks resolved
    native: npm_codex.Start | None = None  # npm's launcher, done in advance (None: exec it)

    @property
    def program(self) -> str:
        """What argv[0] and execve get: the native binary npm's launcher would start, or path."""
        return self.native.native if self.native else self.path

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The environment the program starts with, as npm's launcher would give it."""
        return npm_codex.environment(self.native, environ) if self.native else dict(environ)


def _found(path: str, environ: Mapping[str, str]) -> Codex:
    resolved = os.path.realpath(path)
    return Codex(path, resolved, npm_codex.native_start(path, resolved, environ))


def _executable_names() -> list[str]:
    """`codex` on POSIX; on Windows every PATHEXT form (npm installs codex.cmd)."""
    if os.name != "nt":
        return ["codex"]
    extensions = os.environ.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").split(";")
    return [f"codex{ext.lower()}" for ext in extensions if ext]


def own_paths() -> set[str]:
    """The resolved path this codex-cf runs from (empty when embedded without argv)."""
    return {os.path.realpath(sys.argv[0])} if sys.argv and sys.argv[0] else set()


def is_codex_cf(path: str, own: set[str]) -> bool:
    """True for codex-cf itself or a script (shim, wrapper) that starts it."""
    resolved = os.path.realpath(path)
    if resolved in own or os.path.basename(resolved).lower().startswith(PROGRAM):
        return True
    try:
        with open(resolved, "rb") as handle:
            head = handle.read(_SCRIPT_PROBE_BYTES)
    except OSError:
        return False
    return head.startswith(b"#!") and any(marker in head for marker in _OWN_MARKERS)


def is_codex_cf_executable(command: object) -> bool:
    """An auth command Codex may run: an absolute path to an installed codex-cf."""
    if not isinstance(command, str) or not os.path.isabs(command):
        return False
    name = os.path.basename(command).lower().removesuffix(".exe")
    return name == PROGRAM and os.path.isfile(command) and os.access(command, os.X_OK)


def codex_cf_executable() -> str:
    """The absolute path Codex runs in command mode: the codex-cf on PATH if it is this one."""
    import shutil

    own = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    on_path = shutil.which(PROGRAM)
    if on_path and os.path.realpath(on_path) == own:
        return os.path.abspath(on_path)
    if is_codex_cf_executable(os.path.abspath(sys.argv[0])):
        return os.path.abspath(sys.argv[0])
    if on_path:
        return os.path.abspath(on_path)
    raise CodexCfError(
        "cannot find the codex-cf command to write into the profile's auth table",
        "install codex-cf so that `codex-cf` is on PATH (pipx install codex-cf)",
    )


def _candidates(environ: Mapping[str, str]) -> list[str]:
    names = _executable_names()
    found = []
    for directory in environ.get("PATH", os.defpath).split(os.pathsep):
        for name in names:
            candidate = os.path.join(directory or ".", name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                found.append(candidate)
    return found


def find(environ: Mapping[str, str]) -> Codex:
    """$CODEX_CF_CODEX, else the first codex on PATH that is not codex-cf."""
    own = own_paths()
    override = environ.get(CODEX_OVERRIDE_ENV)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise CodexNotFound(
                f"{CODEX_OVERRIDE_ENV} names {override}, which is not an executable file",
                f"point {CODEX_OVERRIDE_ENV} at the real codex, or unset it",
            )
        if is_codex_cf(override, own):
            raise CodexUnusable(
                f"{CODEX_OVERRIDE_ENV} names {override}, which is codex-cf itself",
                f"point {CODEX_OVERRIDE_ENV} at the real codex, or unset it",
            )
        return _found(override, environ)
    skipped = []
    for candidate in _candidates(environ):
        if is_codex_cf(candidate, own):
            skipped.append(candidate)
            continue
        return _found(candidate, environ)
    if skipped:
        raise CodexNotFound(
            f"the only codex on PATH ({skipped[0]}) is codex-cf itself; Codex is not installed",
            f"{CODEX_INSTALL_HINT}, or set {CODEX_OVERRIDE_ENV} to the real codex",
        )
    raise CodexNotFound("Codex is not installed (no codex on PATH)", CODEX_INSTALL_HINT)


# The largest prime below 2**32: the argv's bytes read as one number, modulo it, are a
# checksum as good as a CRC for telling two command lines apart, without loading zlib.
_DIGEST_MODULUS = 4_294_967_291


def _argv_digest(argv: Sequence[str]) -> int:
    data = "\0".join(argv).encode("utf-8", "surrogateescape")
    return int.from_bytes(data, "big") % _DIGEST_MODULUS


def reentry_marker(argv: Sequence[str]) -> str:
    """What codex-cf puts in the environment of the codex it starts."""
    return f"{os.getpid()}:{_argv_digest(argv)}"


def check_not_reentered(environ: Mapping[str, str], argv: Sequence[str]) -> None:
    """Stop a loop: a "codex" that is really a wrapper around codex-cf.

    Same PID: the codex we exec'd exec'd us. Parent PID with our exact
    arguments: it started us as a child. A Codex agent running codex-cf in
    its shell differs on both counts.
    """
    marker = environ.get(REENTRY_ENV)
    if not marker:
        return
    pid, _, digest = marker.partition(":")
    same_process = pid == str(os.getpid())
    child_of_launch = pid == str(os.getppid()) and digest == str(_argv_digest(argv))
    if same_process or child_of_launch:
        raise CodexUnusable(
            "the codex that codex-cf started is a wrapper that starts codex-cf again (a loop)",
            f"set {CODEX_OVERRIDE_ENV} to the real codex binary",
        )


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`codex-cli 0.169.0` -> (0, 169, 0); anything else (another program's version) -> None."""
    words = text.split()
    if len(words) < 2 or words[0] != "codex-cli":
        return None
    parts = words[1].split("-")[0].split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1]), int(parts[2])
    return None


def check_not_version_probe(environ: Mapping[str, str]) -> None:
    """Stop a `codex` wrapper that runs codex-cf without exec from probing itself forever."""
    if environ.get(VERSION_PROBE_ENV):
        raise CodexUnusable(
            "codex-cf was started by its own `codex --version` probe: the codex it found is a "
            "wrapper that runs codex-cf",
            f"set {CODEX_OVERRIDE_ENV} to the real codex binary",
        )


def _run_version(path: str, env: Mapping[str, str]) -> str:
    import subprocess

    try:
        done = subprocess.run(
            [path, "--version"],
            env={**env, VERSION_PROBE_ENV: "1"},
            capture_output=True,
            timeout=_VERSION_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise CodexUnusable(
            f"{path} --version did not answer within {_VERSION_TIMEOUT_SECONDS} s",
            f"reinstall Codex: {CODEX_INSTALL_HINT}",
        ) from exc
    except OSError as exc:
        raise CodexUnusable(
            f"{path} cannot be run ({exc.strerror})", f"reinstall Codex: {CODEX_INSTALL_HINT}"
        ) from exc
    if done.stderr.startswith(b"codex-cf: codex-cf was started by its own"):
        raise CodexUnusable(
            f"{path} is a wrapper that runs codex-cf, not Codex",
            f"set {CODEX_OVERRIDE_ENV} to the real codex binary",
        )
    output = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0 or parse_version(output) is None:
        raise CodexUnusable(
            f"{path} --version failed (exit status {done.returncode}); Codex looks broken",
            f"reinstall Codex: {CODEX_INSTALL_HINT}",
        )
    return output.strip()


def version(codex: Codex, environ: Mapping[str, str] | None = None) -> tuple[int, int, int]:
    """Codex's version, from the cache while the binary is unchanged.

    The program it asks is the one a launch starts: the native binary where
    npm's launcher is done in advance.
    """
    resolved = codex.native.native if codex.native else codex.resolved
    signature = launch_cache.file_signature(resolved)
    key = [signature[1], signature[2]] if signature else None
    cache = launch_cache.load(launch_cache.CODEX_VERSIONS, environ)
    entry = cache.get(resolved)
    if isinstance(entry, dict) and entry.get("signature") == key and key is not None:
        cached = parse_version(str(entry.get("version", "")))
        if cached:
            return cached
    text = _run_version(
        codex.program, codex.environment(os.environ if environ is None else environ)
    )
    parsed = parse_version(text)
    assert parsed is not None  # _run_version checked it
    if key is not None:
        cache[resolved] = {"signature": key, "version": text}
        launch_cache.store(launch_cache.CODEX_VERSIONS, cache, environ)
    return parsed


def format_version(parts: tuple[int, int, int]) -> str:
    return ".".join(str(p) for p in parts)


def require_supported(
    codex: Codex, environ: Mapping[str, str] | None = None
) -> tuple[int, int, int]:
    """Codex's version, when it is one that keeps the token variable from the agent."""
    found = version(codex, environ)
    if found < MINIMUM_CODEX_VERSION:
        raise CodexUnusable(
            f"Codex {format_version(found)} at {codex.path} is older than "
            f"{format_version(MINIMUM_CODEX_VERSION)}, the first that keeps the token "
            "from the agent's commands",
            f"{CODEX_INSTALL_HINT}@latest",
        )
    return found
