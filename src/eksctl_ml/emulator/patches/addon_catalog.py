"""The add-on versions the emulator's DescribeAddonVersions reports.

A small, static excerpt of what EKS publishes: enough for ``aws_eks_addon_version`` data
sources and for defaulting ``addonVersion``. CreateAddon accepts any well-formed version of a
known add-on (EKS ships builds faster than this table could follow), so a pin that is merely
newer than the table still applies; a malformed version or an unknown add-on name is refused
as EKS refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$")

CLUSTER_VERSIONS: tuple[str, ...] = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34")


@dataclass(frozen=True)
class AddonInfo:
    """One add-on of the catalog: its type and versions, newest first."""

    name: str
    type: str
    versions: tuple[str, ...]
    per_minor: bool = False
    """True when each version targets one Kubernetes minor (kube-proxy: v1.32.x for 1.32)."""


CATALOG: dict[str, AddonInfo] = {
    info.name: info
    for info in (
        AddonInfo("vpc-cni", "networking", ("v1.19.5-eksbuild.3", "v1.19.2-eksbuild.1", "v1.18.6-eksbuild.1")),
        AddonInfo("coredns", "networking", ("v1.11.4-eksbuild.2", "v1.11.3-eksbuild.2", "v1.11.1-eksbuild.9")),
        AddonInfo(
            "kube-proxy",
            "networking",
            tuple(f"v{minor}.0-eksbuild.2" for minor in reversed(CLUSTER_VERSIONS)),
            per_minor=True,
        ),
        AddonInfo("eks-pod-identity-agent", "security", ("v1.3.5-eksbuild.2", "v1.3.4-eksbuild.1")),
        AddonInfo("aws-efs-csi-driver", "storage", ("v2.1.6-eksbuild.1", "v2.1.4-eksbuild.1")),
        AddonInfo("aws-ebs-csi-driver", "storage", ("v1.41.0-eksbuild.1", "v1.38.1-eksbuild.2")),
        AddonInfo("snapshot-controller", "storage", ("v8.2.0-eksbuild.1",)),
        AddonInfo("aws-mountpoint-s3-csi-driver", "storage", ("v1.13.0-eksbuild.1",)),
        AddonInfo("amazon-cloudwatch-observability", "observability", ("v3.6.0-eksbuild.2",)),
        AddonInfo("adot", "observability", ("v0.117.0-eksbuild.1",)),
        AddonInfo("aws-guardduty-agent", "security", ("v1.9.0-eksbuild.2",)),
        AddonInfo("eks-node-monitoring-agent", "observability", ("v1.2.0-eksbuild.1",)),
        AddonInfo("metrics-server", "observability", ("v0.7.2-eksbuild.3",)),
    )
}


def compatible_versions(info: AddonInfo, cluster_version: str | None) -> list[str]:
    """Versions of ``info`` that run on ``cluster_version`` (all versions when it is None)."""
    if cluster_version is None or not info.per_minor:
        return list(info.versions)
    return [v for v in info.versions if v.startswith(f"v{cluster_version}.")]


def default_version(name: str, cluster_version: str) -> str | None:
    """The version EKS installs when CreateAddon names none: the newest compatible one."""
    info = CATALOG.get(name)
    if info is None:
        return None
    versions = compatible_versions(info, cluster_version)
    return versions[0] if versions else None


def describe(name: str | None, cluster_version: str | None) -> list[dict[str, object]]:
    """``addons`` of a DescribeAddonVersions response, filtered like EKS filters it."""
    out: list[dict[str, object]] = []
    for info in CATALOG.values():
        if name is not None and info.name != name:
            continue
        versions = compatible_versions(info, cluster_version)
        if not versions:
            continue
        cluster_versions = [cluster_version] if cluster_version else list(CLUSTER_VERSIONS)
        out.append(
            {
                "addonName": info.name,
                "type": info.type,
                "owner": "aws",
                "publisher": "eks",
                "addonVersions": [
                    {
                        "addonVersion": version,
                        "architecture": ["amd64", "arm64"],
                        "computeTypes": ["ec2"],
                        "requiresConfiguration": False,
                        "requiresIamPermissions": info.name in {"vpc-cni", "aws-efs-csi-driver", "aws-ebs-csi-driver"},
                        "compatibilities": [
                            {
                                "clusterVersion": cv,
                                "platformVersions": ["*"],
                                "defaultVersion": version == (default_version(info.name, cv) or ""),
                            }
                            for cv in cluster_versions
                            if version in compatible_versions(info, cv)
                        ],
                    }
                    for version in versions
                ],
            }
        )
    return out
