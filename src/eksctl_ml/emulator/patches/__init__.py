"""The patches that close moto 5.2.5's gaps for mlplat's production Terraform.

Each module closes one gap (or a few of one resource) and documents them in its docstring:

================================= ============================================================
``eks-cluster``                   accessConfig, VPC facts, per-cluster identity/CA, updates
``eks-nodegroup``                 no invented remoteAccess, updateConfig kept, version updates
``eks-addons``                    the whole managed add-on API (moto has none)
``eks-access-entries``            access entries and access policy associations (none either)
``eks-updates``                   DescribeUpdate / ListUpdates for the recorded updates
``eks-tagging``                   tagging node groups, add-ons, access entries; multi-key untag
``ec2-launch-template-tags``      launch template tags leaking into launch data, never updated
``ec2-sg-rule-descriptions``      descriptions of rules between security groups
``efs-delete-file-system-policy`` DeleteFileSystemPolicy
================================= ============================================================

The last two were found by applying the platform's network and storage stacks, not the EKS ones.

EKS patches are response-level: :class:`PatchedEKSResponse` subclasses moto's ``EKSResponse`` with
one mixin per gap, and :func:`apply_all` points moto's EKS URL table at it (adding the routes moto
lacks). It must run before the server handles its first EKS request: moto builds each service's
URL map on first use.
"""

from __future__ import annotations

import threading

from . import (
    ec2_launch_template,
    ec2_security_group_rules,
    efs_file_system_policy,
    eks_access,
    eks_addons,
    eks_cluster,
    eks_nodegroup,
    eks_updates,
)
from .eks_access import AccessEntriesPatch
from .eks_addons import AddonsPatch
from .eks_cluster import ClusterPatch
from .eks_nodegroup import NodegroupPatch
from .eks_tagging import TaggingPatch
from .eks_updates import UpdatesPatch

PATCH_NAMES: tuple[str, ...] = (
    "eks-cluster",
    "eks-nodegroup",
    "eks-addons",
    "eks-access-entries",
    "eks-updates",
    "eks-tagging",
    "ec2-launch-template-tags",
    "ec2-sg-rule-descriptions",
    "efs-delete-file-system-policy",
)
"""Names of the patches :func:`apply_all` installs (reported by the health endpoint)."""

_lock = threading.Lock()
_applied = False


class PatchedEKSResponse(
    ClusterPatch,
    NodegroupPatch,
    AddonsPatch,
    AccessEntriesPatch,
    UpdatesPatch,
    TaggingPatch,
):
    """moto's EKS responses with every EKS patch applied."""


def eks_routes() -> tuple[str, ...]:
    """URL patterns the EKS patches add to moto's (deduplicated, in a stable order)."""
    routes: list[str] = []
    for module in (eks_cluster, eks_nodegroup, eks_addons, eks_access, eks_updates):
        for route in module.ROUTES:
            if route not in routes:
                routes.append(route)
    return tuple(routes)


def apply_all() -> tuple[str, ...]:
    """Install every patch into the imported moto (idempotent); return the patch names."""
    global _applied
    with _lock:
        if _applied:
            return PATCH_NAMES
        from moto.eks import urls

        handler = PatchedEKSResponse.dispatch
        for path in list(urls.url_paths):
            urls.url_paths[path] = handler
        for path in eks_routes():
            urls.url_paths[path] = handler
        urls.response = PatchedEKSResponse()
        ec2_launch_template.apply()
        ec2_security_group_rules.apply()
        efs_file_system_policy.apply()
        _applied = True
    return PATCH_NAMES
