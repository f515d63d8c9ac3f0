"""How codex-cf reads a Codex command line: sub-command, profile, --profile once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_cf import codex_args
from codex_cf.constants import CODEX_COMMANDS, CODEX_VALUE_OPTIONS
from codex_cf.errors import UsageError


@pytest.mark.parametrize(
    ("args", "subcommand", "runtime"),
    [
        ([], None, True),
        (["fix the bug"], None, True),
        (["setup"], None, True),  # a one-word prompt reaches Codex as a prompt
        (["exec", "hi"], "exec", True),
        (["e", "hi"], "e", True),
        (["review"], "review", True),
        (["resume", "--last"], "resume", True),
        (["mcp", "list"], "mcp", True),
        (["sandbox", "linux", "true"], "sandbox", True),
        (["agents"], "agents", True),
        (["debug", "prompt-input"], "debug", True),
        (["debug", "models"], "debug", False),
        (["login", "status"], "login", False),
        (["logout"], "logout", False),
        (["features", "list"], "features", False),
        (["completion", "bash"], "completion", False),
        (["update"], "update", False),
        (["doctor"], "doctor", False),
        (["apply", "x"], "apply", False),
        (["cloud"], "cloud", False),
        (["plugin", "list"], "plugin", False),
        (["app-server"], "app-server", False),
        (["help"], "help", False),
    ],
)
def test_subcommand_and_runtime(args: list[str], subcommand: str | None, runtime: bool) -> None:
    parsed = codex_args.parse(args)
    assert parsed.subcommand == subcommand
    assert parsed.runtime is runtime


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "model=o3", "login", "status"],
        ["--config", "x=1", "login"],
        ["-m", "gpt", "login"],
        ["--model=gpt", "login"],
        ["-mgpt", "login"],
        ["-s", "read-only", "-C", "/tmp", "--add-dir", "/x", "login"],
        ["--enable", "exec", "login"],
        ["-a", "never", "--remote", "ws://h:1", "login"],
        ["--strict-config", "--search", "login"],
    ],
)
def test_value_options_are_skipped_when_finding_the_subcommand(args: list[str]) -> None:
    parsed = codex_args.parse(args)
    assert parsed.subcommand == "login"
    assert parsed.runtime is False


def test_image_takes_every_value_up_to_the_next_option() -> None:
    # clap's `-i FILE...`: `codex -i a.png features list` starts the TUI with three images.
    parsed = codex_args.parse(["-i", "a.png", "features", "list"])
    assert parsed.subcommand is None
    assert parsed.runtime is True
    parsed = codex_args.parse(["-i", "a.png", "-m", "x", "features"])
    assert parsed.subcommand == "features"


def test_after_double_dash_everything_is_a_prompt() -> None:
    parsed = codex_args.parse(["--", "features", "list"])
    assert parsed.subcommand is None
    assert parsed.runtime is True
    assert parsed.codex_argv("p") == ["--profile", "p", "--", "features", "list"]


@pytest.mark.parametrize(
    ("args", "profile", "rest"),
    [
        (["-p", "work", "exec", "hi"], "work", ["exec", "hi"]),
        (["--profile", "work", "exec"], "work", ["exec"]),
        (["--profile=work", "exec"], "work", ["exec"]),
        (["-pwork"], "work", []),
        (["exec", "-p", "work", "hi"], "work", ["exec", "hi"]),
        (["exec", "hi", "--", "-p", "x"], None, ["exec", "hi", "--", "-p", "x"]),
    ],
)
def test_profile_option_is_taken_out(args: list[str], profile: str | None, rest: list[str]) -> None:
    parsed = codex_args.parse(args)
    assert parsed.profile == profile
    assert list(parsed.without_profile) == rest


def test_profile_twice_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="twice"):
        codex_args.parse(["-p", "a", "exec", "--profile", "b"])


def test_profile_without_a_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs a profile name"):
        codex_args.parse(["exec", "-p"])


@pytest.mark.parametrize("flag", ["--help", "-h", "--version", "-V"])
def test_help_and_version_pass_through_untouched(flag: str) -> None:
    parsed = codex_args.parse(["exec", flag])
    assert parsed.runtime is False
    assert parsed.codex_argv("p") == ["exec", flag]


def test_non_runtime_commands_get_no_profile_even_when_given() -> None:
    parsed = codex_args.parse(["-p", "work", "login", "status"])
    assert parsed.codex_argv("work") == ["-p", "work", "login", "status"]


# Arguments as a shell can pass them: any text without NUL, including
# surrogate-escaped bytes that are not UTF-8.
_arg = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12
) | st.sampled_from([*sorted(CODEX_COMMANDS), "--", "-c", "-i", "-m", "x", "\udcff"])


def _profile_tokens(args: list[str]) -> bool:
    for token in args:
        if token == "--":
            return False
        if (
            token in ("-p", "--profile")
            or token.startswith("--profile=")
            or (token.startswith("-p") and not token.startswith("--"))
        ):
            return True
    return False


@given(st.lists(_arg, max_size=8))
def test_any_argv_reaches_codex_byte_for_byte(args: list[str]) -> None:
    if _profile_tokens(args):
        return  # covered by the profile option tests above
    parsed = codex_args.parse(args)
    argv = parsed.codex_argv("cloudflare-aig")
    if parsed.runtime:
        assert argv[:2] == ["--profile", "cloudflare-aig"]
        assert argv[2:] == args
    else:
        assert argv == args
    assert argv.count("--profile") == args.count("--profile") + (1 if parsed.runtime else 0)


@given(st.lists(_arg, max_size=6), st.sampled_from(["-p", "--profile"]), st.lists(_arg, max_size=6))
def test_a_given_profile_reaches_codex_once(before: list[str], flag: str, after: list[str]) -> None:
    if _profile_tokens(before) or _profile_tokens(after) or "--" in before:
        return
    if "sandbox" in before:
        return  # its trailing command owns the option (test_sandbox_command_keeps_its_own_options)
    if before and before[-1] in CODEX_VALUE_OPTIONS:
        return  # the flag would be that option's value (generated text can be `--image`)
    args = [*before, flag, "work", *after]
    try:
        parsed = codex_args.parse(args)
    except UsageError:
        return
    if not parsed.runtime:
        assert parsed.codex_argv("work") == args
        return
    argv = parsed.codex_argv("work")
    assert argv[:2] == ["--profile", "work"]
    assert argv[2:] == [*before, *after]


def test_sandbox_command_keeps_its_own_options() -> None:
    parsed = codex_args.parse(["sandbox", "grep", "-rn", "-p", "cloudflare-aig", "."])
    assert parsed.profile is None
    assert parsed.codex_argv("work") == [
        "--profile",
        "work",
        "sandbox",
        "grep",
        "-rn",
        "-p",
        "cloudflare-aig",
        ".",
    ]
    assert codex_args.parse(["-p", "w", "sandbox", "ls", "-p"]).profile == "w"


def test_empty_profile_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs a profile name"):
        codex_args.parse(["--profile=", "exec"])
