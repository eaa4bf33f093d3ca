"""The Triton adapter (HttpTritonClient) against a real tritonserver: the contract, errors, TLS and headers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from eksctl_ml.adapters.triton.client import HttpTritonClient
from eksctl_ml.adapters.triton.protocol import Tensor, TritonEndpoint
from eksctl_ml.errors import TritonError
from eksctl_ml.serving.smoke import SUCCESS_METRIC, parse_metric
from tests.support.tritonserver import BROKEN_MESSAGE, TritonServer, free_port, start_tritonserver
from tests.triton.apiproxy import ApiProxy, start_api_proxy


def test_health_index_metadata_and_config(triton: HttpTritonClient) -> None:
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("mlp_onnx")
    assert not triton.is_model_ready("no_such_model")
    states = {state.name: state for state in triton.repository_index()}
    assert states["mlp_onnx"].state == "READY" and states["mlp_onnx"].version == "1"
    assert states["versioned"].version == "2"  # version policy latest 1: the newest folder
    assert states["broken_init"].state == ""  # in the repository, never loaded
    metadata = triton.model_metadata("mlp_onnx")
    assert metadata["inputs"] == [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, 4]}]
    assert metadata["outputs"] == [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, 3]}]
    assert triton.model_config("mlp_onnx")["max_batch_size"] == 8


def test_infer_with_several_inputs_and_datatypes(triton: HttpTritonClient) -> None:
    inputs = [
        Tensor("ids", "INT64", (3,), np.array([1, 2, 4], dtype=np.int64)),
        Tensor("scale", "FP32", (2,), np.array([2.0, 0.5], dtype=np.float32)),
        Tensor("tag", "BYTES", (1,), np.array([b"abc"], dtype=np.object_)),
    ]
    outputs = triton.infer("multi_io", inputs, ["total", "scaled", "tag_upper", "count"])
    by_name = {tensor.name: tensor for tensor in outputs}
    assert by_name["total"].datatype == "INT64" and by_name["total"].data.tolist() == [7]
    assert by_name["scaled"].shape == (3,) and by_name["scaled"].data.tolist() == [2.5, 4.5, 8.5]
    assert by_name["tag_upper"].datatype == "BYTES" and by_name["tag_upper"].data.tolist() == [b"ABC"]
    assert by_name["count"].datatype == "INT32" and by_name["count"].data.tolist() == [3]


def test_the_onnx_model_computes_a_batch(triton: HttpTritonClient) -> None:
    batch = np.arange(8, dtype=np.float32).reshape(2, 4)
    (output,) = triton.infer("mlp_onnx", [Tensor("INPUT0", "FP32", (2, 4), batch)], ["OUTPUT0"])
    assert output.shape == (2, 3) and output.datatype == "FP32"
    assert np.isfinite(output.data).all() and not np.allclose(output.data[0], output.data[1])


def test_a_failed_load_carries_the_models_own_message(broken_triton: TritonServer) -> None:
    with HttpTritonClient(TritonEndpoint(broken_triton.http_url)) as client, pytest.raises(TritonError) as info:
        client.load_model("broken_init")
    assert BROKEN_MESSAGE in str(info.value)
    assert "load of model 'broken_init'" in str(info.value)


def test_an_unknown_model_is_a_triton_error_with_the_servers_words(triton: HttpTritonClient) -> None:
    with pytest.raises(TritonError) as info:
        triton.model_metadata("no_such_model")
    assert "unknown model: 'no_such_model'" in str(info.value)
    with pytest.raises(TritonError) as info:
        triton.infer("mlp_onnx", [Tensor("WRONG", "FP32", (1, 4), np.zeros((1, 4), np.float32))], ["OUTPUT0"])
    assert "WRONG" in str(info.value)  # Triton names the unexpected input


def test_connection_refused_is_a_triton_error_with_a_fix() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = HttpTritonClient(TritonEndpoint(dead, metrics_url=f"{dead}/metrics", timeout_s=2))
    for call in (client.repository_index, client.is_server_live, client.metrics_text):
        with pytest.raises(TritonError) as info:
            call()
        assert "cannot reach the server" in str(info.value) and "ConnectionRefusedError" in str(info.value)
        assert "check the URL" in (info.value.hint or "")


def test_not_a_url_is_refused() -> None:
    with pytest.raises(TritonError, match="not a Triton URL"):
        HttpTritonClient(TritonEndpoint("localhost:8000"))


def test_metrics_text_has_the_success_counter_per_model(triton: HttpTritonClient) -> None:
    def successes() -> float:
        samples = parse_metric(triton.metrics_text(), SUCCESS_METRIC)
        return sum(value for labels, value in samples if labels == {"model": "versioned", "version": "2"})

    before = successes()
    triton.infer("versioned", [Tensor("x", "FP32", (1,), np.array([1.0], np.float32))], ["version", "y"])
    assert successes() == before + 1


def test_metrics_without_a_metrics_url_says_how_to_give_one(triton_server: TritonServer) -> None:
    with pytest.raises(TritonError) as info:
        HttpTritonClient(TritonEndpoint(triton_server.http_url)).metrics_text()
    assert "--metrics-url" in (info.value.hint or "")


@pytest.fixture(scope="module")
def api_proxy(triton_server: TritonServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProxy]:
    proxy = start_api_proxy(triton_server.http_url, triton_server.metrics_url, tmp_path_factory.mktemp("proxy"))
    yield proxy
    proxy.stop()


def proxied(proxy: ApiProxy, *, token: str | None = None, ca_file: Path | None = None) -> HttpTritonClient:
    return HttpTritonClient(
        TritonEndpoint(
            proxy.service_url("http"),
            headers={"Authorization": f"Bearer {token or proxy.token}"},
            ca_file=str(ca_file or proxy.ca_file),
            metrics_url=proxy.service_url("metrics") + "/metrics",
        )
    )


def test_behind_a_base_path_with_a_bearer_token_and_a_private_ca(api_proxy: ApiProxy) -> None:
    with proxied(api_proxy) as client:
        assert client.is_server_ready()
        (output,) = client.infer(
            "mlp_onnx", [Tensor("INPUT0", "FP32", (1, 4), np.ones((1, 4), np.float32))], ["OUTPUT0"]
        )
        assert output.shape == (1, 3)
        assert SUCCESS_METRIC in client.metrics_text()
    infer_calls = [path for method, path, _auth in api_proxy.seen if method == "POST"]
    assert infer_calls == ["/api/v1/namespaces/triton/services/triton:http/proxy/v2/models/mlp_onnx/infer"]
    assert {auth for _m, _p, auth in api_proxy.seen} == {f"Bearer {api_proxy.token}"}


def test_a_wrong_token_raises_with_the_rbac_hint(api_proxy: ApiProxy) -> None:
    with proxied(api_proxy, token="wrong") as client:
        with pytest.raises(TritonError) as info:
            client.is_server_live()
        assert "HTTP 401" in str(info.value) and "services/proxy" in (info.value.hint or "")
        with pytest.raises(TritonError) as info:
            client.repository_index()
        assert info.value.message.endswith("repository index failed: Unauthorized")
        assert info.value.detail == "HTTP status 401"


def test_an_untrusted_certificate_is_refused(api_proxy: ApiProxy, tmp_path: Path) -> None:
    from tests.triton.apiproxy import make_certificate

    other_ca, _key = make_certificate(tmp_path)
    with proxied(api_proxy, ca_file=other_ca) as client:
        with pytest.raises(TritonError, match="CERTIFICATE_VERIFY_FAILED"):
            client.is_server_live()
        with pytest.raises(TritonError, match="cannot reach the server"):
            client.model_metadata("mlp_onnx")


def test_load_model_rereads_the_repository_so_a_new_version_serves(triton_repository: Path, tmp_path: Path) -> None:
    repository = tmp_path / "models"
    shutil.copytree(triton_repository / "versioned", repository / "versioned")
    server = start_tritonserver(repository, tmp_path / "work", models=["versioned"])
    try:
        client = HttpTritonClient(TritonEndpoint(server.http_url))

        def served_version() -> int:
            x = Tensor("x", "FP32", (1,), np.array([0.5], np.float32))
            (version,) = client.infer("versioned", [x], ["version"])
            return int(version.data[0])

        assert served_version() == 2
        shutil.copytree(repository / "versioned" / "2", repository / "versioned" / "3")
        client.load_model("versioned")
        assert served_version() == 3
        # the index lists each version: the old one may still be on its way out
        states = {(s.version, s.state) for s in client.repository_index()}
        assert ("3", "READY") in states and states <= {("3", "READY"), ("2", "UNLOADING"), ("2", "UNAVAILABLE")}
    finally:
        server.stop()
