"""Request tags with the real Codex 0.169.0 against the loopback gateway, and `doctor --live`
finding a real launch's id in the (fake) Cloudflare API's logs."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from codex_cf import metadata
from codex_cf.fake_gateway import FakeGateway, RecordedRequest
from helpers import profiles
from helpers.fake_cloudflare_api import FakeCloudflareApi, log
from helpers.process import run_codex_cf

HEADER = "cf-aig-metadata"
# The agent looks for the tags in its own environment; the profile hides them.
AGENT_COMMAND = "printenv CF_AIG_METADATA; echo agent-looked"


def _setup(gateway: FakeGateway, *options: str) -> None:
    done = run_codex_cf(
        "setup", "--base-url", gateway.base_url, "--no-token", "--yes", "--offline", *options
    )
    assert done.returncode == 0, done.stderr


def _launch(gateway: FakeGateway, cwd: Path, *args: str) -> list[RecordedRequest]:
    """One `codex-cf exec`; the requests it sent."""
    before = len(gateway.responses_requests())
    done = run_codex_cf(*args, "exec", "--skip-git-repo-check", "run it", cwd=str(cwd), timeout=180)
    assert done.returncode == 0, done.stderr
    sent = gateway.responses_requests()[before:]
    assert sent, "no request reached the gateway"
    return sent


def _one_tag_per_launch(sent: list[RecordedRequest]) -> dict[str, str]:
    """The launch's tags: one header on every request, the same each time, compact JSON."""
    values = {v for r in sent for v in r.header_values(HEADER)}
    assert [len(r.header_values(HEADER)) for r in sent] == [1] * len(sent)
    assert len(values) == 1, "the tags changed within one launch"
    (value,) = values
    assert value.isascii()
    tags = json.loads(value)
    assert value == json.dumps(tags, separators=(",", ":"))  # sent verbatim
    assert len(tags) <= metadata.MAX_KEYS
    assert not any(key.startswith(metadata.RESERVED_PREFIX) for key in tags)
    return dict(tags)


def _agent_saw_no_tags(gateway: FakeGateway, launch_id: str) -> None:
    outputs = "\n".join(gateway.tool_outputs)
    assert "agent-looked" in outputs, "the agent's command did not run"
    assert launch_id not in outputs
    assert HEADER not in outputs
    assert '"launch"' not in outputs


def test_two_launches_two_ids_each_constant_project_from_the_repository(
    codex, token, home, tmp_path
) -> None:
    webshop = tmp_path / "webshop"
    (webshop / ".git").mkdir(parents=True)
    inside = webshop / "src" / "api"
    inside.mkdir(parents=True)
    elsewhere = tmp_path / "café"  # sent as a \u escape: the header stays ASCII
    elsewhere.mkdir()
    with FakeGateway(profiles.ACCOUNT, "tags", AGENT_COMMAND) as gateway:
        _setup(gateway)
        first = _one_tag_per_launch(_launch(gateway, inside))
        _agent_saw_no_tags(gateway, first[metadata.LAUNCH])
        # Codex's own -C: the project is where Codex works, not where codex-cf started.
        second = _one_tag_per_launch(_launch(gateway, elsewhere, "-C", str(inside)))
        third = _one_tag_per_launch(_launch(gateway, elsewhere))
    assert first[metadata.LAUNCH] != second[metadata.LAUNCH] != third[metadata.LAUNCH]
    assert first[metadata.PROJECT] == second[metadata.PROJECT] == "webshop"
    assert third[metadata.PROJECT] == "café"
    assert first[metadata.PROFILE] == "cloudflare-aig"
    assert first[metadata.HOST] == os.uname().nodename.split(".")[0]
    recorded = metadata.last_launch("cloudflare-aig")
    assert recorded is not None
    assert recorded.launch_id == third[metadata.LAUNCH]


def test_command_mode_tags_too_and_no_metadata_sends_no_header(codex, token, home, project) -> None:
    with FakeGateway(profiles.ACCOUNT, "tags", AGENT_COMMAND) as gateway:
        _setup(gateway, "--auth", "command")
        tags = _one_tag_per_launch(_launch(gateway, project))
        _agent_saw_no_tags(gateway, tags[metadata.LAUNCH])
        assert tags[metadata.PROJECT] == "project"
        _setup(gateway, "--no-metadata")
        assert HEADER not in home.profile().read_text()
        sent = _launch(gateway, project)
        assert [r.header_values(HEADER) for r in sent] == [[]] * len(sent)
        assert all(r.header("authorization") for r in sent)  # the token still went
    last = metadata.last_launch("cloudflare-aig")
    assert last is not None
    assert last.launch_id == tags[metadata.LAUNCH]  # the untagged launch recorded nothing


def test_doctor_live_finds_a_real_launchs_requests_in_the_logs(codex, token, home, project) -> None:
    with FakeGateway(profiles.ACCOUNT, "tags", AGENT_COMMAND) as gateway:
        _setup(gateway)
        sent = _launch(gateway, project)
        # What Cloudflare logs for each request: its metadata header, as the Logs API lists it.
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        logs = [log(now, metadata=json.loads(r.header(HEADER) or "{}")) for r in sent]
        with FakeCloudflareApi(
            user_tokens={token: "active"},
            gateways={(profiles.ACCOUNT, "tags"): {}},
            logs={(profiles.ACCOUNT, "tags"): logs},
        ) as api:
            env = {**os.environ, "CODEX_CF_API_BASE": api.url}
            done = run_codex_cf("doctor", "--live", "--json", env=env)
            checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
            traffic = checks["gateway.traffic"]
            assert traffic["status"] == "ok", traffic
            launch_id = json.loads(sent[0].header(HEADER) or "{}")[metadata.LAUNCH]
            assert launch_id in traffic["message"]
            assert f"{len(sent)} request(s)" in traffic["message"]
            assert "requests tagged" in checks["profile.auth"]["message"]
            # Another launch's logs only: not confirmed.
            api.logs = {(profiles.ACCOUNT, "tags"): [log(now, metadata={"launch": "other"})]}
            done = run_codex_cf("doctor", "--live", "--json", env=env)
            checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
            assert checks["gateway.traffic"]["status"] == "warn"
