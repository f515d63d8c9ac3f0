"""The fake gateway, answering only once Codex has its shell snapshot.

Codex sources that snapshot before each of the agent's commands, once it is
ready; releases before 0.158.0 exported the excluded token variable from it.
A command that ran before the snapshot was ready would prove nothing about it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_cf.fake_gateway import FakeGateway

SNAPSHOT_WAIT_SECONDS = 120  # a limit for a stuck Codex, not the verdict


class SnapshotGateway(FakeGateway):
    """Holds each answer until a snapshot is in `codex_home`; `snapshot_seen` says if one came."""

    def __init__(self, codex_home: Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshots = codex_home / "shell_snapshots"
        self.snapshot_seen = False

    def _answer(self, body: Mapping[str, Any]) -> bytes:
        # Codex renames the snapshot into place (*.sh) just before it starts using it.
        deadline = time.monotonic() + SNAPSHOT_WAIT_SECONDS
        while not self.snapshot_seen and time.monotonic() < deadline:
            self.snapshot_seen = any(self.snapshots.glob("*.sh"))
            if not self.snapshot_seen:
                time.sleep(0.05)
        return super()._answer(body)
