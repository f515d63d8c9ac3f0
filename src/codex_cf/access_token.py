"""The Cloudflare Access token of a profile behind Access, from cloudflared.

`cloudflared access token -app=ORIGIN` prints the current token (a JWT) or
fails when there is none or it has expired; `cloudflared access login ORIGIN`
runs the browser flow and stores a new one. Loaded by the launch only for a
profile behind Access with cloudflared, so other launches start no process
and import none of this. The token goes into Codex's environment alone: never
into argv, never printed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import NamedTuple

from codex_cf.constants import CLOUDFLARED_INSTALL_HINT
from codex_cf.errors import TokenMissing

CLOUDFLARED_TIMEOUT_SECONDS = 15.0
"""`access token` reads a file; the bound only guards against a hung cloudflared."""
LOGIN_TIMEOUT_SECONDS = 600.0
"""The browser flow waits for a person: sign-in pages with a second factor take minutes."""
EXPIRY_WARNING_SECONDS = 3600
"""Less than this left: a Codex session started now would outlive the token."""


class AccessToken(NamedTuple):
    value: str
    expires_at: int | None  # the JWT's exp claim (seconds since the epoch), if it has one


def expiry(token: str) -> int | None:
    """The JWT's `exp`, read without verifying the signature (Access does that); None when
    the token is not a JWT or has no numeric exp."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    payload = pieces[1] + "=" * (-len(pieces[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return int(exp)


def is_expired(found: AccessToken, now: float | None = None) -> bool:
    if found.expires_at is None:
        return False
    return found.expires_at <= (time.time() if now is None else now)


def cloudflared(environ: Mapping[str, str]) -> str | None:
    return shutil.which("cloudflared", path=environ.get("PATH", os.defpath))


def login_command(origin: str) -> str:
    return f"cloudflared access login {origin}"


def _not_installed(origin: str) -> TokenMissing:
    return TokenMissing(
        f"cloudflared is not installed, and the profile's gateway {origin} is behind "
        "Cloudflare Access",
        f"{CLOUDFLARED_INSTALL_HINT}, then {login_command(origin)}",
    )


def _logged_out(origin: str, why: str) -> TokenMissing:
    return TokenMissing(
        f"no current Cloudflare Access token for {origin} ({why})",
        f"{login_command(origin)}, then run codex-cf again",
    )


def read(program: str, origin: str, environ: Mapping[str, str]) -> AccessToken | None:
    """What `cloudflared access token` prints now, or None when it has no token."""
    try:
        done = subprocess.run(
            [program, "access", "token", f"-app={origin}"],
            capture_output=True,
            text=True,
            timeout=CLOUDFLARED_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
            env=dict(environ),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip()
    if done.returncode != 0 or not value or any(c.isspace() for c in value):
        return None
    return AccessToken(value, expiry(value))


_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _looks_like_jwt(text: str) -> bool:
    """Three base64url parts: a sign-in URL has dots too, but also ':' and '/'."""
    parts = text.split(".")
    return len(parts) == 3 and all(p and set(p) <= _BASE64URL for p in parts)


def _login(program: str, origin: str, environ: Mapping[str, str]) -> None:
    """The browser flow, its instructions shown to the person; the token it prints is not."""
    sys.stderr.write(f"codex-cf: signing in to Cloudflare Access for {origin} (cloudflared)\n")
    sys.stderr.flush()
    with subprocess.Popen(
        [program, "access", "login", origin],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(environ),
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if not _looks_like_jwt(line.strip()):
                sys.stderr.write(line)  # a sign-in URL or progress, never the token
        try:
            child.wait(timeout=LOGIN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()


def current(origin: str, environ: Mapping[str, str], can_log_in: bool) -> str:
    """The current Access token for the launch; on a terminal a missing or expired one is
    renewed with the browser flow, elsewhere its absence is a TokenMissing."""
    program = cloudflared(environ)
    if program is None:
        raise _not_installed(origin)
    found = read(program, origin, environ)
    if found is not None and not is_expired(found):
        return found.value
    why = "it has expired" if found is not None else "not signed in, or the session ended"
    if not can_log_in:
        raise _logged_out(origin, why)
    _login(program, origin, environ)
    found = read(program, origin, environ)
    if found is None or is_expired(found):
        raise _logged_out(origin, "the sign-in did not finish")
    return found.value
