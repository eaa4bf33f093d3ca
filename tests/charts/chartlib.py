"""Helpers for the chart tests: find the real helm binary, lint, render, validate, and build the
values a real mlplat run passes to each chart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksctl_ml.config import catalog

REPO = Path(__file__).resolve().parents[2]
CHARTS_DIR = REPO / "charts"
ENVS_DIR = REPO / "envs"
STORAGE = CHARTS_DIR / "mlplat-storage"
GPU_CHECK = CHARTS_DIR / "mlplat-gpu-check"
CHARTS = (STORAGE, GPU_CHECK)

FILE_SYSTEM_ID = "fs-0123456789abcdef0"
DATA_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
RUN_ID = "20250101t120000z"
NAMESPACE = "mlplat-models"
GPU_NAMESPACE = "mlplat-system"


def helm_binary() -> str | None:
    """helm on PATH, else the copy .ci/run installs under .tools/bin (never a hard-coded machine path)."""
    found = shutil.which("helm")
    if found:
        return found
    local = REPO / ".tools" / "bin" / "helm"
    return str(local) if local.is_file() and os.access(local, os.X_OK) else None


def require_helm() -> str:
    helm = helm_binary()
    if helm is None:
        pytest.skip("helm is not installed (not on PATH, not in .tools/bin): install Helm 3 to run the chart tests")
    return helm


@dataclass(frozen=True)
class CommandResult:
    """Exit code and output of a checker run (helm here; promtool and amtool in tests/observability)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_helm(args: list[str], *, cwd: Path | None = None) -> CommandResult:
    helm = require_helm()
    proc = subprocess.run([helm, *args], cwd=cwd or REPO, capture_output=True, text=True, timeout=60, check=False)
    return CommandResult(proc.returncode, proc.stdout, proc.stderr)


def values_args(values: dict[str, Any] | None) -> list[str]:
    """Pass values the way mlplat will: one JSON document per --set-json entry (types preserved)."""
    args: list[str] = []
    for key, value in (values or {}).items():
        args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args


_TEMPLATE_CACHE: dict[tuple[str, ...], CommandResult] = {}


def template(
    chart: Path,
    values: dict[str, Any] | None = None,
    *,
    kube_version: str = catalog.DEFAULT_KUBERNETES_VERSION,
    namespace: str = NAMESPACE,
    release: str | None = None,
) -> CommandResult:
    """`helm template`; identical calls are answered from a cache (helm is the slow part of the suite
    and the result is a pure function of chart, arguments and values)."""
    args = (
        "template",
        release or chart.name,
        str(chart),
        "--namespace",
        namespace,
        "--kube-version",
        kube_version,
        *values_args(values),
    )
    if args not in _TEMPLATE_CACHE:
        _TEMPLATE_CACHE[args] = run_helm(list(args))
    return _TEMPLATE_CACHE[args]


def render(chart: Path, values: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    """Rendered documents (empty ones dropped); fails the test with helm's message if rendering fails."""
    result = template(chart, values, **kwargs)
    assert result.returncode == 0, result.output
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_error(chart: Path, values: dict[str, Any] | None = None, **kwargs: Any) -> str:
    """helm's error output for values that must be refused; fails the test if rendering succeeds."""
    result = template(chart, values, **kwargs)
    assert result.returncode != 0, f"rendered although it should have failed:\n{result.stdout}"
    return result.stderr


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


# --- environments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvFacts:
    """What the chart values of a real run depend on, read from an envs/*.yaml file."""

    name: str
    kubernetes_version: str
    region: str
    vpc_cidr: str
    gpu_instance_type: str

    @property
    def gpus_per_node(self) -> int:
        gpus = catalog.gpus_per_instance(self.gpu_instance_type)
        assert gpus is not None, f"{self.name}: {self.gpu_instance_type} is not an NVIDIA GPU instance type"
        return gpus

    def node_names(self, count: int = 2) -> list[str]:
        """EKS node names as the GPU node group would have them (private IPs in the env's VPC)."""
        prefix = ".".join(self.vpc_cidr.split("/")[0].split(".")[:2])
        suffix = "ec2.internal" if self.region == "us-east-1" else f"{self.region}.compute.internal"
        return [f"ip-{prefix.replace('.', '-')}-{10 + i}-{23 + i}.{suffix}" for i in range(count)]


def env_files() -> list[Path]:
    return sorted(ENVS_DIR.glob("*.yaml"))


def env_facts(path: Path) -> EnvFacts:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cluster = data.get("cluster") or {}
    gpu = (data.get("node_groups") or {}).get("gpu") or {}
    return EnvFacts(
        name=path.stem,
        kubernetes_version=str(cluster.get("kubernetes_version") or catalog.DEFAULT_KUBERNETES_VERSION),
        region=str((data.get("aws") or {}).get("region") or "us-east-1"),
        vpc_cidr=str((data.get("network") or {}).get("vpc_cidr") or "10.0.0.0/16"),
        gpu_instance_type=str((gpu.get("instance_types") or ["g5.xlarge"])[0]),
    )


def kube_versions() -> list[str]:
    """Every Kubernetes minor to validate against: the envs' versions plus all mlplat supports."""
    versions = {env_facts(path).kubernetes_version for path in env_files()} | set(catalog.SUPPORTED_KUBERNETES_VERSIONS)
    return sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


# --- values of a real run ------------------------------------------------------------------------


def storage_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "efs.fileSystemId": FILE_SYSTEM_ID,
        "verify.runId": RUN_ID,
        "ebsStorageClass.kmsKeyId": DATA_KEY_ARN,
        "ebsStorageClass.env": "dev",
        "ebsStorageClass.cluster": "mlplat-dev",
    }
    values.update(overrides)
    return values


def gpu_check_values(nodes: list[Any] | None = None, /, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "runId": RUN_ID,
        "nodes": nodes
        if nodes is not None
        else ["ip-10-10-10-23.us-west-2.compute.internal", "ip-10-10-11-24.us-west-2.compute.internal"],
    }
    values.update(overrides)
    return values


def pod_spec(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def restricted_violations(job: dict[str, Any]) -> list[str]:
    """The Pod Security Standards "restricted" rules a Job's pod template breaks (empty: none).

    Mirrors the checks of the restricted profile that a pod spec alone decides.
    """
    spec = pod_spec(job)
    pod_sc = spec.get("securityContext") or {}
    problems: list[str] = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            problems.append(field)
    allowed_volume_keys = {
        "name",
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
    for volume in spec.get("volumes") or []:
        extra = set(volume) - allowed_volume_keys
        if extra:
            problems.append(f"volume {volume['name']} uses {sorted(extra)}")
    if (pod_sc.get("seccompProfile") or {}).get("type") not in {"RuntimeDefault", "Localhost"}:
        problems.append("pod seccompProfile is not RuntimeDefault/Localhost")
    if pod_sc.get("runAsUser") == 0:
        problems.append("pod runAsUser 0")
    for container in [*(spec.get("initContainers") or []), *spec["containers"]]:
        sc = container.get("securityContext") or {}
        name = container["name"]
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set((sc.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) in (0, None):
            problems.append(f"{name}: no non-zero runAsUser (the images default to root)")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            problems.append(f"{name}: seccomp Unconfined")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{name}: hostPort")
    return problems


def render_notes(chart: Path, values: dict[str, Any], tmp_path: Path, **kwargs: Any) -> str:
    """The rendered NOTES.txt (`helm template` leaves it out and `install --dry-run` needs a cluster):
    a copy of the chart gets a probe template that includes NOTES.txt into a ConfigMap."""
    copy = tmp_path / chart.name
    shutil.copytree(chart, copy)
    (copy / "templates" / "zz-notes-probe.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-probe\ndata:\n"
        f'  notes: {{{{ include "{chart.name}/templates/NOTES.txt" . | quote }}}}\n'
    )
    docs = render(copy, values, **kwargs)
    (probe,) = (doc for doc in docs if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "notes-probe")
    notes: str = probe["data"]["notes"]
    return notes
