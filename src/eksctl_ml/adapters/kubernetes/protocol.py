"""Contract of the Kubernetes adapter (readiness waits return diagnoses, never raw API objects).

Waits take ``timeout_s`` (an overall deadline), an optional ``progress`` callback (called with a short
line whenever what the wait sees changes) and an optional ``cancelled`` event: once it is set, the wait
raises :class:`KeyboardInterrupt` at the next event it receives, as Ctrl-C would.

Failures of the API itself (unreachable, 401/403, 5xx) raise :class:`KubernetesApiError`; a resource
that is not there yet is not an error for a wait (it is what the wait reports), and where "absent" is
an answer to a direct read the error is the :class:`KubernetesNotFoundError` subclass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from eksctl_ml.engine.phase import CheckResult
from eksctl_ml.errors import KubernetesError

if TYPE_CHECKING:
    from eksctl_ml.adapters.kubernetes.proxy import ProxyResponse
    from eksctl_ml.releases.endpoints import ServiceRef

GPU_RESOURCE = "nvidia.com/gpu"
"""The extended resource the NVIDIA device plugin advertises on GPU nodes."""

GPU_POOL_LABEL = "mlplat.io/pool"
GPU_POOL_VALUE = "gpu"
"""Nodes labelled ``mlplat.io/pool=gpu`` are the GPU node pool."""

INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"

ROLLOUT_KINDS = ("Deployment", "DaemonSet", "StatefulSet")


class KubernetesApiError(KubernetesError):
    """The API server answered with an error (``status`` is the HTTP code; 0 when it was unreachable)."""

    def __init__(
        self, message: str, *, status: int = 0, reason: str = "", detail: str = "", hint: str | None = None
    ) -> None:
        super().__init__(message, detail=detail, hint=hint)
        self.status = status
        self.reason = reason


class KubernetesNotFoundError(KubernetesApiError):
    """404: the object (or its API) does not exist."""


@dataclass(frozen=True)
class NodeInfo:
    """What readiness gates need to know about one node."""

    name: str
    ready: bool
    instance_type: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[str, ...] = ()
    """``key=value:Effect`` (``key:Effect`` when there is no value)."""
    gpus_allocatable: int = 0
    """Allocatable ``nvidia.com/gpu`` (0 when the node does not advertise the resource)."""
    not_ready_reason: str = ""
    """For a node that is not Ready: its Ready condition's reason and message."""

    @property
    def is_gpu_pool(self) -> bool:
        return self.labels.get(GPU_POOL_LABEL) == GPU_POOL_VALUE


Progress = Callable[[str], None]


class KubernetesClient(Protocol):
    """Thin, typed view of the cluster. Library exceptions become KubernetesError."""

    @property
    def api_client(self) -> Any:
        """The underlying ``kubernetes.client.ApiClient`` (for code that drives other APIs with it)."""
        ...

    def server_version(self) -> str: ...

    def wait_for_rollout(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Callable[[str], None] | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        """Wait until a Deployment/DaemonSet/StatefulSet is rolled out; explain what blocks it if not."""
        ...

    def wait_pvc_bound(
        self,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        """Wait until a PersistentVolumeClaim is Bound; the diagnosis carries its events if not."""
        ...

    def wait_crd_established(
        self,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        """Wait until a CustomResourceDefinition (``plural.group``) is Established."""
        ...

    def wait_job_complete(
        self,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        """Wait until a Job is Complete; a Failed job returns at once with its pods' state and logs."""
        ...

    def wait_service_endpoints(
        self,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        """Wait until a Service has at least one ready endpoint (webhook services must, before use)."""
        ...

    def nodes_summary(self) -> list[NodeInfo]: ...

    def gpu_allocatable_check(self, expected_per_type: Callable[[str], int | None]) -> CheckResult:
        """Every node Ready; every GPU-pool node advertises the GPUs its instance type has."""
        ...

    def pod_logs(
        self, namespace: str, pod: str, tail_lines: int, *, container: str | None = None, previous: bool = False
    ) -> str: ...

    def job_logs(self, namespace: str, job: str, *, tail_lines: int) -> str:
        """The logs of a Job's pods, oldest pod first, unprefixed (pods with no logs yet are skipped)."""
        ...

    def apply_secret(
        self, namespace: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> None:
        """Create or replace the Opaque Secret ``namespace/name`` holding exactly ``data`` (plain strings;
        encoded here). The namespace is created if missing. Errors never carry the values."""
        ...

    def delete_secret(self, namespace: str, name: str) -> bool:
        """Delete a Secret; False when it was already gone (which is success)."""
        ...

    def service_get(
        self, ref: ServiceRef, path: str, params: Mapping[str, str] | None = None, *, timeout_s: float = 15.0
    ) -> ProxyResponse:
        """GET ``path`` on a Service through the API server's service proxy (see
        :func:`eksctl_ml.adapters.kubernetes.proxy.proxy_get` for what is an answer and what raises)."""
        ...
