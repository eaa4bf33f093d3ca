"""kubernetes_api_client: a kube_context override from $KUBECONFIG, or the EKS endpoint with refreshed tokens."""

from __future__ import annotations

import base64
import dataclasses
import stat
from pathlib import Path

import pytest
import yaml

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes import auth
from eksctl_ml.config.loader import Environment, load_env
from eksctl_ml.errors import KubernetesError, PreflightError
from eksctl_ml.services import kubeaccess
from tests.access.conftest import EksCluster
from tests.access.test_token import decode
from tests.fakes.adapters import FakeAws


def with_kube_context(env: Environment, context: str | None) -> Environment:
    cluster = env.config.cluster.model_copy(update={"kube_context": context})
    return dataclasses.replace(env, config=env.config.model_copy(update={"cluster": cluster}))


def write_kubeconfig(path: Path) -> None:
    def pair(name: str) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
        return (
            {"name": name, "cluster": {"server": f"https://{name}.example:6443", "insecure-skip-tls-verify": True}},
            {"name": name, "user": {"token": f"token-{name}"}},
            {"name": name, "context": {"cluster": name, "user": name}},
        )

    a, b = pair("kind-a"), pair("kind-b")
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "kind-a",
        "clusters": [a[0], b[0]],
        "users": [a[1], b[1]],
        "contexts": [a[2], b[2]],
    }
    path.write_text(yaml.safe_dump(document))


def test_kube_context_comes_from_kubeconfig_env_var(
    env_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kubernetes.config  # imported before KUBECONFIG is set: the variable must still count

    assert kubernetes.config
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path)
    monkeypatch.setenv("KUBECONFIG", str(path))
    env = with_kube_context(load_env("test", env_dir), "kind-b")
    aws = FakeAws()
    client = kubeaccess.kubernetes_api_client(env, aws, tmp_path / "state")
    try:
        assert client.configuration.host == "https://kind-b.example:6443"
        assert client.configuration.auth_settings()["BearerToken"]["value"] == "Bearer token-kind-b"
    finally:
        client.close()
    assert aws.calls == []  # no AWS, no cluster: nothing was contacted
    assert not (tmp_path / "state").exists()


def test_unknown_kube_context_is_a_kubernetes_error(
    env_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path)
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(KubernetesError) as caught:
        kubeaccess.kubernetes_api_client(with_kube_context(load_env("test", env_dir), "nope"), FakeAws(), tmp_path)
    assert "'nope'" in caught.value.message and str(path) in caught.value.message
    assert caught.value.hint and "kube_context" in caught.value.hint


def test_eks_client_uses_endpoint_ca_and_refreshing_token(
    cluster_aws: Boto3Aws, eks_cluster: EksCluster, env_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed: list[str] = []
    real_eks_token = auth.eks_token

    def counting_eks_token(aws: Boto3Aws, cluster_name: str) -> auth.EksToken:
        signed.append(cluster_name)
        return real_eks_token(aws, cluster_name)

    clock = [1000.0]
    monkeypatch.setattr(kubeaccess, "eks_token", counting_eks_token)
    monkeypatch.setattr(kubeaccess, "_monotonic", lambda: clock[0])
    root = tmp_path / "state"

    client = kubeaccess.kubernetes_api_client(load_env("test", env_dir), cluster_aws, root)
    try:
        configuration = client.configuration
        assert configuration.host == eks_cluster.endpoint.rstrip("/")
        ca_path = Path(configuration.ssl_ca_cert)
        assert ca_path == (root / "test" / "cluster-ca.crt").absolute()
        assert ca_path.read_bytes() == base64.b64decode(eks_cluster.ca_data)
        assert stat.S_IMODE(ca_path.stat().st_mode) == 0o600
        assert configuration.verify_ssl is True
        assert signed == ["mlplat-local"]  # signed at build time

        bearer = configuration.auth_settings()["BearerToken"]["value"]
        assert bearer.startswith("Bearer k8s-aws-v1.")
        assert decode(bearer.removeprefix("Bearer ")).startswith("https://sts.us-east-1.amazonaws.com/?")
        clock[0] += 9 * 60
        configuration.auth_settings()
        assert signed == ["mlplat-local"]  # 9 minutes old: still good
        clock[0] += 2 * 60
        configuration.auth_settings()
        assert signed == ["mlplat-local", "mlplat-local"]  # 11 minutes old: re-signed
    finally:
        client.close()


def test_eks_client_without_a_cluster(cluster_aws: Boto3Aws, env_dir: Path, tmp_path: Path) -> None:
    (env_dir / "ghost.yaml").write_text((env_dir / "test.yaml").read_text().replace("mlplat-local", "mlplat-ghost"))
    with pytest.raises(PreflightError, match="does not exist"):
        kubeaccess.kubernetes_api_client(load_env("ghost", env_dir), cluster_aws, tmp_path)
