"""The click layer for codex-cf's own commands: options in, an options object out.

Each callback hands a dataclass to its module in `codex_cf.commands`, which
holds the logic, imports no click and is imported only when its command runs,
so `codex-cf --help` stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType

import click

from codex_cf import __version__
from codex_cf.constants import (
    ACCESS_OFF,
    DEFAULT_GATEWAY,
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    OWN_COMMANDS,
    PROFILE_ENV,
    REASONING_EFFORTS,
    SHELLS,
    Access,
    AuthMode,
    Billing,
    ExitStatus,
    Secret,
)
from codex_cf.errors import UsageError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _command_module(name: str) -> ModuleType:
    module = OWN_COMMANDS[name]
    assert module is not None
    return importlib.import_module(f"codex_cf.commands.{module}")


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    import os

    from codex_cf import codex_binary
    from codex_cf.errors import CodexCfError

    click.echo(f"codex-cf {__version__}")
    try:
        codex = codex_binary.find(os.environ)
        found = codex_binary.format_version(codex_binary.version(codex))
        click.echo(f"codex {found} ({codex.path})")
        codex_binary.require_supported(codex, os.environ)
    except CodexCfError as error:
        click.echo(f"codex: {error.message}")
        if error.fix:
            click.echo(f"  fix: {error.fix}")
    ctx.exit(0)


def profile_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--profile",
        "-p",
        default=None,
        metavar="NAME",
        help=f"Profile name. [default: ${PROFILE_ENV}, else {DEFAULT_PROFILE}]",
    )(function)


def which_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--which",
        type=click.Choice([s.value for s in Secret]),
        default=Secret.CLOUDFLARE.value,
        show_default=True,
        help="Which secret: the Cloudflare API token, an OpenAI API key (own-key billing), or "
        "an Access service token's client ID or secret.",
    )(function)


@click.group(
    context_settings=CONTEXT,
    epilog=(
        "Any other arguments start Codex through the gateway profile: "
        "codex-cf [CODEX-ARGS...]. 'codex-cf -- ARGS' hands ARGS to Codex even when they "
        "start with one of the command names above. Exit statuses: see the README."
    ),
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show codex-cf's version and the Codex it finds.",
)
def group() -> None:
    """Run the OpenAI Codex CLI through Cloudflare AI Gateway.

    The token lives in the OS keyring and reaches Codex alone; the profile is
    checked before every start.
    """


@group.command(context_settings=CONTEXT)
@profile_option
@click.option("--account-id", metavar="ID", help="Cloudflare account ID (32 hex characters).")
@click.option("--gateway", metavar="SLUG", help=f"AI Gateway slug. [default: {DEFAULT_GATEWAY}]")
@click.option("--model", metavar="MODEL", help=f"Model, set once. [default: {DEFAULT_MODEL}]")
@click.option(
    "--reasoning-effort",
    type=click.Choice(REASONING_EFFORTS),
    help="Reasoning effort, set once. [default: medium]",
)
@click.option("--base-url", metavar="URL", help="A custom endpoint instead of account/gateway.")
@click.option(
    "--auth",
    "auth_mode",
    type=click.Choice([m.value for m in AuthMode]),
    help="env: export the token for Codex; command: Codex asks codex-cf for it. [default: env]",
)
@click.option(
    "--billing",
    type=click.Choice([b.value for b in Billing]),
    help="unified: Cloudflare bills; byok: keys stored in Cloudflare; own-key: your OpenAI key.",
)
@click.option(
    "--authenticated-gateway/--open-gateway",
    "authenticated_gateway",
    default=None,
    help="Whether the gateway requires cf-aig-authorization (Authenticated Gateway).",
)
@click.option(
    "--access",
    type=click.Choice([*(a.value for a in Access), ACCESS_OFF]),
    help="Cloudflare Access in front of a custom domain: cloudflared (your sign-in) or "
    "service-token (client ID and secret in the keyring); off to leave it.",
)
@click.option(
    "--custom-domain",
    metavar="HOST",
    help="The gateway's custom domain (https://HOST/openai) instead of account/gateway.",
)
@click.option(
    "--metadata/--no-metadata",
    "metadata",
    default=None,
    help="Tag each launch's requests (cf-aig-metadata: launch, project, profile, host). "
    "[default: keep the profile's; new profiles: on]",
)
@click.option("--token-stdin", is_flag=True, help="Read the Cloudflare token from standard input.")
@click.option("--no-token", is_flag=True, help="Do not ask for or store a token.")
@click.option("--yes", "-y", is_flag=True, help="Ask nothing; fail naming what is missing.")
@click.option("--dry-run", is_flag=True, help="Show the change; write nothing.")
@click.option(
    "--offline", is_flag=True, help="Do not check the token and the gateway with Cloudflare."
)
def setup(**options: object) -> int:
    """Create, update or repair the gateway profile."""
    module = _command_module("setup")
    return int(module.run(module.SetupOptions(**options)))


@group.group(context_settings=CONTEXT)
def token() -> None:
    """Store, check and remove the token in the OS keyring."""


@token.command("set", context_settings=CONTEXT)
@profile_option
@which_option
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the token from standard input.")
def token_set(profile: str | None, which: str, from_stdin: bool) -> int:
    """Save the token (hidden prompt on a terminal, else standard input)."""
    return int(_command_module("token").set_token(profile, Secret(which), from_stdin))


@token.command("status", context_settings=CONTEXT)
@profile_option
@which_option
def token_status(profile: str | None, which: str) -> int:
    """Where the token comes from, masked."""
    return int(_command_module("token").status(profile, Secret(which)))


@token.command("delete", context_settings=CONTEXT)
@profile_option
@which_option
def token_delete(profile: str | None, which: str) -> int:
    """Remove the token from the keyring."""
    return int(_command_module("token").delete(profile, Secret(which)))


@token.command("verify", context_settings=CONTEXT)
@profile_option
def token_verify(profile: str | None) -> int:
    """Ask the Cloudflare API whether the token is active."""
    return int(_command_module("token").verify(profile))


@token.command("import", context_settings=CONTEXT)
@profile_option
@which_option
def token_import(profile: str | None, which: str) -> int:
    """Move the token from the environment into the keyring."""
    return int(_command_module("token").import_token(profile, Secret(which)))


@token.command("print", context_settings=CONTEXT)
@profile_option
@which_option
def token_print(profile: str | None, which: str) -> int:
    """Print the token (for Codex's auth command and scripts)."""
    return int(_command_module("token").print_token(profile, Secret(which)))


@group.command(context_settings=CONTEXT)
@profile_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--offline", is_flag=True, help="Skip the checks that reach Cloudflare.")
@click.option(
    "--self-test",
    is_flag=True,
    help="Run your Codex through codex-cf against a gateway on 127.0.0.1 (free).",
)
@click.option(
    "--live",
    is_flag=True,
    help="Also confirm from the gateway's logs that the last launch's requests arrived (free).",
)
def doctor(profile: str | None, as_json: bool, offline: bool, self_test: bool, live: bool) -> int:
    """Check everything and say how to fix what is wrong."""
    module = _command_module("doctor")
    return int(module.run(module.DoctorOptions(profile, as_json, offline, self_test, live)))


@group.command(context_settings=CONTEXT)
@profile_option
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="WHEN",
    help="Start of the period: 90m, 24h, 7d, 2w, or an ISO date or time (UTC).",
)
@click.option(
    "--by",
    type=click.Choice(["day", "model", "project", "session"]),
    default="day",
    show_default=True,
    help="Group by day, model, or the project / launch (session) each request was tagged with.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def usage(profile: str | None, since: str, by: str, as_json: bool) -> int:
    """Requests, tokens, cost and errors of the profile's gateway (AI Gateway Read)."""
    module = _command_module("usage")
    return int(module.run(module.UsageOptions(profile, since, by, as_json)))


@group.command(context_settings=CONTEXT)
@click.argument("shell", required=False, type=click.Choice(SHELLS))
@click.option("--install", is_flag=True, help="Write it where the shell loads it from.")
@click.option(
    "--alias",
    "aliases",
    multiple=True,
    metavar="NAME",
    help="Also complete this alias of codex-cf (repeatable).",
)
def completion(shell: str | None, install: bool, aliases: tuple[str, ...]) -> int:
    """Print (or install) the shell completion script."""
    module = _command_module("completion")
    return int(module.run(module.CompletionOptions(shell, install, aliases)))


@group.command(context_settings=CONTEXT)
@profile_option
@click.option("--all", "all_profiles", is_flag=True, help="Every profile codex-cf set up.")
@click.option("--keep-token", is_flag=True, help="Leave the keyring items in place.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def remove(
    profile: str | None, all_profiles: bool, keep_token: bool, yes: bool, dry_run: bool
) -> int:
    """Remove every trace codex-cf left for a profile."""
    module = _command_module("remove")
    return int(module.run(module.RemoveOptions(profile, all_profiles, keep_token, yes, dry_run)))


def run(args: Sequence[str]) -> int:
    """Run an own command; click's own errors become codex-cf's usage status."""
    try:
        result = group.main(list(args), prog_name="codex-cf", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    except click.exceptions.NoArgsIsHelpError as error:
        # `codex-cf token` alone asks what the group can do: help, not an error.
        click.echo(error.format_message())
        return ExitStatus.OK
    except click.UsageError as error:
        hint = f"{error.ctx.command_path} --help" if error.ctx else "codex-cf --help"
        raise UsageError(error.format_message(), hint) from None
    except click.ClickException as error:
        raise UsageError(error.format_message()) from None
    return result if isinstance(result, int) else ExitStatus.OK
