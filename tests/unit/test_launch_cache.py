"""codex-cf's cache: entries are misses when in doubt, written whole, and all known to remove."""

from __future__ import annotations

import ast
import stat
from pathlib import Path

import pytest

import codex_cf
from codex_cf import codex_config, launch_cache, paths
from helpers.process import run_codex_cf

PACKAGE = Path(codex_cf.__file__).parent


def test_an_entry_reads_back_what_was_stored(home) -> None:
    launch_cache.store(launch_cache.CODEX_VERSIONS, {"a": [1, 2]})
    assert launch_cache.load(launch_cache.CODEX_VERSIONS) == {"a": [1, 2]}
    assert launch_cache.entry_path(launch_cache.CODEX_VERSIONS).parent == paths.cache_dir()


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_an_unreadable_entry_is_a_miss(home, content: bytes) -> None:
    path = launch_cache.entry_path(launch_cache.CODEX_VERSIONS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    assert launch_cache.load(launch_cache.CODEX_VERSIONS) == {}


def test_a_missing_entry_is_a_miss_and_discarding_it_is_no_error(home) -> None:
    assert launch_cache.load(launch_cache.SELF_TEST) == {}
    assert launch_cache.discard(launch_cache.SELF_TEST) is False
    launch_cache.store(launch_cache.SELF_TEST, {})
    assert launch_cache.discard(launch_cache.SELF_TEST) is True


def test_entries_are_private_and_leave_no_temporary_file(home) -> None:
    launch_cache.store(launch_cache.profile_entry("work"), {"facts": 1})
    launch_cache.store(launch_cache.profile_entry("work"), {"facts": 2})
    path = launch_cache.entry_path(launch_cache.profile_entry("work"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["profile-work.json"]
    assert launch_cache.load(launch_cache.profile_entry("work")) == {"facts": 2}


def test_a_cache_that_cannot_be_written_is_skipped(home) -> None:
    paths.cache_dir().parent.mkdir(parents=True, exist_ok=True)
    paths.cache_dir().write_text("a file where the folder should be")
    launch_cache.store(launch_cache.CODEX_STARTS, {"x": 1})  # no error
    assert launch_cache.load(launch_cache.CODEX_STARTS) == {}


def test_an_unnamed_entry_is_refused(home) -> None:
    with pytest.raises(ValueError, match="not named"):
        launch_cache.store("something-new", {})
    assert not launch_cache.entry_path("something-new").exists()


def test_the_profiles_with_an_entry_are_listed(home) -> None:
    for name in ("work", "cloudflare-aig"):
        launch_cache.store(launch_cache.profile_entry(name), {})
    launch_cache.store(launch_cache.CODEX_VERSIONS, {})
    assert launch_cache.cached_profiles() == ["cloudflare-aig", "work"]


def test_a_file_changed_just_now_is_not_settled(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.write_text("x")
    signature = launch_cache.file_signature(fresh)
    assert signature is not None
    assert not launch_cache.is_settled(signature)
    aged = [*signature[:2], 0, 0, *signature[4:]]  # as if written long ago
    assert launch_cache.is_settled(aged)
    assert launch_cache.is_settled(None)  # a missing file: its absence can be cached
    assert launch_cache.file_signature(tmp_path / "missing") is None


def test_the_signature_changes_with_content_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("one")
    first = launch_cache.file_signature(path)
    path.chmod(0o600)
    second = launch_cache.file_signature(path)
    path.write_text("three")
    assert len({str(first), str(second), str(launch_cache.file_signature(path))}) == 3


def _stored_names() -> dict[str, list[str]]:
    """For each module, the first argument of every `launch_cache.store(...)` it makes."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "store"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "launch_cache"
            ):
                found.setdefault(path.name, []).append(ast.unparse(node.args[0]))
    return found


def test_every_entry_a_module_stores_is_one_remove_all_knows() -> None:
    """A new entry must be named in launch_cache, or `remove --all` would leave it behind."""
    known = {
        f"launch_cache.{n}"
        for n in dir(launch_cache)
        if getattr(launch_cache, n) in launch_cache.SHARED_ENTRIES
    }
    stored = _stored_names()
    assert set(stored) >= {"profile_facts.py", "codex_binary.py", "npm_codex.py"}
    unknown = {
        module: [
            name
            for name in names
            if name not in known and not name.startswith("launch_cache.profile_entry(")
        ]
        for module, names in stored.items()
    }
    assert {m: names for m, names in unknown.items() if names} == {}


def test_remove_all_leaves_no_entry_and_no_lock(home) -> None:
    for name in launch_cache.SHARED_ENTRIES:
        launch_cache.store(name, {"x": 1})
    launch_cache.store(launch_cache.profile_entry("work"), {})
    with codex_config.write_lock():
        assert launch_cache.lock_path().exists()
    done = run_codex_cf("remove", "--all", "--yes", "--keep-token")
    assert done.returncode == 0, done.stderr
    for name in launch_cache.SHARED_ENTRIES:
        assert str(launch_cache.entry_path(name)) in done.stderr  # listed before removal
    assert not paths.cache_dir().exists()  # emptied, then removed
