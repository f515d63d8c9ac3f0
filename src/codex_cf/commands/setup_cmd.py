"""`codex-cf setup`: create, update or repair the profile, keeping every byte not ours.

Values come from the options, then the existing profile, then (on a terminal)
questions, then the defaults of Cloudflare's page. The token and the gateway
are checked with Cloudflare (unless --offline), the change is shown as a diff
and written only after confirmation, or with --yes.

A setup that cannot finish leaves the profile and the keyring as they were:
everything is validated and checked first, then the secrets are stored, then
the files written; a failed write puts the previous secrets back.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codex_cf import (
    codex_binary,
    codex_config,
    credentials,
    gateway_url,
    paths,
    profile_edit,
    profile_facts,
    profile_names,
    profile_rules,
    sessions,
    terminal,
)
from codex_cf.constants import (
    ACCESS_OFF,
    DEFAULT_GATEWAY,
    DEFAULT_MODEL,
    DEFAULT_PROFILE,
    DEFAULT_REASONING_EFFORT,
    GATEWAY_AUTH_HEADER,
    PROGRAM,
    REASONING_EFFORTS,
    SECRET_LABEL,
    SECRET_VARIABLE,
    Access,
    AuthMode,
    Billing,
    ExitStatus,
    Secret,
)
from codex_cf.errors import (
    CodexCfError,
    NoSecureKeyring,
    ProfileNotCurrent,
    TokenInactive,
    TokenInvalid,
    TokenMissing,
    UsageError,
)
from codex_cf.layout import Layout, read_provider

_BILLING_CHOICES = {
    Billing.UNIFIED: "Cloudflare bills you (Unified Billing); Codex sends your Cloudflare token",
    Billing.BYOK: "provider keys stored in Cloudflare (BYOK); the gateway checks your token",
    Billing.OWN_KEY: "your own OpenAI API key, sent through the gateway",
}


@dataclass(frozen=True)
class SetupOptions:
    profile: str | None = None
    account_id: str | None = None
    gateway: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    base_url: str | None = None
    auth_mode: str | None = None
    billing: str | None = None
    authenticated_gateway: bool | None = None
    access: str | None = None  # an Access value, or ACCESS_OFF to leave Access
    custom_domain: str | None = None
    metadata: bool | None = None  # tag requests with cf-aig-metadata; None: keep
    token_stdin: bool = False
    no_token: bool = False
    yes: bool = False
    dry_run: bool = False
    offline: bool = False


@dataclass
class Existing:
    """What the current profile says, read leniently: the defaults for this run."""

    base_url: str | None = None
    account_id: str | None = None
    gateway: str | None = None
    model: str | None = None
    layout: Layout | None = None  # None: the provider sends no token at all

    @classmethod
    def read(cls, document: dict[str, Any], profile: str) -> Existing:
        found = cls()
        model = document.get("model")
        found.model = model if isinstance(model, str) and model else None
        provider = profile_rules.provider_table(document)
        if provider is None:
            return found
        url = provider.get("base_url")
        if isinstance(url, str) and gateway_url.base_url_problem(url) is None:
            found.base_url = url
            parts = gateway_url.gateway_coordinates(url)
            if parts:
                found.account_id, found.gateway = parts
        found.layout = read_provider(provider, profile).layout
        return found


@dataclass
class Plan:
    """Everything setup will do, decided before anything is written."""

    profile: str
    desired: profile_edit.Desired
    profile_file: codex_config.LoadedFile
    base_file: codex_config.LoadedFile
    migrations: list[str] = field(default_factory=list)
    fix_mode: bool = False
    secrets: dict[Secret, str] = field(default_factory=dict)  # new values, to store
    known: dict[Secret, str] = field(default_factory=dict)  # values already in place
    missing_secrets: list[Secret] = field(default_factory=list)
    rc_exports: list[str] = field(default_factory=list)  # "file:line" plain-text copies
    # Nobody chose the gateway's authentication, and the Cloudflare token is what it
    # would carry: setup may follow what Cloudflare says about the gateway.
    may_adopt_auth: bool = False

    _previous: dict[Secret, str | None] | None = None

    def previous_secrets(self) -> dict[Secret, str | None]:
        """What the keyring holds now for the secrets setup will store, read once.

        Read before the diff is shown, so an unusable keyring stops setup
        before anyone confirms a change it cannot finish.
        """
        if self._previous is None:
            self._previous = {s: credentials.get(self.profile, s) for s in self.secrets}
        return self._previous

    @property
    def changes_files(self) -> bool:
        return self.profile_file.changed() or self.base_file.changed() or self.fix_mode


_DASHBOARD_ACCOUNT = re.compile(r"dash\.cloudflare\.com/([0-9a-fA-F]{32})(?:[/?#]|$)")
_BEARER = re.compile(r"bearer\s+", re.IGNORECASE)

ACCOUNT_ID_HELP = (
    "Your account ID is the 32 hex characters in the dashboard's address,\n"
    "https://dash.cloudflare.com/<account ID>/... (paste the whole address if you like);\n"
    "`wrangler whoami` shows it too."
)
TOKEN_HELP = (
    "Create the token at https://dash.cloudflare.com/profile/api-tokens:\n"
    "Create Token > Create Custom Token, with the account permissions AI Gateway - Run\n"
    "(to send requests) and AI Gateway - Read (so codex-cf can check the gateway).\n"
    "A pasted 'Bearer <token>' works too."
)


def account_from(value: str) -> str:
    """The account ID in a pasted dashboard address, else the value as typed."""
    value = value.strip()
    found = _DASHBOARD_ACCOUNT.search(value)
    return (found[1] if found else value).lower()


def _account_problem(value: str) -> str | None:
    if gateway_url.ACCOUNT_ID.fullmatch(account_from(value)):
        return None
    return (
        "an account ID is 32 hexadecimal characters: paste it, or the dashboard address "
        "https://dash.cloudflare.com/<account ID>/..."
    )


def without_bearer(value: str) -> str:
    """A pasted `Bearer <token>` header value: the token is what follows the prefix."""
    stripped = value.strip()
    found = _BEARER.match(stripped)
    if found and len(stripped) > found.end():
        terminal.say("  (took the token after the 'Bearer ' prefix; the prefix is not part of it)")
        return stripped[found.end() :]
    return stripped


def _gateway_problem(value: str) -> str | None:
    if gateway_url.GATEWAY_SLUG.fullmatch(value):
        return None
    return "a gateway slug is lowercase letters, digits, '-' and '_' (for example: default)"


def _model_problem(value: str) -> str | None:
    return None if value.strip() and '"' not in value else "a model name such as gpt-5.5"


def _checked(value: str, problem: str | None, option: str) -> str:
    if problem:
        raise UsageError(
            f"{option} {value!r} is not valid: {problem}", f"codex-cf setup {option} ..."
        )
    return value


def wrangler_account_id() -> str | None:
    """The account ID from `wrangler whoami`, when wrangler is installed and shows exactly one."""
    wrangler = shutil.which("wrangler")
    if not wrangler:
        return None
    try:
        done = subprocess.run(
            [wrangler, "whoami"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = set(re.findall(r"\b[0-9a-f]{32}\b", done.stdout))
    return found.pop() if len(found) == 1 else None


def _needs_custom_domain(options: SetupOptions, existing: Existing) -> bool:
    """Access is asked for and nothing names a URL it can protect."""
    if options.access in (None, ACCESS_OFF) or options.base_url or options.account_id:
        return False
    if options.gateway:
        return False
    return existing.base_url is None or bool(gateway_url.access_url_problem(existing.base_url))


def _choose_base_url(options: SetupOptions, existing: Existing, interactive: bool) -> str:
    if options.custom_domain:
        if options.base_url or options.account_id or options.gateway:
            raise UsageError(
                "--custom-domain names the gateway by itself; give it without --base-url, "
                "--account-id and --gateway",
                "codex-cf setup --custom-domain HOST",
            )
        host = options.custom_domain.strip().lower()
        _checked(host, gateway_url.custom_domain_problem(host), "--custom-domain")
        return gateway_url.custom_domain_url(host)
    if _needs_custom_domain(options, existing):
        if not interactive:
            raise UsageError(
                "behind Cloudflare Access the gateway is reached on its custom domain, "
                "which is missing",
                f"codex-cf setup --access {options.access} --custom-domain HOST",
            )
        host = terminal.ask(
            "The gateway's custom domain (AI Gateway > your gateway > Domains)",
            None,
            lambda v: gateway_url.custom_domain_problem(v.strip().lower()),
        )
        return gateway_url.custom_domain_url(host.strip().lower())
    if options.base_url:
        if options.account_id or options.gateway:
            raise UsageError(
                "--base-url replaces --account-id and --gateway; give one or the other",
                "codex-cf setup --base-url URL, or codex-cf setup --account-id ID --gateway SLUG",
            )
        problem = gateway_url.base_url_problem(options.base_url)
        return _checked(options.base_url, problem, "--base-url")
    if not (options.account_id or options.gateway) and existing.base_url:
        return existing.base_url
    account = options.account_id or existing.account_id
    if account is None:
        if not interactive:
            raise UsageError(
                "the Cloudflare account ID is missing",
                "codex-cf setup --account-id <32-hex ID> (find it with `wrangler whoami`)",
            )
        terminal.say(ACCOUNT_ID_HELP)
        account = terminal.ask(
            "Cloudflare account ID (32 hex characters)",
            wrangler_account_id(),
            _account_problem,
        )
    account = _checked(account_from(account), _account_problem(account), "--account-id")
    gateway = options.gateway or existing.gateway
    if gateway is None:
        gateway = (
            terminal.ask("AI Gateway slug", DEFAULT_GATEWAY, _gateway_problem)
            if interactive
            else DEFAULT_GATEWAY
        )
    gateway = _checked(gateway, _gateway_problem(gateway), "--gateway")
    return gateway_url.gateway_url(account, gateway)


def _choose_billing(options: SetupOptions, existing: Existing, interactive: bool) -> Billing:
    if options.billing:
        return Billing(options.billing)
    if existing.layout is not None:
        return existing.layout.billing
    if not interactive or options.access in tuple(Access):
        return Billing.UNIFIED  # behind Access the gateway's settings decide which key pays
    terminal.say("How do you pay for the models Codex uses through the gateway?")
    for number, (choice, explanation) in enumerate(_BILLING_CHOICES.items(), 1):
        terminal.say(f"  {number}) {choice.value:8} {explanation}")
    names = [b.value for b in _BILLING_CHOICES]

    def problem(answer: str) -> str | None:
        return None if answer in names or answer in ("1", "2", "3") else "answer 1, 2 or 3"

    answer = terminal.ask("Billing", "1", problem)
    return Billing(names[int(answer) - 1]) if answer.isdigit() else Billing(answer)


def _choose_layout(
    options: SetupOptions, existing: Existing, billing: Billing, interactive: bool, creating: bool
) -> Layout:
    """The layout from the options, the existing profile's where they say nothing, and its
    variable names; a combination that cannot work is the model's usage error."""
    authenticated = options.authenticated_gateway
    if authenticated is None and billing is Billing.OWN_KEY and interactive and creating:
        authenticated = terminal.confirm(
            "Does your gateway require authentication (Authenticated Gateway is on)?",
            default=False,
        )
    mode = AuthMode(options.auth_mode) if options.auth_mode else None
    access = options.access
    chosen = Layout.chosen(
        billing,
        mode,
        authenticated,
        existing.layout,
        access=ACCESS_OFF if access == ACCESS_OFF else Access(access) if access else None,
        metadata=options.metadata,
    )
    return chosen.keeping_names_of(existing.layout)


def _check_access_url(layout: Layout, base_url: str) -> None:
    """Access protects a custom domain; say so before anything else is asked."""
    problem = gateway_url.access_url_problem(base_url) if layout.access else None
    if problem:
        raise UsageError(problem, "codex-cf setup --access ... --custom-domain HOST")


def _model_choice(options: SetupOptions, existing: Existing, interactive: bool) -> str | None:
    if options.model:
        return _checked(options.model, _model_problem(options.model), "--model")
    if existing.model is None and interactive:
        return terminal.ask("Model", DEFAULT_MODEL, _model_problem)
    return None


def _effort_choice(options: SetupOptions, creating: bool, interactive: bool) -> str | None:
    if options.reasoning_effort:
        return options.reasoning_effort
    if creating and interactive:

        def problem(answer: str) -> str | None:
            return None if answer in REASONING_EFFORTS else "one of " + ", ".join(REASONING_EFFORTS)

        return terminal.ask("Reasoning effort", DEFAULT_REASONING_EFFORT, problem)
    return None


def _permissions_need_fixing(path: Path) -> bool:
    if os.name == "nt" or not path.exists():
        return False
    finding = profile_rules.check_permissions(path)
    if finding.ok:
        return False
    if path.stat().st_uid != os.geteuid():
        raise ProfileNotCurrent(finding.message, finding.fix)
    return True


def build_plan(options: SetupOptions, profile: str, interactive: bool) -> Plan:
    fix = profile_names.command_for(profile, "setup")
    profile_file = codex_config.load(paths.profile_path(profile), fix)
    base_file = codex_config.load(paths.base_config_path(), fix)
    creating = not profile_file.exists
    existing = Existing.read(profile_file.document.unwrap(), profile)
    base_url = _choose_base_url(options, existing, interactive)
    billing = _choose_billing(options, existing, interactive)
    layout = _choose_layout(options, existing, billing, interactive, creating)
    _check_access_url(layout, base_url)
    command = layout.auth_mode is AuthMode.COMMAND
    desired = profile_edit.Desired(
        profile=profile,
        base_url=base_url,
        model=_model_choice(options, existing, interactive),
        reasoning_effort=_effort_choice(options, creating, interactive),
        layout=layout,
        codex_cf_path=codex_binary.codex_cf_executable() if command else None,
    )
    profile_edit.apply(profile_file.document, desired, creating)
    plan = Plan(profile, desired, profile_file, base_file)
    plan.may_adopt_auth = (
        options.authenticated_gateway is None
        and existing.layout is None
        and billing is Billing.UNIFIED
    )
    plan.migrations += profile_edit.migrate_profile_chat(profile_file.document)
    plan.migrations += profile_edit.migrate_base_config(base_file.document, profile)
    plan.fix_mode = _permissions_need_fixing(profile_file.path)
    _check_outcome(plan)
    return plan


def _check_outcome(plan: Plan) -> None:
    """Never claim success for a result that would still not be current."""
    import tomllib

    profile = tomllib.loads(plan.profile_file.edited_text())
    findings, _ = profile_rules.check_profile_document(profile, plan.profile)
    base = tomllib.loads(plan.base_file.edited_text()) if plan.base_file.exists else None
    findings.append(profile_rules.check_base_config(base, plan.profile))
    failure = next((f for f in findings if not f.ok), None)
    if failure is not None:
        where = plan.base_file.path if failure.id.startswith("config") else plan.profile_file.path
        raise ProfileNotCurrent(
            f"setup cannot make profile {plan.profile!r} current by itself: {failure.message}",
            f"edit {where} by hand for that, then run codex-cf setup again",
        )


def _diff(loaded: codex_config.LoadedFile) -> str:
    before = (loaded.text or "").splitlines(keepends=True)
    after = loaded.edited_text().splitlines(keepends=True)
    source = str(loaded.path) if loaded.exists else "/dev/null"
    return "".join(difflib.unified_diff(before, after, source, str(loaded.path)))


def _collect_secrets(plan: Plan, options: SetupOptions, interactive: bool) -> None:
    """Read the tokens the layout needs now, so a missing one fails before any write."""
    if options.no_token:
        return
    asked = False
    for secret in plan.desired.layout.secrets:
        label = SECRET_LABEL[secret]
        if options.token_stdin and secret is Secret.CLOUDFLARE:
            plan.secrets[secret] = without_bearer(terminal.read_secret_from_stdin(label))
            continue
        resolved = credentials.resolve(plan.profile, secret)
        if resolved.value:
            plan.known[secret] = resolved.value
            if resolved.source == "environment":
                _offer_import(plan, secret, resolved.value, interactive)
            continue
        if interactive:
            if secret is Secret.CLOUDFLARE and not asked:
                terminal.say(TOKEN_HELP)
                asked = True
            value = without_bearer(terminal.ask_secret(f"{label} for profile {plan.profile!r}"))
            if value:
                plan.secrets[secret] = value
                continue
        plan.missing_secrets.append(secret)
    if plan.missing_secrets and not interactive:
        secret = plan.missing_secrets[0]
        how = (
            "pass it with --token-stdin"
            if secret is Secret.CLOUDFLARE
            else f"store it with {credentials.set_command(plan.profile, secret)} --stdin"
        )
        raise TokenMissing(
            f"no {SECRET_LABEL[secret]} for profile {plan.profile!r} in the keyring or "
            f"${SECRET_VARIABLE[secret]}; nothing was written",
            f"{how}, or add --no-token to set it up later",
        )


def _offer_import(plan: Plan, secret: Secret, value: str, interactive: bool) -> None:
    """The secret comes from a plain-text export in a shell start-up file: offer the keyring."""
    from codex_cf import rc_files

    variable = SECRET_VARIABLE[secret]
    found = rc_files.find_exports([variable], paths.home())
    if not found:
        return
    plan.rc_exports += [f"{e.path}:{e.line}" for e in found]
    where = ", ".join(plan.rc_exports)
    terminal.say(f"${variable} comes from a plain-text export in {where}.")
    if credentials.get(plan.profile, secret) == value:
        terminal.say("  The keyring holds the same token already: delete that line.")
    elif interactive and terminal.confirm(
        f"Import it into the keyring for profile {plan.profile!r}?", default=True
    ):
        plan.secrets[secret] = value
    elif not interactive:
        command = profile_names.command_for(plan.profile, "token import")
        terminal.say(f"  to move it into the keyring: {command}")


def _show(plan: Plan) -> None:
    for loaded in (plan.profile_file, plan.base_file):
        if loaded.changed():
            print(_diff(loaded), end="")
    if plan.fix_mode:
        print(f"chmod 600 {plan.profile_file.path}  (it is writable by others)")
    for migration in plan.migrations:
        terminal.say(f"migration: {migration}")


def _confirm(plan: Plan, options: SetupOptions, interactive: bool) -> bool:
    if options.yes:
        return True
    if interactive:
        return terminal.confirm("Write these changes?", default=True)
    if plan.migrations:
        raise UsageError(
            "config.toml holds legacy entries that stop Codex or are ignored by it; "
            "migrating them needs confirmation",
            "codex-cf setup --yes (a backup of config.toml is kept as config.toml.bak)",
        )
    return True


def check_with_cloudflare(plan: Plan, options: SetupOptions) -> None:
    """Verify the token and the gateway before anything is written.

    A new token Cloudflare rejects, a named gateway it does not have, or a
    gateway whose settings the profile would not satisfy stop setup. No
    answer at all (people set up on planes) is a warning: setup goes on.
    """
    if options.offline:
        terminal.say("Skipped the checks with Cloudflare (--offline).")
        return
    token = plan.secrets.get(Secret.CLOUDFLARE) or plan.known.get(Secret.CLOUDFLARE)
    if token is None:
        return
    from codex_cf import cloudflare_api

    new = Secret.CLOUDFLARE in plan.secrets
    coordinates = gateway_url.gateway_coordinates(plan.desired.base_url)
    account = coordinates[0] if coordinates else None
    verdict = terminal.run_with_progress(
        "token verify: waiting for Cloudflare's answer",
        lambda: cloudflare_api.verify_token(token, account),
    )
    status = cloudflare_api.TokenStatus
    if verdict.status is status.UNREACHABLE:
        check = profile_names.command_for(plan.profile, "doctor")
        terminal.say(f"! token verify: {verdict.detail}")
        terminal.say(f"  setup goes on without the check; run {check} when online")
        return
    if verdict.status is not status.ACTIVE:
        _token_refused(plan, verdict, new, account)
        return
    terminal.say(f"✓ token verify: {verdict.detail}")
    if coordinates:
        _check_gateway(plan, token, *coordinates)


def _token_refused(plan: Plan, verdict: Any, new: bool, account: str | None) -> None:
    from codex_cf import cloudflare_api

    inactive = verdict.status is cloudflare_api.TokenStatus.INACTIVE
    again = profile_names.command_for(plan.profile, "setup")
    if not new:
        terminal.say(f"! token verify: {verdict.detail} (the token already stored)")
        terminal.say(f"  fix: {credentials.set_command(plan.profile, Secret.CLOUDFLARE)}")
        return
    if inactive:
        raise TokenInactive(
            f"{verdict.detail}; nothing was written",
            f"create a new token (AI Gateway - Run), then {again}",
        )
    owner = f", and that account {account} owns it if it is an account token" if account else ""
    raise TokenInvalid(
        f"{verdict.detail}; nothing was written",
        f"check that you pasted the whole token{owner}, then {again}",
    )


def _check_gateway(plan: Plan, token: str, account: str, gateway: str) -> None:
    from codex_cf import cloudflare_api

    found = terminal.run_with_progress(
        "gateway settings: waiting for Cloudflare's answer",
        lambda: cloudflare_api.gateway_settings(token, account, gateway),
    )
    status = cloudflare_api.GatewayStatus
    again = profile_names.command_for(plan.profile, "setup")
    if found.status is status.MISSING:
        if gateway == DEFAULT_GATEWAY:
            terminal.say(
                f"! gateway settings: {found.detail}; Cloudflare creates the default gateway "
                "on its first request, so setup goes on"
            )
            terminal.say(f"  if requests fail, check the account ID ({again} --account-id ID)")
            return
        raise UsageError(
            f"{found.detail}: a typo in the gateway slug or the account ID? Nothing was written",
            f"{again} --account-id ID --gateway SLUG "
            "(the dashboard's AI > AI Gateway page lists your gateways)",
        )
    if found.status is not status.FOUND:
        terminal.say(f"! gateway settings: {found.detail}")
        if found.status is status.FORBIDDEN:
            terminal.say(
                f"  setup goes on; check that account {account} is the token's, "
                "and give the token AI Gateway - Read to let codex-cf check the gateway"
            )
        return
    desired = plan.desired
    layout = desired.layout
    if found.authentication and not layout.sends_gateway_header and plan.may_adopt_auth:
        # The same Cloudflare token goes into cf-aig-authorization: nothing more to ask.
        plan.desired = replace(desired, layout=layout._replace(authenticated_gateway=True))
        profile_edit.apply(plan.profile_file.document, plan.desired, not plan.profile_file.exists)
        _check_outcome(plan)
        terminal.say(
            f"✓ gateway {gateway!r} is an Authenticated Gateway: the profile sends the token "
            f"in {GATEWAY_AUTH_HEADER} too"
        )
        return
    if found.authentication and not layout.sends_gateway_header:
        raise UsageError(
            f"gateway {gateway!r} is an Authenticated Gateway, and this profile would send no "
            f"{GATEWAY_AUTH_HEADER} header; nothing was written",
            f"{again} --authenticated-gateway",
        )
    if found.byok_only and layout.billing is Billing.UNIFIED:
        raise UsageError(
            f"gateway {gateway!r} requires provider credentials (byok_only) and answers 400 to "
            "Unified Billing requests; nothing was written",
            f"{again} --billing byok (keys stored in Cloudflare), or --billing own-key",
        )
    terminal.say(f"✓ gateway settings: {found.detail}")


def _write(plan: Plan) -> None:
    fix = profile_names.command_for(plan.profile, "setup")
    with codex_config.write_lock():
        for loaded in (plan.profile_file, plan.base_file):
            if loaded.changed():
                backup = codex_config.save(loaded, fix)
                kept = f" (previous version: {backup})" if backup else ""
                terminal.say(f"Wrote {loaded.path}{kept}")
        if plan.fix_mode and not plan.profile_file.changed():
            plan.profile_file.path.chmod(codex_config.FILE_MODE)
            terminal.say(f"Made {plan.profile_file.path} private (mode 600)")


def commit(plan: Plan, write_files: bool = True) -> None:
    """Store the secrets, then write the files; a failure puts the previous secrets back."""
    previous = plan.previous_secrets()
    stored: list[tuple[Secret, str]] = []
    try:
        for secret, value in plan.secrets.items():
            stored.append((secret, credentials.store(plan.profile, secret, value)))
        if write_files:
            _write(plan)
    except BaseException:
        _restore(plan.profile, previous, [secret for secret, _ in stored])
        raise
    for secret, backend in stored:
        terminal.say(f"Saved the {SECRET_LABEL[secret]} in the keyring ({backend})")
    for secret in plan.missing_secrets:
        command = credentials.set_command(plan.profile, secret)
        terminal.say(f"No {SECRET_LABEL[secret]} stored yet: run {command}")
    if plan.rc_exports and plan.secrets.get(Secret.CLOUDFLARE):
        terminal.say("Delete the plain-text copy, then open a new shell:")
        for where in plan.rc_exports:
            terminal.say(f"  {where}")


def _restore(profile: str, previous: dict[Secret, str | None], stored: list[Secret]) -> None:
    for secret in stored:
        old = previous[secret]
        try:
            if old is None:
                credentials.delete(profile, secret)
            else:
                credentials.store(profile, secret, old)
        except CodexCfError:
            terminal.say(
                f"codex-cf: could not put the previous {SECRET_LABEL[secret]} back in the "
                f"keyring; run {credentials.set_command(profile, secret)}"
            )


def _report_sessions(profile: str, changed_at: float) -> None:
    stale = sessions.running(profile, started_before=changed_at)
    if stale:
        terminal.say("These Codex sessions still run with the old settings; restart them:")
        for line in sessions.describe(stale):
            terminal.say(f"  {line}")


def _check_token_store(options: SetupOptions, profile: str, interactive: bool) -> SetupOptions:
    """Before asking anything: can the token be kept safely here? If not, say so first."""
    if options.access == Access.CLOUDFLARED:
        return options  # cloudflared keeps the Access token; nothing goes into the keyring
    secret = Secret.ACCESS_ID if options.access == Access.SERVICE_TOKEN else Secret.CLOUDFLARE
    variable = SECRET_VARIABLE[secret]
    if options.no_token or options.dry_run or credentials.from_environment(os.environ, variable):
        return options
    try:
        credentials.get(profile, secret)
    except NoSecureKeyring as no_store:
        set_later = credentials.set_command(profile, secret)
        refusal = NoSecureKeyring(
            f"{no_store.message}; nothing was written",
            f"{no_store.fix}; or add --no-token to set up the profile now and run "
            f"{set_later} later",
        )
        if not interactive:
            raise refusal from None
        terminal.say(f"codex-cf: {no_store.message}.")
        terminal.say(f"  To keep the token safely: {no_store.fix}")
        if not terminal.confirm("Set up the profile now and store the token later?", default=True):
            raise refusal from None
        terminal.say(f"Once a store is set up: {set_later}")
        return replace(options, no_token=True)
    return options


def _next_steps(profile: str) -> None:
    launch = PROGRAM if profile == DEFAULT_PROFILE else f"{PROGRAM} --profile {profile}"
    terminal.say("Next:")
    terminal.say(f"  {launch:<34} start Codex through the gateway")
    terminal.say(f"  {profile_names.command_for(profile, 'doctor'):<34} check everything")


def _prepare(options: SetupOptions, profile: str, interactive: bool) -> Plan:
    """Everything before the first write: options, questions, tokens, Cloudflare's word."""
    plan = build_plan(options, profile, interactive)
    if not options.dry_run:
        _collect_secrets(plan, options, interactive)
        plan.previous_secrets()
        check_with_cloudflare(plan, options)
    return plan


def execute(options: SetupOptions, interactive: bool, next_steps: bool = True) -> int:
    profile = profile_names.resolve_name(options.profile)
    options = _check_token_store(options, profile, interactive)
    try:
        plan = _prepare(options, profile, interactive)
        if plan.changes_files:
            _show(plan)
            if options.dry_run:
                terminal.say("Dry run: nothing was written.")
                return ExitStatus.OK
            if not _confirm(plan, options, interactive):
                terminal.say("Nothing was written.")
                return ExitStatus.FAILURE
    except KeyboardInterrupt:
        terminal.say("\nSetup stopped; nothing was written.")
        raise
    if not plan.changes_files:
        terminal.say(
            f"Profile {profile!r} is current ({plan.profile_file.path}); nothing to change."
        )
        if not options.dry_run:
            commit(plan, write_files=False)
        return ExitStatus.OK
    changed_at = time.time()
    commit(plan)
    _report_sessions(profile, changed_at)
    if next_steps:
        _next_steps(profile)
    return ExitStatus.OK


def run(options: SetupOptions) -> int:
    interactive = terminal.is_interactive() and not options.yes and not options.token_stdin
    return execute(options, interactive)


def repair_for_launch(report: profile_rules.Report) -> profile_facts.ProfileFacts:
    """The launch found the profile not current on a terminal: explain, offer setup, go on."""
    terminal.say(f"codex-cf: profile {report.profile!r} is not ready for Codex:")
    for finding in report.findings:
        if not finding.ok:
            terminal.say(f"  ✗ {finding.message}")
    command = profile_names.command_for(report.profile, "setup")
    if not terminal.confirm(f"Run {command} now?", default=True):
        failure = report.first_failure()
        assert failure is not None
        raise ProfileNotCurrent(f"profile {report.profile!r} is not usable", failure.fix)
    execute(SetupOptions(profile=report.profile), interactive=True, next_steps=False)
    outcome = profile_rules.current_facts(report.profile)
    if isinstance(outcome, profile_facts.ProfileFacts):
        terminal.say("Starting Codex.")
        return outcome
    failure = outcome.first_failure()
    assert failure is not None
    raise ProfileNotCurrent(
        f"profile {report.profile!r} is still not usable: {failure.message}", failure.fix
    )
