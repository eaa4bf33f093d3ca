"""The Triton metric names the alerts and dashboards read, against a real running tritonserver 2.51
(tests/support/tritonserver.py; skipped when scripts/setup.sh has not installed it), and the fact
TritonNoReadyModel rests on: a model's series exist exactly while it is loaded."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.observability.obslib import (
    RULE_TEST_VALUES,
    TRITON_METRICS_FIXTURE,
    alerting_rules,
    all_panels,
    dashboard_files,
    exposition_series,
    load_dashboard,
    referenced_metrics,
    render_docs,
)
from tests.support.tritonserver import MODELS_SOURCE, NOT_INSTALLED, TritonServer, start_tritonserver, triton_install

MODEL = "versioned"  # python backend, answers its version number; version 2 is served


@pytest.fixture(scope="module")
def triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    if triton_install() is None:
        pytest.skip(NOT_INSTALLED)
    repository = tmp_path_factory.mktemp("repository")
    shutil.copytree(MODELS_SOURCE / MODEL, repository / MODEL, ignore=shutil.ignore_patterns("__pycache__"))
    with start_tritonserver(repository, tmp_path_factory.mktemp("triton"), models=[MODEL]) as server:
        yield server


def _post(url: str, body: dict[str, object] | None = None) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    return json.loads(text) if text else {}


def _scrape(server: TritonServer) -> str:
    with urllib.request.urlopen(server.metrics_url, timeout=10) as response:  # noqa: S310 - loopback
        return str(response.read().decode())


def _infer(server: TritonServer) -> None:
    body: dict[str, object] = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.5]}]}
    answer = _post(f"{server.http_url}/v2/models/{MODEL}/infer", body)
    assert answer["model_name"] == MODEL, answer


def _model_series(text: str) -> set[str]:
    """Metric names with a series for MODEL."""
    return {line.split("{")[0] for line in text.splitlines() if f'model="{MODEL}"' in line and not line.startswith("#")}


def _wait_for(server: TritonServer, predicate: str, check: Callable[[str], bool]) -> str:
    deadline = time.monotonic() + 15
    while True:
        text = _scrape(server)
        if check(text):
            return text
        assert time.monotonic() < deadline, f"metrics never showed: {predicate}\n{text}"
        time.sleep(0.2)


def test_every_triton_metric_of_the_rules_and_dashboards_is_served(triton: TritonServer) -> None:
    _infer(triton)
    _infer(triton)
    # the summary quantiles are computed at scrape time; the counters update at once
    text = _wait_for(
        triton,
        "two successful requests",
        lambda t: f'nv_inference_request_success{{model="{MODEL}",version="2"}} 2' in t,
    )
    exposed = exposition_series(text)
    expressions = [rule["expr"] for rule in alerting_rules(render_docs([RULE_TEST_VALUES]))]
    for path in dashboard_files():
        expressions += [t["expr"] for p in all_panels(load_dashboard(path)) for t in p.get("targets", [])]
    used = {metric for expr in expressions for metric in referenced_metrics(expr) if metric.startswith("nv_")}
    assert len(used) >= 10
    missing = sorted(used - set(exposed))
    assert not missing, f"rules/dashboards read metrics this tritonserver does not serve: {missing}"
    assert exposed["nv_inference_request_failure"] >= {"model", "version", "reason"}
    assert exposed["nv_inference_request_summary_us"] >= {"model", "version", "quantile"}
    # the recorded scrape the always-on tests use is still what the server says
    assert set(exposition_series(TRITON_METRICS_FIXTURE.read_text())) <= set(exposed)


def test_model_series_exist_exactly_while_the_model_is_loaded(triton: TritonServer) -> None:
    """TritonNoReadyModel reads "no nv_inference_count series" as "not loaded": unload the model and
    its nv_inference_count goes away; load it again and the series is back (at 0, before any request)."""
    assert "nv_inference_count" in _model_series(_scrape(triton))
    _post(f"{triton.http_url}/v2/repository/models/{MODEL}/unload")
    gone = _wait_for(triton, "model series removed", lambda t: "nv_inference_count" not in _model_series(t))
    assert "nv_inference_request_summary_us" not in _model_series(gone)
    _post(f"{triton.http_url}/v2/repository/models/{MODEL}/load")
    back = _wait_for(triton, "model series back", lambda t: "nv_inference_count" in _model_series(t))
    assert f'nv_inference_count{{model="{MODEL}",version="2"}} 0' in back
