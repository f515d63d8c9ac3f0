"""A fake Cloudflare API, and AI Gateway's front door, on 127.0.0.1.

Answers follow what Cloudflare documents or users observed:

- token verify (`/client/v4/user/tokens/verify`, `/client/v4/accounts/<id>/tokens/verify`):
  200 `{"success": true, "result": {"id", "status": "active"|"disabled"|"expired"}}`
  (developers.cloudflare.com/api/.../tokens/methods/verify); message 10000 "This API
  Token is valid and active" for an active token. A token the endpoint does not know,
  including an account-owned token at the user endpoint, gets 401 with error 1000
  "Invalid API Token" (benvinegar/counterscale#268; the body as users pasted it).
- a gateway (`/client/v4/accounts/<id>/ai-gateway/gateways/<slug>`): 200 with the gateway
  object (`authentication`, `byok_only`, `cache_ttl`, ...); 404 `{"success": false,
  "errors": [{"code", "message"}]}` (Cloudflare's OpenAPI declares that shape, not the
  code number); a token without AI Gateway Read: 403, error 10000 "Authentication
  error"; a bad token: 400, error 1000.
- a missing or malformed Authorization header: 400, errors 9106 / 6003 with chained 6111.
- the gateway itself (`/v1/<account>/<slug>/openai/models`): an Authenticated Gateway
  without a good Cloudflare token answers 401 `{"success": false, "error": [{"code":
  2009, ...}]}` (docs PR cloudflare-docs#31050; the shape of an observed error 2001);
  past that the provider answers: a model list for a known key, else OpenAI's own 401.

Faults: `delay` (slow), `trickle` (a body that never ends), `outage` (503), `redirect_to`,
and `gather` (answers only requests that arrive together). For an unreachable API, point
the client at the fake after its `with` block: the port then refuses connections.

Configured per test, on construction or later through the attributes. Each request
is recorded with a digest of its credentials, never their values.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from helpers.tokens import digest

OMIT = object()  # a gateway setting whose key the answer leaves out

_BEARER = "Bearer "
_NOT_FOUND_CODE = 7002  # not established: the client goes by HTTP 404
_USER_VERIFY = re.compile(r"/client/v4/user/tokens/verify")
_ACCOUNT_VERIFY = re.compile(r"/client/v4/accounts/([^/]+)/tokens/verify")
_GATEWAY = re.compile(r"/client/v4/accounts/([^/]+)/ai-gateway/gateways/([^/]+)")
_GATEWAY_MODELS = re.compile(r"/v1/([^/]+)/([^/]+)/openai/models")

_GATEWAY_DEFAULTS: dict[str, Any] = {
    "authentication": False,
    "byok_only": False,
    "cache_invalidate_on_update": False,
    "cache_ttl": None,
    "collect_logs": True,
    "rate_limiting_interval": None,
    "rate_limiting_limit": None,
    "rate_limiting_technique": "fixed",
    "logpush": False,
    "zdr": False,
    "workers_ai_billing_mode": "postpaid",
    "created_at": "2026-01-01T00:00:00Z",
    "modified_at": "2026-01-01T00:00:00Z",
}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    authorization: str | None  # helpers.tokens.digest of the header's value
    cf_aig_authorization: str | None


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    location: str | None = None


def _json(status: int, document: Mapping[str, Any]) -> _Reply:
    return _Reply(status, json.dumps(document).encode())


def _failure(status: int, *errors: Mapping[str, Any]) -> _Reply:
    return _json(status, {"success": False, "errors": list(errors), "messages": [], "result": None})


class FakeCloudflareApi:
    """Serves inside a `with` block; `.url` is what CODEX_CF_API_BASE takes."""

    def __init__(
        self,
        *,
        user_tokens: Mapping[str, str] | None = None,
        account_tokens: Mapping[str, Mapping[str, str]] | None = None,
        gateways: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
        no_gateway_read: Iterable[str] = (),
        provider_keys: Iterable[str] = (),
        delay: float = 0.0,
        trickle: float = 0.0,
        outage: bool = False,
        redirect_to: str | None = None,
        gather: int = 0,
    ) -> None:
        self.user_tokens = dict(user_tokens or {})  # token -> "active" | "disabled" | "expired"
        self.account_tokens = {a: dict(t) for a, t in (account_tokens or {}).items()}
        self.gateways = {key: dict(value) for key, value in (gateways or {}).items()}
        self.no_gateway_read = set(no_gateway_read)  # tokens lacking AI Gateway Read
        self.provider_keys = set(provider_keys)  # keys the provider behind the gateway takes
        self.delay = delay  # seconds before every answer
        self.trickle = trickle  # seconds between the bytes of every body
        self.outage = outage  # every request answers 503
        self.redirect_to = redirect_to  # every request answers 302 to this base
        # Hold the first `gather` requests until all of them are in: only a client
        # that sends them at once gets answers (a serial one waits out the barrier).
        self._gathering = threading.Barrier(gather, timeout=30) if gather else None
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeCloudflareApi:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits out one poll
            name="fake-cloudflare-api",
            daemon=True,
        ).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()  # wakes handlers sleeping out a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Cloudflare API serves only inside its `with` block")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gateway_url(self, account: str, slug: str) -> str:
        """A provider base_url through this fake's gateway front door."""
        return f"{self.url}/v1/{account}/{slug}/openai"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def _answer(self, method: str, path: str, headers: Mapping[str, str]) -> _Reply:
        authorization = headers.get("authorization")
        cf_aig = headers.get("cf-aig-authorization")
        with self._lock:
            self._requests.append(Recorded(method, path, digest(authorization), digest(cf_aig)))
        if self._gathering is not None:
            try:
                self._gathering.wait()
            except threading.BrokenBarrierError:
                return _Reply(503, b"requests came one after another", "text/plain")
            self._gathering = None
        if self.delay:
            self._closing.wait(self.delay)
        if self.outage:
            return _Reply(503, b"Service Unavailable", "text/plain")
        if self.redirect_to:
            return _Reply(302, b"", "text/plain", location=self.redirect_to + path)
        route = path.split("?", 1)[0]
        if method != "GET":
            return _Reply(405, b"Method Not Allowed", "text/plain")
        if match := _GATEWAY_MODELS.fullmatch(route):
            return self._models(match[1], match[2], authorization, cf_aig)
        token, problem = _bearer(authorization)
        if problem is not None:
            return problem
        if _USER_VERIFY.fullmatch(route):
            return _verified(token, self.user_tokens.get(token))
        if match := _ACCOUNT_VERIFY.fullmatch(route):
            return _verified(token, self.account_tokens.get(match[1], {}).get(token))
        if match := _GATEWAY.fullmatch(route):
            return self._gateway(match[1], match[2], token)
        return _Reply(404, b"Not Found", "text/plain")

    def _active(self, token: str | None, account: str) -> bool:
        return token is not None and "active" in (
            self.user_tokens.get(token),
            self.account_tokens.get(account, {}).get(token),
        )

    def _gateway(self, account: str, slug: str, token: str) -> _Reply:
        if not self._active(token, account):
            return _failure(400, {"code": 1000, "message": "Invalid API Token"})
        if token in self.no_gateway_read:
            return _failure(403, {"code": 10000, "message": "Authentication error"})
        settings = self.gateways.get((account, slug))
        if settings is None:
            return _failure(404, {"code": _NOT_FOUND_CODE, "message": "Not Found"})
        gateway = {"id": slug, "account_id": account, **_GATEWAY_DEFAULTS, **settings}
        result = {key: value for key, value in gateway.items() if value is not OMIT}
        return _json(200, {"success": True, "errors": [], "messages": [], "result": result})

    def _models(
        self, account: str, slug: str, authorization: str | None, cf_aig: str | None
    ) -> _Reply:
        settings = self.gateways.get((account, slug))
        if settings is None:
            return _gateway_error(
                400, 2001, "Please configure AI Gateway in the Cloudflare dashboard"
            )
        key = authorization.removeprefix(_BEARER) if authorization else None
        if settings.get("authentication"):
            # The Cloudflare token: cf-aig-authorization, else (Unified Billing) Authorization.
            cloudflare = cf_aig.removeprefix(_BEARER) if cf_aig else key
            if not self._active(cloudflare, account):
                return _gateway_error(401, 2009, "Unauthorized")
        if key in self.provider_keys:
            model = {"id": "gpt-5.5", "object": "model", "created": 0, "owned_by": "openai"}
            return _json(200, {"object": "list", "data": [model]})
        if key is None or self._active(key, account):
            message = "You didn't provide an API key."
            code = None
        else:
            message = f"Incorrect API key provided: {key[:3]}***{key[-4:]}."
            code = "invalid_api_key"
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
        return _json(401, {"error": error})


def _gateway_error(status: int, code: int, message: str) -> _Reply:
    return _json(
        status,
        {
            "success": False,
            "result": [],
            "messages": [],
            "error": [{"code": code, "message": message}],
        },
    )


def _bearer(authorization: str | None) -> tuple[str, _Reply | None]:
    if authorization is None:
        missing = {
            "code": 9106,
            "message": "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
        }
        return "", _failure(400, missing)
    if not authorization.startswith(_BEARER) or len(authorization) == len(_BEARER):
        chain = [{"code": 6111, "message": "Invalid format for Authorization header"}]
        bad = {"code": 6003, "message": "Invalid request headers", "error_chain": chain}
        return "", _failure(400, bad)
    return authorization.removeprefix(_BEARER), None


def _verified(token: str, status: str | None) -> _Reply:
    if status is None:
        return _failure(401, {"code": 1000, "message": "Invalid API Token"})
    result: dict[str, Any] = {
        "id": hashlib.sha256(token.encode()).hexdigest()[:32],
        "status": status,
    }
    if status == "expired":
        result["expires_on"] = "2020-01-01T00:00:00Z"
    messages = (
        [{"code": 10000, "message": "This API Token is valid and active", "type": None}]
        if status == "active"
        else []
    )
    return _json(200, {"success": True, "errors": [], "messages": messages, "result": result})


def _handler_for(fake: FakeCloudflareApi) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            reply = fake._answer(self.command, self.path, headers)
            self.close_connection = True  # no body is ever read: never reuse the connection
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.location:
                    self.send_header("Location", reply.location)
                self.end_headers()
                if not fake.trickle:
                    self.wfile.write(reply.body)
                for index in range(len(reply.body) if fake.trickle else 0):
                    # Each byte arrives within any socket timeout; the whole never does.
                    self.wfile.write(reply.body[index : index + 1])
                    self.wfile.flush()
                    if fake._closing.wait(fake.trickle):
                        return
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a delay past its timeout)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: the request line is in `requests` already."""

    return Handler
