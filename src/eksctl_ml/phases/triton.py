"""The triton phase: NVIDIA Triton Inference Server from the project's chart ``charts/triton``, proven by
a smoke inference on every model the env lists.

* ``apply`` installs the catalog's ``triton`` release with values computed from the env file
  (``triton.*``: image tag, replicas, GPUs, CPU/memory, models, model source) and the storage phase's
  outputs (model bucket and the Triton IRSA role, or the EFS file system and access point).
* before installing (S3 source), the model repository is checked: every model the env lists must be in
  ``s3://<bucket>/<prefix>`` with a version folder (else nothing is installed and the error says which
  ``mlplat models push`` to run), and a ``.keep`` marker is put under the prefix, because Triton refuses
  to start on an S3 path with no object under it.
* ``check`` (the gate): the Deployment rolled out, the Service has ready endpoints, then
  :func:`eksctl_ml.serving.smoke.run_smoke` through the API server's service proxy (Triton's HTTP and
  metrics ports): server live and ready, each model ready and answering one inference whose outputs
  match its metadata, the success counter rising. A failure names the model and carries Triton's words.
* ``status``: the rollout state and Triton's own readiness (server and each model), no inference.
* ``destroy``: the release is uninstalled (already gone is success).

The Triton client is built per gate from a fresh endpoint (the EKS token in its headers lasts 15
minutes); ``client_factory`` lets tests hand in their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from eksctl_ml.adapters.triton.protocol import TritonClient, TritonEndpoint
from eksctl_ml.engine.phase import CheckResult, Phase, PhaseContext
from eksctl_ml.errors import ConfigError, ConfigIssue, MlplatError, PhaseError
from eksctl_ml.phases.kubernetes import HelmPart
from eksctl_ml.releases.endpoints import TRITON_HTTP, TRITON_QUEUE_METRIC

RELEASE = "triton"
"""The catalog's release name (and ``helm-values/triton/``)."""
ROLLOUT_TIMEOUT_S = 1200.0
"""First rollout on a fresh GPU node: the ~15 GB NGC image pull plus model loading from S3."""
SMOKE_TIMEOUT_S = 180.0
STATUS_REQUEST_TIMEOUT_S = 10.0

ClientFactory = Callable[[TritonEndpoint], TritonClient]


def http_client(endpoint: TritonEndpoint) -> TritonClient:
    """The real Triton adapter (tritonclient over HTTP)."""
    from eksctl_ml.adapters.triton.client import HttpTritonClient

    return HttpTritonClient(endpoint)


class TritonPhase(HelmPart):
    """Triton on the GPU pool; gate: rollout, Service endpoints, smoke inference on every model."""

    release_phase = "triton"
    timeout_s = ROLLOUT_TIMEOUT_S
    smoke_timeout_s = SMOKE_TIMEOUT_S

    def __init__(self, client_factory: ClientFactory = http_client) -> None:
        super().__init__(
            "triton",
            "NVIDIA Triton Inference Server on the GPU pool (S3 or EFS model repository, HPA on queue time)",
        )
        self._client_factory = client_factory

    # --- values ---------------------------------------------------------------------------------

    def computed_values(self, ctx: PhaseContext) -> dict[str, dict[str, Any]]:
        """The chart's values that follow from the env file and the storage phase's outputs.

        Raises ConfigError for an env that lists no model (nothing to serve, nothing for the gate to
        prove) and PhaseError (via ``ctx.output``) when the storage phase has not recorded its outputs.
        """
        cfg = ctx.env.config
        triton = cfg.triton
        if not triton.models:
            raise ConfigError(
                f"env {ctx.env.name}: triton.models is empty: Triton runs with explicit model control and "
                "would load nothing, and its readiness gate would prove nothing",
                [
                    ConfigIssue(
                        str(ctx.env.source),
                        "triton.models",
                        "no model to serve",
                        fix="list the models of the repository, e.g. `triton: {models: [mlp_onnx]}`, and upload "
                        f"them with `mlplat models push DIR --env {ctx.env.name}`",
                    )
                ],
                hint="list at least one model under triton.models in the env file",
            )
        resources = {"cpu": triton.cpu, "memory": triton.memory}
        values: dict[str, Any] = {
            "image": {"tag": triton.image_tag},
            "replicas": triton.replicas,
            "gpusPerPod": triton.gpus_per_pod,
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            "models": list(triton.models),
            "modelSource": triton.model_source,
            "autoscaling": {
                "maxReplicas": triton.max_replicas,
                "queueTimeTargetMs": triton.queue_time_target_ms,
                "queueTimeMetric": TRITON_QUEUE_METRIC,
            },
        }
        if triton.model_source == "s3":
            values["s3"] = {
                "bucket": ctx.output("storage", "model_bucket_name"),
                "prefix": cfg.model_repository.prefix,
                "region": cfg.aws.region,
            }
            values["serviceAccount"] = {"roleArn": ctx.output("storage", "triton_role_arn")}
        else:
            values["efs"] = {
                "fileSystemId": ctx.output("storage", "efs_file_system_id"),
                "accessPointId": ctx.output("storage", "efs_access_point_id"),
            }
        return {RELEASE: values}

    # --- apply --------------------------------------------------------------------------------

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        if ctx.env.config.triton.model_source == "s3":
            self._require_models_in_bucket(ctx)
        return super().apply(ctx)

    def _require_models_in_bucket(self, ctx: PhaseContext) -> None:
        """Fail before helm runs when a listed model is not in the bucket (Triton would crash-loop on it)."""
        from eksctl_ml.serving.push import ensure_repository_marker, list_stored_models

        cfg = ctx.env.config
        bucket = str(ctx.output("storage", "model_bucket_name"))
        prefix = cfg.model_repository.prefix
        s3 = ctx.adapters.aws.client("s3")
        ensure_repository_marker(s3, bucket, prefix)
        stored = {model.name: model for model in list_stored_models(s3, bucket, prefix)}
        missing = [name for name in cfg.triton.models if not stored.get(name) or not stored[name].versions]
        if missing:
            raise PhaseError(
                f"model(s) {', '.join(missing)} listed in triton.models are not in s3://{bucket}/{prefix} "
                "(no numbered version folder): Triton would fail to load them",
                phase=self.name,
                diagnosis="in the bucket: " + (", ".join(sorted(stored)) or "no models"),
                hint=f"upload them, then resume: mlplat models push DIR --env {ctx.env.name} --no-reload && "
                f"mlplat up --env {ctx.env.name} --from {self.name} --yes",
            )
        ctx.progress(f"model repository s3://{bucket}/{prefix}: {', '.join(cfg.triton.models)} present")

    # --- the gate -------------------------------------------------------------------------------

    def check(self, ctx: PhaseContext) -> CheckResult:
        from eksctl_ml.serving.smoke import run_smoke

        kube = ctx.adapters.kubernetes
        namespace, name = TRITON_HTTP.namespace, TRITON_HTTP.name
        rollout = kube.wait_for_rollout(
            "Deployment", namespace, name, timeout_s=self.timeout_s, progress=ctx.progress, cancelled=ctx.cancelled
        )
        if not rollout.ok:
            return self._with_gpu_capacity(ctx, rollout)
        endpoints = kube.wait_service_endpoints(
            namespace, name, timeout_s=self.timeout_s, progress=ctx.progress, cancelled=ctx.cancelled
        )
        if not endpoints.ok:
            return endpoints
        with self._client(ctx) as client:
            report = run_smoke(
                client, list(ctx.env.config.triton.models), timeout_s=self.smoke_timeout_s, progress=ctx.progress
            )
        return CheckResult.all_of([rollout, endpoints, report.to_check_result()])

    def status(self, ctx: PhaseContext) -> CheckResult:
        """Cheap: the rollout as it is now (no waiting) and Triton's readiness, no inference."""
        kube = ctx.adapters.kubernetes
        rollout = kube.wait_for_rollout("Deployment", TRITON_HTTP.namespace, TRITON_HTTP.name, timeout_s=0)
        if not rollout.ok:
            return rollout
        models = list(ctx.env.config.triton.models)
        try:
            with self._client(ctx, request_timeout_s=STATUS_REQUEST_TIMEOUT_S) as client:
                server_ready = client.is_server_ready()
                not_ready = [model for model in models if not client.is_model_ready(model)]
        except MlplatError as exc:
            return CheckResult.not_ready("Triton cannot be asked through the API server", _explain(exc))
        if not_ready:
            return CheckResult.not_ready(
                f"Triton model(s) not ready: {', '.join(not_ready)}",
                f"run `mlplat smoke --env {ctx.env.name}` for the server's reason",
            )
        if not server_ready:
            return CheckResult.not_ready("Triton server is not ready", "a loaded model is not ready (strict readiness)")
        return CheckResult.ready(f"{rollout.summary}; Triton ready, {len(models)} model(s) ready: {', '.join(models)}")

    # --- helpers --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _client(self, ctx: PhaseContext, *, request_timeout_s: float | None = None) -> Iterator[TritonClient]:
        """A Triton client for the env's Service through the API server, closed afterwards."""
        from eksctl_ml.services.smoke import REQUEST_TIMEOUT_S, in_cluster_endpoint

        endpoint = in_cluster_endpoint(
            ctx.adapters.kubernetes.api_client, request_timeout_s=request_timeout_s or REQUEST_TIMEOUT_S
        )
        client = self._client_factory(endpoint)
        try:
            yield client
        finally:
            close = getattr(client, "close", None)
            if callable(close):
                close()

    def _with_gpu_capacity(self, ctx: PhaseContext, rollout: CheckResult) -> CheckResult:
        """A failed rollout, plus how many GPUs the pool advertises against what Triton asks for."""
        triton = ctx.env.config.triton
        wanted = triton.replicas * triton.gpus_per_pod
        try:
            nodes = [node for node in ctx.adapters.kubernetes.nodes_summary() if node.is_gpu_pool]
        except MlplatError as exc:
            return CheckResult.not_ready(rollout.summary, f"{rollout.diagnosis}\n(could not list nodes: {exc})")
        allocatable = sum(node.gpus_allocatable for node in nodes)
        line = (
            f"GPU pool: {len(nodes)} node(s) advertise {allocatable} nvidia.com/gpu in total; Triton asks for "
            f"{triton.replicas} replica(s) x {triton.gpus_per_pod} GPU(s) = {wanted}"
        )
        if allocatable < wanted:
            line += (
                ": not enough GPUs, pods stay Pending. Lower triton.replicas/gpus_per_pod or grow "
                "node_groups.gpu (desired_size, or an instance type with more GPUs)"
            )
        return CheckResult.not_ready(rollout.summary, "\n".join(part for part in (rollout.diagnosis, line) if part))


def _explain(exc: MlplatError) -> str:
    hint = f"\nhint: {exc.hint}" if exc.hint else ""
    return f"{exc.message}{hint}"


def triton_phase(client_factory: ClientFactory = http_client) -> Phase:
    """The triton phase for the provision order (after observability, before mesh)."""
    return TritonPhase(client_factory)
