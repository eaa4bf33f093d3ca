"""`mlplat smoke` through Typer's CliRunner against a real tritonserver: --url, --env and usage errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from eksctl_ml.adapters import Adapters
from eksctl_ml.cli import app
from eksctl_ml.config.loader import Environment
from eksctl_ml.services.deps import Dependencies
from eksctl_ml.services.kubeaccess import kubernetes_api_client
from eksctl_ml.services.smoke import in_cluster_triton
from tests.support.tritonserver import BROKEN_MESSAGE, TritonServer
from tests.triton.apiproxy import ApiProxy, start_api_proxy
from tests.triton.conftest import GOOD_MODELS

REPO = Path(__file__).resolve().parents[2]


def invoke(*args: str, deps: Dependencies | None = None) -> Any:
    return CliRunner().invoke(app, ["smoke", *args], obj=deps)


def words(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def test_url_mode_json_reports_every_model(triton_server: TritonServer) -> None:
    result = invoke("--url", triton_server.http_url, "--metrics-url", triton_server.metrics_url, "--output", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing but the JSON report on stdout
    assert document["ok"] is True and document["live"] and document["ready"] and document["metrics_checked"]
    assert sorted(m["name"] for m in document["models"]) == sorted(GOOD_MODELS)
    assert all(m["ok"] and m["latency_ms"] > 0 and m["metrics_delta"] >= 1 for m in document["models"])
    assert document["skipped"] == ["broken_init"]
    mlp = next(m for m in document["models"] if m["name"] == "mlp_onnx")
    assert mlp["outputs"] == [{"name": "OUTPUT0", "datatype": "FP32", "shape": [1, 3]}]


def test_url_mode_text_names_models_and_a_host_port_url_means_http(triton_server: TritonServer) -> None:
    host_port = triton_server.http_url.removeprefix("http://")
    result = invoke("--url", host_port, "--model", "mlp_onnx", "-m", "multi_io")
    assert result.exit_code == 0, result.output
    assert "mlp_onnx" in result.stdout and "multi_io" in result.stdout and "versioned" not in result.stdout
    assert "smoke inference ok on 2 model(s)" in words(result.stdout)
    assert "server ready" in result.stderr  # progress goes to stderr


def test_url_mode_fails_with_exit_1_and_the_servers_message(broken_triton: TritonServer) -> None:
    result = invoke("--url", broken_triton.http_url, "-o", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["ready"] is False
    broken = next(m for m in document["models"] if m["name"] == "broken_init")
    assert broken["ok"] is False and BROKEN_MESSAGE in broken["detail"]
    text = invoke("--url", broken_triton.http_url)
    assert text.exit_code == 1 and BROKEN_MESSAGE in words(text.stdout)
    assert "smoke test failed on model(s) broken_init" in words(text.stdout)


def test_an_unknown_model_exits_1_naming_it(triton_server: TritonServer) -> None:
    result = invoke("--url", triton_server.http_url, "--model", "no_such_model")
    assert result.exit_code == 1
    assert "model no_such_model: not in the server's model repository" in words(result.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to smoke-test"),
        (("--url", "http://127.0.0.1:1", "--env", "local"), "give --url or --env, not both"),
        (("--env", "local", "--metrics-url", "http://127.0.0.1:1/metrics"), "--metrics-url goes with --url"),
        (("--url", "ftp://example.com"), "is not a Triton HTTP endpoint"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args, "--config-dir", str(REPO / "envs"))
    assert result.exit_code == 2, result.output
    assert message in words(result.stderr)


def test_mlplat_env_does_not_clash_with_url(triton_server: TritonServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPLAT_ENV", "local")
    result = invoke("--url", triton_server.http_url, "-m", "versioned")
    assert result.exit_code == 0, result.output


def test_an_emulator_env_has_no_kubernetes_api_and_exits_2() -> None:
    result = invoke("--env", "local", "--config-dir", str(REPO / "envs"), "-o", "json")
    assert result.exit_code == 2
    assert "no Kubernetes API for env local" in words(result.stderr) and "mlplat smoke --url" in words(result.stderr)
    assert json.loads(result.stdout)["error"] == "UsageError"


# --- --env: the Triton Service through the API server's service proxy --------------------------------


@pytest.fixture(scope="module")
def api_proxy(triton_server: TritonServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProxy]:
    proxy = start_api_proxy(triton_server.http_url, triton_server.metrics_url, tmp_path_factory.mktemp("proxy"))
    yield proxy
    proxy.stop()


@pytest.fixture
def cluster_env(tmp_path: Path, api_proxy: ApiProxy, monkeypatch: pytest.MonkeyPatch) -> Path:
    """envs/test.yaml: the local env with a kube context whose API server is the proxy in front of Triton."""
    document = yaml.safe_load((REPO / "envs" / "local.yaml").read_text())
    document["cluster"]["kube_context"] = "smoke-test"
    document["triton"]["models"] = ["mlp_onnx", "multi_io"]
    env_dir = tmp_path / "envs"
    env_dir.mkdir()
    (env_dir / "test.yaml").write_text(yaml.safe_dump(document))
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": api_proxy.base, "certificate-authority": str(api_proxy.ca_file)}}
        ],
        "users": [{"name": "u", "user": {"token": api_proxy.token}}],
        "contexts": [{"name": "smoke-test", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "smoke-test",
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    return env_dir


def cluster_deps(root: Path) -> Dependencies:
    """The wiring a cluster env gets: the Triton adapter on the env's Kubernetes API client."""

    def adapters(env: Environment, workdir: Path) -> Adapters:
        # a kube-context env never asks AWS for the cluster endpoint
        no_aws: Any = None
        return Adapters(triton_factory=lambda: in_cluster_triton(kubernetes_api_client(env, no_aws, root)))

    return Dependencies(adapters=adapters, root=root)


def test_env_mode_reaches_triton_through_the_service_proxy(
    cluster_env: Path, api_proxy: ApiProxy, tmp_path: Path
) -> None:
    result = invoke("--env", "test", "--config-dir", str(cluster_env), "-o", "json", deps=cluster_deps(tmp_path))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [m["name"] for m in document["models"]] == ["mlp_onnx", "multi_io"]  # triton.models of the env
    assert document["metrics_checked"] and all(m["metrics_delta"] >= 1 for m in document["models"])
    assert document["url"] == f"{api_proxy.base}/api/v1/namespaces/triton/services/triton:http/proxy"
    paths = {path for _method, path, _auth in api_proxy.seen}
    assert "/api/v1/namespaces/triton/services/triton:metrics/proxy/metrics" in paths
    assert "/api/v1/namespaces/triton/services/triton:http/proxy/v2/models/multi_io/infer" in paths


def test_env_mode_model_option_overrides_the_env_list(cluster_env: Path, tmp_path: Path) -> None:
    result = invoke(
        "--env", "test", "--config-dir", str(cluster_env), "-m", "no_such_model", deps=cluster_deps(tmp_path)
    )
    assert result.exit_code == 1
    assert "model no_such_model: not in the server's model repository" in words(result.stdout)
