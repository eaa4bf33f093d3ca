"""Where the in-cluster services mlplat installs answer: namespace, Service name and port.

One place for these names, because three parts of mlplat reach the services through the API
server's service proxy (:mod:`eksctl_ml.adapters.kubernetes.proxy`): the observability gate,
the live figures of ``mlplat status``, and the Triton smoke test. The helm values in
``helm-values/`` pin the same names (``fullnameOverride``); tests check they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

OBSERVABILITY_NAMESPACE = "observability"
TRITON_NAMESPACE = "triton"


@dataclass(frozen=True)
class ServiceRef:
    """A Service port reachable through the API server's proxy."""

    namespace: str
    name: str
    port: int | str


PROMETHEUS = ServiceRef(OBSERVABILITY_NAMESPACE, "kps-prometheus", 9090)
ALERTMANAGER = ServiceRef(OBSERVABILITY_NAMESPACE, "kps-alertmanager", 9093)
GRAFANA = ServiceRef(OBSERVABILITY_NAMESPACE, "grafana", 80)
LOKI = ServiceRef(OBSERVABILITY_NAMESPACE, "loki", 3100)
TRITON_HTTP = ServiceRef(TRITON_NAMESPACE, "triton", "http")
"""Triton's HTTP/REST port (8000); gRPC is ``grpc`` (8001) and metrics ``metrics`` (8002)."""
TRITON_METRICS = ServiceRef(TRITON_NAMESPACE, "triton", "metrics")

GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 (a Secret object's name)
"""Kubernetes Secret (keys ``admin-user``, ``admin-password``) mlplat writes from Secrets Manager."""
ALERTMANAGER_RECEIVERS_SECRET = "alertmanager-receivers"  # noqa: S105
"""Kubernetes Secret (keys ``slack_api_url``, ``pagerduty_routing_key``) mlplat writes from Secrets
Manager; Alertmanager mounts it at ``/etc/alertmanager/secrets/alertmanager-receivers/``."""
ALERTMANAGER_CONFIG_SECRET = "alertmanager-mlplat"  # noqa: S105
"""Kubernetes Secret (key ``alertmanager.yaml``) rendered by charts/mlplat-observability."""
TRITON_QUEUE_METRIC = "triton_queue_time_us"
"""Per-pod custom metric (prometheus-adapter) the Triton HPA scales on: average queue time per request, µs."""
