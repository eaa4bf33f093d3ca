"""Kubernetes-side phases: Helm releases from the catalog, proven by watch-based readiness gates.

An emulator env has no Kubernetes API (unless cluster.kube_context names one), so these parts report
``skipped: no Kubernetes API for env <name>``. `nodegroups` and `storage` are composites: the
Terraform part builds the AWS side, the Kubernetes part installs and proves what runs on it.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eksctl_ml.config import catalog as aws_catalog
from eksctl_ml.engine.phase import BasePhase, CheckResult, Phase, PhaseContext, PlanAction, PlanResult
from eksctl_ml.errors import PhaseError

ROLLOUT_TIMEOUT_S = 600.0
JOB_TIMEOUT_S = 600.0


def _no_api(ctx: PhaseContext) -> str | None:
    from eksctl_ml.releases.service import no_kubernetes_api

    return no_kubernetes_api(ctx.env)


def _run_id() -> str:
    return time.strftime("r%Y%m%d%H%M%S", time.gmtime())


class HelmPart(BasePhase):
    """Installs the catalog's releases for ``release_phase``; subclasses add the readiness gate."""

    release_phase = ""
    timeout_s = ROLLOUT_TIMEOUT_S  # per wait in the gate

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description

    def skip_reason(self, ctx: PhaseContext) -> str | None:
        return _no_api(ctx)

    def computed_values(self, ctx: PhaseContext) -> dict[str, dict[str, Any]]:
        """Values mlplat computes per release (Terraform outputs, names); they win over files."""
        return {}

    def _releases(self, ctx: PhaseContext) -> list[Any]:
        from eksctl_ml.releases.catalog import load_catalog

        return load_catalog().for_phase(self.release_phase, ctx.env)

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        return {
            "releases": [(r.name, r.version) for r in self._releases(ctx)],
            "computed": self.computed_values(ctx),
        }

    def plan(self, ctx: PhaseContext) -> PlanResult:
        names = [f"{r.name}@{r.version}" for r in self._releases(ctx)]
        return PlanResult("update", f"helm upgrade --install {', '.join(names) or '(nothing enabled)'}")

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        from eksctl_ml.releases.catalog import load_catalog
        from eksctl_ml.releases.service import install_phase

        computed = self.computed_values(ctx)
        statuses = install_phase(load_catalog(), self.release_phase, ctx.env, ctx.adapters.helm, computed)
        for status in statuses:
            ctx.progress(f"{status.name}: revision {status.revision} {status.status}")
        return {"releases": {s.name: s.revision for s in statuses}}

    def destroy(self, ctx: PhaseContext) -> None:
        from eksctl_ml.releases.catalog import load_catalog
        from eksctl_ml.releases.service import uninstall_phase

        for name, was_there in uninstall_phase(load_catalog(), self.release_phase, ctx.env, ctx.adapters.helm):
            ctx.progress(f"{name}: {'uninstalled' if was_there else 'already gone'}")


# --- nodegroups (Kubernetes side) -----------------------------------------------------------


@dataclass(frozen=True)
class GpuReport:
    """What nvidia-smi reported on one GPU."""

    node: str
    model: str
    driver: str
    cuda: str
    memory_mib: str


def parse_gpu_lines(logs: str) -> tuple[list[GpuReport], list[str]]:
    """The ``MLPLAT_GPU`` lines of the gpu-check Job logs, and the failed ``MLPLAT_GPU_SUMMARY`` lines."""
    gpus: list[GpuReport] = []
    failures: list[str] = []
    for line in logs.splitlines():
        if line.startswith("MLPLAT_GPU "):
            fields = dict(part.split("=", 1) for part in shlex.split(line)[1:] if "=" in part)
            gpus.append(
                GpuReport(
                    fields.get("node", "?"),
                    fields.get("model", "?"),
                    fields.get("driver", "?"),
                    fields.get("cuda", "?"),
                    fields.get("memory_mib", "?"),
                )
            )
        elif line.startswith("MLPLAT_GPU_SUMMARY") and "ok=false" in line:
            failures.append(line)
    return gpus, failures


def run_gpu_check(ctx: PhaseContext, *, timeout_s: float = JOB_TIMEOUT_S) -> tuple[CheckResult, list[GpuReport]]:
    """Run nvidia-smi in a Job pinned to every GPU node; the chart is removed afterwards."""
    from eksctl_ml.releases.catalog import project_root

    kube = ctx.adapters.kubernetes
    gpu_nodes = [n for n in kube.nodes_summary() if n.is_gpu_pool]
    if not gpu_nodes:
        return CheckResult.not_ready("no GPU nodes (label mlplat.io/pool=gpu) are registered"), []
    run_id = _run_id()
    nodes = [{"name": n.name, "gpus": aws_catalog.gpus_per_instance(n.instance_type or "") or 1} for n in gpu_nodes]
    helm = ctx.adapters.helm
    namespace = "mlplat-system"
    status = helm.upgrade_install(
        "mlplat-gpu-check",
        str(project_root() / "charts" / "mlplat-gpu-check"),
        namespace=namespace,
        version="0.1.0",
        values={"runId": run_id, "nodes": nodes},
        timeout_s=int(timeout_s),
    )
    try:
        jobs = _jobs_in(status.manifest)
        results = [kube.wait_job_complete(namespace, job, timeout_s=timeout_s, progress=ctx.progress) for job in jobs]
        logs = "\n".join(kube.job_logs(namespace, job, tail_lines=200) for job in jobs)
    finally:
        helm.uninstall("mlplat-gpu-check", namespace=namespace, timeout_s=int(timeout_s))
    gpus, failures = parse_gpu_lines(logs)
    verdict = CheckResult.all_of(results)
    if not verdict.ok or failures:
        return CheckResult.not_ready("nvidia-smi check failed", "\n".join([verdict.diagnosis, *failures])), gpus
    models = sorted({f"{g.model} (driver {g.driver}, CUDA {g.cuda})" for g in gpus})
    return CheckResult.ready(
        f"nvidia-smi ok on {len(gpu_nodes)} GPU node(s), {len(gpus)} GPU(s): {'; '.join(models)}"
    ), gpus


def _jobs_in(manifest: str) -> list[str]:
    import yaml

    return [
        doc["metadata"]["name"]
        for doc in yaml.safe_load_all(manifest)
        if isinstance(doc, dict) and doc.get("kind") == "Job"
    ]


class GpuNodesPart(HelmPart):
    """NVIDIA device plugin on the GPU pool; gate: nodes Ready, GPUs allocatable, nvidia-smi works."""

    release_phase = "nodegroups"

    def check(self, ctx: PhaseContext) -> CheckResult:
        allocatable = ctx.adapters.kubernetes.gpu_allocatable_check(aws_catalog.gpus_per_instance)
        if not allocatable.ok:
            return allocatable
        smi, _ = run_gpu_check(ctx)
        return CheckResult.all_of([allocatable, smi])

    def status(self, ctx: PhaseContext) -> CheckResult:
        return ctx.adapters.kubernetes.gpu_allocatable_check(aws_catalog.gpus_per_instance)

    def destroy(self, ctx: PhaseContext) -> None:
        """Before nodes go: delete load balancers and dynamic volumes that would block the VPC."""
        from eksctl_ml.adapters.kubernetes.teardown import prepare_cluster_for_destroy
        from eksctl_ml.releases.catalog import load_catalog

        releases = [(r.name, r.namespace) for r in load_catalog().ordered() if r.phase != self.release_phase]
        report = prepare_cluster_for_destroy(
            ctx.adapters.kubernetes.api_client,
            ctx.adapters.aws,
            ctx.adapters.helm,
            ctx.env.config.cluster.name,
            releases,
            timeout_s=ROLLOUT_TIMEOUT_S,
            progress=ctx.progress,
            cancelled=ctx.cancelled,
        )
        if not report.ok:
            raise PhaseError(
                "cluster teardown left resources that block the VPC", phase=self.name, diagnosis=report.render()
            )
        super().destroy(ctx)


# --- cni -------------------------------------------------------------------------------------


class CniPhase(HelmPart):
    """VPC CNI (EKS add-on), Calico for network policy when enabled, the CNI metrics helper."""

    release_phase = "cni"

    def __init__(self) -> None:
        super().__init__("cni", "Amazon VPC CNI, Calico (optional, network policies), CNI metrics helper")

    def check(self, ctx: PhaseContext) -> CheckResult:
        kube = ctx.adapters.kubernetes
        waits = [("DaemonSet", "kube-system", "aws-node"), ("Deployment", "kube-system", "cni-metrics-helper")]
        if ctx.env.config.features.calico:
            waits.append(("DaemonSet", "calico-system", "calico-node"))
        return CheckResult.all_of(
            [
                kube.wait_for_rollout(kind, ns, name, timeout_s=self.timeout_s, progress=ctx.progress)
                for kind, ns, name in waits
            ]
        )


# --- storage (Kubernetes side) ----------------------------------------------------------------


class VolumesPart(HelmPart):
    """EFS and EBS CSI drivers ready, StorageClasses efs-sc and gp3, the model-cache claim; gate: a Job writes to the
    claim and reads it back."""

    release_phase = "storage"

    def computed_values(self, ctx: PhaseContext) -> dict[str, dict[str, Any]]:
        """The EFS id for efs-sc; for the gp3 class the data key (the EBS CSI role may use it) and the
        env/cluster tags that let the leftover inventory of `down` find a volume that outlived its claim.
        Outputs not recorded yet (a plan before `up`) are left out: the chart then names what is missing."""
        values: dict[str, Any] = {}
        fs_id = ctx.outputs.get(self.name, {}).get("efs_file_system_id")
        if fs_id:
            values["efs"] = {"fileSystemId": fs_id}
        ebs: dict[str, Any] = {"env": ctx.env.name, "cluster": ctx.env.config.cluster.name}
        kms_key = ctx.outputs.get("iam", {}).get("data_kms_key_arn")
        if kms_key:
            ebs["kmsKeyId"] = kms_key
        values["ebsStorageClass"] = ebs
        return {"mlplat-storage": values}

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        from eksctl_ml.releases.catalog import load_catalog
        from eksctl_ml.releases.service import install_phase

        computed = self.computed_values(ctx)
        computed.setdefault("mlplat-storage", {})["verify"] = {"runId": _run_id()}
        statuses = install_phase(load_catalog(), self.release_phase, ctx.env, ctx.adapters.helm, computed)
        jobs = [job for s in statuses for job in _jobs_in(s.manifest)]
        return {"verify_jobs": jobs, "releases": {s.name: s.revision for s in statuses}}

    def check(self, ctx: PhaseContext) -> CheckResult:
        kube = ctx.adapters.kubernetes
        namespace = next((r.namespace for r in self._releases(ctx) if r.name == "mlplat-storage"), "mlplat-system")
        results = [
            kube.wait_for_rollout(
                "Deployment", "kube-system", "efs-csi-controller", timeout_s=self.timeout_s, progress=ctx.progress
            ),
            kube.wait_for_rollout(
                "DaemonSet", "kube-system", "efs-csi-node", timeout_s=self.timeout_s, progress=ctx.progress
            ),
            # the gp3 class (Prometheus, Alertmanager, Loki volumes) needs the EBS CSI driver running
            kube.wait_for_rollout(
                "Deployment", "kube-system", "ebs-csi-controller", timeout_s=self.timeout_s, progress=ctx.progress
            ),
            kube.wait_for_rollout(
                "DaemonSet", "kube-system", "ebs-csi-node", timeout_s=self.timeout_s, progress=ctx.progress
            ),
            kube.wait_pvc_bound(namespace, "model-cache", timeout_s=self.timeout_s, progress=ctx.progress),
        ]
        for job in ctx.outputs.get(self.name, {}).get("verify_jobs", []):
            results.append(kube.wait_job_complete(namespace, job, timeout_s=self.timeout_s, progress=ctx.progress))
        return CheckResult.all_of(results)


# --- composition ------------------------------------------------------------------------------


class CompositePhase(BasePhase):
    """One phase made of parts run in order (destroyed in reverse); parts that do not apply to the env
    are skipped and said so in the gate's summary."""

    def __init__(self, name: str, description: str, parts: Sequence[Phase]) -> None:
        self.name = name
        self.description = description
        self.parts = tuple(parts)

    def _active(self, ctx: PhaseContext) -> tuple[list[Phase], list[str]]:
        active, skipped = [], []
        for part in self.parts:
            reason = part.skip_reason(ctx)
            if reason:
                skipped.append(f"{part.description.split(':')[0]} skipped: {reason}")
            else:
                active.append(part)
        return active, skipped

    def skip_reason(self, ctx: PhaseContext) -> str | None:
        active, skipped = self._active(ctx)
        return None if active else "; ".join(skipped)

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        active, _ = self._active(ctx)
        return {f"part{i}": dict(p.inputs(ctx)) for i, p in enumerate(active)}

    def plan(self, ctx: PhaseContext) -> PlanResult:
        active, skipped = self._active(ctx)
        plans = [p.plan(ctx) for p in active]
        action: PlanAction = next((p.action for p in plans if p.action != "noop"), "noop")
        details = tuple(d for p in plans for d in p.details) + tuple(skipped)
        return PlanResult(action, "; ".join(p.summary for p in plans), details)

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        merged: dict[str, Any] = {}
        active, _ = self._active(ctx)
        for part in active:
            merged.update(part.apply(ctx))
            # later parts read what earlier ones produced (the EFS id for the StorageClass...)
            ctx.outputs = {**ctx.outputs, self.name: {**ctx.outputs.get(self.name, {}), **merged}}
        return merged

    def _gate(self, ctx: PhaseContext, status: bool) -> CheckResult:
        active, skipped = self._active(ctx)
        results = [p.status(ctx) if status else p.check(ctx) for p in active]
        verdict = CheckResult.all_of(results)
        if skipped:
            summary = f"{verdict.summary} ({'; '.join(skipped)})"
            return CheckResult(verdict.ok, summary, verdict.diagnosis)
        return verdict

    def check(self, ctx: PhaseContext) -> CheckResult:
        return self._gate(ctx, status=False)

    def status(self, ctx: PhaseContext) -> CheckResult:
        return self._gate(ctx, status=True)

    def destroy(self, ctx: PhaseContext) -> None:
        for part in reversed(self.parts):
            if part.skip_reason(ctx) is None:
                part.destroy(ctx)
