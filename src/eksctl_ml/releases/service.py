"""Install, remove and report the catalog's releases through a HelmClient.

Phases call :func:`install_phase` / :func:`uninstall_phase`; ``mlplat releases`` calls
:func:`list_releases`. Nothing here runs helm itself: it goes through the HelmClient contract.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eksctl_ml.adapters.helm.protocol import HelmClient, ReleaseStatus
from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import MlplatError
from eksctl_ml.releases.catalog import Catalog, Release
from eksctl_ml.releases.values import deep_merge, env_values, release_values

log = logging.getLogger("eksctl_ml.releases")

NOT_INSTALLED = "not installed"


def no_kubernetes_api(env: Environment) -> str | None:
    """Why ``env`` has no Kubernetes API to talk to, or None when it has one.

    An emulator env has no EKS control plane; only ``cluster.kube_context`` (a local cluster) gives it one.
    """
    if env.config.aws.emulator and not env.config.cluster.kube_context:
        return f"no Kubernetes API for env {env.name}"
    return None


@dataclass(frozen=True)
class ReleaseRow:
    """One catalog entry next to what is deployed."""

    name: str
    namespace: str
    chart: str
    source: str
    version: str
    phase: str
    enabled: bool
    condition: str | None
    status: str  # helm's (deployed, failed, ...), "not installed", "error", or why nothing was asked
    revision: int | None = None
    deployed_chart: str = ""
    error: str | None = None

    @property
    def drift(self) -> bool:
        """Deployed, but from another chart version than the pin."""
        return bool(self.deployed_chart) and not self.deployed_chart.endswith(
            (f"-{self.version}", f"-{self.version.removeprefix('v')}")
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "drift": self.drift}


def _row(release: Release, env: Environment, status: str, **extra: Any) -> ReleaseRow:
    return ReleaseRow(
        name=release.name,
        namespace=release.namespace,
        chart=release.chart,
        source=release.source,
        version=release.version,
        phase=release.phase,
        enabled=release.enabled(env),
        condition=release.condition,
        status=status,
        **extra,
    )


def _live_row(release: Release, env: Environment, helm: HelmClient) -> ReleaseRow:
    try:
        current = helm.status(release.name, namespace=release.namespace)
    except MlplatError as exc:
        return _row(release, env, "error", error=exc.message)
    except Exception as exc:  # one broken row must not hide the others
        log.debug("status of %s failed", release.name, exc_info=True)
        return _row(release, env, "error", error=f"{type(exc).__name__}: {exc}")
    if current is None:
        return _row(release, env, NOT_INSTALLED)
    return _row(release, env, current.status, revision=current.revision, deployed_chart=current.chart)


def list_releases(
    catalog: Catalog, helm: HelmClient | None, env: Environment, *, max_workers: int = 8
) -> list[ReleaseRow]:
    """Every catalog release in provision order with its live state. A failing lookup marks its own
    row ("error") and never the others. Without a Kubernetes API for ``env``, helm is not called."""
    releases = catalog.ordered()
    reason = no_kubernetes_api(env)
    if reason is not None:
        return [_row(r, env, reason) for r in releases]
    if helm is None:
        return [_row(r, env, "unknown", error="no Helm client configured") for r in releases]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(releases) or 1))) as pool:
        return list(pool.map(lambda r: _live_row(r, env, helm), releases))


def install_phase(
    catalog: Catalog,
    phase: str,
    env: Environment,
    helm: HelmClient,
    computed: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    root: Path | None = None,
) -> list[ReleaseStatus]:
    """``upgrade --install`` every release of ``phase`` that ``env`` enables, in catalog order, stopping
    at the first failure (HelmError). ``computed`` maps a release name to values mlplat computed for it
    (Terraform outputs...); they win over the files and over :func:`env_values`."""
    computed = computed or {}
    installed: list[ReleaseStatus] = []
    for release in catalog.for_phase(phase, env):
        extra = deep_merge(env_values(release, env), computed.get(release.name, {}))
        values = release_values(release, env.name, extra, root=root)
        log.info("installing %s %s %s into %s", release.name, release.chart, release.version, release.namespace)
        installed.append(
            helm.upgrade_install(
                release.name,
                release.chart_ref(root),
                namespace=release.namespace,
                version=release.version,
                values=values,
                timeout_s=release.timeout_s,
                repo=release.repo,
                wait=release.wait,
            )
        )
    return installed


def uninstall_phase(catalog: Catalog, phase: str, env: Environment, helm: HelmClient) -> list[tuple[str, bool]]:
    """Uninstall every release of ``phase`` in reverse install order: enabled or not (a switch turned
    off since the install must not leave its release behind). Returns (release, was it there)."""
    every = [r for r in catalog.ordered() if r.phase == phase]
    if phase not in {r.phase for r in catalog.releases}:
        catalog.for_phase(phase, env)  # validates the phase name (UsageError for an unknown one)
    return [
        (release.name, helm.uninstall(release.name, namespace=release.namespace, timeout_s=release.timeout_s))
        for release in reversed(every)
    ]
