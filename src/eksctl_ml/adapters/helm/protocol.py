"""Contract of the Helm adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ReleaseStatus:
    name: str
    namespace: str
    revision: int
    status: str  # deployed | failed | pending-install | ...
    chart: str  # "<chart>-<version>", as `helm list` shows it
    app_version: str = ""
    # The rendered manifest (multi-document YAML) when the call produced it (upgrade_install);
    # empty from status(). Readiness gates read it to know which workloads the release owns.
    manifest: str = field(default="", repr=False, compare=False)


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
        repo: str | None = None,
        wait: bool = True,
    ) -> ReleaseStatus:
        """Install or upgrade ``release``. ``chart`` is a chart name in ``repo`` (a repository URL) or,
        when ``repo`` is None, a local chart folder or archive. ``values`` are passed as data.

        ``wait`` False: no ``--atomic --wait``; helm returns once the objects are applied and the
        caller's readiness gate waits (and explains a failure better than a helm timeout would)."""
        ...

    def uninstall(self, release: str, *, namespace: str, timeout_s: int) -> bool:
        """Remove the release; False if it was already gone."""
        ...

    def status(self, release: str, *, namespace: str) -> ReleaseStatus | None: ...
