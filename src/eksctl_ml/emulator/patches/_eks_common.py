"""Shared helpers of the EKS patches: per-cluster extra state, lookups, update records.

moto 5.2.5 keeps EKS clusters as ``moto.eks.models.Cluster`` objects inside the per-account,
per-region ``EKSBackend``. The patches keep whatever moto lacks (add-ons, access entries, update
records) in a :class:`ClusterExtras` attached to the cluster object, so moto's own lifecycle
(``/moto-api/reset``, cluster deletion) clears it with the cluster.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow
from moto.eks.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
)

_EXTRAS_ATTR = "_mlplat_extras"
_EXTRAS_LOCK = threading.Lock()

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")
PRINCIPAL_ARN_RE = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(role|user|assumed-role)/.+$")


@dataclass
class Addon:
    """An EKS managed add-on (serialized by moto from the botocore ``Addon`` shape)."""

    addon_name: str
    cluster_name: str
    addon_version: str
    addon_arn: str
    status: str = "ACTIVE"
    service_account_role_arn: str | None = None
    configuration_values: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    pod_identity_associations: list[str] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=lambda: {"issues": []})
    owner: str = "aws"
    publisher: str = "eks"
    created_at: datetime = field(default_factory=utcnow)
    modified_at: datetime = field(default_factory=utcnow)

    @property
    def arn(self) -> str:
        """The ARN tag operations address the add-on by."""
        return self.addon_arn


@dataclass
class AccessPolicyAssociation:
    """An access policy associated with an access entry (``AssociatedAccessPolicy`` shape)."""

    policy_arn: str
    access_scope: dict[str, Any]
    associated_at: datetime = field(default_factory=utcnow)
    modified_at: datetime = field(default_factory=utcnow)


@dataclass
class AccessEntry:
    """An EKS access entry (``AccessEntry`` shape) and its associated access policies."""

    cluster_name: str
    principal_arn: str
    access_entry_arn: str
    username: str
    type: str = "STANDARD"
    kubernetes_groups: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utcnow)
    modified_at: datetime = field(default_factory=utcnow)
    policies: dict[str, AccessPolicyAssociation] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        """The ARN tag operations address the access entry by."""
        return self.access_entry_arn


@dataclass
class ClusterExtras:
    """What the patches add to a moto cluster."""

    addons: dict[str, Addon] = field(default_factory=dict)
    access_entries: dict[str, AccessEntry] = field(default_factory=dict)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)


def extras(cluster: Any) -> ClusterExtras:
    """The :class:`ClusterExtras` of a moto cluster, created on first use.

    The server is threaded and Terraform creates add-ons in parallel: creation is locked so that
    two first uses cannot each attach their own store (and lose one add-on).
    """
    found = getattr(cluster, _EXTRAS_ATTR, None)
    if isinstance(found, ClusterExtras):
        return found
    with _EXTRAS_LOCK:
        found = getattr(cluster, _EXTRAS_ATTR, None)
        if not isinstance(found, ClusterExtras):
            found = ClusterExtras()
            setattr(cluster, _EXTRAS_ATTR, found)
        return found


def not_found(message: str, **names: str | None) -> ResourceNotFoundException:
    """A ResourceNotFoundException (HTTP 404) with EKS's body fields."""
    fields: dict[str, str | None] = {
        "clusterName": None,
        "nodegroupName": None,
        "fargateProfileName": None,
        "addonName": None,
    }
    fields.update(names)
    return ResourceNotFoundException(message=message, **fields)


def invalid_parameter(message: str) -> InvalidParameterException:
    """An InvalidParameterException (HTTP 400)."""
    return InvalidParameterException(message=message)


def get_cluster(backend: Any, name: str) -> Any:
    """The moto cluster called ``name``; ResourceNotFoundException when there is none."""
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise not_found(f"No cluster found for name: {name}.", clusterName=name)
    return cluster


def new_update(
    update_type: str,
    params: list[dict[str, str]],
) -> dict[str, Any]:
    """An EKS ``Update`` record in the Successful state (the emulator applies changes at once)."""
    return {
        "id": str(uuid.uuid4()),
        "status": "Successful",
        "type": update_type,
        "params": params,
        "createdAt": utcnow(),
        "errors": [],
    }


def record_update(
    cluster: Any,
    update: dict[str, Any],
    *,
    nodegroup_name: str | None = None,
    addon_name: str | None = None,
) -> dict[str, Any]:
    """Keep ``update`` so DescribeUpdate/ListUpdates find it; return it."""
    key = f"{nodegroup_name or ''}/{addon_name or ''}/{update['id']}"
    extras(cluster).updates[key] = update
    return update


def find_update(
    cluster: Any,
    update_id: str,
    *,
    nodegroup_name: str | None = None,
    addon_name: str | None = None,
) -> dict[str, Any] | None:
    """A recorded update of the cluster (or of one of its node groups or add-ons)."""
    return extras(cluster).updates.get(f"{nodegroup_name or ''}/{addon_name or ''}/{update_id}")


def list_update_ids(
    cluster: Any,
    *,
    nodegroup_name: str | None = None,
    addon_name: str | None = None,
) -> list[str]:
    """IDs of the recorded updates of the cluster, or of one node group or add-on."""
    prefix = f"{nodegroup_name or ''}/{addon_name or ''}/"
    return [key[len(prefix) :] for key in extras(cluster).updates if key.startswith(prefix)]


def query_list(response: Any, name: str) -> list[str]:
    """Every value of a repeated query-string parameter (moto's ``_get_param`` keeps the first)."""
    values = response.querystring.get(name, [])
    return [str(v) for v in values] if isinstance(values, list) else [str(values)]
