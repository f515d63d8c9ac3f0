"""Each completion script offers exactly codex-cf's own commands and options.

Expectations come from the objects that define them (OWN_COMMANDS,
TOKEN_SUBCOMMANDS and the click commands in cli.py), so a new option that a
script lacks fails here. bash and fish are asked through their own completion
machinery; zsh runs the script with the completion primitives recording what
they are given; PowerShell (not installed here) is read as text.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from codex_cf import cli, shells
from codex_cf.commands import completion
from codex_cf.constants import OWN_COMMANDS, TOKEN_SUBCOMMANDS
from helpers import real_parts

PROFILES = ("work", "cloudflare-aig")
FREE = "free text"  # an option whose value nobody can guess


@dataclass
class Context:
    """What TAB offers after `codex-cf PATH`: words, and values after each option."""

    words: set[str] = field(default_factory=set)
    values: dict[str, set[str] | str] = field(default_factory=dict)


def _context_of(command: click.Command, name: str, parent: click.Context) -> click.Context:
    return click.Context(command, info_name=name, parent=parent, **command.context_settings)


def _leaf(command: click.Command, ctx: click.Context) -> Context:
    context = Context()
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            assert isinstance(param.type, click.Choice)
            context.words |= {str(choice) for choice in param.type.choices}
            continue
        assert isinstance(param, click.Option)
        names = [*param.opts, *param.secondary_opts]
        context.words |= set(names)
        if param.is_flag or param.count:
            continue
        if isinstance(param.type, click.Choice):
            offered: set[str] | str = {str(choice) for choice in param.type.choices}
        elif "--profile" in names:
            offered = set(PROFILES)
        else:
            offered = FREE
        for name in names:
            context.values[name] = offered
    return context


def expected() -> dict[str, Context]:
    root = click.Context(cli.group, info_name="codex-cf", **cli.group.context_settings)
    group_words = set(cli.group.commands) | {
        name for param in cli.group.get_params(root) for name in param.opts
    }
    assert group_words == set(OWN_COMMANDS), "cli.py and OWN_COMMANDS disagree"
    contexts = {"": Context(words=set(OWN_COMMANDS))}
    for name, command in cli.group.commands.items():
        ctx = _context_of(command, name, root)
        if isinstance(command, click.Group):
            assert set(command.commands) == set(TOKEN_SUBCOMMANDS)
            contexts[name] = Context(words=set(TOKEN_SUBCOMMANDS) | set(_leaf(command, ctx).words))
            for sub_name, sub in command.commands.items():
                contexts[f"{name} {sub_name}"] = _leaf(sub, _context_of(sub, sub_name, ctx))
        else:
            contexts[name] = _leaf(command, ctx)
    return contexts


EXPECTED = expected()


def value_options() -> list[tuple[str, str]]:
    return [(path, option) for path, context in EXPECTED.items() for option in context.values]


@pytest.fixture
def isolated(tmp_path: Path, home) -> dict[str, str]:
    """No codex and no codex-cf on PATH: only the script's own words come back."""
    for name in PROFILES:
        home.profile(name).write_text("")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    return {
        "PATH": str(empty),
        "HOME": str(home.home),
        "CODEX_HOME": str(home.codex_home),
        "XDG_CONFIG_HOME": str(home.config),
    }


def script_file(shell: str) -> Path:
    return real_parts.REPO / "completions" / completion.SCRIPT_FILES[shell]


def run_shell(argv: list[str], program: str, env: dict[str, str]) -> list[list[str]]:
    """Run `program`; its output is blocks of lines, each ended by --END--."""
    result = subprocess.run(
        [*argv, program], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    blocks = result.stdout.split("--END--\n")
    assert blocks[-1] == ""
    return [block.splitlines() for block in blocks[:-1]]


# ---- bash: the real completion function, as readline would call it


def bash_queries(queries: list[list[str]], env: dict[str, str]) -> list[set[str]]:
    bash = real_parts.tool("bash")
    lines = [
        f"source {shlex.quote(str(script_file('bash')))}",
        'q() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=();'
        ' _codex_cf codex-cf "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}";'
        " printf '%s\\n' \"${COMPREPLY[@]}\"; echo --END--; }",
        *(shlex.join(["q", "codex-cf", *words]) for words in queries),
    ]
    blocks = run_shell([bash, "--norc", "--noprofile", "-c"], "\n".join(lines), env)
    return [{line for line in block if line} for block in blocks]


def test_bash_words(isolated) -> None:
    paths = list(EXPECTED)
    found = bash_queries([[*path.split(), ""] for path in paths], isolated)
    assert dict(zip(paths, found, strict=True)) == {p: EXPECTED[p].words for p in paths}


def test_bash_values(isolated) -> None:
    cases = value_options()
    found = bash_queries([[*path.split(), option, ""] for path, option in cases], isolated)
    for (path, option), offered in zip(cases, found, strict=True):
        want = EXPECTED[path].values[option]
        assert offered == (set() if want == FREE else want), (path, option)


# ---- fish: `complete -C` runs fish's own completion for a command line


def fish_queries(lines: list[str], env: dict[str, str]) -> list[set[str]]:
    fish = real_parts.tool("fish")
    program = "\n".join(
        [
            f"source {shlex.quote(str(script_file('fish')))}",
            *(f"complete -C {shlex.quote(line)}; echo --END--" for line in lines),
        ]
    )
    blocks = run_shell([fish, "--no-config", "-c"], program, env)
    return [{line.split("\t", 1)[0] for line in block} for block in blocks]


def test_fish_words(isolated) -> None:
    """fish offers options once a word starts with '-', other words otherwise."""
    paths = list(EXPECTED)
    prefix = {path: " ".join(["codex-cf", *path.split()]) for path in paths}
    lines = [line for path in paths for line in (f"{prefix[path]} ", f"{prefix[path]} -")]
    found = fish_queries(lines, isolated)
    offered = {path: found[2 * i] | found[2 * i + 1] for i, path in enumerate(paths)}
    assert offered == {p: EXPECTED[p].words for p in paths}


def test_fish_values(isolated) -> None:
    cases = value_options()
    found = fish_queries(
        [" ".join(["codex-cf", *path.split(), option, ""]) for path, option in cases], isolated
    )
    for (path, option), offered in zip(cases, found, strict=True):
        want = EXPECTED[path].values[option]
        assert offered == (set() if want == FREE else want), (path, option)


# ---- zsh: the script's functions run; _arguments, _describe and compadd record


_ZSH_RECORDERS = r"""
compdef() { : }
_arguments() { local a; for a in "$@"; do print -r -- "ARG:$a"; done }
_describe() {
    local -a tag; zparseopts -D -E t:=tag
    shift
    local name item
    for name in "$@"; do
        for item in "${(@P)name}"; do print -r -- "WORD:${item%%:*}"; done
    done
}
_wanted() { shift 3; "$@" }
compadd() { local item; for item in "${(@P)2}"; do print -r -- "WORD:$item"; done }
"""

_SPEC = re.compile(r"^(?:\([^)]*\))?\*?(?P<option>--?[A-Za-z0-9][A-Za-z0-9-]*)(?P<value>[=+]?)")


def zsh_contexts(env: dict[str, str]) -> tuple[dict[str, Context], set[str]]:
    zsh = real_parts.tool("zsh")
    paths = list(EXPECTED)
    program = "\n".join(
        [
            _ZSH_RECORDERS,
            f"source {shlex.quote(str(script_file('zsh')))}",
            *(
                f"words=({shlex.join(['codex-cf', *path.split(), ''])}); "
                f"CURRENT=${{#words}}; _codex-cf; print -- --END--"
                for path in paths
            ),
            "_codex-cf_profiles; print -- --END--",
        ]
    )
    blocks = run_shell([zsh, "-f", "-c"], program, env)
    contexts = {}
    for path, block in zip(paths, blocks[:-1], strict=True):
        context = Context()
        for line in block:
            kind, _, text = line.partition(":")
            if kind == "WORD":
                context.words.add(text)
            elif text[:1].isdigit():  # a positional: `1:message:(choices)`
                context.words |= set(text.rsplit(":(", 1)[1].rstrip(")").split())
            elif text not in ("-s", "-S", "-C", ":"):
                match = _SPEC.match(text)
                assert match, text
                context.words.add(match["option"])
                if match["value"]:
                    action = text.split("]", 1)[1].rsplit(":", 1)[1]
                    context.values[match["option"]] = (
                        set(action.strip("()").split()) if action.startswith("(") else action
                    )
        contexts[path] = context
    profiles = {line.removeprefix("WORD:") for line in blocks[-1]}
    return contexts, profiles


def test_zsh_words_and_values(isolated) -> None:
    contexts, profiles = zsh_contexts(isolated)
    assert {p: c.words for p, c in contexts.items()} == {p: e.words for p, e in EXPECTED.items()}
    assert profiles == set(PROFILES)
    for path, option in value_options():
        want = EXPECTED[path].values[option]
        got = contexts[path].values[option]
        if want == FREE:
            assert got == " ", (path, option)  # zsh's "no completion" action
        elif "--profile" in option or option == "-p":
            assert got == "_codex-cf_profiles", (path, option)
        else:
            assert got == want, (path, option)


# ---- PowerShell: not installable by the test command (README, Development); read as text


def powershell_table(text: str, variable: str) -> dict[str, set[str] | str]:
    body = text.split(f"${variable} = @{{", 1)[1].split("\n}", 1)[0]
    table: dict[str, set[str] | str] = {}
    for line in body.strip().splitlines():
        key, _, value = line.strip().partition("=")
        key = key.strip().strip("'")
        value = value.strip()
        if value.startswith("@("):
            table[key] = set(re.findall(r"'([^']*)'", value))
        else:
            table[key] = value.strip("'")
    return table


def test_powershell_tables() -> None:
    text = script_file("powershell").read_text()
    words = powershell_table(text, "global:CodexCfCompletionWords")
    assert words == {path: context.words for path, context in EXPECTED.items()}
    values = powershell_table(text, "global:CodexCfCompletionValues")
    for path, option in value_options():
        want = EXPECTED[path].values[option]
        if want == FREE:
            assert values[option] == set(), option
        elif want == set(PROFILES):
            assert values[option] == "profiles", option
        else:
            assert values[option] == want, option
    own = re.search(r"\$own = @\(([^)]*)\)", text)
    assert own
    assert set(re.findall(r"'([^']*)'", own[1])) == set(cli.group.commands)


def test_powershell_registers_and_delegates() -> None:
    text = script_file("powershell").read_text()
    assert (
        "Register-ArgumentCompleter -Native -CommandName 'codex-cf'"
        " -ScriptBlock $global:CodexCfCompleter"
    ) in text
    # Codex's completer is produced by Codex itself, once, and never registered for `codex`.
    assert "& $codex completion powershell" in text
    assert "if ($global:CodexCfCodexTried)" in text
    assert "function Register-ArgumentCompleter" in text
    assert "& $codexCompleter $wordToComplete $commandAst $cursorPosition" in text
    assert "using namespace" not in text  # not allowed once appended below other lines


# ---- all four


@pytest.mark.parametrize("shell", list(completion.SCRIPT_FILES))
def test_scripts_carry_the_marker_and_start_no_python(shell: str) -> None:
    """TAB runs shell code and, once per session, Codex's own `codex completion SHELL`."""
    text = script_file(shell).read_text()
    assert shells.MARKER in text[:1024]
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"python|codex-cf\W+(completion|setup|token|doctor|remove)", code)
    assert re.search(rf'\$(codex|REPLY)"? completion {shell}\b', code)


def test_zsh_script_is_an_fpath_function_file() -> None:
    assert script_file("zsh").read_text().startswith("#compdef codex-cf\n")


def test_wheel_layout_matches_the_source_names() -> None:
    """pyproject force-includes completions/ as codex_cf/completions under these names."""
    assert sorted(p.name for p in (real_parts.REPO / "completions").iterdir()) == sorted(
        completion.SCRIPT_FILES.values()
    )
