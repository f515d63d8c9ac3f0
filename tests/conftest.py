"""Every test runs in its own HOME: nothing reads or writes the developer's files or keyring."""

from __future__ import annotations

import os
import socket
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from helpers import profiles, real_parts, secret_service, stand_in_codex  # noqa: E402
from helpers.codex_sessions import CodexSessions  # noqa: E402
from helpers.fake_cloudflare_api import FakeCloudflareApi  # noqa: E402
from helpers.keyrings import FILE_ENV  # noqa: E402
from helpers.secret_service import SecretServiceSession  # noqa: E402

_SCRUBBED = (
    "CLOUDFLARE_API_KEY",
    "OPENAI_API_KEY",
    "CF_AIG_AUTHORIZATION",
    "CODEX_CF_PROFILE",
    "CODEX_CF_CODEX",
    "CODEX_CF_API_BASE",
    "CODEX_CF_DEBUG",
    "_CODEX_CF_EXEC_PID",
    "XDG_CURRENT_DESKTOP",
    "NO_COLOR",
    "ZDOTDIR",
    "ENV",
    "BASH_ENV",
    "GNOME_KEYRING_CONTROL",  # a running daemon's socket: `gnome-keyring-daemon --replace` ends it
)


# A loopback port that refuses connections for the whole run (bound, never listening):
# the default Cloudflare API of every test, so none waits on the real one.
_REFUSING = socket.socket()
_REFUSING.bind(("127.0.0.1", 0))
REFUSING_API = f"http://127.0.0.1:{_REFUSING.getsockname()[1]}"


@dataclass
class Home:
    root: Path
    home: Path
    codex_home: Path
    cache: Path
    config: Path
    keyring_file: Path

    def profile(self, name: str = "cloudflare-aig") -> Path:
        return self.codex_home / f"{name}.config.toml"


@pytest.fixture(scope="session")
def path_without_codex(tmp_path_factory: pytest.TempPathFactory) -> str:
    return real_parts.path_without_codex(
        real_parts.MACHINE_PATH, tmp_path_factory.mktemp("path-without-codex")
    )


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path_without_codex: str) -> Home:
    """A fresh HOME, CODEX_HOME and XDG dirs, a file-backed test keyring, no Secret Service,
    no secrets or shell start-up settings from the developer's environment, and no `codex`
    on PATH (tests that need Codex ask for the test command's own)."""
    root = tmp_path
    home_dir = root / "home"
    codex_home = home_dir / ".codex"
    cache = home_dir / ".cache"
    config = home_dir / ".config"
    for folder in (codex_home, cache, config, home_dir / ".local" / "share"):
        folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home_dir))
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_DATA_HOME", str(home_dir / ".local" / "share"))
    monkeypatch.setenv("PATH", path_without_codex)
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEX_CF_API_BASE", REFUSING_API)
    for name in list(os.environ):
        if name.startswith("KEYRING_PROPERTY_"):
            monkeypatch.delenv(name)
    # Unit tests get a private keyring; never the developer's Secret Service.
    keyring_file = root / "keyring.json"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "helpers.keyrings.FileKeyring")
    monkeypatch.setenv(FILE_ENV, str(keyring_file))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/codex-cf-test-bus")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    )
    _reset_keyring()
    return Home(root, home_dir, codex_home, cache, config, keyring_file)


def _reset_keyring() -> None:
    """keyring caches its backend per process; each test chooses its own."""
    core = sys.modules.get("keyring.core")
    if core is not None:
        core._keyring_backend = None  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def secret_service_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SecretServiceSession]:
    for tool in secret_service.TOOLS:
        real_parts.tool(tool)  # skip on a laptop without it, fail in CI
    session = SecretServiceSession(tmp_path_factory.mktemp("secret-service")).start()
    yield session
    session.stop()


@pytest.fixture
def real_keyring(
    secret_service_session: SecretServiceSession,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[SecretServiceSession]:
    """Point this test (and what it starts) at the real gnome-keyring Secret Service.

    The session is shared by the whole run: one test that breaks it (its daemon
    gone or its collection locked) would fail every later one. So each test
    checks it before and after, says where it broke, and gets a new one.
    """
    session = secret_service_session
    if not session.unlocked():
        warnings.warn(
            f"the shared Secret Service was locked or gone before {request.node.nodeid} "
            "(after a test that does not use it); restarted",
            stacklevel=1,
        )
        session.restart()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    _reset_keyring()
    yield session
    if not session.unlocked():
        warnings.warn(
            f"{request.node.nodeid} left the shared Secret Service locked or gone; restarted",
            stacklevel=1,
        )
        session.restart()


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> stand_in_codex.StandInCodex:
    """A recording `codex` first on PATH."""
    codex = stand_in_codex.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", stand_in_codex.path_with(codex.path.parent))
    return codex


@pytest.fixture
def codex_sessions() -> Iterator[CodexSessions]:
    """Stand-ins for running Codex sessions, killed after the test."""
    sessions = CodexSessions()
    yield sessions
    sessions.stop()


@pytest.fixture
def codex_cf_off_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `codex-cf` on PATH, as for a user who runs it by its full path (or a pipx shim
    PATH does not hold): what Codex runs must then be an absolute path."""
    folders = os.environ["PATH"].split(os.pathsep)
    kept = [f for f in folders if f and not (Path(f) / "codex-cf").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(kept))


@pytest.fixture
def codex_cf() -> str:
    return real_parts.codex_cf()


def _username(request: pytest.FixtureRequest) -> str:
    """A profile name of its own per test: the Secret Service is shared by the session."""
    return "t-" + request.node.name.replace("[", "-").replace("]", "")[-40:].strip("-_")


@pytest.fixture
def profile(request, real_keyring, home) -> Iterator[str]:
    """A profile of its own in the real Secret Service, with a current profile file."""
    name = _username(request)
    real_keyring.clear(name)
    profiles.write(home.profile(name))
    yield name
    real_keyring.clear(name)


@pytest.fixture
def cloudflare_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudflareApi]:
    """The loopback fake Cloudflare API, codex-cf pointed at it."""
    with FakeCloudflareApi() as fake:
        monkeypatch.setenv("CODEX_CF_API_BASE", fake.url)
        yield fake
