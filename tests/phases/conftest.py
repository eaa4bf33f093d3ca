"""Phase tests drive the real Kubernetes client against the fake API server (tests/kubernetes/fakeapi.py)."""

from tests.kubernetes.fixtures import api, api_client, kube

__all__ = ["api", "api_client", "kube"]
