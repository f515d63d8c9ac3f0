"""What a launch costs, as structure rather than time (SPEC "Performance budget").

Each launch here runs in a fresh interpreter up to its real exec of the
stand-in codex, under `-X importtime` (every module it imports) and an audit
hook (every file it opens, directory it lists and process it starts). Timing
is left to scripts/bench_launch.py: these machines are shared and noisy.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex_cf import credentials, launch_cache
from codex_cf.constants import Secret
from helpers import importtime, npm_tree, profiles, stand_in_codex
from helpers.stand_in_codex import StandInCodex
from helpers.tokens import digest, fake_token

# Modules the launch path must never load (STYLE "The launch path imports little").
HEAVY = ("click", "tomlkit", "psutil", "keyring")
# keyring's Secret Service stack: its imports cost a warm launch more than the rest of it.
D_BUS_LIBRARIES = ("secretstorage", "jeepney", "cryptography")
# What reading the token from the Secret Service adds to a warm launch: the
# D-Bus client and, of the standard library, sockets, struct and CPython's own SHA-256
# (the session key's; not hashlib, which loads OpenSSL) only.
FAST_PATH_ONLY = {
    "codex_cf.dbus_secret",
    "_socket",
    "struct",
    "_struct",
    "_sha2" if sys.version_info >= (3, 12) else "_sha256",
}
# All of the standard library a warm launch imports beyond the interpreter's start, as
# the imports it needs (what they load in turn, this Python decides): `enum` for the
# constants, `collections` for the records' namedtuple, `_json` (json's C accelerator,
# through json_text). Not pathlib (~3 ms), threading, subprocess nor socket.
WARM_STDLIB = ("__future__", "_json", "collections", "enum")
# Nor these: typing (~7 ms; codex_cf.records stands in for its NamedTuple, its other
# names are mypy's alone), contextlib, signal (its enums; the exec resets signals
# through `_signal`, loaded at the interpreter's start), json (~5 ms: its decoder and
# encoder compile regular expressions) nor re.
WARM_NEVER = ("typing", "contextlib", "signal", "json", "re")
# And of codex-cf: the launch path's modules, no command's.
WARM_OWN = {
    "codex_cf",
    "codex_cf.atomic_file",  # the one write: the launch record for `doctor --live`
    "codex_cf.codex_args",
    "codex_cf.codex_binary",
    "codex_cf.constants",
    "codex_cf.credentials",
    "codex_cf.errors",
    "codex_cf.json_text",  # the cache's entries and the tags, without the json package
    "codex_cf.launch",
    "codex_cf.launch_cache",
    "codex_cf.layout",
    "codex_cf.main",
    "codex_cf.metadata",
    "codex_cf.npm_codex",
    "codex_cf.paths",
    "codex_cf.profile_facts",
    "codex_cf.profile_names",
    "codex_cf.records",
    "codex_cf.secret_service",
    "codex_cf.terminal",
}

# Runs codex-cf's main() with an audit hook that logs, one line each, the
# first argument of the events that show work: files opened, directories
# listed, processes started, the exec. Never the exec's environment: it
# holds the token.
_DRIVER = r"""
import os, sys
log = open(sys.argv[1], "a", buffering=1, encoding="utf-8", errors="surrogateescape")
WATCHED = {"open", "os.listdir", "os.scandir", "subprocess.Popen", "os.posix_spawn",
           "os.fork", "os.system", "os.exec", "os.spawn"}
def hook(event, args):
    if event in WATCHED:
        first = args[0] if args else ""
        if not isinstance(first, (str, bytes, os.PathLike)):
            first = "<fd>"
        log.write(event + "\t" + os.fsdecode(first) + "\n")
sys.addaudithook(hook)
from codex_cf.main import main
sys.exit(main(sys.argv[2:]))
"""

_TEMP_NAME = re.compile(r"\.[0-9a-f]{12}\.tmp$")
_PROCESS_EVENTS = {"subprocess.Popen", "os.posix_spawn", "os.fork", "os.system", "os.spawn"}


@dataclass
class Trace:
    modules: set[str]  # every module imported, dotted names
    events: list[tuple[str, str]]  # (audit event, path or "<fd>")

    def top_level(self) -> set[str]:
        return importtime.top_level(self.modules)

    def under(self, folder: Path) -> list[tuple[str, str]]:
        """Events on paths inside folder, the path made relative to it, and a temp file's
        random part (atomic_file's `.NAME.RANDOM.tmp`) made the same for every run."""
        prefix = str(folder) + os.sep
        return [
            (e, _TEMP_NAME.sub(".RANDOM.tmp", p.removeprefix(prefix)))
            for e, p in self.events
            if p.startswith(prefix)
        ]


def traced_launch(root: Path, *args: str, env: dict[str, str] | None = None) -> Trace:
    """`codex-cf ARGS` in a fresh interpreter, through to its exec; it must succeed."""
    log = root / f"trace-{time.monotonic_ns()}.log"
    # -P: no script folder on sys.path, so the import system lists no extra directory.
    done = subprocess.run(
        [sys.executable, "-P", "-X", "importtime", "-c", _DRIVER, str(log), *args],
        env=env if env is not None else dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules = importtime.imported(done.stderr)
    assert done.returncode == 0, done.stderr.splitlines()[-3:]
    events = [tuple(line.split("\t", 1)) for line in log.read_text().splitlines()]
    return Trace(modules, [(e[0], e[1]) for e in events])


def wait_until_settled() -> None:
    """Files written just now are not cached (launch_cache's racy rule); age them honestly."""
    time.sleep(launch_cache.RACY_SECONDS + 0.2)


def grown(text: str, entries: int = 500) -> str:
    """A file after long use: Codex appends a trust entry per project."""
    return text + "".join(
        f'\n[projects."/home/user/src/project-{n}"]\ntrust_level = "trusted"\n'
        for n in range(entries)
    )


def test_importing_main_loads_nothing_heavy() -> None:
    done = subprocess.run(
        [sys.executable, "-P", "-X", "importtime", "-c", "import codex_cf.main"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = importtime.top_level(importtime.imported(done.stderr))
    assert "codex_cf" in modules  # the trace sees what was imported
    assert modules.isdisjoint({*HEAVY, *D_BUS_LIBRARIES, "tomllib"})


def test_launch_with_token_from_environment_loads_nothing_heavy(
    home, stand_in: StandInCodex, monkeypatch
) -> None:
    profiles.write(home.profile())
    token = fake_token("env")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", token)
    trace = traced_launch(home.root, "exec", "hi")
    (run,) = stand_in.runs()
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)
    assert trace.top_level().isdisjoint({*HEAVY, *D_BUS_LIBRARIES})


def test_a_launch_through_keyring_is_seen_importing_it(home, stand_in: StandInCodex) -> None:
    """The control for the tests around it: a trace does show keyring when it is used."""
    profiles.write(home.profile())
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)  # the file keyring
    trace = traced_launch(home.root, "exec", "hi")
    (run,) = stand_in.runs()
    assert run["env"]["CLOUDFLARE_API_KEY"] == digest(token)
    assert "keyring" in trace.top_level()
    assert trace.top_level().isdisjoint({"click", "tomlkit", "psutil"})


def test_secret_service_fast_path_launch_does_not_import_keyring(
    home, stand_in: StandInCodex, real_keyring
) -> None:
    profiles.write(home.profile())
    token = fake_token()
    real_keyring.store("cloudflare-aig", token)
    wait_until_settled()
    # The first launch asks keyring and records the backend it resolved ...
    first = traced_launch(home.root, "exec", "one")
    assert "keyring" in first.top_level()
    # ... the next reads the same item through the standard library alone ...
    fast = traced_launch(home.root, "exec", "two")
    # ... and costs, over a warm launch with the token exported, only these modules.
    exported = traced_launch(
        home.root, "exec", "three", env=dict(os.environ, CLOUDFLARE_API_KEY=fake_token("env"))
    )
    runs = [r["env"]["CLOUDFLARE_API_KEY"] for r in stand_in.runs()]
    assert runs[:2] == [digest(token)] * 2
    assert fast.modules - exported.modules == FAST_PATH_ONLY
    assert fast.top_level().isdisjoint({*HEAVY, *D_BUS_LIBRARIES})


def _imports_of(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-P", "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return importtime.imported(done.stderr)


def test_a_warm_launch_imports_exactly_this_much(home, stand_in: StandInCodex, monkeypatch) -> None:
    """Every module counted: a new import on the launch path fails here until it is chosen."""
    profiles.write(home.profile(), profiles.TAGGED)  # tagged: the launch writes its record
    monkeypatch.setenv("CLOUDFLARE_API_KEY", fake_token("env"))
    traced_launch(home.root, "exec", "cold")
    wait_until_settled()
    traced_launch(home.root, "exec", "settled")
    warm = traced_launch(home.root, "exec", "warm")
    assert [r["args"][-1] for r in stand_in.runs()] == ["cold", "settled", "warm"]
    own = {m for m in warm.modules if m == "codex_cf" or m.startswith("codex_cf.")}
    assert own == WARM_OWN
    assert warm.modules.isdisjoint(WARM_NEVER)
    # The driver's audit hook imports nothing; the reference run starts the same way.
    assert warm.modules - own == _imports_of("import os, sys; import " + ", ".join(WARM_STDLIB))


def test_warm_launch_runs_no_codex_version(home, stand_in: StandInCodex, monkeypatch) -> None:
    profiles.write(home.profile())
    monkeypatch.setenv("CLOUDFLARE_API_KEY", fake_token("env"))
    traced_launch(home.root, "exec", "cold")
    assert stand_in.version_probes() == 1
    warm = traced_launch(home.root, "exec", "warm")
    assert stand_in.version_probes() == 1
    assert [r["args"][-1] for r in stand_in.runs()] == ["cold", "warm"]
    assert [e for e, _ in warm.events if e in _PROCESS_EVENTS] == []
    assert [p for e, p in warm.events if e == "os.exec"] == [str(stand_in.path)]
    assert "subprocess" not in warm.modules


def test_warm_launch_through_npm_starts_its_native_codex_from_cached_facts(
    home, tmp_path: Path, monkeypatch
) -> None:
    """npm's launcher, done in advance: not read again, not run, nor `--version`."""
    tree = npm_tree.build(tmp_path / "npm" / "node_modules", "0.171.0")
    monkeypatch.setenv("PATH", stand_in_codex.path_with(tree.launcher.parent))
    monkeypatch.setenv("CLOUDFLARE_API_KEY", fake_token("env"))
    profiles.write(home.profile())
    wait_until_settled()
    traced_launch(home.root, "exec", "cold")
    warm = traced_launch(home.root, "exec", "warm")
    assert [r["args"][-1] for r in tree.native.runs()] == ["cold", "warm"]
    assert tree.native.version_probes() == 1
    assert [e for e, _ in warm.events if e in _PROCESS_EVENTS] == []
    assert [p for e, p in warm.events if e == "os.exec"] == [str(tree.native.path)]
    # Of npm's tree: the first KiB of the launcher (is it a wrapper around codex-cf?)
    # and the exec; the platform package is neither opened nor listed.
    assert warm.under(tree.node_modules) == [
        ("open", "@openai/codex/bin/codex.js"),
        ("os.exec", str(tree.native.path.relative_to(tree.node_modules))),
    ]
    assert warm.top_level().isdisjoint({"subprocess", "hashlib", *HEAVY})


def _warm_trace(home_dir: Path, root: Path) -> Trace:
    env = dict(
        os.environ,
        HOME=str(home_dir),
        CODEX_HOME=str(home_dir / ".codex"),
        XDG_CACHE_HOME=str(home_dir / ".cache"),
        XDG_CONFIG_HOME=str(home_dir / ".config"),
    )
    traced_launch(root, "exec", "warming", env=env)
    return traced_launch(root, "exec", "warm", env=env)


@dataclass
class SmallAndLarge:
    small: Trace
    small_home: Path
    large: Trace
    large_home: Path


@pytest.fixture
def small_and_large(home, stand_in, monkeypatch) -> SmallAndLarge:
    """Warm launches in a fresh CODEX_HOME and in one grown by long use."""
    monkeypatch.setenv("CLOUDFLARE_API_KEY", fake_token("env"))
    small = home.home
    large = home.root / "large-home"
    # As setup writes them now: each launch tags its requests and records its id.
    profiles.write(small / ".codex" / "cloudflare-aig.config.toml", profiles.TAGGED)
    profiles.write(large / ".codex" / "cloudflare-aig.config.toml", grown(profiles.TAGGED))
    (large / ".codex" / "config.toml").write_text(grown('model = "gpt-5.5"\n'))
    for n in range(200):
        profiles.write(large / ".codex" / f"other-{n}.config.toml", grown(profiles.CURRENT, 50))
    wait_until_settled()
    return SmallAndLarge(_warm_trace(small, home.root), small, _warm_trace(large, home.root), large)


def test_warm_launch_work_does_not_grow_with_codex_files(home, small_and_large) -> None:
    both = small_and_large
    for trace in (both.small, both.large):
        # Neither the profile, config.toml nor the folder of profiles is opened or
        # listed, nor any folder of the user's, nor /proc (running processes).
        assert [p for _, p in trace.events if f"{os.sep}.codex" in p] == []
        assert [e for e, _ in trace.under(home.root) if e in ("os.listdir", "os.scandir")] == []
        assert [p for _, p in trace.events if p.startswith("/proc/")] == []
    # So both do the same work: the same files opened, in the same order.
    assert both.small.under(both.small_home) == both.large.under(both.large_home)
    assert both.small.under(both.small_home)  # the trace saw the cache being read
    # Its one write: the launch's id for `doctor --live`, in a temp file renamed over.
    written = [p for e, p in both.small.under(both.small_home) if p.endswith(".tmp")]
    assert written == [".cache/codex-cf/.last-launch.json.RANDOM.tmp"]
    assert both.small.modules == both.large.modules


def test_warm_launch_parses_no_toml_and_loads_no_dataclasses(small_and_large) -> None:
    for trace in (small_and_large.small, small_and_large.large):
        assert "tomllib" not in trace.top_level()
        assert "dataclasses" not in trace.top_level()
