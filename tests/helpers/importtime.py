"""Reading `python -X importtime`'s report: which modules a run imported."""

from __future__ import annotations


def imported(stderr: str) -> set[str]:
    """Dotted names of every module the report lists (other stderr lines are skipped)."""
    modules = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                modules.add(name)
    return modules


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}
