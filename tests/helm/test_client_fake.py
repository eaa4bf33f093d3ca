"""PyHelm3Client against a fake helm that records argv and values: flags, data passing, failures."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from eksctl_ml.adapters.helm.client import PyHelm3Client, find_helm, helm_client_for
from eksctl_ml.adapters.helm.errors import (
    HelmChartNotFoundError,
    HelmExecutableError,
    HelmOperationInProgressError,
    HelmRenderError,
    HelmTimeoutError,
    HelmUnreachableError,
)
from eksctl_ml.adapters.helm.protocol import HelmClient, ReleaseStatus
from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import HelmError
from tests.helm.conftest import TEST_CHART, with_config
from tests.helm.fake_helm import FakeHelmBinary

REPO_URL = "https://nvidia.github.io/k8s-device-plugin"
TRICKY = 'say "hi" {{ .Release.Name }} ${HOME} `id`; $(rm -rf /) \\n\nsecond line\t\u00e9\u2603 \' end'


def _install(client: PyHelm3Client, **overrides: object) -> ReleaseStatus:
    args: dict[str, object] = {
        "namespace": "gpu",
        "version": "0.17.4",
        "values": {"a": 1},
        "timeout_s": 300,
        "repo": REPO_URL,
    }
    args.update(overrides)
    return client.upgrade_install("nvidia-device-plugin", "nvidia-device-plugin", **args)  # type: ignore[arg-type]


def test_is_a_helm_client(fake_client: PyHelm3Client) -> None:
    client: HelmClient = fake_client  # mypy checks the protocol; this checks it at runtime too
    assert client.version() == "v3.17.3"


def test_upgrade_install_passes_every_safety_flag(fake_client: PyHelm3Client, fake_helm: FakeHelmBinary) -> None:
    status = _install(fake_client)

    assert status == ReleaseStatus(
        "nvidia-device-plugin", "gpu", 1, "deployed", "nvidia-device-plugin-0.17.4", "0.17.4"
    )
    [call] = fake_helm.calls("upgrade")
    argv = call.argv
    assert argv[:3] == ["upgrade", "nvidia-device-plugin", "nvidia-device-plugin"]
    for flag in ("--install", "--atomic", "--wait", "--create-namespace"):
        assert flag in argv
    assert call.flag("--timeout") == "300s"
    assert call.flag("--namespace") == "gpu"
    assert call.flag("--version") == "0.17.4"
    assert call.flag("--repo") == REPO_URL
    assert call.flag("--output") == "json"
    assert call.flag("--values") == "-"  # values arrive as data on stdin, never on the command line
    assert call.flag("--kubeconfig") and call.flag("--kube-context") == "mlplat-test"
    assert "--disable-openapi-validation" not in argv  # pyhelm3's broken flag is never used
    assert not [a for a in argv if len(a) == 1 and a != "-"]  # ...which would show up split into characters
    # the chart was resolved at the pinned version first
    [show] = fake_helm.calls("show")
    assert show.argv[:3] == ["show", "chart", "nvidia-device-plugin"] and show.flag("--version") == "0.17.4"


def test_helm_4_gets_its_flag_for_atomic(fake_client: PyHelm3Client, fake_helm: FakeHelmBinary) -> None:
    fake_helm.report_version("v4.1.0")
    _install(fake_client)
    argv = fake_helm.calls("upgrade")[0].argv
    assert "--rollback-on-failure" in argv and "--atomic" not in argv


@pytest.mark.parametrize("helm_version", ["v3.17.3", "v4.1.0"])
def test_without_wait_helm_neither_waits_nor_rolls_back(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, helm_version: str
) -> None:
    fake_helm.report_version(helm_version)
    _install(fake_client, wait=False)
    argv = fake_helm.calls("upgrade")[0].argv
    for flag in ("--atomic", "--rollback-on-failure", "--wait", "--wait-for-jobs"):
        assert flag not in argv
    assert "--install" in argv and "--create-namespace" in argv


def test_values_arrive_intact_as_data(fake_client: PyHelm3Client, fake_helm: FakeHelmBinary) -> None:
    values = {
        "message": TRICKY,
        "nested": {"list": [1, "two", {"three": None}], "flag": True, "brace": "{}", "quote": '"'},
        "dotted.key": "x",
    }
    status = _install(fake_client, values=values)

    [call] = fake_helm.calls("upgrade")
    assert call.values_data() == values
    assert TRICKY not in " ".join(call.argv)
    # the fake renders the values into its manifest, as a chart would
    [configmap] = list(yaml.safe_load_all(status.manifest))
    assert configmap["kind"] == "ConfigMap"
    assert yaml.safe_load(configmap["data"]["values.json"]) == values


def test_values_are_never_logged(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _install(fake_client, values={"password": "s3cr3t-value"})
    argv_lines = [r.getMessage() for r in caplog.records if r.name == "eksctl_ml.helm" and "argv" in r.getMessage()]
    assert any("upgrade nvidia-device-plugin nvidia-device-plugin" in line for line in argv_lines)
    assert "s3cr3t-value" not in caplog.text


def test_local_chart_is_passed_as_a_path_and_must_match_the_pin(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary
) -> None:
    status = fake_client.upgrade_install(
        "demo", str(TEST_CHART), namespace="demo", version="0.1.0", values={}, timeout_s=60
    )
    assert status.chart == "mlplat-helm-test-0.1.0" and status.app_version == "1.2.3"
    call = fake_helm.calls("upgrade")[0]
    assert call.argv[2] == str(TEST_CHART) and call.flag("--repo") is None

    with pytest.raises(HelmError, match=r"pins 0\.2\.0"):
        fake_client.upgrade_install("demo", str(TEST_CHART), namespace="demo", version="0.2.0", values={}, timeout_s=60)
    assert len(fake_helm.calls("upgrade")) == 1  # nothing installed with the wrong chart


def test_missing_local_chart(fake_client: PyHelm3Client, tmp_path: Path) -> None:
    with pytest.raises(HelmChartNotFoundError):
        fake_client.upgrade_install(
            "demo", str(tmp_path / "nope"), namespace="demo", version=None, values={}, timeout_s=60
        )


def test_second_install_is_an_upgrade(fake_client: PyHelm3Client) -> None:
    assert _install(fake_client).revision == 1
    assert _install(fake_client).revision == 2
    current = fake_client.status("nvidia-device-plugin", namespace="gpu")
    assert current == ReleaseStatus(
        "nvidia-device-plugin", "gpu", 2, "deployed", "nvidia-device-plugin-0.17.4", "0.17.4"
    )


def test_status_of_an_unknown_release_is_none(fake_client: PyHelm3Client) -> None:
    assert fake_client.status("ghost", namespace="gpu") is None


def test_uninstall_is_idempotent(fake_client: PyHelm3Client, fake_helm: FakeHelmBinary) -> None:
    _install(fake_client)
    assert fake_client.uninstall("nvidia-device-plugin", namespace="gpu", timeout_s=120) is True
    assert fake_client.uninstall("nvidia-device-plugin", namespace="gpu", timeout_s=120) is False
    first = fake_helm.calls("uninstall")[0]
    assert first.flag("--timeout") == "120s" and "--wait" in first.argv and first.flag("--namespace") == "gpu"


@pytest.mark.parametrize(
    ("stderr", "error", "in_message"),
    [
        (
            'Error: Kubernetes cluster unreachable: Get "https://10.0.0.1/version": dial tcp 10.0.0.1:443: '
            "connect: connection refused\n",
            HelmUnreachableError,
            "connection refused",
        ),
        (
            'Error: Kubernetes cluster unreachable: Get "https://ABC.gr7.us-east-1.eks.amazonaws.com/version": '
            "dial tcp: lookup ABC.gr7.us-east-1.eks.amazonaws.com: no such host\n",
            HelmUnreachableError,
            "unreachable",
        ),
        (
            "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n",
            HelmOperationInProgressError,
            "in progress",
        ),
        (
            "Error: UPGRADE FAILED: release nvidia-device-plugin failed, and has been rolled back due to atomic "
            "being set: context deadline exceeded\n",
            HelmTimeoutError,
            "timed out",
        ),
        (
            'Error: chart "nvidia-device-plugin" version "9.9.9" not found in '
            "https://nvidia.github.io/k8s-device-plugin repository\n",
            HelmChartNotFoundError,
            "chart not found",
        ),
        (
            "Error: execution error at (nvidia-device-plugin/templates/validation.yml:4:4): Running in the 'default' "
            "namespace is not recommended.\n",
            HelmRenderError,
            "did not render",
        ),
    ],
)
def test_failures_are_told_apart(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, stderr: str, error: type[HelmError], in_message: str
) -> None:
    fake_helm.fail("upgrade", stderr)
    with pytest.raises(error) as caught:
        _install(fake_client)
    assert isinstance(caught.value, HelmError)
    assert in_message in caught.value.message
    assert caught.value.detail == stderr.strip()  # helm's own words, whole
    if error is not HelmChartNotFoundError:
        assert caught.value.hint


def test_connection_refused_on_status_and_uninstall(fake_client: PyHelm3Client, fake_helm: FakeHelmBinary) -> None:
    refused = 'Error: Kubernetes cluster unreachable: Get "http://127.0.0.1:1/version": connect: connection refused\n'
    fake_helm.fail("history", refused)
    fake_helm.fail("uninstall", refused)
    with pytest.raises(HelmUnreachableError, match="kube context mlplat-test"):
        fake_client.status("x", namespace="y")
    with pytest.raises(HelmUnreachableError):
        fake_client.uninstall("x", namespace="y", timeout_s=30)


def test_unclassified_failure_is_still_a_helm_error(fake_client: PyHelm3Client, fake_helm: FakeHelmBinary) -> None:
    fake_helm.fail("upgrade", "Error: something new went wrong\n", rc=2)
    with pytest.raises(HelmError, match="something new went wrong"):
        _install(fake_client)


def test_helm_that_hangs_is_stopped(fake_helm: FakeHelmBinary) -> None:
    fake_helm.delay("upgrade", 30)
    client = PyHelm3Client(fake_helm.path, grace_s=0.3)
    with pytest.raises(HelmTimeoutError, match="did not finish"):
        _install(client, timeout_s=1)


def test_bad_names_and_values_are_refused_before_helm_runs(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary
) -> None:
    with pytest.raises(HelmError, match="invalid Helm release name"):
        fake_client.upgrade_install(
            "Bad_Name", "c", namespace="ns", version=None, values={}, timeout_s=60, repo=REPO_URL
        )
    with pytest.raises(HelmError, match="not plain data"):
        _install(fake_client, values={"path": Path("/x")})
    assert fake_helm.calls("upgrade") == []


def test_missing_or_broken_helm(tmp_path: Path) -> None:
    with pytest.raises(HelmExecutableError, match="not found"):
        PyHelm3Client(tmp_path / "no-helm-here").version()
    broken = tmp_path / "helm"
    broken.write_text("#!/bin/sh\necho 'cannot execute binary file' >&2\nexit 126\n")
    broken.chmod(0o755)
    with pytest.raises(HelmExecutableError, match="did not run") as caught:
        PyHelm3Client(broken).version()
    assert "cannot execute" in caught.value.detail


def test_find_helm_prefers_explicit_then_path(
    monkeypatch: pytest.MonkeyPatch, fake_helm: FakeHelmBinary, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLPLAT_HELM", "/opt/helm")
    assert find_helm() == "/opt/helm"
    monkeypatch.delenv("MLPLAT_HELM")
    monkeypatch.setenv("PATH", str(fake_helm.folder))
    assert find_helm() == str(fake_helm.path)


def test_client_for_env_uses_its_kube_context(local_env: Environment, tmp_path: Path) -> None:
    assert helm_client_for(local_env, None, None).kube_context is None
    with_ctx = with_config(local_env, cluster={"kube_context": "kind-mlplat"})
    client = helm_client_for(with_ctx, tmp_path / "kc", None)
    assert client.kube_context == "kind-mlplat" and client.kubeconfig == tmp_path / "kc"
    assert helm_client_for(with_ctx, None, "explicit").kube_context == "explicit"
