"""How commands get their collaborators. The CLI uses the defaults; tests pass their own phases, store,
adapters and inventory through ``CliRunner.invoke(app, ..., obj=Dependencies(...))``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eksctl_ml.adapters import Adapters
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import Phase
from eksctl_ml.engine.store import LocalStore, StateStore

if TYPE_CHECKING:
    from eksctl_ml.adapters.aws.protocol import CallerIdentity
    from eksctl_ml.adapters.prometheus.protocol import PrometheusApi
    from eksctl_ml.inventory import InventoryResult

STATE_DIR_VAR = "MLPLAT_STATE_DIR"
AWS_ENDPOINT_VAR = "MLPLAT_AWS_ENDPOINT"
# The emulator accepts any credentials; fixed fake ones keep real credentials out of its reach.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def state_root() -> Path:
    """Where per-env journals, locks, logs and generated files live: ``$MLPLAT_STATE_DIR`` or ``./.mlplat``."""
    return Path(os.environ.get(STATE_DIR_VAR) or ".mlplat")


def emulator_state_dir(root: Path) -> Path:
    """The embedded emulator's pid/port/log folder (``.mlplat/local/``)."""
    return root / "local"


def _default_phases(env: Environment) -> Sequence[Phase]:
    from eksctl_ml.phases.registry import provision_order

    return provision_order(env)


def _default_store(env: Environment, workdir: Path, adapters: Adapters) -> StateStore:
    from eksctl_ml.adapters.aws.state_store import S3Store

    cfg = env.config
    return S3Store(
        env.name, _LazyAws(adapters), cfg.state_bucket(), cfg.state.key_prefix, LocalStore(env.name, workdir)
    )


class _LazyAws:
    """Resolves ``adapters.aws`` on first use, so building a store never starts the emulator."""

    def __init__(self, adapters: Adapters) -> None:
        self._adapters = adapters

    @property
    def region(self) -> str:
        return self._adapters.aws.region

    @property
    def endpoint_url(self) -> str | None:
        return self._adapters.aws.endpoint_url

    def client(self, service: str) -> Any:
        return self._adapters.aws.client(service)

    def caller_identity(self) -> CallerIdentity:
        return self._adapters.aws.caller_identity()


def _default_adapters(env: Environment, root: Path) -> Adapters:
    cfg = env.config
    lock = threading.Lock()
    endpoint: list[str | None] = []

    def resolve_endpoint() -> str | None:
        with lock:
            if not endpoint:
                endpoint.append(aws_endpoint(env, root))
            return endpoint[0]

    def aws() -> object:
        from eksctl_ml.adapters.aws.session import Boto3Aws

        url = resolve_endpoint()
        if url:
            return Boto3Aws(cfg.aws.region, None, url, static_credentials=EMULATOR_CREDENTIALS)
        return Boto3Aws(cfg.aws.region, cfg.aws.profile)

    def terraform() -> object:
        from eksctl_ml.adapters.terraform.runner import CliTerraformRunner

        url = resolve_endpoint()
        variables = {"AWS_REGION": cfg.aws.region, "AWS_DEFAULT_REGION": cfg.aws.region}
        if url:
            variables.update(EMULATOR_CREDENTIALS, AWS_ENDPOINT_URL=url)
        elif cfg.aws.profile:
            variables["AWS_PROFILE"] = cfg.aws.profile
        return CliTerraformRunner(env=variables)

    built_aws: list[object] = []

    def shared_aws() -> Any:
        if not built_aws:
            built_aws.append(aws())
        return built_aws[0]

    def kubernetes() -> object:
        from eksctl_ml.adapters.kubernetes.client import KubeClient
        from eksctl_ml.services.kubeaccess import kubernetes_api_client

        return KubeClient(kubernetes_api_client(env, shared_aws(), root))

    def helm() -> object:
        from eksctl_ml.adapters.helm.client import helm_client_for
        from eksctl_ml.services.kubeaccess import write_kubeconfig

        # An env with a kube context talks to that context; an EKS env gets a kubeconfig whose user
        # runs `mlplat token`, written under .mlplat/<env>/.
        kubeconfig = None if cfg.cluster.kube_context else write_kubeconfig(env, shared_aws(), None, state_root=root)
        return helm_client_for(env, kubeconfig, None)

    adapters = Adapters(
        aws_factory=shared_aws,
        terraform_factory=terraform,  # type: ignore[arg-type]
        kubernetes_factory=kubernetes,  # type: ignore[arg-type]
        helm_factory=helm,  # type: ignore[arg-type]
    )

    def triton() -> object:
        # the env's Triton Service through the API server's service proxy, with the same credentials
        from eksctl_ml.services.smoke import in_cluster_triton

        return in_cluster_triton(adapters.kubernetes.api_client)

    adapters.triton_factory = triton  # type: ignore[assignment]
    return adapters


def aws_endpoint(env: Environment, root: Path) -> str | None:
    """The AWS endpoint for ``env``: None for real AWS; for an emulator env, ``$MLPLAT_AWS_ENDPOINT`` or
    the embedded emulator (started if it is not running)."""
    if not env.config.aws.emulator:
        return None
    explicit = os.environ.get(AWS_ENDPOINT_VAR)
    if explicit:
        return explicit
    from eksctl_ml.emulator import EmbeddedEmulator

    return EmbeddedEmulator(emulator_state_dir(root)).start()


def _default_inventory(env: Environment, adapters: Adapters) -> InventoryResult:
    from eksctl_ml.inventory import find_leftovers

    return find_leftovers(adapters.aws, env.name, env.config.cluster.name)


def _default_prometheus(env: Environment, adapters: Adapters, timeout_s: float) -> PrometheusApi:
    """The env's Prometheus (``observability/kps-prometheus:9090``) through its Kubernetes API server's proxy."""
    from eksctl_ml.adapters.prometheus.client import KubeProxyTransport, PrometheusClient

    return PrometheusClient(KubeProxyTransport(adapters.kubernetes.api_client), timeout_s=timeout_s)


@dataclass
class Dependencies:
    """Factories for everything a command touches outside the process."""

    phases: Callable[[Environment], Sequence[Phase]] = _default_phases
    store: Callable[[Environment, Path, Adapters], StateStore] = _default_store
    adapters: Callable[[Environment, Path], Adapters] | None = None
    inventory: Callable[[Environment, Adapters], InventoryResult] | None = _default_inventory
    prometheus: Callable[[Environment, Adapters, float], PrometheusApi] = _default_prometheus
    """(env, adapters, per-request timeout in seconds) -> the Prometheus behind ``status``'s live figures."""
    root: Path = field(default_factory=state_root)

    def workdir(self, env: Environment) -> Path:
        return self.root / env.name

    def build_adapters(self, env: Environment) -> Adapters:
        if self.adapters is not None:
            return self.adapters(env, self.workdir(env))
        return _default_adapters(env, self.root)


def local_store(env: Environment, workdir: Path, adapters: Adapters) -> StateStore:
    """A store factory keeping journal and lock only under ``.mlplat/<env>/`` (tests, offline use)."""
    return LocalStore(env.name, workdir)
