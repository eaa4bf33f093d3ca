"""Patch ``eks-nodegroup``: managed node groups as EKS describes and updates them.

Gaps (moto 5.2.5):

* A node group created without ``remoteAccess`` is described with an invented
  ``{"ec2SshKey": "eksKeypair"}`` and a remote-access security group, so every plan replaces it.
  Closed: ``remoteAccess`` is kept only when requested.
* ``updateConfig`` and ``nodeRepairConfig`` are dropped at creation (perpetual in-place diff).
  Closed: kept, with EKS's defaults ``{"maxUnavailable": 1}`` / ``{"enabled": false}``.
* ``version`` defaults to 1.19 and ``releaseVersion`` to a 2021 AL2 AMI whatever the cluster
  runs; ``diskSize`` is reported as 20 even when a launch template owns the disk. Closed: the
  cluster's version, a release of that version, no diskSize with a launch template.
* A launch template that does not exist is silently accepted. Closed: InvalidParameterException.
* UpdateNodegroupConfig answers an Update that DescribeUpdate cannot find (the provider then
  fails waiting for it). Closed: the Update is recorded.
* UpdateNodegroupVersion does not exist (404), yet the provider calls it whenever the launch
  template version or the Kubernetes version changes. Closed: implemented.
"""

from __future__ import annotations

from typing import Any, cast

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks.responses import EKSResponse

from ._eks_common import get_cluster, invalid_parameter, new_update, not_found, record_update

ROUTES: tuple[str, ...] = ("{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$",)
"""URL patterns (moto ``url_paths`` syntax) this patch adds: UpdateNodegroupVersion."""

DEFAULT_UPDATE_CONFIG = {"maxUnavailable": 1}
DEFAULT_NODE_REPAIR_CONFIG = {"enabled": False}


def release_version_for(kubernetes_version: str) -> str:
    """An EKS-optimized AMI release version for a Kubernetes minor version."""
    return f"{kubernetes_version}.0-20250101"


def _check_update_config(update_config: dict[str, Any] | None) -> None:
    if not update_config:
        return
    given = [key for key in ("maxUnavailable", "maxUnavailablePercentage") if update_config.get(key) is not None]
    if len(given) != 1:
        raise invalid_parameter("updateConfig needs exactly one of maxUnavailable and maxUnavailablePercentage")
    if not 1 <= int(update_config[given[0]]) <= 100:
        raise invalid_parameter(f"updateConfig.{given[0]} must be between 1 and 100")


def _check_scaling(scaling: dict[str, Any] | None) -> None:
    if not scaling:
        return
    low: Any = scaling.get("minSize")
    desired: Any = scaling.get("desiredSize")
    high: Any = scaling.get("maxSize")
    if None not in (low, desired, high) and not int(low) <= int(desired) <= int(high):
        raise invalid_parameter(
            f"Minimum capacity {low} can't be greater than desired size {desired}"
            if int(low) > int(desired)
            else f"Desired capacity {desired} can't be greater than max size {high}"
        )
    if high is not None and int(high) < 1:
        raise invalid_parameter("Maximum capacity must be at least 1")


def _resolve_launch_template(response: Any, template: dict[str, Any] | None) -> None:
    """Fail like EKS when the launch template (or its version) does not exist."""
    if not template:
        return
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[response.current_account][response.region]
    try:
        if template.get("id"):
            found = ec2.describe_launch_templates(template_ids=[template["id"]])
        else:
            found = ec2.describe_launch_templates(template_names=[str(template.get("name"))])
        if template.get("version"):
            found[0].get_version(template["version"])
    except Exception as exc:
        raise invalid_parameter(
            f"Launch template {template.get('id') or template.get('name')} version "
            f"{template.get('version', '$Default')} does not exist"
        ) from exc


def _minor(version: str) -> int:
    try:
        return int(version.split(".")[1])
    except (IndexError, ValueError) as exc:
        raise invalid_parameter(f"Unsupported Kubernetes version: {version}") from exc


def _get_nodegroup(cluster: Any, name: str) -> Any:
    nodegroup = cluster.nodegroups.get(name)
    if nodegroup is None:
        raise not_found(f"No node group found for name: {name}.", clusterName=cluster.name, nodegroupName=name)
    return nodegroup


class NodegroupPatch(EKSResponse):
    """Response methods fixing node group creation and updates."""

    def create_nodegroup(self) -> ActionResult:
        """CreateNodegroup without invented remote access, keeping update/repair config."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        update_config = self._get_param("updateConfig")
        _check_update_config(update_config)
        _check_scaling(self._get_param("scalingConfig"))
        launch_template = self._get_param("launchTemplate")
        _resolve_launch_template(self, launch_template)

        result = super().create_nodegroup()
        nodegroup = cluster.nodegroups[self._get_param("nodegroupName")]

        if not self._get_param("remoteAccess"):
            nodegroup.remote_access = None
            nodegroup.resources = {"autoScalingGroups": nodegroup.resources["autoScalingGroups"]}
        nodegroup.update_config = update_config or dict(DEFAULT_UPDATE_CONFIG)
        nodegroup.node_repair_config = self._get_param("nodeRepairConfig") or dict(DEFAULT_NODE_REPAIR_CONFIG)
        if not self._get_param("version"):
            nodegroup.version = cluster.version
        if not self._get_param("releaseVersion"):
            nodegroup.release_version = release_version_for(nodegroup.version)
        if launch_template:
            nodegroup.disk_size = None
        # moto shares one default dict between node groups created without scalingConfig.
        nodegroup.scaling_config = dict(nodegroup.scaling_config)
        return result

    def update_nodegroup_config(self) -> ActionResult:
        """UpdateNodegroupConfig, recording the Update for DescribeUpdate."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        _check_update_config(self._get_param("updateConfig"))
        nodegroup = _get_nodegroup(cluster, self._get_param("nodegroupName"))
        scaling = self._get_param("scalingConfig")
        if scaling:
            _check_scaling({**nodegroup.scaling_config, **scaling})
        result = super().update_nodegroup_config()
        update: dict[str, Any] = cast(dict[str, Any], result.result)["update"]
        update["type"] = "ConfigUpdate"
        record_update(cluster, update, nodegroup_name=nodegroup.nodegroup_name)
        return result

    def update_nodegroup_version(self) -> ActionResult:
        """UpdateNodegroupVersion: POST /clusters/{name}/node-groups/{nodegroupName}/update-version."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        nodegroup = _get_nodegroup(cluster, self._get_param("nodegroupName"))
        params: list[dict[str, str]] = []
        version = self._get_param("version")
        if version:
            if _minor(str(version)) > _minor(str(cluster.version)):
                raise invalid_parameter(
                    f"Requested Kubernetes version {version} is newer than the cluster's {cluster.version}"
                )
            nodegroup.version = str(version)
            params.append({"type": "Version", "value": str(version)})
        release = self._get_param("releaseVersion")
        if release or version:
            nodegroup.release_version = release or release_version_for(nodegroup.version)
            params.append({"type": "ReleaseVersion", "value": nodegroup.release_version})
        template = self._get_param("launchTemplate")
        if template:
            if not nodegroup.launch_template:
                raise invalid_parameter("The node group was not created with a launch template")
            merged = {**nodegroup.launch_template, **{k: v for k, v in template.items() if v}}
            _resolve_launch_template(self, merged)
            nodegroup.launch_template = merged
            params.append({"type": "LaunchTemplateVersion", "value": str(merged.get("version"))})
        nodegroup.modified_at = utcnow()
        update = new_update("VersionUpdate", params)
        return ActionResult({"update": record_update(cluster, update, nodegroup_name=nodegroup.nodegroup_name)})
