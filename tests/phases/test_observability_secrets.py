"""Secret sync of the observability phase: Secrets Manager (the real moto server) -> Kubernetes Secrets
(the real KubeClient against the fake API server), the apply that follows, and proof that no secret
value leaks into outputs, progress lines, Helm values or logs."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.adapters import FakeAws, fake_adapters
from tests.kubernetes.fakeapi import FakeKubeApi
from tests.phases.test_observability_gate import NS, REPO, RecordingHelm, eks_env

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.adapters.kubernetes.protocol import KubernetesApiError
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.errors import AwsError, PhaseError
from eksctl_ml.phases.observability import ObservabilityPhase
from eksctl_ml.releases import endpoints
from eksctl_ml.runlog import run_log
from eksctl_ml.services.secretsync import SecretSync, sync_secrets

PASSWORD = "Zq8vN2rT5yW1xK7mP3sL9dF4gH6jB0cV"  # what Secrets Manager generated
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
ROUTING_KEY = "R0UT1NGk3yS3CR3T"
ROLE = "arn:aws:iam::123456789012:role/mlplat-local-log-shipping"


def _secret(aws: Boto3Aws, name: str, value: dict[str, str] | str) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return str(aws.client("secretsmanager").create_secret(Name=name, SecretString=text)["ARN"])


def _arns(aws: Boto3Aws, receivers: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "grafana_admin_secret_arn": _secret(
            aws, "mlplat-local/grafana/admin-abc123", {"admin-user": "admin", "admin-password": PASSWORD}
        ),
        "alertmanager_secret_arn": _secret(
            aws,
            "mlplat-local/alertmanager/receivers-def456",
            receivers if receivers is not None else {"slack_api_url": SLACK_URL, "pagerduty_routing_key": ROUTING_KEY},
        ),
    }


def _ctx(
    aws: Any, kube: KubeClient, helm: RecordingHelm, iam: dict[str, str], env: Environment | None = None
) -> tuple[PhaseContext, list[str]]:
    lines: list[str] = []
    context = PhaseContext(
        env=env or eks_env(),
        workdir=REPO,
        outputs={"iam": iam, "storage": {"model_bucket_name": "mlplat-local-models", "log_shipping_role_arn": ROLE}},
        adapters=fake_adapters(aws, helm_factory=lambda: helm, kubernetes_factory=lambda: kube),
        progress=lines.append,
    )
    return context, lines


def _data(api: FakeKubeApi, name: str) -> dict[str, str]:
    stored = api.stored("Secret", NS, name)
    assert stored is not None, f"Secret {NS}/{name} was not written"
    return {key: base64.b64decode(value).decode() for key, value in stored["data"].items()}


def test_apply_syncs_both_secrets_then_installs(
    aws: Boto3Aws, api: FakeKubeApi, kube: KubeClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="eksctl_ml")
    helm = RecordingHelm()
    context, lines = _ctx(aws, kube, helm, _arns(aws))
    with run_log(tmp_path, "up") as log_file:  # mlplat's debug log of the run, as `mlplat up` writes it
        outputs = ObservabilityPhase().apply(context)

    assert api.stored("Namespace", "", NS) is not None  # created, the releases install into it later
    assert _data(api, endpoints.GRAFANA_ADMIN_SECRET) == {"admin-user": "admin", "admin-password": PASSWORD}
    assert _data(api, endpoints.ALERTMANAGER_RECEIVERS_SECRET) == {
        "slack_api_url": SLACK_URL,
        "pagerduty_routing_key": ROUTING_KEY,
    }
    stored = api.stored("Secret", NS, endpoints.GRAFANA_ADMIN_SECRET)
    assert stored is not None and stored["type"] == "Opaque"
    assert stored["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "mlplat"}
    # the Secrets exist before the first release is installed (Alertmanager mounts one, Grafana reads the other)
    writes = [r.path for r in api.requests if r.method in ("POST", "PUT")]
    assert writes[-1].endswith("/secrets") and helm.calls[0] == ("upgrade_install", "kube-prometheus-stack")
    assert [name for op, name in helm.calls] == [
        "kube-prometheus-stack",
        "loki",
        "fluent-bit",
        "dcgm-exporter",
        "prometheus-adapter",
        "mlplat-observability",
    ]
    assert outputs["synced_secrets"] == [f"{NS}/grafana-admin", f"{NS}/alertmanager-receivers"]
    run_id = outputs["log_probe_run_id"]
    assert helm.values["mlplat-observability"]["logProbe"]["runId"] == run_id
    assert helm.values["loki"]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert any("synced Secret observability/grafana-admin (keys admin-password, admin-user)" in line for line in lines)

    # no value anywhere: outputs (journaled), progress lines, Helm values, mlplat's log records and run log
    mlplat_records = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("eksctl_ml"))
    assert "installing kube-prometheus-stack" in mlplat_records  # the capture works
    leaks = json.dumps(outputs) + "\n".join(lines) + json.dumps(helm.values) + mlplat_records + log_file.read_text()
    for value in (PASSWORD, SLACK_URL, ROUTING_KEY):
        assert value not in leaks
    assert "grafana-admin" in json.dumps(helm.values)  # the Secret is referenced by name only


def test_reapply_replaces_the_secret_with_the_rotated_value(aws: Boto3Aws, api: FakeKubeApi, kube: KubeClient) -> None:
    arns = _arns(aws)
    context, _ = _ctx(aws, kube, RecordingHelm(), arns)
    ObservabilityPhase().apply(context)
    aws.client("secretsmanager").put_secret_value(
        SecretId=arns["grafana_admin_secret_arn"],
        SecretString=json.dumps({"admin-user": "admin", "admin-password": "rotated-password-0000"}),
    )
    ObservabilityPhase().apply(context)
    assert _data(api, endpoints.GRAFANA_ADMIN_SECRET)["admin-password"] == "rotated-password-0000"
    assert [r.method for r in api.requests if r.path.endswith("/secrets/grafana-admin")] == ["PUT"]


def test_a_missing_secrets_manager_secret_names_the_arn_and_the_fix(
    aws: Boto3Aws, api: FakeKubeApi, kube: KubeClient
) -> None:
    arns = _arns(aws)
    gone = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlplat-local/grafana/admin-XXXXXX"
    helm = RecordingHelm()
    context, _ = _ctx(aws, kube, helm, {**arns, "grafana_admin_secret_arn": gone})
    with pytest.raises(PhaseError) as caught:
        ObservabilityPhase().apply(context)
    assert gone in caught.value.message and "Grafana admin credentials" in caught.value.message
    assert "mlplat up --env <env> --only iam" in (caught.value.hint or "")
    assert api.stored("Secret", NS, endpoints.ALERTMANAGER_RECEIVERS_SECRET) is None  # all read before any write
    assert helm.calls == []


def test_a_receiver_the_env_uses_must_have_a_real_credential(aws: Boto3Aws, api: FakeKubeApi, kube: KubeClient) -> None:
    # what Terraform writes: placeholders; the env routes alerts to Slack
    arns = _arns(aws, {"slack_api_url": "", "pagerduty_routing_key": ""})
    env = eks_env(alerting={"slack_channel": "#ml-alerts"})
    context, _ = _ctx(aws, kube, RecordingHelm(), arns, env)
    with pytest.raises(PhaseError) as caught:
        ObservabilityPhase().apply(context)
    assert "has an empty slack_api_url" in caught.value.message
    assert arns["alertmanager_secret_arn"] in caught.value.message
    assert f"aws secretsmanager put-secret-value --secret-id {arns['alertmanager_secret_arn']}" in (
        caught.value.hint or ""
    )
    # without a receiver in use, the placeholders are fine
    context, _ = _ctx(aws, kube, RecordingHelm(), arns)
    ObservabilityPhase().apply(context)
    assert _data(api, endpoints.ALERTMANAGER_RECEIVERS_SECRET) == {"slack_api_url": "", "pagerduty_routing_key": ""}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json at all " + PASSWORD, "is not a JSON object of strings"),
        (json.dumps({"admin-user": "admin"}), "lacks the key(s) admin-password"),
        (json.dumps({"admin-user": "admin", "admin-password": 5}), "is not a JSON object of strings"),
    ],
)
def test_malformed_secrets_are_refused_without_echoing_them(
    aws: Boto3Aws, kube: KubeClient, value: str, message: str
) -> None:
    arn = _secret(aws, "mlplat-local/grafana/bad", value)
    sync = SecretSync(arn, NS, "grafana-admin", required_keys=("admin-user", "admin-password"), purpose="Grafana")
    with pytest.raises(PhaseError) as caught:
        sync_secrets(aws, kube, [sync])
    assert message in caught.value.message and arn in caught.value.message
    assert PASSWORD not in str(caught.value) + (caught.value.hint or "")


def test_aws_failures_are_wrapped() -> None:
    sync = SecretSync("arn:aws:secretsmanager:us-east-1:1:secret:x", NS, "x", purpose="test")
    with pytest.raises(AwsError, match="reading the Secrets Manager secret arn:aws:secretsmanager"):
        sync_secrets(FakeAws(), None, [sync])  # type: ignore[arg-type]  # fails before any Kubernetes call


def test_apply_without_the_loki_role_refuses_before_touching_anything(
    aws: Boto3Aws, api: FakeKubeApi, kube: KubeClient
) -> None:
    helm = RecordingHelm()
    context, _ = _ctx(aws, kube, helm, _arns(aws))
    context.outputs = {"iam": context.outputs["iam"]}
    with pytest.raises(PhaseError, match="log_shipping_role_arn"):
        ObservabilityPhase().apply(context)
    assert helm.calls == [] and api.stored("Secret", NS, endpoints.GRAFANA_ADMIN_SECRET) is None


def test_destroy_uninstalls_in_reverse_and_deletes_the_secrets(
    aws: Boto3Aws, api: FakeKubeApi, kube: KubeClient
) -> None:
    helm = RecordingHelm()
    context, lines = _ctx(aws, kube, helm, _arns(aws))
    phase = ObservabilityPhase()
    phase.apply(context)
    phase.destroy(context)
    uninstalled = [name for op, name in helm.calls if op == "uninstall"]
    assert uninstalled[0] == "mlplat-observability" and uninstalled[-1] == "kube-prometheus-stack"
    assert "fluentd" in uninstalled  # switched off or not, nothing is left behind
    assert api.stored("Secret", NS, endpoints.GRAFANA_ADMIN_SECRET) is None
    assert api.stored("Secret", NS, endpoints.ALERTMANAGER_RECEIVERS_SECRET) is None
    assert "Secret observability/grafana-admin: deleted" in lines
    phase.destroy(context)  # already gone is success
    assert "Secret observability/grafana-admin: already gone" in lines


# --- the client's Secret writes against the fake API server ----------------------------------------


def test_apply_secret_creates_the_namespace_then_replaces(api: FakeKubeApi, kube: KubeClient) -> None:
    kube.apply_secret("team-a", "creds", {"a": "1", "b": "2"}, {"x": "y"})
    assert api.stored("Namespace", "", "team-a") is not None
    kube.apply_secret("team-a", "creds", {"a": "3"})
    stored = api.stored("Secret", "team-a", "creds")
    assert stored is not None
    assert {k: base64.b64decode(v).decode() for k, v in stored["data"].items()} == {"a": "3"}  # replaced whole
    assert kube.delete_secret("team-a", "creds") is True
    assert kube.delete_secret("team-a", "creds") is False


def test_apply_secret_errors_carry_no_values(api: FakeKubeApi, kube: KubeClient) -> None:
    api.fail(
        r"/namespaces/team-b/secrets$", 403, message='secrets is forbidden: User "dev" cannot create', method="POST"
    )
    with pytest.raises(KubernetesApiError) as caught:
        kube.apply_secret("team-b", "creds", {"password": PASSWORD})
    assert caught.value.status == 403 and "create Secret team-b/creds" in caught.value.message
    assert PASSWORD not in str(caught.value) + caught.value.detail + (caught.value.hint or "")
