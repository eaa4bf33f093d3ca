"""Both charts: metadata, documentation, lint, and every rendered document validated (strict) against
the Kubernetes API schemas of every version mlplat supports and every env's version."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from eksctl_ml.config import catalog
from tests.charts.chartlib import (
    CHARTS,
    GPU_CHECK,
    GPU_NAMESPACE,
    NAMESPACE,
    RUN_ID,
    STORAGE,
    env_facts,
    env_files,
    gpu_check_values,
    kube_versions,
    render,
    render_notes,
    run_helm,
    storage_values,
    template,
    values_args,
)

CHART_IDS = [chart.name for chart in CHARTS]
# Chart.yaml versions; the catalog's pins must match (tests/helm/test_catalog.py).
CHART_VERSIONS = {"mlplat-storage": "0.2.0", "mlplat-gpu-check": "0.1.0"}
KUBE_VERSIONS = kube_versions()
ENV_FILES = env_files()

# Values a real run passes, plus variants that switch on every optional branch of the templates.
VARIANTS: dict[str, dict[str, Any]] = {
    "mlplat-storage": storage_values(),
    "mlplat-storage:options": storage_values(
        **{
            "createNamespace": True,
            "storageClass.reclaimPolicy": "Retain",
            "storageClass.isDefault": True,
            "storageClass.extraMountOptions": ["iam"],
            "ebsStorageClass.reclaimPolicy": "Retain",
            "ebsStorageClass.fsType": "xfs",
            "ebsStorageClass.extraTags": {"team": "ml-platform", "cost-center": "1234"},
            "modelCache.keepOnUninstall": True,
            "modelCache.annotations": {"mlplat.io/owner": "platform"},
            "verify.image.digest": "sha256:" + "ab" * 32,
            "verify.imagePullSecrets": [{"name": "mirror"}],
            "verify.nodeSelector": {"mlplat.io/pool": "cpu"},
            "verify.tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
            "verify.podLabels": {"team": "ml-platform"},
            "commonLabels": {"environment": "dev"},
        }
    ),
    "mlplat-storage:no-verify": {
        "efs.fileSystemId": "fs-0123abcd",
        "verify.enabled": False,
        "ebsStorageClass.enabled": False,
    },
    "mlplat-gpu-check": gpu_check_values(),
    "mlplat-gpu-check:hostname": gpu_check_values(
        ["ip-10-10-10-23.ec2.internal", {"name": "ip-10-10-11-24.ec2.internal", "gpus": 8}],
        pinning="hostnameLabel",
        createNamespace=True,
        runtimeClassName="nvidia",
        disableCudaRequireCheck=False,
        extraTolerations=[{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
        imagePullSecrets=[{"name": "ngc"}],
        podLabels={"team": "ml-platform"},
    ),
    "mlplat-gpu-check:nodename": gpu_check_values(
        pinning="nodeName", gpusPerNode=4, **{"image.digest": "sha256:" + "cd" * 32}
    ),
}


def chart_of(variant: str) -> Path:
    return STORAGE if variant.startswith("mlplat-storage") else GPU_CHECK


def namespace_of(chart: Path) -> str:
    return NAMESPACE if chart == STORAGE else GPU_NAMESPACE


def validate_strict(doc: dict[str, Any], version: str) -> None:
    """kubernetes-validate in strict mode: unknown fields are errors; a kind without a schema fails too
    (the charts render only built-in kinds, so a missing schema means a typo in apiVersion or kind)."""
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        pytest.fail(
            f"{doc['kind']}/{doc['metadata']['name']} invalid for Kubernetes {version}: {path}: {error.message}"
        )
    except kubernetes_validate.SchemaNotFoundError as error:
        pytest.fail(error.message)


# --- metadata and documentation -----------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_chart_metadata(chart: Path) -> None:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == chart.name
    assert meta["version"] == CHART_VERSIONS[chart.name]
    assert meta["appVersion"]
    assert len(meta["description"]) > 40
    assert meta["type"] == "application"
    # the charts refuse clusters older than the oldest version mlplat supports
    oldest = min(catalog.SUPPORTED_KUBERNETES_VERSIONS, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert meta["kubeVersion"] == f">={oldest}.0-0"


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_chart_refuses_a_kubernetes_version_mlplat_does_not_support(chart: Path) -> None:
    values = storage_values() if chart == STORAGE else gpu_check_values()
    result = template(chart, values, kube_version="1.29")
    assert result.returncode != 0
    assert "kubeVersion" in result.output or "incompatible" in result.output, result.output


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_chart_has_the_expected_files(chart: Path) -> None:
    for name in ("values.yaml", "values.schema.json", "README.md", "templates/_helpers.tpl", "templates/NOTES.txt"):
        assert (chart / name).is_file(), name
    readme = (chart / "README.md").read_text()
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    for key in defaults:  # every top-level value is documented in the README
        assert f"`{key}" in readme, f"README.md of {chart.name} does not document {key}"


def test_notes_tell_how_to_wait_for_the_check(tmp_path: Path) -> None:
    storage = render_notes(STORAGE, storage_values(), tmp_path / "s", namespace=NAMESPACE)
    assert f"job/mlplat-storage-verify-{RUN_ID}" in storage
    assert f"-n {NAMESPACE} wait --for=condition=complete" in storage
    nodes = ["ip-10-0-1-2.ec2.internal", {"name": "ip-10-0-3-4.ec2.internal", "gpus": 4}]
    gpu = render_notes(GPU_CHECK, gpu_check_values(nodes), tmp_path / "g", namespace=GPU_NAMESPACE)
    assert f"mlplat-gpu-check-{RUN_ID}-0  node ip-10-0-1-2.ec2.internal, 1 GPU(s)" in gpu
    assert f"mlplat-gpu-check-{RUN_ID}-1  node ip-10-0-3-4.ec2.internal, 4 GPU(s)" in gpu
    assert f"job -l mlplat.io/run-id={RUN_ID}" in gpu


def _leaf_keys_without_comment(text: str) -> list[str]:
    """Keys of values.yaml whose setting is explained by no comment: neither directly above the key
    nor above one of its parent keys."""
    undocumented: list[str] = []
    stack: list[tuple[int, bool]] = []  # (indent, documented) of the open parent keys
    previous = ""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        match = re.match(r"^(\s*)([A-Za-z][\w.-]*):(.*)$", line)
        if match:
            indent = len(match.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            documented = previous.startswith("#") or any(doc for _, doc in stack)
            is_parent = match.group(3).strip() == "" and number + 1 < len(lines)
            if not is_parent and not documented:
                undocumented.append(f"line {number + 1}: {match.group(2)}")
            stack.append((indent, documented))
        if stripped:
            previous = stripped
    return undocumented


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_values_yaml_is_fully_commented(chart: Path) -> None:
    assert _leaf_keys_without_comment((chart / "values.yaml").read_text()) == []


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_schema_is_valid_and_accepts_the_defaults(chart: Path) -> None:
    schema = json.loads((chart / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load((chart / "values.yaml").read_text()), schema)


# --- helm lint ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_lint_strict_with_representative_values(chart: Path, version: str) -> None:
    result = run_helm(
        ["lint", "--strict", str(chart), "--kube-version", version, "-f", str(chart / "ci" / "lint-values.yaml")]
    )
    assert result.returncode == 0, result.output
    assert "[WARNING]" not in result.output and "[ERROR]" not in result.output, result.output


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lint_strict_with_each_variant(variant: str) -> None:
    result = run_helm(["lint", "--strict", str(chart_of(variant)), *values_args(VARIANTS[variant])])
    assert result.returncode == 0, result.output


@pytest.mark.parametrize(
    ("chart", "message"),
    [(STORAGE, "efs.fileSystemId is required"), (GPU_CHECK, "runId is required")],
    ids=CHART_IDS,
)
def test_lint_of_bare_defaults_is_clean_and_names_the_required_value(chart: Path, message: str) -> None:
    # helm lint reports a missing `required` value as [INFO] and renders on; `helm template` and
    # `helm install` fail on it (see the schema tests of each chart).
    result = run_helm(["lint", "--strict", str(chart)])
    assert result.returncode == 0, result.output
    assert message in result.output


# --- render + strict Kubernetes schema validation -----------------------------------------------


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_rendered_for_each_kubernetes_version_is_valid(chart: Path, version: str) -> None:
    """`helm template --kube-version V` with a real run's values, every document strictly valid for V."""
    docs = render(chart, VARIANTS[chart.name], kube_version=version, namespace=namespace_of(chart))
    assert docs
    for doc in docs:
        validate_strict(doc, version)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_is_valid_for_every_kubernetes_version(variant: str) -> None:
    """The optional branches of the templates, strictly valid for every version (the templates do not
    depend on the version, so one render is validated against each)."""
    chart = chart_of(variant)
    docs = render(chart, VARIANTS[variant], namespace=namespace_of(chart))
    assert docs
    for version in KUBE_VERSIONS:
        for doc in docs:
            validate_strict(doc, version)


@pytest.mark.parametrize("env_file", ENV_FILES, ids=[path.stem for path in ENV_FILES])
def test_each_env_renders_valid_manifests_for_its_kubernetes_version(env_file: Path) -> None:
    facts = env_facts(env_file)
    nodes = [{"name": name, "gpus": facts.gpus_per_node} for name in facts.node_names(2)]
    storage = render(STORAGE, storage_values(), kube_version=facts.kubernetes_version, namespace=NAMESPACE)
    gpu = render(GPU_CHECK, gpu_check_values(nodes), kube_version=facts.kubernetes_version, namespace=GPU_NAMESPACE)
    assert sorted(doc["kind"] for doc in storage) == ["Job", "PersistentVolumeClaim", "StorageClass", "StorageClass"]
    assert [doc["kind"] for doc in gpu] == ["Job", "Job"]
    for doc in storage + gpu:
        validate_strict(doc, facts.kubernetes_version)
    limits = [job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] for job in gpu]
    assert [limit["nvidia.com/gpu"] for limit in limits] == [str(facts.gpus_per_node)] * 2


def test_validation_is_really_strict() -> None:
    # guards the suite: a field Kubernetes does not know must fail the strict validation above
    job = render(GPU_CHECK, gpu_check_values())[0]
    job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privilegd"] = False
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBE_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_object_carries_the_standard_labels(variant: str) -> None:
    chart = chart_of(variant)
    app_version = yaml.safe_load((chart / "Chart.yaml").read_text())["appVersion"]
    for doc in render(chart, VARIANTS[variant], release="run1"):
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == chart.name
        assert labels["app.kubernetes.io/instance"] == "run1"
        assert labels["app.kubernetes.io/version"] == app_version
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "mlplat"
        if doc["kind"] == "Job":
            pod_labels = doc["spec"]["template"]["metadata"]["labels"]
            assert pod_labels["app.kubernetes.io/part-of"] == "mlplat"


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_namespace_from_values_overrides_the_release_namespace(chart: Path) -> None:
    values = storage_values(namespace="other") if chart == STORAGE else gpu_check_values(namespace="other")
    for doc in render(chart, values, namespace="release-ns"):
        if doc["kind"] not in {"StorageClass", "Namespace"}:
            assert doc["metadata"]["namespace"] == "other"


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_created_namespace_enforces_restricted_pod_security(chart: Path) -> None:
    base = storage_values() if chart == STORAGE else gpu_check_values()
    assert not [doc for doc in render(chart, base) if doc["kind"] == "Namespace"]  # default: mlplat creates it
    docs = render(chart, {**base, "createNamespace": True, "namespace": "ml-x"}, namespace="default")
    (namespace,) = (doc for doc in docs if doc["kind"] == "Namespace")
    assert namespace["metadata"]["name"] == "ml-x"
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_package_leaves_out_the_ci_values(chart: Path, tmp_path: Path) -> None:
    result = run_helm(["package", str(chart), "--destination", str(tmp_path)])
    assert result.returncode == 0, result.output
    (archive,) = tmp_path.glob("*.tgz")
    assert archive.name == f"{chart.name}-{CHART_VERSIONS[chart.name]}.tgz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert f"{chart.name}/values.schema.json" in names
    assert not [name for name in names if "/ci/" in name]
