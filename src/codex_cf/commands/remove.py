"""`codex-cf remove`: every trace codex-cf left for a profile, and nothing else.

The profile file is moved to a timestamped backup beside it, never deleted,
so a profile edited since codex-cf wrote it is not lost. config.toml is left
as it is: a migration codex-cf made there is what Codex needs.
"""

from __future__ import annotations

import contextlib
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from codex_cf import (
    credentials,
    launch_cache,
    paths,
    profile_names,
    sessions,
    terminal,
)
from codex_cf.codex_config import backup_path, write_lock
from codex_cf.constants import PROVIDER_ID, SECRET_LABEL, ExitStatus, Secret
from codex_cf.errors import FileConflict, KeyringUnavailable, UsageError


@dataclass(frozen=True)
class RemoveOptions:
    profile: str | None = None
    all_profiles: bool = False
    keep_token: bool = False
    yes: bool = False
    dry_run: bool = False


@dataclass
class Traces:
    """What codex-cf left behind, found before anything is removed."""

    profiles: list[str] = field(default_factory=list)
    profile_files: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    keyring_items: list[tuple[str, Secret, str]] = field(default_factory=list)  # + backend
    cache_entries: list[str] = field(default_factory=list)
    completion_files: list[Path] = field(default_factory=list)
    foreign: list[Path] = field(default_factory=list)  # same name, not codex-cf's
    shared: bool = False  # --all: codex-cf's own folders go too

    def empty(self) -> bool:
        return not (
            self.profile_files
            or self.backups
            or self.keyring_items
            or self.cache_entries
            or self.completion_files
        )

    def lines(self) -> list[str]:
        found = [f"profile {p} (moved to a timestamped backup)" for p in self.profile_files]
        found += [f"backup codex-cf kept of an earlier version: {p}" for p in self.backups]
        found += [
            f"keyring item: {SECRET_LABEL[s]} of profile {name!r}{_plaintext_note(backend)}"
            for name, s, backend in self.keyring_items
        ]
        found += [f"completion script: {p}" for p in self.completion_files]
        found += [f"cache entry: {launch_cache.entry_path(n)}" for n in self.cache_entries]
        return found


def _plaintext_note(backend: str) -> str:
    """A plain-text store is refused for reading and storing; deleting from it is safe."""
    if not credentials.is_plaintext(backend):
        return ""
    return f" (in {backend}, a plain-text store codex-cf refuses to use; deleting is safe)"


def is_codex_cf_profile(path: Path) -> bool:
    """codex-cf's profiles use its provider id, which it never renames."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return document.get("model_provider") == PROVIDER_ID


def _all_profile_names() -> list[str]:
    names = set()
    for path in paths.codex_home().glob("*.config.toml"):
        if is_codex_cf_profile(path):
            names.add(path.name.removesuffix(".config.toml"))
    names.update(launch_cache.cached_profiles())
    names.add(profile_names.resolve_name(None))
    return sorted(n for n in names if profile_names.valid_profile_name(n))


def find_traces(options: RemoveOptions) -> Traces:
    traces = Traces()
    traces.profiles = (
        _all_profile_names()
        if options.all_profiles
        else [profile_names.resolve_name(options.profile)]
    )
    for name in traces.profiles:
        path = paths.profile_path(name)
        if path.exists():
            if is_codex_cf_profile(path):
                traces.profile_files.append(path)
            else:
                traces.foreign.append(path)
        if backup_path(path).exists() and path not in traces.foreign:
            traces.backups.append(backup_path(path))
        if not options.keep_token:
            for secret in Secret:
                try:
                    backend = credentials.holder(name, secret)
                except KeyringUnavailable as error:
                    raise KeyringUnavailable(
                        error.message, f"{error.fix}; or keep the keyring items: --keep-token"
                    ) from None
                if backend is not None:
                    traces.keyring_items.append((name, secret, backend))
        if launch_cache.entry_path(launch_cache.profile_entry(name)).exists():
            traces.cache_entries.append(launch_cache.profile_entry(name))
    if options.all_profiles:
        from codex_cf import shells

        traces.shared = True
        traces.completion_files = shells.installed_completion_files(paths.home())
        traces.cache_entries += [
            n for n in launch_cache.SHARED_ENTRIES if launch_cache.entry_path(n).exists()
        ]
    return traces


def _timestamped(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.removed-{stamp}")
    counter = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.removed-{stamp}-{counter}")
        counter += 1
    return candidate


def _remove(traces: Traces) -> None:
    with write_lock():
        try:
            for path in traces.profile_files:
                kept = _timestamped(path)
                os.replace(path, kept)
                terminal.say(f"Moved {path} to {kept}")
            for path in traces.backups + traces.completion_files:
                path.unlink(missing_ok=True)
                terminal.say(f"Removed {path}")
        except OSError as error:
            raise FileConflict(
                f"could not remove {error.filename} ({error.strerror}); what is listed above "
                "was done, the rest is untouched",
                f"make {Path(error.filename or '.').parent} writable, then run the command again",
            ) from None
    for name, secret, backend in traces.keyring_items:
        credentials.delete(name, secret)
        where = (
            f"the plain-text store {backend}"
            if credentials.is_plaintext(backend)
            else "the keyring"
        )
        terminal.say(f"Removed the {SECRET_LABEL[secret]} of profile {name!r} from {where}")
    for entry in traces.cache_entries:
        launch_cache.discard(entry)
    if traces.cache_entries:
        terminal.say("Removed codex-cf's cache entries")
    if traces.shared:
        launch_cache.lock_path().unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        paths.cache_dir().rmdir()  # only when empty


def run(options: RemoveOptions) -> int:
    if options.all_profiles and options.profile:
        raise UsageError("--profile and --all exclude each other", "codex-cf remove --all")
    traces = find_traces(options)
    for path in traces.foreign:
        terminal.say(f"Left alone: {path} is not a codex-cf profile")
    if traces.empty():
        terminal.say("Nothing to remove: codex-cf left no traces for " + _which(options, traces))
        return ExitStatus.OK
    terminal.say(f"codex-cf will remove, for {_which(options, traces)}:")
    for line in traces.lines():
        terminal.say(f"  {line}")
    if options.dry_run:
        terminal.say("Dry run: nothing was removed.")
        return ExitStatus.OK
    if not options.yes:
        if not terminal.is_interactive():
            raise UsageError(
                "remove asks before it removes anything, and there is no terminal to ask",
                "codex-cf remove --yes" + (" --all" if options.all_profiles else ""),
            )
        if not terminal.confirm("Remove these?", default=False):
            terminal.say("Nothing was removed.")
            return ExitStatus.FAILURE
    started = time.time()
    _remove(traces)
    base_backup = backup_path(paths.base_config_path())
    if base_backup.exists():
        terminal.say(
            f"config.toml keeps the migration codex-cf made (Codex needs it); "
            f"your original is in {base_backup}"
        )
    for name in traces.profiles:
        running = sessions.running(name, started_before=started)
        if running:
            terminal.say(f"Codex sessions still running with profile {name!r}; restart them:")
            for line in sessions.describe(running):
                terminal.say(f"  {line}")
    return ExitStatus.OK


def _which(options: RemoveOptions, traces: Traces) -> str:
    if options.all_profiles:
        return "every profile" + (f" ({', '.join(traces.profiles)})" if traces.profiles else "")
    return f"profile {traces.profiles[0]!r}"
