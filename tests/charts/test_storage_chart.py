"""mlplat-storage: the efs-sc and gp3 StorageClasses, the model-cache claim and the per-run verification Job."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.kubernetes import VolumesPart
from tests.charts.chartlib import (
    DATA_KEY_ARN,
    FILE_SYSTEM_ID,
    NAMESPACE,
    RUN_ID,
    STORAGE,
    by_kind,
    one,
    pod_spec,
    render,
    render_error,
    restricted_violations,
    storage_values,
)
from tests.fakes.adapters import fake_adapters


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render(STORAGE, storage_values())


def storage_class(docs: list[dict[str, Any]], provisioner: str) -> dict[str, Any]:
    """The one StorageClass of ``provisioner`` (efs.csi.aws.com or ebs.csi.aws.com)."""
    found = [doc for doc in by_kind(docs, "StorageClass") if doc["provisioner"] == provisioner]
    assert len(found) == 1, f"expected one {provisioner} StorageClass, got {len(found)}"
    return found[0]


def efs_class(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return storage_class(docs, "efs.csi.aws.com")


def ebs_class(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return storage_class(docs, "ebs.csi.aws.com")


def without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in keys}


# --- StorageClass ---------------------------------------------------------------------------------


def test_storage_class_provisions_efs_access_points_over_tls(docs: list[dict[str, Any]]) -> None:
    sc = efs_class(docs)
    assert sc["metadata"]["name"] == "efs-sc"
    assert "namespace" not in sc["metadata"]
    assert sc["provisioner"] == "efs.csi.aws.com"
    assert sc["parameters"] == {
        "provisioningMode": "efs-ap",
        "fileSystemId": FILE_SYSTEM_ID,
        "directoryPerms": "700",
        "basePath": "/dynamic_provisioning",
        "gidRangeStart": "1000",
        "gidRangeEnd": "2000",
    }
    assert sc["mountOptions"] == ["tls"]
    assert sc["volumeBindingMode"] == "Immediate"
    assert sc["reclaimPolicy"] == "Delete"
    assert "annotations" not in sc["metadata"]


@pytest.mark.parametrize("policy", ["Retain", "Delete"])
def test_reclaim_policy_comes_from_values(policy: str) -> None:
    assert (
        efs_class(render(STORAGE, storage_values(**{"storageClass.reclaimPolicy": policy})))["reclaimPolicy"] == policy
    )


def test_storage_class_options() -> None:
    values = storage_values(
        **{
            "storageClass.name": "models",
            "storageClass.isDefault": True,
            "storageClass.basePath": "/mlplat",
            "storageClass.gidRangeStart": 50000,
            "storageClass.gidRangeEnd": 7000000,
            "storageClass.directoryPerms": "0750",
            "storageClass.extraMountOptions": ["iam"],
        }
    )
    docs = render(STORAGE, values)
    sc = efs_class(docs)
    assert sc["metadata"]["name"] == "models"
    assert sc["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert sc["mountOptions"] == ["tls", "iam"]  # tls stays first and cannot be dropped
    assert sc["parameters"]["gidRangeStart"] == "50000"
    assert sc["parameters"]["gidRangeEnd"] == "7000000"  # not 7e+06
    assert sc["parameters"]["directoryPerms"] == "0750"
    assert sc["parameters"]["basePath"] == "/mlplat"
    assert one(docs, "PersistentVolumeClaim")["spec"]["storageClassName"] == "models"


# --- gp3 StorageClass (EBS CSI) ------------------------------------------------------------------


def test_gp3_class_makes_encrypted_gp3_volumes_tagged_for_the_inventory(docs: list[dict[str, Any]]) -> None:
    sc = ebs_class(docs)
    assert sc["metadata"]["name"] == "gp3"
    assert "namespace" not in sc["metadata"]
    assert sc["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "kmsKeyId": DATA_KEY_ARN,
        "csi.storage.k8s.io/fstype": "ext4",
        "tagSpecification_1": "mlplat:env=dev",
        "tagSpecification_2": "mlplat:cluster=mlplat-dev",
    }
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"  # created in the zone of the pod that uses it
    assert sc["allowVolumeExpansion"] is True
    assert sc["reclaimPolicy"] == "Delete"
    assert "mountOptions" not in sc
    assert sc["metadata"]["labels"]["app.kubernetes.io/component"] == "ebs-storage-class"


def test_gp3_is_never_the_default_class() -> None:
    # not even when efs-sc is made the default: workloads name gp3, the cluster's default stays as it is
    for values in (storage_values(), storage_values(**{"storageClass.isDefault": True})):
        assert "annotations" not in ebs_class(render(STORAGE, values))["metadata"]


def test_gp3_extra_tags_come_after_the_platform_tags_in_key_order() -> None:
    extra = {"team": "ml platform", "cost-center": "1234", "owner": "sre@example.com"}
    sc = ebs_class(render(STORAGE, storage_values(**{"ebsStorageClass.extraTags": extra})))
    tags = {key: value for key, value in sc["parameters"].items() if key.startswith("tagSpecification_")}
    assert tags == {
        "tagSpecification_1": "mlplat:env=dev",
        "tagSpecification_2": "mlplat:cluster=mlplat-dev",
        "tagSpecification_3": "cost-center=1234",
        "tagSpecification_4": "owner=sre@example.com",
        "tagSpecification_5": "team=ml platform",
    }


def test_gp3_options_come_from_values() -> None:
    values = storage_values(
        **{
            "ebsStorageClass.name": "block",
            "ebsStorageClass.reclaimPolicy": "Retain",
            "ebsStorageClass.fsType": "xfs",
            "ebsStorageClass.env": "prod-eu",
            "ebsStorageClass.cluster": "mlplat-prod-eu",
        }
    )
    sc = ebs_class(render(STORAGE, values))
    assert sc["metadata"]["name"] == "block"
    assert sc["reclaimPolicy"] == "Retain"
    assert sc["parameters"]["csi.storage.k8s.io/fstype"] == "xfs"
    assert sc["parameters"]["tagSpecification_1"] == "mlplat:env=prod-eu"
    assert sc["parameters"]["tagSpecification_2"] == "mlplat:cluster=mlplat-prod-eu"


def test_gp3_disabled_renders_no_ebs_class_and_needs_no_key() -> None:
    values = without(storage_values(), "ebsStorageClass.kmsKeyId", "ebsStorageClass.env", "ebsStorageClass.cluster")
    docs = render(STORAGE, {**values, "ebsStorageClass.enabled": False})
    assert [doc["provisioner"] for doc in by_kind(docs, "StorageClass")] == ["efs.csi.aws.com"]


@pytest.mark.parametrize(
    ("missing", "hint"),
    [
        ("ebsStorageClass.kmsKeyId", "data_kms_key_arn"),
        ("ebsStorageClass.env", "mlplat:env"),
        ("ebsStorageClass.cluster", "mlplat:cluster"),
    ],
)
def test_gp3_required_values_fail_with_instructions(missing: str, hint: str) -> None:
    error = render_error(STORAGE, without(storage_values(), missing))
    assert f"{missing} is required while ebsStorageClass.enabled is true" in error
    assert hint in error


def test_gp3_and_efs_classes_cannot_share_a_name() -> None:
    error = render_error(STORAGE, storage_values(**{"ebsStorageClass.name": "efs-sc"}))
    assert "ebsStorageClass.name and storageClass.name are both" in error


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ebsStorageClass.kmsKeyId", "alias/mlplat-dev-data"),
        ("ebsStorageClass.kmsKeyId", "0a1b2c3d-1111-2222-3333-444455556666"),
        ("ebsStorageClass.kmsKeyId", "arn:aws:kms:us-east-1:123456789012:alias/mlplat-dev-data"),
        ("ebsStorageClass.env", "Dev"),
        ("ebsStorageClass.cluster", "mlplat.dev"),
        ("ebsStorageClass.fsType", "btrfs"),
        ("ebsStorageClass.reclaimPolicy", "Recycle"),
        ("ebsStorageClass.name", "GP3"),
        ("ebsStorageClass.enabled", "yes"),
        ("ebsStorageClass.extraTags", {"a=b": "c"}),
        ("ebsStorageClass.extraTags", {"team": "a=b"}),
        ("ebsStorageClass.extraTags", {"team": "{{ .PVCName }}"}),
        ("ebsStorageClass.extraTags", {"aws:cost": "x"}),
        ("ebsStorageClass.extraTags", {"mlplat:env": "prod"}),
        ("ebsStorageClass.isDefault", True),
    ],
)
def test_schema_refuses_bad_gp3_values(key: str, value: object) -> None:
    error = render_error(STORAGE, storage_values(**{key: value}))
    assert "ebsStorageClass" in error, error


def test_the_values_the_storage_phase_computes_render_the_gp3_class(local_env: Environment) -> None:
    """VolumesPart.computed_values, fed the iam and storage outputs, is what the chart needs: the data key
    and the env's name and cluster as volume tags."""
    outputs = {"iam": {"data_kms_key_arn": DATA_KEY_ARN}, "storage": {"efs_file_system_id": FILE_SYSTEM_ID}}
    context = PhaseContext(env=local_env, workdir=Path("/nonexistent"), adapters=fake_adapters(), outputs=outputs)
    computed = VolumesPart("storage", "volumes").computed_values(context)["mlplat-storage"]
    assert computed["ebsStorageClass"] == {
        "env": local_env.name,
        "cluster": local_env.config.cluster.name,
        "kmsKeyId": DATA_KEY_ARN,
    }
    docs = render(STORAGE, {**computed, "verify": {"runId": RUN_ID}})
    parameters = ebs_class(docs)["parameters"]
    assert parameters["kmsKeyId"] == DATA_KEY_ARN
    assert parameters["tagSpecification_1"] == f"mlplat:env={local_env.name}"
    assert parameters["tagSpecification_2"] == f"mlplat:cluster={local_env.config.cluster.name}"
    assert efs_class(docs)["parameters"]["fileSystemId"] == FILE_SYSTEM_ID


def test_without_the_iam_output_the_chart_names_the_missing_key(local_env: Environment) -> None:
    # a plan before `up` has no outputs: nothing is invented, the chart says what is missing
    context = PhaseContext(env=local_env, workdir=Path("/nonexistent"), adapters=fake_adapters(), outputs={})
    computed = VolumesPart("storage", "volumes").computed_values(context)["mlplat-storage"]
    assert "kmsKeyId" not in computed["ebsStorageClass"] and "efs" not in computed
    error = render_error(STORAGE, {**computed, "efs": {"fileSystemId": FILE_SYSTEM_ID}, "verify": {"runId": RUN_ID}})
    assert "ebsStorageClass.kmsKeyId is required" in error


# --- PersistentVolumeClaim -----------------------------------------------------------------------


def test_model_cache_claim_is_read_write_many_on_efs(docs: list[dict[str, Any]]) -> None:
    pvc = one(docs, "PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == "model-cache"
    assert pvc["metadata"]["namespace"] == NAMESPACE
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["spec"]["storageClassName"] == "efs-sc"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert "annotations" not in pvc["metadata"]  # uninstall deletes it unless keepOnUninstall


def test_claim_size_name_and_keep_policy_come_from_values() -> None:
    docs = render(
        STORAGE,
        storage_values(**{"modelCache.size": "2Ti", "modelCache.name": "cache", "modelCache.keepOnUninstall": True}),
    )
    pvc = one(docs, "PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == "cache"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Ti"
    assert pvc["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    job = one(docs, "Job")
    assert pod_spec(job)["volumes"] == [{"name": "model-cache", "persistentVolumeClaim": {"claimName": "cache"}}]


# --- verification Job ----------------------------------------------------------------------------


def test_verify_job_is_named_after_the_run_and_never_retried(docs: list[dict[str, Any]]) -> None:
    job = one(docs, "Job")
    assert job["metadata"]["name"] == f"mlplat-storage-verify-{RUN_ID}"
    assert job["metadata"]["namespace"] == NAMESPACE
    assert job["metadata"]["labels"]["mlplat.io/run-id"] == RUN_ID
    assert job["spec"]["template"]["metadata"]["labels"]["mlplat.io/run-id"] == RUN_ID
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 300
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    assert "annotations" not in job["metadata"]  # a plain Job, not a helm hook
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False


def test_a_new_run_id_gives_a_new_job() -> None:
    first = one(render(STORAGE, storage_values(**{"verify.runId": "run-1"})), "Job")["metadata"]["name"]
    second = one(render(STORAGE, storage_values(**{"verify.runId": "run-2"})), "Job")["metadata"]["name"]
    assert first != second


def test_verify_pod_is_restricted(docs: list[dict[str, Any]]) -> None:
    job = one(docs, "Job")
    assert restricted_violations(job) == []
    spec = pod_spec(job)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True
    assert "privileged" not in sc


def test_verify_container_mounts_the_claim_and_is_bounded(docs: list[dict[str, Any]]) -> None:
    spec = pod_spec(one(docs, "Job"))
    (container,) = spec["containers"]
    assert container["image"] == "public.ecr.aws/docker/library/busybox:1.36.1"
    assert container["volumeMounts"] == [{"name": "model-cache", "mountPath": "/cache"}]
    assert spec["volumes"] == [{"name": "model-cache", "persistentVolumeClaim": {"claimName": "model-cache"}}]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env == {"MLPLAT_RUN_ID": RUN_ID, "MLPLAT_CACHE_DIR": "/cache", "MLPLAT_CLEANUP": "true"}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_verify_image_digest_wins_over_the_tag() -> None:
    digest = "sha256:" + "0" * 64
    job = one(render(STORAGE, storage_values(**{"verify.image.digest": digest})), "Job")
    assert pod_spec(job)["containers"][0]["image"] == f"public.ecr.aws/docker/library/busybox@{digest}"


def test_verify_disabled_renders_no_job_and_needs_no_run_id() -> None:
    docs = render(STORAGE, {**without(storage_values(), "verify.runId"), "verify.enabled": False})
    assert sorted(doc["kind"] for doc in docs) == ["PersistentVolumeClaim", "StorageClass", "StorageClass"]


def test_job_name_fits_the_job_name_label_with_a_long_release_name() -> None:
    release = "a-very-long-release-name-for-the-model-cache-x12345"  # 51 of helm's 53
    job = one(render(STORAGE, storage_values(**{"verify.runId": "r" * 20}), release=release), "Job")
    name = job["metadata"]["name"]
    assert len(name) <= 63
    assert name.endswith("-verify-" + "r" * 20)


def test_verify_pod_placement_from_values() -> None:
    toleration = {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
    job = one(
        render(
            STORAGE,
            storage_values(**{"verify.nodeSelector": {"mlplat.io/pool": "cpu"}, "verify.tolerations": [toleration]}),
        ),
        "Job",
    )
    assert pod_spec(job)["nodeSelector"] == {"mlplat.io/pool": "cpu"}
    assert pod_spec(job)["tolerations"] == [toleration]


# --- the verification script itself, run as rendered ---------------------------------------------


def _run_verify(cache_dir: Path, run_id: str = RUN_ID, cleanup: str = "true") -> subprocess.CompletedProcess[str]:
    job = one(render(STORAGE, storage_values(**{"verify.runId": run_id})), "Job")
    command = pod_spec(job)["containers"][0]["command"]
    shell = shutil.which("sh")
    assert shell is not None
    assert command[:2] == ["/bin/sh", "-c"]
    env = {
        "PATH": "/usr/bin:/bin",
        "MLPLAT_RUN_ID": run_id,
        "MLPLAT_CACHE_DIR": str(cache_dir),
        "MLPLAT_CLEANUP": cleanup,
    }
    return subprocess.run([shell, "-c", command[2]], env=env, capture_output=True, text=True, timeout=10, check=False)


def test_verify_script_round_trips_a_marker(tmp_path: Path) -> None:
    proc = _run_verify(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        proc.stdout.strip() == f"MLPLAT_STORAGE_VERIFY ok=true run_id={RUN_ID} path={tmp_path}/.mlplat-verify/{RUN_ID}"
    )
    assert list((tmp_path / ".mlplat-verify").iterdir()) == []  # cleaned up


def test_verify_script_keeps_the_marker_without_cleanup(tmp_path: Path) -> None:
    proc = _run_verify(tmp_path, cleanup="false")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / ".mlplat-verify" / RUN_ID).read_text() == f"{RUN_ID}\n"


def test_verify_script_fails_when_the_volume_is_not_writable(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("a file where the mount should be")
    proc = _run_verify(not_a_dir)
    assert proc.returncode == 1
    assert f"MLPLAT_STORAGE_VERIFY ok=false run_id={RUN_ID} reason=mkdir" in proc.stdout


# --- values the schema or the templates refuse ---------------------------------------------------


def test_empty_file_system_id_fails_with_instructions() -> None:
    error = render_error(STORAGE, without(storage_values(), "efs.fileSystemId"))
    assert "efs.fileSystemId is required" in error
    assert "efs_file_system_id" in error


@pytest.mark.parametrize("bad", ["fs-XYZ", "fs-0123", "0123456789abcdef0", "fs-0123456789abcdef0 "])
def test_malformed_file_system_id_is_refused(bad: str) -> None:
    assert "efs.fileSystemId" in render_error(STORAGE, storage_values(**{"efs.fileSystemId": bad}))


@pytest.mark.parametrize("size", ["-5Gi", "0Gi", "-5", "5 Gi", "lots", -5, 0, 100])
def test_bad_claim_size_is_refused(size: object) -> None:
    assert "modelCache.size" in render_error(STORAGE, storage_values(**{"modelCache.size": size}))


def test_missing_run_id_fails_with_instructions() -> None:
    assert "verify.runId is required" in render_error(STORAGE, without(storage_values(), "verify.runId"))


@pytest.mark.parametrize("run_id", ["Run_1", "-run", "run-", "r" * 21, "run.1"])
def test_run_id_must_fit_a_job_name(run_id: str) -> None:
    assert "verify.runId" in render_error(STORAGE, storage_values(**{"verify.runId": run_id}))


def test_inverted_gid_range_is_refused() -> None:
    error = render_error(
        STORAGE, storage_values(**{"storageClass.gidRangeStart": 3000, "storageClass.gidRangeEnd": 2000})
    )
    assert "gidRangeStart (3000) must be lower than storageClass.gidRangeEnd (2000)" in error


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("storageClass.reclaimPolicy", "Recycle"),
        ("storageClass.directoryPerms", "rwx"),
        ("storageClass.directoryPerms", 700),
        ("storageClass.gidRangeStart", -1),
        ("storageClass.basePath", "relative"),
        ("storageClass.extraMountOptions", ["notls"]),
        ("storageClass.name", "EFS_SC"),
        ("verify.image.tag", "latest"),
        ("verify.image.digest", "sha256:abc"),
        ("verify.securityContext.allowPrivilegeEscalation", True),
        ("verify.securityContext.privileged", True),
        ("verify.securityContext.capabilities", {"drop": ["NET_RAW"]}),
        ("verify.podSecurityContext.runAsNonRoot", False),
        ("verify.podSecurityContext.runAsUser", 0),
        ("verify.activeDeadlineSeconds", 0),
        ("verify.ttlSecondsAfterFinished", -1),
        ("namespace", "Not-A-Namespace"),
        ("podSecurity.level", "strict"),
        ("verfy", {"enabled": False}),
    ],
)
def test_schema_refuses_bad_values(key: str, value: object) -> None:
    error = render_error(STORAGE, storage_values(**{key: value}))
    assert key.split(".")[-1] in error, error
