"""Small file fixtures."""

from __future__ import annotations

from pathlib import Path


def write(path: Path, text: str) -> Path:
    """`text` at `path`, its folders made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
