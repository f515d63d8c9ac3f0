"""The rc-file scanner: which start-up files exist, which lines export a secret in plain text.

Each shell's grammar is checked against the real shell where one is installed.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from codex_cf import rc_files
from helpers import real_parts
from helpers.files import write
from helpers.tokens import assert_absent, fake_token

VARIABLE = "CLOUDFLARE_API_KEY"


def test_rc_files_lists_existing_files_of_every_shell(home, monkeypatch) -> None:
    zdotdir = home.root / "zdot"
    monkeypatch.setenv("ZDOTDIR", str(zdotdir))
    expected = [
        write(home.home / ".bashrc", ""),
        write(home.home / ".profile", ""),
        write(zdotdir / ".zshrc", ""),
        write(home.config / "fish" / "config.fish", ""),
        write(home.config / "fish" / "conf.d" / "tools.fish", ""),
        write(home.config / "fish" / "fish_variables", ""),
        write(rc_files.rc_file("powershell", home.home), ""),
    ]
    write(home.home / ".zshrc", "")  # ignored: ZDOTDIR says where zsh looks
    assert sorted(rc_files.rc_files(home.home)) == sorted(expected)


def test_rc_files_is_empty_for_an_empty_home(home) -> None:
    assert rc_files.rc_files(home.home) == []


# (file, content, expected exported line numbers); SECRET is replaced by a fake token.
POSIX_CASES = [
    ("export CLOUDFLARE_API_KEY=SECRET", [1]),
    ('export CLOUDFLARE_API_KEY="SECRET"', [1]),
    ("export CLOUDFLARE_API_KEY='SECRET'", [1]),
    ("export OTHER=1 CLOUDFLARE_API_KEY=SECRET", [1]),
    ("declare -x CLOUDFLARE_API_KEY=SECRET", [1]),
    ("typeset -gx CLOUDFLARE_API_KEY=SECRET", [1]),
    ("CLOUDFLARE_API_KEY=SECRET; export CLOUDFLARE_API_KEY", [1]),
    ("CLOUDFLARE_API_KEY=SECRET\n# a comment\nexport CLOUDFLARE_API_KEY", [1]),
    ("[ -n x ] && export CLOUDFLARE_API_KEY=SECRET", [1]),
    ("# export CLOUDFLARE_API_KEY=SECRET", []),
    ("declare CLOUDFLARE_API_KEY=SECRET", []),
    ("CLOUDFLARE_API_KEY=SECRET", []),
    ("export CLOUDFLARE_API_KEY=", []),
    ('export CLOUDFLARE_API_KEY="$(printf SECRET)"', []),
    ("export CLOUDFLARE_API_KEY=$(printf SECRET)", []),
    ("export CLOUDFLARE_API_KEY=`printf SECRET`", []),
    ("export OPENAI_API_KEY=SECRET", []),
]


@pytest.mark.parametrize(("content", "lines"), POSIX_CASES)
def test_posix_exports(home, content: str, lines: list[int]) -> None:
    token = fake_token()
    rc = write(home.home / ".bashrc", content.replace("SECRET", token))
    found = rc_files.find_exports([VARIABLE], home.home)
    assert [(e.path, e.line, e.variable) for e in found] == [(rc, n, VARIABLE) for n in lines]
    assert_absent(token, repr(found), where="find_exports result")


def literal(cases: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """Cases whose value is no command output: the real shell decides whether it exports."""
    return [case for case in cases if not any(c in case[0] for c in "(`")]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
@pytest.mark.parametrize(("content", "lines"), literal(POSIX_CASES))
def test_posix_cases_match_what_the_real_shell_exports(
    tmp_path: Path, shell: str, content: str, lines: list[int]
) -> None:
    """The table's export decisions are the shell's own."""
    program = real_parts.tool(shell)
    token = fake_token()
    rc = tmp_path / "rc"
    rc.write_text(content.replace("SECRET", token))
    result = subprocess.run(
        [program, "-c", f". {rc}; printenv {VARIABLE} || true"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        timeout=60,
        check=False,
    )
    exported = result.stdout.strip() == token
    assert exported == bool(lines), f"{shell} export state differs for case {content[:30]!r}"


FISH_CASES = [
    ("set -gx CLOUDFLARE_API_KEY SECRET", [1]),
    ("set -x CLOUDFLARE_API_KEY 'SECRET'", [1]),
    ("set --export --global CLOUDFLARE_API_KEY SECRET", [1]),
    ("if true; set -gx CLOUDFLARE_API_KEY SECRET; end", [1]),
    ("set -g CLOUDFLARE_API_KEY SECRET", []),
    ("set -gx CLOUDFLARE_API_KEY (printf SECRET)", []),
    ('set -gx CLOUDFLARE_API_KEY "$(printf SECRET)"', []),
    ("set -e CLOUDFLARE_API_KEY", []),
    ("# set -gx CLOUDFLARE_API_KEY SECRET", []),
]


@pytest.mark.parametrize(("content", "lines"), FISH_CASES)
def test_fish_exports(home, content: str, lines: list[int]) -> None:
    token = fake_token()
    rc = write(home.config / "fish" / "conf.d" / "secrets.fish", content.replace("SECRET", token))
    found = rc_files.find_exports([VARIABLE], home.home)
    assert [(e.path, e.line, e.variable) for e in found] == [(rc, n, VARIABLE) for n in lines]
    assert_absent(token, repr(found), where="find_exports result")


@pytest.mark.parametrize(("content", "lines"), literal(FISH_CASES))
def test_fish_cases_match_what_fish_exports(tmp_path: Path, content: str, lines: list[int]) -> None:
    fish = real_parts.tool("fish")
    token = fake_token()
    rc = tmp_path / "rc.fish"
    rc.write_text(content.replace("SECRET", token))
    result = subprocess.run(
        [fish, "--no-config", "-c", f"source {rc}; printenv {VARIABLE}; true"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert (result.stdout.strip() == token) == bool(lines), f"fish differs for {content[:30]!r}"


def test_fish_universal_variables_file(home) -> None:
    """`set -Ux` keeps the value in fish_variables, a plain-text copy too.

    (Without --no-config: fish writes universal variables only with its config.)
    """
    fish = real_parts.tool("fish")
    token = fake_token()
    env = {"PATH": os.environ["PATH"], "HOME": str(home.home), "XDG_CONFIG_HOME": str(home.config)}
    subprocess.run(
        [fish, "-c", f"set -Ux {VARIABLE} (cat); set -U UNEXPORTED x"],
        input=token,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    found = rc_files.find_exports([VARIABLE, "UNEXPORTED"], home.home)
    assert [(e.path.name, e.variable) for e in found] == [("fish_variables", VARIABLE)]
    assert_absent(token, repr(found), where="find_exports result")


@pytest.mark.parametrize(
    ("content", "lines"),
    [
        ("$env:CLOUDFLARE_API_KEY = 'SECRET'", [1]),
        ('$Env:cloudflare_api_key="SECRET"', [1]),
        ("[Environment]::SetEnvironmentVariable('CLOUDFLARE_API_KEY', 'SECRET', 'User')", [1]),
        ("$env:CLOUDFLARE_API_KEY = (Get-Secret cf -AsPlainText)", []),
        ('$env:CLOUDFLARE_API_KEY = "$(Get-Secret cf -AsPlainText)"', []),
        ("# $env:CLOUDFLARE_API_KEY = 'SECRET'", []),
        ("$env:OPENAI_API_KEY = 'SECRET'", []),
    ],
)
def test_powershell_exports(home, content: str, lines: list[int]) -> None:
    token = fake_token()
    profile = rc_files.rc_file("powershell", home.home)
    write(profile, "Set-PSReadLineOption -EditMode Emacs\n" + content.replace("SECRET", token))
    found = rc_files.find_exports([VARIABLE], home.home)
    assert [(e.path, e.line, e.variable) for e in found] == [
        (profile, n + 1, VARIABLE) for n in lines
    ]
    assert_absent(token, repr(found), where="find_exports result")


def test_rc_export_has_no_field_for_a_value() -> None:
    assert {field.name for field in dataclasses.fields(rc_files.RcExport)} == {
        "path",
        "line",
        "variable",
    }


def test_exports_are_found_in_every_rc_file(home) -> None:
    token = fake_token()
    bashrc = write(home.home / ".bash_profile", f"export {VARIABLE}={token}\n")
    zshrc = write(home.home / ".zshenv", f"\n\nexport {VARIABLE}='{token}'\n")
    fish = write(home.config / "fish" / "config.fish", f"set -gx {VARIABLE} {token}\n")
    found = rc_files.find_exports([VARIABLE], home.home)
    assert sorted((e.path, e.line) for e in found) == sorted([(bashrc, 1), (zshrc, 3), (fish, 1)])
