#!/usr/bin/env python3
"""Measure what a codex-cf launch costs next to the keyring library (SPEC "Performance budget").

A launch is `codex-cf exec hi` up to its exec of Codex; the keyring floor is
`python -c "import keyring; keyring.get_password('codex-cf', 'cloudflare-aig')"`,
the least any launcher that goes through the keyring library can cost. Goals:
launch <= 0.50x the floor, and the fallback launch (forced through keyring)
<= 1.10x the floor, both with a fresh profile and with a profile and config.toml
grown by long use (hundreds of `[projects."..."]` trust entries each, as Codex
writes them, and many other profiles beside them).

Everything runs in one process tree the script starts and removes again: its
own gnome-keyring-daemon inside `dbus-run-session`, a temporary HOME,
CODEX_HOME and XDG dirs per size, and a stand-in `codex` (a /bin/sh script that
exits at once, but whose `--version` takes as long as the real one, so a launch
that probes the version every time shows it). The developer's keyring and files
are never touched. The token is a fake, passed on standard input only.

The commands alternate round-robin (each round starts one further along) so
that a noisy neighbour hits them alike; medians are over all rounds. The
fallback is forced honestly: before each of its runs the script deletes the
keyring-backend record in codex-cf's cache folder, so codex-cf asks keyring, as
on the first launch after an upgrade, and writes the record again.

Run (Linux, with gnome-keyring, dbus and libsecret-tools installed):

    .venv/bin/python scripts/bench_launch.py              # 30 rounds
    .venv/bin/python scripts/bench_launch.py --rounds 100 --report-only

It prints a Markdown report (paste-ready for docs/performance.md) and exits 1 if a goal
is missed (0 with --report-only), 3 if it cannot run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from codex_cf import launch_cache  # noqa: E402
from codex_cf.constants import DEFAULT_PROFILE as PROFILE  # noqa: E402
from codex_cf.constants import KEYRING_SERVICE as SERVICE  # noqa: E402
from helpers import importtime  # noqa: E402
from helpers.profiles import TAGGED as PROFILE_TEXT  # noqa: E402  (what setup writes)
from helpers.secret_service import MissingTool, SecretServiceSession  # noqa: E402

LAUNCH_GOAL = 0.50
FALLBACK_GOAL = 1.10
DEFAULT_VERSION_DELAY = 0.14  # the real `codex --version` through the npm wrapper
# Checked profiles are cached only once the files are older than this.
SETTLE_SECONDS = launch_cache.RACY_SECONDS + 0.2


GROWN_CONFIG_HEAD = """\
model = "gpt-5.5"
approval_policy = "on-request"

[tui]
notifications = true
"""

# A stand-in `codex`: a shell script, so the exec'd program adds ~1 ms, not a
# Python start-up. It counts `--version` probes and, when asked, records a
# digest (never the value) of the token it received.
_STAND_IN = """#!/bin/sh
if [ "$#" -eq 1 ] && [ "$1" = "--version" ]; then
  echo probe >> '{log}'
  sleep {delay}
  echo "codex-cli 0.169.0"
  exit 0
fi
if [ -n "$BENCH_RECORD" ]; then
  printf '%s' "$CLOUDFLARE_API_KEY" | sha256sum | cut -c1-64 > "$BENCH_RECORD"
fi
exit 0
"""

_FLOOR_CODE = f"import keyring; keyring.get_password({SERVICE!r}, {PROFILE!r})"
_FLOOR_CHECK_CODE = (
    "import hashlib, sys, keyring\n"
    f"value = keyring.get_password({SERVICE!r}, {PROFILE!r}) or ''\n"
    "sys.exit(hashlib.sha256(value.encode()).hexdigest() != sys.argv[1])\n"
)
_WATCHED_MODULES = (
    *("keyring", "secretstorage", "jeepney", "cryptography"),
    *("click", "tomlkit", "psutil", "tomllib"),
    # What an older pip's console-script wrapper (`import re`) or a regression would add.
    *("typing", "json", "re", "hashlib"),
)


class BenchError(Exception):
    """The benchmark cannot run or its set-up is not what it claims."""


@dataclass
class Scenario:
    """One HOME with one profile size."""

    name: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def backend_record(self) -> Path:
        return launch_cache.entry_path(launch_cache.KEYRING_BACKEND, self.env)

    def forget_backend(self) -> None:
        self.backend_record.unlink(missing_ok=True)


@dataclass
class Command:
    label: str
    argv: list[str]
    scenario: Scenario
    prepare: Callable[[], None] | None = None
    times: list[float] = field(default_factory=list)

    def run_once(self) -> float:
        if self.prepare:
            self.prepare()
        start = time.perf_counter()
        done = subprocess.run(
            self.argv,
            env=self.scenario.env,
            cwd=self.scenario.home,  # as from a project folder; `python -c` puts it on sys.path
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip()
            raise BenchError(f"{self.label} exited {done.returncode}: {detail}")
        return elapsed

    def median_ms(self) -> float:
        return median_ms(self.times)


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


class _Timed(Protocol):
    times: list[float]


_T = TypeVar("_T", bound=_Timed)


def alternate(commands: Sequence[_T], warmup: int, rounds: int, run: Callable[[_T], float]) -> None:
    """Run every command each round, each round starting one further along, so a
    change in the machine's load falls on all commands alike; keep the timed rounds."""
    for round_index in range(warmup + rounds):
        shift = round_index % len(commands)
        for command in [*commands[shift:], *commands[:shift]]:
            elapsed = run(command)
            if round_index >= warmup:
                command.times.append(elapsed)


def run_bench(
    name: str, args: argparse.Namespace, bench: Callable[[Path, SecretServiceSession], bool]
) -> int:
    """Run a benchmark in a scratch folder with its own Secret Service: the exit status."""
    if not sys.platform.startswith("linux"):
        print(f"{name}: the benchmark needs Linux (a Secret Service)", file=sys.stderr)
        return 3
    tmp = Path(tempfile.mkdtemp(prefix=f"codex-cf-{name}-"))
    service = SecretServiceSession(tmp / "secret-service")
    try:
        service.start()
        try:
            met = bench(tmp, service)
        finally:
            service.stop()
    except (BenchError, MissingTool) as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if met or args.report_only else 1


def default_codex_cf() -> str:
    beside = Path(sys.executable).with_name("codex-cf")
    if beside.exists():
        return str(beside)
    found = shutil.which("codex-cf")
    if not found:
        raise BenchError(
            "no codex-cf found; install it (pip install -e '.[test]') or pass --codex-cf"
        )
    return found


def interpreter_of(script: str) -> str:
    """The Python a console script runs with: the floor must use the same one."""
    with open(script, "rb") as handle:
        first = handle.readline().decode("utf-8", "replace").strip()
    if first.startswith("#!") and "python" in first:
        return first[2:].split()[0]
    return sys.executable


def measure_real_codex(env: dict[str, str], rounds: int = 5) -> float | None:
    """Median seconds of the real `codex --version`, or None without one."""
    real = shutil.which("codex", path=os.environ.get("PATH"))
    if not real:
        return None
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run(
            [real, "--version"],
            env=dict(env, PATH=os.environ.get("PATH", "")),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            return None
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def install_stand_in(directory: Path, delay: float) -> Path:
    directory.mkdir(parents=True)
    log = directory / "version-probes.log"
    path = directory / "codex"
    path.write_text(_STAND_IN.format(log=log, delay=f"{delay:.3f}"))
    path.chmod(0o755)
    return log


def trust_entries(count: int) -> str:
    return "".join(
        f'\n[projects."/home/user/src/project-{n}"]\ntrust_level = "trusted"\n'
        for n in range(count)
    )


def make_scenario(
    name: str, root: Path, base_env: dict[str, str], trusted: int, other_profiles: int
) -> Scenario:
    """A HOME with the profile as setup writes it, or as long use leaves it."""
    home = root / "home"
    codex_home = home / ".codex"
    for folder in (codex_home, home / ".cache", home / ".config", home / ".local" / "share"):
        folder.mkdir(parents=True)
    files = {f"{PROFILE}.config.toml": PROFILE_TEXT + trust_entries(trusted)}
    if trusted:
        files["config.toml"] = GROWN_CONFIG_HEAD + trust_entries(trusted)
    for n in range(other_profiles):
        files[f"other-{n}.config.toml"] = PROFILE_TEXT + trust_entries(trusted)
    for file_name, text in files.items():
        path = codex_home / file_name
        path.write_text(text)
        path.chmod(0o600)
    env = dict(
        base_env,
        HOME=str(home),
        CODEX_HOME=str(codex_home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
    )
    return Scenario(name, root, env)


def run_checked(argv: Sequence[str], env: dict[str, str], stdin: str | None = None) -> str:
    """Run a set-up step; its stderr is returned (codex-cf never prints the token)."""
    done = subprocess.run(
        list(argv),
        env=env,
        input=stdin.encode() if stdin is not None else None,
        stdin=subprocess.DEVNULL if stdin is None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        timeout=120,
    )
    err = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise BenchError(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} failed: {err.strip()}")
    return err


def check_launch(codex_cf: str, scenario: Scenario, token_digest: str, record: Path) -> set[str]:
    """One traced launch: the stand-in got the right token; which modules it took."""
    record.unlink(missing_ok=True)
    env = dict(scenario.env, BENCH_RECORD=str(record), PYTHONPROFILEIMPORTTIME="1")
    err = run_checked([codex_cf, "exec", "hi"], env)
    if not record.exists() or record.read_text().strip() != token_digest:
        raise BenchError(f"the {scenario.name} launch did not hand Codex the stored token")
    return importtime.top_level(importtime.imported(err))


def store_token(codex_cf: str, env: dict[str, str], token: str) -> None:
    """Store the fake token as a user does: on standard input, never in argv."""
    run_checked([codex_cf, "token", "set", "--stdin"], env, stdin=token)


def machine_line(python: str) -> str:
    memory = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = subprocess.run(
        [
            python,
            "-c",
            "import sys; from importlib.metadata import version as v;"
            "print(sys.version.split()[0], v('codex-cf'), v('keyring'), v('secretstorage'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    py, own, keyring, secretstorage = (versions + ["?"] * 4)[:4]
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory}, Linux {platform.release()}, "
        f"Python {py}; codex-cf {own}, keyring {keyring}, secretstorage {secretstorage}"
    )


def quartiles_ms(times: list[float]) -> str:
    if len(times) < 4:
        return "-"
    q1, _, q3 = statistics.quantiles(times, n=4)
    return f"{q1 * 1000:.0f}-{q3 * 1000:.0f}"


def report(
    commands: dict[str, Command],
    floor: Command,
    goals: list[tuple[str, Command, float]],
    header: list[str],
    notes: list[str],
) -> bool:
    """Print the Markdown report; True when every goal is met."""
    floor_ms = floor.median_ms()
    lines = [*header, "", "| Command | median ms | middle half ms | x keyring floor |"]
    lines.append("|---|---:|---:|---:|")
    for command in commands.values():
        median = command.median_ms()
        lines.append(
            f"| {command.label} | {median:.0f} | {quartiles_ms(command.times)} "
            f"| {median / floor_ms:.2f} |"
        )
    lines += ["", "| Goal | ratio | limit | met |", "|---|---:|---:|---|"]
    met_all = True
    for what, command, limit in goals:
        ratio = command.median_ms() / floor_ms
        met = ratio <= limit
        met_all &= met
        lines.append(f"| {what} | {ratio:.2f} | {limit:.2f} | {'yes' if met else '**no**'} |")
    lines += ["", *notes]
    print("\n".join(lines))
    return met_all


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Measure the codex-cf launch against the keyring floor, side by side, "
            "in a private Secret Service and temporary HOME."
        ),
        epilog="Exit status: 0 goals met (or --report-only), 1 a goal missed, 3 cannot run.",
    )
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument(
        "--trust-entries",
        type=int,
        default=500,
        help="[projects.*] trust entries in the grown profile and config.toml (default 500)",
    )
    parser.add_argument(
        "--other-profiles",
        type=int,
        default=50,
        help="other profiles beside the grown one in CODEX_HOME (default 50)",
    )
    parser.add_argument("--codex-cf", help="the codex-cf to measure (default: beside this Python)")
    parser.add_argument(
        "--version-delay",
        type=float,
        help="seconds the stand-in's --version takes (default: the real codex's, else 0.14)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even when a goal is missed"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0 or args.trust_entries < 1 or args.other_profiles < 0:
        parser.error("--rounds and --trust-entries must be positive, the others not negative")
    return args


def _bench(args: argparse.Namespace, tmp: Path, service: SecretServiceSession) -> bool:
    codex_cf = args.codex_cf or default_codex_cf()
    python = interpreter_of(codex_cf)
    bin_dir = tmp / "bin"
    base_env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "DBUS_SESSION_BUS_ADDRESS": service.address,
        "LANG": "C.UTF-8",
    }
    fresh = make_scenario("fresh", tmp / "fresh", base_env, 0, 0)
    grown = make_scenario("grown", tmp / "grown", base_env, args.trust_entries, args.other_profiles)
    written = time.time()
    real_delay = measure_real_codex(fresh.env)
    delay = args.version_delay
    if delay is None:
        delay = real_delay if real_delay is not None else DEFAULT_VERSION_DELAY
    probe_log = install_stand_in(bin_dir, delay)

    token = f"bench-fake-{secrets.token_hex(16)}"
    token_digest = hashlib.sha256(token.encode()).hexdigest()
    store_token(codex_cf, fresh.env, token)
    time.sleep(max(0.0, written + SETTLE_SECONDS - time.time()))

    # Warm each HOME as a second launch finds it, then check what is measured.
    traced: dict[str, set[str]] = {}
    for scenario in (fresh, grown):
        run_checked([codex_cf, "exec", "hi"], scenario.env)
        if not scenario.backend_record.exists():
            raise BenchError(f"codex-cf recorded no keyring backend at {scenario.backend_record}")
        traced[scenario.name] = check_launch(codex_cf, scenario, token_digest, tmp / "record")
        scenario.forget_backend()
        forced = check_launch(codex_cf, scenario, token_digest, tmp / "record")
        if "keyring" not in forced:
            raise BenchError("deleting the backend record did not send the launch to keyring")
    floor_check = [python, "-c", _FLOOR_CHECK_CODE, token_digest]
    run_checked(floor_check, fresh.env)

    launch = [codex_cf, "exec", "hi"]
    commands = {
        c.label: c
        for c in (
            Command("`codex-cf exec hi`, fresh profile", launch, fresh),
            Command("`codex-cf exec hi`, grown profile", launch, grown),
            Command("fallback launch, fresh profile", launch, fresh, fresh.forget_backend),
            Command("fallback launch, grown profile", launch, grown, grown.forget_backend),
            Command("keyring floor", [python, "-c", _FLOOR_CODE], fresh),
            Command("`codex-cf --help`", [codex_cf, "--help"], fresh),
            Command("`python -c pass`", [python, "-c", "pass"], fresh),
            Command(
                "`secret-tool lookup`",
                ["secret-tool", "lookup", "service", SERVICE, "username", PROFILE],
                fresh,
            ),
            Command(
                "stand-in `codex exec hi` alone", [str(bin_dir / "codex"), "exec", "hi"], fresh
            ),
        )
    }
    order = list(commands.values())
    probes_before = len(probe_log.read_text().splitlines())
    alternate(order, args.warmup, args.rounds, Command.run_once)
    probes = len(probe_log.read_text().splitlines()) - probes_before

    floor = commands["keyring floor"]
    goals = [
        ("launch, fresh profile", commands["`codex-cf exec hi`, fresh profile"], LAUNCH_GOAL),
        ("launch, grown profile", commands["`codex-cf exec hi`, grown profile"], LAUNCH_GOAL),
        ("fallback, fresh profile", commands["fallback launch, fresh profile"], FALLBACK_GOAL),
        ("fallback, grown profile", commands["fallback launch, grown profile"], FALLBACK_GOAL),
    ]
    real = f"{real_delay * 1000:.0f} ms measured" if real_delay is not None else "no real codex"
    header = [
        f"Machine: {machine_line(python)}.",
        f"{args.rounds} rounds (after {args.warmup} untimed), commands alternated round-robin; "
        f"medians. Stand-in `codex --version` sleeps {delay * 1000:.0f} ms "
        f"(real `codex --version`: {real}). Grown: {args.trust_entries} trust entries in the "
        f"profile and in config.toml, {args.other_profiles} other profiles.",
    ]
    watched = "; ".join(
        f"{scenario}: "
        + ", ".join(f"{name} {'yes' if name in modules else 'no'}" for name in _WATCHED_MODULES)
        for scenario, modules in traced.items()
    )
    notes = [
        "Token stored with `codex-cf token set --stdin` in gnome-keyring-daemon on a private bus.",
        f"Modules a warm launch imports ({watched}).",
        f"`codex --version` runs during the timed rounds: {probes}.",
    ]
    return report(commands, floor, goals, header, notes)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_bench("bench_launch", args, lambda tmp, service: _bench(args, tmp, service))


if __name__ == "__main__":
    raise SystemExit(main())
