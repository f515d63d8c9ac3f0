"""The AI Gateway URL grammar: account IDs, gateway slugs, and which base_url may carry a token.

Standard library only: the profile rules check base_url on every full check, and
setup and doctor read a gateway's coordinates back from it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from codex_cf.constants import GATEWAY_HOST

ACCOUNT_ID = re.compile(r"[0-9a-fA-F]{32}")
GATEWAY_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_GATEWAY_PATH = re.compile(r"/v1/([^/]+)/([^/]+)/openai/?")
# Left in a URL copied from a page's template; Codex expands no placeholder or variable.
PLACEHOLDER_CHARS = ("<", ">", "{", "}", "$")


def gateway_url(account_id: str, gateway: str) -> str:
    return f"https://{GATEWAY_HOST}/v1/{account_id}/{gateway}/openai"


def custom_domain_url(host: str) -> str:
    """A gateway's OpenAI endpoint on its custom domain: the host names account and gateway."""
    return f"https://{host}/openai"


def custom_domain_problem(host: str) -> str | None:
    """Why `host` is not a host name for a custom domain, or None."""
    labels = host.split(".")
    if host == GATEWAY_HOST:
        return f"{GATEWAY_HOST} is Cloudflare's own host, not a custom domain"
    if len(labels) < 2 or len(host) > 253 or not all(_HOST_LABEL.fullmatch(x) for x in labels):
        return "a custom domain is a host name such as ai.example.com (no scheme, no path)"
    return None


def app_origin(base_url: str) -> str:
    """The origin (scheme and host) of a base URL: what Cloudflare Access protects."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def access_url_problem(url: str) -> str | None:
    """Why a base URL cannot be behind Cloudflare Access, or None."""
    if (urlsplit(url).hostname or "") == GATEWAY_HOST:
        return (
            f"Cloudflare Access protects a gateway's custom domain, not {GATEWAY_HOST} "
            "(the base_url must be https://<custom domain>/openai)"
        )
    return None


def gateway_coordinates(url: str) -> tuple[str, str] | None:
    """(account ID, gateway slug) from an AI Gateway OpenAI URL's path, else None.

    Read from the path alone, so an endpoint chosen with --base-url that fronts
    the gateway (or a loopback test double) still names its gateway.
    """
    match = _GATEWAY_PATH.fullmatch(urlsplit(url).path)
    if not match or not ACCOUNT_ID.fullmatch(match.group(1)):
        return None
    return match.group(1), match.group(2)


def is_loopback_host(host: str | None) -> bool:
    """localhost or a loopback address: the only hosts a token may reach over plain http."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def base_url_problem(url: object) -> str | None:
    """Why a base_url cannot carry the token safely to a gateway, or None."""
    if not isinstance(url, str) or not url:
        return "base_url is not set"
    if any(char in url for char in PLACEHOLDER_CHARS):
        return f"base_url {url!r} still holds a placeholder or a variable (Codex expands neither)"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"base_url {url!r} is not a URL"
    if parts.scheme == "https" and host == GATEWAY_HOST:
        match = _GATEWAY_PATH.fullmatch(parts.path)
        if not match:
            return f"base_url {url!r} is not /v1/<account>/<gateway>/openai on {GATEWAY_HOST}"
        account, gateway = match.groups()
        if not ACCOUNT_ID.fullmatch(account):
            return f"the account ID {account!r} in base_url is not 32 hexadecimal characters"
        if not GATEWAY_SLUG.fullmatch(gateway):
            return f"the gateway {gateway!r} in base_url is not a gateway slug"
        return None
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and is_loopback_host(host):
        return None
    return f"base_url {url!r} would send the token unencrypted or nowhere (use https)"
