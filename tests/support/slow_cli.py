"""Runs the real `mlplat` CLI with test phases, in its own process (for signal and lock-race tests).

Usage: python -m tests.support.slow_cli STATE_ROOT WORLD_FILE MARKER SLOW_SECONDS -- <mlplat args>
The 'world' (what was built, every call) is persisted to WORLD_FILE so the test can read it back.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from eksctl_ml.cli import app
from eksctl_ml.services.deps import Dependencies, local_store
from tests.fakes.adapters import fake_adapters
from tests.fakes.phases import ScriptedPhase, World


class PersistedWorld(World):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        if path.exists():
            data = json.loads(path.read_text())
            self.built, self.log = set(data["built"]), data["log"]

    def save(self) -> None:
        self.path.write_text(json.dumps({"built": sorted(self.built), "log": self.log}))


class SavingPhase(ScriptedPhase):
    def apply(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().apply(ctx)
        finally:
            self.world.save()  # type: ignore[attr-defined]

    def check(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().check(ctx)
        finally:
            self.world.save()  # type: ignore[attr-defined]


def main() -> None:
    root, world_file, marker, slow = sys.argv[1:5]
    args = sys.argv[sys.argv.index("--") + 1 :]
    world = PersistedWorld(Path(world_file))
    phases = [
        SavingPhase("network", world),
        SavingPhase("cluster", world, needs="network", sleep_s=float(slow), marker=Path(marker)),
        SavingPhase("apps", world, needs="cluster"),
    ]
    deps = Dependencies(
        phases=lambda env: phases,
        adapters=lambda env, wd: fake_adapters(),
        root=Path(root),
        store=local_store,
        inventory=None,
    )
    app(args=args, prog_name="mlplat", obj=deps)


if __name__ == "__main__":
    main()
