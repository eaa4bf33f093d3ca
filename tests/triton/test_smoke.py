"""The smoke gate (run_smoke) against a real tritonserver, plus its pure parts on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest

from eksctl_ml.adapters.triton.client import HttpTritonClient
from eksctl_ml.adapters.triton.protocol import ModelState, Tensor, TritonEndpoint
from eksctl_ml.serving.smoke import (
    SUCCESS_METRIC,
    VARIABLE_DIM_SIZE,
    build_inputs,
    check_outputs,
    merge_index,
    parse_metric,
    run_smoke,
)
from tests.fakes.adapters import FakeTriton
from tests.support.tritonserver import BROKEN_MESSAGE, TritonServer, free_port
from tests.triton.conftest import GOOD_MODELS


def test_passes_on_the_good_models_with_latency_outputs_and_metrics(triton: HttpTritonClient) -> None:
    messages: list[str] = []
    report = run_smoke(triton, list(GOOD_MODELS), timeout_s=30, progress=messages.append)
    assert report.ok, report.failures
    assert report.live and report.ready and report.metrics_checked and not report.problems
    by_name = {m.name: m for m in report.models}
    assert list(by_name) == list(GOOD_MODELS)
    for result in report.models:
        assert result.ok and result.latency_ms is not None and result.latency_ms > 0
        assert result.metrics_delta is not None and result.metrics_delta >= 1
    assert [(o.name, o.datatype, o.shape) for o in by_name["mlp_onnx"].outputs] == [("OUTPUT0", "FP32", (1, 3))]
    # the variable ids dimension became VARIABLE_DIM_SIZE, and so did the output that follows it
    assert {o.name: (o.datatype, o.shape) for o in by_name["multi_io"].outputs} == {
        "total": ("INT64", (1,)),
        "scaled": ("FP32", (VARIABLE_DIM_SIZE,)),
        "tag_upper": ("BYTES", (1,)),
        "count": ("INT32", (1,)),
    }
    assert by_name["versioned"].version == "2"
    verdict = report.to_check_result()
    assert verdict.ok and "3 model(s)" in verdict.summary and "mlp_onnx" in verdict.summary
    assert "server ready" in messages and any(m.startswith("multi_io: ok") for m in messages)


def test_without_models_checks_what_the_index_lists_as_loaded(triton: HttpTritonClient) -> None:
    report = run_smoke(triton, None, timeout_s=30)
    assert report.ok, report.failures
    assert sorted(m.name for m in report.models) == sorted(GOOD_MODELS)
    assert report.skipped == ["broken_init"]  # in the repository, never asked for


def test_an_unknown_model_fails_naming_it(triton: HttpTritonClient) -> None:
    report = run_smoke(triton, ["mlp_onnx", "no_such_model"], timeout_s=30)
    assert not report.ok
    failed = [m for m in report.models if not m.ok]
    assert [m.name for m in failed] == ["no_such_model"]
    assert "not in the server's model repository" in failed[0].detail
    verdict = report.to_check_result()
    assert not verdict.ok and "no_such_model" in verdict.summary and "no_such_model" in verdict.diagnosis


def test_a_model_never_loaded_fails_when_asked_for(triton: HttpTritonClient) -> None:
    report = run_smoke(triton, ["broken_init"], timeout_s=30)
    assert not report.ok and "not loaded" in report.models[0].detail


def test_the_failing_model_fails_with_the_servers_message(broken_triton: TritonServer) -> None:
    client = HttpTritonClient(TritonEndpoint(broken_triton.http_url, metrics_url=broken_triton.metrics_url))
    report = run_smoke(client, None, timeout_s=30)
    assert not report.ok
    broken = next(m for m in report.models if m.name == "broken_init")
    assert not broken.ok and broken.detail.startswith("UNAVAILABLE:") and BROKEN_MESSAGE in broken.detail
    assert next(m for m in report.models if m.name == "mlp_onnx").ok  # the good one still served
    verdict = report.to_check_result()
    assert "broken_init" in verdict.summary and BROKEN_MESSAGE in verdict.diagnosis


def test_a_server_that_is_not_ready_fails_even_for_a_good_model(broken_triton: TritonServer) -> None:
    client = HttpTritonClient(TritonEndpoint(broken_triton.http_url))
    report = run_smoke(client, ["mlp_onnx"], timeout_s=30)
    assert report.live and not report.ready and not report.ok
    assert report.models[0].ok  # the model itself answered...
    # ...but the server is not ready, and the report says which model keeps it so
    assert report.problems == [
        f"server is not ready: model(s) failed to load: broken_init (Internal: RuntimeError: {BROKEN_MESSAGE})"
    ]


def test_the_metrics_check_fails_when_the_counter_does_not_rise(
    triton_server: TritonServer, broken_triton: TritonServer
) -> None:
    # the other server's metrics: mlp_onnx has a success counter there, but this inference never reaches it
    endpoint = TritonEndpoint(triton_server.http_url, metrics_url=broken_triton.metrics_url)
    report = run_smoke(HttpTritonClient(endpoint), ["mlp_onnx", "multi_io"], timeout_s=30)
    by_name = {m.name: m for m in report.models}
    assert not by_name["mlp_onnx"].ok and "did not rise" in by_name["mlp_onnx"].detail
    assert not by_name["multi_io"].ok and "has no nv_inference_request_success" in by_name["multi_io"].detail


def test_an_unreachable_server_is_a_failed_report_not_an_exception() -> None:
    client = HttpTritonClient(TritonEndpoint(f"http://127.0.0.1:{free_port()}", timeout_s=2))
    report = run_smoke(client, None, timeout_s=2)
    assert not report.ok and not report.live
    assert "cannot reach the server" in report.problems[0] and "hint: check the URL" in report.problems[0]
    assert not report.to_check_result().ok


# --- the pure parts -------------------------------------------------------------------------------


def test_inputs_resolve_variable_dims_and_build_every_datatype() -> None:
    metadata = {
        "inputs": [
            {"name": "batch", "datatype": "FP16", "shape": [-1, 3]},
            {"name": "ids", "datatype": "INT32", "shape": [-1, -1]},
            {"name": "text", "datatype": "BYTES", "shape": [-1, 1]},
            {"name": "flag", "datatype": "BOOL", "shape": [-1]},
        ]
    }
    tensors = {t.name: t for t in build_inputs(metadata, {"max_batch_size": 4})}
    assert tensors["batch"].shape == (1, 3) and tensors["batch"].data.dtype == np.float16
    assert tensors["ids"].shape == (1, VARIABLE_DIM_SIZE) and tensors["ids"].data.max() < 4
    assert tensors["text"].data.tolist() == [[b"mlplat-smoke"]]
    assert tensors["flag"].data.dtype == np.bool_
    # without batching the first -1 is an ordinary variable dimension
    (ids,) = build_inputs({"inputs": [{"name": "ids", "datatype": "INT64", "shape": [-1]}]}, {"max_batch_size": 0})
    assert ids.shape == (VARIABLE_DIM_SIZE,)
    with pytest.raises(ValueError, match="BF16"):
        build_inputs({"inputs": [{"name": "x", "datatype": "BF16", "shape": [1]}]}, {})


def test_outputs_are_checked_against_the_metadata() -> None:
    expected = [
        {"name": "a", "datatype": "FP32", "shape": [-1, 3]},
        {"name": "b", "datatype": "INT64", "shape": [2]},
        {"name": "c", "datatype": "FP32", "shape": [-1]},
        {"name": "d", "datatype": "FP32", "shape": [1]},
    ]
    answered = [
        Tensor("a", "FP32", (1, 3), np.zeros((1, 3), np.float32)),
        Tensor("b", "INT32", (3,), np.zeros(3, np.int32)),
        Tensor("c", "FP32", (1, 0), np.zeros((1, 0), np.float32)),
    ]
    mismatches, checked = check_outputs(expected, answered, batching=True)
    assert mismatches == [
        "output 'b' is INT32, the metadata says INT64",
        "output 'b' has shape [3], the metadata says [2]",
        "output 'c' has shape [1, 0], the metadata says [-1]",
        "output 'd' is missing from the response",
    ]
    assert [c.name for c in checked] == ["a", "b", "c"]
    empty, _ = check_outputs([{"name": "e", "datatype": "FP32", "shape": [-1]}], [Tensor("e", "FP32", (0,))], False)
    assert empty == ["output 'e' is empty (shape [0])"]


def test_metric_parsing_reads_labels_and_skips_other_families() -> None:
    text = (
        "# HELP nv_inference_request_success Number of successful inference requests\n"
        'nv_inference_request_success{model="a",version="1"} 3\n'
        'nv_inference_request_success_total_bogus{model="a"} 99\n'
        'nv_inference_request_success{model="we\\"ird",version="2"} 1.5e1\n'
        'nv_inference_count{model="a",version="1"} 7\n'
    )
    assert parse_metric(text, SUCCESS_METRIC) == [
        ({"model": "a", "version": "1"}, 3.0),
        ({"model": 'we"ird', "version": "2"}, 15.0),
    ]


def test_the_fake_triton_passes_and_fails_the_gate_like_a_server() -> None:
    good = FakeTriton(models={"m1": True, "m2": True})
    report = run_smoke(good, None, timeout_s=5)
    assert report.ok and [m.name for m in report.models] == ["m1", "m2"] and good.successes == {"m1": 1, "m2": 1}
    bad = FakeTriton(models={"m1": True, "m2": False})
    report = run_smoke(bad, ["m1", "m2"], timeout_s=5)
    assert not report.ok and "fake: m2 failed to load" in report.to_check_result().diagnosis


def test_a_reload_in_progress_counts_as_the_ready_version() -> None:
    merged = merge_index(
        [
            ModelState("m", "2", "UNLOADING"),
            ModelState("m", "3", "READY"),
            ModelState("n", "1", "UNAVAILABLE", "boom"),
            ModelState("n", "2", "LOADING"),
            ModelState("o", "", ""),
        ]
    )
    assert merged == {
        "m": ModelState("m", "3", "READY"),
        "n": ModelState("n", "2", "LOADING"),
        "o": ModelState("o", "", ""),
    }
