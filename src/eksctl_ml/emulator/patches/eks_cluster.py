"""Patch ``eks-cluster``: what DescribeCluster returns and how the cluster is updated.

Gaps (moto 5.2.5), each breaking a clean second plan, an update or a consumer of the outputs:

* ``accessConfig`` is dropped: DescribeCluster never returns it, so Terraform sees
  ``access_config`` vanish and plans a cluster *replacement*. Closed: kept from the request
  (EKS's defaults CONFIG_MAP / bootstrap true when absent); UpdateClusterConfig changes the
  mode along the transitions EKS allows.
* ``resourcesVpcConfig`` lacks ``vpcId`` and ``clusterSecurityGroupId`` (the
  ``cluster_primary_security_group_id`` output is empty). Closed: the VPC is taken from the
  subnets, which must exist and span two AZs, and a real EC2 security group
  ``eks-cluster-sg-<name>-<n>`` is created with the cluster and deleted with it.
* UpdateClusterConfig *replaces* ``resourcesVpcConfig`` with the request (losing the subnets, so
  the next plan replaces the cluster) and answers ``{"cluster": ...}`` instead of
  ``{"update": ...}``, so the provider waits on an update with an empty ID. Closed: fields are
  merged and an Update record is returned and kept for DescribeUpdate.
* UpdateClusterVersion does not exist (404). Closed: one minor version at a time, as EKS.
* Every cluster shares one endpoint and one OIDC issuer (random strings drawn once at import),
  and ``certificateAuthority.data`` is random text, not base64 PEM, so kubeconfig consumers
  fail. Closed: per-cluster endpoint and issuer, and a real self-signed CA certificate.
* Creating a cluster with ``bootstrapClusterCreatorAdminPermissions`` leaves no access entry for
  the creator. Closed: the caller gets an access entry with AmazonEKSClusterAdminPolicy, as in
  EKS (so a duplicate entry for it fails there and here alike).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import uuid
from typing import Any, cast

from moto.core.responses import ActionResult
from moto.eks.responses import EKSResponse

from ._eks_common import extras, get_cluster, invalid_parameter, new_update, record_update
from .eks_access import add_access_entry, associate_policy

ROUTES: tuple[str, ...] = ("{0}/clusters/(?P<name>[^/]+)/updates$",)
"""URL patterns (moto ``url_paths`` syntax) this patch adds: UpdateClusterVersion."""

AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
# EKS only moves towards access entries: CONFIG_MAP -> API_AND_CONFIG_MAP -> API.
_AUTH_MODE_RANK = {mode: rank for rank, mode in enumerate(AUTH_MODES)}

_VPC_UPDATABLE = ("endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs", "subnetIds", "securityGroupIds")


def self_signed_ca_pem(common_name: str = "kubernetes") -> bytes:
    """A PEM self-signed CA certificate, like the one EKS generates for each cluster."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _ec2(response: Any) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[response.current_account][response.region]


def _validate_vpc_config(response: Any, vpc_config: dict[str, Any]) -> str:
    """Check the subnets and security groups exist as EKS does; return the VPC ID."""
    ec2 = _ec2(response)
    subnet_ids = list(vpc_config.get("subnetIds") or [])
    subnets = []
    for subnet_id in subnet_ids:
        try:
            subnets.append(ec2.get_subnet(subnet_id))
        except Exception as exc:
            raise invalid_parameter(f"The subnet ID '{subnet_id}' does not exist") from exc
    if len({s.availability_zone for s in subnets}) < 2:
        raise invalid_parameter("Subnets specified must be in at least two different AZs")
    vpc_ids = {s.vpc_id for s in subnets}
    if len(vpc_ids) != 1:
        raise invalid_parameter("Subnets specified must belong to the same VPC")
    for group_id in vpc_config.get("securityGroupIds") or []:
        if ec2.get_security_group_from_id(group_id) is None:
            raise invalid_parameter(f"The security group '{group_id}' does not exist")
    return str(vpc_ids.pop())


def _caller_arn(response: Any) -> str:
    """IAM ARN of the caller, as EKS records the creator (an assumed role maps to its role)."""
    from moto.sts.models import sts_backends

    _, arn, _ = sts_backends[response.current_account][response.partition].get_caller_identity(
        response.get_access_key(), response.region
    )
    parts = str(arn).split(":", 5)
    resource = parts[5]
    if resource.startswith("assumed-role/"):
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{resource.split('/')[1]}"
    return f"arn:{parts[1]}:iam::{parts[4]}:{resource}"


class ClusterPatch(EKSResponse):
    """Response methods fixing cluster creation, description, update and deletion."""

    def create_cluster(self) -> ActionResult:
        """CreateCluster, with accessConfig, VPC facts, per-cluster identity and creator access."""
        access_config = self._get_param("accessConfig") or {}
        mode = access_config.get("authenticationMode") or "CONFIG_MAP"
        if mode not in AUTH_MODES:
            raise invalid_parameter(f"Unsupported authentication mode: {mode}")
        bootstrap = access_config.get("bootstrapClusterCreatorAdminPermissions")
        bootstrap = True if bootstrap is None else bool(bootstrap)
        vpc_config = dict(self._get_param("resourcesVpcConfig") or {})
        vpc_id = _validate_vpc_config(self, vpc_config)

        result = super().create_cluster()
        cluster: Any = self.eks_backend.clusters[self._get_param("name")]

        extras(cluster)  # attach the patches' store before any concurrent request can
        cluster.access_config = {
            "authenticationMode": mode,
            "bootstrapClusterCreatorAdminPermissions": bootstrap,
        }
        security_group = _ec2(self).create_security_group(
            name=f"eks-cluster-sg-{cluster.name}-{uuid.uuid4().int % 10**10}",
            description="EKS created security group applied to ENI that is attached to EKS Control Plane "
            "master nodes, as well as any managed workloads.",
            vpc_id=vpc_id,
            tags={
                "Name": f"eks-cluster-sg-{cluster.name}",
                f"kubernetes.io/cluster/{cluster.name}": "owned",
                "aws:eks:cluster-name": cluster.name,
            },
        )
        public = vpc_config.get("endpointPublicAccess")
        public = True if public is None else bool(public)
        cluster.resources_vpc_config = {
            "subnetIds": list(vpc_config.get("subnetIds") or []),
            "securityGroupIds": list(vpc_config.get("securityGroupIds") or []),
            "endpointPublicAccess": public,
            "endpointPrivateAccess": bool(vpc_config.get("endpointPrivateAccess", False)),
            "publicAccessCidrs": list(vpc_config.get("publicAccessCidrs") or ["0.0.0.0/0"]),
            "vpcId": vpc_id,
            "clusterSecurityGroupId": security_group.id,
        }
        cluster.kubernetes_network_config = {"ipFamily": "ipv4", **dict(cluster.kubernetes_network_config)}
        cluster.upgrade_policy = self._get_param("upgradePolicy") or {"supportType": "EXTENDED"}
        cluster.certificate_authority = {"data": base64.b64encode(self_signed_ca_pem()).decode()}
        cluster.identity = {
            "oidc": {"issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/{uuid.uuid4().hex.upper()}"}
        }
        cluster.endpoint = f"https://{uuid.uuid4().hex.upper()}.gr7.{self.region}.eks.amazonaws.com"

        if bootstrap and mode != "CONFIG_MAP":
            entry = add_access_entry(
                cluster,
                principal_arn=_caller_arn(self),
                account=self.current_account,
                region=self.region,
                partition=self.partition,
            )
            associate_policy(
                entry,
                f"arn:{self.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                {"type": "cluster"},
            )
        return result

    def update_cluster_config(self) -> ActionResult:
        """UpdateClusterConfig: merge the changes and return a recorded Update."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        params: list[dict[str, str]] = []
        update_type = "ConfigUpdate"

        vpc_update = self._get_param("resourcesVpcConfig")
        if vpc_update:
            if "subnetIds" in vpc_update or "securityGroupIds" in vpc_update:
                merged = {**cluster.resources_vpc_config, **vpc_update}
                _validate_vpc_config(self, merged)
                update_type = "VpcConfigUpdate"
            else:
                update_type = "EndpointAccessUpdate"
            for key in _VPC_UPDATABLE:
                if key in vpc_update:
                    cluster.resources_vpc_config[key] = vpc_update[key]
                    params.append({"type": key[0].upper() + key[1:], "value": str(vpc_update[key])})

        logging = self._get_param("logging")
        if logging:
            cluster.logging = logging
            update_type = "LoggingUpdate"
            params.append({"type": "ClusterLogging", "value": str(logging)})

        access_update = self._get_param("accessConfig")
        if access_update and access_update.get("authenticationMode"):
            current = cluster.access_config["authenticationMode"]
            wanted = access_update["authenticationMode"]
            if wanted not in AUTH_MODES or _AUTH_MODE_RANK[wanted] < _AUTH_MODE_RANK[current]:
                raise invalid_parameter(f"Unsupported authentication mode update from {current} to {wanted}")
            cluster.access_config["authenticationMode"] = wanted
            update_type = "AccessConfigUpdate"
            params.append({"type": "AuthenticationMode", "value": wanted})

        for param, attribute, kind in (
            ("upgradePolicy", "upgrade_policy", "UpgradePolicyUpdate"),
            ("zonalShiftConfig", "zonal_shift_config", "ZonalShiftConfigUpdate"),
            ("kubernetesNetworkConfig", "kubernetes_network_config", "AutoModeUpdate"),
            ("computeConfig", "compute_config", "AutoModeUpdate"),
            ("storageConfig", "storage_config", "AutoModeUpdate"),
            ("remoteNetworkConfig", "remote_network_config", "RemoteNetworkConfigUpdate"),
        ):
            value = self._get_param(param)
            if value:
                current_value = getattr(cluster, attribute, None)
                merged_value = {**current_value, **value} if isinstance(current_value, dict) else value
                setattr(cluster, attribute, merged_value)
                update_type = kind
                params.append({"type": param[0].upper() + param[1:], "value": str(value)})

        return ActionResult({"update": record_update(cluster, new_update(update_type, params))})

    def update_cluster_version(self) -> ActionResult:
        """UpdateClusterVersion: POST /clusters/{name}/updates, one minor version at a time."""
        cluster = get_cluster(self.eks_backend, self._get_param("name"))
        wanted = str(self._get_param("version"))
        try:
            current_minor = int(str(cluster.version).split(".")[1])
            wanted_minor = int(wanted.split(".")[1])
        except (IndexError, ValueError) as exc:
            raise invalid_parameter(f"Unsupported Kubernetes version: {wanted}") from exc
        if wanted_minor != current_minor + 1:
            raise invalid_parameter(f"Unsupported Kubernetes minor version update from {cluster.version} to {wanted}")
        cluster.version = wanted
        update = new_update("VersionUpdate", [{"type": "Version", "value": wanted}])
        return ActionResult({"update": record_update(cluster, update)})

    def delete_cluster(self) -> ActionResult:
        """DeleteCluster, also deleting the cluster security group EKS created."""
        result = super().delete_cluster()
        cluster: Any = cast(dict[str, Any], result.result)["cluster"]
        group_id = (getattr(cluster, "resources_vpc_config", None) or {}).get("clusterSecurityGroupId")
        if group_id:
            # Already gone, or still referenced by another group's rule: EKS leaves it too.
            with contextlib.suppress(Exception):
                _ec2(self).delete_security_group(group_id=group_id)
        cluster.status = "DELETING"
        return result
