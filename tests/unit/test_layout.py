"""The layout model: every question about secrets, variables and headers, both ways."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_cf.constants import Access, AuthMode, Billing, Secret
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


@pytest.mark.parametrize(
    ("billing", "mode", "authenticated", "secrets", "exports", "hidden"), CASES
)
def test_each_layout_answers_every_question(billing, mode, authenticated, secrets, exports, hidden):
    layout = Layout.chosen(billing, mode, authenticated)
    assert layout.secrets == secrets
    assert layout.exports == tuple(Export(*e) for e in exports)
    assert layout.hidden_variables == hidden
    # Every exported variable is hidden from the agent's commands.
    assert {e.variable for e in layout.exports} <= set(layout.hidden_variables)


@pytest.mark.parametrize(
    ("billing", "mode", "authenticated", "secrets", "exports", "hidden"), CASES
)
def test_a_written_provider_reads_back_as_the_same_layout(
    billing, mode, authenticated, secrets, exports, hidden
):
    layout = Layout.chosen(billing, mode, authenticated)
    provider: dict[str, object] = {}
    if layout.env_key:
        provider["env_key"] = layout.env_key
    if layout.command_secret is not None:
        provider["auth"] = {
            "command": "/usr/bin/codex-cf",
            "args": auth_command_args("work", layout.command_secret),
        }
    if layout.sends_gateway_header:
        provider["env_http_headers"] = {"cf-aig-authorization": layout.gateway_variable}
    reading = read_provider(provider, "work")
    assert reading.problems == ()
    assert reading.layout is not None
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
    chosen = Layout.chosen(Billing.UNIFIED, AuthMode.ENV, True).keeping_names_of(existing)
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


@pytest.mark.parametrize(("access", "billing", "headers", "secrets", "exported"), ACCESS_CASES)
def test_access_layouts_send_no_cloudflare_token(access, billing, headers, secrets, exported):
    layout = Layout.chosen(billing, None, None, access=access)
    assert layout.access is access
    assert layout.access_headers == headers
    assert layout.secrets == secrets
    assert Secret.CLOUDFLARE not in layout.secrets
    assert not layout.sends_gateway_header
    assert tuple(e.variable for e in layout.exports) == (
        (OPENAI,) if billing is Billing.OWN_KEY else ()
    ) + tuple(v for v in exported if v != OPENAI)
    # Every Access variable is hidden from the agent's commands, the JWT's too.
    assert set(headers.values()) <= set(layout.hidden_variables)
    assert CF not in layout.hidden_variables


@pytest.mark.parametrize(("access", "billing", "headers", "secrets", "exported"), ACCESS_CASES)
def test_an_access_provider_reads_back_as_the_same_layout(
    access, billing, headers, secrets, exported
):
    layout = Layout.chosen(billing, None, None, access=access)
    provider: dict[str, object] = {"env_http_headers": dict(headers)}
    if layout.env_key:
        provider["env_key"] = layout.env_key
    reading = read_provider(provider, "work")
    assert reading.problems == ()
    assert reading.layout is not None
    for question in ("access", "billing", "secrets", "exports", "hidden_variables"):
        assert getattr(reading.layout, question) == getattr(layout, question), question
    assert reading.layout.access_headers == headers
    assert Layout.from_json(json.loads(json.dumps(layout.to_json()))) == layout


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
    assert Layout.chosen(Billing.UNIFIED, None, None, previous, "off").access is None


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
