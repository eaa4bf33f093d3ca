"""Static facts about AWS and EKS that configuration validation checks against.

Kept as data so validation is instant and offline. ``tests/config/test_catalog.py`` cross-checks
the regions against botocore's endpoint data so this list cannot silently rot.
"""

from __future__ import annotations

# Commercial, GovCloud and China regions where EKS runs (botocore partitions aws, aws-us-gov, aws-cn).
AWS_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-west-1",
        "us-west-2",
    }
)

# EKS Kubernetes versions in standard or extended support that mlplat is tested against.
# Older versions are refused: their add-on versions and AMIs are gone or going.
SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.30", "1.31", "1.32", "1.33", "1.34")
DEFAULT_KUBERNETES_VERSION = "1.32"

# Instance families with NVIDIA GPUs that the AL2023_x86_64_NVIDIA AMI supports, with the number of
# GPUs per instance size. Families not listed here (g4ad: AMD GPUs; g5g: Arm; inf/trn: Neuron) are
# not valid for the GPU node group.
NVIDIA_GPU_COUNTS: dict[str, dict[str, int]] = {
    "g4dn": {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "metal": 8},
    "g5": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "g6": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "g6e": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "gr6": {"4xlarge": 1, "8xlarge": 1},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
}

GPU_FAMILIES: frozenset[str] = frozenset(NVIDIA_GPU_COUNTS)

# Control-plane log types EKS accepts.
EKS_LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# Managed add-ons the cluster stack (vpc-cni, kube-proxy, eks-pod-identity-agent) and the nodegroups stack
# (coredns and the CSI drivers, whose pods need nodes) install, with versions known to work on
# DEFAULT_KUBERNETES_VERSION. aws-ebs-csi-driver provisions the gp3 StorageClass's volumes: since Kubernetes
# 1.23 EKS's default gp2 class is migrated to it too, so without it every EBS-backed claim stays Pending.
DEFAULT_ADDON_VERSIONS: dict[str, str] = {
    "vpc-cni": "v1.19.2-eksbuild.1",
    "coredns": "v1.11.4-eksbuild.2",
    "kube-proxy": "v1.32.0-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.4-eksbuild.1",
    "aws-efs-csi-driver": "v2.1.4-eksbuild.1",
    "aws-ebs-csi-driver": "v1.44.0-eksbuild.1",
}


def instance_family(instance_type: str) -> str:
    """``g5.xlarge`` -> ``g5``."""
    return instance_type.split(".", 1)[0]


def gpus_per_instance(instance_type: str) -> int | None:
    """How many NVIDIA GPUs an instance type has, or None if mlplat does not know the type."""
    family, _, size = instance_type.partition(".")
    return NVIDIA_GPU_COUNTS.get(family, {}).get(size)
