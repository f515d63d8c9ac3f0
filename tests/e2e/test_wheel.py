"""The wheel as users get it: built from the tree, installed into a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from codex_cf.commands import completion
from helpers import real_parts


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, check=False, **kwargs
    )
    assert result.returncode == 0, f"{argv[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(real_parts.REPO)])
    (built,) = out.glob("codex_cf-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(folder)])
    run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    return folder


def test_the_wheel_holds_the_completion_scripts(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in completion.SCRIPT_FILES.values():
            member = f"codex_cf/completions/{name}"
            assert member in names
            shipped = (real_parts.REPO / "completions" / name).read_bytes()
            assert archive.read(member) == shipped


def test_help_runs_from_a_fresh_venv(venv: Path, home) -> None:
    result = run([str(venv / "bin" / "codex-cf"), "--help"], env=_env(venv))
    for command in ("setup", "token", "doctor", "completion", "remove"):
        assert command in result.stdout


def test_installed_package_prints_its_own_scripts(venv: Path, home) -> None:
    """Read through importlib.resources from site-packages: no source tree there."""
    python = venv / "bin" / "python"
    location = run(
        [str(python), "-c", "import codex_cf, pathlib; print(pathlib.Path(codex_cf.__file__))"],
        env=_env(venv),
    ).stdout.strip()
    package = Path(location).parent
    assert package.is_relative_to(venv)
    for shell, name in completion.SCRIPT_FILES.items():
        assert (package / "completions" / name).is_file()
        printed = run([str(venv / "bin" / "codex-cf"), "completion", shell], env=_env(venv)).stdout
        assert printed == (real_parts.REPO / "completions" / name).read_text()


def _env(venv: Path) -> dict[str, str]:
    """The test's HOME and XDG dirs, the venv first on PATH, nothing of the dev install."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])
    return env
