"""The auth layout: how a profile's billing, auth mode and gateway authentication become
secrets, exported variables, hidden variables and headers.

The one model every part asks: setup builds a layout from the user's choices and
writes its provider keys, the profile rules read one back from a provider table,
the launch caches it and exports what it says, doctor and the self-test compare
what the gateway receives with what it says. A new layout is a change here.

Standard library only and cheap to import: a warm launch reads a cached layout.
"""

from __future__ import annotations

from codex_cf.constants import (
    ACCESS_SERVICE_HEADERS,
    ACCESS_TOKEN_HEADER,
    ACCESS_TOKEN_VARIABLE,
    BEARER_PREFIX,
    GATEWAY_AUTH_HEADER,
    GATEWAY_AUTH_VARIABLE,
    METADATA_HEADER,
    METADATA_VARIABLE,
    SECRET_VARIABLE,
    Access,
    AuthMode,
    Billing,
    Secret,
)
from codex_cf.errors import UsageError
from codex_cf.profile_names import read_auth_command_args
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal

AUTH_COMMAND_TIMEOUT_MS = 15000
"""Codex waits this long for `codex-cf token print`: the bounded keyring calls plus
interpreter start-up on a loaded machine."""
CODEX_AUTH_TIMEOUT_DEFAULT_MS = 5000
"""What Codex waits when an auth table sets no timeout_ms (one written by hand)."""

# What the Authorization header carries in each billing layout (byok sends none:
# the provider key is stored in Cloudflare).
_AUTHORIZATION_SECRET = {
    Billing.UNIFIED: Secret.CLOUDFLARE,
    Billing.OWN_KEY: Secret.OPENAI,
}


class Export(NamedTuple):
    """A variable codex-cf sets for Codex: a secret, maybe with `Bearer ` in front, or
    (no secret) the launch's request tags, computed afresh at each launch."""

    variable: str
    secret: Secret | None
    prefix: str = ""


def valid_variable_name(name: object) -> bool:
    """What Codex and a POSIX shell take as a variable name: [A-Za-z_][A-Za-z0-9_]*."""
    return (
        isinstance(name, str)
        and name.isascii()
        and name.isidentifier()
        and all(c.isalnum() or c == "_" for c in name)
    )


def secret_for_env_key(env_key: str) -> Secret:
    """The Authorization secret an env_key carries: OPENAI_API_KEY is an OpenAI key."""
    return Secret.OPENAI if env_key == SECRET_VARIABLE[Secret.OPENAI] else Secret.CLOUDFLARE


class Layout(NamedTuple):
    """One profile's way of authenticating; the variable names default to the usual ones."""

    billing: Billing = Billing.UNIFIED
    auth_mode: AuthMode = AuthMode.ENV
    authenticated_gateway: bool = False
    authorization_variable: str | None = None  # env mode's env_key; None: the usual one
    gateway_variable: str = GATEWAY_AUTH_VARIABLE
    access: Access | None = None  # Cloudflare Access in front of a custom domain
    metadata: bool = False  # requests tagged with cf-aig-metadata (setup's default: on)

    @classmethod
    def chosen(  # noqa: PLR0913  # one argument per setup option, and the previous layout
        cls,
        billing: Billing,
        auth_mode: AuthMode | None,
        authenticated_gateway: bool | None,
        previous: Layout | None = None,
        *,
        access: Access | Literal["off"] | None = None,
        metadata: bool | None = None,
    ) -> Layout:
        """A layout from setup's choices; a combination that cannot work is a usage error.

        What the user left open (None) follows the previous layout where it still fits:
        its auth mode, its tagging, its gateway authentication when the billing is the
        same, and its Cloudflare Access (until `access` is "off"). A new profile tags its
        requests.
        """
        if metadata is None:
            metadata = previous.metadata if previous is not None else True
        if access is None and previous is not None:
            access = previous.access
        if isinstance(access, Access):
            return cls._behind_access(billing, auth_mode, authenticated_gateway, access, metadata)
        if billing is Billing.BYOK:
            if authenticated_gateway is False:
                raise UsageError(
                    "keys stored in Cloudflare (byok) need an authenticated gateway",
                    "drop --open-gateway, and turn on Authenticated Gateway in the dashboard",
                )
            if auth_mode is AuthMode.COMMAND:
                raise UsageError(
                    "byok sends only the cf-aig-authorization header, which Codex reads from "
                    "the environment, so command auth has nothing to hand over",
                    "codex-cf setup --billing byok --auth env",
                )
            return cls(billing, AuthMode.ENV, True, metadata=metadata)
        if auth_mode is None:
            auth_mode = previous.auth_mode if previous is not None else AuthMode.ENV
        if authenticated_gateway is None:
            authenticated_gateway = (
                previous is not None
                and previous.billing is billing
                and previous.authenticated_gateway
            )
        return cls(billing, auth_mode, authenticated_gateway, metadata=metadata)

    @classmethod
    def _behind_access(
        cls,
        billing: Billing,
        auth_mode: AuthMode | None,
        authenticated_gateway: bool | None,
        access: Access,
        metadata: bool,
    ) -> Layout:
        """Access's credential replaces the Cloudflare token: the gateway accepts a valid
        Access token as the request's credential, and which key pays (Unified Billing or
        keys stored in Cloudflare) is the gateway's setting, so both send the same."""
        if authenticated_gateway:
            raise UsageError(
                "behind Cloudflare Access the Access credential replaces the gateway token, "
                "so the profile sends no cf-aig-authorization",
                f"codex-cf setup --access {access.value} (without --authenticated-gateway)",
            )
        if auth_mode is AuthMode.COMMAND:
            raise UsageError(
                "Codex's auth command feeds only the Authorization header, and Cloudflare "
                "Access reads its own headers, which Codex takes only from the environment",
                f"codex-cf setup --access {access.value} --auth env",
            )
        if billing is Billing.BYOK:
            billing = Billing.UNIFIED
        return cls(billing, AuthMode.ENV, False, access=access, metadata=metadata)

    def keeping_names_of(self, existing: Layout | None) -> Layout:
        """This layout with the variable names an existing profile already uses for the
        same secrets, so setup changes only what the user's choice changes."""
        if existing is None:
            return self
        kept = self
        if (
            existing.authorization_variable is not None
            and existing.authorization is self.authorization
        ):
            kept = kept._replace(authorization_variable=existing.authorization_variable)
        if existing.sends_gateway_header:
            kept = kept._replace(gateway_variable=existing.gateway_variable)
        return kept

    @property
    def authorization(self) -> Secret | None:
        """The secret the Authorization header carries, if any (behind Access, only an own
        OpenAI key: no Cloudflare token is sent)."""
        if self.access is not None and self.billing is not Billing.OWN_KEY:
            return None
        return _AUTHORIZATION_SECRET.get(self.billing)

    @property
    def sends_gateway_header(self) -> bool:
        if self.access is not None:
            return False
        return self.billing is Billing.BYOK or self.authenticated_gateway

    @property
    def access_token_variable(self) -> str | None:
        """The variable holding the Access token (`cloudflared access token`), if any."""
        return ACCESS_TOKEN_VARIABLE if self.access is Access.CLOUDFLARED else None

    @property
    def access_headers(self) -> dict[str, str]:
        """Cloudflare Access's headers, each with the variable Codex reads it from."""
        if self.access is Access.CLOUDFLARED:
            return {ACCESS_TOKEN_HEADER: ACCESS_TOKEN_VARIABLE}
        if self.access is Access.SERVICE_TOKEN:
            return {h: SECRET_VARIABLE[s] for s, h in ACCESS_SERVICE_HEADERS.items()}
        return {}

    @property
    def env_key(self) -> str | None:
        """The provider's env_key: env mode's Authorization variable, else none."""
        secret = self.authorization
        if secret is None or self.auth_mode is not AuthMode.ENV:
            return None
        return self.authorization_variable or SECRET_VARIABLE[secret]

    @property
    def command_secret(self) -> Secret | None:
        """Command mode: the secret Codex asks codex-cf for."""
        return self.authorization if self.auth_mode is AuthMode.COMMAND else None

    @property
    def secrets(self) -> tuple[Secret, ...]:
        """The keyring items this layout needs, the Cloudflare token first."""
        needed = []
        if self.authorization is Secret.CLOUDFLARE or self.sends_gateway_header:
            needed.append(Secret.CLOUDFLARE)
        if self.authorization is Secret.OPENAI:
            needed.append(Secret.OPENAI)
        if self.access is Access.SERVICE_TOKEN:
            needed.extend(ACCESS_SERVICE_HEADERS)
        return tuple(needed)

    @property
    def exports(self) -> tuple[Export, ...]:
        """The variables codex-cf sets for Codex alone at each launch."""
        found = []
        env_key = self.env_key
        if env_key is not None and self.authorization is not None:
            found.append(Export(env_key, self.authorization))
        if self.sends_gateway_header:
            found.append(Export(self.gateway_variable, Secret.CLOUDFLARE, BEARER_PREFIX))
        if self.access is Access.SERVICE_TOKEN:
            found.extend(Export(SECRET_VARIABLE[s], s) for s in ACCESS_SERVICE_HEADERS)
        if self.metadata:  # no secret: exported in command mode too
            found.append(Export(METADATA_VARIABLE, None))
        return tuple(found)

    @property
    def secret_variables(self) -> tuple[str, ...]:
        """What the agent's commands must not see: every variable exported with a secret,
        the Access token's, and each needed secret's usual variable, which users following
        Cloudflare's page export in their own shell whatever the mode."""
        names = [e.variable for e in self.exports if e.secret is not None]
        if self.access_token_variable is not None:
            names.append(self.access_token_variable)
        for secret in (self.authorization, *self.secrets):  # Authorization's first
            if secret is not None and SECRET_VARIABLE[secret] not in names:
                names.append(SECRET_VARIABLE[secret])
        return tuple(names)

    @property
    def hidden_variables(self) -> tuple[str, ...]:
        """What setup keeps from the agent's commands: the secret variables, and the
        request tags too. Those hold no secret, but they name this launch: a Codex the
        agent starts is another session and must not send requests under its id."""
        tags = (METADATA_VARIABLE,) if self.metadata else ()
        return (*self.secret_variables, *tags)

    def headers(
        self, values: Mapping[Secret, str], access_token: str | None = None
    ) -> dict[str, str]:
        """The credential headers the gateway receives, given each secret's value and,
        behind Access with cloudflared, the current Access token."""
        sent = {}
        secret = self.authorization
        if secret is not None and secret in values:
            sent["authorization"] = BEARER_PREFIX + values[secret]
        if self.sends_gateway_header and Secret.CLOUDFLARE in values:
            sent[GATEWAY_AUTH_HEADER] = BEARER_PREFIX + values[Secret.CLOUDFLARE]
        if self.access is Access.CLOUDFLARED and access_token is not None:
            sent[ACCESS_TOKEN_HEADER] = access_token
        if self.access is Access.SERVICE_TOKEN:
            for part, header in ACCESS_SERVICE_HEADERS.items():
                if part in values:
                    sent[header] = values[part]
        return sent

    def describe(self) -> str:
        """One phrase for doctor and setup."""
        gateway = ", authenticated gateway" if self.authenticated_gateway else ""
        if self.billing is Billing.BYOK:
            gateway = ""
        tagged = ", requests tagged" if self.metadata else ""
        if self.access is not None:
            billing = "own-key" if self.billing is Billing.OWN_KEY else "by the gateway"
            return f"Cloudflare Access ({self.access.value}), billing {billing}{tagged}"
        return f"auth mode {self.auth_mode.value}, billing {self.billing.value}{gateway}{tagged}"

    def to_json(self) -> dict[str, Any]:
        return {
            "billing": self.billing.value,
            "auth_mode": self.auth_mode.value,
            "authenticated_gateway": self.authenticated_gateway,
            "authorization_variable": self.authorization_variable,
            "gateway_variable": self.gateway_variable,
            "access": None if self.access is None else self.access.value,
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Layout:
        """Raises KeyError, TypeError or ValueError on an entry of another shape."""
        layout = cls(
            Billing(data["billing"]),
            AuthMode(data["auth_mode"]),
            bool(data["authenticated_gateway"]),
            data["authorization_variable"],
            data["gateway_variable"],
            None if data["access"] is None else Access(data["access"]),
            data["metadata"] is True,
        )
        if not valid_variable_name(layout.gateway_variable) or not (
            layout.authorization_variable is None
            or valid_variable_name(layout.authorization_variable)
        ):
            raise ValueError("a variable name in the cached layout is not valid")
        return layout


class ProviderReading(NamedTuple):
    """A provider table read back, leniently: setup reads broken ones too."""

    layout: Layout | None  # None when the provider says too little to tell
    auth_command: str | None
    problems: tuple[str, ...]


def _table(value: object) -> Mapping[str, Any]:
    import collections.abc  # read_provider is the profile check's, off the launch path

    return value if isinstance(value, collections.abc.Mapping) else {}


def _header_variable(headers: Mapping[str, Any], header: str) -> str | None:
    """The variable env_http_headers names for a header, whatever the header's case."""
    return next(
        (v for h, v in headers.items() if str(h).lower() == header and isinstance(v, str)),
        None,
    )


def _access_problems(
    access: Access | None, provider: Mapping[str, Any], cloudflare_token_sent: bool
) -> list[str]:
    """What a provider behind Access must not have."""
    problems = []
    if access is not None and provider.get("auth") is not None:
        problems.append(
            "behind Cloudflare Access the profile has no auth table (Codex's auth "
            "command cannot send Access's headers)"
        )
    if access is not None and cloudflare_token_sent:
        problems.append(
            "behind Cloudflare Access the profile sends no Cloudflare token "
            "(the Access credential replaces it)"
        )
    return problems


def _read_access(headers: Mapping[str, Any], problems: list[str]) -> Access | None:
    """Which Cloudflare Access credential env_http_headers sends, from the variables
    codex-cf exports; anything else there is a problem to report."""
    sent = {str(h).lower(): v for h, v in headers.items()}
    found = {}
    for layout in (Layout(access=Access.CLOUDFLARED), Layout(access=Access.SERVICE_TOKEN)):
        named = {h: sent.get(h.lower()) for h in layout.access_headers}
        if any(v is not None for v in named.values()):
            found[layout.access] = named, layout.access_headers
    if not found:
        return None
    if len(found) > 1:
        problems.append("env_http_headers sends both an Access token and a service token")
        return None
    access, (named, wanted) = next(iter(found.items()))
    for header, variable in named.items():
        if variable != wanted[header]:
            problems.append(
                f"env_http_headers sends {header} from {variable!r}, not from "
                f"{wanted[header]}, which codex-cf exports"
            )
    return access


def read_provider(provider: Mapping[str, Any], profile: str) -> ProviderReading:
    """The layout a [model_providers.*] table describes, and what is wrong with it.

    `auth.command` is returned as written; whether it is an installed codex-cf is
    for the caller, which knows how to recognise one.
    """
    env_key = provider.get("env_key")
    auth = provider.get("auth")
    headers = _table(provider.get("env_http_headers"))
    gateway_variable = _header_variable(headers, GATEWAY_AUTH_HEADER)
    problems: list[str] = []
    access = _read_access(headers, problems)
    authorization: Secret | None = None
    auth_command: str | None = None
    authorization_variable: str | None = None
    if env_key is not None:
        if valid_variable_name(env_key):
            authorization_variable = env_key
        else:
            problems.append(f"env_key {env_key!r} is not a valid variable name")
    if auth is not None:
        mode = AuthMode.COMMAND
        auth_table = _table(auth)
        if env_key is not None:
            problems.append("the provider has both env_key and auth (Codex refuses to start)")
        command = auth_table.get("command")
        auth_command = command if isinstance(command, str) else None
        asked = read_auth_command_args(auth_table.get("args"))
        authorization = asked[0] if asked else None
        if asked is None or asked[1] != profile:
            problems.append(f"auth.args do not run `token print --profile {profile}`")
        authorization_variable = None
    else:
        mode = AuthMode.ENV
        if authorization_variable is not None:
            authorization = secret_for_env_key(authorization_variable)
    if gateway_variable is not None and not valid_variable_name(gateway_variable):
        problems.append(f"env_http_headers names {gateway_variable!r}, not a valid variable name")
        gateway_variable = None
    problems += _access_problems(
        access, provider, gateway_variable is not None or authorization is Secret.CLOUDFLARE
    )
    if authorization is None and gateway_variable is None and access is None:
        if not problems:
            problems.append("the provider sends no token: no env_key, auth table or gateway header")
        return ProviderReading(None, auth_command, tuple(problems))
    if problems and access is not None:
        return ProviderReading(None, auth_command, tuple(problems))
    if authorization is Secret.OPENAI:
        billing = Billing.OWN_KEY
    elif authorization is None and access is not None:
        billing = Billing.UNIFIED
    elif authorization is None:
        billing = Billing.BYOK
    else:
        billing = Billing.UNIFIED
    layout = Layout(
        billing,
        mode,
        gateway_variable is not None,
        authorization_variable if mode is AuthMode.ENV else None,
        gateway_variable or GATEWAY_AUTH_VARIABLE,
        access,
        _header_variable(headers, METADATA_HEADER) == METADATA_VARIABLE,
    )
    return ProviderReading(layout, auth_command, tuple(problems))
