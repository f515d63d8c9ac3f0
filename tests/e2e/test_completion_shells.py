"""TAB in real bash, zsh and fish, driven through a pseudo-terminal.

The shells see the installed codex-cf console script and the real Codex on
PATH, a HOME in the test's folder, and a clean start-up: a fixed prompt, no
user rc. After TAB the test moves to the start of the line and turns it into
`echo RESULT"":<line>`, so the completed line comes back as plain output.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from codex_cf import rc_files
from codex_cf.commands import completion
from codex_cf.constants import TOKEN_SUBCOMMANDS
from helpers import real_parts
from helpers.process import run_codex_cf

SHELLS = ["bash", "zsh", "fish"]
PROMPT = "READY> "
TIMEOUT = 90
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
_ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z])|[\x00\x0e\x0f]")


@dataclass
class Parts:
    bin: Path  # codex-cf and codex, nothing else
    env: dict[str, str]

    def path_env(self, *, with_codex: bool = True) -> dict[str, str]:
        folders = [str(self.bin), "/usr/bin", "/bin"] if with_codex else [str(self.bin)]
        return {**self.env, "PATH": os.pathsep.join(folders)}


@pytest.fixture
def parts(tmp_path: Path, home) -> Parts:
    """The installed codex-cf and the real Codex, by name, in a folder of their own."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "codex-cf").symlink_to(real_parts.codex_cf())
    codex = real_parts.real_codex()
    env = {
        "HOME": str(home.home),
        "CODEX_HOME": str(home.codex_home),
        "XDG_CONFIG_HOME": str(home.config),
        "XDG_DATA_HOME": str(home.home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home.cache),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "CODEX_CF_TEST_CODEX": codex,
    }
    parts = Parts(folder, env)
    (folder / "codex").symlink_to(codex)
    return parts


class Session:
    """One interactive shell in a pseudo-terminal; everything it shows is kept."""

    def __init__(self, argv: list[str], env: dict[str, str], setup: str | None = None) -> None:
        self.transcript = io.StringIO()
        self.child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=env,
            encoding="utf-8",
            codec_errors="replace",
            timeout=TIMEOUT,
            dimensions=(60, 250),
        )
        self.child.logfile_read = self.transcript
        if setup:
            self.child.sendline(setup)
        self.child.expect_exact(PROMPT)
        self.transcript.seek(0)
        self.transcript.truncate()

    def run(self, command: str) -> None:
        self.child.sendline(f'{command}; echo RESULT"":')
        self.child.expect(r"RESULT:\r?\n")
        self.child.expect_exact(PROMPT)

    def complete(self, text: str) -> str:
        """Type `text`, press TAB once; the command line as TAB left it."""
        self.child.send(text + "\t")
        self.child.send('\x01echo RESULT"":\r')
        self.child.expect(r"RESULT:([^\r\n]*)\r?\n")
        line = _ANSI.sub("", self.child.match.group(1)).strip()
        self.child.expect_exact(PROMPT)
        return line

    def listing(self, text: str, words: list[str]) -> str:
        """Type `text`, press TAB; wait until every word was shown, then drop the line.

        fish may drop a list it drew while still repainting the line it just
        read; a second TAB, as a user would press, shows it again.
        """
        self.child.send(text)
        time.sleep(0.5)
        seen = ""
        for _attempt in range(3):
            self.child.send("\t")
            deadline = time.monotonic() + TIMEOUT / 3
            while not _shows_all(seen, words) and time.monotonic() < deadline:
                with contextlib.suppress(pexpect.TIMEOUT):
                    seen += _ANSI.sub("", self.child.read_nonblocking(65536, timeout=1))
            if _shows_all(seen, words):
                break
        self.cancel()
        return seen

    def cancel(self) -> None:
        """Drop the command line once the shell is idle again.

        A ^C that arrives while fish still works behind its candidate list
        (suggestions, repaint) can be lost: wait for quiet, then ask again if needed.
        """
        with contextlib.suppress(pexpect.TIMEOUT):
            while True:
                self.child.read_nonblocking(65536, timeout=1)
        for _attempt in range(3):
            self.child.sendcontrol("c")
            with contextlib.suppress(pexpect.TIMEOUT):
                self.child.expect_exact(PROMPT, timeout=TIMEOUT / 3)
                return
        raise AssertionError(f"no prompt after ^C: {self.transcript.getvalue()[-2000:]!r}")

    def close(self) -> None:
        self.child.close(force=True)


def _shows_all(text: str, words: list[str]) -> bool:
    return all(re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) for word in words)


def start(shell: str, env: dict[str, str], lines: list[str], tmp_path: Path) -> Session:
    """A shell with a fixed prompt, plain line editing, and `lines` run at start."""
    program = real_parts.tool(shell)
    if shell == "bash":
        rc = tmp_path / "bashrc"
        rc.write_text(
            "\n".join(
                [
                    f"PS1='{PROMPT}'",
                    "PROMPT_COMMAND=",
                    "bind 'set show-all-if-ambiguous on'",
                    "bind 'set completion-query-items -1'",
                    "bind 'set page-completions off'",
                    "bind 'set bell-style none'",
                    *lines,
                    "",
                ]
            )
        )
        return Session([program, "--noprofile", "--rcfile", str(rc), "-i"], env)
    if shell == "zsh":
        setup = [
            "PS1='READY''> '",
            "RPS1=",
            "LISTMAX=10000",
            "unsetopt beep",
            "bindkey -e",
            "autoload -Uz compinit && compinit -u -D",
            *lines,
        ]
        return Session([program, "-f", "-i"], env, "; ".join(setup))
    setup = [
        "function fish_prompt; printf 'READY''> '; end",
        "set -g fish_greeting ''",
        "set -g fish_autosuggestion_enabled 0",
        *lines,
    ]
    # fish shows its candidate list only on a terminal that can draw it.
    argv = [program, "--no-config", "--init-command", "; ".join(setup), "-i"]
    return Session(argv, {**env, "TERM": "xterm"})


def loader(shell: str, *aliases: str) -> list[str]:
    """How the README says to load the printed script (bash needs --alias for aliases)."""
    alias = "".join(f" --alias {name}" for name in aliases) if shell == "bash" else ""
    source = {
        "bash": f"source <(codex-cf completion bash{alias})",
        "zsh": "source <(codex-cf completion zsh)",
        "fish": "codex-cf completion fish | source",
    }[shell]
    return [source, *(f"alias {name}=codex-cf" for name in aliases)]


@pytest.fixture
def session(request, parts: Parts, tmp_path: Path) -> Iterator[Session]:
    shell, aliases = request.param
    live = start(shell, parts.path_env(), loader(shell, *aliases), tmp_path)
    yield live
    live.close()


def sessions(*aliases: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        "session", [(shell, aliases) for shell in SHELLS], indirect=True, ids=SHELLS
    )


@sessions()
def test_own_command(session: Session) -> None:
    assert session.complete("codex-cf setu") == "codex-cf setup"


@sessions()
def test_codex_command(session: Session) -> None:
    assert session.complete("codex-cf revi") == "codex-cf review"


@sessions()
def test_codex_global_option(session: Session) -> None:
    assert session.complete("codex-cf --sandb").startswith("codex-cf --sandbox")


@sessions()
def test_token_sub_commands_are_listed(session: Session) -> None:
    shown = session.listing("codex-cf token ", list(TOKEN_SUBCOMMANDS))
    assert _shows_all(shown, list(TOKEN_SUBCOMMANDS)), shown[-2000:]


@sessions("codex")
def test_through_an_alias_named_codex(session: Session) -> None:
    """Codex's own script registers itself for `codex` when it loads: the alias keeps ours."""
    assert session.complete("codex revi") == "codex review"
    assert session.complete("codex setu") == "codex setup"
    assert session.complete("codex --sandb").startswith("codex --sandbox")
    shown = session.listing("codex token ", list(TOKEN_SUBCOMMANDS))
    assert _shows_all(shown, list(TOKEN_SUBCOMMANDS)), shown[-2000:]


@pytest.mark.parametrize("shell", SHELLS)
def test_codex_loads_once_and_tab_starts_no_program(
    shell: str, parts: Parts, tmp_path: Path
) -> None:
    """After the first TAB nothing is looked up on PATH: no codex, no codex-cf, no Python."""
    live = start(shell, parts.path_env(), loader(shell), tmp_path)
    try:
        assert live.complete("codex-cf revi") == "codex-cf review"
        empty = tmp_path / "empty"
        empty.mkdir()
        live.run(f"set -gx PATH {empty}" if shell == "fish" else f"PATH={empty}; hash -r")
        assert live.complete("codex-cf review --comm").startswith("codex-cf review --commit")
        assert live.complete("codex-cf doctor --off") == "codex-cf doctor --offline"
    finally:
        live.close()


@pytest.mark.parametrize("shell", SHELLS)
def test_without_codex_own_commands_still_complete(
    shell: str, parts: Parts, tmp_path: Path
) -> None:
    live = start(shell, parts.path_env(with_codex=False), loader(shell), tmp_path)
    try:
        assert live.complete("codex-cf setu") == "codex-cf setup"
        assert live.complete("codex-cf revi") == "codex-cf revi"
        assert live.complete("codex-cf token ver") == "codex-cf token verify"
        live.run("true")
        shown = live.transcript.getvalue()
        assert not re.search(r"error|not found|no such|unknown", shown, re.IGNORECASE), shown
    finally:
        live.close()


@pytest.mark.parametrize("shell", SHELLS)
def test_detects_the_shell_it_runs_in(shell: str, parts: Parts, tmp_path: Path) -> None:
    out = tmp_path / "printed"
    live = start(shell, parts.path_env(), [], tmp_path)
    try:
        live.run(f"codex-cf completion > {shlex.quote(str(out))}")
    finally:
        live.close()
    assert out.read_text() == completion.shipped_script(shell)


# ---- --install, then a new shell that loads what was installed


def install(parts: Parts, shell: str, *aliases: str) -> list[str]:
    args = [arg for alias in aliases for arg in ("--alias", alias)]
    result = run_codex_cf("completion", shell, "--install", *args, env=parts.path_env())
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def fresh(shell: str, parts: Parts, tmp_path: Path, lines: list[str]) -> Session:
    """A new interactive shell with its usual start-up files (in the test's HOME)."""
    env = parts.path_env()
    program = real_parts.tool(shell)
    if shell == "bash":
        return start(shell, env, lines, tmp_path)
    if shell == "zsh":
        zshrc = rc_files.rc_file("zsh", Path(env["HOME"]))
        with zshrc.open("a") as rc:
            rc.write("\n".join(["PS1='READY> '", "RPS1=", "LISTMAX=10000", *lines, ""]))
        return Session([program, "-i"], env)
    config = rc_files.rc_file("fish", Path(env["HOME"]))
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "function fish_prompt; printf 'READY> '; end\nset -g fish_greeting ''\n" + "\n".join(lines)
    )
    return Session([program, "-i"], {**env, "TERM": "xterm"})


def check_completes(session: Session, command: str = "codex-cf") -> None:
    try:
        assert session.complete(f"{command} setu") == f"{command} setup"
        assert session.complete(f"{command} revi") == f"{command} review"
        shown = session.listing(f"{command} token ", list(TOKEN_SUBCOMMANDS))
        assert _shows_all(shown, list(TOKEN_SUBCOMMANDS)), shown[-2000:]
    finally:
        session.close()


def lines_to_add(messages: list[str]) -> list[str]:
    """The install message indents the lines a user adds to a start-up file."""
    return [message.strip() for message in messages if message.startswith("  ")]


def test_bash_install_with_bash_completion(parts: Parts, tmp_path: Path) -> None:
    if not BASH_COMPLETION.is_file():
        real_parts.missing("bash-completion (Debian package bash-completion)")
    install(parts, "bash", "codex")
    lines = [f"source {BASH_COMPLETION}", "alias codex=codex-cf"]
    check_completes(fresh("bash", parts, tmp_path, lines))
    check_completes(fresh("bash", parts, tmp_path, lines), "codex")


def test_bash_install_with_the_line_it_prints(parts: Parts, tmp_path: Path) -> None:
    added = lines_to_add(install(parts, "bash"))
    assert len(added) == 1
    assert added[0].startswith("source ")
    check_completes(fresh("bash", parts, tmp_path, added))


def test_zsh_install_with_the_line_it_prints(parts: Parts, tmp_path: Path) -> None:
    added = lines_to_add(install(parts, "zsh"))
    assert added == ["fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit"]
    check_completes(fresh("zsh", parts, tmp_path, added))
    # Once fpath holds the folder, installing again asks for nothing more.
    assert lines_to_add(install(parts, "zsh")) == []


def test_fish_install_needs_no_line(parts: Parts, tmp_path: Path) -> None:
    assert lines_to_add(install(parts, "fish")) == []
    check_completes(fresh("fish", parts, tmp_path, []))


def test_fish_alias_without_wraps(parts: Parts, tmp_path: Path) -> None:
    """A plain function named codex: `--install --alias codex` makes it complete too."""
    install(parts, "fish", "codex")
    check_completes(
        fresh("fish", parts, tmp_path, ["function codex; codex-cf $argv; end"]), "codex"
    )
