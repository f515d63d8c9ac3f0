"""The hot path: from `codex-cf ARGS` to the real Codex, in the same process.

Runs before every Codex start, so it imports only the standard library, its
sibling modules that do the same, and (on a keyring fallback) keyring. It
imports no command: what it needs from a person at the terminal (repair the
profile, type a token) its caller hands it as a `Person`.
"""

from __future__ import annotations

import os
import sys

from codex_cf import (
    codex_args,
    codex_binary,
    credentials,
    metadata,
    profile_facts,
    profile_names,
)
from codex_cf.constants import REENTRY_ENV, Secret
from codex_cf.errors import NoSecureKeyring, ProfileNotCurrent
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    import signal as _signal  # typeshed has no `_signal`: these are its names, typed
    from collections.abc import Callable, Mapping, Sequence

    from codex_cf.profile_rules import Report
else:
    # What `signal` wraps, loaded at interpreter start: the same functions and
    # constants, without `signal`'s enums (~2 ms).
    import _signal


class Person(NamedTuple):
    """What a person at the terminal can do for a launch; no Person when nobody is there."""

    # The profile is not current: explain, offer setup, return the facts it leaves.
    repair_profile: Callable[[Report], profile_facts.ProfileFacts]
    # No secret stored: ask for it (profile, secret, must_save) and maybe save it.
    prompt_for_token: Callable[[str, Secret, bool], str]
    # Nowhere safe to store a secret: ask for it for this run only.
    token_for_this_run: Callable[[str, Secret, NoSecureKeyring], str]


class Launch(NamedTuple):
    """What to exec: the environment carries the token, never argv."""

    executable: str
    argv: list[str]
    env: dict[str, str]
    # The profile and the id its requests are tagged with, recorded when Codex starts.
    tagged: tuple[str, metadata.Launch] | None = None


def _current_facts(
    profile: str, environ: Mapping[str, str], person: Person | None
) -> profile_facts.ProfileFacts:
    cached = profile_facts.cached(profile, environ)
    if cached is not None:
        return cached
    from codex_cf import profile_rules  # a changed or new profile: the full check

    outcome = profile_rules.check_and_remember(profile, environ)
    if isinstance(outcome, profile_facts.ProfileFacts):
        return outcome
    if person is not None:
        return person.repair_profile(outcome)
    failure = outcome.first_failure()
    assert failure is not None
    raise ProfileNotCurrent(f"profile {profile!r} is not usable: {failure.message}", failure.fix)


def _secret(
    profile: str,
    secret: Secret,
    environ: Mapping[str, str],
    person: Person | None,
    must_save: bool = False,
) -> str:
    try:
        value = credentials.resolve(profile, secret, environ).value
    except NoSecureKeyring as no_store:
        # Nowhere safe to keep it: a person may still paste it for this run (env mode only).
        if person is None or must_save:
            raise
        return person.token_for_this_run(profile, secret, no_store)
    if value:
        return value
    if person is not None:
        return person.prompt_for_token(profile, secret, must_save)
    raise credentials.missing_error(profile, secret)


def token_environment(
    profile: str,
    facts: profile_facts.ProfileFacts,
    environ: Mapping[str, str],
    person: Person | None,
) -> dict[str, str]:
    """The variables to add for Codex: set ones win (sent stripped), the rest come from
    the keyring."""
    added: dict[str, str] = {}
    values: dict[Secret, str] = {}
    layout = facts.layout
    for export in layout.exports:
        if export.secret is None:
            continue  # the request tags: set by tag_environment
        given = credentials.from_environment(environ, export.variable)
        if given is not None:
            if given != environ[export.variable]:
                added[export.variable] = given
            continue
        if export.secret not in values:
            values[export.secret] = _secret(profile, export.secret, environ, person)
        added[export.variable] = export.prefix + values[export.secret]
    access_variable = layout.access_token_variable
    if access_variable is not None:
        given = credentials.from_environment(environ, access_variable)
        if given is None:
            from codex_cf import access_token  # behind Access only: cloudflared's token

            assert facts.access_app is not None
            given = access_token.current(facts.access_app, environ, person is not None)
        added[access_variable] = given
    exported = {e.secret for e in layout.exports if e.secret is not None}
    for secret in layout.secrets:
        # Command mode: Codex asks `codex-cf token print` later; make sure it will answer.
        if secret not in exported:
            _secret(profile, secret, environ, person, must_save=True)
    return added


def tag_environment(
    profile: str, facts: profile_facts.ProfileFacts, cd: str | None, environ: Mapping[str, str]
) -> tuple[dict[str, str], metadata.Launch | None]:
    """The request tags for a new launch, in both auth modes (they hold no secret).

    Always computed afresh, whatever the environment holds: an id is this launch's.
    """
    variables = [e.variable for e in facts.layout.exports if e.secret is None]
    if not variables:
        return {}, None
    tag = metadata.Launch.new()
    value = metadata.tags(tag, profile, cd, environ)
    return dict.fromkeys(variables, value), tag


def plan_launch(args: Sequence[str], environ: Mapping[str, str], person: Person | None) -> Launch:
    """Decide everything about the Codex start without starting it."""
    codex_binary.check_not_reentered(environ, args)
    cmdline = codex_args.parse(args)
    codex = codex_binary.find(environ)
    env = codex.environment(environ)
    profile = None
    tagged = None
    if cmdline.runtime:
        profile = profile_names.resolve_name(cmdline.profile, environ)
        facts = _current_facts(profile, environ, person)
        env.update(token_environment(profile, facts, environ, person))
        tag_variables, tag = tag_environment(profile, facts, cmdline.cd, environ)
        env.update(tag_variables)
        tagged = (profile, tag) if tag is not None else None
        codex_binary.require_supported(codex, environ)
    argv = cmdline.codex_argv(profile)
    env[REENTRY_ENV] = codex_binary.reentry_marker(argv)
    return Launch(codex.program, [codex.program, *argv], env, tagged)


def exec_launch(launch: Launch, platform: str = sys.platform) -> int:
    """Become Codex: same PID, terminal, signals and exit status.

    Returns only on Windows, which has no exec: there Codex runs as a child
    and its exit status is returned for codex-cf to exit with.
    """
    if launch.tagged is not None:
        # For `doctor --live`: one small cache write, not synced to disk (a lost
        # record only means the check finds no launch).
        metadata.remember_launch(*launch.tagged, launch.env)
    sys.stdout.flush()
    sys.stderr.flush()
    if platform != "win32":
        _restore_ignored_signals()
        os.execve(launch.executable, launch.argv, launch.env)
    return run_as_child(launch)


def _restore_ignored_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec.

    Codex and the commands it runs get them at their defaults, as from a shell or Node.
    """
    for number in (_signal.SIGPIPE, _signal.SIGXFSZ):
        _signal.signal(number, _signal.SIG_DFL)


def run_as_child(launch: Launch) -> int:
    """Let the child have Ctrl-C (the console sends it to both) and report its status."""
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call(launch.argv, env=launch.env)
    finally:
        signal.signal(signal.SIGINT, previous)
