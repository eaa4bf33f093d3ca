"""Pre-destroy teardown: remove what Kubernetes created in AWS before the cluster itself goes.

Destroying the node groups and the cluster does not delete the AWS resources that controllers inside
the cluster created on its behalf:

* load balancers made for Services of type ``LoadBalancer`` (classic ELBs by the in-tree cloud provider,
  NLBs by the AWS Load Balancer Controller) and for Ingresses (ALBs). Their network interfaces and
  security groups keep the VPC's subnets in use, so ``terraform destroy`` of the network fails after
  minutes of retries, and they keep billing;
* EBS/EFS volumes provisioned for PersistentVolumeClaims, which keep billing.

:func:`prepare_cluster_for_destroy` runs, in this order, while every controller is still running:

1. :func:`delete_load_balancers`: delete every Service of type LoadBalancer and every Ingress, then wait
   (through the ELB APIs, not Kubernetes) until the load balancers they created are gone;
2. :func:`delete_dynamic_claims`: delete the claims of dynamically provisioned volumes, then wait until
   the volumes with reclaim policy ``Delete`` are gone (``Retain`` volumes are reported, never waited on);
3. :func:`uninstall_releases`: uninstall the Helm releases in reverse install order, but only when steps
   1 and 2 left nothing behind: the controllers that delete load balancers and volumes (AWS Load
   Balancer Controller, EBS CSI driver) are often releases themselves, and uninstalling them first
   would orphan what they still had to delete;
4. :func:`stuck_namespaces`: report namespaces stuck in ``Terminating``, with what holds them.

Nothing here raises because something is slow: a wait that times out returns a result that names what
is still there, and :attr:`TeardownReport.ok` is False, so the caller can stop ``down`` with a diagnosis
(:meth:`TeardownReport.render`). Failures of the systems themselves do raise: Kubernetes API errors as
:class:`~eksctl_ml.errors.KubernetesError` (an unreachable API server with a hint that the cluster may
already be gone: the caller decides whether to go on), AWS API errors as :class:`~eksctl_ml.errors.AwsError`.

``api_client`` is a ``kubernetes.client.ApiClient``; the SDK is imported on first use.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.helm.protocol import HelmClient
from eksctl_ml.engine.phase import CheckResult
from eksctl_ml.errors import AwsError, HelmError, KubernetesError
from eksctl_ml.readiness.polling import format_duration, poll_until

Progress = Callable[[str], None]

REQUEST_TIMEOUT_S = 30.0
"""Upper bound of one Kubernetes API request (connect and read)."""

PAGE_LIMIT = 500
"""Objects per page of a Kubernetes list call."""

DEFAULT_INTERVAL_S = 5.0
"""First wait between two polls; it grows up to poll_until's cap."""

PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
_CLAIM_PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
_INGRESS_GROUP_ANNOTATION = "alb.ingress.kubernetes.io/group.name"

# Tags the controllers put on the load balancers they create.
_LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster"  # AWS Load Balancer Controller
_LBC_STACK_TAGS = ("service.k8s.aws/stack", "ingress.k8s.aws/stack")  # its owner: "<ns>/<name>" or group


def _cluster_tag(cluster: str) -> str:
    return f"kubernetes.io/cluster/{cluster}"  # in-tree cloud provider and the controller, value "owned"


# --- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwsLoadBalancer:
    """One load balancer found in AWS. ``kind`` is the boto3 service: ``elbv2`` or ``elb`` (classic)."""

    kind: str
    name: str
    arn: str | None
    dns_name: str
    type: str
    matched_by: str

    @property
    def label(self) -> str:
        """``name (ARN)`` for ELBv2, ``name (classic)`` for a classic ELB."""
        return f"{self.name} ({self.arn})" if self.arn else f"{self.name} (classic)"


@dataclass
class LoadBalancerCleanup:
    """What :func:`delete_load_balancers` did and what is still there (``ok`` when nothing is)."""

    deleted_services: list[str] = field(default_factory=list)
    deleted_ingresses: list[str] = field(default_factory=list)
    waited_for: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    still_terminating: list[str] = field(default_factory=list)
    waited_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.remaining


@dataclass
class VolumeCleanup:
    """What :func:`delete_dynamic_claims` did. ``retained`` volumes are kept on purpose (reclaim Retain)."""

    deleted_claims: list[str] = field(default_factory=list)
    deleted_volumes: list[str] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    waited_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.remaining


@dataclass
class ReleaseCleanup:
    """What :func:`uninstall_releases` did; ``failed`` holds ``"<ns>/<name>: <why>"``."""

    uninstalled: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class StuckNamespace:
    """A namespace in phase Terminating and what holds it.

    ``spec_finalizers`` (usually ``kubernetes``) are cleared by the namespace controller once the namespace
    is empty; ``metadata_finalizers`` belong to whoever added them. ``remaining_resources`` maps
    ``<resource>[.<group>]`` to the count the namespace controller reports in its
    ``NamespaceContentRemaining`` condition, ``remaining_finalizers`` maps a finalizer to the number of
    objects it holds (``NamespaceFinalizersRemaining``). ``conditions`` are the true conditions as
    ``"<type>: <message>"``.
    """

    name: str
    spec_finalizers: tuple[str, ...] = ()
    metadata_finalizers: tuple[str, ...] = ()
    remaining_resources: Mapping[str, int] = field(default_factory=dict)
    remaining_finalizers: Mapping[str, int] = field(default_factory=dict)
    conditions: tuple[str, ...] = ()
    deleting_since: str = ""

    @property
    def finalizers(self) -> tuple[str, ...]:
        return self.spec_finalizers + tuple(f for f in self.metadata_finalizers if f not in self.spec_finalizers)

    def render(self) -> str:
        parts = [f"finalizers: {', '.join(self.finalizers) or 'none'}"]
        if self.remaining_resources:
            items = ", ".join(f"{kind} ({count})" for kind, count in self.remaining_resources.items())
            parts.append(f"remaining: {items}")
        if self.remaining_finalizers:
            items = ", ".join(f"{name} on {count}" for name, count in self.remaining_finalizers.items())
            parts.append(f"held by finalizers: {items}")
        if not self.remaining_resources and not self.remaining_finalizers and self.conditions:
            parts.append("; ".join(self.conditions))
        since = f" (deleting since {self.deleting_since})" if self.deleting_since else ""
        return f"{self.name}{since}: " + "; ".join(parts)


@dataclass
class TeardownReport:
    """Everything :func:`prepare_cluster_for_destroy` did and found.

    ``ok`` is False when something that blocks the destroy or keeps billing for nothing is still there:
    load balancers, volumes with reclaim policy Delete, or a release that failed to uninstall. Retained
    volumes and stuck namespaces are reported but do not make it False (a retained volume is kept on
    purpose; a namespace does not outlive its cluster).
    """

    cluster: str
    deleted_services: list[str] = field(default_factory=list)
    deleted_ingresses: list[str] = field(default_factory=list)
    load_balancers: list[str] = field(default_factory=list)
    remaining_load_balancers: list[str] = field(default_factory=list)
    terminating_objects: list[str] = field(default_factory=list)
    deleted_claims: list[str] = field(default_factory=list)
    deleted_volumes: list[str] = field(default_factory=list)
    retained_volumes: list[str] = field(default_factory=list)
    remaining_volumes: list[str] = field(default_factory=list)
    releases_uninstalled: list[str] = field(default_factory=list)
    releases_already_gone: list[str] = field(default_factory=list)
    releases_failed: list[str] = field(default_factory=list)
    releases_skipped: str = ""
    stuck_namespaces: list[StuckNamespace] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.remaining_load_balancers or self.remaining_volumes or self.releases_failed)

    @property
    def summary(self) -> str:
        if self.ok:
            return f"cluster {self.cluster}: Kubernetes-made AWS resources removed"
        blockers = []
        if self.remaining_load_balancers:
            blockers.append(f"{len(self.remaining_load_balancers)} load balancer(s)")
        if self.remaining_volumes:
            blockers.append(f"{len(self.remaining_volumes)} volume(s)")
        if self.releases_failed:
            blockers.append(f"{len(self.releases_failed)} release(s) failed to uninstall")
        return f"cluster {self.cluster}: still present: {', '.join(blockers)}"

    def render(self) -> str:
        lines = [f"Kubernetes teardown of cluster {self.cluster}: {'done' if self.ok else 'NOT done'}"]

        def section(title: str, items: Sequence[str]) -> None:
            if items:
                lines.append(f"  {title} ({len(items)}):")
                lines.extend(f"    - {item}" for item in items)

        section("deleted Services of type LoadBalancer", self.deleted_services)
        section("deleted Ingresses", self.deleted_ingresses)
        section("load balancers waited for", self.load_balancers)
        section("load balancers STILL PRESENT (they block deleting the VPC)", self.remaining_load_balancers)
        section("Kubernetes objects still terminating", self.terminating_objects)
        if self.remaining_load_balancers:
            lines.append(
                "    fix: check that the controller that made them (AWS Load Balancer Controller or the cloud "
                "provider) is running and can delete them (its logs), or delete them in the EC2 console / with "
                "`aws elbv2 delete-load-balancer` / `aws elb delete-load-balancer`, then run `down` again"
            )
        section("deleted PersistentVolumeClaims", self.deleted_claims)
        section("volumes deleted", self.deleted_volumes)
        section("volumes kept (reclaim policy Retain: they keep billing until deleted by hand)", self.retained_volumes)
        section("volumes STILL PRESENT (reclaim policy Delete)", self.remaining_volumes)
        if self.remaining_volumes:
            lines.append(
                "    fix: check the CSI driver's controller logs (a volume still attached, or missing "
                "ec2:DeleteVolume permission), then run `down` again"
            )
        section("Helm releases uninstalled", self.releases_uninstalled)
        section("Helm releases already gone", self.releases_already_gone)
        section("Helm releases that FAILED to uninstall", self.releases_failed)
        if self.releases_skipped:
            lines.append(f"  Helm releases not uninstalled: {self.releases_skipped}")
        section("namespaces stuck in Terminating", [ns.render() for ns in self.stuck_namespaces])
        if len(lines) == 1:
            lines.append("  nothing to clean up")
        return "\n".join(lines)

    def check_result(self) -> CheckResult:
        """The report as a phase verdict (``diagnosis`` is the rendered report when not ok)."""
        if self.ok:
            return CheckResult.ready(self.summary)
        return CheckResult.not_ready(self.summary, self.render())


# --- error wrapping ----------------------------------------------------------------------------------------

_UNREACHABLE_HINT = (
    "the cluster may already be gone (an earlier `down` deleted it, or its endpoint no longer resolves): "
    "then there is nothing left in it to clean up; otherwise check the kubeconfig and the network path to "
    "the API server"
)


def _kube_error(exc: BaseException, action: str) -> KubernetesError:
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException) and exc.status:
        status = int(exc.status)
        detail = _status_message(exc.body) or str(exc.reason or "")
        hint = None
        if status == 401:
            hint = "the cluster credentials were rejected: refresh the kubeconfig (`aws eks update-kubeconfig`)"
        elif status == 403:
            hint = (
                "the identity needs list/delete on services, ingresses and persistentvolumeclaims in all "
                "namespaces, and list on persistentvolumes and namespaces"
            )
        return KubernetesError(f"Kubernetes API: {action} failed (HTTP {status})", detail=detail, hint=hint)
    return KubernetesError(
        f"Kubernetes API unreachable while {action}",
        detail=_first_line(str(getattr(exc, "reason", None) or exc)),
        hint=_UNREACHABLE_HINT,
    )


def _status_message(body: Any) -> str:
    if not body:
        return ""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return _first_line(str(body))
    return _first_line(str(data.get("message", ""))) if isinstance(data, dict) else ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _kube_call(action: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One Kubernetes API call; every failure becomes KubernetesError."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        return fn(*args, _request_timeout=REQUEST_TIMEOUT_S, **kwargs)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _kube_error(exc, action) from exc


def _kube_delete(action: str, fn: Callable[..., Any], name: str, namespace: str) -> bool:
    """Delete one object: True if deleted (or deleting), False if it was already gone (404).

    The response body is not parsed: the API server answers a delete with the object or with a Status,
    depending on the resource and version, and only the HTTP status matters here.
    """
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        fn(name, namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_S)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise _kube_error(exc, action) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _kube_error(exc, action) from exc
    return True


def _list_all(action: str, fn: Callable[..., Any]) -> list[Any]:
    """Every item of a list call, page by page."""
    items: list[Any] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": PAGE_LIMIT}
        if token:
            kwargs["_continue"] = token
        page = _kube_call(action, fn, **kwargs)
        items.extend(page.items or [])
        token = getattr(page.metadata, "_continue", None) if page.metadata is not None else None
        if not token:
            return items


def _aws_call(aws: AwsClients, service: str, api: str, *, gone: Iterable[str] = (), **kwargs: Any) -> Any:
    """One AWS call; None when it fails with an error code in ``gone``; other failures are AwsError."""
    import botocore.exceptions

    try:
        return getattr(aws.client(service), api)(**kwargs)
    except botocore.exceptions.ClientError as exc:
        if _error_code(exc) in set(gone):
            return None
        raise _aws_error(exc, service, api) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise _aws_error(exc, service, api) from exc


def _aws_pages(aws: AwsClients, service: str, api: str, key: str) -> list[dict[str, Any]]:
    """Every item under ``key`` of every page of a paginated AWS list call."""
    import botocore.exceptions

    try:
        return [item for page in aws.client(service).get_paginator(api).paginate() for item in page.get(key, [])]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise _aws_error(exc, service, api) from exc


def _error_code(exc: Any) -> str:
    return str((exc.response.get("Error", {}) or {}).get("Code", "") or "")


def _aws_error(exc: Exception, service: str, api: str) -> AwsError:
    import botocore.exceptions

    operation = _pascal(api)
    if isinstance(exc, botocore.exceptions.ClientError):
        code = _error_code(exc)
        hint = None
        if "AccessDenied" in code or "Unauthorized" in code:
            hint = f"the credentials need {service}:{operation} to check the cluster's load balancers"
        message = str((exc.response.get("Error", {}) or {}).get("Message", "") or "")
        return AwsError(
            f"AWS {service} {operation} failed ({code or 'no error code'})", detail=_first_line(message), hint=hint
        )
    return AwsError(f"AWS {service} {operation} failed", detail=_first_line(str(exc)))


def _pascal(api: str) -> str:
    return "".join(part.capitalize() for part in api.split("_"))


# --- load balancers ----------------------------------------------------------------------------------------


def _ref(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def _normalize_host(hostname: str) -> str:
    host = hostname.strip().lower().rstrip(".")
    return host.removeprefix("dualstack.")


def _lb_hostnames(obj: Any) -> list[str]:
    status = getattr(obj, "status", None)
    lb_status = getattr(status, "load_balancer", None) if status is not None else None
    return [_normalize_host(i.hostname) for i in (getattr(lb_status, "ingress", None) or []) if i.hostname]


def _tags(raw: Any) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in raw or () if "Key" in t}


def _owner(tags: Mapping[str, str], cluster: str, stacks: set[str]) -> str | None:
    """Why a load balancer with these tags belongs to the cluster (None: it does not)."""
    if tags.get(_cluster_tag(cluster)) == "owned":
        return f"tag {_cluster_tag(cluster)}=owned"
    lbc_cluster = tags.get(_LBC_CLUSTER_TAG)
    if lbc_cluster == cluster:
        return f"tag {_LBC_CLUSTER_TAG}={cluster}"
    # A stack tag ("<ns>/<name>") alone is not unique across clusters: only when no cluster is named.
    other_cluster = lbc_cluster is not None or any(key.startswith("kubernetes.io/cluster/") for key in tags)
    if not other_cluster:
        for key in _LBC_STACK_TAGS:
            if tags.get(key) in stacks:
                return f"tag {key}={tags[key]}"
    return None


def _tags_by_id(
    aws: AwsClients, service: str, ids: list[str], *, id_param: str, id_key: str
) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), 20):
        batch = ids[start : start + 20]
        response = _aws_call(aws, service, "describe_tags", gone={"LoadBalancerNotFound"}, **{id_param: batch})
        # One of them was deleted meanwhile: ask one by one, skipping the gone.
        answers = (
            [response]
            if response is not None
            else [
                _aws_call(aws, service, "describe_tags", gone={"LoadBalancerNotFound"}, **{id_param: [i]})
                for i in batch
            ]
        )
        for answer in answers:
            for desc in (answer or {}).get("TagDescriptions", []):
                tags[str(desc[id_key])] = _tags(desc.get("Tags"))
    return tags


def find_cluster_load_balancers(
    aws: AwsClients,
    cluster_name: str,
    *,
    hostnames: Mapping[str, str] | None = None,
    stacks: Iterable[str] = (),
) -> list[AwsLoadBalancer]:
    """The ELBv2 and classic load balancers that belong to the cluster.

    A load balancer belongs to it when tagged ``kubernetes.io/cluster/<cluster>=owned`` or
    ``elbv2.k8s.aws/cluster=<cluster>``, when its ``service.k8s.aws/stack`` / ``ingress.k8s.aws/stack`` tag
    names one of ``stacks`` (and no other cluster), or, untagged, when its DNS name is one of
    ``hostnames`` (``{dns name: "Service ns/name"}``, from the objects' ``status.loadBalancer``).
    """
    hosts = {_normalize_host(h): owner for h, owner in (hostnames or {}).items()}
    stack_set = set(stacks)
    found: list[AwsLoadBalancer] = []

    def owner(tags: Mapping[str, str], dns: str) -> str | None:
        by_tag = _owner(tags, cluster_name, stack_set)
        if by_tag is not None:
            return by_tag
        host = _normalize_host(dns)
        return f"DNS name of {hosts[host]}" if host in hosts else None

    v2 = _aws_pages(aws, "elbv2", "describe_load_balancers", "LoadBalancers")
    v2_tags = _tags_by_id(
        aws, "elbv2", [str(lb["LoadBalancerArn"]) for lb in v2], id_param="ResourceArns", id_key="ResourceArn"
    )
    for lb in v2:
        arn = str(lb["LoadBalancerArn"])
        dns = str(lb.get("DNSName", ""))
        why = owner(v2_tags.get(arn, {}), dns)
        if why is not None:
            found.append(AwsLoadBalancer("elbv2", str(lb["LoadBalancerName"]), arn, dns, str(lb.get("Type", "")), why))

    classic = _aws_pages(aws, "elb", "describe_load_balancers", "LoadBalancerDescriptions")
    classic_tags = _tags_by_id(
        aws,
        "elb",
        [str(lb["LoadBalancerName"]) for lb in classic],
        id_param="LoadBalancerNames",
        id_key="LoadBalancerName",
    )
    for lb in classic:
        name = str(lb["LoadBalancerName"])
        dns = str(lb.get("DNSName", ""))
        why = owner(classic_tags.get(name, {}), dns)
        if why is not None:
            found.append(AwsLoadBalancer("elb", name, None, dns, "classic", why))
    return found


def _core(api_client: Any) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api_client)


def _networking(api_client: Any) -> Any:
    from kubernetes import client

    return client.NetworkingV1Api(api_client)


def _finalizer_note(obj: Any) -> str:
    finalizers = list(getattr(obj.metadata, "finalizers", None) or [])
    return f" (finalizers: {', '.join(finalizers)})" if finalizers else ""


def delete_load_balancers(
    api_client: Any,
    aws: AwsClients,
    cluster_name: str,
    *,
    timeout_s: float,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: threading.Event | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> LoadBalancerCleanup:
    """Delete every Service of type LoadBalancer and every Ingress, then wait for their load balancers.

    The wait polls the ELB APIs (ELBv2 and classic) for load balancers of the cluster (see
    :func:`find_cluster_load_balancers`; the objects' ``status.loadBalancer`` host names are collected
    before the delete) until none is left or ``timeout_s`` has passed. On timeout the result names the
    load balancers still present (``ok`` False) and the Services/Ingresses still terminating; nothing is
    raised. When no Service or Ingress was there to delete, nothing will remove a leftover load balancer,
    so it is reported at once instead of waited for.
    """
    core, networking = _core(api_client), _networking(api_client)
    result = LoadBalancerCleanup()
    hostnames: dict[str, str] = {}
    stacks: set[str] = set()

    services = [
        s
        for s in _list_all("listing Services", core.list_service_for_all_namespaces)
        if s.spec is not None and s.spec.type == "LoadBalancer"
    ]
    ingresses = _list_all("listing Ingresses", networking.list_ingress_for_all_namespaces)
    if progress is not None and (services or ingresses):
        progress(f"deleting {len(services)} Service(s) of type LoadBalancer and {len(ingresses)} Ingress(es)")

    for svc in services:
        ref = _ref(svc)
        stacks.add(ref)
        hostnames.update(dict.fromkeys(_lb_hostnames(svc), f"Service {ref}"))
        if svc.metadata.deletion_timestamp is not None:
            continue  # already being deleted: its controller is at work
        if _kube_delete(
            f"deleting Service {ref}", core.delete_namespaced_service, svc.metadata.name, svc.metadata.namespace
        ):
            result.deleted_services.append(ref)

    for ing in ingresses:
        ref = _ref(ing)
        stacks.add(ref)
        group = (ing.metadata.annotations or {}).get(_INGRESS_GROUP_ANNOTATION)
        if group:
            stacks.add(group)
        hostnames.update(dict.fromkeys(_lb_hostnames(ing), f"Ingress {ref}"))
        if ing.metadata.deletion_timestamp is not None:
            continue
        if _kube_delete(
            f"deleting Ingress {ref}", networking.delete_namespaced_ingress, ing.metadata.name, ing.metadata.namespace
        ):
            result.deleted_ingresses.append(ref)

    # Deleted now, before (already terminating) or meanwhile by someone else (404): a controller is at work.
    pending = bool(services or ingresses)
    seen: dict[str, None] = {}
    current: list[AwsLoadBalancer] = []

    def probe() -> tuple[bool, str]:
        found = find_cluster_load_balancers(aws, cluster_name, hostnames=hostnames, stacks=stacks)
        current[:] = found
        seen.update(dict.fromkeys(lb.label for lb in found))
        if not found:
            return True, "no load balancer of the cluster is left"
        names = ", ".join(lb.name for lb in found)
        return False, f"waiting for {len(found)} load balancer(s) to be deleted: {names}"

    started = clock()
    poll_until(
        probe,
        timeout_s=timeout_s if pending else 0.0,
        interval_s=interval_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
    )
    result.waited_s = clock() - started
    result.waited_for = list(seen)
    result.remaining = [f"{lb.label}: {lb.type}, {lb.dns_name}, matched by {lb.matched_by}" for lb in current]
    if current and pending:
        result.still_terminating = _terminating_lb_objects(core, networking)
    return result


def _terminating_lb_objects(core: Any, networking: Any) -> list[str]:
    """Services of type LoadBalancer and Ingresses still there after their delete (held by finalizers)."""
    left = [
        f"Service {_ref(s)}{_finalizer_note(s)}"
        for s in _list_all("listing Services", core.list_service_for_all_namespaces)
        if s.spec is not None and s.spec.type == "LoadBalancer"
    ]
    left += [
        f"Ingress {_ref(i)}{_finalizer_note(i)}"
        for i in _list_all("listing Ingresses", networking.list_ingress_for_all_namespaces)
    ]
    return left


# --- volumes ------------------------------------------------------------------------------------------------


def _volume_label(pv: Any, claim: str) -> str:
    spec = pv.spec
    handle = ""
    if spec is not None:
        if spec.csi is not None and spec.csi.volume_handle:
            handle = f", volume {spec.csi.volume_handle}"
        elif spec.aws_elastic_block_store is not None and spec.aws_elastic_block_store.volume_id:
            handle = f", volume {spec.aws_elastic_block_store.volume_id}"
    policy = spec.persistent_volume_reclaim_policy if spec is not None else None
    return f"{pv.metadata.name} (claim {claim}, reclaim policy {policy or 'unknown'}{handle})"


def _is_dynamic(pvc: Any, pv: Any | None, storage_classes: set[str] | None) -> bool:
    if pv is not None and PROVISIONED_BY in (pv.metadata.annotations or {}):
        return True
    if storage_classes and pvc.spec is not None and pvc.spec.storage_class_name in storage_classes:
        return True
    # Not bound yet, but a provisioner will make a volume for it (e.g. WaitForFirstConsumer).
    annotations = pvc.metadata.annotations or {}
    return pv is None and any(key in annotations for key in _CLAIM_PROVISIONER_ANNOTATIONS)


def delete_dynamic_claims(
    api_client: Any,
    *,
    storage_classes: set[str] | None = None,
    timeout_s: float,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: threading.Event | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> VolumeCleanup:
    """Delete the claims of dynamically provisioned volumes in all namespaces; wait for the volumes to go.

    A claim is dynamic when its PersistentVolume carries ``pv.kubernetes.io/provisioned-by``, when its
    storage class is in ``storage_classes``, or when it is not bound yet and a provisioner was asked for
    a volume. Statically provisioned claims are left alone. The volumes of deleted claims with reclaim
    policy ``Delete`` are waited for until they are gone or ``timeout_s`` has passed (then they are in
    ``remaining``, with their phase); the others (``Retain``) are reported in ``retained`` and not waited on.
    """
    core = _core(api_client)
    result = VolumeCleanup()
    volumes = {pv.metadata.name: pv for pv in _list_all("listing PersistentVolumes", core.list_persistent_volume)}
    claims = _list_all("listing PersistentVolumeClaims", core.list_persistent_volume_claim_for_all_namespaces)

    to_delete: list[Any] = []
    for pvc in claims:
        volume_name = pvc.spec.volume_name if pvc.spec is not None else None
        if _is_dynamic(pvc, volumes.get(volume_name) if volume_name else None, storage_classes):
            to_delete.append(pvc)
    if progress is not None and to_delete:
        progress(f"deleting {len(to_delete)} PersistentVolumeClaim(s) of dynamically provisioned volumes")

    wait_for: dict[str, str] = {}  # PV name -> label
    for pvc in to_delete:
        ref = _ref(pvc)
        if pvc.metadata.deletion_timestamp is None:
            deleted = _kube_delete(
                f"deleting PersistentVolumeClaim {ref}",
                core.delete_namespaced_persistent_volume_claim,
                pvc.metadata.name,
                pvc.metadata.namespace,
            )
            if deleted:
                result.deleted_claims.append(ref)
        pv = volumes.get(pvc.spec.volume_name) if pvc.spec is not None and pvc.spec.volume_name else None
        if pv is None:
            continue
        policy = pv.spec.persistent_volume_reclaim_policy if pv.spec is not None else None
        if policy == "Delete":
            wait_for[pv.metadata.name] = _volume_label(pv, ref)
        else:
            result.retained.append(_volume_label(pv, ref))

    left: dict[str, Any] = {}

    def probe() -> tuple[bool, str]:
        existing = {pv.metadata.name: pv for pv in _list_all("listing PersistentVolumes", core.list_persistent_volume)}
        left.clear()
        left.update({name: existing[name] for name in wait_for if name in existing})
        if not left:
            return True, "every dynamically provisioned volume is deleted"
        return False, f"waiting for {len(left)} volume(s) to be deleted: {', '.join(left)}"

    if wait_for:
        started = clock()
        poll_until(
            probe,
            timeout_s=timeout_s,
            interval_s=interval_s,
            progress=progress,
            clock=clock,
            sleep=sleep,
            cancelled=cancelled,
        )
        result.waited_s = clock() - started
    result.deleted_volumes = [wait_for[name] for name in wait_for if name not in left]
    result.remaining = [_remaining_volume(wait_for[name], pv) for name, pv in left.items()]
    return result


def _remaining_volume(label: str, pv: Any) -> str:
    status = pv.status
    phase = (status.phase if status is not None else None) or "unknown"
    message = f": {status.message}" if status is not None and status.message else ""
    note = ""
    if phase == "Bound":
        note = " (its claim is still terminating: a pod still uses it?)"
    return f"{label}, phase {phase}{message}{note}"


# --- releases -----------------------------------------------------------------------------------------------


def uninstall_releases(
    helm: HelmClient,
    releases: Sequence[tuple[str, str]],
    *,
    timeout_s: float,
    progress: Progress | None = None,
) -> ReleaseCleanup:
    """Uninstall ``releases`` (``(name, namespace)`` pairs) in the order given: pass reverse install order.

    A release that is already gone is fine. A failure is recorded and the next release is still
    uninstalled (the cluster is about to be destroyed: the rest is best removed anyway).
    """
    result = ReleaseCleanup()
    for name, namespace in releases:
        ref = f"{namespace}/{name}"
        if progress is not None:
            progress(f"uninstalling Helm release {ref}")
        try:
            removed = helm.uninstall(name, namespace=namespace, timeout_s=max(1, int(timeout_s)))
        except HelmError as exc:
            if _not_found(exc):
                result.already_gone.append(ref)
                continue
            result.failed.append(f"{ref}: {_first_line(str(exc))}")
            continue
        (result.uninstalled if removed else result.already_gone).append(ref)
    return result


def _not_found(exc: HelmError) -> bool:
    text = f"{exc.message} {exc.detail}".lower()
    return "release: not found" in text or ("not found" in text and "release" in text)


# --- namespaces ---------------------------------------------------------------------------------------------

# Messages of the namespace controller (k8s.io/kubernetes/pkg/controller/namespace/deletion):
#   "Some resources are remaining: persistentvolumeclaims. has 1 resource instances, ..."
#   "Some content in the namespace has finalizers remaining: kubernetes.io/pvc-protection in 1 resource instances"
_RESOURCE_COUNT = re.compile(r"([a-z0-9-]+)\.([a-z0-9.-]*) has (\d+) resource instances")
_FINALIZER_COUNT = re.compile(r"([^\s,:]+) in (\d+) resource instances")


def stuck_namespaces(api_client: Any) -> list[StuckNamespace]:
    """Namespaces in phase Terminating, with their finalizers and what their conditions say remains."""
    core = _core(api_client)
    stuck = []
    for ns in _list_all("listing Namespaces", core.list_namespace):
        status = ns.status
        if status is None or status.phase != "Terminating":
            continue
        resources: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        conditions: list[str] = []
        for cond in status.conditions or []:
            if cond.status != "True":
                continue
            message = cond.message or ""
            conditions.append(f"{cond.type}: {message}" if message else str(cond.type))
            if cond.type == "NamespaceContentRemaining":
                for resource, group, count in _RESOURCE_COUNT.findall(message):
                    resources[f"{resource}.{group}" if group else resource] = int(count)
            elif cond.type == "NamespaceFinalizersRemaining":
                for finalizer, count in _FINALIZER_COUNT.findall(message):
                    finalizers[finalizer] = int(count)
        since = ns.metadata.deletion_timestamp
        stuck.append(
            StuckNamespace(
                name=ns.metadata.name,
                spec_finalizers=tuple(ns.spec.finalizers or []) if ns.spec is not None else (),
                metadata_finalizers=tuple(ns.metadata.finalizers or []),
                remaining_resources=resources,
                remaining_finalizers=finalizers,
                conditions=tuple(conditions),
                deleting_since=since.isoformat() if since is not None else "",
            )
        )
    return stuck


# --- all together -------------------------------------------------------------------------------------------


def prepare_cluster_for_destroy(
    api_client: Any,
    aws: AwsClients,
    helm: HelmClient,
    cluster_name: str,
    releases: Sequence[tuple[str, str]],
    *,
    timeout_s: float,
    progress: Progress | None = None,
    storage_classes: set[str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: threading.Event | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> TeardownReport:
    """Load balancers, then dynamic volumes, then Helm releases, then the stuck-namespace report.

    ``releases`` are ``(name, namespace)`` pairs in **install** order; they are uninstalled in reverse,
    and only when no load balancer or volume was left behind (their controllers may be among them).
    ``timeout_s`` bounds each of the two waits and each release's uninstall. Kubernetes failures raise
    :class:`KubernetesError` (unreachable: the hint says the cluster may already be gone), AWS failures
    :class:`AwsError`; slowness never raises, it shows in the report (``ok`` False).
    """
    report = TeardownReport(cluster=cluster_name)
    say = progress or (lambda _message: None)

    say("deleting Services of type LoadBalancer and Ingresses, waiting for their AWS load balancers")
    lbs = delete_load_balancers(
        api_client,
        aws,
        cluster_name,
        timeout_s=timeout_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
        interval_s=interval_s,
    )
    report.deleted_services = lbs.deleted_services
    report.deleted_ingresses = lbs.deleted_ingresses
    report.load_balancers = lbs.waited_for
    report.remaining_load_balancers = lbs.remaining
    report.terminating_objects = lbs.still_terminating
    if not lbs.ok:
        say(f"{len(lbs.remaining)} load balancer(s) still present after {format_duration(lbs.waited_s)}")

    say("deleting claims of dynamically provisioned volumes")
    volumes = delete_dynamic_claims(
        api_client,
        storage_classes=storage_classes,
        timeout_s=timeout_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
        interval_s=interval_s,
    )
    report.deleted_claims = volumes.deleted_claims
    report.deleted_volumes = volumes.deleted_volumes
    report.retained_volumes = volumes.retained
    report.remaining_volumes = volumes.remaining

    if lbs.ok and volumes.ok:
        ordered = list(reversed(releases))
        if ordered:
            say(f"uninstalling {len(ordered)} Helm release(s) in reverse install order")
        uninstalled = uninstall_releases(helm, ordered, timeout_s=timeout_s, progress=progress)
        report.releases_uninstalled = uninstalled.uninstalled
        report.releases_already_gone = uninstalled.already_gone
        report.releases_failed = uninstalled.failed
    elif releases:
        report.releases_skipped = (
            "load balancers or volumes are still present, and the controllers that delete them may be "
            "among the releases: they stay installed until the next `down`"
        )

    report.stuck_namespaces = stuck_namespaces(api_client)
    return report
