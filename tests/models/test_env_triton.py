"""Without --triton-url, push and list reach the env's Triton through the Kubernetes API server's service
proxy (``triton/triton:http``): the real ``kubernetes`` client against the fake API server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from werkzeug import Response

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.config.loader import Environment, parse_env
from eksctl_ml.services import models
from eksctl_ml.services.deps import Dependencies, local_store
from tests.kubernetes.fakeapi import FakeKubeApi
from tests.models.conftest import PY_MODEL_CONFIG, REPO, write_model

PROXY = "/api/v1/namespaces/triton/services/triton:http/proxy"


@pytest.fixture
def kube_env(env_dir: Path) -> Environment:
    """The local env pointed at a Kubernetes context, so it has a Kubernetes API (and a Triton behind it)."""
    path = env_dir / "test.yaml"
    text = path.read_text().replace("  kubernetes_version:", "  kube_context: fake\n  kubernetes_version:")
    path.write_text(text)
    return Environment("test", path, parse_env(text, str(path)))


@pytest.fixture
def kube_deps(tmp_path: Path, aws: Boto3Aws, api: FakeKubeApi) -> Iterator[Dependencies]:
    configuration = client.Configuration(host=api.url)
    configuration.api_key = {"authorization": "Bearer t0ken"}
    with client.ApiClient(configuration) as api_client:
        yield Dependencies(
            adapters=lambda env, wd: Adapters(
                aws_factory=lambda: aws, kubernetes_factory=lambda: KubeClient(api_client)
            ),
            store=local_store,
            inventory=None,
            root=tmp_path / "state",
        )


def test_push_reloads_through_the_service_proxy(
    tmp_path: Path, api: FakeKubeApi, model_bucket: Any, kube_env: Environment, kube_deps: Dependencies
) -> None:
    repository = tmp_path / "repo"
    write_model(repository, "echo", PY_MODEL_CONFIG.format(name="echo"), {"1/model.py": b""})
    report = models.push(kube_env, kube_deps, repository, timeout_s=2)
    assert report.triton_url == f"{api.url}{PROXY}"
    load = [r for r in api.requests if r.path.startswith(PROXY)]
    assert [(r.method, r.path) for r in load] == [("POST", f"{PROXY}/v2/repository/models/echo/load")]
    # no Triton pod behind the Service: the API server's own answer is the reason
    (result,) = report.reloads
    assert (result.model, result.ready, result.state) == ("echo", False, "UNAVAILABLE")
    assert 'no endpoints available for service "triton" (HTTP status 503)' in result.reason
    assert len(report.result.uploaded) == 2  # the upload happened before the reload


def test_a_triton_with_no_endpoints_is_a_note_in_list(
    api: FakeKubeApi, model_bucket: Any, kube_env: Environment, kube_deps: Dependencies
) -> None:
    listing = models.list_models(kube_env, kube_deps)
    assert listing.triton is None and listing.triton_url == f"{api.url}{PROXY}"
    assert listing.triton_note.startswith("Triton not reachable: ")


def test_no_reload_sends_nothing_to_triton(
    tmp_path: Path, api: FakeKubeApi, model_bucket: Any, kube_env: Environment, kube_deps: Dependencies
) -> None:
    repository = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "model-repository", repository, ignore=shutil.ignore_patterns("*.onnx"))
    from scripts.make_example_models import write_mlp

    write_mlp(repository)
    api.serve_proxy("triton", "triton", "http", lambda path, query: Response(status=200))
    models.push(kube_env, kube_deps, repository, reload=False)
    assert [r for r in api.requests if r.path.startswith(PROXY)] == []
