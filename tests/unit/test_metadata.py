"""The request tags: which project a folder belongs to, and the header's shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_cf import metadata

HOST_ENV = {"HOME": "/nonexistent-home"}


def repo(root: Path, *inner: str, git_file: bool = False) -> Path:
    """A repository's top level with a `.git` folder (or a worktree's `.git` file)."""
    root.mkdir(parents=True, exist_ok=True)
    if git_file:
        (root / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")
    else:
        (root / ".git").mkdir()
    folder = root.joinpath(*inner)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_repository_top_level_names_the_project_from_any_folder_inside(tmp_path) -> None:
    deep = repo(tmp_path / "shop", "src", "api", "v2")
    assert metadata.project_name(deep) == "shop"
    assert metadata.project_name(tmp_path / "shop") == "shop"


def test_a_worktree_or_submodule_git_file_marks_its_own_top_level(tmp_path) -> None:
    repo(tmp_path / "main")
    worktree = repo(tmp_path / "main" / "vendor" / "lib", "src", git_file=True)
    assert metadata.project_name(worktree) == "lib"


def test_outside_a_repository_the_working_folder_names_it(tmp_path) -> None:
    folder = tmp_path / "notes" / "drafts"
    folder.mkdir(parents=True)
    assert metadata.project_name(folder) == "drafts"


def test_a_home_kept_in_git_does_not_swallow_projects_nor_name_the_user(tmp_path) -> None:
    home = repo(tmp_path / "alice")  # dotfiles in git
    scratch = home / "scratch"
    scratch.mkdir()
    assert metadata.project_name(scratch, home) == "scratch"
    assert metadata.project_name(home, home) == metadata.HOME_PROJECT
    assert metadata.project_name(repo(home / "src" / "app", "lib"), home) == "app"


def test_the_tags_follow_codexs_cd_and_fit_cloudflares_rules(tmp_path, monkeypatch) -> None:
    project = repo(tmp_path / "webshop", "src")
    monkeypatch.chdir(tmp_path)
    launch = metadata.Launch.new()
    value = metadata.tags(launch, "work", str(project.relative_to(tmp_path)), HOST_ENV)
    tags = json.loads(value)
    assert tags[metadata.LAUNCH] == launch.launch_id
    assert tags[metadata.PROJECT] == "webshop"
    assert tags[metadata.PROFILE] == "work"
    assert tags[metadata.HOST] == os.uname().nodename.split(".")[0]
    assert len(tags) <= metadata.MAX_KEYS
    assert not any(k.startswith(metadata.RESERVED_PREFIX) for k in tags)
    assert all(isinstance(v, str) for v in tags.values())  # flat
    assert ", " not in value
    assert ": " not in value
    # Without -C: the folder codex-cf (and so Codex) starts in.
    monkeypatch.chdir(project)
    assert json.loads(metadata.tags(launch, "work", None, HOST_ENV))[metadata.PROJECT] == "webshop"


def test_each_launch_gets_its_own_id() -> None:
    ids = {metadata.Launch.new().launch_id for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


@given(st.text(min_size=1, max_size=80).filter(lambda n: "/" not in n and "\0" not in n))
def test_any_folder_name_makes_a_header_value_of_printable_ascii(name) -> None:
    if name in (".", ".."):
        return
    cwd = Path("/nonexistent-root") / name
    value = metadata.tags(metadata.Launch("0" * 16, "t"), name, str(cwd), HOST_ENV)
    assert value.isascii()
    assert all(" " <= c <= "~" for c in value)  # no control character either
    assert json.loads(value)[metadata.PROJECT] == name[: metadata.MAX_VALUE_CHARS]
    # Byte for byte what json.dumps wrote before the launch path stopped importing json.
    expected = {
        metadata.LAUNCH: "0" * 16,
        metadata.PROJECT: name[: metadata.MAX_VALUE_CHARS],
        metadata.PROFILE: name[: metadata.MAX_VALUE_CHARS],
        metadata.HOST: metadata.host_name(HOST_ENV),
    }
    assert value == json.dumps(expected, ensure_ascii=True, separators=(",", ":"))


@pytest.mark.parametrize("cd", [["-C", "x"], ["--cd", "x"], ["--cd=x"], ["-Cx"]])
def test_codex_args_find_the_working_folder_in_every_spelling(cd) -> None:
    from codex_cf import codex_args

    line = codex_args.parse([*cd, "exec", "hi"])
    assert line.cd == "x"
    assert line.codex_argv("p") == ["--profile", "p", *cd, "exec", "hi"]
    assert codex_args.parse(["exec", "-C", "y", "hi"]).cd == "y"
    assert codex_args.parse(["exec", "hi"]).cd is None
