"""A check's verdict: what profile_rules finds and doctor shows, in one shape.

The id is stable: `doctor --json` users key on it.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any


class Status(enum.StrEnum):
    OK = "ok"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    id: str
    status: Status
    message: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAIL

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verdict(check_id: str, ok: bool, message: str, fix: str | None = None) -> Check:
    return Check(check_id, Status.OK if ok else Status.FAIL, message, fix)
