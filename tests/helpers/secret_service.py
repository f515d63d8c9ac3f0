"""A real Secret Service: gnome-keyring inside dbus-run-session, unlocked.

The daemon keeps its keyrings in a temporary folder, so neither the tests
nor the benchmark (scripts/bench_launch.py) ever touch the developer's own
keyring. No pytest here: the benchmark uses it too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

TEST_PASSWORD = "codex-cf-test-password"

_SCRIPT = """
set -e
printf '%s' "$1" | gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null
printf '%s\\n' "$DBUS_SESSION_BUS_ADDRESS" > "$2.tmp"
mv "$2.tmp" "$2"
exec sleep 86400
"""


TOOLS = ("dbus-run-session", "gnome-keyring-daemon", "secret-tool")


class MissingTool(RuntimeError):
    """A program the session needs is not installed."""


class SecretServiceSession:
    """One D-Bus session bus with an unlocked gnome-keyring login collection."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.address = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SecretServiceSession:
        for tool in TOOLS:
            if not shutil.which(tool):
                raise MissingTool(f"{tool} is not installed (scripts/test installs it)")
        home = self.root / "home"
        runtime = self.root / "run"
        for folder in (home / ".cache", home / ".local" / "share", runtime):
            folder.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        address_file = self.root / "bus-address"
        # Only what is set here: no control socket, bus or HOME of another session leaks in.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_RUNTIME_DIR": str(runtime),
            "LANG": "C.UTF-8",
        }
        self._process = subprocess.Popen(
            ["dbus-run-session", "--", "sh", "-c", _SCRIPT, "sh", TEST_PASSWORD, str(address_file)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not address_file.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring-daemon did not start in dbus-run-session")
            time.sleep(0.05)
        self.address = address_file.read_text().strip()
        return self

    def secret_tool(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address)
        return subprocess.run(
            ["secret-tool", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def lookup(self, username: str, service: str = "codex-cf") -> str | None:
        done = self.secret_tool("lookup", "service", service, "username", username)
        return done.stdout if done.returncode == 0 else None

    def store(self, username: str, value: str, service: str = "codex-cf") -> None:
        done = self.secret_tool(
            "store",
            "--label",
            f"test {username}",
            "service",
            service,
            "username",
            username,
            stdin=value,
        )
        if done.returncode != 0:
            raise RuntimeError(f"secret-tool store failed: {done.stderr}")

    def clear(self, username: str, service: str = "codex-cf") -> None:
        self.secret_tool("clear", "service", service, "username", username)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A D-Bus connection to this session's bus (secretstorage reads the address from
        the environment)."""
        import secretstorage

        previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = self.address
        try:
            with closing(secretstorage.dbus_init()) as connection:
                yield connection
        finally:
            if previous is None:
                os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous

    def lock(self) -> None:
        """Lock the login collection, as a screen lock or a fresh login would."""
        import secretstorage

        with self._connection() as connection:
            secretstorage.get_default_collection(connection).lock()

    def unlocked(self) -> bool:
        """The daemon started here still serves the login collection, unlocked.

        A daemon that died is replaced by D-Bus activation with one that never
        got the password: its collection is locked, so this says False too.
        """
        import secretstorage

        try:
            with self._connection() as connection:
                return not secretstorage.Collection(connection).is_locked()
        except Exception:
            return False

    def restart(self) -> None:
        """A new daemon on a new bus, in a new folder: nothing of the broken one is reused."""
        self.stop()
        self.root = Path(tempfile.mkdtemp(prefix="restarted-", dir=self.root))
        self.start()

    def stop(self) -> None:
        """End the bus and all it started, even when dbus-run-session itself is gone: its
        process group outlives it (Linux reuses no id a group still holds)."""
        if self._process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None
