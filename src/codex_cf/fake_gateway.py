"""A stand-in Cloudflare AI Gateway on 127.0.0.1 that speaks the Responses API.

It lets the real Codex run a whole turn for free and offline: the first
request is answered with a call to Codex's shell tool (by default
`printenv CLOUDFLARE_API_KEY`), the request carrying that command's output
with a short assistant message. What arrived is recorded so the end-to-end
tests and `doctor --self-test` can check the path, the headers and what the
agent's command could read. Standard library only; header values are never
logged or shown in a repr, since they carry the token.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

DEFAULT_COMMAND = "printenv CLOUDFLARE_API_KEY"
DEFAULT_REPLY = "codex-cf fake gateway: turn complete"
TITLE = "codex-cf fake gateway"
ACCESS_LOGIN_URL = "https://codex-cf-test.cloudflareaccess.com/cdn-cgi/access/login"
CALL_ID_PREFIX = "call_codex_cf_"

_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": None,
    "output_tokens": 0,
    "output_tokens_details": None,
    "total_tokens": 0,
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived; headers and body stay out of the repr (they hold secrets)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: Any = field(repr=False)

    def header_values(self, name: str) -> list[str]:
        """Every value sent under `name` (any case): a repeated header is visible."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None


def shell_call_arguments(tools: object, command: str) -> tuple[str, dict[str, Any]] | None:
    """The shell tool Codex offers and the arguments that run `command` with it.

    Codex 0.169.0 offers `exec_command` (a `cmd` string); other versions have
    offered `shell_command` (a `command` string) or `shell` (an argv list).
    """
    offered = set()
    if isinstance(tools, list):
        offered = {t.get("name") for t in tools if isinstance(t, dict)}
    if "exec_command" in offered:
        return "exec_command", {"cmd": command}
    if "shell_command" in offered:
        return "shell_command", {"command": command}
    if "shell" in offered:
        return "shell", {"command": ["bash", "-lc", command]}
    return None


def _output_text(output: object) -> str:
    """A function_call_output's `output`: a string, or a list of content items."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(str(item.get("text", "")) for item in output if isinstance(item, dict))
    return "" if output is None else json.dumps(output)


def sse(events: Sequence[Mapping[str, Any]]) -> bytes:
    """Server-sent events as the Responses API frames them."""
    return "".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events
    ).encode()


class FakeGateway:
    """Serves from construction until `stop()` (or the end of a `with` block)."""

    def __init__(
        self,
        account_id: str,
        gateway: str,
        command: str = DEFAULT_COMMAND,
        *,
        reply: str = DEFAULT_REPLY,
        access: Callable[[RecordedRequest], bool | None] | None = None,
    ) -> None:
        """`access`: stand in for Cloudflare Access in front of a custom domain, served at
        /openai as a gateway's own host is. It judges each request's credentials (None:
        none sent, answered 302 to a sign-in page; False: refused, 403), as Access does
        before anything reaches the gateway."""
        self.account_id = account_id
        self.gateway = gateway
        self.command = command
        self.reply = reply
        self.access = access
        self.gateway_path = "/openai" if access else f"/v1/{account_id}/{gateway}/openai"
        self.responses_path = f"{self.gateway_path}/responses"
        self.requests: list[RecordedRequest] = []
        self.tool_name: str | None = None
        # Set once Codex has sent back a command's output and got the final answer.
        self.turn_completed = threading.Event()
        self._outputs: dict[str, str] = {}
        self._calls = 0
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll keeps stop() quick: serve_forever checks for it between polls.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="codex-cf-fake-gateway",
            daemon=True,
        )
        self._thread.start()
        self._stopped = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What goes in the profile's provider `base_url`."""
        return f"http://127.0.0.1:{self.port}{self.gateway_path}"

    @property
    def tool_outputs(self) -> list[str]:
        """What the agent's commands printed, as Codex sent it back, in call order."""
        with self._lock:
            return list(self._outputs.values())

    def responses_requests(self) -> list[RecordedRequest]:
        """The POSTs that reached the gateway's Responses path."""
        with self._lock:
            return [
                r for r in self.requests if r.method == "POST" and r.path == self.responses_path
            ]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _answer(self, body: Mapping[str, Any]) -> bytes:
        """The events for one Responses request: a shell call, or the final message."""
        items = body.get("input")
        items = (
            [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
        )
        returned = [
            item
            for item in items
            if item.get("type") == "function_call_output"
            and str(item.get("call_id", "")).startswith(CALL_ID_PREFIX)
        ]
        with self._lock:
            for output in returned:
                self._outputs.setdefault(str(output["call_id"]), _output_text(output.get("output")))
            self._calls += 1
            number = self._calls
        answered = bool(returned) and items[-1] is returned[-1]
        call = None if answered else shell_call_arguments(body.get("tools"), self.command)
        item: dict[str, Any]
        if call is not None:
            self.tool_name, arguments = call
            item = {
                "type": "function_call",
                "call_id": f"{CALL_ID_PREFIX}{number}",
                "name": self.tool_name,
                "arguments": json.dumps(arguments),
            }
        else:
            # A request without a shell tool (the TUI asks for a session
            # title so) gets a short message and does not end the turn.
            item = {
                "type": "message",
                "role": "assistant",
                "id": f"msg_codex_cf_{number}",
                "content": [{"type": "output_text", "text": self.reply if answered else TITLE}],
            }
        response_id = f"resp_codex_cf_{number}"
        events = [
            {"type": "response.created", "response": {"id": response_id}},
            {"type": "response.output_item.done", "item": item},
            {"type": "response.completed", "response": {"id": response_id, "usage": _USAGE}},
        ]
        if answered:
            self.turn_completed.set()
        return sse(events)


def _handler_for(gateway: FakeGateway) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "codex-cf-fake-gateway"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Silent: a request line is harmless, but nothing here may print headers."""

        def _read_body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return None

        def _handle(self) -> None:
            body = self._read_body()
            request = RecordedRequest(self.command, self.path, tuple(self.headers.items()), body)
            gateway._record(request)
            verdict = True if gateway.access is None else gateway.access(request)
            if verdict is None:
                self.send_response(302)
                self.send_header("Location", ACCESS_LOGIN_URL)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif verdict is False:
                self._send(403, "text/html", b"<html><body>Forbidden</body></html>")
            elif self.command != "POST" or self.path != gateway.responses_path:
                self._send_json(404, "not_found", f"no route for {self.command} {self.path}")
            elif not isinstance(body, dict):
                self._send_json(400, "invalid_json", "the request body is not a JSON object")
            else:
                self._send(200, "text/event-stream", gateway._answer(body))

        def _send_json(self, status: int, code: str, message: str) -> None:
            error = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
            self._send(status, "application/json", json.dumps(error).encode())

        def _send(self, status: int, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    return Handler
