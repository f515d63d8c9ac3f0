"""npm's Codex tree rebuilt in a temporary folder, with a recording stand-in as the native binary.

The launcher files (`@openai/codex`, the platform package's manifests) are
copied from a real npm install, so Node runs the real `bin/codex.js`; only
the native binary is the stand-in, which records how it was started. Tests
break one part at a time to see what codex-cf does with a tree it cannot vouch for.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from helpers import real_parts, stand_in_codex


@dataclass
class NpmTree:
    node_modules: Path
    launcher: Path  # node_modules/.bin/codex, the link npm makes
    package: Path  # node_modules/@openai/codex
    platform_package: Path  # node_modules/@openai/codex-<os>-<arch>
    vendor: Path  # platform_package/vendor/<target triple>
    native: stand_in_codex.StandInCodex

    @property
    def script(self) -> Path:
        return self.package / "bin" / "codex.js"

    @property
    def layout(self) -> Path:
        return self.vendor / "codex-package.json"

    def set_layout(self, **changes: object) -> None:
        data = json.loads(self.layout.read_text())
        data.update(changes)
        self.layout.write_text(json.dumps(data))


def build(node_modules: Path, version: str) -> NpmTree:
    """The tree `npm install @openai/codex@VERSION` leaves in node_modules."""
    real = real_parts.npm_codex(version).parent.parent  # the real node_modules
    (platform_name,) = [p.name for p in (real / "@openai").iterdir() if p.name != "codex"]
    package = node_modules / "@openai" / "codex"
    shutil.copytree(real / "@openai" / "codex", package, symlinks=True)
    platform_package = node_modules / "@openai" / platform_name
    (real_vendor,) = (real / "@openai" / platform_name / "vendor").iterdir()
    vendor = platform_package / "vendor" / real_vendor.name
    vendor.mkdir(parents=True)
    shutil.copy(real / "@openai" / platform_name / "package.json", platform_package)
    shutil.copy(real_vendor / "codex-package.json", vendor)
    (vendor / "codex-path").mkdir()
    native = stand_in_codex.install(vendor / "bin", version=version)
    launcher = node_modules / ".bin" / "codex"
    launcher.parent.mkdir()
    launcher.symlink_to(os.path.join("..", "@openai", "codex", "bin", "codex.js"))
    return NpmTree(node_modules, launcher, package, platform_package, vendor, native)
