"""Hand-written fakes of the five adapter contracts. Each records its calls for assertions.

They implement the Protocols in eksctl_ml.adapters.*.protocol; tests/fakes/test_fakes.py checks that
with mypy-free runtime signature comparisons, so a contract change breaks the fakes loudly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.aws.protocol import CallerIdentity
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.adapters.kubernetes.protocol import NodeInfo
from eksctl_ml.adapters.kubernetes.proxy import ProxyResponse
from eksctl_ml.adapters.terraform.protocol import OutputValue, PlanSummary, ProgressCallback, Stack
from eksctl_ml.adapters.triton.protocol import ModelState, Tensor, TritonEndpoint
from eksctl_ml.engine.phase import CheckResult
from eksctl_ml.errors import AwsError, TritonError
from eksctl_ml.releases.endpoints import ServiceRef


@dataclass
class FakeAws:
    account: str = "123456789012"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    calls: list[str] = field(default_factory=list)
    fail: bool = False

    def client(self, service: str) -> Any:
        self.calls.append(f"client:{service}")
        raise AwsError(f"FakeAws has no {service} client")

    def caller_identity(self) -> CallerIdentity:
        self.calls.append("caller_identity")
        if self.fail:
            raise AwsError("no AWS credentials found", hint="log in")
        return CallerIdentity(self.account, f"arn:aws:iam::{self.account}:user/tester", "AIDATEST")


@dataclass
class FakeTerraform:
    """Keeps a set of 'resources' per stack; plan compares it with the wanted set."""

    wanted: dict[str, list[str]] = field(default_factory=dict)
    state: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def version(self) -> str:
        return "1.11.4"

    def init(self, stack: Stack) -> None:
        self.calls.append(("init", stack.name))

    def plan(
        self, stack: Stack, var_file: Path, *, destroy: bool = False, progress: ProgressCallback | None = None
    ) -> PlanSummary:
        self.calls.append(("plan", stack.name))
        have, want = set(self.state.get(stack.name, [])), set(self.wanted.get(stack.name, []))
        if destroy:
            return PlanSummary(bool(have), remove=len(have))
        return PlanSummary(have != want, add=len(want - have), remove=len(have - want), plan_file=var_file)

    def apply(self, stack: Stack, plan: PlanSummary, *, progress: ProgressCallback | None = None) -> None:
        self.calls.append(("apply", stack.name))
        for resource in self.wanted.get(stack.name, []):
            if progress:
                progress(f"{resource}: created")
        self.state[stack.name] = list(self.wanted.get(stack.name, []))

    def output(self, stack: Stack) -> dict[str, OutputValue]:
        self.calls.append(("output", stack.name))
        return {r: OutputValue(f"id-{r}") for r in self.state.get(stack.name, [])}

    def destroy(self, stack: Stack, var_file: Path, *, progress: ProgressCallback | None = None) -> None:
        self.calls.append(("destroy", stack.name))
        self.state.pop(stack.name, None)

    def import_resource(
        self, stack: Stack, var_file: Path, address: str, import_id: str, *, progress: ProgressCallback | None = None
    ) -> None:
        self.calls.append(("import", f"{address}={import_id}"))
        self.state.setdefault(stack.name, []).append(address)


@dataclass
class FakeHelm:
    releases: dict[tuple[str, str], ReleaseStatus] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    waited: dict[str, bool] = field(default_factory=dict)
    """Per release: whether the last install asked helm to wait (--atomic --wait)."""

    def version(self) -> str:
        return "v3.17.3"

    def upgrade_install(
        self,
        release: str,
        chart: str,
        *,
        namespace: str,
        version: str | None,
        values: Mapping[str, Any],
        timeout_s: int,
        repo: str | None = None,
        wait: bool = True,
    ) -> ReleaseStatus:
        self.calls.append(("upgrade_install", release))
        self.waited[release] = wait
        old = self.releases.get((namespace, release))
        status = ReleaseStatus(release, namespace, (old.revision + 1) if old else 1, "deployed", chart)
        self.releases[(namespace, release)] = status
        return status

    def uninstall(self, release: str, *, namespace: str, timeout_s: int) -> bool:
        self.calls.append(("uninstall", release))
        return self.releases.pop((namespace, release), None) is not None

    def status(self, release: str, *, namespace: str) -> ReleaseStatus | None:
        self.calls.append(("status", release))
        return self.releases.get((namespace, release))


@dataclass
class FakeKubernetes:
    """A cluster in memory: nodes, objects that are ready (``"*"``: everything), Job logs."""

    nodes: list[NodeInfo] = field(default_factory=list)
    ready: set[str] = field(default_factory=set)
    logs: str = ""
    calls: list[str] = field(default_factory=list)
    api_client: Any = None
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    proxy: dict[tuple[str, str, str, str], ProxyResponse] = field(default_factory=dict)
    """Service answers keyed (namespace, service, port, path without leading slash)."""

    def server_version(self) -> str:
        self.calls.append("server_version")
        return "v1.32.0"

    def _wait(self, what: str) -> CheckResult:
        self.calls.append(what)
        if what in self.ready or "*" in self.ready:
            return CheckResult.ready(f"{what} ready")
        return CheckResult.not_ready(f"{what} not ready", "0/1 pods ready")

    def wait_for_rollout(
        self, kind: str, namespace: str, name: str, *, timeout_s: float, progress: Any = None, cancelled: Any = None
    ) -> CheckResult:
        return self._wait(f"{kind}/{namespace}/{name}")

    def wait_pvc_bound(
        self, namespace: str, name: str, *, timeout_s: float, progress: Any = None, cancelled: Any = None
    ) -> CheckResult:
        return self._wait(f"pvc/{namespace}/{name}")

    def wait_crd_established(
        self, name: str, *, timeout_s: float, progress: Any = None, cancelled: Any = None
    ) -> CheckResult:
        return self._wait(f"crd/{name}")

    def wait_job_complete(
        self, namespace: str, name: str, *, timeout_s: float, progress: Any = None, cancelled: Any = None
    ) -> CheckResult:
        return self._wait(f"job/{namespace}/{name}")

    def wait_service_endpoints(
        self, namespace: str, name: str, *, timeout_s: float, progress: Any = None, cancelled: Any = None
    ) -> CheckResult:
        return self._wait(f"endpoints/{namespace}/{name}")

    def nodes_summary(self) -> list[NodeInfo]:
        self.calls.append("nodes_summary")
        return list(self.nodes)

    def gpu_allocatable_check(self, expected_per_type: Any) -> CheckResult:
        self.calls.append("gpu_allocatable_check")
        bad = [
            n.name
            for n in self.nodes
            if n.is_gpu_pool and n.gpus_allocatable != expected_per_type(n.instance_type or "")
        ]
        return CheckResult.not_ready("GPU mismatch", ", ".join(bad)) if bad else CheckResult.ready("GPUs allocatable")

    def pod_logs(
        self, namespace: str, pod: str, tail_lines: int, *, container: str | None = None, previous: bool = False
    ) -> str:
        self.calls.append(f"logs/{namespace}/{pod}")
        return self.logs

    def job_logs(self, namespace: str, job: str, *, tail_lines: int = 200) -> str:
        self.calls.append(f"job_logs/{namespace}/{job}")
        return self.logs

    def apply_secret(
        self, namespace: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> None:
        self.calls.append(f"apply_secret/{namespace}/{name}")
        self.secrets[(namespace, name)] = dict(data)

    def delete_secret(self, namespace: str, name: str) -> bool:
        self.calls.append(f"delete_secret/{namespace}/{name}")
        return self.secrets.pop((namespace, name), None) is not None

    def service_get(
        self, ref: ServiceRef, path: str, params: Mapping[str, str] | None = None, *, timeout_s: float = 15.0
    ) -> ProxyResponse:
        """The answer in ``proxy`` for (namespace, service, port, path); 404 from the service otherwise."""
        self.calls.append(f"service_get/{ref.namespace}/{ref.name}:{ref.port}/{path.lstrip('/')}")
        return self.proxy.get((ref.namespace, ref.name, str(ref.port), path.lstrip("/")), ProxyResponse(404, b""))


FAKE_TRITON_INPUTS = [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, 4]}]
FAKE_TRITON_OUTPUTS = [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, 3]}]


@dataclass
class FakeTriton:
    """An in-memory Triton: ``models`` maps name -> loads fine (True) or fails to load (False).

    Every model has one batching FP32 input [-1, 4] and output [-1, 3]; ``infer`` answers zeros of the
    right shape and bumps ``nv_inference_request_success`` in ``metrics_text``. The real server is
    exercised in tests/triton/.
    """

    models: dict[str, bool] = field(default_factory=dict)
    live: bool = True
    url: str = "http://triton.fake:8000"
    metrics_url: str | None = "http://triton.fake:8002/metrics"
    calls: list[tuple[str, str]] = field(default_factory=list)
    successes: dict[str, int] = field(default_factory=dict)

    @property
    def endpoint(self) -> TritonEndpoint:
        return TritonEndpoint(self.url, metrics_url=self.metrics_url)

    def _known(self, model: str) -> None:
        if model not in self.models:
            raise TritonError(f"Triton at {self.url}: Request for unknown model: '{model}' is not found")

    def is_server_live(self) -> bool:
        self.calls.append(("is_server_live", ""))
        return self.live

    def is_server_ready(self) -> bool:
        self.calls.append(("is_server_ready", ""))
        return self.live and all(self.models.values())

    def is_model_ready(self, model: str, version: str = "") -> bool:
        self.calls.append(("is_model_ready", model))
        return self.models.get(model, False)

    def model_metadata(self, model: str, version: str = "") -> Mapping[str, Any]:
        self.calls.append(("model_metadata", model))
        self._known(model)
        return {
            "name": model,
            "versions": ["1"],
            "platform": "python",
            "inputs": FAKE_TRITON_INPUTS,
            "outputs": FAKE_TRITON_OUTPUTS,
        }

    def model_config(self, model: str, version: str = "") -> Mapping[str, Any]:
        self.calls.append(("model_config", model))
        self._known(model)
        return {"name": model, "backend": "python", "max_batch_size": 8}

    def repository_index(self) -> list[ModelState]:
        self.calls.append(("repository_index", ""))
        return [
            ModelState(m, "1", "READY") if ok else ModelState(m, "1", "UNAVAILABLE", f"fake: {m} failed to load")
            for m, ok in self.models.items()
        ]

    def load_model(self, model: str) -> None:
        self.calls.append(("load_model", model))
        self._known(model)
        if not self.models[model]:
            raise TritonError(f"Triton at {self.url}: load of model {model!r} failed: fake: {model} failed to load")

    def unload_model(self, model: str) -> None:
        self.calls.append(("unload_model", model))
        self._known(model)

    def infer(self, model: str, inputs: Sequence[Tensor], outputs: Sequence[str], version: str = "") -> list[Tensor]:
        import numpy as np

        self.calls.append(("infer", model))
        if not self.models.get(model, False):
            raise TritonError(f"Triton at {self.url}: inference on model {model!r} failed: model is not ready")
        batch = inputs[0].shape[0] if inputs and inputs[0].shape else 1
        self.successes[model] = self.successes.get(model, 0) + 1
        return [Tensor(name, "FP32", (batch, 3), np.zeros((batch, 3), np.float32)) for name in outputs]

    def metrics_text(self) -> str:
        self.calls.append(("metrics_text", ""))
        lines = ["# TYPE nv_inference_request_success counter"]
        lines += [
            f'nv_inference_request_success{{model="{m}",version="1"}} {self.successes.get(m, 0)}'
            for m, ok in self.models.items()
            if ok
        ]
        return "\n".join(lines) + "\n"


def fake_adapters(aws: FakeAws | None = None, **kwargs: Any) -> Adapters:
    aws = aws or FakeAws()
    return Adapters(aws_factory=lambda: aws, **kwargs)
