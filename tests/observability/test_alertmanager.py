"""The rendered Alertmanager configuration with the real amtool (Alertmanager 0.25): `check-config`
for several receiver combinations, the routing tree by severity with `config routes test`, and every
notification template rendered by `template render`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksctl_ml.releases import endpoints
from tests.observability.obslib import alertmanager_secret, alertmanager_yaml, render_docs, routes_test, run_tool

SECRETS_DIR = f"/etc/alertmanager/secrets/{endpoints.ALERTMANAGER_RECEIVERS_SECRET}"

COMBINATIONS: dict[str, dict[str, Any]] = {
    "nothing": {},
    "slack": {"alerting.slackChannel": "#mlplat-alerts"},
    "pagerduty": {"alerting.pagerduty": True},
    "webhook": {"alerting.webhookUrl": "https://hooks.example.com/alertmanager"},
    "all": {
        "cluster": "mlplat-dev",
        "alerting.slackChannel": "#mlplat-alerts",
        "alerting.pagerduty": True,
        "alerting.webhookUrl": "https://hooks.example.com/alertmanager",
    },
}

# receivers reached by an alert of each severity (amtool prints them in routing order)
EXPECTED_ROUTES: dict[str, dict[str, list[str]]] = {
    "nothing": {"critical": ["null"], "warning": ["null"], "info": ["null"]},
    "slack": {"critical": ["slack"], "warning": ["slack"], "info": ["null"]},
    "pagerduty": {"critical": ["pagerduty"], "warning": ["null"], "info": ["null"]},
    "webhook": {"critical": ["webhook", "null"], "warning": ["webhook", "null"], "info": ["webhook", "null"]},
    "all": {
        "critical": ["webhook", "pagerduty", "slack"],
        "warning": ["webhook", "slack"],
        "info": ["webhook", "null"],
    },
}


def write_config(combination: str, directory: Path) -> Path:
    path = directory / "alertmanager.yaml"
    path.write_text(alertmanager_yaml(render_docs(values=COMBINATIONS[combination])))
    return path


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_amtool_check_config_passes(combination: str, tmp_path: Path) -> None:
    config = write_config(combination, tmp_path)
    result = run_tool("amtool", ["check-config", str(config)])
    assert result.returncode == 0, result.output
    assert "SUCCESS" in result.output, result.output
    receivers = {receiver["name"] for receiver in yaml.safe_load(config.read_text())["receivers"]}
    assert f" - {len(receivers)} receivers" in result.output, result.output


def test_amtool_check_config_can_fail(tmp_path: Path) -> None:
    # guards the test above: a route to a receiver that does not exist must be refused
    config = write_config("slack", tmp_path)
    data = yaml.safe_load(config.read_text())
    data["route"]["routes"].append({"receiver": "opsgenie", "matchers": ['team = "x"']})
    config.write_text(yaml.safe_dump(data))
    result = run_tool("amtool", ["check-config", str(config)])
    assert result.returncode != 0
    assert 'undefined receiver "opsgenie"' in result.output, result.output


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
@pytest.mark.parametrize("severity", ["critical", "warning", "info"])
def test_routes_by_severity(combination: str, severity: str, tmp_path: Path) -> None:
    config = write_config(combination, tmp_path)
    labels = {"alertname": "GpuTemperatureHigh", "severity": severity, "namespace": "observability"}
    assert routes_test(config, labels) == EXPECTED_ROUTES[combination][severity]


@pytest.mark.parametrize("alertname", ["Watchdog", "InfoInhibitor"])
def test_kube_prometheus_stack_helper_alerts_go_nowhere(alertname: str, tmp_path: Path) -> None:
    config = write_config("all", tmp_path)
    assert routes_test(config, {"alertname": alertname, "severity": "none"}) == ["null"]


def test_alerts_without_a_known_severity_reach_only_the_webhook(tmp_path: Path) -> None:
    # the webhook route matched, so the root's "null" default is not added
    assert routes_test(write_config("all", tmp_path), {"alertname": "Custom", "severity": "page"}) == ["webhook"]
    assert routes_test(write_config("slack", tmp_path), {"alertname": "Custom", "severity": "page"}) == ["null"]


def test_receiver_credentials_are_files_from_the_receivers_secret(tmp_path: Path) -> None:
    text = alertmanager_yaml(render_docs(values=COMBINATIONS["all"]))
    data = yaml.safe_load(text)
    receivers = {receiver["name"]: receiver for receiver in data["receivers"]}
    (slack,) = receivers["slack"]["slack_configs"]
    assert slack["api_url_file"] == f"{SECRETS_DIR}/slack_api_url"
    assert slack["channel"] == "#mlplat-alerts"
    (pagerduty,) = receivers["pagerduty"]["pagerduty_configs"]
    assert pagerduty["routing_key_file"] == f"{SECRETS_DIR}/pagerduty_routing_key"
    # no inline secret anywhere: no api_url, routing_key, service_key or password keys
    assert not re.search(r"^\s*(api_url|routing_key|service_key|[a-z_]*password|bearer_token):", text, re.MULTILINE), (
        text
    )
    assert "global" in data and "slack_api_url" not in data["global"]


def test_grouping_and_inhibition() -> None:
    data = yaml.safe_load(alertmanager_yaml(render_docs()))
    assert data["route"]["group_by"] == ["alertname", "namespace", "cluster"]
    assert data["route"]["receiver"] == "null"
    rules = data["inhibit_rules"]
    critical = next(rule for rule in rules if rule["source_matchers"] == ['severity = "critical"'])
    assert critical["target_matchers"] == ['severity =~ "warning|info"']
    # "the same alert": same name and same object (GPU, node, pod, model ...), not just same namespace
    assert {"alertname", "cluster", "namespace", "Hostname", "gpu", "node", "pod", "model"} <= set(critical["equal"])
    assert any(rule["source_matchers"] == ['alertname = "InfoInhibitor"'] for rule in rules)


def test_config_secret_is_the_shared_name() -> None:
    secret = alertmanager_secret(render_docs())
    assert secret["metadata"]["name"] == endpoints.ALERTMANAGER_CONFIG_SECRET
    assert secret["metadata"]["namespace"] == endpoints.OBSERVABILITY_NAMESPACE
    assert list(secret["data"]) == ["alertmanager.yaml"]
    assert secret["type"] == "Opaque"


def test_no_config_secret_when_alerting_is_disabled() -> None:
    docs = render_docs(values={"alerting.enabled": False})
    assert not [doc for doc in docs if doc["kind"] == "Secret"]


def test_settings_come_from_values() -> None:
    values = {**COMBINATIONS["all"], "alerting.sendResolved": False, "alerting.repeatInterval": "12h"}
    data = yaml.safe_load(alertmanager_yaml(render_docs(values=values)))
    assert data["route"]["repeat_interval"] == "12h"
    for receiver in data["receivers"]:
        for key, configs in receiver.items():
            if key.endswith("_configs"):
                assert all(config["send_resolved"] is False for config in configs), receiver["name"]
    (webhook,) = next(r for r in data["receivers"] if r["name"] == "webhook")["webhook_configs"]
    assert webhook["url"] == "https://hooks.example.com/alertmanager"


# --- notification templates ----------------------------------------------------------------------------

NOTIFICATION = {
    "receiver": "slack",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "GpuTemperatureHigh", "severity": "critical", "gpu": "0", "cluster": "mlplat-dev"},
            "annotations": {
                "summary": "GPU temperature high",
                "description": "GPU 0 (NVIDIA A10G) on node ip-10-0-1-23 has been at 92 °C for more than 10m.",
                "runbook_url": "https://github.com/mlplat/mlplat/blob/main/runbooks/alerts/GpuTemperatureHigh.md",
            },
            "startsAt": "2025-01-01T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
            "fingerprint": "4e0f5b7a9c1d2e3f",
        }
    ],
    "groupLabels": {"alertname": "GpuTemperatureHigh"},
    "commonLabels": {"alertname": "GpuTemperatureHigh", "severity": "critical", "cluster": "mlplat-dev"},
    "commonAnnotations": {
        "summary": "GPU temperature high",
        "runbook_url": "https://github.com/mlplat/mlplat/blob/main/runbooks/alerts/GpuTemperatureHigh.md",
    },
    "externalURL": "http://alertmanager:9093",
}


def _templates(value: Any, where: str = "") -> list[tuple[str, str]]:
    """(path, text) of every string in the receivers that is a Go template."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _templates(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _templates(item, f"{where}[{index}]")]
    return [(where, value)] if isinstance(value, str) and "{{" in value else []


def render_template(text: str, tmp_path: Path) -> str:
    data = tmp_path / "data.json"
    data.write_text(json.dumps(NOTIFICATION))
    empty = tmp_path / "none.tmpl"  # amtool needs a glob; the configuration uses no template files
    empty.write_text("")
    result = run_tool(
        "amtool",
        ["template", "render", f"--template.glob={empty}", f"--template.data={data}", f"--template.text={text}"],
    )
    assert result.returncode == 0, f"{text!r}: {result.output}"
    return result.stdout


@pytest.mark.parametrize("combination", ["all", "slack"])
def test_every_notification_template_renders(combination: str, tmp_path: Path) -> None:
    data = yaml.safe_load(alertmanager_yaml(render_docs(values=COMBINATIONS[combination])))
    templates = _templates(data["receivers"])
    assert len(templates) >= 4
    rendered = {where: render_template(text, tmp_path) for where, text in templates}
    (title,) = [text for where, text in rendered.items() if where.endswith(".title")]
    # with `cluster` set the name is written in; without it the alerts' cluster label is used
    assert title.startswith("[mlplat-dev] [FIRING:1] GpuTemperatureHigh (critical)"), title
    (text,) = [text for where, text in rendered.items() if where.endswith(".text")]
    assert "*GPU temperature high*: GPU 0 (NVIDIA A10G)" in text
    assert "Runbook: https://github.com/mlplat/mlplat/blob/main/runbooks/alerts/GpuTemperatureHigh.md" in text
    (color,) = [text for where, text in rendered.items() if where.endswith(".color")]
    assert color == "danger"


def test_a_broken_template_is_caught(tmp_path: Path) -> None:
    # guards the test above: amtool refuses a template that does not parse or names a missing field
    with pytest.raises(AssertionError):
        render_template("{{ .CommonLabels.alertname ", tmp_path)
    with pytest.raises(AssertionError):
        render_template("{{ .NoSuchField }}", tmp_path)
