"""`codex-cf completion`: printing, aliases, installing, and what it refuses to touch."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codex_cf import rc_files, shells
from codex_cf.commands import completion
from codex_cf.commands.completion import CompletionOptions
from codex_cf.errors import FileConflict, UsageError
from helpers import real_parts
from helpers.process import run_codex_cf

REPO_COMPLETIONS = real_parts.REPO / "completions"
SHELLS = list(completion.SCRIPT_FILES)


@pytest.mark.parametrize("shell", SHELLS)
def test_prints_the_shipped_script(shell: str, capsys) -> None:
    assert completion.run(CompletionOptions(shell, install=False, aliases=())) == 0
    printed = capsys.readouterr().out
    assert printed == (REPO_COMPLETIONS / completion.SCRIPT_FILES[shell]).read_text()


@pytest.mark.parametrize("shell", SHELLS)
def test_the_console_script_prints_it_too(shell: str) -> None:
    result = run_codex_cf("completion", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout == completion.shipped_script(shell)


@pytest.mark.parametrize(
    ("shell", "line"),
    [
        ("bash", "_codex_cf_register codex cx"),
        ("zsh", "compdef _codex-cf codex cx"),
        ("fish", "complete -c cx --wraps codex-cf"),
        ("powershell", "Register-ArgumentCompleter -Native -CommandName 'cx' "),
    ],
)
def test_aliases_are_appended(shell: str, line: str, capsys) -> None:
    completion.run(CompletionOptions(shell, install=False, aliases=("codex", "cx", "codex")))
    printed = capsys.readouterr().out
    assert printed.startswith(completion.shipped_script(shell).split("\n", 1)[0])
    assert line in printed.split("# Aliases", 1)[1]


def test_zsh_aliases_are_in_the_compdef_line(capsys) -> None:
    """compinit reads the first line of a file in fpath: that is how aliases register there."""
    completion.run(CompletionOptions("zsh", install=False, aliases=("codex",)))
    assert capsys.readouterr().out.split("\n", 1)[0] == "#compdef codex-cf codex"


def test_codex_cf_itself_is_no_extra_alias(capsys) -> None:
    completion.run(CompletionOptions("bash", install=False, aliases=("codex-cf",)))
    assert capsys.readouterr().out == completion.shipped_script("bash")


@pytest.mark.parametrize("alias", ["", "a b", "x;rm -rf ~", "$(id)", "-n", "it's"])
def test_unsafe_alias_names_are_refused(alias: str) -> None:
    with pytest.raises(UsageError, match="is not a command name"):
        completion.run(CompletionOptions("bash", install=False, aliases=(alias,)))


def install(shell: str, *aliases: str) -> list[str]:
    text = completion.script(shell, aliases)
    return completion.install(shell, text, aliases, Path(os.environ["HOME"]))


@pytest.mark.parametrize("shell", SHELLS)
def test_install_writes_the_script_and_says_where(shell: str, home) -> None:
    messages = install(shell)
    path = shells.completion_file(shell, "codex-cf", home.home)
    assert path.read_text() == completion.shipped_script(shell)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert any(str(path) in message for message in messages)
    assert shells.installed_completion_files(home.home) == [path]
    # Again: same result, no leftovers beside it.
    install(shell)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_install_follows_xdg_dirs(home, monkeypatch) -> None:
    data, config = home.root / "data", home.root / "config"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    install("bash")
    install("fish")
    assert (data / "bash-completion" / "completions" / "codex-cf").is_file()
    assert (config / "fish" / "completions" / "codex-cf.fish").is_file()


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_install_writes_a_copy_per_alias_where_shells_load_by_name(shell: str, home) -> None:
    install(shell, "codex")
    main = shells.completion_file(shell, "codex-cf", home.home)
    alias = shells.completion_file(shell, "codex", home.home)
    assert alias.read_text() == main.read_text() == completion.script(shell, ("codex",))
    assert sorted(shells.installed_completion_files(home.home)) == sorted([main, alias])


def test_install_refuses_to_overwrite_a_file_it_does_not_own(home) -> None:
    foreign = shells.completion_file("bash", "codex", home.home)
    foreign.parent.mkdir(parents=True)
    foreign.write_text("complete -F _codex codex\n")
    with pytest.raises(FileConflict, match="not written by codex-cf"):
        install("bash", "codex")
    assert foreign.read_text() == "complete -F _codex codex\n"
    assert not shells.completion_file("bash", "codex-cf", home.home).exists()


def test_bash_install_gives_the_line_that_loads_it(home) -> None:
    messages = install("bash")
    path = shells.completion_file("bash", "codex-cf", home.home)
    assert f"  source {path}" in messages
    assert any(str(home.home / ".bashrc") in message for message in messages)


@pytest.mark.parametrize(
    ("zshrc", "expected"),
    [
        (None, "  fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit"),
        ("autoload -Uz compinit\ncompinit\n", "  fpath=(~/.zfunc $fpath)"),
        ("source $ZSH/oh-my-zsh.sh\n", "  fpath=(~/.zfunc $fpath)"),
        ("fpath=(~/.zfunc $fpath)\nautoload -Uz compinit && compinit\n", None),
    ],
)
def test_zsh_install_gives_the_fpath_line_only_when_needed(
    home, zshrc: str | None, expected: str | None
) -> None:
    if zshrc is not None:
        (home.home / ".zshrc").write_text(zshrc)
    messages = install("zsh")
    lines_to_add = [m for m in messages if m.startswith("  ")]
    assert lines_to_add == ([expected] if expected else [])
    assert (home.home / ".zfunc" / "_codex-cf").is_file()


def test_powershell_install_adds_one_block_to_the_profile(home) -> None:
    profile = rc_files.rc_file("powershell", home.home)
    profile.parent.mkdir(parents=True)
    profile.write_text("Set-PSReadLineOption -EditMode Emacs")  # no final newline
    profile.chmod(0o600)
    install("powershell")
    install("powershell")
    content = profile.read_text()
    script = shells.completion_file("powershell", "codex-cf", home.home)
    assert content.startswith("Set-PSReadLineOption -EditMode Emacs\n")
    assert content.count(completion.PROFILE_BEGIN) == 1
    assert f"if (Test-Path -LiteralPath '{script}') {{ . '{script}' }}" in content
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    # The profile is the user's file, never one of codex-cf's own.
    assert shells.installed_completion_files(home.home) == [script]


def test_powershell_block_follows_a_moved_script(home, monkeypatch) -> None:
    install("powershell")
    monkeypatch.setenv("XDG_DATA_HOME", str(home.root / "elsewhere"))
    install("powershell")
    content = rc_files.rc_file("powershell", home.home).read_text()
    assert content.count(completion.PROFILE_BEGIN) == 1
    assert str(home.root / "elsewhere") in content


def test_unwritable_place_is_a_clear_error(home, monkeypatch) -> None:
    blocker = home.root / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    with pytest.raises(FileConflict, match=r"cannot write .*not-a-folder"):
        install("bash")


def test_a_failed_write_keeps_the_old_script(home, monkeypatch) -> None:
    """Atomic: the rename is the only step that touches the installed file."""
    install("bash")
    path = shells.completion_file("bash", "codex-cf", home.home)
    path.write_text(path.read_text() + "# the previous version\n")
    before = path.read_text()

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(FileConflict, match="No space left"):
        install("bash")
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_run_install_prints_the_messages(home, capsys) -> None:
    assert completion.run(CompletionOptions("fish", install=True, aliases=())) == 0
    out = capsys.readouterr().out
    assert str(shells.completion_file("fish", "codex-cf", home.home)) in out
    assert "complete -c codex-cf" not in out  # the messages, not the script
