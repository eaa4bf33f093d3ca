"""How commands get their collaborators. The CLI uses :meth:`Dependencies.default`; tests pass their
own phases, store and adapters through ``CliRunner.invoke(app, ..., obj=Dependencies(...))``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eksctl_ml.adapters import Adapters
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import Phase
from eksctl_ml.engine.store import LocalStore, StateStore

STATE_DIR_VAR = "MLPLAT_STATE_DIR"


def state_root() -> Path:
    """Where per-env journals, locks, logs and generated files live: ``$MLPLAT_STATE_DIR`` or ``./.mlplat``."""
    return Path(os.environ.get(STATE_DIR_VAR) or ".mlplat")


def _default_phases(env: Environment) -> Sequence[Phase]:
    from eksctl_ml.phases.registry import provision_order

    return provision_order(env)


def _default_store(env: Environment, workdir: Path) -> StateStore:
    return LocalStore(env.name, workdir)


def _default_adapters(env: Environment, workdir: Path) -> Adapters:
    def aws() -> object:
        from eksctl_ml.adapters.aws.session import Boto3Aws

        return Boto3Aws(env.config.aws.region, env.config.aws.profile)

    return Adapters(aws_factory=aws)  # type: ignore[arg-type]


@dataclass
class Dependencies:
    """Factories for everything a command touches outside the process."""

    phases: Callable[[Environment], Sequence[Phase]] = _default_phases
    store: Callable[[Environment, Path], StateStore] = _default_store
    adapters: Callable[[Environment, Path], Adapters] = _default_adapters
    root: Path = field(default_factory=state_root)

    def workdir(self, env: Environment) -> Path:
        return self.root / env.name
