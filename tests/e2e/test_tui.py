"""The interactive Codex TUI, started as `codex-cf "<prompt>"` in a pseudo-terminal.

Real Codex 0.169.0, the real Secret Service and the loopback fake gateway:
codex-cf must become the native Codex npm's launcher would start, in the same
process, and a turn run from the TUI must carry the keyring token to the
gateway and keep it from the agent.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pexpect
import psutil
import pytest

from codex_cf import npm_codex
from codex_cf.fake_gateway import FakeGateway
from helpers import profiles, real_parts
from helpers.tokens import Withheld, assert_absent, assert_same_secret

PROFILE = "cloudflare-aig"
GATEWAY = "codex-tui"
VARIABLE = "CLOUDFLARE_API_KEY"
COMMAND = f'printenv {VARIABLE}; echo "printenv status: $?"'
PROMPT = "check the variable"
ROWS, COLUMNS = 40, 120
TURN_TIMEOUT = 120.0
QUIET = 0.5  # the screen is settled (and the dialog listening) after this long

# What a terminal answers when Codex asks (device attributes, cursor
# position, colours); without answers Codex waits for each query to time out.
_ANSWERS = {
    "\x1b[c": "\x1b[?1;2c",
    "\x1b[6n": "\x1b[1;1R",
    "\x1b]10;?\x1b\\": "\x1b]10;rgb:ffff/ffff/ffff\x1b\\",
    "\x1b]11;?\x1b\\": "\x1b]11;rgb:0000/0000/0000\x1b\\",
}
# Dialogs Codex may show first, in its words (spaces removed), and the key
# a user presses: trust the project folder; keep the configured model.
_DIALOGS = {
    "Trustthisfolder?": "\r",
    "2.Useexistingmodel": "2",
}
_CONTROL = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[@-Z\\-_]"  # other escapes
    r"|\s"
)


def _visible(raw: str) -> str:
    """The screen's words without escapes or spacing: enough to recognise a dialog."""
    return _CONTROL.sub("", raw)


class Screen:
    """Drives the TUI as a person at a terminal would, reading what it draws."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.raw = ""
        self._answered_queries = 0
        self._last_output = time.monotonic()
        self._dialog_answered: dict[str, tuple[int, float]] = {}

    def pump(self) -> None:
        try:
            chunk = self.child.read_nonblocking(65536, timeout=0.2)
        except pexpect.TIMEOUT:
            chunk = ""
        if chunk:
            self.raw += chunk
            self._last_output = time.monotonic()
        self._answer_queries()
        self._answer_dialogs()

    def _answer_queries(self) -> None:
        found = sorted(
            (match.start(), query)
            for query in _ANSWERS
            for match in re.finditer(re.escape(query), self.raw)
        )
        for _, query in found[self._answered_queries :]:
            self.child.send(_ANSWERS[query])
        self._answered_queries = len(found)

    def _answer_dialogs(self) -> None:
        """Answer the newest dialog once the screen is still; again if the key was lost."""
        now = time.monotonic()
        if now - self._last_output < QUIET:
            return
        text = _visible(self.raw)
        shown = {pattern: text.rfind(pattern) for pattern in _DIALOGS}
        pattern, where = max(shown.items(), key=lambda item: item[1])
        if where < 0:
            return
        answered_at, when = self._dialog_answered.get(pattern, (-1, 0.0))
        lost = self._last_output <= when and now - when > 5
        if where > answered_at or lost:
            self.child.send(_DIALOGS[pattern])
            self._dialog_answered[pattern] = (len(text), now)

    def shows(self, text: str) -> bool:
        return _visible(text) in _visible(self.raw)


@pytest.fixture(autouse=True)
def terminal_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git checkout, as Codex is used in: it asks whether to trust it."""
    folder = tmp_path / "project"
    folder.mkdir()
    subprocess.run([real_parts.tool("git"), "init", "-q", str(folder)], check=True)
    return folder


@pytest.fixture
def gateway(home):
    with FakeGateway(profiles.ACCOUNT, GATEWAY, COMMAND) as running:
        profiles.write(home.profile(PROFILE), profiles.with_base_url(running.base_url))
        yield running


def _kill_tree(pid: int) -> None:
    try:
        family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)


def test_tui_turn_goes_through_gateway_in_the_same_process(
    codex, project, gateway, token, codex_cf
) -> None:
    child = pexpect.spawn(
        codex_cf,
        [PROMPT],
        cwd=str(project),
        env=dict(os.environ),
        dimensions=(ROWS, COLUMNS),
        encoding="utf-8",
        codec_errors="replace",
    )
    screen = Screen(child)
    try:
        deadline = time.monotonic() + TURN_TIMEOUT
        while not (gateway.turn_completed.is_set() and screen.shows(gateway.reply)):
            assert child.isalive(), "the TUI exited before the turn completed"
            assert time.monotonic() < deadline, "no completed turn on the screen in time"
            screen.pump()
        process = psutil.Process(child.pid)
        command_line = Withheld(" ".join(process.cmdline()))
        native = npm_codex.read_start(codex, os.path.realpath(codex))
        assert native is not None, "codex-cf does not recognise npm's Codex here"
        assert process.exe() == os.path.realpath(native.native), command_line
        assert process.cmdline()[0] == native.native, command_line
        assert "node" not in {p.name() for p in process.children(recursive=True)}
        assert process.cmdline()[-3:-1] == ["--profile", PROFILE], command_line
        assert process.cmdline()[-1] == PROMPT
    finally:
        _kill_tree(child.pid)
        child.close(force=True)

    assert_absent(token, Withheld(screen.raw), where="the terminal")
    sent = gateway.responses_requests()
    assert sent
    assert all(r.path == gateway.responses_path for r in gateway.requests if r.method == "POST")
    for request in sent:
        assert_same_secret(
            Withheld(request.header("Authorization") or ""),
            Withheld(f"Bearer {token}"),
            "Authorization",
        )
    outputs = [Withheld(output) for output in gateway.tool_outputs]
    assert len(outputs) == 1
    assert_absent(token, *outputs, where="the agent's command output")
    assert "printenv status: 1" in outputs[0], outputs[0][-300:]
