"""A stand-in `cloudflared` for the two commands codex-cf runs, put first on PATH.

No real cloudflared can be installed here (it is not in Debian's archive and
the network is loopback only), so this behaves as the documented commands do:

- `cloudflared access token -app=URL` prints the stored Access token, or fails
  with "Unable to find token for provided application" (exit 1) when there is
  none or it has expired, as cloudflared does;
- `cloudflared access login URL` prints the sign-in URL and the new token, and
  stores it for the next `access token`; with `fail_login` it fails.

Its state is a folder: `token` (the current token), `calls` (each argv, one a
line: tests check no secret is in it), `login_ttl` (seconds a new token lives),
`fail_login` (present: the sign-in fails), `print_expired` (present: `access token`
prints an expired token too, as a cloudflared that does not check would).
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

from helpers.tokens import Withheld

SIGN_IN_URL = "https://codex-cf-test.cloudflareaccess.com/cdn-cgi/access/cli?redirect_url=x"
NO_TOKEN = (
    "Unable to find token for provided application. Please run login command to generate token."
)


def _part(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(expires_at: float, subject: str = "codex-cf-test-user") -> Withheld:
    """A JWT-shaped fake: a real header and payload, a random signature nobody checks."""
    import secrets

    header = _part({"alg": "RS256", "kid": "test", "typ": "JWT"})
    payload = _part({"sub": subject, "exp": int(expires_at), "aud": ["test"], "iat": 0})
    return Withheld(f"{header}.{payload}.{secrets.token_urlsafe(32)}")


def expires_at(token: str) -> int:
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


class FakeCloudflared:
    """The stand-in's folder: install it on PATH, set and read its token."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.state = root / "state"
        self.bin.mkdir(parents=True)
        self.state.mkdir()
        helpers_parent = Path(__file__).resolve().parent.parent
        program = self.bin / "cloudflared"
        program.write_text(
            f"#!{sys.executable}\n"
            "import sys\n"
            f"sys.path.insert(0, {str(helpers_parent)!r})\n"
            "from helpers.fake_cloudflared import main\n"
            f"sys.exit(main(sys.argv[1:], {str(self.state)!r}))\n"
        )
        program.chmod(0o755)

    def log_in(self, lifetime: float = 8 * 3600) -> Withheld:
        token = make_jwt(time.time() + lifetime)
        (self.state / "token").write_text(token)
        return token

    def expire(self) -> None:
        """The session ended an hour ago: the stored token is past its exp."""
        (self.state / "token").write_text(make_jwt(time.time() - 3600))

    def current(self) -> Withheld | None:
        path = self.state / "token"
        return Withheld(path.read_text()) if path.exists() else None

    def calls(self) -> list[list[str]]:
        path = self.state / "calls"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def accepts(self, token: str | None) -> bool:
        """What Access would say: the token is the one signed in, and current."""
        current = self.current()
        return token is not None and token == current and expires_at(current) > time.time()


def main(argv: list[str], state: str) -> int:
    folder = Path(state)
    with (folder / "calls").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    token_file = folder / "token"
    if argv[:2] == ["access", "token"] and len(argv) == 3 and argv[2].startswith("-app="):
        lenient = (folder / "print_expired").exists()
        if token_file.exists() and (lenient or expires_at(token_file.read_text()) > time.time()):
            print(token_file.read_text())
            return 0
        print(NO_TOKEN, file=sys.stderr)
        return 1
    if argv[:2] == ["access", "login"] and len(argv) == 3:
        if (folder / "fail_login").exists():
            print("failed to find or create a token: the sign-in was cancelled", file=sys.stderr)
            return 1
        print(f"A browser window should have opened at the following URL:\n\n{SIGN_IN_URL}\n")
        print("If the browser failed to open, please visit the URL above directly in your browser.")
        ttl_file = folder / "login_ttl"
        ttl = float(ttl_file.read_text()) if ttl_file.exists() else 8 * 3600
        token = make_jwt(time.time() + ttl)
        token_file.write_text(token)
        print(f"Successfully fetched your token:\n\n{token}\n")
        return 0
    print(f"cloudflared stand-in: unsupported arguments {argv}", file=sys.stderr)
    return 2
