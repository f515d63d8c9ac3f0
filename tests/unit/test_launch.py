"""The launch path: what reaches Codex, and what never does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_cf import credentials, launch
from codex_cf.constants import ExitStatus, Secret
from codex_cf.errors import (
    ProfileNotCurrent,
    TokenMissing,
)
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, assert_same_secret, digest, fake_token


def plan(*args: str) -> launch.Launch:
    return launch.plan_launch(list(args), dict(os.environ), person=None)


def test_runtime_launch_adds_profile_and_token(home, stand_in, token) -> None:
    profiles.write(home.profile())
    result = plan("exec", "hi there")
    assert result.executable == str(stand_in.path)
    assert result.argv == [str(stand_in.path), "--profile", "cloudflare-aig", "exec", "hi there"]
    assert_same_secret(result.env["CLOUDFLARE_API_KEY"], token, "exported variable")


def test_token_in_environment_wins(home, stand_in, token, monkeypatch) -> None:
    profiles.write(home.profile())
    own = fake_token("env")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", own)
    result = plan("exec", "hi")
    assert_same_secret(result.env["CLOUDFLARE_API_KEY"], own, "exported variable")


@pytest.mark.parametrize("blank", [" ", "\n", " \t \n"])
def test_a_blank_variable_does_not_count_as_set(home, stand_in, token, monkeypatch, blank) -> None:
    profiles.write(home.profile())
    monkeypatch.setenv("CLOUDFLARE_API_KEY", blank)
    result = plan("exec", "hi")
    assert_same_secret(result.env["CLOUDFLARE_API_KEY"], token, "exported variable")


def test_a_blank_variable_without_a_stored_token_is_the_missing_token_error(
    home, stand_in, monkeypatch
) -> None:
    profiles.write(home.profile())
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "  \n")
    with pytest.raises(TokenMissing) as raised:
        plan("exec", "hi")
    assert raised.value.exit_status == ExitStatus.TOKEN_MISSING
    assert raised.value.fix == "codex-cf token set"


@pytest.mark.parametrize("padding", [(" ", " "), ("", "\n"), ("\t", "\r\n")])
def test_a_padded_variable_is_sent_without_its_padding(
    home, stand_in, token, monkeypatch, padding
) -> None:
    profiles.write(home.profile())
    own = fake_token("env")
    monkeypatch.setenv("CLOUDFLARE_API_KEY", padding[0] + own + padding[1])
    result = plan("exec", "hi")
    assert_same_secret(result.env["CLOUDFLARE_API_KEY"], own, "exported variable")


def test_profile_from_environment_variable(home, stand_in, monkeypatch) -> None:
    profiles.write(home.profile("work"))
    credentials.store("work", Secret.CLOUDFLARE, fake_token())
    monkeypatch.setenv("CODEX_CF_PROFILE", "work")
    assert plan("exec", "x").argv[1:3] == ["--profile", "work"]
    # An explicit option beats the variable, and is given to Codex once.
    profiles.write(home.profile("other"))
    credentials.store("other", Secret.CLOUDFLARE, fake_token())
    assert plan("-p", "other", "exec", "x").argv[1:] == ["--profile", "other", "exec", "x"]


def test_non_runtime_commands_pass_untouched_without_checks(home, stand_in) -> None:
    # No profile, no token: `login` still works, exactly as typed.
    result = plan("login", "status")
    assert result.argv == [str(stand_in.path), "login", "status"]
    assert "CLOUDFLARE_API_KEY" not in result.env


_BROKEN = {
    "missing": None,
    "placeholder": profiles.with_base_url(
        "https://gateway.ai.cloudflare.com/v1/<ACCOUNT_ID>/<GATEWAY_ID>/openai"
    ),
    "dollar": profiles.with_base_url(
        "https://gateway.ai.cloudflare.com/v1/$CF_ACCOUNT/default/openai"
    ),
    "short account": profiles.with_base_url(
        "https://gateway.ai.cloudflare.com/v1/0123abc/default/openai"
    ),
    "plain http remote": profiles.with_base_url("http://example.com/v1/openai"),
    "chat wire api": profiles.CURRENT.replace('wire_api = "responses"', 'wire_api = "chat"'),
    "no exclude": profiles.CURRENT.replace('exclude = ["CLOUDFLARE_API_KEY"]', "exclude = []"),
    "no policy": profiles.CURRENT.split("[shell_environment_policy]")[0],
    "bad env key": profiles.CURRENT.replace('env_key = "CLOUDFLARE_API_KEY"', 'env_key = "1X"'),
    "no model": profiles.CURRENT.replace('model = "gpt-5.5"\n', ""),
    "provider not a table": profiles.CURRENT.replace(
        'model_provider = "cloudflare-ai-gateway"', 'model_provider = "nope"'
    ),
    "malformed": profiles.CURRENT + "\n[broken\n",
}


@pytest.mark.parametrize("case", sorted(_BROKEN))
def test_a_profile_that_is_not_current_never_reaches_codex(home, stand_in, token, case) -> None:
    text = _BROKEN[case]
    if text is not None:
        profiles.write(home.profile(), text)
    with pytest.raises(ProfileNotCurrent) as raised:
        plan("exec", "hi")
    assert raised.value.fix
    assert raised.value.fix.startswith(("codex-cf setup", "correct"))
    assert stand_in.runs() == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_group_writable_profile_is_refused(home, stand_in, token) -> None:
    profiles.write(home.profile(), mode=0o620)
    with pytest.raises(ProfileNotCurrent, match="writable by group or others") as raised:
        plan("exec", "hi")
    assert raised.value.fix == f"chmod 600 {home.profile()}"


@pytest.mark.parametrize(
    "config",
    [
        'profile = "cloudflare-aig"\n',
        "[profiles.cloudflare-aig]\nmodel = 'o3'\n",
        '[model_providers.old]\nname = "o"\nbase_url = "https://x"\nwire_api = "chat"\n',
        "model = [\n",
    ],
)
def test_config_toml_that_breaks_the_profile_stops_the_launch(
    home, stand_in, token, config
) -> None:
    profiles.write(home.profile())
    (home.codex_home / "config.toml").write_text(config)
    with pytest.raises(ProfileNotCurrent, match=r"config\.toml"):
        plan("exec", "hi")


def test_missing_token_names_the_fix(home, stand_in) -> None:
    profiles.write(home.profile())
    with pytest.raises(TokenMissing) as raised:
        plan("exec", "hi")
    assert raised.value.fix == "codex-cf token set"
    assert stand_in.runs() == []


def test_windows_branch_runs_codex_as_a_child_and_returns_its_status(home, stand_in) -> None:
    result = launch.Launch(
        str(stand_in.path), [str(stand_in.path), "exec"], dict(os.environ, STAND_IN_EXIT="42")
    )
    assert launch.exec_launch(result, platform="win32") == 42
    assert stand_in.runs()[0]["args"] == ["exec"]


# Through the installed console script: a real execve.


@pytest.mark.parametrize("status", [0, 1, 42])
def test_exec_replaces_codex_cf_and_passes_the_exit_status(home, stand_in, token, status) -> None:
    profiles.write(home.profile())
    env = dict(os.environ, STAND_IN_EXIT=str(status))
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("codex-cf")), "exec", "a b", "--json"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == status
    (record,) = stand_in.runs()
    assert record["pid"] == process.pid  # same process: exec, not a child
    assert record["args"] == ["--profile", "cloudflare-aig", "exec", "a b", "--json"]
    assert record["env"]["CLOUDFLARE_API_KEY"] == digest(token)
    assert out == b""  # codex-cf prints nothing of its own
    assert err == b""
    assert_absent(token, out, err)


def test_not_current_without_terminal_is_one_line_and_status_3(home, stand_in) -> None:
    done = run_codex_cf("exec", "hi")
    assert done.returncode == ExitStatus.PROFILE_NOT_CURRENT
    assert done.stderr.startswith("codex-cf: ")
    assert "fix: codex-cf setup" in done.stderr
    assert "Traceback" not in done.stderr
    assert stand_in.runs() == []


def test_no_token_without_terminal_exits_4(home, stand_in) -> None:
    profiles.write(home.profile())
    done = run_codex_cf("exec", "hi")
    assert done.returncode == ExitStatus.TOKEN_MISSING
    assert "codex-cf token set" in done.stderr


def test_arguments_reach_codex_byte_for_byte(home, stand_in, token) -> None:
    profiles.write(home.profile())
    odd = ["exec", "", " spaced ", "ünïcode", "-", "--", "--profile=x", "\udcff"]
    env = dict(os.environ)
    process = subprocess.run(
        [os.fsencode(Path(sys.executable).with_name("codex-cf")), *(os.fsencode(a) for a in odd)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    (record,) = stand_in.runs()
    assert record["args"] == ["--profile", "cloudflare-aig", *odd]


@pytest.mark.parametrize(
    "url",
    ["http://127.attacker.example/v1/x", "http://localhost.example/v1", "http://10.0.0.1/v1"],
)
def test_plain_http_only_to_a_loopback_address(home, stand_in, token, url) -> None:
    profiles.write(home.profile(), profiles.with_base_url(url))
    with pytest.raises(ProfileNotCurrent, match="unencrypted"):
        plan("exec", "hi")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/v1", "http://[::1]:9/v1", "http://localhost/v1"]
)
def test_plain_http_to_loopback_is_fine(home, stand_in, token, url) -> None:
    profiles.write(home.profile(), profiles.with_base_url(url))
    assert plan("exec", "hi").argv[1:3] == ["--profile", "cloudflare-aig"]


# The launch cache: a warm launch trusts it only while both files are unchanged.


def settle(*files: Path) -> None:
    """Wait until the files count as settled, so the next launch really caches them."""
    from codex_cf import launch_cache

    while not all(launch_cache.is_settled(launch_cache.file_signature(f)) for f in files):
        time.sleep(0.1)


def warm(home) -> Path:
    """A launch that stored the profile's facts, then one that read them back."""
    from codex_cf import profile_facts

    config = home.codex_home / "config.toml"
    config.write_text('model = "gpt-5.5"\n')
    profiles.write(home.profile())
    settle(home.profile(), config)
    plan("exec", "cold")
    assert profile_facts.cached("cloudflare-aig") is not None  # stored for these very files
    plan("exec", "warm")
    return config


def edit(path: Path, text: str) -> None:
    """Change the file's content, and its time into the past, as a restored backup might."""
    before = path.stat()
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))


def test_a_warm_launch_sees_config_toml_changed_after_it(home, stand_in, token) -> None:
    config = warm(home)
    edit(config, config.read_text() + 'profile = "cloudflare-aig"\n')
    with pytest.raises(ProfileNotCurrent, match=r"config\.toml"):
        plan("exec", "after the edit")


def test_a_warm_launch_sees_the_profile_changed_after_it(home, stand_in, token) -> None:
    warm(home)
    text = home.profile().read_text()
    edit(home.profile(), text.replace('exclude = ["CLOUDFLARE_API_KEY"]', "exclude = []"))
    with pytest.raises(ProfileNotCurrent, match="exclude"):
        plan("exec", "after the edit")


def test_a_warm_launch_through_the_command_sees_the_edit(home, stand_in, token) -> None:
    """The same through the installed codex-cf: a real cache file, a real second process."""
    warm(home)
    assert run_codex_cf("exec", "warm").returncode == 0
    text = home.profile().read_text()
    edit(home.profile(), text.replace('exclude = ["CLOUDFLARE_API_KEY"]', "exclude = []"))
    done = run_codex_cf("exec", "after the edit")
    assert done.returncode == ExitStatus.PROFILE_NOT_CURRENT, done.stderr
    assert [r["args"][-1] for r in stand_in.runs()] == ["warm"]


def test_a_tagged_profile_gets_fresh_tags_each_launch_whatever_is_set(
    home, stand_in, token, monkeypatch
) -> None:
    import json

    from codex_cf import metadata

    profiles.write(home.profile(), profiles.TAGGED)
    monkeypatch.setenv("CF_AIG_METADATA", '{"launch":"inherited"}')
    first, second = plan("exec", "hi"), plan("exec", "hi")
    tags = [json.loads(p.env["CF_AIG_METADATA"]) for p in (first, second)]
    assert tags[0][metadata.LAUNCH] != tags[1][metadata.LAUNCH]
    assert "inherited" not in {t[metadata.LAUNCH] for t in tags}
    assert first.tagged is not None
    assert first.tagged[0] == "cloudflare-aig"
    assert first.tagged[1].launch_id == tags[0][metadata.LAUNCH]
    # Deciding records nothing; the launch records its id as Codex starts.
    assert metadata.last_launch("cloudflare-aig") is None
    assert launch.exec_launch(first, platform="win32") == 0
    assert metadata.last_launch("cloudflare-aig") == first.tagged[1]


def test_an_untagged_profile_sets_no_tags(home, stand_in, token) -> None:
    profiles.write(home.profile())
    result = plan("exec", "hi")
    assert "CF_AIG_METADATA" not in result.env
    assert result.tagged is None
