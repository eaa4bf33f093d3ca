"""The values the observability phase computes for each env file render the project's chart into
rules promtool accepts and an Alertmanager configuration amtool accepts.

The chart's own tests use hand-written values; this test closes the gap between what the phase
passes and what the chart expects (a renamed key would otherwise pass both sides' tests).
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import yaml

from eksctl_ml.config.loader import Environment, load_env
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.observability import ObservabilityPhase
from eksctl_ml.releases.catalog import load_catalog
from eksctl_ml.releases.values import deep_merge, env_values, release_values
from tests.charts.chartlib import render
from tests.fakes.adapters import fake_adapters
from tests.observability.obslib import CHART, NAMESPACE, RELEASE, alerting_rules, require_tool, write_rule_files

REPO = Path(__file__).resolve().parents[2]
ENVS = sorted(path.stem for path in (REPO / "envs").glob("*.yaml"))
OUTPUTS = {"storage": {"model_bucket_name": "models", "log_shipping_role_arn": "arn:aws:iam::123456789012:role/l"}}


def _phase_values(env: Environment) -> dict[str, object]:
    release = load_catalog().get("mlplat-observability")
    context = PhaseContext(env=env, workdir=REPO, adapters=fake_adapters(), outputs=OUTPUTS)
    computed = ObservabilityPhase().computed_values(context)
    extra = deep_merge(env_values(release, env), computed.get(release.name, {}))
    return release_values(release, env.name, {**extra, "logProbe": {"runId": "r20261127000000"}})


@pytest.mark.parametrize("env_name", ENVS)
def test_phase_values_render_rules_and_routing_the_tools_accept(env_name: str, tmp_path: Path) -> None:
    promtool, amtool = require_tool("promtool"), require_tool("amtool")
    env = load_env(env_name, REPO / "envs")
    docs = render(CHART, _phase_values(env), namespace=NAMESPACE, release=RELEASE)

    rules = write_rule_files(docs, tmp_path / "rules")
    assert rules, "the phase's values rendered no PrometheusRule"
    check = subprocess.run([promtool, "check", "rules", *map(str, rules.values())], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    # the env's models are the ones TritonNoReadyModel watches
    watched = " ".join(str(rule["expr"]) for rule in alerting_rules(docs) if rule["alert"] == "TritonNoReadyModel")
    for model in env.config.triton.models:
        assert model in watched, f"TritonNoReadyModel does not watch {model}"

    (secret,) = [d for d in docs if d["kind"] == "Secret" and "alertmanager.yaml" in d.get("data", {})]
    config = tmp_path / "alertmanager.yaml"
    config.write_bytes(base64.b64decode(secret["data"]["alertmanager.yaml"]))
    checked = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert yaml.safe_load(config.read_text())["route"]["receiver"]

    (job,) = [d for d in docs if d["kind"] == "Job"]
    assert job["metadata"]["name"] == "log-probe-r20261127000000"
