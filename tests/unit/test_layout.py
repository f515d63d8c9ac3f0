"""The layout model: every question about secrets, variables and headers, both ways."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_cf.constants import METADATA_VARIABLE, Access, AuthMode, Billing, Secret
from codex_cf.errors import UsageError
from codex_cf.layout import Export, Layout, read_provider, valid_variable_name
from codex_cf.profile_names import auth_command_args, read_auth_command_args

CF = "CLOUDFLARE_API_KEY"
OPENAI = "OPENAI_API_KEY"
HEADER = "CF_AIG_AUTHORIZATION"

# Every layout setup can build, with what it must answer.
CASES = [
    # billing, mode, authenticated, secrets, exports, hidden
    (
        Billing.UNIFIED,
        AuthMode.ENV,
        False,
        (Secret.CLOUDFLARE,),
        ((CF, Secret.CLOUDFLARE, ""),),
        (CF,),
    ),
    (Billing.UNIFIED, AuthMode.COMMAND, False, (Secret.CLOUDFLARE,), (), (CF,)),
    (
        Billing.UNIFIED,
        AuthMode.ENV,
        True,
        (Secret.CLOUDFLARE,),
        ((CF, Secret.CLOUDFLARE, ""), (HEADER, Secret.CLOUDFLARE, "Bearer ")),
        (CF, HEADER),
    ),
    (
        Billing.BYOK,
        AuthMode.ENV,
        None,
        (Secret.CLOUDFLARE,),
        ((HEADER, Secret.CLOUDFLARE, "Bearer "),),
        (HEADER, CF),
    ),
    (
        Billing.OWN_KEY,
        AuthMode.ENV,
        False,
        (Secret.OPENAI,),
        ((OPENAI, Secret.OPENAI, ""),),
        (OPENAI,),
    ),
    (Billing.OWN_KEY, AuthMode.COMMAND, False, (Secret.OPENAI,), (), (OPENAI,)),
    (
        Billing.OWN_KEY,
        AuthMode.ENV,
        True,
        (Secret.CLOUDFLARE, Secret.OPENAI),
        ((OPENAI, Secret.OPENAI, ""), (HEADER, Secret.CLOUDFLARE, "Bearer ")),
        (OPENAI, HEADER, CF),
    ),
    (
        Billing.OWN_KEY,
        AuthMode.COMMAND,
        True,
        (Secret.CLOUDFLARE, Secret.OPENAI),
        ((HEADER, Secret.CLOUDFLARE, "Bearer "),),
        # The Authorization secret's usual variable first: the order setup writes.
        (HEADER, OPENAI, CF),
    ),
]


@pytest.mark.parametrize("tagged", [False, True])
@pytest.mark.parametrize(
    ("billing", "mode", "authenticated", "secrets", "exports", "hidden"), CASES
)
def test_each_layout_answers_every_question(
    billing, mode, authenticated, secrets, exports, hidden, tagged
):
    layout = Layout.chosen(billing, mode, authenticated, metadata=tagged)
    assert layout.secrets == secrets
    # The request tags are one more export in both auth modes, with no secret in it.
    tag_export = ((METADATA_VARIABLE, None, ""),) if tagged else ()
    assert layout.exports == tuple(Export(*e) for e in (*exports, *tag_export))
    assert layout.secret_variables == hidden
    assert layout.hidden_variables == (*hidden, *[METADATA_VARIABLE] * tagged)
    # Every exported variable is hidden from the agent's commands.
    assert {e.variable for e in layout.exports} <= set(layout.hidden_variables)
    assert ("requests tagged" in layout.describe()) is tagged


def test_a_new_profile_is_tagged_and_a_changed_one_keeps_its_choice():
    assert Layout.chosen(Billing.UNIFIED, None, None).metadata is True
    assert Layout.chosen(Billing.BYOK, None, None).metadata is True
    untagged = Layout(metadata=False)
    assert Layout.chosen(Billing.OWN_KEY, None, None, untagged).metadata is False
    assert Layout.chosen(Billing.UNIFIED, None, None, untagged, metadata=True).metadata is True
    tagged = Layout(metadata=True)
    assert Layout.chosen(Billing.UNIFIED, None, None, tagged, metadata=False).metadata is False


@pytest.mark.parametrize("tagged", [False, True])
@pytest.mark.parametrize(
    ("billing", "mode", "authenticated", "secrets", "exports", "hidden"), CASES
)
def test_a_written_provider_reads_back_as_the_same_layout(
    billing, mode, authenticated, secrets, exports, hidden, tagged
):
    layout = Layout.chosen(billing, mode, authenticated, metadata=tagged)
    provider: dict[str, object] = {}
    if layout.env_key:
        provider["env_key"] = layout.env_key
    if layout.command_secret is not None:
        provider["auth"] = {
            "command": "/usr/bin/codex-cf",
            "args": auth_command_args("work", layout.command_secret),
        }
    headers = {}
    if layout.sends_gateway_header:
        headers["cf-aig-authorization"] = layout.gateway_variable
    if layout.metadata:
        headers["cf-aig-metadata"] = METADATA_VARIABLE
    if headers:
        provider["env_http_headers"] = headers
    reading = read_provider(provider, "work")
    assert reading.problems == ()
    assert reading.layout is not None
    assert reading.layout.metadata is tagged
    assert Layout.from_json(json.loads(json.dumps(layout.to_json()))) == layout
    assert reading.layout.secrets == layout.secrets
    assert reading.layout.exports == layout.exports
    assert reading.layout.hidden_variables == layout.hidden_variables
    assert reading.layout.billing is layout.billing
    assert reading.layout.auth_mode is layout.auth_mode


def test_headers_are_what_the_gateway_receives():
    values = {Secret.CLOUDFLARE: "cf-fake", Secret.OPENAI: "sk-fake"}
    own_key = Layout.chosen(Billing.OWN_KEY, AuthMode.ENV, True)
    assert own_key.headers(values) == {
        "authorization": "Bearer sk-fake",
        "cf-aig-authorization": "Bearer cf-fake",
    }
    assert Layout.chosen(Billing.BYOK, AuthMode.ENV, None).headers(values) == {
        "cf-aig-authorization": "Bearer cf-fake"
    }
    assert Layout().headers(values) == {"authorization": "Bearer cf-fake"}
    assert Layout().headers({}) == {}


def test_impossible_combinations_are_usage_errors():
    with pytest.raises(UsageError, match="authenticated gateway"):
        Layout.chosen(Billing.BYOK, AuthMode.ENV, False)
    with pytest.raises(UsageError, match="command auth has nothing to hand over"):
        Layout.chosen(Billing.BYOK, AuthMode.COMMAND, None)


def test_setup_keeps_the_variable_names_a_profile_already_uses():
    existing = read_provider(
        {"env_key": "MY_CF", "env_http_headers": {"CF-AIG-Authorization": "MY_HEADER"}}, "p"
    ).layout
    assert existing is not None
    chosen = Layout.chosen(Billing.UNIFIED, AuthMode.ENV, True, existing).keeping_names_of(existing)
    assert chosen.env_key == "MY_CF"
    assert [e.variable for e in chosen.exports] == ["MY_CF", "MY_HEADER"]
    # The hidden list still names the usual variable, which users export by habit.
    assert chosen.hidden_variables == ("MY_CF", "MY_HEADER", CF)
    # A name for another secret is not carried over: OPENAI_API_KEY is not a Cloudflare token.
    own = read_provider({"env_key": OPENAI}, "p").layout
    assert Layout.chosen(Billing.UNIFIED, AuthMode.ENV, False).keeping_names_of(own).env_key == CF


@pytest.mark.parametrize(
    ("provider", "problem"),
    [
        ({}, "sends no token"),
        ({"env_key": "1BAD"}, "not a valid variable name"),
        ({"env_key": CF, "auth": {"command": "/x", "args": []}}, "both env_key and auth"),
        (
            {"auth": {"command": "/x", "args": ["token", "print", "--profile", "other"]}},
            "--profile p",
        ),
        ({"env_key": CF, "env_http_headers": {"cf-aig-authorization": "a b"}}, "not a valid"),
    ],
)
def test_a_broken_provider_says_what_is_wrong(provider, problem):
    reading = read_provider(provider, "p")
    assert any(problem in p for p in reading.problems), reading.problems


def test_the_cached_form_round_trips_and_refuses_another_shape():
    layout = Layout.chosen(Billing.OWN_KEY, AuthMode.COMMAND, True)
    assert Layout.from_json(json.loads(json.dumps(layout.to_json()))) == layout
    bad = dict(layout.to_json(), gateway_variable="$(rm -rf ~)")
    with pytest.raises(ValueError, match="not valid"):
        Layout.from_json(bad)
    with pytest.raises(KeyError):
        Layout.from_json({"billing": "unified"})
    # An entry cached before tagging or Access existed is a miss: the profile is read again.
    for added in ("metadata", "access"):
        before = {k: v for k, v in layout.to_json().items() if k != added}
        with pytest.raises(KeyError):
            Layout.from_json(before)


def test_a_metadata_header_naming_another_variable_is_the_users_own():
    theirs = read_provider({"env_key": CF, "env_http_headers": {"CF-AIG-Metadata": "MINE"}}, "p")
    assert theirs.layout is not None
    assert theirs.layout.metadata is False
    ours = read_provider(
        {"env_key": CF, "env_http_headers": {"CF-AIG-Metadata": METADATA_VARIABLE}}, "p"
    )
    assert ours.layout is not None
    assert ours.layout.metadata is True


def test_auth_command_args_read_back():
    for secret in Secret:
        assert read_auth_command_args(auth_command_args("p", secret)) == (secret, "p")
    assert read_auth_command_args(["token", "print", "--verbose"]) is None
    assert read_auth_command_args(["token", "print", "--which", "nope"]) is None


@given(st.text(max_size=12))
def test_variable_names_are_what_a_shell_accepts(name):
    expected = (
        bool(name)
        and (name[0].isascii() and (name[0].isalpha() or name[0] == "_"))
        and all(c.isascii() and (c.isalnum() or c == "_") for c in name)
    )
    assert valid_variable_name(name) is expected


# ---- Cloudflare Access: one more layout, no Cloudflare token

ACCESS_CASES = [
    # access, billing, headers written, secrets, hidden
    (Access.CLOUDFLARED, Billing.UNIFIED, {"cf-access-token": "CF_ACCESS_TOKEN"}, (), ()),
    (
        Access.SERVICE_TOKEN,
        Billing.UNIFIED,
        {
            "CF-Access-Client-Id": "CF_ACCESS_CLIENT_ID",
            "CF-Access-Client-Secret": "CF_ACCESS_CLIENT_SECRET",
        },
        (Secret.ACCESS_ID, Secret.ACCESS_SECRET),
        ("CF_ACCESS_CLIENT_ID", "CF_ACCESS_CLIENT_SECRET"),
    ),
    (
        Access.CLOUDFLARED,
        Billing.OWN_KEY,
        {"cf-access-token": "CF_ACCESS_TOKEN"},
        (Secret.OPENAI,),
        (OPENAI,),
    ),
]


@pytest.mark.parametrize("tagged", [False, True])
@pytest.mark.parametrize(("access", "billing", "headers", "secrets", "exported"), ACCESS_CASES)
def test_access_layouts_send_no_cloudflare_token(
    access, billing, headers, secrets, exported, tagged
):
    layout = Layout.chosen(billing, None, None, access=access, metadata=tagged)
    assert layout.access is access
    assert layout.access_headers == headers
    assert layout.secrets == secrets
    assert Secret.CLOUDFLARE not in layout.secrets
    assert not layout.sends_gateway_header
    # The request tags come last, with no secret in them; the Access token is cloudflared's.
    tag_export = (Export(METADATA_VARIABLE, None),) if tagged else ()
    assert layout.exports == (
        *((Export(OPENAI, Secret.OPENAI),) if billing is Billing.OWN_KEY else ()),
        *(Export(v, s) for v, s in zip(exported, secrets, strict=True) if v != OPENAI),
        *tag_export,
    )
    # Every Access variable is a secret hidden from the agent's commands, the JWT's too;
    # the tags' variable is hidden but is no secret.
    assert set(headers.values()) <= set(layout.secret_variables)
    assert layout.hidden_variables == (
        *layout.secret_variables,
        *[METADATA_VARIABLE] * tagged,
    )
    assert METADATA_VARIABLE not in layout.secret_variables
    assert CF not in layout.hidden_variables
    assert ("requests tagged" in layout.describe()) is tagged
    assert f"Cloudflare Access ({access.value})" in layout.describe()


@pytest.mark.parametrize("tagged", [False, True])
@pytest.mark.parametrize(("access", "billing", "headers", "secrets", "exported"), ACCESS_CASES)
def test_an_access_provider_reads_back_as_the_same_layout(
    access, billing, headers, secrets, exported, tagged
):
    layout = Layout.chosen(billing, None, None, access=access, metadata=tagged)
    written = dict(headers, **({"cf-aig-metadata": METADATA_VARIABLE} if tagged else {}))
    provider: dict[str, object] = {"env_http_headers": written}
    if layout.env_key:
        provider["env_key"] = layout.env_key
    reading = read_provider(provider, "work")
    assert reading.problems == ()
    assert reading.layout is not None
    for question in ("access", "metadata", "secrets", "exports", "hidden_variables"):
        assert getattr(reading.layout, question) == getattr(layout, question), question
    assert reading.layout.access_headers == headers
    assert Layout.from_json(json.loads(json.dumps(layout.to_json()))) == layout


def test_a_new_access_profile_is_tagged_and_keeps_its_choice():
    new = Layout.chosen(Billing.UNIFIED, None, None, access=Access.SERVICE_TOKEN)
    assert new.metadata is True
    untagged = new._replace(metadata=False)
    assert Layout.chosen(Billing.UNIFIED, None, None, untagged).metadata is False
    assert Layout.chosen(Billing.UNIFIED, None, None, untagged, metadata=True).metadata is True
    # Leaving Access keeps the tagging too.
    off = Layout.chosen(Billing.UNIFIED, None, None, new, access="off")
    assert (off.access, off.metadata) == (None, True)


def test_an_access_layout_with_tags_sends_both_header_sets():
    tagged = Layout.chosen(Billing.OWN_KEY, None, None, access=Access.CLOUDFLARED, metadata=True)
    # The tags are computed at each launch, not a credential: headers() carries credentials.
    assert tagged.headers({Secret.OPENAI: "sk-fake"}, "a.b.c") == {
        "authorization": "Bearer sk-fake",
        "cf-access-token": "a.b.c",
    }
    assert tagged.exports[-1] == Export(METADATA_VARIABLE, None)
    assert tagged.hidden_variables == (OPENAI, "CF_ACCESS_TOKEN", METADATA_VARIABLE)


def test_access_headers_carry_the_token_and_the_service_token_verbatim():
    cloudflared = Layout.chosen(Billing.UNIFIED, None, None, access=Access.CLOUDFLARED)
    assert cloudflared.headers({}, "a.b.c") == {"cf-access-token": "a.b.c"}
    assert cloudflared.headers({Secret.CLOUDFLARE: "cf-fake"}) == {}
    service = Layout.chosen(Billing.BYOK, None, None, access=Access.SERVICE_TOKEN)
    assert service.billing is Billing.UNIFIED  # the gateway decides which key pays
    values = {Secret.ACCESS_ID: "id.access", Secret.ACCESS_SECRET: "s3cret"}
    assert service.headers(values) == {
        "CF-Access-Client-Id": "id.access",
        "CF-Access-Client-Secret": "s3cret",
    }


def test_access_follows_the_previous_layout_until_turned_off():
    previous = Layout.chosen(Billing.UNIFIED, None, None, access=Access.CLOUDFLARED)
    assert Layout.chosen(Billing.UNIFIED, None, None, previous).access is Access.CLOUDFLARED
    assert Layout.chosen(Billing.UNIFIED, None, None, previous, access="off").access is None


def test_access_combinations_that_cannot_work_are_usage_errors():
    with pytest.raises(UsageError, match="replaces the gateway token"):
        Layout.chosen(Billing.UNIFIED, None, True, access=Access.CLOUDFLARED)
    with pytest.raises(UsageError, match="auth command feeds only the Authorization") as raised:
        Layout.chosen(Billing.OWN_KEY, AuthMode.COMMAND, None, access=Access.SERVICE_TOKEN)
    assert raised.value.fix == "codex-cf setup --access service-token --auth env"


@pytest.mark.parametrize(
    ("provider", "problem"),
    [
        ({"env_http_headers": {"cf-access-token": "MY_JWT"}}, "not from CF_ACCESS_TOKEN"),
        (
            {"env_http_headers": {"CF-Access-Client-Id": "CF_ACCESS_CLIENT_ID"}},
            "not from CF_ACCESS_CLIENT_SECRET",
        ),
        (
            {
                "env_key": CF,
                "env_http_headers": {"cf-access-token": "CF_ACCESS_TOKEN"},
            },
            "sends no Cloudflare token",
        ),
        (
            {
                "env_http_headers": {
                    "cf-access-token": "CF_ACCESS_TOKEN",
                    "CF-Access-Client-Id": "CF_ACCESS_CLIENT_ID",
                }
            },
            "both an Access token and a service token",
        ),
    ],
)
def test_a_broken_access_provider_says_what_is_wrong(provider, problem):
    reading = read_provider(provider, "work")
    assert reading.layout is None
    assert any(problem in p for p in reading.problems), reading.problems
