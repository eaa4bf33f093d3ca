"""Patch ``eks-tagging``: TagResource / UntagResource / ListTagsForResource on every EKS resource.

Gap (moto 5.2.5): the tag API finds clusters only; tagging a node group, add-on, access entry or
Fargate profile by ARN answers NotFound, so changing ``tags`` on ``aws_eks_node_group`` or
``aws_eks_addon`` (or a provider ``default_tags`` change) fails. UntagResource also drops all but
the first ``tagKeys`` value.

Closed by: resolving the ARN against every resource kind the EKS backend and the other patches
hold, and reading every ``tagKeys`` value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.eks.responses import EKSResponse

from ._eks_common import extras, not_found, query_list


def _taggable(backend: Any) -> Iterator[tuple[str, Any]]:
    """(ARN, object with a ``tags`` dict) of every EKS resource in ``backend``."""
    for cluster in list(backend.clusters.values()):
        yield cluster.arn, cluster
        for nodegroup in list(cluster.nodegroups.values()):
            yield nodegroup.arn, nodegroup
        for profile in list(cluster.fargate_profiles.values()):
            yield profile.fargate_profile_arn, profile
        for addon in list(extras(cluster).addons.values()):
            yield addon.arn, addon
        for entry in list(extras(cluster).access_entries.values()):
            yield entry.arn, entry


class TaggingPatch(EKSResponse):
    """Response methods of the tag API, for every EKS resource kind."""

    def _tagged_resource(self, operation: str) -> Any:
        arn = self._extract_arn_from_path()
        for candidate, resource in _taggable(self.eks_backend):
            if candidate == arn:
                if resource.tags is None:
                    resource.tags = {}
                return resource
        raise not_found(
            f"An error occurred (NotFoundException) when calling the {operation} operation: Resource was not found"
        )

    def tag_resource(self) -> ActionResult:
        """TagResource: POST /tags/{resourceArn}."""
        self._tagged_resource("TagResource").tags.update(self._get_param("tags") or {})
        return EmptyResult()

    def untag_resource(self) -> ActionResult:
        """UntagResource: DELETE /tags/{resourceArn}?tagKeys=a&tagKeys=b."""
        resource = self._tagged_resource("UntagResource")
        for key in query_list(self, "tagKeys"):
            resource.tags.pop(key, None)
        return EmptyResult()

    def list_tags_for_resource(self) -> ActionResult:
        """ListTagsForResource: GET /tags/{resourceArn}."""
        return ActionResult({"tags": dict(self._tagged_resource("ListTagsForResource").tags)})
