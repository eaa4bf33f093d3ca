"""Patch ``eks-access-entries``: EKS access entries and access policy associations.

Gap (moto 5.2.5): none of the cluster access management API exists (CreateAccessEntry,
AssociateAccessPolicy, ... answer 404), so ``aws_eks_access_entry`` and
``aws_eks_access_policy_association`` fail, and nothing records the cluster creator's
bootstrap admin access.

Closed by: an in-memory access-entry store per cluster implementing Create/Describe/Update/
Delete/ListAccessEntries, Associate/DisassociateAccessPolicy, ListAssociatedAccessPolicies and
ListAccessPolicies. As in EKS, these calls need an API* authentication mode, an entry per
principal is unique (so a second entry for the bootstrapped creator is refused with
ResourceInUseException), and only the published cluster access policies can be associated.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.eks.exceptions import InvalidRequestException, ResourceInUseException
from moto.eks.responses import EKSResponse

from ._eks_common import (
    PRINCIPAL_ARN_RE,
    AccessEntry,
    AccessPolicyAssociation,
    extras,
    get_cluster,
    invalid_parameter,
    not_found,
)

ROUTES: tuple[str, ...] = (
    "{0}/clusters/(?P<name>[^/]+)/access-entries$",
    # principalArn and policyArn contain '/': one catch-all route serves the entry, its
    # access-policies collection and each association (the operation is resolved from the raw path).
    "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$",
    "{0}/access-policies$",
)
"""URL patterns (moto ``url_paths`` syntax) this patch adds to the EKS service."""

ACCESS_POLICIES: tuple[str, ...] = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
)
"""Names of the cluster access policies EKS publishes (arn:aws:eks::aws:cluster-access-policy/NAME)."""

ENTRY_TYPES = frozenset(
    {"STANDARD", "EC2", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX"}
)
_POLICY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/(?P<name>[A-Za-z0-9]+)$")
_API_MODES = frozenset({"API", "API_AND_CONFIG_MAP"})


def authentication_mode(cluster: Any) -> str:
    """The cluster's authentication mode (EKS's default, CONFIG_MAP, when none was set)."""
    access_config = getattr(cluster, "access_config", None) or {}
    return str(access_config.get("authenticationMode", "CONFIG_MAP"))


def _require_api_mode(cluster: Any) -> None:
    if authentication_mode(cluster) not in _API_MODES:
        raise InvalidRequestException(
            message="The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
            "to perform this operation."
        )


def _get_entry(cluster: Any, principal_arn: str) -> AccessEntry:
    entry = extras(cluster).access_entries.get(principal_arn)
    if entry is None:
        raise not_found(f"The specified access entry resource is not found: {principal_arn}", clusterName=cluster.name)
    return entry


def _default_username(principal_arn: str, entry_type: str, account: str, partition: str) -> str:
    if entry_type in {"EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"}:
        return "system:node:{{EC2PrivateDNSName}}"
    if entry_type == "FARGATE_LINUX":
        return "system:node:{{SessionName}}"
    match = re.match(r"^arn:[^:]+:iam::[0-9]{12}:role/(?:.*/)?(?P<role>[^/]+)$", principal_arn)
    if match:
        return f"arn:{partition}:sts::{account}:assumed-role/{match.group('role')}/{{{{SessionName}}}}"
    return principal_arn


def add_access_entry(
    cluster: Any,
    *,
    principal_arn: str,
    account: str,
    region: str,
    partition: str,
    entry_type: str = "STANDARD",
    kubernetes_groups: list[str] | None = None,
    username: str | None = None,
    tags: dict[str, str] | None = None,
) -> AccessEntry:
    """Create an access entry on ``cluster`` with EKS's validation; used by the API and by the
    cluster patch (bootstrap admin access of the creator)."""
    if not PRINCIPAL_ARN_RE.match(principal_arn or ""):
        raise invalid_parameter(f"The principalArn parameter format is not valid: {principal_arn}")
    if entry_type not in ENTRY_TYPES:
        raise invalid_parameter(f"The type parameter value is not valid: {entry_type}")
    if entry_type != "STANDARD" and (kubernetes_groups or username):
        raise invalid_parameter(f"kubernetesGroups and username cannot be set for access entries of type {entry_type}")
    if principal_arn in extras(cluster).access_entries:
        raise ResourceInUseException(
            clusterName=cluster.name,
            nodegroupName=None,
            addonName=None,
            message=f"The specified access entry resource is already in use on this cluster: {principal_arn}",
        )
    kind, _, rest = principal_arn.split(":", 5)[-1].partition("/")
    entry = AccessEntry(
        cluster_name=cluster.name,
        principal_arn=principal_arn,
        access_entry_arn=(
            f"arn:{partition}:eks:{region}:{account}:access-entry/{cluster.name}/{kind}/{account}/"
            f"{rest.rsplit('/', 1)[-1]}/{uuid.uuid4().hex[:32]}"
        ),
        username=username or _default_username(principal_arn, entry_type, account, partition),
        type=entry_type,
        kubernetes_groups=list(kubernetes_groups or []),
        tags=dict(tags or {}),
    )
    extras(cluster).access_entries[principal_arn] = entry
    return entry


def associate_policy(entry: AccessEntry, policy_arn: str, access_scope: dict[str, Any]) -> AccessPolicyAssociation:
    """Associate (or re-associate, replacing the scope) an access policy with ``entry``."""
    match = _POLICY_ARN_RE.match(policy_arn or "")
    if match is None or match.group("name") not in ACCESS_POLICIES:
        raise invalid_parameter(f"The policyArn parameter value is not valid: {policy_arn}")
    scope_type = (access_scope or {}).get("type")
    namespaces = list((access_scope or {}).get("namespaces") or [])
    if scope_type not in {"cluster", "namespace"}:
        raise invalid_parameter("accessScope.type must be cluster or namespace")
    if scope_type == "namespace" and not namespaces:
        raise invalid_parameter("accessScope.namespaces is required when accessScope.type is namespace")
    if scope_type == "cluster" and namespaces:
        raise invalid_parameter("accessScope.namespaces must be empty when accessScope.type is cluster")
    existing = entry.policies.get(policy_arn)
    association = AccessPolicyAssociation(
        policy_arn=policy_arn,
        access_scope={"type": scope_type, "namespaces": namespaces},
        associated_at=existing.associated_at if existing else utcnow(),
    )
    entry.policies[policy_arn] = association
    return association


class AccessEntriesPatch(EKSResponse):
    """Response methods of the access-entry API."""

    def create_access_entry(self) -> ActionResult:
        """CreateAccessEntry: POST /clusters/{name}/access-entries."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        entry = add_access_entry(
            cluster,
            principal_arn=self._get_param("principalArn"),
            account=self.current_account,
            region=self.region,
            partition=self.partition,
            entry_type=self._get_param("type") or "STANDARD",
            kubernetes_groups=self._get_param("kubernetesGroups"),
            username=self._get_param("username"),
            tags=self._get_param("tags"),
        )
        return ActionResult({"accessEntry": entry})

    def describe_access_entry(self) -> ActionResult:
        """DescribeAccessEntry: GET /clusters/{name}/access-entries/{principalArn}."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        return ActionResult({"accessEntry": _get_entry(cluster, self._get_param("principalArn"))})

    def update_access_entry(self) -> ActionResult:
        """UpdateAccessEntry: POST /clusters/{name}/access-entries/{principalArn}."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        entry = _get_entry(cluster, self._get_param("principalArn"))
        groups = self._get_param("kubernetesGroups")
        username = self._get_param("username")
        if entry.type != "STANDARD" and (groups or username):
            raise invalid_parameter(
                f"kubernetesGroups and username cannot be set for access entries of type {entry.type}"
            )
        if groups is not None:
            entry.kubernetes_groups = list(groups)
        if username:
            entry.username = username
        entry.modified_at = utcnow()
        return ActionResult({"accessEntry": entry})

    def delete_access_entry(self) -> ActionResult:
        """DeleteAccessEntry: DELETE /clusters/{name}/access-entries/{principalArn} (and its associations)."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        entry = _get_entry(cluster, self._get_param("principalArn"))
        del extras(cluster).access_entries[entry.principal_arn]
        return EmptyResult()

    def list_access_entries(self) -> ActionResult:
        """ListAccessEntries: GET /clusters/{name}/access-entries[?associatedPolicyArn=]."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        policy_arn = self._get_param("associatedPolicyArn")
        arns = sorted(
            arn
            for arn, entry in extras(cluster).access_entries.items()
            if policy_arn is None or policy_arn in entry.policies
        )
        return ActionResult({"accessEntries": arns})

    def associate_access_policy(self) -> ActionResult:
        """AssociateAccessPolicy: POST /clusters/{name}/access-entries/{principalArn}/access-policies."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        entry = _get_entry(cluster, self._get_param("principalArn"))
        association = associate_policy(entry, self._get_param("policyArn"), self._get_param("accessScope") or {})
        return ActionResult(
            {
                "clusterName": cluster.name,
                "principalArn": entry.principal_arn,
                "associatedAccessPolicy": association,
            }
        )

    def disassociate_access_policy(self) -> ActionResult:
        """DisassociateAccessPolicy: DELETE .../access-entries/{principalArn}/access-policies/{policyArn}."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        entry = _get_entry(cluster, self._get_param("principalArn"))
        policy_arn = self._get_param("policyArn")
        if entry.policies.pop(policy_arn, None) is None:
            raise not_found(
                f"The specified policy is not associated with {entry.principal_arn}: {policy_arn}",
                clusterName=cluster.name,
            )
        return EmptyResult()

    def list_associated_access_policies(self) -> ActionResult:
        """ListAssociatedAccessPolicies: GET .../access-entries/{principalArn}/access-policies."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _require_api_mode(cluster)
        entry = _get_entry(cluster, self._get_param("principalArn"))
        return ActionResult(
            {
                "clusterName": cluster.name,
                "principalArn": entry.principal_arn,
                "associatedAccessPolicies": list(entry.policies.values()),
            }
        )

    def list_access_policies(self) -> ActionResult:
        """ListAccessPolicies: GET /access-policies."""
        return ActionResult(
            {
                "accessPolicies": [
                    {"name": name, "arn": f"arn:{self.partition}:eks::aws:cluster-access-policy/{name}"}
                    for name in ACCESS_POLICIES
                ]
            }
        )
