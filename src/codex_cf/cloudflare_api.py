"""What `token verify` and `doctor` ask Cloudflare, and the gateway probe.

Standard library only (doctor may run where nothing else works), every
request bounded by a timeout, and every outcome a value: a rejected token or
an unreachable API is something to tell the user, not a traceback. No result
carries the token: details are built from statuses and Cloudflare's own
messages, scrubbed of every credential sent.

Redirects are never followed: urllib would resend the Authorization header
to wherever a redirect points. Credentials go over https only, or plain
http to a loopback host (the tests' fakes), as for a profile's base_url.
"""

from __future__ import annotations

import enum
import http.client
import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from codex_cf import __version__, gateway_url
from codex_cf.bounded import DeadlineExceeded, call_with_deadline
from codex_cf.constants import API_BASE_DEFAULT, API_BASE_ENV, BEARER_PREFIX

DEFAULT_TIMEOUT = 10.0

_USER_AGENT = f"codex-cf/{__version__}"
_MAX_BODY = 1 << 20
_MAX_MESSAGE = 200
# Cloudflare tokens are printable ASCII without spaces; anything else cannot
# be one, and http.client would put the raw value in its ValueError.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
# Error codes that mean "this is not a usable token" rather than "this token
# may not do that": 1000 Invalid API Token; 6003 Invalid request headers and
# its chained 6111 Invalid format for Authorization header.
_TOKEN_REJECTED_CODES = frozenset({1000, 6003, 6111})


class TokenStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # disabled or expired: `cloudflare_status` says which
    INVALID = "invalid"  # Cloudflare rejected it
    UNREACHABLE = "unreachable"  # no verdict: DNS, TLS, connection, timeout, 429, 5xx


class TokenKind(enum.StrEnum):
    """Which verify endpoint gave the verdict."""

    USER = "user"
    ACCOUNT = "account"


class GatewayStatus(enum.StrEnum):
    FOUND = "found"
    MISSING = "missing"
    FORBIDDEN = "forbidden"  # the token lacks AI Gateway Read
    INVALID = "invalid"
    UNREACHABLE = "unreachable"


class ProbeStatus(enum.StrEnum):
    REACHABLE = "reachable"
    AUTH_REJECTED = "auth-rejected"  # the gateway itself refused the credentials
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class TokenVerdict:
    status: TokenStatus
    detail: str
    kind: TokenKind | None = None
    cloudflare_status: str | None = None  # "active", "disabled" or "expired" as Cloudflare said
    token_id: str | None = None  # Cloudflare's identifier tag, not the secret
    expires_on: str | None = None
    http_status: int | None = None


@dataclass(frozen=True)
class GatewayLookup:
    status: GatewayStatus
    detail: str
    authentication: bool = False  # Authenticated Gateway: requests need cf-aig-authorization
    byok_only: bool | None = None  # "Require provider credentials"; None: not in the answer
    # The gateway object as Cloudflare sent it, with any "authorization" value
    # (OpenTelemetry, Stripe) redacted; kept out of the repr all the same.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    http_status: int | None = None


@dataclass(frozen=True)
class GatewayProbe:
    status: ProbeStatus
    detail: str
    http_status: int | None = None
    # The gateway let the request through and the provider behind it refused
    # the credentials: a wrong own key, or (Unified Billing) no provider key
    # on a request that is not billed through Cloudflare.
    provider_rejected: bool = False


def verify_token(
    token: str,
    account_id: str | None,
    *,
    api_base: str | None = None,
    timeout: float | None = None,
) -> TokenVerdict:
    """Ask Cloudflare whether `token` is active.

    `GET /client/v4/user/tokens/verify` answers an account-owned token exactly
    as it answers a bad one (HTTP 401, error 1000 "Invalid API Token"), so a
    rejection there is checked again at `/client/v4/accounts/<id>/tokens/verify`
    when the account ID is known; that endpoint's verdict stands. Each of the
    (at most two) requests has its own `timeout`.
    """
    problem = _token_shape_problem(token)
    if problem:
        return TokenVerdict(TokenStatus.INVALID, problem)
    base = _api_base(api_base)
    user = _verify_at(
        f"{base}/client/v4/user/tokens/verify",
        token,
        TokenKind.USER,
        described="user token",
        rejected_as="a user token",
        timeout=timeout,
    )
    if user.status is not TokenStatus.INVALID:
        return user
    if not account_id:
        return replace(
            user,
            detail=f"{user.detail}; an account-owned token can only be checked with its account ID",
        )
    owner = f"account-owned token of account {account_id}"
    return _verify_at(
        f"{base}/client/v4/accounts/{_segment(account_id)}/tokens/verify",
        token,
        TokenKind.ACCOUNT,
        described=owner,
        rejected_as=f"both a user token and an {owner}",
        timeout=timeout,
    )


def gateway_settings(
    token: str,
    account_id: str,
    gateway: str,
    *,
    api_base: str | None = None,
    timeout: float | None = None,
) -> GatewayLookup:
    """Read a gateway's settings: `GET /client/v4/accounts/<id>/ai-gateway/gateways/<slug>`.

    Free, and needs AI Gateway Read. Cloudflare answers 403 with error 10000
    "Authentication error" when the token lacks that permission, and error
    1000 when the token itself is bad; 404 when there is no such gateway.
    """
    problem = _token_shape_problem(token)
    if problem:
        return GatewayLookup(GatewayStatus.INVALID, problem)
    base = _api_base(api_base)
    name = f"gateway {gateway!r} of account {account_id}"
    url = (
        f"{base}/client/v4/accounts/{_segment(account_id)}/ai-gateway/gateways/{_segment(gateway)}"
    )
    got = _get_envelope(url, token, base, timeout)
    if isinstance(got, _NoEnvelope):
        return GatewayLookup(GatewayStatus.UNREACHABLE, got.detail, http_status=got.http_status)
    code, envelope = got
    said = _cloudflare_said(code, envelope, (token,))
    result = envelope.get("result")
    if 200 <= code < 300 and envelope.get("success") is True and isinstance(result, dict):
        authentication = result.get("authentication") is True
        byok_only = result.get("byok_only")
        byok = byok_only if isinstance(byok_only, bool) else None
        return GatewayLookup(
            GatewayStatus.FOUND,
            f"Cloudflare has the {name}: authenticated gateway "
            f"{'on' if authentication else 'off'}, provider credentials required "
            f"(byok_only) {'on' if byok else 'off' if byok is False else 'not reported'}",
            authentication=authentication,
            byok_only=byok,
            raw=_redacted(result),
            http_status=code,
        )
    if code == 401 or _error_codes(envelope) & _TOKEN_REJECTED_CODES:
        return GatewayLookup(
            GatewayStatus.INVALID, f"Cloudflare rejected the token ({said})", http_status=code
        )
    if code == 403:
        return GatewayLookup(
            GatewayStatus.FORBIDDEN,
            f"the token may not read the {name}: "
            f"it needs the AI Gateway - Read permission ({said})",
            http_status=code,
        )
    if code in (400, 404):
        return GatewayLookup(
            GatewayStatus.MISSING, f"Cloudflare has no {name} ({said})", http_status=code
        )
    return GatewayLookup(
        GatewayStatus.UNREACHABLE, f"unexpected answer from Cloudflare ({said})", http_status=code
    )


def probe_gateway(
    base_url: str,
    headers: Mapping[str, str],
    *,
    timeout: float | None = None,
) -> GatewayProbe:
    """Prove DNS, TLS and the gateway's authentication with `GET <base_url>/models`.

    A model list runs no model and costs nothing, yet it passes through the
    gateway's checks like any request: an Authenticated Gateway refuses a
    missing or bad Cloudflare token with its own 401, error 2009 (Cloudflare
    docs PR #31050: "AiGatewayError", internal code 2009). Behind those
    checks the gateway forwards the GET to the provider, whose own 401
    (OpenAI's `{"error": {...}}`, a wrong own key, or no key at all where
    Unified Billing does not pay for a model list) means the gateway was
    passed: REACHABLE with `provider_rejected`. 401/403 in any other shape
    is the gateway's: AUTH_REJECTED. 5xx, timeouts and network errors:
    UNREACHABLE. Never a POST to /responses, which would run a model.

    `headers` are sent as given (Authorization, cf-aig-authorization);
    a value HTTP cannot carry is a caller's bug: ValueError naming the header.
    """
    for name, value in headers.items():
        if not _HEADER_VALUE.fullmatch(value):
            raise ValueError(f"the {name} header holds characters HTTP cannot carry")
    url = f"{base_url.rstrip('/')}/models"
    origin = _origin(url)
    secrets = _header_secrets(headers.values())
    try:
        answer = _get(url, headers, timeout)
    except _Unreachable as error:
        return GatewayProbe(
            ProbeStatus.UNREACHABLE, f"cannot reach the gateway at {origin}: {error}"
        )
    code = answer.status
    data = _json(answer.body)
    message = _first_message(data, secrets)
    said = f"HTTP {code}: {message}" if message else f"HTTP {code}"
    if code in (401, 403):
        if _is_provider_error(data):
            return GatewayProbe(
                ProbeStatus.REACHABLE,
                f"the gateway at {origin} let the request through; "
                f"the provider behind it refused the credentials ({said})",
                http_status=code,
                provider_rejected=True,
            )
        return GatewayProbe(
            ProbeStatus.AUTH_REJECTED,
            f"the gateway at {origin} refused the credentials ({said})",
            http_status=code,
        )
    if code >= 500:
        return GatewayProbe(
            ProbeStatus.UNREACHABLE,
            f"the gateway at {origin} answered with a server error ({said})",
            http_status=code,
        )
    return GatewayProbe(
        ProbeStatus.REACHABLE, f"the gateway at {origin} answered ({said})", http_status=code
    )


@dataclass(frozen=True)
class AccessGate:
    """What a custom domain answers a request without credentials."""

    protected: bool | None  # None: no answer at all
    detail: str


def probe_access(base_url: str, *, timeout: float | None = None) -> AccessGate:
    """`GET <base_url>/models` with no credentials: Cloudflare Access in front answers
    with a redirect to its sign-in page (302) or refuses (401/403) before the gateway
    sees anything; any other answer means the request got past, unprotected. Free."""
    url = f"{base_url.rstrip('/')}/models"
    origin = _origin(url)
    try:
        answer = _get(url, {}, timeout)
    except _Unreachable as error:
        return AccessGate(None, f"cannot reach {origin}: {error}")
    code = answer.status
    if code in (301, 302, 303, 307):
        return AccessGate(
            True, f"{origin} answers through Cloudflare Access (HTTP {code} to sign in)"
        )
    if code in (401, 403):
        return AccessGate(True, f"{origin} refuses requests without credentials (HTTP {code})")
    return AccessGate(
        False,
        f"{origin} answered HTTP {code} to a request without credentials: "
        "Cloudflare Access does not seem to protect it",
    )


class ReadStatus(enum.StrEnum):
    """How a read of a gateway's logs or analytics went."""

    OK = "ok"
    FORBIDDEN = "forbidden"  # the token may not read this
    INVALID = "invalid"  # Cloudflare rejected the token
    MISSING = "missing"  # 404: no such gateway, or no Logs API for it
    UNAVAILABLE = "unavailable"  # Cloudflare refused the query itself
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class LogsPage:
    status: ReadStatus
    detail: str
    logs: tuple[Mapping[str, Any], ...] = ()
    total_count: int | None = None  # every log in the period, all pages together
    http_status: int | None = None


@dataclass(frozen=True)
class AnalyticsRows:
    status: ReadStatus
    detail: str
    rows: tuple[Mapping[str, Any], ...] = ()


def gateway_logs(
    token: str,
    account_id: str,
    gateway: str,
    *,
    start: str,
    end: str,
    page: int = 1,
    per_page: int = 50,
    api_base: str | None = None,
    timeout: float | None = None,
) -> LogsPage:
    """One page of a gateway's request logs, newest first.

    `GET /client/v4/accounts/<id>/ai-gateway/gateways/<slug>/logs` (Cloudflare's
    API reference, "List Gateway Logs"; AI Gateway Read or Write). Query
    parameters used: `start_date`/`end_date` (date-time), `page`, `per_page`,
    `order_by=created_at`, `order_by_direction=desc`. Each log has `id`,
    `created_at`, `model`, `provider`, `success`, `tokens_in`, `tokens_out`,
    and optionally `cost`, `status_code` and `metadata` (the cf-aig-metadata
    JSON as a string); `result_info.total_count` counts every page. Cloudflare
    documents this API ("Legacy Logs") for accounts whose gateways log there;
    newer accounts log through Workers Observability. Free.
    """
    problem = _token_shape_problem(token)
    if problem:
        return LogsPage(ReadStatus.INVALID, problem)
    base = _api_base(api_base)
    query = urllib.parse.urlencode(
        {
            "start_date": start,
            "end_date": end,
            "page": page,
            "per_page": per_page,
            "order_by": "created_at",
            "order_by_direction": "desc",
        }
    )
    url = (
        f"{base}/client/v4/accounts/{_segment(account_id)}/ai-gateway/gateways/"
        f"{_segment(gateway)}/logs?{query}"
    )
    name = f"the logs of gateway {gateway!r} of account {account_id}"
    got = _get_envelope(url, token, base, timeout)
    if isinstance(got, _NoEnvelope):
        return LogsPage(ReadStatus.UNREACHABLE, got.detail, http_status=got.http_status)
    code, envelope = got
    said = _cloudflare_said(code, envelope, (token,))
    result = envelope.get("result")
    if 200 <= code < 300 and envelope.get("success") is True and isinstance(result, list):
        info = envelope.get("result_info")
        total = info.get("total_count") if isinstance(info, Mapping) else None
        logs = tuple(item for item in result if isinstance(item, Mapping))
        return LogsPage(
            ReadStatus.OK,
            f"Cloudflare sent {len(logs)} of {name}",
            logs,
            total if isinstance(total, int) and not isinstance(total, bool) else None,
            code,
        )
    status = _read_refusal(code, envelope)
    detail = {
        ReadStatus.INVALID: f"Cloudflare rejected the token ({said})",
        ReadStatus.FORBIDDEN: f"the token may not read {name}: "
        f"it needs the AI Gateway - Read permission ({said})",
        ReadStatus.MISSING: f"Cloudflare found no logs of gateway {gateway!r} "
        f"of account {account_id} ({said})",
    }.get(status, f"Cloudflare did not answer the query for {name} ({said})")
    return LogsPage(status, detail, http_status=code)


# GraphQL Analytics: Cloudflare's AI Gateway "Analytics" page queries the
# `aiGatewayRequestsAdaptiveGroups` dataset under viewer.accounts(accountTag)
# with `count` and the dimensions `model`, `provider`, `gateway` and
# `datetimeMinute`, filtered on `datetimeHour_geq`/`_leq`. The sums (`cost`,
# `erroredRequests`, `cachedTokensIn/Out`, `uncachedTokensIn/Out`) are the
# dataset's as public clients query it; the page names no metadata dimension.
_ANALYTICS_QUERY = """
query ($account: String!, $gateway: String!, $start: Time!, $end: Time!) {
  viewer {
    accounts(filter: {accountTag: $account}) {
      rows: aiGatewayRequestsAdaptiveGroups(
        limit: 10000
        filter: {gateway: $gateway, datetime_geq: $start, datetime_leq: $end}
        orderBy: [datetimeHour_ASC]
      ) {
        count
        sum {
          cost erroredRequests
          cachedTokensIn cachedTokensOut uncachedTokensIn uncachedTokensOut
        }
        dimensions { model datetimeHour }
      }
    }
  }
}
"""


def gateway_analytics(
    token: str,
    account_id: str,
    gateway: str,
    *,
    start: str,
    end: str,
    api_base: str | None = None,
    timeout: float | None = None,
) -> AnalyticsRows:
    """A gateway's request counts, tokens, cost and errors per hour and model.

    `POST /client/v4/graphql`, free. Serves every account, whichever way its
    gateways log, but knows nothing of cf-aig-metadata.
    """
    problem = _token_shape_problem(token)
    if problem:
        return AnalyticsRows(ReadStatus.INVALID, problem)
    base = _api_base(api_base)
    document = {
        "query": _ANALYTICS_QUERY,
        "variables": {"account": account_id, "gateway": gateway, "start": start, "end": end},
    }
    headers = {"Authorization": BEARER_PREFIX + token}
    try:
        answer = _get(f"{base}/client/v4/graphql", headers, timeout, json.dumps(document).encode())
    except _Unreachable as error:
        return AnalyticsRows(
            ReadStatus.UNREACHABLE, f"cannot reach the Cloudflare API at {base}: {error}"
        )
    code = answer.status
    trouble = _server_trouble(code, base)
    data = _json(answer.body)
    if trouble or not isinstance(data, Mapping):
        detail = trouble or _not_cloudflare(base, code)
        return AnalyticsRows(ReadStatus.UNREACHABLE, detail)
    errors = [e for e in data.get("errors") or [] if isinstance(e, Mapping)]
    accounts = _dig(data, "data", "viewer", "accounts")
    if 200 <= code < 300 and not errors and isinstance(accounts, list):
        rows = [
            row
            for account in accounts
            if isinstance(account, Mapping)
            for row in (account.get("rows") or [])
            if isinstance(row, Mapping)
        ]
        return AnalyticsRows(ReadStatus.OK, "Cloudflare sent the analytics", tuple(rows))
    message = _scrub("; ".join(str(e.get("message")) for e in errors if e.get("message")), (token,))
    said = f"HTTP {code}: {message}" if message else f"HTTP {code}"
    envelope = _envelope(answer.body) or {}
    if code == 401 or _error_codes(envelope) & _TOKEN_REJECTED_CODES:
        return AnalyticsRows(ReadStatus.INVALID, f"Cloudflare rejected the token ({said})")
    if code == 403 or "authoriz" in message.lower() or "permission" in message.lower():
        return AnalyticsRows(
            ReadStatus.FORBIDDEN,
            f"the token may not read the analytics of account {account_id} ({said})",
        )
    return AnalyticsRows(
        ReadStatus.UNAVAILABLE, f"Cloudflare did not answer the analytics query ({said})"
    )


def _read_refusal(code: int, envelope: Mapping[str, Any]) -> ReadStatus:
    if code == 401 or _error_codes(envelope) & _TOKEN_REJECTED_CODES:
        return ReadStatus.INVALID
    if code == 403:
        return ReadStatus.FORBIDDEN
    if code == 404:
        return ReadStatus.MISSING
    return ReadStatus.UNAVAILABLE


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes


class _Unreachable(Exception):
    """No HTTP answer; the message says why, in words."""


@dataclass(frozen=True)
class _NoEnvelope:
    """Why a read got no Cloudflare envelope; every caller reports it as unreachable."""

    detail: str
    http_status: int | None = None  # None: no HTTP answer at all


def _get_envelope(
    url: str, token: str, base: str, timeout: float | None
) -> tuple[int, dict[str, Any]] | _NoEnvelope:
    """GET a Cloudflare API read: its HTTP status and envelope, or why there is none."""
    try:
        answer = _get(url, {"Authorization": BEARER_PREFIX + token}, timeout)
    except _Unreachable as error:
        return _NoEnvelope(f"cannot reach the Cloudflare API at {base}: {error}")
    trouble = _server_trouble(answer.status, base)
    envelope = _envelope(answer.body)
    if trouble or envelope is None:
        return _NoEnvelope(trouble or _not_cloudflare(base, answer.status), answer.status)
    return answer.status, envelope


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then hands the 3xx back as an HTTPError


def _get(
    url: str, headers: Mapping[str, str], timeout: float | None, body: bytes | None = None
) -> _Answer:
    """One GET (a POST when there is a JSON `body`), bounded as a whole.

    The socket timeout alone misses DNS and trickling bodies.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    refusal = _insecure(url)
    if refusal:
        raise _Unreachable(refusal)
    sent = {"User-Agent": _USER_AGENT, **headers}
    if body is not None:
        sent["Content-Type"] = "application/json"
    # The scheme is http or https: _insecure refused anything else.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers=sent, method="GET" if body is None else "POST"
    )
    handlers: list[urllib.request.BaseHandler] = [
        _NoRedirect(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
    ]
    if urllib.parse.urlsplit(url).scheme == "http":
        # Plain http goes to loopback only, and never through a proxy, which would
        # see the Authorization header in clear.
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)

    def attempt() -> _Answer:
        try:
            with opener.open(request, timeout=timeout) as response:
                return _Answer(response.status, response.read(_MAX_BODY))
        except urllib.error.HTTPError as error:
            with error:
                return _Answer(error.code, error.read(_MAX_BODY))

    try:
        return call_with_deadline(attempt, timeout)
    except DeadlineExceeded:
        raise _Unreachable(f"no answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as error:
        raise _Unreachable(_network_trouble(error, timeout)) from None
    except ValueError:
        raise _Unreachable(f"{url!r} is not a usable URL") from None


def _network_trouble(error: BaseException, timeout: float) -> str:
    reason: object = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return "the host name does not resolve (DNS)"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"the TLS certificate check failed ({reason.verify_message})"
    if isinstance(reason, ssl.SSLError):
        return f"the TLS handshake failed ({reason.reason or 'no reason given'})"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionError):
        return "the connection was dropped"
    if isinstance(reason, http.client.HTTPException):
        return "the answer was not valid HTTP"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def _insecure(url: str) -> str | None:
    """Why credentials must not go to `url`, or None when they may."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and gateway_url.is_loopback_host(parts.hostname):
        return None
    return "codex-cf sends credentials only over https, or plain http to a loopback host"


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _api_base(explicit: str | None) -> str:
    return (explicit or os.environ.get(API_BASE_ENV) or API_BASE_DEFAULT).rstrip("/")


def _segment(value: str) -> str:
    """One path segment: an ID cannot reach another endpoint."""
    return urllib.parse.quote(value, safe="")


def _token_shape_problem(token: str) -> str | None:
    if not token:
        return "the token is empty"
    if not _TOKEN_SHAPE.fullmatch(token):
        return (
            "the token holds spaces or characters outside printable ASCII, "
            "which no Cloudflare token does"
        )
    return None


def _verify_at(
    url: str,
    token: str,
    kind: TokenKind,
    *,
    described: str,
    rejected_as: str,
    timeout: float | None,
) -> TokenVerdict:
    got = _get_envelope(url, token, _origin(url), timeout)
    if isinstance(got, _NoEnvelope):
        return TokenVerdict(TokenStatus.UNREACHABLE, got.detail, kind, http_status=got.http_status)
    code, envelope = got
    said = _cloudflare_said(code, envelope, (token,))
    result = envelope.get("result")
    if 200 <= code < 300 and envelope.get("success") is True and isinstance(result, dict):
        status, detail = _token_state(result, described)
        return TokenVerdict(
            status,
            detail,
            kind,
            cloudflare_status=_text(result.get("status")),
            token_id=_text(result.get("id")),
            expires_on=_text(result.get("expires_on")),
            http_status=code,
        )
    if 400 <= code < 500:
        detail = f"Cloudflare rejected the token as {rejected_as} ({said})"
        return TokenVerdict(TokenStatus.INVALID, detail, kind, http_status=code)
    detail = f"unexpected answer from Cloudflare ({said})"
    return TokenVerdict(TokenStatus.UNREACHABLE, detail, kind, http_status=code)


def _token_state(result: Mapping[str, Any], described: str) -> tuple[TokenStatus, str]:
    state = result.get("status")
    expires_on = _text(result.get("expires_on"))
    if state == "active":
        until = f"; it expires on {expires_on}" if expires_on else ""
        return TokenStatus.ACTIVE, f"Cloudflare says the token is active ({described}){until}"
    if state == "disabled":
        return TokenStatus.INACTIVE, f"Cloudflare says the token is disabled ({described})"
    if state == "expired":
        when = f" on {expires_on}" if expires_on else ""
        return TokenStatus.INACTIVE, f"Cloudflare says the token expired{when} ({described})"
    return (
        TokenStatus.UNREACHABLE,
        f"Cloudflare answered with a token status codex-cf does not know: {_text(state)!r}",
    )


def _server_trouble(code: int, base: str) -> str | None:
    """Answers that give no verdict: rate limits, server errors, redirects."""
    if code == 429:
        return "Cloudflare is rate-limiting requests (HTTP 429); try again in a minute"
    if code >= 500:
        return f"the Cloudflare API at {base} has a server error (HTTP {code})"
    if 300 <= code < 400:
        return (
            f"{base} answered with a redirect (HTTP {code}), "
            "which codex-cf does not follow with a token"
        )
    return None


def _not_cloudflare(base: str, code: int) -> str:
    return (
        f"the answer from {base} (HTTP {code}) is not the Cloudflare API's; "
        f"check {API_BASE_ENV} if it is set"
    )


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:  # also UnicodeDecodeError
        return None


def _envelope(body: bytes) -> dict[str, Any] | None:
    """Cloudflare's `{"success": bool, "errors": [...], "result": ...}`, or None."""
    data = _json(body)
    if isinstance(data, dict) and isinstance(data.get("success"), bool):
        return data
    return None


def _error_items(envelope: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Errors and their `error_chain`s, flattened."""
    items: list[Mapping[str, Any]] = []
    pending = list(envelope.get("errors") or [])
    while pending:
        item = pending.pop(0)
        if isinstance(item, Mapping):
            items.append(item)
            pending.extend(item.get("error_chain") or [])
    return items


def _error_codes(envelope: Mapping[str, Any]) -> set[int]:
    return {item["code"] for item in _error_items(envelope) if isinstance(item.get("code"), int)}


def _cloudflare_said(code: int, envelope: Mapping[str, Any], secrets: Iterable[str]) -> str:
    messages = [
        f"{item['message']} ({item['code']})"
        if isinstance(item.get("code"), int)
        else item["message"]
        for item in _error_items(envelope)
        if isinstance(item.get("message"), str)
    ]
    text = _scrub("; ".join(messages), secrets)
    return f"HTTP {code}: {text}" if text else f"HTTP {code}"


def _first_message(data: object, secrets: Iterable[str]) -> str:
    """The first `message` string anywhere in a JSON answer, scrubbed and shortened."""
    if isinstance(data, Mapping):
        if isinstance(data.get("message"), str):
            return _scrub(data["message"], secrets)
        values: Iterable[object] = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return ""
    for value in values:
        found = _first_message(value, secrets)
        if found:
            return found
    return ""


def _is_provider_error(data: object) -> bool:
    """OpenAI's error object `{"error": {"message", "type", "code": str}}`, not AI Gateway's.

    AI Gateway's own errors come as `{"success": false, "error": [{"code": 2009, ...}]}`
    or name `AiGatewayError` with an `internalCode`.
    """
    return (
        isinstance(data, Mapping)
        and "success" not in data
        and isinstance(data.get("error"), Mapping)
        and not _gateway_error(data)
    )


def _gateway_error(data: object) -> bool:
    if isinstance(data, Mapping):
        code = data.get("code")
        if data.get("name") == "AiGatewayError" or "internalCode" in data:
            return True
        if isinstance(code, int) and 2000 <= code < 3000:
            return True
        return any(_gateway_error(value) for value in data.values())
    if isinstance(data, list):
        return any(_gateway_error(value) for value in data)
    return False


def _header_secrets(values: Iterable[str]) -> list[str]:
    secrets: list[str] = []
    for value in values:
        secrets.append(value)
        if value.startswith(BEARER_PREFIX):
            secrets.append(value.removeprefix(BEARER_PREFIX))
    return secrets


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """Servers may echo a credential back; it never reaches a detail."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _redacted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: "<redacted>" if str(key).lower() == "authorization" else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value
