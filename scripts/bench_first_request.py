#!/usr/bin/env python3
r"""Time from the command to Codex's first request at the gateway, as a user waits for it.

Side by side in one run, with the real npm Codex on PATH (`node_modules/.bin`
first, as `npm install -g` leaves it):

- `codex-cf exec …`: the token from the Secret Service, the native Codex exec'd;
- Cloudflare's manual recipe, `codex --profile cloudflare-aig exec …` with the
  token already exported (the shell did that before the clock starts);
- codex-cf as before, through npm's launcher: a copy of the `@openai/codex`
  package whose `codex.js` has one comment line added, so codex-cf does not
  vouch for it and execs it, Node then starting the same native binary;
- `codex-cf exec …` with the token already exported, so it reads no keyring:
  what codex-cf costs apart from the Secret Service lookup;
- the native binary alone with the same variables (what no launcher can beat).

The gateway is codex-cf's fake AI Gateway on 127.0.0.1, timing the arrival
of each run's first request in this process; each run is let finish its turn
before the next starts. Everything lives in a temporary HOME with its own
gnome-keyring-daemon inside `dbus-run-session`; the token is a fake, passed
on standard input only. Commands alternate round-robin (each round starts
one further along); medians over all rounds. Goal: codex-cf <= 1.00x the
manual recipe (stretch 0.85x).

Run (Linux, after scripts/test has installed Codex into .test-tools/):

    .venv/bin/python scripts/bench_first_request.py            # 15 rounds
    .venv/bin/python scripts/bench_first_request.py --rounds 30 --codex \
        .test-tools/codex-0.171.0/node_modules/.bin/codex   # another release

Exit status: 0 goal met (or --report-only), 1 goal missed, 3 cannot run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))
from bench_launch import (  # noqa: E402
    BenchError,
    alternate,
    default_codex_cf,
    interpreter_of,
    machine_line,
    median_ms,
    quartiles_ms,
    run_bench,
    store_token,
)

from codex_cf import npm_codex  # noqa: E402
from codex_cf.fake_gateway import FakeGateway  # noqa: E402
from helpers import profiles  # noqa: E402
from helpers.secret_service import SecretServiceSession  # noqa: E402

PROFILE = "cloudflare-aig"
VARIABLE = "CLOUDFLARE_API_KEY"
GOAL = 1.00
STRETCH = 0.85
DEFAULT_CODEX = REPO / ".test-tools" / "codex-0.171.0" / "node_modules" / ".bin" / "codex"
PROMPT = ("exec", "--skip-git-repo-check", "hi")
RUN_TIMEOUT = 120
SETTLE_SECONDS = 2.2


class TimingGateway(FakeGateway):
    """The fake gateway, noting when each run's first request arrives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first_arrival: float | None = None
        self.arrived = threading.Event()

    def start_run(self) -> None:
        self.first_arrival = None
        self.arrived.clear()

    def _record(self, request: Any) -> None:
        if self.first_arrival is None:
            self.first_arrival = time.perf_counter()
            self.arrived.set()
        super()._record(request)


@dataclass
class Command:
    label: str
    argv: list[str]
    env: dict[str, str]
    times: list[float] = field(default_factory=list)

    def run_once(self, gateway: TimingGateway, cwd: Path) -> float:
        gateway.start_run()
        start = time.perf_counter()
        done = subprocess.run(
            self.argv,
            env=self.env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        if done.returncode != 0 or gateway.first_arrival is None:
            detail = done.stderr.decode("utf-8", "replace").strip()[-500:]
            raise BenchError(f"{self.label} exited {done.returncode} ({detail})")
        return gateway.first_arrival - start

    def median_ms(self) -> float:
        return median_ms(self.times)


def unvouched_copy(launcher: Path, into: Path) -> Path:
    """npm's tree with an edited launcher, sharing the real platform package (a link)."""
    real_modules = launcher.parent.parent
    package = into / "@openai" / "codex"
    shutil.copytree(real_modules / "@openai" / "codex", package)
    with (package / "bin" / "codex.js").open("a") as handle:
        handle.write("// edited: codex-cf no longer vouches for this launcher\n")
    for platform_package in (real_modules / "@openai").glob("codex-*"):
        (into / "@openai" / platform_package.name).symlink_to(platform_package)
    bin_link = into / ".bin" / "codex"
    bin_link.parent.mkdir()
    bin_link.symlink_to(os.path.join("..", "@openai", "codex", "bin", "codex.js"))
    if npm_codex.read_start(str(bin_link), os.path.realpath(bin_link)) is not None:
        raise BenchError("the edited launcher copy would still be started natively")
    return bin_link


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time to Codex's first gateway request: codex-cf against the manual recipe.",
        epilog="Exit status: 0 goal met (or --report-only), 1 goal missed, 3 cannot run.",
    )
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--codex", default=str(DEFAULT_CODEX), help="npm's node_modules/.bin/codex")
    parser.add_argument("--codex-cf", help="the codex-cf to measure (default: beside this Python)")
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even when the goal is missed"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be positive and --warmup not negative")
    return args


def _bench(args: argparse.Namespace, tmp: Path, service: SecretServiceSession) -> bool:
    codex_cf = args.codex_cf or default_codex_cf()
    launcher = Path(args.codex).absolute()
    if not launcher.exists():
        raise BenchError(f"no npm Codex at {launcher} (scripts/test installs it)")
    start = npm_codex.read_start(str(launcher), os.path.realpath(launcher))
    if start is None:
        raise BenchError(f"codex-cf does not start {launcher} natively: nothing to compare")
    version = subprocess.run(
        [str(launcher), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()

    home = tmp / "home"
    codex_home = home / ".codex"
    project = tmp / "project"
    for folder in (codex_home, home / ".cache", home / ".config", tmp / "tmp", project):
        folder.mkdir(parents=True)
    # npm's .bin first on PATH, as after `npm install -g`; Node where the shell finds it.
    node = shutil.which("node")
    if node is None:
        raise BenchError("no node on PATH")
    path = os.pathsep.join([str(launcher.parent), os.path.dirname(node), "/usr/bin", "/bin"])
    env = {
        "PATH": path,
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "TMPDIR": str(tmp / "tmp"),  # Codex wants its helpers outside CODEX_HOME's folder
        "DBUS_SESSION_BUS_ADDRESS": service.address,
        "LANG": "C.UTF-8",
    }
    token = f"bench-fake-{secrets.token_hex(16)}"
    token_digest = hashlib.sha256(token.encode()).hexdigest()
    with TimingGateway(profiles.ACCOUNT, "bench", "true") as gateway:
        profiles.write(
            codex_home / f"{PROFILE}.config.toml", profiles.with_base_url(gateway.base_url)
        )
        store_token(codex_cf, env, token)
        exported = {**env, VARIABLE: token}
        recipe_env = npm_codex.environment(start, exported)
        through_launcher = unvouched_copy(launcher, tmp / "unvouched" / "node_modules")
        time.sleep(SETTLE_SECONDS)  # files this new are not cached yet (launch_cache)
        commands = [
            Command("`codex-cf exec hi`", [codex_cf, *PROMPT], env),
            Command(
                "`codex-cf exec hi` through npm's launcher (as before)",
                [codex_cf, *PROMPT],
                {**env, "CODEX_CF_CODEX": str(through_launcher)},
            ),
            Command(
                "`codex-cf exec hi`, token exported (no keyring lookup)",
                [codex_cf, *PROMPT],
                exported,
            ),
            Command(
                "manual recipe: `codex --profile cloudflare-aig exec hi`, token exported",
                ["codex", "--profile", PROFILE, *PROMPT],
                exported,
            ),
            Command(
                "native Codex alone, same variables",
                [start.native, "--profile", PROFILE, *PROMPT],
                recipe_env,
            ),
        ]
        alternate(commands, args.warmup, args.rounds, lambda c: c.run_once(gateway, project))
        for request in gateway.responses_requests():
            sent = (request.header("Authorization") or "").removeprefix("Bearer ")
            if hashlib.sha256(sent.encode()).hexdigest() != token_digest:
                raise BenchError("a request reached the gateway without the stored token")
    ours, _, _, recipe, _ = commands
    ratio = ours.median_ms() / recipe.median_ms()
    lines = [
        f"Machine: {machine_line(interpreter_of(codex_cf))}; Node {_node_version(node)}; "
        f"{version} from npm ({launcher}).",
        f"{args.rounds} rounds (after {args.warmup} untimed), commands alternated "
        "round-robin; medians. Time from starting the command to the first request at "
        "the loopback gateway.",
        "",
        "| Command | median ms | middle half ms | x manual recipe |",
        "|---|---:|---:|---:|",
    ]
    for command in commands:
        lines.append(
            f"| {command.label} | {command.median_ms():.0f} | {quartiles_ms(command.times)} "
            f"| {command.median_ms() / recipe.median_ms():.2f} |"
        )
    met = ratio <= GOAL
    lines += [
        "",
        f"codex-cf / manual recipe: **{ratio:.2f}x** (goal <= {GOAL:.2f}: "
        f"{'met' if met else 'missed'}; stretch <= {STRETCH:.2f}: "
        f"{'met' if ratio <= STRETCH else 'missed'}).",
    ]
    print("\n".join(lines))
    return met


def _node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_bench("bench_first_request", args, lambda tmp, service: _bench(args, tmp, service))


if __name__ == "__main__":
    raise SystemExit(main())
