"""Patch ``eks-updates``: DescribeUpdate and ListUpdates.

Gap (moto 5.2.5): neither exists (404). The provider waits for every cluster, node group and
add-on update with DescribeUpdate, so any in-place change after the first apply fails.

Closed by: the Update records the other patches keep (see ``_eks_common.record_update``), looked
up by cluster and optional ``nodegroupName`` / ``addonName`` query parameters, as in EKS.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.eks.responses import EKSResponse

from ._eks_common import find_update, get_cluster, list_update_ids, not_found

ROUTES: tuple[str, ...] = (
    "{0}/clusters/(?P<name>[^/]+)/updates$",
    "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$",
)
"""URL patterns (moto ``url_paths`` syntax) this patch adds."""


class UpdatesPatch(EKSResponse):
    """Response methods of the update API."""

    def describe_update(self) -> ActionResult:
        """DescribeUpdate: GET /clusters/{name}/updates/{updateId}[?nodegroupName=|addonName=]."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        update_id = self._get_param("updateId")
        update = find_update(
            cluster,
            update_id,
            nodegroup_name=self._get_param("nodegroupName"),
            addon_name=self._get_param("addonName"),
        )
        if update is None:
            raise not_found(f"No update found for ID: {update_id}", clusterName=cluster.name)
        return ActionResult({"update": update})

    def list_updates(self) -> ActionResult:
        """ListUpdates: GET /clusters/{name}/updates[?nodegroupName=|addonName=]."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        ids = list_update_ids(
            cluster,
            nodegroup_name=self._get_param("nodegroupName"),
            addon_name=self._get_param("addonName"),
        )
        return ActionResult({"updateIds": ids})
