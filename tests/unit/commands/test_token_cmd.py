"""`codex-cf token`: stored in the keyring, shown masked, printed only by `print`."""

from __future__ import annotations

import os

import pytest

from codex_cf import credentials
from codex_cf.constants import ExitStatus, Secret
from helpers import profiles
from helpers.process import run_codex_cf
from helpers.tokens import assert_absent, assert_same_secret, fake_token


def test_set_from_stdin_strips_whitespace(home) -> None:
    token = fake_token()
    done = run_codex_cf("token", "set", "--stdin", stdin_text=f"\n  {token}  \n")
    assert done.returncode == 0, done.stderr
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)
    assert_absent(token, done.stdout, done.stderr)


@pytest.mark.parametrize("text", ["", "   \n", "line-one\nline-two\n"])
def test_set_refuses_empty_or_multi_line_input(home, text) -> None:
    done = run_codex_cf("token", "set", "--stdin", stdin_text=text)
    assert done.returncode == ExitStatus.USAGE
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None


def test_without_terminal_set_reads_stdin_even_without_the_flag(home) -> None:
    token = fake_token()
    assert run_codex_cf("token", "set", stdin_text=token).returncode == 0
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)


def test_openai_key_is_checked_for_shape(home) -> None:
    done = run_codex_cf("token", "set", "--which", "openai", "--stdin", stdin_text="not-a-key")
    assert done.returncode == ExitStatus.USAGE
    assert "sk-" in done.stderr
    key = "sk-" + fake_token("openai")
    assert run_codex_cf("token", "set", "--which", "openai", stdin_text=key).returncode == 0
    assert_same_secret(credentials.get("cloudflare-aig", Secret.OPENAI), key)
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None


def test_status_masks_to_the_last_four_characters(home) -> None:
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)
    done = run_codex_cf("token", "status")
    assert done.returncode == 0
    assert "source:   keyring …" + token[-4:] in done.stdout
    assert token[-5:] not in done.stdout
    assert "FileKeyring" in done.stdout  # the backend is named
    assert_absent(token, done.stdout, done.stderr)


def test_status_says_the_environment_wins(home) -> None:
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, fake_token())
    env_token = fake_token("env")
    done = run_codex_cf("token", "status", env=dict(os.environ, CLOUDFLARE_API_KEY=env_token))
    assert "source:   environment" in done.stdout
    assert_absent(env_token, done.stdout, done.stderr)


def test_a_blank_variable_is_not_a_source(home) -> None:
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)
    blank = dict(os.environ, CLOUDFLARE_API_KEY=" \n")
    done = run_codex_cf("token", "status", env=blank)
    assert "source:   keyring …" + token[-4:] in done.stdout
    printed = run_codex_cf("token", "print", env=blank)
    assert_same_secret(printed.stdout.rstrip("\n"), token, "printed token")
    credentials.delete("cloudflare-aig", Secret.CLOUDFLARE)
    done = run_codex_cf("token", "status", env=blank)
    assert done.returncode == ExitStatus.TOKEN_MISSING
    assert "source:   none" in done.stdout


def test_a_padded_variable_is_printed_stripped(home) -> None:
    token = fake_token("env")
    done = run_codex_cf("token", "print", env=dict(os.environ, CLOUDFLARE_API_KEY=f" {token}\n"))
    assert_same_secret(done.stdout, token + "\n", "printed token")


def test_status_without_token_exits_4(home) -> None:
    done = run_codex_cf("token", "status")
    assert done.returncode == ExitStatus.TOKEN_MISSING
    assert "source:   none" in done.stdout
    assert "codex-cf token set" in done.stderr


def test_print_is_the_one_command_that_shows_the_token(home) -> None:
    token = fake_token()
    credentials.store("work", Secret.CLOUDFLARE, token)
    done = run_codex_cf("token", "print", "--profile", "work")
    assert done.returncode == 0
    assert_same_secret(done.stdout.rstrip("\n"), token, "printed token")
    assert done.stderr == ""


def test_print_on_a_miss_is_one_line_on_stderr(home) -> None:
    done = run_codex_cf("token", "print")
    assert done.returncode == ExitStatus.TOKEN_MISSING
    assert done.stdout == ""
    assert done.stderr.startswith("codex-cf: no Cloudflare API token")


def test_delete_is_idempotent(home) -> None:
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, fake_token())
    first = run_codex_cf("token", "delete")
    assert first.returncode == 0
    assert "Deleted" in first.stderr
    assert credentials.get("cloudflare-aig", Secret.CLOUDFLARE) is None
    second = run_codex_cf("token", "delete")
    assert second.returncode == 0
    assert "No Cloudflare API token" in second.stderr


def test_items_are_separate_per_profile_and_secret(home) -> None:
    tokens = {name: fake_token(name) for name in ("a", "b")}
    for name, token in tokens.items():
        credentials.store(name, Secret.CLOUDFLARE, token)
    key = "sk-" + fake_token()
    credentials.store("a", Secret.OPENAI, key)
    assert_same_secret(credentials.get("a", Secret.CLOUDFLARE), tokens["a"])
    assert_same_secret(credentials.get("b", Secret.CLOUDFLARE), tokens["b"])
    assert_same_secret(credentials.get("a", Secret.OPENAI), key)
    assert credentials.get("b", Secret.OPENAI) is None


def test_profile_file_never_holds_the_token(home) -> None:
    token = fake_token()
    run_codex_cf("setup", "--account-id", profiles.ACCOUNT, "--token-stdin", stdin_text=token)
    for path in home.root.rglob("*"):
        if path.is_file() and path != home.keyring_file:
            assert_absent(token, path.read_bytes(), where=str(path))


def test_import_moves_the_variable_into_the_keyring_and_names_rc_lines(home) -> None:
    token = fake_token()
    (home.home / ".zshrc").write_text(
        f"export PATH=$PATH:~/bin\nexport CLOUDFLARE_API_KEY={token}\n"
    )
    before = (home.home / ".zshrc").read_text()
    done = run_codex_cf("token", "import", env=dict(os.environ, CLOUDFLARE_API_KEY=token))
    assert done.returncode == 0, done.stderr
    assert_same_secret(credentials.get("cloudflare-aig", Secret.CLOUDFLARE), token)
    assert f"{home.home / '.zshrc'}:2" in done.stderr
    assert (home.home / ".zshrc").read_text() == before  # never edited unasked
    assert_absent(token, done.stdout, done.stderr)


def test_import_without_the_variable_names_token_set(home) -> None:
    done = run_codex_cf("token", "import")
    assert done.returncode == ExitStatus.TOKEN_MISSING
    assert "codex-cf token set" in done.stderr


@pytest.fixture
def api(home, monkeypatch):
    """Starts a fake Cloudflare API with the test's settings; stopped after the test."""
    from contextlib import ExitStack

    from helpers.fake_cloudflare_api import FakeCloudflareApi

    with ExitStack() as servers:

        def start(**config: object) -> FakeCloudflareApi:
            fake = servers.enter_context(FakeCloudflareApi(**config))  # type: ignore[arg-type]
            monkeypatch.setenv("CODEX_CF_API_BASE", fake.url)
            return fake

        yield start


@pytest.mark.parametrize(
    ("state", "status", "words"),
    [
        ("active", ExitStatus.OK, "active"),
        ("disabled", ExitStatus.TOKEN_INACTIVE, "disabled"),
        ("expired", ExitStatus.TOKEN_INACTIVE, "expired"),
        (None, ExitStatus.TOKEN_INVALID, "rejected"),
    ],
)
def test_verify_tells_the_states_apart(home, api, state, status, words) -> None:
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)
    fake = api(user_tokens={token: state} if state else {})
    done = run_codex_cf("token", "verify")
    fake.__exit__(None, None, None)
    assert done.returncode == status, done.stderr
    assert words in (done.stdout + done.stderr).lower()
    assert_absent(token, done.stdout, done.stderr)


def test_verify_an_account_owned_token_uses_the_profiles_account(home, api) -> None:
    token = fake_token()
    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, token)
    profiles.write(home.profile())
    fake = api(account_tokens={profiles.ACCOUNT: {token: "active"}})
    done = run_codex_cf("token", "verify")
    fake.__exit__(None, None, None)
    assert done.returncode == 0, done.stderr
    assert f"/client/v4/accounts/{profiles.ACCOUNT}/tokens/verify" in fake.paths()


def test_verify_unreachable_is_bounded(home, monkeypatch) -> None:
    import socket
    import time

    credentials.store("cloudflare-aig", Secret.CLOUDFLARE, fake_token())
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("CODEX_CF_API_BASE", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    done = run_codex_cf("token", "verify")
    assert time.monotonic() - started < 60
    assert done.returncode == ExitStatus.API_UNREACHABLE


def test_status_works_from_the_environment_without_a_keyring(home) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env["CLOUDFLARE_API_KEY"] = fake_token()
    done = run_codex_cf("token", "status", env=env)
    assert done.returncode == 0, done.stderr
    assert "keyring:  unavailable" in done.stdout
    assert "source:   environment" in done.stdout


def test_a_key_with_characters_no_token_has_is_refused(home) -> None:
    done = run_codex_cf("token", "set", "--which", "openai", "--stdin", stdin_text="sk-abc€def")
    assert done.returncode == ExitStatus.USAGE
    assert credentials.get("cloudflare-aig", Secret.OPENAI) is None
