"""The fake AI Gateway over real loopback HTTP, as Codex and doctor --self-test use it."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from codex_cf.fake_gateway import DEFAULT_COMMAND, FakeGateway
from helpers.tokens import assert_absent, fake_token

ACCOUNT = "0123456789abcdef0123456789abcdef"
SLUG = "my-gateway"
EXEC_COMMAND = {"type": "function", "name": "exec_command", "parameters": {}}
USER_MESSAGE = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}


@pytest.fixture
def gateway():
    with FakeGateway(ACCOUNT, SLUG) as running:
        yield running


def _post(
    url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    request.add_header("Content-Type", "application/json")
    return _open(request)


def _open(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _events(payload: bytes) -> list[dict[str, Any]]:
    """Parse server-sent events strictly: `event:` and `data:` lines, blank-line separated."""
    text = payload.decode()
    assert text.endswith("\n\n")
    events = []
    for frame in text[:-2].split("\n\n"):
        lines = frame.split("\n")
        assert len(lines) == 2
        assert lines[0].startswith("event: ")
        assert lines[1].startswith("data: ")
        data = json.loads(lines[1].removeprefix("data: "))
        assert data["type"] == lines[0].removeprefix("event: ")
        events.append(data)
    return events


def _turn(gateway: FakeGateway, items: list[Any], tools: list[Any]) -> list[dict[str, Any]]:
    status, headers, payload = _post(
        f"{gateway.base_url}/responses",
        {"model": "gpt-5.5", "stream": True, "input": items, "tools": tools},
    )
    assert status == 200
    assert headers["Content-Type"] == "text/event-stream"
    return _events(payload)


def _output_item(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert [e["type"] for e in events] == [
        "response.created",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["id"] == events[2]["response"]["id"]
    assert set(events[2]["response"]["usage"]) >= {"input_tokens", "output_tokens", "total_tokens"}
    item: dict[str, Any] = events[1]["item"]
    return item


def test_base_url_is_the_gateway_path_on_loopback(gateway) -> None:
    assert gateway.base_url == f"http://127.0.0.1:{gateway.port}/v1/{ACCOUNT}/{SLUG}/openai"
    assert gateway.port > 0
    assert gateway.responses_path == f"/v1/{ACCOUNT}/{SLUG}/openai/responses"


def test_two_turns_run_the_command_then_finish(gateway) -> None:
    call = _output_item(_turn(gateway, [USER_MESSAGE], [EXEC_COMMAND]))
    assert call["type"] == "function_call"
    assert call["name"] == "exec_command"
    assert json.loads(call["arguments"]) == {"cmd": DEFAULT_COMMAND}
    assert gateway.tool_name == "exec_command"
    assert not gateway.turn_completed.is_set()
    assert gateway.tool_outputs == []

    returned = {"type": "function_call_output", "call_id": call["call_id"], "output": "no token"}
    history = [USER_MESSAGE, call, returned]
    message = _output_item(_turn(gateway, history, [EXEC_COMMAND]))
    assert message["type"] == "message"
    assert message["role"] == "assistant"
    assert message["content"] == [{"type": "output_text", "text": gateway.reply}]
    assert gateway.turn_completed.wait(0)
    assert gateway.tool_outputs == ["no token"]


def test_a_new_prompt_after_a_turn_runs_the_command_again(gateway) -> None:
    first = _output_item(_turn(gateway, [USER_MESSAGE], [EXEC_COMMAND]))
    returned = {"type": "function_call_output", "call_id": first["call_id"], "output": "one"}
    history = [USER_MESSAGE, first, returned]
    history.append(_output_item(_turn(gateway, history, [EXEC_COMMAND])))
    history.append(USER_MESSAGE)
    second = _output_item(_turn(gateway, history, [EXEC_COMMAND]))
    assert second["type"] == "function_call"
    assert second["call_id"] != first["call_id"]
    history += [
        second,
        {"type": "function_call_output", "call_id": second["call_id"], "output": "two"},
    ]
    _turn(gateway, history, [EXEC_COMMAND])
    # The first output comes back in every later request's history: recorded once.
    assert gateway.tool_outputs == ["one", "two"]


def test_custom_command_and_content_item_output() -> None:
    with FakeGateway(ACCOUNT, SLUG, "echo hi", reply="bye") as gateway:
        call = _output_item(_turn(gateway, [USER_MESSAGE], [EXEC_COMMAND]))
        assert json.loads(call["arguments"]) == {"cmd": "echo hi"}
        output = [{"type": "input_text", "text": "h"}, {"type": "input_text", "text": "i"}]
        returned = {"type": "function_call_output", "call_id": call["call_id"], "output": output}
        message = _output_item(_turn(gateway, [USER_MESSAGE, call, returned], [EXEC_COMMAND]))
        assert message["content"][0]["text"] == "bye"
        assert gateway.tool_outputs == ["hi"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("shell_command", {"command": DEFAULT_COMMAND}),
        ("shell", {"command": ["bash", "-lc", DEFAULT_COMMAND]}),
    ],
)
def test_older_shell_tools_are_used_when_exec_command_is_absent(gateway, tool, arguments) -> None:
    tools = [{"type": "function", "name": "apply_patch"}, {"type": "function", "name": tool}]
    call = _output_item(_turn(gateway, [USER_MESSAGE], tools))
    assert call["name"] == tool
    assert json.loads(call["arguments"]) == arguments


def test_request_without_a_shell_tool_gets_a_message_and_no_turn(gateway) -> None:
    """The TUI asks for a session title with only apply_patch offered."""
    tools = [{"type": "function", "name": "apply_patch"}]
    item = _output_item(_turn(gateway, [USER_MESSAGE], tools))
    assert item["type"] == "message"
    assert gateway.tool_name is None
    assert not gateway.turn_completed.is_set()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/{account}/{slug}/openai/models"),
        ("POST", "/v1/{account}/other/openai/responses"),
        ("POST", "/v1/{account}/{slug}/openai/chat/completions"),
        ("GET", "/v1/{account}/{slug}/openai/responses"),
        ("POST", "/responses"),
    ],
)
def test_other_routes_are_recorded_and_answered_404(gateway, method, path) -> None:
    url = f"http://127.0.0.1:{gateway.port}{path.format(account=ACCOUNT, slug=SLUG)}"
    data = json.dumps({"input": []}).encode() if method == "POST" else None
    status, headers, payload = _open(urllib.request.Request(url, data=data, method=method))
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(payload)["error"]["message"]
    assert [(r.method, r.path) for r in gateway.requests] == [
        (method, path.format(account=ACCOUNT, slug=SLUG))
    ]
    assert gateway.responses_requests() == []


def test_body_that_is_not_json_is_refused(gateway) -> None:
    status, _, payload = _post(f"{gateway.base_url}/responses", b"{not json")
    assert status == 400
    assert json.loads(payload)["error"]["message"]
    assert gateway.requests[0].body is None


def test_requests_are_recorded_with_headers_as_received(gateway, capfd) -> None:
    token = fake_token()
    body = {"model": "m", "input": [USER_MESSAGE], "tools": [EXEC_COMMAND]}
    _post(
        f"{gateway.base_url}/responses",
        body,
        {"Authorization": f"Bearer {token}", "cf-aig-authorization": f"Bearer {token}x"},
    )
    [request] = gateway.responses_requests()
    assert (request.method, request.path) == ("POST", gateway.responses_path)
    assert request.body == body
    assert request.header("authorization") == f"Bearer {token}"
    assert request.header("CF-AIG-AUTHORIZATION") == f"Bearer {token}x"
    assert ("Authorization", f"Bearer {token}") in request.headers
    assert request.header("x-missing") is None
    captured = capfd.readouterr()
    assert_absent(token, repr(request), repr(gateway.requests), captured.out, captured.err)


def test_a_repeated_header_keeps_every_value(gateway) -> None:
    """urllib sends one value per name; http.client can send two."""
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.putrequest("POST", gateway.responses_path)
    for value in ("Bearer one", "Bearer two"):
        connection.putheader("Authorization", value)
    connection.putheader("Content-Length", "2")
    connection.endheaders(b"{}")
    assert connection.getresponse().status == 200
    connection.close()
    assert gateway.requests[0].header_values("Authorization") == ["Bearer one", "Bearer two"]


def test_stop_closes_the_port_and_is_idempotent() -> None:
    gateway = FakeGateway(ACCOUNT, SLUG)
    url = f"{gateway.base_url}/responses"
    gateway.stop()
    gateway.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=5)


def test_context_manager_stops_the_server() -> None:
    with FakeGateway(ACCOUNT, SLUG) as gateway:
        url = f"{gateway.base_url}/responses"
        assert _post(url, {"input": [], "tools": []})[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=5)
