"""setup's edits change codex-cf's keys and keep every other byte."""

from __future__ import annotations

import dataclasses
import difflib
import tempfile
import tomllib
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_cf import profile_edit, profile_facts, profile_rules
from codex_cf.constants import Access, AuthMode, Billing
from codex_cf.errors import ProfileNotCurrent
from codex_cf.layout import Layout

URL = "https://gateway.ai.cloudflare.com/v1/0123456789abcdef0123456789abcdef/default/openai"


def desired(**overrides: object) -> profile_edit.Desired:
    values: dict[str, object] = {
        "profile": "cloudflare-aig",
        "base_url": URL,
        "model": None,
        "reasoning_effort": None,
        "codex_cf_path": None,
    }
    layout = Layout(
        overrides.pop("billing", Billing.UNIFIED),  # type: ignore[arg-type]
        overrides.pop("auth_mode", AuthMode.ENV),  # type: ignore[arg-type]
        overrides.pop("authenticated_gateway", False),  # type: ignore[arg-type]
        metadata=overrides.pop("metadata", False),  # type: ignore[arg-type]
    )
    values.update(overrides, layout=layout)
    return profile_edit.Desired(**values)  # type: ignore[arg-type]


def edited(text: str, want: profile_edit.Desired, creating: bool = False) -> str:
    document = tomlkit.parse(text)
    profile_edit.apply(document, want, creating)
    return document.as_string()


def facts(text: str, executable: str | None = None) -> profile_facts.ProfileFacts:
    findings, found = profile_rules.check_profile_document(tomllib.loads(text), "cloudflare-aig")
    assert found is not None, [f.message for f in findings if not f.ok]
    return found


def test_new_profile_is_cloudflares_page_and_current() -> None:
    text = edited("", desired(), creating=True)
    document = tomllib.loads(text)
    assert document["model_provider"] == "cloudflare-ai-gateway"
    assert document["model"] == "gpt-5.5"
    assert document["model_reasoning_effort"] == "medium"
    provider = document["model_providers"]["cloudflare-ai-gateway"]
    assert provider == {
        "name": "Cloudflare AI Gateway",
        "base_url": URL,
        "env_key": "CLOUDFLARE_API_KEY",
        "wire_api": "responses",
    }
    assert document["shell_environment_policy"]["exclude"] == ["CLOUDFLARE_API_KEY"]
    assert facts(text).layout.billing is Billing.UNIFIED


def test_model_and_effort_are_not_changed_unless_asked() -> None:
    start = edited("", desired(), creating=True).replace('"gpt-5.5"', '"gpt-6-migrated"')
    start = start.replace('model_reasoning_effort = "medium"\n', "")
    again = edited(start, desired())
    assert again == start  # nothing of ours differs: same bytes
    asked = tomllib.loads(edited(start, desired(model="o9", reasoning_effort="high")))
    assert asked["model"] == "o9"
    assert asked["model_reasoning_effort"] == "high"


def test_existing_exclude_list_is_merged_not_replaced() -> None:
    start = '[shell_environment_policy]\ninherit = "core"\nexclude = [\n  "AWS_*", # mine\n]\n'
    text = edited(start, desired(), creating=True)
    assert '"AWS_*", # mine' in text
    assert tomllib.loads(text)["shell_environment_policy"]["exclude"] == [
        "AWS_*",
        "CLOUDFLARE_API_KEY",
    ]


@pytest.mark.parametrize(
    "start",
    ['shell_environment_policy = "all"\n', "[shell_environment_policy]\nexclude = 3\n"],
)
def test_policy_that_cannot_take_an_exclude_list_is_refused(start: str) -> None:
    with pytest.raises(ProfileNotCurrent, match="shell_environment_policy"):
        edited(start, desired(), creating=True)


def test_dotted_and_inline_policies_take_the_exclude_list() -> None:
    for start in (
        'shell_environment_policy.inherit = "core"\n',
        'shell_environment_policy = { inherit = "all" }\n',
    ):
        text = edited(start, desired(), creating=True)
        assert tomllib.loads(text)["shell_environment_policy"]["exclude"] == ["CLOUDFLARE_API_KEY"]


def test_provider_id_of_an_existing_profile_is_kept() -> None:
    start = 'model_provider = "my-cf"\nmodel = "x"\n[model_providers.my-cf]\nname = "Mine"\n'
    document = tomllib.loads(edited(start, desired()))
    assert document["model_provider"] == "my-cf"
    assert document["model_providers"]["my-cf"]["name"] == "Mine"
    assert document["model_providers"]["my-cf"]["base_url"] == URL


@pytest.mark.parametrize(
    ("billing", "authenticated", "env_key", "header"),
    [
        (Billing.UNIFIED, False, "CLOUDFLARE_API_KEY", None),
        (Billing.UNIFIED, True, "CLOUDFLARE_API_KEY", "CF_AIG_AUTHORIZATION"),
        (Billing.BYOK, True, None, "CF_AIG_AUTHORIZATION"),
        (Billing.OWN_KEY, False, "OPENAI_API_KEY", None),
        (Billing.OWN_KEY, True, "OPENAI_API_KEY", "CF_AIG_AUTHORIZATION"),
    ],
)
def test_each_billing_layout_gets_exactly_its_keys(billing, authenticated, env_key, header) -> None:
    text = edited("", desired(billing=billing, authenticated_gateway=authenticated), creating=True)
    document = tomllib.loads(text)
    provider = document["model_providers"]["cloudflare-ai-gateway"]
    assert provider.get("env_key") == env_key
    assert provider.get("env_http_headers", {}).get("cf-aig-authorization") == header
    exported = [v for v in (env_key, header) if v]
    # Every variable codex-cf exports, and each secret's usual name besides.
    secrets = ["OPENAI_API_KEY"] if billing is Billing.OWN_KEY else []
    if billing is not Billing.OWN_KEY or header:
        secrets.append("CLOUDFLARE_API_KEY")
    hidden = exported + [v for v in secrets if v not in exported]
    assert document["shell_environment_policy"]["exclude"] == hidden
    found = facts(text)
    assert found.layout.billing is billing
    assert [e.variable for e in found.layout.exports] == exported


def test_command_mode_has_an_auth_table_and_no_env_key(tmp_path) -> None:
    executable = tmp_path / "codex-cf"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    want = desired(auth_mode=AuthMode.COMMAND, codex_cf_path=str(executable))
    document = tomllib.loads(edited("", want, creating=True))
    # Nothing is exported, but a token the user exports in the shell stays hidden.
    assert document["shell_environment_policy"]["exclude"] == ["CLOUDFLARE_API_KEY"]
    provider = document["model_providers"]["cloudflare-ai-gateway"]
    assert "env_key" not in provider
    assert provider["auth"] == {
        "command": str(executable),
        "args": ["token", "print", "--profile", "cloudflare-aig"],
        "timeout_ms": 15000,
        "refresh_interval_ms": 0,
    }
    own_key = desired(
        auth_mode=AuthMode.COMMAND, codex_cf_path=str(executable), billing=Billing.OWN_KEY
    )
    args = tomllib.loads(edited("", own_key, creating=True))["model_providers"][
        "cloudflare-ai-gateway"
    ]["auth"]["args"]
    assert args[-2:] == ["--which", "openai"]


# Property tests: content that is not codex-cf's survives every edit byte for byte.

_key = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in {"model", "model_provider", "model_reasoning_effort", "profile"}
)
_scalar = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.lists(st.integers(0, 99), max_size=3),
)


@st.composite
def user_content(draw: st.DrawFn) -> str:
    """A user's (and Codex's) own top-level keys, trust entries, tables and comments."""
    lines = ["# my notes: keep me"]
    for key, value in draw(st.dictionaries(_key, _scalar, max_size=4)).items():
        lines.append(f"{key} = {tomlkit.item(value).as_string()}  # about {key}")
    for index, project in enumerate(
        draw(st.lists(st.from_regex(r"/[a-z/]{1,15}", fullmatch=True), max_size=4, unique=True))
    ):
        lines.append(f'\n[projects."{project}"]\ntrust_level = "trusted" # {index}')
    for name, table in draw(
        st.dictionaries(_key, st.dictionaries(_key, _scalar, max_size=3), max_size=3)
    ).items():
        lines.append(f"\n[tool_{name}]")
        lines.extend(f"{k} = {tomlkit.item(v).as_string()}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def assert_only_additions(original: str, new: str) -> None:
    """Every original line is still there, unchanged and in order; lines were only added."""
    matcher = difflib.SequenceMatcher(a=original.splitlines(), b=new.splitlines(), autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] not in ("equal", "insert")]
    assert changed == [], new


def _foreign(text: str) -> dict[str, object]:
    document = tomllib.loads(text)
    ours = {
        "model_provider",
        "model",
        "model_reasoning_effort",
        "model_providers",
        "shell_environment_policy",
    }
    return {k: v for k, v in document.items() if k not in ours}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(user_content(), st.sampled_from(list(Billing)), st.booleans(), st.booleans())
def test_user_content_survives_setup(
    content: str, billing: Billing, authenticated: bool, tagged: bool
) -> None:
    want = desired(billing=billing, authenticated_gateway=authenticated, metadata=tagged)
    text = edited(content, want, creating=True)
    assert_only_additions(content, text)
    assert _foreign(text) == _foreign(content)
    assert facts(text).layout.metadata is tagged


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    user_content(), st.lists(st.sampled_from(list(Billing)), min_size=1, max_size=4), st.booleans()
)
def test_switching_layouts_and_modes_keeps_foreign_keys(
    content: str, layouts: list[Billing], command: bool
) -> None:
    executable = Path(tempfile.mkdtemp()) / "codex-cf"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    text = edited(content, desired(), creating=True)
    for billing in layouts:
        mode = AuthMode.COMMAND if command and billing is not Billing.BYOK else AuthMode.ENV
        want = desired(
            billing=billing, auth_mode=mode, codex_cf_path=str(executable), metadata=command
        )
        text = edited(text, want)
        assert _foreign(text) == _foreign(content)
        assert_only_additions(content, text)
        assert facts(text).layout.billing is billing
        assert facts(text).layout.metadata is command
        command = not command


def test_legacy_config_entries_are_migrated() -> None:
    document = tomlkit.parse(
        'profile = "cloudflare-aig"\nmodel = "o3" # mine\n\n'
        '[profiles.cloudflare-aig]\nmodel = "x"\n\n'
        '[profiles.other]\nmodel = "y"\n\n[model_providers.old]\nname = "o"\nwire_api = "chat"\n'
    )
    changes = profile_edit.migrate_base_config(document, "cloudflare-aig")
    assert len(changes) == 3
    result = tomllib.loads(document.as_string())
    assert "profile" not in result
    assert result["profiles"] == {"other": {"model": "y"}}
    assert result["model_providers"]["old"]["wire_api"] == "responses"
    assert 'model = "o3" # mine' in document.as_string()
    assert profile_rules.check_base_config(result, "cloudflare-aig").ok


def test_tags_on_and_off_keep_the_gateway_header_and_a_users_own_metadata_header() -> None:
    tagged = edited("", desired(billing=Billing.BYOK, authenticated_gateway=True, metadata=True))
    provider = tomllib.loads(tagged)["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_http_headers"] == {
        "cf-aig-authorization": "CF_AIG_AUTHORIZATION",
        "cf-aig-metadata": "CF_AIG_METADATA",
    }
    untagged = edited(tagged, desired(billing=Billing.BYOK, authenticated_gateway=True))
    provider = tomllib.loads(untagged)["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_http_headers"] == {"cf-aig-authorization": "CF_AIG_AUTHORIZATION"}
    # A header naming another variable is the user's own: turning tags off leaves it.
    theirs = untagged.replace(
        '"CF_AIG_AUTHORIZATION" }', '"CF_AIG_AUTHORIZATION", CF-AIG-Metadata = "MY_TAGS" }'
    )
    assert "MY_TAGS" in theirs
    assert edited(theirs, desired(billing=Billing.BYOK, authenticated_gateway=True)) == theirs


def behind_access(layout: Layout) -> profile_edit.Desired:
    """A profile on a custom domain, which Cloudflare Access protects."""
    return dataclasses.replace(desired(base_url="https://ai.example.com/openai"), layout=layout)


def test_access_and_tags_are_written_together_and_read_back() -> None:
    base = Layout(access=Access.CLOUDFLARED, metadata=True)
    text = edited("", behind_access(base), creating=True)
    document = tomllib.loads(text)
    provider = document["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_http_headers"] == {
        "cf-access-token": "CF_ACCESS_TOKEN",
        "cf-aig-metadata": "CF_AIG_METADATA",
    }
    assert document["shell_environment_policy"]["exclude"] == ["CF_ACCESS_TOKEN", "CF_AIG_METADATA"]
    assert facts(text).layout == base
    # Another Access credential swaps the Access headers and keeps the tags.
    service = base._replace(access=Access.SERVICE_TOKEN)
    swapped = edited(text, behind_access(service))
    provider = tomllib.loads(swapped)["model_providers"]["cloudflare-ai-gateway"]
    assert provider["env_http_headers"] == {
        "cf-aig-metadata": "CF_AIG_METADATA",
        "CF-Access-Client-Id": "CF_ACCESS_CLIENT_ID",
        "CF-Access-Client-Secret": "CF_ACCESS_CLIENT_SECRET",
    }
    assert facts(swapped).layout == service
    # Tags off leaves the Access headers alone.
    untagged = service._replace(metadata=False)
    assert facts(edited(swapped, behind_access(untagged))).layout == untagged
