"""Contract of the Helm adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ReleaseStatus:
    name: str
    namespace: str
    revision: int
    status: str  # deployed | failed | pending-install | ...
    chart: str
    app_version: str = ""


class HelmClient(Protocol):
    """``upgrade --install --atomic --wait`` and idempotent uninstall. Failures are HelmError."""

    def version(self) -> str: ...

    def upgrade_install(
        self,
        release: str,
        chart: str,
        *,
        namespace: str,
        version: str | None,
        values: Mapping[str, Any],
        timeout_s: int,
    ) -> ReleaseStatus: ...

    def uninstall(self, release: str, *, namespace: str, timeout_s: int) -> bool:
        """Remove the release; False if it was already gone."""
        ...

    def status(self, release: str, *, namespace: str) -> ReleaseStatus | None: ...
