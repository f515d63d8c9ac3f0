"""`doctor --self-test`: the user's own Codex, through codex-cf's launch path, against a
gateway on 127.0.0.1 — free, and nothing leaves the machine.

It proves what changes silently when Codex updates: Codex honours the
profile (it does not fall back to OpenAI), the token reaches the gateway,
and what the agent's commands can reach under the user's own sandbox
settings (every way an agent would try). The user's files are not changed:
Codex runs on a temporary copy of the profile and config.toml whose only
difference is the base URL, in a temporary CODEX_HOME that is deleted after.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from codex_cf import (
    credentials,
    fake_gateway,
    gateway_url,
    metadata,
    paths,
    profile_edit,
    profile_facts,
    profile_names,
    profile_rules,
    sandbox_settings,
)
from codex_cf.checks import Check, Status
from codex_cf.constants import (
    BEARER_PREFIX,
    DEFAULT_PROFILE,
    KEYRING_SERVICE,
    SECRET_VARIABLE,
    AuthMode,
    Billing,
    Secret,
)
from codex_cf.errors import CodexCfError
from codex_cf.layout import Layout

TIMEOUT_SECONDS = 120.0
THROWAWAY_ACCOUNT = "0" * 32
THROWAWAY_GATEWAY = "self-test"
# Without a profile the self-test writes Cloudflare's page's own: unified billing, env mode.
THROWAWAY_LAYOUT = Layout()
SCAN_MARKER = "codex-cf-environ-matches:"
PROBE_MARKER = "codex-cf-probe:"


@dataclass
class Setting:
    """The profile Codex will run with, and what the gateway should receive."""

    codex_home: Path
    profile: str
    account: str
    gateway: str
    facts: profile_facts.ProfileFacts
    tokens: dict[Secret, str]
    environ: dict[str, str]
    throwaway: bool
    access_token: str | None = None  # behind Access: a stand-in, so cloudflared is not asked

    @property
    def sandbox(self) -> sandbox_settings.Sandbox:
        """The effective settings of the copies Codex ran with (the user's own)."""
        return sandbox_settings.for_profile(self.profile, self.environ)

    def sandbox_fix(self) -> str:
        return self.sandbox.fix(paths.profile_path(self.profile))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


# Run by the agent with codex-cf's own Python, so it asks the keyring through the
# backend the user's keyring resolves to. No quote or backslash inside: any shell
# passes it through unchanged. Each line counts token digests, never shows a token.
_PROBE = """
import glob, hashlib, subprocess, sys
py, marker, probe, profile, digests, service = sys.argv[1:7]
digests = set(digests.split(","))
usernames, options = sys.argv[7].split(","), sys.argv[8].split(",")
def n(text):
    return sum(hashlib.sha256(v.encode()).hexdigest()[:16] in digests for v in text.splitlines())
def out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout + chr(10)
    except (OSError, subprocess.SubprocessError):
        return None
held = 0
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        values = open(path, "rb").read().decode(errors="replace").split(chr(0))
    except OSError:
        continue
    held += n(chr(10).join(v.partition("=")[2] for v in values)) > 0
print(marker, held)
found = [out(["secret-tool", "lookup", "service", service, "username", u]) for u in usernames]
print(probe, "secret-tool", "-" if None in found else n(str().join(found)))
code = "import sys, keyring; print(keyring.get_password(sys.argv[1], sys.argv[2]) or str())"
found = [out([py, "-c", code, service, u]) for u in usernames]
print(probe, "keyring", n(str().join(v or str() for v in found)))
which = [[o] if o else [] for o in options]
found = [out([py, "-m", "codex_cf", "token", "print", "--profile", profile, *w]) for w in which]
print(probe, "token-print", n(str().join(v or str() for v in found)))
try:
    import secretstorage
    bus = secretstorage.check_service_availability(secretstorage.dbus_init())
    print(probe, "bus", "open" if bus else "closed")
except Exception:
    print(probe, "bus", "closed")
"""


def agent_command(
    variables: list[str],
    tokens: list[str],
    profile: str = DEFAULT_PROFILE,
    secrets: tuple[Secret, ...] = (Secret.CLOUDFLARE,),
) -> str:
    """What the fake model asks the agent to run: print the token variables, then try
    every other way an agent could find the token: /proc/*/environ, the Secret
    Service, python keyring and `codex-cf token print` (compared by digest: the
    token is in no argv)."""
    digests = ",".join(d for v in tokens for d in (_digest(v), _digest(BEARER_PREFIX + v)))
    argv = [
        sys.executable,
        "-c",
        _PROBE,
        sys.executable,
        SCAN_MARKER,
        PROBE_MARKER,
        profile,
        digests,
        KEYRING_SERVICE,
        ",".join(credentials.keyring_username(profile, s) for s in secrets),
        ",".join("" if s is Secret.CLOUDFLARE else f"--which={s.value}" for s in secrets),
    ]
    return f"printenv {' '.join(variables)}; {' '.join(shlex.quote(a) for a in argv)}"


def probe_results(outputs: str) -> dict[str, str]:
    """The probe's answers by name, from what the agent's command printed."""
    results = {}
    for line in outputs.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == PROBE_MARKER:
            results[parts[1]] = parts[2]
    return results


def _copy_user_setting(profile: str, base_url: str, home: Path) -> None:
    """The user's profile and config.toml, byte for byte but for the provider's base_url."""
    source = paths.profile_path(profile)
    document = tomlkit.parse(source.read_bytes().decode("utf-8"))
    providers = document["model_providers"]
    providers[str(document["model_provider"])]["base_url"] = base_url
    copy = home / source.name
    copy.write_bytes(document.as_string().encode("utf-8"))
    copy.chmod(0o600)
    _copy_base_config(home)


def _copy_base_config(home: Path) -> None:
    """config.toml as it is: its sandbox settings are the user's own."""
    base = paths.base_config_path()
    if base.exists():
        shutil.copyfile(base, home / base.name)


def _throwaway_profile(profile: str, base_url: str, home: Path) -> None:
    document = tomlkit.document()
    desired = profile_edit.Desired(
        profile=profile,
        base_url=base_url,
        model=None,
        reasoning_effort=None,
        layout=THROWAWAY_LAYOUT,
        codex_cf_path=None,
    )
    profile_edit.apply(document, desired, creating=True)
    path = home / f"{profile}.config.toml"
    path.write_text(document.as_string(), encoding="utf-8")
    path.chmod(0o600)
    _copy_base_config(home)


def _gateway_coordinates(report: profile_rules.Report) -> tuple[str, str]:
    assert report.document is not None
    provider = profile_rules.provider_table(report.document) or {}
    parts = gateway_url.gateway_coordinates(str(provider.get("base_url", "")))
    return parts if parts else (THROWAWAY_ACCOUNT, "custom-endpoint")


def _launch(
    setting: Setting, gateway: fake_gateway.FakeGateway, workdir: Path
) -> tuple[int | None, str]:
    """Run codex-cf (this very installation) as a user would; returns exit status and stderr."""
    argv = [
        sys.executable,
        "-m",
        "codex_cf",
        "--profile",
        setting.profile,
        "exec",
        "--skip-git-repo-check",
        "codex-cf self-test: run the command you are given",
    ]
    process = subprocess.Popen(
        argv,
        env=setting.environ,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, ""
    return process.returncode, err.decode("utf-8", "replace")


def _prepare(profile: str, environ: Mapping[str, str], home: Path) -> Setting | list[Check]:
    report = profile_rules.check(profile)
    env = dict(environ, CODEX_HOME=str(home))
    if not report.path.exists():
        token = "self-test-" + secrets.token_urlsafe(24)
        env[SECRET_VARIABLE[Secret.CLOUDFLARE]] = token
        facts = profile_facts.ProfileFacts(THROWAWAY_LAYOUT)
        return Setting(
            home,
            profile,
            THROWAWAY_ACCOUNT,
            THROWAWAY_GATEWAY,
            facts,
            {Secret.CLOUDFLARE: token},
            env,
            throwaway=True,
        )
    failure = report.first_failure()
    if report.facts is None or failure is not None:
        assert failure is not None
        return [
            Check(
                "self_test.profile",
                Status.FAIL,
                f"the self-test needs a usable profile: {failure.message}",
                failure.fix,
            )
        ]
    tokens = {}
    for secret in report.facts.layout.secrets:
        try:
            value = credentials.resolve(profile, secret, environ).value
        except CodexCfError as error:
            return [Check("self_test.token", Status.FAIL, error.message, error.fix)]
        if not value:
            missing = credentials.missing_error(profile, secret)
            return [Check("self_test.token", Status.FAIL, missing.message, missing.fix)]
        tokens[secret] = value
    account, gateway = _gateway_coordinates(report)
    access_token = None
    variable = report.facts.layout.access_token_variable
    if variable is not None:
        # The variable wins over cloudflared: the user's own Access token stays out of it.
        access_token = env[variable] = "self-test-" + secrets.token_urlsafe(24)
    return Setting(home, profile, account, gateway, report.facts, tokens, env, False, access_token)


def _evaluate(
    setting: Setting, gateway: fake_gateway.FakeGateway, status: int | None, stderr: str
) -> list[Check]:
    fix = "codex-cf doctor"
    requests = gateway.responses_requests()
    prefix = gateway.gateway_path + "/"
    strays = [r.path for r in gateway.requests if not r.path.split("?")[0].startswith(prefix)]
    if not requests:
        reason = "did not finish" if status is None else f"exited with status {status}"
        hint = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        return [
            Check(
                "self_test.profile",
                Status.FAIL,
                f"Codex {reason} without contacting the gateway: it ignored the profile, so its "
                "traffic would go around the gateway" + (f" ({hint[0][:160]})" if hint else ""),
                fix,
            )
        ]
    checks = [Check("self_test.profile", Status.OK, "Codex used the profile's provider")]
    checks.append(
        Check("self_test.path", Status.OK, f"requests arrived on {gateway.responses_path}")
        if not strays or all(p.endswith("/models") for p in strays)
        else Check("self_test.path", Status.FAIL, f"Codex also requested {strays[0]}", fix)
    )
    checks += _header_checks(setting, requests[0])
    checks += _leak_checks(setting, gateway)
    if status is None:
        checks.append(
            Check(
                "self_test.finished",
                Status.FAIL,
                f"Codex did not finish the turn within {TIMEOUT_SECONDS:g} s",
                "run codex-cf doctor --self-test again; report it if it persists",
            )
        )
    elif status != 0 or not gateway.turn_completed.is_set():
        checks.append(
            Check("self_test.finished", Status.FAIL, f"Codex exited with status {status}", fix)
        )
    else:
        checks.append(Check("self_test.finished", Status.OK, "Codex finished the turn"))
    return checks


def _header_checks(setting: Setting, request: fake_gateway.RecordedRequest) -> list[Check]:
    checks = []
    expected = setting.facts.layout.headers(setting.tokens, setting.access_token)
    for header, value in expected.items():
        received = request.header(header)
        if received == value:
            checks.append(
                Check(
                    f"self_test.{header}", Status.OK, f"{header} carried the token codex-cf holds"
                )
            )
        else:
            what = "was missing" if received is None else "did not carry the token codex-cf holds"
            checks.append(
                Check(
                    f"self_test.{header}",
                    Status.FAIL,
                    f"the {header} header {what}",
                    "codex-cf token status, then codex-cf doctor",
                )
            )
    return checks


def _leak_checks(setting: Setting, gateway: fake_gateway.FakeGateway) -> list[Check]:
    outputs = "\n".join(gateway.tool_outputs)
    if not outputs:
        return [
            Check(
                "self_test.hidden",
                Status.FAIL,
                "the agent's command did not run, so hiding the token could not be checked",
                "codex-cf doctor",
            )
        ]
    leaked = any(token in outputs for token in setting.tokens.values())
    setup_fix = profile_names.command_for(setting.profile, "setup")
    checks = [
        Check(
            "self_test.hidden",
            Status.FAIL,
            "the agent's shell command could read the token (shell_environment_policy)",
            setup_fix,
        )
        if leaked
        else Check(
            "self_test.hidden", Status.OK, "the agent's shell command could not read the token"
        )
    ]
    count = outputs.rsplit(SCAN_MARKER, 1)[-1].split()[:1] if SCAN_MARKER in outputs else []
    found = int(count[0]) if count and count[0].isdigit() else None
    if found is None:
        checks.append(
            Check(
                "self_test.environ", Status.WARN, "the process scan gave no answer on this system"
            )
        )
    elif found == 0:
        checks.append(
            Check("self_test.environ", Status.OK, "no process environment holds the token")
        )
    elif setting.facts.layout.auth_mode is AuthMode.ENV:
        checks.append(
            Check(
                "self_test.environ",
                Status.FAIL,
                f"the agent's commands read the token from /proc of Codex's own processes "
                f"({setting.sandbox.describe()})",
                setting.sandbox_fix(),
            )
        )
    else:
        layout = setting.facts.layout
        header_only = layout.billing is not Billing.UNIFIED and layout.sends_gateway_header
        checks.append(
            Check(
                "self_test.environ",
                Status.WARN if header_only else Status.FAIL,
                f"{found} process environment(s) hold the token"
                + (
                    " (the cf-aig-authorization header can only come from there)"
                    if header_only
                    else ""
                ),
                None if header_only else setup_fix,
            )
        )
    checks.append(_keyring_check(setting, probe_results(outputs)))
    return checks


_PATHS = {
    "secret-tool": "secret-tool lookup",
    "keyring": "python keyring",
    "token-print": "codex-cf token print",
}


def _keyring_check(setting: Setting, results: Mapping[str, str]) -> Check:
    """Whether the agent's commands could get the token out of the keyring, and how."""
    if not all(name in results for name in (*_PATHS, "bus")):
        return Check(
            "self_test.keyring", Status.WARN, "the keyring probe gave no answer on this system"
        )
    found = [what for name, what in _PATHS.items() if results[name] not in ("0", "-")]
    if found:
        return Check(
            "self_test.keyring",
            Status.FAIL,
            f"the agent's commands read the token from your keyring ({', '.join(found)}; "
            f"{setting.sandbox.describe()})",
            setting.sandbox_fix(),
        )
    if results["bus"] == "open":
        return Check(
            "self_test.keyring",
            Status.WARN,
            "the agent's commands can reach your Secret Service over D-Bus "
            f"({setting.sandbox.describe()}): whatever it holds is readable to them",
            setting.sandbox_fix(),
        )
    return Check(
        "self_test.keyring",
        Status.OK,
        "the agent's commands could not reach your keyring (secret-tool, python keyring, "
        f"codex-cf token print; {setting.sandbox.describe()})",
    )


def run(profile: str, environ: Mapping[str, str] | None = None) -> list[Check]:
    """Every self-test line; the first says whether a throwaway profile was used."""
    env = os.environ if environ is None else environ
    paths.cache_dir(env).mkdir(parents=True, exist_ok=True, mode=0o700)
    # Not under /tmp: Codex refuses some set-up in a CODEX_HOME inside the temp folder.
    home = Path(tempfile.mkdtemp(prefix="self-test-", dir=paths.cache_dir(env)))
    workdir = home / "project"
    workdir.mkdir()
    try:
        prepared = _prepare(profile, env, home)
        if isinstance(prepared, list):
            return prepared
        variables = sorted(prepared.facts.layout.hidden_variables)
        command = agent_command(
            variables, list(prepared.tokens.values()), profile, tuple(prepared.tokens)
        )
        with fake_gateway.FakeGateway(prepared.account, prepared.gateway, command) as gateway:
            if prepared.throwaway:
                _throwaway_profile(profile, gateway.base_url, home)
                intro = Check(
                    "self_test.setting",
                    Status.OK,
                    "no profile yet: used a throwaway profile and token in a temporary CODEX_HOME",
                )
            else:
                _copy_user_setting(profile, gateway.base_url, home)
                intro = Check(
                    "self_test.setting",
                    Status.OK,
                    f"your profile {profile!r} and config.toml, with the base URL on 127.0.0.1",
                )
            # Its requests never reach Cloudflare: `doctor --live` keeps looking for the
            # profile's last real launch.
            last = metadata.last_launch(profile, env)
            try:
                status, stderr = _launch(prepared, gateway, workdir)
            finally:
                metadata.restore_launch(profile, last, env)
            return [intro, *_evaluate(prepared, gateway, status, stderr)]
    finally:
        shutil.rmtree(home, ignore_errors=True)
