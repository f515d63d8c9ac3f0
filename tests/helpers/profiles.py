"""Profiles as a user (or codex-cf setup) would have them on disk."""

from __future__ import annotations

from pathlib import Path

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "default"
GATEWAY_URL = f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/{GATEWAY}/openai"

CURRENT = f'''model_provider = "cloudflare-ai-gateway"
model = "gpt-5.5"
model_reasoning_effort = "medium"

[model_providers.cloudflare-ai-gateway]
name = "Cloudflare AI Gateway"
base_url = "{GATEWAY_URL}"
env_key = "CLOUDFLARE_API_KEY"
wire_api = "responses"

[shell_environment_policy]
exclude = ["CLOUDFLARE_API_KEY"]
'''

# What setup writes now: the same, with each launch's requests tagged.
TAGGED = CURRENT.replace(
    'wire_api = "responses"\n',
    'wire_api = "responses"\nenv_http_headers = {cf-aig-metadata = "CF_AIG_METADATA"}\n',
).replace('exclude = ["CLOUDFLARE_API_KEY"]', 'exclude = ["CLOUDFLARE_API_KEY", "CF_AIG_METADATA"]')


def write(path: Path, text: str = CURRENT, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def with_base_url(url: str, text: str = CURRENT) -> str:
    return text.replace(GATEWAY_URL, url)
