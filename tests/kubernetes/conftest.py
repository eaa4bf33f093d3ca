"""Fixtures of the Kubernetes adapter tests: the fake API server and the real client pointed at it."""

from tests.kubernetes.fixtures import api, api_client, kube

__all__ = ["api", "api_client", "kube"]
