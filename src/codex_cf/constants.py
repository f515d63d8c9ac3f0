"""Facts that the rest of codex-cf reads from one place.

Kept free of imports beyond the standard library's `enum`: the launch path
loads this module on every start.
"""

from __future__ import annotations

import enum

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from typing import Final

PROGRAM = "codex-cf"
KEYRING_SERVICE = "codex-cf"
DEFAULT_PROFILE = "cloudflare-aig"
PROFILE_ENV = "CODEX_CF_PROFILE"
CODEX_OVERRIDE_ENV = "CODEX_CF_CODEX"
API_BASE_ENV = "CODEX_CF_API_BASE"
API_BASE_DEFAULT = "https://api.cloudflare.com"
# Set by codex-cf on the process it execs; a codex-cf that finds its own PID
# (or its parent's) there was started again by the "codex" it launched.
REENTRY_ENV = "_CODEX_CF_EXEC_PID"
# Set for the `codex --version` probe: a codex-cf started by it is in a loop.
VERSION_PROBE_ENV = "_CODEX_CF_VERSION_PROBE"

# Older Codex re-exports the profile's excluded variables into the agent's
# shell from its shell snapshot, so the agent could read the token.
MINIMUM_CODEX_VERSION = (0, 158, 0)
CODEX_INSTALL_HINT = "npm install -g @openai/codex"

# The profile as Cloudflare's page writes it; codex-cf owns these keys only.
PROVIDER_ID = "cloudflare-ai-gateway"
PROVIDER_NAME = "Cloudflare AI Gateway"
DEFAULT_MODEL = "gpt-5.5"
DEFAULT_REASONING_EFFORT = "medium"
REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
DEFAULT_GATEWAY = "default"
GATEWAY_HOST = "gateway.ai.cloudflare.com"
WIRE_API = "responses"

# Header an authenticated gateway reads; Codex sends an env_http_headers
# variable's value verbatim, so that variable holds "Bearer <token>".
GATEWAY_AUTH_HEADER = "cf-aig-authorization"
BEARER_PREFIX = "Bearer "
# Header the gateway groups logs, analytics and spend limits by: a JSON object of
# request tags, which codex-cf computes per launch into METADATA_VARIABLE.
METADATA_HEADER = "cf-aig-metadata"


class Secret(enum.StrEnum):
    """The secrets a profile can need, each its own keyring item."""

    CLOUDFLARE = "cloudflare"
    OPENAI = "openai"
    ACCESS_ID = "access-id"  # a Cloudflare Access service token's client ID
    ACCESS_SECRET = "access-secret"  # and its client secret


# Variable codex-cf exports for each secret when a profile names it.
SECRET_VARIABLE = {
    Secret.CLOUDFLARE: "CLOUDFLARE_API_KEY",
    Secret.OPENAI: "OPENAI_API_KEY",
    Secret.ACCESS_ID: "CF_ACCESS_CLIENT_ID",
    Secret.ACCESS_SECRET: "CF_ACCESS_CLIENT_SECRET",
}
GATEWAY_AUTH_VARIABLE = "CF_AIG_AUTHORIZATION"
METADATA_VARIABLE = "CF_AIG_METADATA"
SECRET_LABEL = {
    Secret.CLOUDFLARE: "Cloudflare API token",
    Secret.OPENAI: "OpenAI API key",
    Secret.ACCESS_ID: "Access service token client ID",
    Secret.ACCESS_SECRET: "Access service token client secret",
}
# The headers Cloudflare Access reads: a user's Access token (a JWT that
# `cloudflared access token` prints), or a service token's two halves.
ACCESS_TOKEN_HEADER = "cf-access-token"
ACCESS_TOKEN_VARIABLE = "CF_ACCESS_TOKEN"
ACCESS_SERVICE_HEADERS = {
    Secret.ACCESS_ID: "CF-Access-Client-Id",
    Secret.ACCESS_SECRET: "CF-Access-Client-Secret",
}
CLOUDFLARED_INSTALL_HINT = (
    "install cloudflared (https://developers.cloudflare.com/cloudflare-one/connections/"
    "connect-networks/downloads/)"
)


class Billing(enum.StrEnum):
    """How the gateway is paid, and so which token the Authorization header carries."""

    UNIFIED = "unified"
    BYOK = "byok"
    OWN_KEY = "own-key"


class Access(enum.StrEnum):
    """Cloudflare Access in front of the gateway's custom domain: who signs the request."""

    CLOUDFLARED = "cloudflared"  # a person's Access token, from `cloudflared access token`
    SERVICE_TOKEN = "service-token"  # a service token's client ID and secret, from the keyring


ACCESS_OFF: Final = "off"  # setup --access off: leave Cloudflare Access


class AuthMode(enum.StrEnum):
    """How Codex gets the Authorization token: from the environment, or by running codex-cf."""

    ENV = "env"
    COMMAND = "command"


class ExitStatus(enum.IntEnum):
    """codex-cf's own exit statuses; anything else is Codex's own."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    PROFILE_NOT_CURRENT = 3
    TOKEN_MISSING = 4
    KEYRING_UNAVAILABLE = 5
    CODEX_UNUSABLE = 6
    FILE_CONFLICT = 7
    TOKEN_INVALID = 8
    TOKEN_INACTIVE = 9
    API_UNREACHABLE = 10
    INTERRUPTED = 130
    CODEX_NOT_FOUND = 127


# codex-cf's own commands, recognised only as the first argument. The value
# is the module under codex_cf.commands that implements it (None: handled by
# the click group itself).
OWN_COMMANDS: dict[str, str | None] = {
    "setup": "setup_cmd",
    "token": "token_cmd",
    "doctor": "doctor",
    "usage": "usage",
    "completion": "completion",
    "remove": "remove",
    "--help": None,
    "-h": None,
    "--version": None,
}

# The shells codex-cf ships a completion script for.
SHELLS = ("bash", "zsh", "fish", "powershell")

# Sub-commands of `token`, as the completion scripts offer them.
TOKEN_SUBCOMMANDS = ("set", "status", "delete", "verify", "import", "print")

# Codex sub-commands that accept --profile (measured on codex-cli 0.169.0:
# everything else fails with "--profile only applies to runtime commands").
# `debug` is runtime only as `debug prompt-input`.
RUNTIME_COMMANDS = frozenset(
    {
        "exec",
        "e",
        "review",
        "resume",
        "queue",
        "archive",
        "delete",
        "unarchive",
        "fork",
        "mcp",
        "migrate-nfs-db",
        "sandbox",
        "agents",
    }
)
RUNTIME_DEBUG_COMMANDS = frozenset({"prompt-input"})

# Every Codex sub-command name and alias (codex-cli 0.169.0 `codex --help`).
# A first positional argument that is none of these is a prompt for the
# interactive TUI.
CODEX_COMMANDS = RUNTIME_COMMANDS | {
    "login",
    "logout",
    "plugin",
    "app-server",
    "remote-control",
    "completion",
    "update",
    "doctor",
    "debug",
    "apply",
    "a",
    "migrate-rollouts",
    "cloud",
    "exec-server",
    "features",
    "help",
}

# Codex's global options that take a value; their value is never a
# sub-command. `-i/--image` takes one or more values (clap `num_args = 1..`).
CODEX_VALUE_OPTIONS = frozenset(
    {
        "-c",
        "--config",
        "--enable",
        "--disable",
        "--remote",
        "--remote-auth-token-env",
        "-i",
        "--image",
        "-m",
        "--model",
        "--local-provider",
        "-p",
        "--profile",
        "-s",
        "--sandbox",
        "-C",
        "--cd",
        "--add-dir",
        "-a",
        "--ask-for-approval",
    }
)
CODEX_MULTI_VALUE_OPTIONS = frozenset({"-i", "--image"})
# Options that only print (help, version) and never reach a model.
CODEX_INFO_OPTIONS = frozenset({"-h", "--help", "-V", "--version"})

# Keyring calls never block a launch longer than this (gh uses 3 s).
KEYRING_TIMEOUT_SECONDS = 5.0
FAST_KEYRING_TIMEOUT_SECONDS = 3.0
