"""`codex-cf setup` without a terminal: provisioning scripts and CI."""

from __future__ import annotations

import io
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

from codex_cf import credentials, profile_facts, profile_rules
from codex_cf.commands import setup_cmd
from codex_cf.commands.setup_cmd import SetupOptions
from codex_cf.constants import Access, ExitStatus, Secret
from codex_cf.errors import ProfileNotCurrent, TokenMissing, UsageError
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, assert_same_secret, fake_token

ACCOUNT = profiles.ACCOUNT


def setup(**options: object) -> int:
    return setup_cmd.execute(SetupOptions(**options), interactive=False)  # type: ignore[arg-type]


def test_fresh_machine_gets_a_current_profile(home) -> None:
    assert setup(account_id=ACCOUNT, no_token=True) == 0
    assert profile_rules.check("cloudflare-aig").current
    # The file Cloudflare's page asks people to write by hand, with requests tagged.
    assert home.profile().read_text() == profiles.TAGGED


def test_metadata_off_and_on_again_and_kept_otherwise(home) -> None:
    assert setup(account_id=ACCOUNT, no_token=True, metadata=False) == 0
    # Off: exactly the file Cloudflare's page asks people to write by hand.
    assert home.profile().read_text() == profiles.CURRENT
    assert setup(no_token=True) == 0  # no choice: the profile's is kept
    assert home.profile().read_text() == profiles.CURRENT
    assert setup(no_token=True, metadata=True) == 0
    assert home.profile().read_text() == profiles.TAGGED
    facts = profile_rules.current_facts("cloudflare-aig")
    assert isinstance(facts, profile_facts.ProfileFacts)
    assert facts.layout.metadata is True
    assert "requests tagged" in facts.layout.describe()
    assert setup(no_token=True, model="gpt-5") == 0  # another change keeps tagging on
    assert "cf-aig-metadata" in home.profile().read_text()
    assert setup(no_token=True, metadata=False) == 0
    text = home.profile().read_text()
    assert "cf-aig-metadata" not in text
    assert "env_http_headers" not in text


def test_setup_on_a_current_profile_changes_nothing(home, capsys) -> None:
    setup(account_id=ACCOUNT, no_token=True)
    before = home.profile().stat()
    content = home.profile().read_bytes()
    capsys.readouterr()
    assert setup(no_token=True) == 0
    assert "nothing to change" in capsys.readouterr().err
    after = home.profile().stat()
    assert home.profile().read_bytes() == content
    assert after.st_mtime_ns == before.st_mtime_ns
    assert not home.profile().with_name(home.profile().name + ".bak").exists()


def test_missing_account_id_without_terminal_names_the_option(home) -> None:
    with pytest.raises(UsageError, match="account ID is missing") as raised:
        setup(no_token=True)
    assert "--account-id" in (raised.value.fix or "")
    assert not home.profile().exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"account_id": "1234"}, "32 hexadecimal"),
        ({"account_id": ACCOUNT, "gateway": "Bad Slug"}, "gateway slug"),
        ({"base_url": "http://example.com/v1"}, "unencrypted"),
        ({"base_url": "https://gateway.ai.cloudflare.com/v1/<ACCOUNT_ID>/x/openai"}, "placeholder"),
        ({"base_url": "https://x.test", "account_id": ACCOUNT}, "one or the other"),
    ],
)
def test_invalid_values_are_refused_before_writing(home, options, message) -> None:
    with pytest.raises(UsageError, match=message):
        setup(no_token=True, **options)
    assert not home.profile().exists()


def test_custom_base_url_on_loopback(home) -> None:
    url = "http://127.0.0.1:8080/v1/x"
    setup(base_url=url, no_token=True)
    document = tomllib.loads(home.profile().read_text())
    assert document["model_providers"]["cloudflare-ai-gateway"]["base_url"] == url


def test_dry_run_writes_nothing_and_shows_the_diff(home, capsys) -> None:
    assert setup(account_id=ACCOUNT, no_token=True, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "+++ " in out
    assert '+base_url = "https://gateway.ai.cloudflare.com' in out
    assert not home.profile().exists()


def test_token_from_stdin_is_stored(home, monkeypatch) -> None:
    token = fake_token()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"  {token}\n"))
    assert setup(account_id=ACCOUNT, token_stdin=True) == 0
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)
    assert_absent(token, home.profile().read_text(), where="the profile")


def test_missing_token_fails_before_anything_is_written(home) -> None:
    with pytest.raises(TokenMissing, match="nothing was written"):
        setup(account_id=ACCOUNT)
    assert not home.profile().exists()


def test_legacy_config_needs_yes_and_keeps_a_backup(home) -> None:
    legacy = 'profile = "cloudflare-aig"\nmodel = "o3"  # mine\n'
    config = home.codex_home / "config.toml"
    config.write_text(legacy)
    with pytest.raises(UsageError, match="legacy"):
        setup(account_id=ACCOUNT, no_token=True)
    assert config.read_text() == legacy
    assert not home.profile().exists()
    assert setup(account_id=ACCOUNT, no_token=True, yes=True) == 0
    assert config.read_text() == 'model = "o3"  # mine\n'
    assert config.with_name("config.toml.bak").read_text() == legacy
    assert profile_rules.check("cloudflare-aig").current


def test_malformed_config_is_never_overwritten(home) -> None:
    config = home.codex_home / "config.toml"
    config.write_text("profile = \n")
    with pytest.raises(ProfileNotCurrent, match=r"line 1, column"):
        setup(account_id=ACCOUNT, no_token=True, yes=True)
    assert config.read_text() == "profile = \n"


def test_group_writable_profile_is_made_private(home) -> None:
    setup(account_id=ACCOUNT, no_token=True)
    home.profile().chmod(0o666)
    assert not profile_rules.check("cloudflare-aig").current
    assert setup(no_token=True) == 0
    assert profile_rules.check("cloudflare-aig").current


def test_byok_with_command_auth_is_refused(home) -> None:
    with pytest.raises(UsageError, match="byok"):
        setup(account_id=ACCOUNT, billing="byok", auth_mode="command", no_token=True)


def test_own_key_layout_needs_the_openai_key_too(home, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(fake_token()))
    with pytest.raises(TokenMissing, match="OpenAI API key"):
        setup(account_id=ACCOUNT, billing="own-key", authenticated_gateway=True, token_stdin=True)
    credentials.store("cloudflare-aig", Secret.OPENAI, "sk-" + fake_token("openai"))
    monkeypatch.setattr("sys.stdin", io.StringIO(fake_token()))
    assert (
        setup(account_id=ACCOUNT, billing="own-key", authenticated_gateway=True, token_stdin=True)
        == 0
    )
    facts = profile_rules.current_facts("cloudflare-aig")
    assert isinstance(facts, profile_facts.ProfileFacts)
    assert [e.variable for e in facts.layout.exports] == [
        "OPENAI_API_KEY",
        "CF_AIG_AUTHORIZATION",
        "CF_AIG_METADATA",
    ]


def test_profile_option_and_variable(home, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_CF_PROFILE", "work")
    setup(account_id=ACCOUNT, no_token=True)
    assert home.profile("work").exists()
    setup(profile="other", account_id=ACCOUNT, no_token=True)
    assert home.profile("other").exists()


def test_through_the_installed_command(home) -> None:
    token = fake_token()
    done = run_codex_cf("setup", "--account-id", ACCOUNT, "--token-stdin", stdin_text=token)
    assert done.returncode == ExitStatus.OK, done.stderr
    assert_absent(token, done.stdout, done.stderr)
    again = run_codex_cf("setup")
    assert again.returncode == 0
    assert "nothing to change" in again.stderr
    bad = run_codex_cf("setup", "--account-id", "nope")
    assert bad.returncode == ExitStatus.USAGE
    assert bad.stderr.count("\n") <= 2
    assert "Traceback" not in bad.stderr


@pytest.fixture
def codex_cf_on_path(monkeypatch) -> None:
    """Command mode writes the codex-cf found on PATH into the profile."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def _auth_command(home) -> str:
    document = tomllib.loads(home.profile().read_text())
    return document["model_providers"]["cloudflare-ai-gateway"]["auth"]["command"]


@pytest.mark.usefixtures("codex_cf_on_path")
def test_command_mode_writes_the_absolute_path_of_this_codex_cf(home) -> None:
    setup(account_id=ACCOUNT, auth_mode="command", no_token=True)
    command = _auth_command(home)
    assert os.path.isabs(command), command
    assert os.path.samefile(command, Path(sys.executable).with_name("codex-cf"))


@pytest.mark.usefixtures("codex_cf_off_path")
def test_command_mode_without_codex_cf_on_path_writes_the_one_that_runs(home) -> None:
    done = run_codex_cf(
        "setup", "--account-id", ACCOUNT, "--auth", "command", "--no-token", "--yes"
    )
    assert done.returncode == 0, done.stderr
    command = _auth_command(home)
    assert os.path.isabs(command), command
    assert os.path.samefile(command, Path(sys.executable).with_name("codex-cf"))
    assert profile_rules.check("cloudflare-aig").current


@pytest.mark.usefixtures("codex_cf_on_path")
def test_command_mode_profile_of_a_moved_codex_cf_is_repaired(home) -> None:
    setup(account_id=ACCOUNT, auth_mode="command", no_token=True)
    text = home.profile().read_text()
    installed = tomllib.loads(text)["model_providers"]["cloudflare-ai-gateway"]["auth"]["command"]
    home.profile().write_text(text.replace(installed, "/old/venv/bin/codex-cf"))
    report = profile_rules.check("cloudflare-aig")
    assert not report.current
    assert "not an installed codex-cf" in report.first_failure().message
    assert setup(no_token=True) == 0  # the mode is kept; only the path changes
    repaired = tomllib.loads(home.profile().read_text())["model_providers"]["cloudflare-ai-gateway"]
    assert repaired["auth"]["command"] == installed
    assert "env_key" not in repaired
    assert profile_rules.check("cloudflare-aig").current


@pytest.mark.usefixtures("codex_cf_on_path")
def test_a_profile_copied_to_another_name_is_not_current(home) -> None:
    setup(account_id=ACCOUNT, auth_mode="command", no_token=True)
    home.profile("copy").write_text(home.profile().read_text())
    home.profile("copy").chmod(0o600)
    report = profile_rules.check("copy")
    assert "token print --profile copy" in report.first_failure().message
    assert setup(profile="copy", no_token=True) == 0
    args = tomllib.loads(home.profile("copy").read_text())["model_providers"][
        "cloudflare-ai-gateway"
    ]["auth"]["args"]
    assert args == ["token", "print", "--profile", "copy"]


def test_two_setups_at_once_leave_one_whole_profile(home) -> None:
    import subprocess

    from helpers import real_parts

    setup(account_id=ACCOUNT, no_token=True)
    runs = [
        subprocess.Popen(
            [real_parts.codex_cf(), "setup", "--gateway", gateway, "--no-token", "--yes"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for gateway in ("first", "second")
    ]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in runs]
    assert {status for status, _ in results} <= {0, int(ExitStatus.FILE_CONFLICT)}
    assert 0 in {status for status, _ in results}
    for status, err in results:
        if status:
            assert "changed on disk" in err or "another codex-cf" in err
    document = tomllib.loads(home.profile().read_text())  # whole, valid TOML
    url = document["model_providers"]["cloudflare-ai-gateway"]["base_url"]
    assert url.endswith(("/first/openai", "/second/openai"))
    assert profile_rules.check("cloudflare-aig").current


def test_setup_lists_codex_sessions_that_run_with_the_old_settings(
    home, capsys, codex_sessions
) -> None:
    setup(account_id=ACCOUNT, no_token=True)
    session = codex_sessions.start("--profile", "cloudflare-aig", "exec", "x")
    elsewhere = home.root / "other-codex-home"
    elsewhere.mkdir()
    foreign = codex_sessions.start(
        "--profile", "cloudflare-aig", env=dict(os.environ, CODEX_HOME=str(elsewhere))
    )
    capsys.readouterr()
    setup(gateway="changed", no_token=True)
    err = capsys.readouterr().err
    assert "restart them" in err
    pids = {int(pid) for pid in re.findall(r"PID (\d+)", err)}
    assert session in pids
    assert foreign not in pids


def test_tables_split_across_the_file_are_edited_in_place(home) -> None:
    """Codex and users append tables anywhere: [model_providers.x] after [projects."…"]."""
    setup(account_id=ACCOUNT, no_token=True)
    text = home.profile().read_text() + (
        '\n[projects."/src/app"]\ntrust_level = "trusted"\n\n'
        '[model_providers.ollama]\nname = "Ollama"\nbase_url = "http://localhost:11434/v1"\n'
    )
    home.profile().write_text(text)
    assert setup(gateway="other", no_token=True) == 0
    document = tomllib.loads(home.profile().read_text())
    assert document["model_providers"]["ollama"]["name"] == "Ollama"
    assert document["model_providers"]["cloudflare-ai-gateway"]["base_url"].endswith(
        "/other/openai"
    )


def test_legacy_table_among_others_in_config_is_migrated(home) -> None:
    config = home.codex_home / "config.toml"
    config.write_text(
        '[profiles.cloudflare-aig]\nmodel = "x"\n\n[tui]\nnotifications = true\n\n'
        '[profiles.other]\nmodel = "y"\n'
    )
    assert setup(account_id=ACCOUNT, no_token=True, yes=True) == 0
    result = tomllib.loads(config.read_text())
    assert result["profiles"] == {"other": {"model": "y"}}
    assert profile_rules.check("cloudflare-aig").current


def test_windows_line_endings_are_kept_and_writable(home) -> None:
    setup(account_id=ACCOUNT, no_token=True)
    crlf = home.profile().read_text().replace("\n", "\r\n").encode()
    home.profile().write_bytes(crlf)
    assert setup(model="o9", no_token=True) == 0
    written = home.profile().read_bytes()
    assert b'model = "o9"' in written
    assert written.count(b"\r\n") == crlf.count(b"\r\n")


def test_a_symlinked_profile_is_written_through_the_link(home, tmp_path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "cloudflare-aig.config.toml"
    setup(account_id=ACCOUNT, no_token=True)
    home.profile().rename(target)
    home.profile().symlink_to(target)
    assert setup(gateway="linked", no_token=True) == 0
    assert home.profile().is_symlink()
    assert "/linked/openai" in target.read_text()


def test_what_setup_cannot_fix_is_said_not_claimed(home, monkeypatch) -> None:
    """The safety net: should an edit ever miss a rule, setup says so and writes nothing."""
    (home.codex_home / "config.toml").write_text('profile = "cloudflare-aig"\n')
    monkeypatch.setattr(setup_cmd.profile_edit, "migrate_base_config", lambda *_: [])
    with pytest.raises(ProfileNotCurrent, match="cannot make profile") as raised:
        setup(account_id=ACCOUNT, no_token=True, yes=True)
    assert "config.toml" in (raised.value.fix or "")
    assert not home.profile().exists()


def test_setup_keeps_the_variable_names_a_profile_already_uses(home) -> None:
    custom = profiles.CURRENT.replace(
        'env_key = "CLOUDFLARE_API_KEY"',
        'env_key = "MY_CF"\nenv_http_headers = { CF-AIG-Authorization = "MY_HEADER" }',
    ).replace('exclude = ["CLOUDFLARE_API_KEY"]', 'exclude = ["MY_CF", "MY_HEADER"]')
    profiles.write(home.profile(), custom)
    assert setup(model="gpt-6", no_token=True) == 0
    text = home.profile().read_text()
    assert text == custom.replace('"gpt-5.5"', '"gpt-6"').replace(
        '"MY_HEADER"]', '"MY_HEADER", "CLOUDFLARE_API_KEY"]'
    )
    # A name for another secret is not carried over: MY_CF holds a Cloudflare token.
    assert setup(billing="own-key", authenticated_gateway=True, no_token=True) == 0
    provider = tomllib.loads(home.profile().read_text())["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_key"] == "OPENAI_API_KEY"
    assert provider["env_http_headers"] == {"CF-AIG-Authorization": "MY_HEADER"}


def test_access_with_cloudflared_writes_the_header_and_no_token(home) -> None:
    assert setup(custom_domain="AI.Example.com", access="cloudflared") == 0
    document = tomllib.loads(home.profile().read_text())
    provider = document["model_providers"]["cloudflare-ai-gateway"]
    assert provider["base_url"] == "https://ai.example.com/openai"
    # A new Access profile tags its requests, like every new profile.
    assert provider["env_http_headers"] == {
        "cf-access-token": "CF_ACCESS_TOKEN",
        "cf-aig-metadata": "CF_AIG_METADATA",
    }
    assert "env_key" not in provider
    assert document["shell_environment_policy"]["exclude"] == ["CF_ACCESS_TOKEN", "CF_AIG_METADATA"]
    facts = profile_rules.current_facts("cloudflare-aig")
    assert isinstance(facts, profile_facts.ProfileFacts)
    assert facts.access_app == "https://ai.example.com"
    assert facts.layout.metadata is True


def test_access_with_no_metadata_sends_only_the_access_headers(home) -> None:
    assert setup(custom_domain="ai.example.com", access="service-token", no_token=True) == 0
    assert setup(metadata=False, no_token=True) == 0
    provider = tomllib.loads(home.profile().read_text())["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_http_headers"] == {
        "CF-Access-Client-Id": "CF_ACCESS_CLIENT_ID",
        "CF-Access-Client-Secret": "CF_ACCESS_CLIENT_SECRET",
    }
    facts = profile_rules.current_facts("cloudflare-aig")
    assert isinstance(facts, profile_facts.ProfileFacts)
    assert facts.layout.access is Access.SERVICE_TOKEN
    assert facts.layout.metadata is False


def test_leaving_access_brings_the_cloudflare_token_back(home) -> None:
    setup(custom_domain="ai.example.com", access="service-token", no_token=True)
    assert setup(access="off", no_token=True) == 0
    provider = tomllib.loads(home.profile().read_text())["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_key"] == "CLOUDFLARE_API_KEY"
    # The Access headers go; the request tags stay, as the profile had them.
    assert provider["env_http_headers"] == {"cf-aig-metadata": "CF_AIG_METADATA"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"custom_domain": "https://ai.example.com"}, "host name"),
        ({"custom_domain": "ai.example.com", "account_id": ACCOUNT}, "names the gateway"),
        ({"custom_domain": "ai.example.com", "base_url": "https://x.test"}, "names the gateway"),
        ({"account_id": ACCOUNT, "access": "cloudflared"}, "protects a gateway's custom domain"),
        ({"access": "cloudflared"}, "custom domain, which is missing"),
        (
            {"custom_domain": "ai.example.com", "access": "cloudflared", "auth_mode": "command"},
            "auth command feeds only",
        ),
        (
            {
                "custom_domain": "ai.example.com",
                "access": "service-token",
                "authenticated_gateway": True,
            },
            "replaces the gateway token",
        ),
    ],
)
def test_access_options_that_cannot_work_are_refused(home, options, message) -> None:
    with pytest.raises(UsageError, match=message):
        setup(no_token=True, **options)
    assert not home.profile().exists()


def test_service_token_without_its_secrets_names_token_set(home) -> None:
    with pytest.raises(TokenMissing) as raised:
        setup(custom_domain="ai.example.com", access="service-token")
    assert "token set --which access-id --stdin" in (raised.value.fix or "")
    assert not home.profile().exists()
