"""mlplat-gpu-check: one pinned Job per GPU node, and the script whose log lines mlplat parses."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.chartlib import (
    ENVS_DIR,
    GPU_CHECK,
    GPU_NAMESPACE,
    RUN_ID,
    by_kind,
    env_files,
    gpu_check_values,
    pod_spec,
    render,
    render_error,
    restricted_violations,
)

NODES = ["ip-10-10-10-23.us-west-2.compute.internal", "ip-10-10-11-24.us-west-2.compute.internal"]
QUERY = "nvidia-smi --query-gpu=index,uuid,name,driver_version,memory.total --format=csv,noheader,nounits"


def jobs(values: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    docs = render(GPU_CHECK, values, namespace=GPU_NAMESPACE, **kwargs)
    return by_kind(docs, "Job")


def container(job: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec(job)["containers"]
    return dict(only)


@pytest.fixture(scope="module")
def two_jobs() -> list[dict[str, Any]]:
    return jobs(gpu_check_values(NODES))


# --- one Job per node ----------------------------------------------------------------------------


def test_one_job_per_node_named_after_the_run(two_jobs: list[dict[str, Any]]) -> None:
    assert [job["metadata"]["name"] for job in two_jobs] == [
        f"mlplat-gpu-check-{RUN_ID}-0",
        f"mlplat-gpu-check-{RUN_ID}-1",
    ]
    for index, (job, node) in enumerate(zip(two_jobs, NODES, strict=True)):
        assert job["metadata"]["namespace"] == GPU_NAMESPACE
        assert job["metadata"]["labels"]["mlplat.io/run-id"] == RUN_ID
        assert job["metadata"]["labels"]["mlplat.io/node-index"] == str(index)
        assert job["metadata"]["annotations"] == {"mlplat.io/node": node, "mlplat.io/expected-gpus": "1"}
        assert job["spec"]["template"]["metadata"]["labels"]["mlplat.io/run-id"] == RUN_ID
        assert job["spec"]["backoffLimit"] == 0
        assert job["spec"]["activeDeadlineSeconds"] == 600
        assert job["spec"]["ttlSecondsAfterFinished"] == 3600
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert pod_spec(job)["automountServiceAccountToken"] is False


def test_jobs_are_pinned_by_node_affinity_on_the_node_name(two_jobs: list[dict[str, Any]]) -> None:
    for job, node in zip(two_jobs, NODES, strict=True):
        spec = pod_spec(job)
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
        assert "nodeName" not in spec
        assert "nodeSelector" not in spec


def test_hostname_label_pinning() -> None:
    for job, node in zip(jobs(gpu_check_values(NODES, pinning="hostnameLabel")), NODES, strict=True):
        spec = pod_spec(job)
        assert spec["nodeSelector"] == {"kubernetes.io/hostname": node}
        assert "affinity" not in spec and "nodeName" not in spec


def test_node_name_pinning() -> None:
    for job, node in zip(jobs(gpu_check_values(NODES, pinning="nodeName")), NODES, strict=True):
        spec = pod_spec(job)
        assert spec["nodeName"] == node
        assert "affinity" not in spec and "nodeSelector" not in spec


def test_requests_the_gpu_as_a_limit(two_jobs: list[dict[str, Any]]) -> None:
    for job in two_jobs:
        resources = container(job)["resources"]
        assert resources["limits"]["nvidia.com/gpu"] == "1"
        assert "nvidia.com/gpu" not in resources.get("requests", {})
        assert {"cpu", "memory"} <= set(resources["limits"])


def test_gpu_count_per_node_from_values() -> None:
    found = jobs(gpu_check_values([NODES[0], {"name": NODES[1], "gpus": 8}], gpusPerNode=4))
    assert [container(job)["resources"]["limits"]["nvidia.com/gpu"] for job in found] == ["4", "8"]
    env = [{item["name"]: item.get("value") for item in container(job)["env"]} for job in found]
    assert [item["MLPLAT_EXPECTED_GPUS"] for item in env] == ["4", "8"]


def _tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """Kubernetes' toleration matching (v1.Toleration.ToleratesTaint)."""
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return True
    return bool(toleration.get("value", "") == str(taint.get("value", "")))


def test_tolerates_the_gpu_taint_of_every_env(two_jobs: list[dict[str, Any]]) -> None:
    taints: list[dict[str, Any]] = []
    for path in env_files():
        data = yaml.safe_load(path.read_text()) or {}
        taints += ((data.get("node_groups") or {}).get("gpu") or {}).get("taints") or []
    taints.append({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"})  # GPU operator style
    for job in two_jobs:
        tolerations = pod_spec(job)["tolerations"]
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
        for taint in taints:
            assert any(_tolerates(t, taint) for t in tolerations), f"{ENVS_DIR}: {taint} not tolerated"


def test_pods_are_restricted_and_run_as_non_root(two_jobs: list[dict[str, Any]]) -> None:
    for job in two_jobs:
        assert restricted_violations(job) == []
        spec = pod_spec(job)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0  # the CUDA image defaults to root
        sc = container(job)["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["readOnlyRootFilesystem"] is True
        assert "privileged" not in sc
        assert "hostPath" not in str(spec.get("volumes"))


def test_image_and_command(two_jobs: list[dict[str, Any]]) -> None:
    for job in two_jobs:
        c = container(job)
        assert c["image"] == "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04"
        assert c["command"][:2] == ["/bin/sh", "-c"]
        assert QUERY in c["command"][2]
        assert "CUDA Version" in c["command"][2]
        env = {item["name"]: item for item in c["env"]}
        assert env["MLPLAT_NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
        assert env["MLPLAT_RUN_ID"]["value"] == RUN_ID
        assert env["NVIDIA_DISABLE_REQUIRE"]["value"] == "true"


def test_image_digest_and_runtime_class() -> None:
    digest = "sha256:" + "1" * 64
    (job,) = jobs(gpu_check_values(NODES[:1], runtimeClassName="nvidia", **{"image.digest": digest}))
    assert container(job)["image"] == f"nvcr.io/nvidia/cuda@{digest}"
    assert pod_spec(job)["runtimeClassName"] == "nvidia"


def test_job_names_fit_the_job_name_label() -> None:
    release = "a-very-long-release-name-for-the-gpu-node-checks-x1"
    names = [job["metadata"]["name"] for job in jobs(gpu_check_values(NODES, runId="r" * 20), release=release)]
    assert all(len(name) <= 63 for name in names)
    assert names[0].endswith("-" + "r" * 20 + "-0") and names[1].endswith("-" + "r" * 20 + "-1")


# --- values the schema or the templates refuse ---------------------------------------------------


def test_no_nodes_fails_with_instructions() -> None:
    error = render_error(GPU_CHECK, gpu_check_values([]))
    assert "nodes is empty" in error


def test_missing_run_id_fails_with_instructions() -> None:
    assert "runId is required" in render_error(GPU_CHECK, {"nodes": NODES})


def test_a_node_listed_twice_is_refused() -> None:
    error = render_error(GPU_CHECK, gpu_check_values([NODES[0], {"name": NODES[0], "gpus": 1}]))
    assert f"nodes lists {NODES[0]} more than once" in error


def test_hostname_pinning_refuses_names_too_long_for_a_label() -> None:
    long_name = "ip-10-10-10-23." + "a" * 50 + ".compute.internal"
    error = render_error(GPU_CHECK, gpu_check_values([long_name], pinning="hostnameLabel"))
    assert "too long for a kubernetes.io/hostname label" in error
    assert jobs(gpu_check_values([long_name]))  # affinity on metadata.name has no such limit


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("nodes", ["Bad_Node"], "nodes"),
        ("nodes", [{"name": NODES[0], "gpus": 0}], "nodes"),
        ("nodes", [{"name": NODES[0], "gpus": 9}], "nodes"),
        ("nodes", [{"node": NODES[0]}], "nodes"),
        ("nodes", "ip-10-0-0-1.ec2.internal", "nodes"),
        ("gpusPerNode", 0, "gpusPerNode"),
        ("gpusPerNode", -1, "gpusPerNode"),
        ("runId", "Run_1", "runId"),
        ("runId", "r" * 21, "runId"),
        ("pinning", "hostname", "pinning"),
        ("image.tag", "latest", "image.tag"),
        ("image.digest", "sha256:xyz", "image.digest"),
        ("securityContext.allowPrivilegeEscalation", True, "allowPrivilegeEscalation"),
        ("securityContext.privileged", True, "privileged"),
        ("securityContext.capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}, "add"),
        ("podSecurityContext.runAsNonRoot", False, "runAsNonRoot"),
        ("activeDeadlineSeconds", 5, "activeDeadlineSeconds"),
        ("nodeSelector", {"a": "b"}, "nodeSelector"),
    ],
)
def test_schema_refuses_bad_values(key: str, value: object, expected: str) -> None:
    values = {**gpu_check_values(NODES), key: value}
    assert expected in render_error(GPU_CHECK, values)


# --- the check script itself, run as rendered against a fake nvidia-smi --------------------------

HEADER = """Wed Jan  1 12:00:00 2025
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.127.05             Driver Version: 550.127.05     CUDA Version: {cuda}     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|=========================================+========================+======================|
|   0  NVIDIA A10G                    On  |   00000000:00:1E.0 Off |                    0 |
|  0%   24C    P8              9W /  300W |       1MiB /  23028MiB |      0%      Default |
+-----------------------------------------+------------------------+----------------------+
"""

A10G = "0, GPU-4e0f6b2c-1a2b-3c4d-5e6f-0123456789ab, NVIDIA A10G, 550.127.05, 23028"
H100 = [f"{i}, GPU-9a8b7c6d-0000-1111-2222-33334444555{i}, NVIDIA H100 80GB HBM3, 550.127.05, 81559" for i in range(4)]


def _fake_nvidia_smi(directory: Path) -> Path:
    """An nvidia-smi that answers the three invocations the script makes, driven by FAKE_* env vars."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "nvidia-smi"
    script.write_text(
        """#!/bin/sh
if [ -n "${FAKE_FAIL:-}" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
  exit 9
fi
case "${1:-}" in
  --query-gpu=*) cat "$FAKE_ROWS" ;;
  -q) printf '%s\\n' '==============NVSMI LOG==============' \\
       'Driver Version                            : 550.127.05' \\
       'CUDA Version                              : 12.4' ;;
  *) cat "$FAKE_HEADER" ;;
esac
"""
    )
    script.chmod(0o755)
    return script


def _run_check(
    tmp_path: Path,
    rows: list[str],
    *,
    expected_gpus: int = 1,
    cuda_in_header: str | None = "12.4",
    fail: bool = False,
    with_nvidia_smi: bool = True,
) -> subprocess.CompletedProcess[str]:
    (job,) = jobs(gpu_check_values([{"name": NODES[0], "gpus": expected_gpus}]))
    script = container(job)["command"][2]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("awk", "sed", "head", "wc", "tr", "cat"):  # the Ubuntu base image's tools, and nothing else
        found = shutil.which(tool)
        assert found is not None, tool
        os.symlink(found, bin_dir / tool)
    if with_nvidia_smi:
        _fake_nvidia_smi(bin_dir)
    header = tmp_path / "header.txt"
    header.write_text(
        HEADER.format(cuda=cuda_in_header) if cuda_in_header else HEADER.replace("CUDA Version: {cuda}", "")
    )
    rows_file = tmp_path / "rows.csv"
    rows_file.write_text("".join(row + "\n" for row in rows))
    env = {
        "PATH": str(bin_dir),
        "MLPLAT_NODE_NAME": NODES[0],
        "MLPLAT_RUN_ID": RUN_ID,
        "MLPLAT_EXPECTED_GPUS": str(expected_gpus),
        "CUDA_VERSION": "12.4.1",  # set by the CUDA base image
        "FAKE_HEADER": str(header),
        "FAKE_ROWS": str(rows_file),
        **({"FAKE_FAIL": "1"} if fail else {}),
    }
    shell = shutil.which("sh")
    assert shell is not None
    return subprocess.run([shell, "-c", script], env=env, capture_output=True, text=True, timeout=10, check=False)


def parse(stdout: str, prefix: str) -> list[dict[str, str]]:
    """How mlplat reads the log: lines starting with the prefix, split with shlex into key=value."""
    records = []
    for line in stdout.splitlines():
        if line.startswith(prefix + " "):
            records.append(dict(field.split("=", 1) for field in shlex.split(line)[1:]))
    return records


def test_check_prints_one_line_per_gpu_and_a_summary(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, [A10G])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert parse(proc.stdout, "MLPLAT_GPU") == [
        {
            "node": NODES[0],
            "index": "0",
            "uuid": "GPU-4e0f6b2c-1a2b-3c4d-5e6f-0123456789ab",
            "model": "NVIDIA A10G",
            "driver": "550.127.05",
            "cuda": "12.4",
            "image_cuda": "12.4.1",
            "memory_mib": "23028",
        }
    ]
    assert parse(proc.stdout, "MLPLAT_GPU_SUMMARY") == [
        {
            "node": NODES[0],
            "run_id": RUN_ID,
            "ok": "true",
            "gpus": "1",
            "expected": "1",
            "driver": "550.127.05",
            "cuda": "12.4",
        }
    ]
    assert "NVIDIA-SMI 550.127.05" in proc.stdout  # the human-readable table is in the log too


def test_check_reports_every_gpu_of_a_multi_gpu_node(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, H100, expected_gpus=4)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gpus = parse(proc.stdout, "MLPLAT_GPU")
    assert [gpu["index"] for gpu in gpus] == ["0", "1", "2", "3"]
    assert {gpu["model"] for gpu in gpus} == {"NVIDIA H100 80GB HBM3"}
    assert {gpu["memory_mib"] for gpu in gpus} == {"81559"}
    assert parse(proc.stdout, "MLPLAT_GPU_SUMMARY")[0]["gpus"] == "4"


def test_check_fails_when_fewer_gpus_than_expected_are_visible(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, H100[:2], expected_gpus=4)
    assert proc.returncode == 1
    (summary,) = parse(proc.stdout, "MLPLAT_GPU_SUMMARY")
    assert summary["ok"] == "false"
    assert summary["reason"] == "gpu-count-mismatch"
    assert (summary["gpus"], summary["expected"]) == ("2", "4")


def test_check_fails_when_no_gpu_is_visible(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, [])
    assert proc.returncode == 1
    assert parse(proc.stdout, "MLPLAT_GPU_SUMMARY")[0]["reason"] == "no-gpu-visible"


def test_check_fails_when_the_driver_does_not_answer(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, [A10G], fail=True)
    assert proc.returncode == 1
    assert "couldn't communicate with the NVIDIA driver" in proc.stdout
    assert parse(proc.stdout, "MLPLAT_GPU_SUMMARY")[0]["reason"] == "nvidia-smi-failed"


def test_check_fails_without_nvidia_smi(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, [A10G], with_nvidia_smi=False)
    assert proc.returncode == 1
    assert parse(proc.stdout, "MLPLAT_GPU_SUMMARY")[0]["reason"] == "nvidia-smi-not-found"


def test_check_reads_the_cuda_version_from_nvidia_smi_q_when_the_header_lacks_it(tmp_path: Path) -> None:
    proc = _run_check(tmp_path, [A10G], cuda_in_header=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert parse(proc.stdout, "MLPLAT_GPU")[0]["cuda"] == "12.4"
