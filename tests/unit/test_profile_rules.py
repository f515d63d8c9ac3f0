"""Every rule of "current", one at a time: a profile breaking it fails that rule alone,
with the message a person reads and the command that fixes it.

The launch, doctor and setup tests show the same rules through their doors; a
new rule's first test goes here.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

from codex_cf import launch_cache, paths, profile_facts, profile_rules
from codex_cf.checks import Check
from codex_cf.constants import AuthMode, Billing, Secret
from codex_cf.profile_names import auth_command_args
from helpers import profiles

SETUP = "codex-cf setup"


def failing(report: profile_rules.Report) -> dict[str, Check]:
    return {f.id: f for f in report.findings if not f.ok}


def only_failure(text: str) -> Check:
    """The one rule a profile with this text breaks."""
    profiles.write(paths.profile_path("cloudflare-aig"), text)
    broken = failing(profile_rules.check("cloudflare-aig"))
    assert len(broken) == 1, sorted(broken)
    return next(iter(broken.values()))


def codex_cf_at(folder: Path) -> str:
    executable = folder / "codex-cf"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    return str(executable)


def command_mode(command: str, args: list[str]) -> str:
    table = f"[model_providers.cloudflare-ai-gateway.auth]\ncommand = {json.dumps(command)}\n"
    table += f"args = {json.dumps(args)}\ntimeout_ms = 15000\n"
    text = profiles.CURRENT.replace('env_key = "CLOUDFLARE_API_KEY"\n', "")
    return text.replace("[shell_environment_policy]", table + "\n[shell_environment_policy]")


def test_a_current_profile_passes_every_rule_and_yields_its_facts(home) -> None:
    profiles.write(home.profile())
    report = profile_rules.check("cloudflare-aig")
    assert report.current
    assert [f.id for f in report.findings] == [
        "profile.file",
        "profile.toml",
        "profile.permissions",
        "profile.provider",
        "profile.base_url",
        "profile.wire_api",
        "profile.model",
        "profile.auth",
        "profile.exclude",
        "config.toml",
        "config.legacy",
    ]
    assert report.facts is not None
    assert report.facts.layout.billing is Billing.UNIFIED
    assert report.facts.layout.auth_mode is AuthMode.ENV


def test_a_missing_profile_fails_the_file_rule_and_stops(home) -> None:
    report = profile_rules.check("cloudflare-aig")
    assert [(f.id, f.ok) for f in report.findings] == [("profile.file", False)]
    assert "silently bypass the gateway" in report.findings[0].message
    assert report.findings[0].fix == SETUP


def test_a_profile_of_another_name_gets_fixes_for_that_name(home) -> None:
    report = profile_rules.check("work")
    assert report.findings[0].fix == "codex-cf setup --profile work"


def test_a_malformed_profile_fails_the_toml_rule_with_line_and_column(home) -> None:
    profiles.write(home.profile(), profiles.CURRENT + "\n[broken\n")
    report = profile_rules.check("cloudflare-aig")
    broken = failing(report)
    assert list(broken) == ["profile.toml"]
    assert "is not valid TOML" in broken["profile.toml"].message
    assert "line" in broken["profile.toml"].message
    assert broken["profile.toml"].fix == f"correct the file by hand, then run {SETUP}"


def test_a_profile_that_is_not_utf8_says_so(home) -> None:
    profiles.write(home.profile())
    home.profile().write_bytes(b"model = '\xff'\n")
    assert (
        "is not UTF-8 text"
        in failing(profile_rules.check("cloudflare-aig"))["profile.toml"].message
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_profile_others_may_change_fails_the_permissions_rule(home) -> None:
    profiles.write(home.profile(), mode=0o620)
    broken = failing(profile_rules.check("cloudflare-aig"))
    assert list(broken) == ["profile.permissions"]
    assert "writable by group or others (mode 620)" in broken["profile.permissions"].message
    assert broken["profile.permissions"].fix == f"chmod 600 {home.profile()}"


def test_a_provider_id_without_its_table_fails_the_provider_rule(home) -> None:
    text = profiles.CURRENT.replace(
        'model_provider = "cloudflare-ai-gateway"', 'model_provider = "nope"'
    )
    profiles.write(home.profile(), text)
    broken = failing(profile_rules.check("cloudflare-aig"))
    assert list(broken) == ["profile.provider"]
    assert "'nope' does not name a [model_providers.*] table" in broken["profile.provider"].message
    assert broken["profile.provider"].fix == SETUP


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://gateway.ai.cloudflare.com/v1/<ACCOUNT_ID>/<GATEWAY_ID>/openai", "placeholder"),
        ("https://gateway.ai.cloudflare.com/v1/$CF_ACCOUNT/default/openai", "placeholder"),
        ("https://gateway.ai.cloudflare.com/v1/0123abc/default/openai", "32 hexadecimal"),
        ("http://example.com/v1/openai", "unencrypted"),
    ],
)
def test_a_base_url_that_cannot_carry_the_token_fails_the_base_url_rule(home, url, words) -> None:
    found = only_failure(profiles.with_base_url(url))
    assert found.id == "profile.base_url"
    assert words in found.message
    assert found.fix == SETUP


def test_a_chat_wire_api_fails_the_wire_api_rule(home) -> None:
    found = only_failure(profiles.CURRENT.replace('wire_api = "responses"', 'wire_api = "chat"'))
    assert found.id == "profile.wire_api"
    assert found.message == "wire_api is 'chat', not \"responses\""


def test_another_chat_provider_in_the_profile_fails_the_wire_api_rule(home) -> None:
    other = '\n[model_providers.old]\nname = "o"\nbase_url = "https://x"\nwire_api = "chat"\n'
    found = only_failure(profiles.CURRENT + other)
    assert found.id == "profile.wire_api"
    assert "provider 'old' has wire_api = \"chat\" (Codex refuses to start)" in found.message


def test_chat_providers_are_found_in_any_table_spelling() -> None:
    document = tomllib.loads(
        'model_providers.a = { wire_api = "chat" }\n'
        '[model_providers.b]\nwire_api = "responses"\n'
        '[model_providers.c]\nwire_api = "chat"\n'
    )
    assert profile_rules.chat_providers(document) == ["a", "c"]
    assert profile_rules.chat_providers({"model_providers": "not a table"}) == []


def test_a_profile_without_a_model_fails_the_model_rule(home) -> None:
    found = only_failure(profiles.CURRENT.replace('model = "gpt-5.5"\n', ""))
    assert (found.id, found.message, found.fix) == ("profile.model", "model is not set", SETUP)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('env_key = "CLOUDFLARE_API_KEY"', 'env_key = "1X"'), "not a valid variable name"),
        (('env_key = "CLOUDFLARE_API_KEY"\n', ""), "the provider sends no token"),
    ],
)
def test_a_provider_that_sends_no_usable_token_fails_the_auth_rule(home, change, words) -> None:
    text = profiles.CURRENT.replace(*change)
    profiles.write(home.profile(), text)
    broken = failing(profile_rules.check("cloudflare-aig"))
    assert "profile.auth" in broken
    assert words in broken["profile.auth"].message
    assert broken["profile.auth"].fix == SETUP


def test_command_mode_passes_with_an_installed_codex_cf(home, tmp_path) -> None:
    executable = codex_cf_at(tmp_path)
    profiles.write(
        home.profile(),
        command_mode(executable, auth_command_args("cloudflare-aig", Secret.CLOUDFLARE)),
    )
    report = profile_rules.check("cloudflare-aig")
    assert report.current, [f.message for f in report.findings if not f.ok]
    assert report.facts is not None
    assert report.facts.auth_command == executable
    assert report.facts.layout.auth_mode is AuthMode.COMMAND
    assert report.facts.layout.exports == ()


def test_command_mode_with_another_program_fails_the_auth_rule(home, tmp_path) -> None:
    args = auth_command_args("cloudflare-aig", Secret.CLOUDFLARE)
    found = only_failure(command_mode("/bin/echo", args))
    assert found.id == "profile.auth"
    assert found.message == "auth.command '/bin/echo' is not an installed codex-cf"


def test_command_mode_asking_for_another_profile_fails_the_auth_rule(home, tmp_path) -> None:
    args = auth_command_args("other", Secret.CLOUDFLARE)
    found = only_failure(command_mode(codex_cf_at(tmp_path), args))
    assert found.id == "profile.auth"
    assert "auth.args do not run `token print --profile cloudflare-aig`" in found.message


def test_both_env_key_and_auth_fail_the_auth_rule(home, tmp_path) -> None:
    args = auth_command_args("cloudflare-aig", Secret.CLOUDFLARE)
    text = command_mode(codex_cf_at(tmp_path), args).replace(
        'wire_api = "responses"', 'wire_api = "responses"\nenv_key = "CLOUDFLARE_API_KEY"'
    )
    found = only_failure(text)
    assert "both env_key and auth (Codex refuses to start)" in found.message


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        ("exclude = []", "shell_environment_policy.exclude lacks CLOUDFLARE_API_KEY"),
        ("exclude = 3", "is not a list of strings"),
    ],
)
def test_a_token_variable_the_agent_could_read_fails_the_exclude_rule(home, policy, words) -> None:
    found = only_failure(profiles.CURRENT.replace('exclude = ["CLOUDFLARE_API_KEY"]', policy))
    assert found.id == "profile.exclude"
    assert words in found.message


def test_a_policy_that_is_not_a_table_fails_the_exclude_rule(home) -> None:
    text = profiles.CURRENT.split("[shell_environment_policy]")[0]
    found = only_failure('shell_environment_policy = "all"\n' + text)
    assert found.id == "profile.exclude"
    assert "shell_environment_policy is not a table" in found.message
    assert found.fix == f"make it a table with an exclude list, then run {SETUP}"


def test_no_policy_at_all_fails_the_exclude_rule(home) -> None:
    found = only_failure(profiles.CURRENT.split("[shell_environment_policy]")[0])
    assert found.id == "profile.exclude"
    assert "could read the token" in found.message


def test_the_exclude_rule_asks_for_every_variable_the_layout_hides(home) -> None:
    header = (
        "\n[model_providers.cloudflare-ai-gateway.env_http_headers]\n"
        'cf-aig-authorization = "CF_AIG_AUTHORIZATION"\n'
    )
    text = profiles.CURRENT.replace(
        "[shell_environment_policy]", header + "[shell_environment_policy]"
    )
    found = only_failure(text)
    assert found.id == "profile.exclude"
    assert "lacks CF_AIG_AUTHORIZATION" in found.message


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ('profile = "cloudflare-aig"\n', "a top-level profile = 'cloudflare-aig'"),
        ("[profiles.cloudflare-aig]\nmodel = 'o3'\n", "a legacy [profiles.cloudflare-aig] table"),
        ('[model_providers.old]\nwire_api = "chat"\n', "provider 'old' with wire_api = \"chat\""),
    ],
)
def test_config_toml_entries_codex_refuses_fail_the_legacy_rule(home, config, words) -> None:
    profiles.write(home.profile())
    (home.codex_home / "config.toml").write_text(config)
    broken = failing(profile_rules.check("cloudflare-aig"))
    assert list(broken) == ["config.legacy"]
    assert words in broken["config.legacy"].message
    assert broken["config.legacy"].fix == SETUP


def test_an_unparsable_config_toml_fails_its_own_rule(home) -> None:
    profiles.write(home.profile())
    (home.codex_home / "config.toml").write_text("model = [\n")
    broken = failing(profile_rules.check("cloudflare-aig"))
    assert list(broken) == ["config.toml"]
    assert broken["config.toml"].fix == f"correct the file by hand, then run {SETUP}"


def test_current_facts_are_cached_until_a_file_changes(home) -> None:
    profiles.write(home.profile())
    first = profile_rules.current_facts("cloudflare-aig")
    assert isinstance(first, profile_facts.ProfileFacts)
    # Only a settled file is cached; the fresh write may be too recent to trust.
    checked = profile_facts.signature("cloudflare-aig")
    profile_facts.remember("cloudflare-aig", first, checked)
    if all(launch_cache.is_settled(s) for s in checked[1:]):
        assert profile_facts.cached("cloudflare-aig") == first
    profiles.write(home.profile(), profiles.CURRENT.replace('model = "gpt-5.5"\n', ""))
    assert profile_facts.cached("cloudflare-aig") is None
    assert isinstance(profile_rules.current_facts("cloudflare-aig"), profile_rules.Report)


def test_a_cache_entry_of_an_earlier_shape_is_a_miss(home) -> None:
    profiles.write(home.profile())
    old_shape = {
        "auth_mode": "env",
        "billing": "unified",
        "exports": [["CLOUDFLARE_API_KEY", "cloudflare", ""]],
        "required": ["cloudflare"],
        "auth_command": None,
    }
    entry = {"signature": profile_facts.signature("cloudflare-aig"), "facts": old_shape}
    launch_cache.store("profile-cloudflare-aig", entry)
    assert profile_facts.cached("cloudflare-aig") is None
    # The full check still finds the profile current.
    assert isinstance(profile_rules.current_facts("cloudflare-aig"), profile_facts.ProfileFacts)


def test_a_cached_auth_command_that_moved_is_a_miss(home, tmp_path) -> None:
    executable = codex_cf_at(tmp_path)
    profiles.write(
        home.profile(),
        command_mode(executable, auth_command_args("cloudflare-aig", Secret.CLOUDFLARE)),
    )
    facts = profile_rules.check("cloudflare-aig").facts
    assert facts is not None
    entry = {"signature": profile_facts.signature("cloudflare-aig"), "facts": facts.to_json()}
    launch_cache.store("profile-cloudflare-aig", entry)
    assert profile_facts.cached("cloudflare-aig") == facts
    Path(executable).unlink()
    assert profile_facts.cached("cloudflare-aig") is None
