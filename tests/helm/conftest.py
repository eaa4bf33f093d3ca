"""Fixtures for the Helm layer: a fake helm, the real helm in memory-driver mode, a discovery server."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from eksctl_ml.adapters.helm.client import PyHelm3Client
from eksctl_ml.config.loader import Environment
from tests.helm.fake_helm import FakeHelmBinary

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEST_CHART = FIXTURES / "mlplat-helm-test"


@pytest.fixture(autouse=True)
def _no_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HELM_DRIVER",
        "HELM_MEMORY_DRIVER_DATA",
        "HELM_NAMESPACE",
        "HELM_KUBECONTEXT",
        "MLPLAT_HELM",
        "MLPLAT_PROJECT_DIR",
        "MLPLAT_ENV",
        "MLPLAT_CONFIG_DIR",
        "KUBECONFIG",
    ):
        monkeypatch.delenv(name, raising=False)


def real_helm_path() -> str | None:
    """helm on PATH, else the one scripts/setup.sh puts in .tools/bin."""
    found = shutil.which("helm")
    if found:
        return found
    bundled = REPO / ".tools" / "bin" / "helm"
    return str(bundled) if bundled.is_file() and os.access(bundled, os.X_OK) else None


@pytest.fixture
def real_helm() -> str:
    path = real_helm_path()
    if path is None:
        pytest.skip("the helm binary is not installed (run scripts/setup.sh, or put helm on PATH)")
    return path


@pytest.fixture
def fake_helm(tmp_path: Path) -> FakeHelmBinary:
    return FakeHelmBinary(tmp_path / "fake-helm")


@pytest.fixture
def fake_client(fake_helm: FakeHelmBinary, tmp_path: Path) -> PyHelm3Client:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    return PyHelm3Client(fake_helm.path, kubeconfig=kubeconfig, kube_context="mlplat-test", grace_s=5)


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: test, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: test, user: {token: not-a-secret}}]\n"
        "contexts: [{name: mlplat-test, context: {cluster: test, user: test}}]\n"
        "current-context: mlplat-test\n"
    )
    return path


def _serve_discovery(server: HTTPServer) -> None:
    """Just the discovery documents helm reads to learn the cluster's version and API groups."""
    verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
    server.expect_request("/version").respond_with_json(
        {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"}
    )
    server.expect_request("/api").respond_with_json(
        {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }
    )
    server.expect_request("/api/v1").respond_with_json(
        {
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {
                    "name": "configmaps",
                    "singularName": "configmap",
                    "namespaced": True,
                    "kind": "ConfigMap",
                    "verbs": verbs,
                },
                {
                    "name": "namespaces",
                    "singularName": "namespace",
                    "namespaced": False,
                    "kind": "Namespace",
                    "verbs": verbs,
                },
                {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret", "verbs": verbs},
            ],
        }
    )
    server.expect_request("/apis").respond_with_json({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})


@pytest.fixture
def memory_helm(real_helm: str, httpserver: HTTPServer, tmp_path: Path) -> Iterator[MemoryHelm]:
    _serve_discovery(httpserver)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", httpserver.url_for("/").rstrip("/"))
    yield MemoryHelm(real_helm, kubeconfig, tmp_path, httpserver)


class MemoryHelm:
    """The real helm with HELM_DRIVER=memory (its release store lives and dies with each process;
    ``seed`` preloads it) against a kubeconfig whose API server answers discovery only."""

    def __init__(self, executable: str, kubeconfig: Path, tmp_path: Path, server: HTTPServer) -> None:
        self.server = server
        self.executable = executable
        self.kubeconfig = kubeconfig
        self.data = tmp_path / "memory-driver.json"
        self.data.write_text("")
        self.env = {
            "HELM_DRIVER": "memory",
            "HELM_MEMORY_DRIVER_DATA": str(self.data),
            "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
            "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
            "HELM_DATA_HOME": str(tmp_path / "helm-data"),
        }

    def client(self) -> PyHelm3Client:
        return PyHelm3Client(self.executable, kubeconfig=self.kubeconfig, kube_context="mlplat-test", env=self.env)

    def paths_asked(self) -> set[str]:
        return {request.path for request, _ in self.server.log}

    def seed(self, releases: list[dict[str, object]]) -> None:
        import json

        self.data.write_text(json.dumps(releases))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_config(env: Environment, **sections: dict[str, object]) -> Environment:
    """A copy of ``env`` with some fields of its config sections replaced (models are frozen)."""
    cfg = env.config
    updates = {name: getattr(cfg, name).model_copy(update=fields) for name, fields in sections.items()}
    return Environment(env.name, env.source, cfg.model_copy(update=updates))
