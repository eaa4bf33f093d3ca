"""The provision order, as data: an ordered tuple of phases. `down` is the same tuple reversed.

Only phases that really work are registered; later issues add theirs (mesh and gitops come after
`triton` in the mission's order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import CheckResult, Phase, PhaseContext
from eksctl_ml.phases.bootstrap import BootstrapPhase
from eksctl_ml.phases.kubernetes import CniPhase, CompositePhase, GpuNodesPart, VolumesPart
from eksctl_ml.phases.observability import observability_phase
from eksctl_ml.phases.terraform import TerraformPhase
from eksctl_ml.phases.triton import triton_phase
from eksctl_ml.readiness import aws as gates

# --- config -> stack variables (names are each stack's variables.tf) ---------------------------


def _network_vars(env: Environment) -> Mapping[str, Any]:
    net = env.config.network
    private, public = net.subnet_cidrs()
    return {
        "vpc_cidr": net.vpc_cidr,
        "private_subnet_cidrs": private,
        "public_subnet_cidrs": public,
        "single_nat_gateway": net.nat_gateway == "single",
    }


def _cluster_vars(env: Environment) -> Mapping[str, Any]:
    c = env.config.cluster
    return {
        "kubernetes_version": c.kubernetes_version,
        "endpoint_public_access": c.endpoint_public_access,
        "endpoint_private_access": c.endpoint_private_access,
        "public_access_cidrs": list(c.public_access_cidrs),
        "enabled_log_types": list(c.log_types),
        "authentication_mode": c.authentication_mode,
        "admin_role_arns": list(c.admin_role_arns),
        "addon_versions": dict(c.addon_versions),
        "vpc_cni_enable_network_policy": c.vpc_cni_network_policy,
        "vpc_cni_enable_prefix_delegation": c.vpc_cni_prefix_delegation,
    }


def _nodegroup_vars(env: Environment) -> Mapping[str, Any]:
    groups = env.config.node_groups
    return {
        "kubernetes_version": env.config.cluster.kubernetes_version,
        # coredns and the EFS and EBS CSI drivers run pods, so they are installed after the nodes exist
        "addon_versions": dict(env.config.cluster.addon_versions),
        "node_groups": {
            key: {
                "instance_types": list(group.instance_types),
                "capacity_type": group.capacity_type,
                "min_size": group.min_size,
                "desired_size": group.desired_size,
                "max_size": group.max_size,
                "disk_size_gib": group.disk_size_gib,
                "labels": dict(group.labels),
                "taints": [t.model_dump() for t in group.taints],
                "gpu": key == "gpu",
            }
            for key, group in (("cpu", groups.cpu), ("gpu", groups.gpu))
        },
    }


def _storage_vars(env: Environment) -> Mapping[str, Any]:
    repo = env.config.model_repository
    return {
        "model_bucket_name": repo.s3_bucket,
        "model_prefix": repo.prefix,
        "ecr_repositories": list(repo.ecr_repositories),
        "force_destroy": repo.force_destroy,
    }


# --- readiness gates ---------------------------------------------------------------------------


def _network_gate(ctx: PhaseContext, out: Mapping[str, Any], timeout_s: float) -> CheckResult:
    return gates.nat_gateways_available(
        ctx.adapters.aws, list(out.get("nat_gateway_ids", [])), timeout_s=timeout_s, progress=ctx.progress
    )


def _iam_gate(ctx: PhaseContext, out: Mapping[str, Any], timeout_s: float) -> CheckResult:
    aws = ctx.adapters.aws
    roles = [out[k] for k in ("cluster_role_arn", "cpu_node_role_arn", "gpu_node_role_arn") if k in out]
    keys = [out[k] for k in ("eks_kms_key_arn", "data_kms_key_arn") if k in out]
    return CheckResult.all_of([gates.iam_roles_exist(aws, roles), gates.kms_keys_enabled(aws, keys)])


def _cluster_gate(ctx: PhaseContext, out: Mapping[str, Any], timeout_s: float) -> CheckResult:
    return gates.cluster_active(ctx.adapters.aws, str(out["cluster_name"]), timeout_s=timeout_s, progress=ctx.progress)


def _nodegroups_gate(ctx: PhaseContext, out: Mapping[str, Any], timeout_s: float) -> CheckResult:
    names = list(dict(out.get("node_group_names", {})).values())
    return gates.nodegroups_active(
        ctx.adapters.aws, ctx.env.config.cluster.name, names, timeout_s=timeout_s, progress=ctx.progress
    )


def _storage_gate(ctx: PhaseContext, out: Mapping[str, Any], timeout_s: float) -> CheckResult:
    aws = ctx.adapters.aws
    subnets = list(ctx.outputs.get("network", {}).get("private_subnet_ids", []))
    return CheckResult.all_of(
        [
            gates.efs_mount_targets_available(
                aws, str(out["efs_file_system_id"]), subnets, timeout_s=timeout_s, progress=ctx.progress
            ),
            gates.s3_bucket_secure(aws, str(out["model_bucket_name"])),
        ]
    )


def provision_order(env: Environment) -> tuple[Phase, ...]:
    """The phases for ``env``, in the order `up` runs them."""
    return (
        BootstrapPhase(),
        TerraformPhase(
            "network",
            "VPC, public/private subnets, NAT, routes, S3 endpoint, security groups",
            "network",
            _network_vars,
            gate=_network_gate,
            gate_timeout_s=600,
        ),
        TerraformPhase(
            "iam",
            "IAM roles for cluster and nodes, KMS keys, Secrets Manager secrets",
            "iam",
            lambda env: {},
            gate=_iam_gate,
        ),
        TerraformPhase(
            "cluster",
            "EKS control plane (KMS-encrypted secrets, logging, access entries, OIDC, add-ons)",
            "cluster",
            _cluster_vars,
            upstream={
                "private_subnet_ids": ("network", "private_subnet_ids"),
                "cluster_security_group_id": ("network", "cluster_security_group_id"),
                "cluster_role_arn": ("iam", "cluster_role_arn"),
                "eks_kms_key_arn": ("iam", "eks_kms_key_arn"),
                # the data key's policy admits CloudWatch Logs: encrypt the control-plane log group
                "cloudwatch_log_kms_key_arn": ("iam", "data_kms_key_arn"),
            },
            gate=_cluster_gate,
            gate_timeout_s=1800,
        ),
        CompositePhase(
            "nodegroups",
            "managed node groups: CPU (M5) and GPU (NVIDIA AMI, tainted); NVIDIA device plugin",
            [
                TerraformPhase(
                    "nodegroups",
                    "managed node groups: CPU (M5) and GPU (NVIDIA AMI, tainted)",
                    "nodegroups",
                    _nodegroup_vars,
                    upstream={
                        "private_subnet_ids": ("network", "private_subnet_ids"),
                        "node_security_group_id": ("network", "node_security_group_id"),
                        "cpu_node_role_arn": ("iam", "cpu_node_role_arn"),
                        "gpu_node_role_arn": ("iam", "gpu_node_role_arn"),
                        "data_kms_key_arn": ("iam", "data_kms_key_arn"),
                        "efs_csi_role_arn": ("cluster", "efs_csi_role_arn"),
                        "ebs_csi_role_arn": ("cluster", "ebs_csi_role_arn"),
                    },
                    gate=_nodegroups_gate,
                    gate_timeout_s=1800,
                ),
                GpuNodesPart(
                    "nodegroups", "Kubernetes side: NVIDIA device plugin, GPUs allocatable, nvidia-smi per node"
                ),
            ],
        ),
        CniPhase(),
        CompositePhase(
            "storage",
            "EFS model cache, S3 model repository, ECR, IRSA roles; StorageClass efs-sc and claims",
            [
                TerraformPhase(
                    "storage",
                    "EFS model cache, S3 model repository, ECR repositories, IRSA roles",
                    "storage",
                    _storage_vars,
                    upstream={
                        "vpc_id": ("network", "vpc_id"),
                        "private_subnet_ids": ("network", "private_subnet_ids"),
                        "efs_security_group_id": ("network", "efs_security_group_id"),
                        "data_kms_key_arn": ("iam", "data_kms_key_arn"),
                        "oidc_provider_arn": ("cluster", "oidc_provider_arn"),
                        "oidc_issuer_url": ("cluster", "oidc_issuer_url"),
                    },
                    gate=_storage_gate,
                    gate_timeout_s=900,
                ),
                VolumesPart(
                    "storage",
                    "Kubernetes side: EFS and EBS CSI ready, StorageClasses efs-sc and gp3, model-cache claim",
                ),
            ],
        ),
        observability_phase(),
        triton_phase(),
    )
