"""Patch ``eks-addons``: the EKS managed add-on API.

Gap (moto 5.2.5): moto has no add-on API at all. ``CreateAddon`` answers 404 with an HTML page,
so ``aws_eks_addon`` cannot be created, read or destroyed.

Closed by: an in-memory add-on store per cluster with CreateAddon, DescribeAddon, UpdateAddon
(recorded for DescribeUpdate), DeleteAddon, ListAddons and DescribeAddonVersions (from
:mod:`.addon_catalog`). Add-ons are ACTIVE at once, as everything in moto is.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks.exceptions import InvalidRequestException, ResourceInUseException
from moto.eks.responses import EKSResponse

from . import addon_catalog
from ._eks_common import (
    ROLE_ARN_RE,
    Addon,
    extras,
    get_cluster,
    invalid_parameter,
    new_update,
    not_found,
    record_update,
)

ROUTES: tuple[str, ...] = (
    "{0}/clusters/(?P<name>[^/]+)/addons$",
    "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$",
    "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)/update$",
    "{0}/addons/supported-versions$",
)
"""URL patterns (moto ``url_paths`` syntax) this patch adds to the EKS service."""

_ADDON_ARN = "arn:{partition}:eks:{region}:{account}:addon/{cluster}/{addon}/{uuid}"


def _get_addon(cluster: Any, addon_name: str) -> Addon:
    addon = extras(cluster).addons.get(addon_name)
    if addon is None:
        raise not_found(
            f"No addon: {addon_name} found in cluster: {cluster.name}",
            clusterName=cluster.name,
            addonName=addon_name,
        )
    return addon


def _check_role(arn: str | None) -> None:
    if arn and not ROLE_ARN_RE.match(arn):
        raise invalid_parameter(f"Invalid Role Arn: '{arn}'")


def _check_version(name: str, version: str) -> None:
    if not addon_catalog.VERSION_RE.match(version):
        raise invalid_parameter(f"Addon version specified is not supported: {name} {version}")


class AddonsPatch(EKSResponse):
    """Response methods of the add-on API."""

    def create_addon(self) -> ActionResult:
        """CreateAddon: POST /clusters/{name}/addons."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        addon_name = self._get_param("addonName")
        if addon_name not in addon_catalog.CATALOG:
            raise invalid_parameter(f"Addon {addon_name} specified is not supported")
        if addon_name in extras(cluster).addons:
            raise ResourceInUseException(
                clusterName=cluster.name,
                nodegroupName=None,
                addonName=addon_name,
                message=f"Addon already exists with name: {addon_name}",
            )
        if not cluster.is_active:
            raise InvalidRequestException(message=f"Cluster '{cluster.name}' is not in ACTIVE status")
        version = self._get_param("addonVersion") or addon_catalog.default_version(addon_name, cluster.version)
        if version is None:
            raise invalid_parameter(
                f"Addon {addon_name} has no version for Kubernetes {cluster.version}; specify addonVersion"
            )
        _check_version(addon_name, version)
        role_arn = self._get_param("serviceAccountRoleArn") or None
        _check_role(role_arn)
        addon = Addon(
            addon_name=addon_name,
            cluster_name=cluster.name,
            addon_version=version,
            addon_arn=_ADDON_ARN.format(
                partition=self.partition,
                region=self.region,
                account=self.current_account,
                cluster=cluster.name,
                addon=addon_name,
                uuid=uuid.uuid4(),
            ),
            service_account_role_arn=role_arn,
            configuration_values=self._get_param("configurationValues") or None,
            tags=dict(self._get_param("tags") or {}),
            pod_identity_associations=[
                f"arn:{self.partition}:eks:{self.region}:{self.current_account}:podidentityassociation/"
                f"{cluster.name}/a-{uuid.uuid4().hex[:17]}"
                for _ in self._get_param("podIdentityAssociations") or []
            ],
        )
        extras(cluster).addons[addon_name] = addon
        return ActionResult({"addon": addon})

    def describe_addon(self) -> ActionResult:
        """DescribeAddon: GET /clusters/{name}/addons/{addonName}."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        return ActionResult({"addon": _get_addon(cluster, self._get_param("addonName"))})

    def update_addon(self) -> ActionResult:
        """UpdateAddon: POST /clusters/{name}/addons/{addonName}/update."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        addon = _get_addon(cluster, self._get_param("addonName"))
        params: list[dict[str, str]] = []
        version = self._get_param("addonVersion")
        if version is not None:
            _check_version(addon.addon_name, version)
            addon.addon_version = version
            params.append({"type": "AddonVersion", "value": version})
        role_arn = self._get_param("serviceAccountRoleArn")
        if role_arn is not None:
            _check_role(role_arn)
            addon.service_account_role_arn = role_arn or None
            params.append({"type": "ServiceAccountRoleArn", "value": role_arn})
        configuration = self._get_param("configurationValues")
        if configuration is not None:
            addon.configuration_values = configuration or None
            params.append({"type": "ConfigurationValues", "value": configuration})
        resolve = self._get_param("resolveConflicts")
        if resolve is not None:
            params.append({"type": "ResolveConflicts", "value": resolve})
        addon.modified_at = utcnow()
        update = record_update(cluster, new_update("AddonUpdate", params), addon_name=addon.addon_name)
        return ActionResult({"update": update})

    def delete_addon(self) -> ActionResult:
        """DeleteAddon: DELETE /clusters/{name}/addons/{addonName} (gone at once)."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        addon = _get_addon(cluster, self._get_param("addonName"))
        del extras(cluster).addons[addon.addon_name]
        addon.status = "DELETING"
        return ActionResult({"addon": addon})

    def list_addons(self) -> ActionResult:
        """ListAddons: GET /clusters/{name}/addons."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        return ActionResult({"addons": sorted(extras(cluster).addons)})

    def describe_addon_versions(self) -> ActionResult:
        """DescribeAddonVersions: GET /addons/supported-versions."""
        addons = addon_catalog.describe(self._get_param("addonName"), self._get_param("kubernetesVersion"))
        return ActionResult({"addons": addons})
