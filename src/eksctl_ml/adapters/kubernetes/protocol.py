"""Contract of the Kubernetes adapter (readiness waits return diagnoses, never raw API objects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from eksctl_ml.engine.phase import CheckResult


class KubernetesClient(Protocol):
    """Thin, typed view of the cluster. Library exceptions become KubernetesError."""

    def server_version(self) -> str: ...

    def wait_for_rollout(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Callable[[str], None] | None = None,
    ) -> CheckResult:
        """Wait until a Deployment/DaemonSet/StatefulSet is rolled out; explain what blocks it if not."""
        ...
