"""`mlplat gpu-check`: run nvidia-smi on every GPU node, on demand, and report what it found."""

from __future__ import annotations

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import CheckResult, PhaseContext
from eksctl_ml.errors import UsageError
from eksctl_ml.phases.kubernetes import GpuReport, run_gpu_check
from eksctl_ml.services.deps import Dependencies


def gpu_check(env: Environment, deps: Dependencies) -> tuple[CheckResult, list[GpuReport]]:
    from eksctl_ml.releases.service import no_kubernetes_api

    reason = no_kubernetes_api(env)
    if reason:
        raise UsageError(reason, hint="set cluster.kube_context in the env file to check a local cluster")
    ctx = PhaseContext(env=env, workdir=deps.workdir(env), adapters=deps.build_adapters(env), outputs={})
    return run_gpu_check(ctx)
