"""Writes that never lose a byte: atomic, private, backed up, locked, conflict-aware."""

from __future__ import annotations

import errno
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from codex_cf import codex_config
from codex_cf.errors import FileConflict, ProfileNotCurrent

ORIGINAL = '# mine\nmodel = "o3"\n\n[projects."/src/x"]\ntrust_level = "trusted"\n'


@pytest.fixture
def profile(home) -> Path:
    path = home.profile()
    path.write_text(ORIGINAL)
    path.chmod(0o644)
    return path


def _edit(path: Path) -> codex_config.LoadedFile:
    loaded = codex_config.load(path, "fix")
    loaded.document["model"] = "gpt-5.5"
    return loaded


def test_save_is_private_and_keeps_a_backup(profile) -> None:
    backup = codex_config.save(_edit(profile), "fix")
    assert backup == profile.with_name(profile.name + ".bak")
    assert backup.read_text() == ORIGINAL
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert 'model = "gpt-5.5"' in profile.read_text()
    assert [p.name for p in profile.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_new_file_has_no_backup(home) -> None:
    loaded = codex_config.load(home.profile("new"), "fix")
    loaded.document["model"] = "x"
    assert codex_config.save(loaded, "fix") is None
    assert stat.S_IMODE(home.profile("new").stat().st_mode) == 0o600


def test_file_changed_on_disk_after_reading_is_not_overwritten(profile) -> None:
    loaded = _edit(profile)
    codex_written = ORIGINAL + '\n[projects."/src/y"]\ntrust_level = "trusted"\n'
    profile.write_text(codex_written)  # Codex adds a trust entry meanwhile
    with pytest.raises(FileConflict, match="changed on disk"):
        codex_config.save(loaded, "fix")
    assert profile.read_text() == codex_written


def test_malformed_file_is_reported_with_line_and_column_and_never_touched(home) -> None:
    path = home.profile()
    path.write_text('model = "x"\n[broken\nkey = 1\n')
    before = path.read_bytes()
    with pytest.raises(ProfileNotCurrent) as raised:
        codex_config.load(path, "fix")
    assert "line 2" in raised.value.message
    assert "column" in raised.value.message
    assert str(path) in raised.value.message
    assert path.read_bytes() == before


def test_failure_at_rename_leaves_the_old_file_intact(profile, monkeypatch) -> None:
    loaded = _edit(profile)
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        if Path(dst) == profile:
            raise OSError(errno.EIO, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(FileConflict, match="previous version is intact"):
        codex_config.save(loaded, "fix")
    assert profile.read_text() == ORIGINAL
    assert [p.name for p in profile.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_disk_full_mid_write_leaves_the_old_file_intact(profile, monkeypatch) -> None:
    loaded = _edit(profile)
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        # The backup goes through; the new profile's data does not reach the disk.
        target = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.basename(target).startswith(f".{profile.name}.") and ".bak" not in target:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(FileConflict, match="No space left"):
        codex_config.save(loaded, "fix")
    assert profile.read_text() == ORIGINAL
    assert [p.name for p in profile.parent.iterdir() if p.name.endswith(".tmp")] == []


def _hold_lock(cache: str, ready: multiprocessing.synchronize.Event, seconds: float) -> None:
    os.environ["XDG_CACHE_HOME"] = cache
    with codex_config.write_lock():
        ready.set()
        time.sleep(seconds)


def test_a_concurrent_codex_cf_waits_for_the_lock_then_gives_up(home, monkeypatch) -> None:
    monkeypatch.setattr(codex_config, "_LOCK_WAIT_SECONDS", 0.5)
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lock, args=(str(home.cache), ready, 600)
    )
    holder.start()
    try:
        assert ready.wait(120)
        started = time.monotonic()
        with pytest.raises(FileConflict, match="another codex-cf"), codex_config.write_lock():
            pass
        assert time.monotonic() - started < 60  # gave up, long before the holder lets go
    finally:
        holder.terminate()
        holder.join()
    with codex_config.write_lock():  # free again once the other one is gone
        pass
