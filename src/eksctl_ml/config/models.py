"""Typed environment configuration: one YAML file per environment (``envs/<name>.yaml``).

Every model forbids unknown keys (a typo is an error, not a silently ignored setting) and every
field has a description, which ``mlplat config show`` and the README's reference are built from.
Field validators raise :func:`invalid` so each error carries the fix alongside the message.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from eksctl_ml.config import catalog

ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CLUSTER_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,99}$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def invalid(message: str, fix: str, field: str | None = None) -> PydanticCustomError:
    """A validation error that carries its fix (and, for model-level checks, the field it is about)."""
    ctx: dict[str, Any] = {"fix": fix}
    if field:
        ctx["field"] = field
    return PydanticCustomError("mlplat", message, ctx)


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are errors; instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise invalid(
            f"not a valid IPv4 CIDR block: {exc}",
            "write it as a network address with a prefix length, e.g. 10.0.0.0/16",
        ) from None
    return value


class AwsConfig(StrictModel):
    """Where the environment lives in AWS, and which account it must be."""

    region: str = Field(description="AWS region to deploy into, e.g. us-west-2.")
    account_id: str = Field(
        description="12-digit AWS account id this environment must be deployed to. mlplat refuses to "
        "run when the resolved credentials belong to another account."
    )
    profile: str | None = Field(
        default=None,
        description="Named AWS profile to use (SSO and assumed-role profiles work). Unset: the standard "
        "credential chain (env vars, instance/OIDC role).",
    )
    emulator: bool = Field(
        default=False,
        description="Run against mlplat's embedded AWS emulator instead of AWS (the `local` environment). "
        "No AWS account is needed; Kubernetes-backed phases are skipped unless cluster.kube_context is set.",
    )

    @field_validator("region")
    @classmethod
    def _region_exists(cls, value: str) -> str:
        if value not in catalog.AWS_REGIONS:
            import difflib

            close = difflib.get_close_matches(value, sorted(catalog.AWS_REGIONS), n=1)
            fix = f"did you mean {close[0]!r}?" if close else "use a region name such as us-west-2"
            raise invalid("not an AWS region", fix)
        return value

    @field_validator("account_id")
    @classmethod
    def _account_id_format(cls, value: str) -> str:
        if not re.fullmatch(r"\d{12}", value):
            raise invalid("an AWS account id is exactly 12 digits", "quote it in YAML, e.g. '012345678901'")
        return value


class StateConfig(StrictModel):
    """Where Terraform state, the journal and the run lock are kept (an S3 bucket per account+region)."""

    bucket: str | None = Field(
        default=None,
        description="S3 bucket for Terraform state, the mlplat journal and the run lock. Created by the "
        "bootstrap phase. Default: mlplat-state-<account_id>-<region>.",
    )
    key_prefix: str = Field(
        default="mlplat", description="Key prefix inside the state bucket; the env name is appended."
    )

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and (not _BUCKET_RE.fullmatch(value) or ".." in value):
            raise invalid("not a valid S3 bucket name", "use 3-63 lowercase letters, digits, '-' and '.'")
        return value


LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


class ClusterConfig(StrictModel):
    """The EKS control plane."""

    name: str = Field(description="EKS cluster name (unique in the account and region).")
    kubernetes_version: str = Field(
        default=catalog.DEFAULT_KUBERNETES_VERSION,
        description=f"Kubernetes minor version, one of {', '.join(catalog.SUPPORTED_KUBERNETES_VERSIONS)}.",
    )
    endpoint_public_access: bool = Field(default=True, description="Expose the API endpoint publicly.")
    endpoint_private_access: bool = Field(
        default=True, description="Expose the API endpoint inside the VPC (nodes use it)."
    )
    public_access_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        description="CIDR blocks allowed to reach the public endpoint. Narrow this outside dev.",
    )
    log_types: list[LogType] = Field(
        default_factory=lambda: list[LogType](["api", "audit", "authenticator"]),
        description="Control-plane log types sent to CloudWatch.",
    )
    authentication_mode: Literal["API", "API_AND_CONFIG_MAP"] = Field(
        default="API",
        description="EKS access mode: access entries only (API) or also the aws-auth ConfigMap.",
    )
    admin_role_arns: list[str] = Field(
        default_factory=list,
        description="IAM role ARNs given cluster-admin access entries besides the creator, so a second "
        "operator (or CI) is never locked out.",
    )
    addon_versions: dict[str, str] = Field(
        default_factory=lambda: dict(catalog.DEFAULT_ADDON_VERSIONS),
        description=f"Pinned versions of the EKS managed add-ons ({', '.join(catalog.DEFAULT_ADDON_VERSIONS)}).",
    )
    vpc_cni_network_policy: bool = Field(
        default=True, description="Enable the VPC CNI's Kubernetes NetworkPolicy enforcement."
    )
    vpc_cni_prefix_delegation: bool = Field(
        default=False, description="Assign /28 prefixes to nodes for higher pod density."
    )
    kube_context: str | None = Field(
        default=None,
        description="Use this kubeconfig context instead of the EKS cluster for Kubernetes phases "
        "(a local cluster, for example).",
    )

    @model_validator(mode="after")
    def _some_endpoint(self) -> ClusterConfig:
        if not (self.endpoint_public_access or self.endpoint_private_access):
            raise invalid(
                "the API endpoint must be reachable: public and private access are both off",
                "set endpoint_private_access: true (or endpoint_public_access: true)",
                field="endpoint_private_access",
            )
        return self

    @field_validator("name")
    @classmethod
    def _cluster_name(cls, value: str) -> str:
        if not _CLUSTER_NAME_RE.fullmatch(value):
            raise invalid("not a valid EKS cluster name", "start with a letter; use letters, digits and '-' (max 100)")
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        if value not in catalog.SUPPORTED_KUBERNETES_VERSIONS:
            raise invalid(
                "unsupported Kubernetes version",
                f"use one of {', '.join(catalog.SUPPORTED_KUBERNETES_VERSIONS)}",
            )
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            _check_cidr(cidr)
        return value

    @field_validator("admin_role_arns")
    @classmethod
    def _role_arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not _ROLE_ARN_RE.fullmatch(arn):
                raise invalid(f"not an IAM role ARN: {arn!r}", "use arn:aws:iam::<account-id>:role/<name>")
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addons(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(catalog.DEFAULT_ADDON_VERSIONS))
        if unknown:
            raise invalid(
                f"unknown add-on(s) {', '.join(unknown)}",
                f"pin only {', '.join(catalog.DEFAULT_ADDON_VERSIONS)}",
            )
        # Unlisted add-ons keep their default pin rather than floating to "latest".
        return {**catalog.DEFAULT_ADDON_VERSIONS, **value}


class NetworkConfig(StrictModel):
    """The VPC: private subnets for nodes, public subnets for load balancers, NAT for egress."""

    vpc_cidr: str = Field(default="10.0.0.0/16", description="VPC CIDR block.")
    az_count: int = Field(default=3, ge=2, le=6, description="Number of availability zones (2-6).")
    nat_gateway: Literal["single", "per_az"] = Field(
        default="per_az",
        description="One NAT gateway per AZ (survives an AZ outage) or a single one (cheaper, for dev).",
    )
    private_subnet_prefix: int = Field(
        default=19, ge=16, le=28, description="Prefix length of each private (node/pod) subnet."
    )
    public_subnet_prefix: int = Field(
        default=24, ge=16, le=28, description="Prefix length of each public (load balancer) subnet."
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        prefix = ipaddress.IPv4Network(_check_cidr(value)).prefixlen
        if not 16 <= prefix <= 28:
            raise invalid("a VPC CIDR block must be /16 to /28", "use a prefix length from 16 to 28, e.g. 10.0.0.0/16")
        return value

    @model_validator(mode="after")
    def _subnets_fit(self) -> NetworkConfig:
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        for field in ("private_subnet_prefix", "public_subnet_prefix"):
            if getattr(self, field) <= vpc.prefixlen:
                raise invalid(
                    f"subnet prefix /{getattr(self, field)} is not smaller than the VPC's /{vpc.prefixlen}",
                    f"use a prefix longer than {vpc.prefixlen}",
                    field=field,
                )
        needed = self.az_count * (2 ** (32 - self.private_subnet_prefix) + 2 ** (32 - self.public_subnet_prefix))
        if needed > vpc.num_addresses:
            raise invalid(
                f"{self.az_count} private /{self.private_subnet_prefix} and public /{self.public_subnet_prefix} "
                f"subnets need {needed} addresses; the VPC {self.vpc_cidr} has {vpc.num_addresses}",
                "use a larger vpc_cidr, fewer AZs, or longer subnet prefixes",
                field="vpc_cidr",
            )
        return self

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """Private and public subnet CIDRs, one each per AZ, packed largest first so all align."""
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        wanted = [("private", self.private_subnet_prefix)] * self.az_count + [
            ("public", self.public_subnet_prefix)
        ] * self.az_count
        cursor = int(vpc.network_address)
        out: dict[str, list[str]] = {"private": [], "public": []}
        for kind, prefix in sorted(wanted, key=lambda item: item[1]):
            size = 2 ** (32 - prefix)
            cursor = -(-cursor // size) * size  # round up to the block's alignment
            out[kind].append(str(ipaddress.IPv4Network((cursor, prefix))))
            cursor += size
        return out["private"], out["public"]


class Taint(StrictModel):
    """A Kubernetes node taint."""

    key: str = Field(description="Taint key, e.g. nvidia.com/gpu.")
    value: str = Field(default="", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(description="Taint effect.")


GPU_TAINT = Taint(key="nvidia.com/gpu", value="true", effect="NoSchedule")


class NodeGroupConfig(StrictModel):
    """One EKS managed node group."""

    instance_types: list[str] = Field(min_length=1, description="EC2 instance types, in preference order.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(default="ON_DEMAND", description="On-demand or spot.")
    min_size: int = Field(ge=0, le=1000, description="Minimum number of nodes.")
    desired_size: int = Field(ge=0, le=1000, description="Number of nodes to start with.")
    max_size: int = Field(ge=1, le=1000, description="Maximum number of nodes.")
    disk_size_gib: int = Field(default=50, ge=20, le=16384, description="Root volume size (encrypted gp3), GiB.")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes labels on every node.")
    taints: list[Taint] = Field(default_factory=list, description="Kubernetes taints on every node.")

    @field_validator("instance_types")
    @classmethod
    def _instance_type_syntax(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9]+", item):
                raise invalid(f"not an EC2 instance type: {item!r}", "write it as family.size, e.g. m5.large")
        return value

    @model_validator(mode="after")
    def _sizes_ordered(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise invalid(
                f"sizes must satisfy min_size <= desired_size <= max_size "
                f"(got {self.min_size} <= {self.desired_size} <= {self.max_size})",
                "adjust min_size, desired_size or max_size",
                field="desired_size",
            )
        return self


def _default_cpu_group() -> NodeGroupConfig:
    return NodeGroupConfig(
        instance_types=["m5.large", "m5.xlarge"],
        min_size=2,
        desired_size=2,
        max_size=4,
        labels={"mlplat.io/pool": "cpu"},
    )


def _default_gpu_group() -> NodeGroupConfig:
    return NodeGroupConfig(
        instance_types=["g5.xlarge"],
        min_size=0,
        desired_size=1,
        max_size=2,
        disk_size_gib=100,
        labels={"mlplat.io/pool": "gpu"},
        taints=[GPU_TAINT],
    )


class NodeGroupsConfig(StrictModel):
    """The two node pools: CPU for platform services, GPU (tainted) for Triton."""

    cpu: NodeGroupConfig = Field(default_factory=_default_cpu_group, description="CPU node group (M5 by default).")
    gpu: NodeGroupConfig = Field(
        default_factory=_default_gpu_group,
        description="GPU node group: NVIDIA instance families only, NVIDIA AMI, tainted nvidia.com/gpu.",
    )

    @field_validator("gpu")
    @classmethod
    def _gpu_families(cls, value: NodeGroupConfig) -> NodeGroupConfig:
        bad = [t for t in value.instance_types if catalog.instance_family(t) not in catalog.GPU_FAMILIES]
        if bad:
            raise invalid(
                f"instance type(s) {', '.join(bad)} have no NVIDIA GPU",
                f"use NVIDIA GPU families: {', '.join(sorted(catalog.GPU_FAMILIES))}",
                field="instance_types",
            )
        if not any(t.key == GPU_TAINT.key and t.effect == "NoSchedule" for t in value.taints):
            raise invalid(
                "the GPU node group must carry the nvidia.com/gpu NoSchedule taint, or every pod can land on GPUs",
                "add {key: nvidia.com/gpu, value: 'true', effect: NoSchedule} to taints",
                field="taints",
            )
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu_not_gpu(cls, value: NodeGroupConfig) -> NodeGroupConfig:
        gpu = [t for t in value.instance_types if catalog.instance_family(t) in catalog.GPU_FAMILIES]
        if gpu:
            raise invalid(
                f"GPU instance type(s) {', '.join(gpu)} in the CPU node group",
                "move them to node_groups.gpu; use m5/m6i/c6i types here",
                field="instance_types",
            )
        return value


class FeaturesConfig(StrictModel):
    """Optional parts of the platform."""

    calico: bool = Field(default=False, description="Install Calico (tigera-operator) for network policies.")
    istio: bool = Field(
        default=True,
        description="Install a minimal Istio mesh (mTLS, inference ingress). Planned: no phase reads it yet.",
    )
    gitops: Literal["argocd", "flux", "none"] = Field(
        default="argocd", description="GitOps controller. Planned: no phase reads it yet."
    )
    gatekeeper_enforcement: Literal["dryrun", "warn", "deny"] = Field(
        default="warn",
        description="OPA Gatekeeper enforcement action for the platform's constraints. Planned: no phase reads it yet.",
    )


class ModelRepositoryConfig(StrictModel):
    """Where models live: an S3 bucket (versioned) and ECR repositories."""

    s3_bucket: str = Field(description="S3 bucket for the Triton model repository (globally unique).")
    prefix: str = Field(default="models/", description="Key prefix of the model repository in the bucket.")
    ecr_repositories: list[str] = Field(
        default_factory=lambda: ["triton-models"], description="ECR repositories for model/server images."
    )
    force_destroy: bool = Field(
        default=False,
        description="Let `mlplat down` delete the bucket even when it still holds models. Keep false in prod.",
    )

    @field_validator("s3_bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET_RE.fullmatch(value) or ".." in value:
            raise invalid("not a valid S3 bucket name", "use 3-63 lowercase letters, digits, '-' and '.'")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value.startswith("/") or not value.endswith("/"):
            raise invalid("prefix must be relative and end with '/'", "e.g. models/")
        return value


class TritonConfig(StrictModel):
    """NVIDIA Triton Inference Server (the project's chart ``charts/triton``)."""

    image_tag: str = Field(default="24.10-py3", description="nvcr.io/nvidia/tritonserver image tag.")
    replicas: int = Field(default=1, ge=1, le=100, description="Number of Triton pods to start with (HPA minimum).")
    max_replicas: int = Field(
        default=2, ge=1, le=100, description="HorizontalPodAutoscaler maximum (scales on Triton queue time)."
    )
    queue_time_target_ms: float = Field(
        default=50.0,
        gt=0,
        le=60000,
        description="Average per-request queue time (ms) the HPA keeps each pod under; above it, pods are added.",
    )
    gpus_per_pod: int = Field(default=1, ge=1, le=8, description="nvidia.com/gpu requested (and limited) per pod.")
    # Defaults fit the smallest GPU instances (g4dn.xlarge/g5.xlarge offer a pod about 3.9 CPU and
    # 14.5 GiB after system reservations); raise them on larger instances.
    cpu: str = Field(default="3", description="CPU request and limit per Triton pod (Kubernetes quantity).")
    memory: str = Field(default="12Gi", description="Memory request and limit per Triton pod (Kubernetes quantity).")
    models: list[str] = Field(
        default_factory=list,
        description="Models to load (explicit model control); `mlplat smoke` infers once on each.",
    )
    model_source: Literal["s3", "efs"] = Field(
        default="s3",
        description="Read models from the S3 repository (IRSA role) or the EFS model-cache claim.",
    )

    @field_validator("image_tag")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if value in {"latest", ""}:
            raise invalid("the Triton image must be pinned", "use a release tag such as 24.10-py3")
        return value

    @field_validator("models")
    @classmethod
    def _model_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", name):
                raise invalid(f"not a Triton model name: {name!r}", "use letters, digits, '_', '.' and '-'")
        if len(set(value)) != len(value):
            raise invalid("a model is listed twice", "list each model once")
        return value

    @field_validator("cpu", "memory")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?", value):
            raise invalid(f"not a Kubernetes quantity: {value!r}", "write e.g. 4, 500m, 16Gi")
        return value

    @model_validator(mode="after")
    def _replica_bounds(self) -> TritonConfig:
        if self.max_replicas < self.replicas:
            raise invalid(
                f"max_replicas ({self.max_replicas}) is below replicas ({self.replicas})",
                "raise max_replicas or lower replicas",
                field="max_replicas",
            )
        return self


class AlertingConfig(StrictModel):
    """Where Alertmanager sends alerts. Receiver credentials never live here: they are read from the
    Secrets Manager secret ``<name>/alertmanager/receivers-*`` (keys ``slack_api_url``,
    ``pagerduty_routing_key``) and mounted into Alertmanager as files."""

    slack_channel: str | None = Field(
        default=None,
        description="Slack channel for warning and critical alerts, e.g. '#ml-platform-alerts' "
        "(webhook URL from Secrets Manager key slack_api_url).",
    )
    pagerduty: bool = Field(
        default=False,
        description="Page on critical alerts through PagerDuty (routing key from Secrets Manager key "
        "pagerduty_routing_key).",
    )
    webhook_url: str | None = Field(
        default=None,
        description="A generic webhook receiving every alert (no credentials in the URL), e.g. an "
        "internal incident bot.",
    )

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[#@]?[a-z0-9][a-z0-9._-]{0,79}", value):
            raise invalid(f"not a Slack channel name: {value!r}", "write it as #channel-name (lowercase)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not re.fullmatch(r"https?://[^\s@]+", value):
            raise invalid(
                "not an http(s) URL without credentials", "use https://host/path; keep tokens in Secrets Manager"
            )
        return value


class ObservabilityConfig(StrictModel):
    """Prometheus, Alertmanager, Grafana, Loki and the log shipper."""

    prometheus_retention_days: int = Field(default=15, ge=1, le=365, description="Prometheus retention, days.")
    prometheus_storage_gib: int = Field(default=50, ge=5, le=10000, description="Prometheus volume size, GiB.")
    loki_retention_days: int = Field(default=14, ge=1, le=365, description="Loki log retention, days.")
    log_shipper: Literal["fluent-bit", "fluentd"] = Field(
        default="fluent-bit",
        description="Node log shipper to Loki: Fluent Bit (light, default) or Fluentd (plugin ecosystem).",
    )
    alerting: AlertingConfig = Field(
        default_factory=AlertingConfig, description="Alert routing (Slack, PagerDuty, webhook)."
    )


_TAG_KEY_RE = re.compile(r"^[\w .:/=+@-]{1,128}$")


class EnvConfig(StrictModel):
    """One environment: everything `mlplat up` needs to build it and `mlplat down` to remove it."""

    aws: AwsConfig = Field(description="AWS region, account guard and credentials.")
    state: StateConfig = Field(default_factory=StateConfig, description="Terraform state and journal storage.")
    cluster: ClusterConfig = Field(description="The EKS cluster.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC and subnets.")
    node_groups: NodeGroupsConfig = Field(default_factory=NodeGroupsConfig, description="CPU and GPU node groups.")
    features: FeaturesConfig = Field(default_factory=FeaturesConfig, description="Optional components.")
    model_repository: ModelRepositoryConfig = Field(description="S3/ECR model repository.")
    triton: TritonConfig = Field(default_factory=TritonConfig, description="Triton Inference Server.")
    observability: ObservabilityConfig = Field(
        default_factory=ObservabilityConfig, description="Metrics and logs retention."
    )
    tags: dict[Annotated[str, Field(max_length=128)], str] = Field(
        default_factory=dict,
        description="Tags applied to every AWS resource (plus mlplat:env, mlplat:cluster).",
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.startswith(("aws:", "mlplat:")):
                raise invalid(f"tag key {key!r} uses a reserved prefix", "drop the aws:/mlplat: prefix")
            if not _TAG_KEY_RE.fullmatch(key):
                raise invalid(f"tag key {key!r} has characters AWS rejects", "use letters, digits, spaces and _.:/=+-@")
        return value

    @model_validator(mode="after")
    def _triton_fits_gpu_nodes(self) -> EnvConfig:
        # No cluster autoscaler: the GPU node group's desired size is the capacity Triton starts on.
        gpu = self.node_groups.gpu
        per_node = min((catalog.gpus_per_instance(t) or 1) for t in gpu.instance_types)
        capacity = gpu.desired_size * per_node
        needed = self.triton.replicas * self.triton.gpus_per_pod
        if needed > capacity:
            raise invalid(
                f"{self.triton.replicas} Triton replica(s) x {self.triton.gpus_per_pod} GPU(s) need {needed} GPUs, "
                f"but node_groups.gpu starts {gpu.desired_size} node(s) with {per_node} GPU(s) each",
                "raise node_groups.gpu.desired_size (and max_size), or lower triton.replicas / triton.gpus_per_pod",
                field="triton",
            )
        return self

    def state_bucket(self) -> str:
        """The resolved state bucket name."""
        return self.state.bucket or f"mlplat-state-{self.aws.account_id}-{self.aws.region}"
