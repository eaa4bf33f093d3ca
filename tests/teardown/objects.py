"""Cluster objects (from the kubernetes client's own V1* models) and load balancers in moto."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from eksctl_ml.adapters.aws.session import Boto3Aws

LB_CLEANUP = "service.kubernetes.io/load-balancer-cleanup"
PVC_PROTECTION = "kubernetes.io/pvc-protection"


def meta(name: str, namespace: str | None = None, **kwargs: Any) -> Any:
    return client.V1ObjectMeta(name=name, namespace=namespace, **kwargs)


def lb_service(namespace: str, name: str, hostname: str | None = None) -> Any:
    """A Service of type LoadBalancer, as the cloud provider leaves it: finalizer, and the LB's DNS name."""
    status = None
    if hostname is not None:
        status = client.V1ServiceStatus(
            load_balancer=client.V1LoadBalancerStatus(ingress=[client.V1LoadBalancerIngress(hostname=hostname)])
        )
    return client.V1Service(
        metadata=meta(name, namespace, finalizers=[LB_CLEANUP]),
        spec=client.V1ServiceSpec(
            type="LoadBalancer",
            selector={"app": name},
            ports=[client.V1ServicePort(port=80, target_port=8080, protocol="TCP")],
        ),
        status=status,
    )


def cluster_ip_service(namespace: str, name: str) -> Any:
    return client.V1Service(
        metadata=meta(name, namespace),
        spec=client.V1ServiceSpec(
            type="ClusterIP", cluster_ip="172.20.0.10", ports=[client.V1ServicePort(port=80, protocol="TCP")]
        ),
    )


def ingress(namespace: str, name: str, hostname: str | None = None, *, group: str | None = None) -> Any:
    """An ALB Ingress; ``group`` puts it in an IngressGroup (the ALB's stack tag is then the group name)."""
    status = None
    if hostname is not None:
        status = client.V1IngressStatus(
            load_balancer=client.V1IngressLoadBalancerStatus(
                ingress=[client.V1IngressLoadBalancerIngress(hostname=hostname)]
            )
        )
    backend = client.V1IngressBackend(
        service=client.V1IngressServiceBackend(name="web", port=client.V1ServiceBackendPort(number=80))
    )
    return client.V1Ingress(
        metadata=meta(
            name,
            namespace,
            finalizers=["ingress.k8s.aws/resources"],
            annotations={"alb.ingress.kubernetes.io/group.name": group} if group else None,
        ),
        spec=client.V1IngressSpec(ingress_class_name="alb", default_backend=backend),
        status=status,
    )


def volume(
    name: str,
    claim: tuple[str, str],
    *,
    policy: str,
    provisioned_by: str | None = "ebs.csi.aws.com",
    storage_class: str = "gp3",
) -> Any:
    """A bound PersistentVolume; dynamic ones carry the provisioner's annotation and a CSI volume handle."""
    annotations = {"pv.kubernetes.io/provisioned-by": provisioned_by} if provisioned_by else None
    return client.V1PersistentVolume(
        metadata=meta(name, annotations=annotations, finalizers=["kubernetes.io/pv-protection"]),
        spec=client.V1PersistentVolumeSpec(
            capacity={"storage": "10Gi"},
            access_modes=["ReadWriteOnce"],
            persistent_volume_reclaim_policy=policy,
            storage_class_name=storage_class,
            csi=client.V1CSIPersistentVolumeSource(driver="ebs.csi.aws.com", volume_handle=f"vol-{name}"),
            claim_ref=client.V1ObjectReference(kind="PersistentVolumeClaim", namespace=claim[0], name=claim[1]),
        ),
        status=client.V1PersistentVolumeStatus(phase="Bound"),
    )


def claim(namespace: str, name: str, *, volume_name: str | None, storage_class: str = "gp3") -> Any:
    return client.V1PersistentVolumeClaim(
        metadata=meta(name, namespace, finalizers=[PVC_PROTECTION]),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "10Gi"}),
            storage_class_name=storage_class,
            volume_name=volume_name,
        ),
        status=client.V1PersistentVolumeClaimStatus(phase="Bound" if volume_name else "Pending"),
    )


def namespace(name: str, *, terminating: bool = False, conditions: Mapping[str, tuple[str, str]] | None = None) -> Any:
    """A namespace; ``conditions`` maps a condition type to ``(status, message)``."""
    return client.V1Namespace(
        metadata=meta(
            name,
            deletion_timestamp=datetime(2026, 1, 1, 10, 0, tzinfo=UTC) if terminating else None,
            finalizers=["example.com/hold"] if terminating else None,
        ),
        spec=client.V1NamespaceSpec(finalizers=["kubernetes"]),
        status=client.V1NamespaceStatus(
            phase="Terminating" if terminating else "Active",
            conditions=[
                client.V1NamespaceCondition(type=kind, status=status, message=message, reason="SomeReason")
                for kind, (status, message) in (conditions or {}).items()
            ]
            or None,
        ),
    )


# --- moto -------------------------------------------------------------------------------------------------


def elbv2(aws: Boto3Aws, name: str, subnets: list[str], tags: Mapping[str, str], lb_type: str = "network") -> Any:
    """Create an ELBv2 load balancer; returns its description (``LoadBalancerArn``, ``DNSName``...)."""
    kwargs: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    return aws.client("elbv2").create_load_balancer(Name=name, Subnets=subnets, Type=lb_type, **kwargs)[
        "LoadBalancers"
    ][0]


def classic_elb(aws: Boto3Aws, name: str, subnets: list[str], tags: Mapping[str, str]) -> str:
    """Create a classic ELB (as the in-tree cloud provider does); returns its DNS name."""
    kwargs: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    return str(
        aws.client("elb").create_load_balancer(
            LoadBalancerName=name,
            Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
            Subnets=subnets,
            **kwargs,
        )["DNSName"]
    )


def elbv2_names(aws: Boto3Aws) -> set[str]:
    return {lb["LoadBalancerName"] for lb in aws.client("elbv2").describe_load_balancers()["LoadBalancers"]}


def classic_names(aws: Boto3Aws) -> set[str]:
    return {lb["LoadBalancerName"] for lb in aws.client("elb").describe_load_balancers()["LoadBalancerDescriptions"]}
