"""KubeClient: the :class:`KubernetesClient` contract over the official ``kubernetes`` client.

The ``ApiClient`` is built elsewhere (kubeconfig, EKS token); this module only reads the cluster.

Waits are watch-based, never fixed sleeps: list the object once (its state and the collection's
``resourceVersion``), then watch from that ``resourceVersion`` and judge every event. Each watch
request carries ``timeoutSeconds`` (at most ``watch_chunk_s``, never past the overall deadline) so the
server ends it in time; when it ends the wait watches again from the last ``resourceVersion`` it saw.
A ``410 Gone`` (the resourceVersion was compacted away, as an HTTP answer or as an ``ERROR`` event in
the stream) makes the wait list again and carry on from the fresh state. ``progress`` hears about
every change of what the wait sees; ``cancelled`` is honoured between events (the wait raises
:class:`KeyboardInterrupt`, as Ctrl-C would).

A wait that fails or times out returns ``CheckResult.not_ready`` whose diagnosis explains what blocks
it (see :mod:`eksctl_ml.adapters.kubernetes.diagnose`). Failures of the API itself raise
:class:`KubernetesApiError` (``KubernetesNotFoundError`` for a 404 where absence is the answer).

The generated models declare every field Optional; they are handled as ``Any`` here and read
defensively. Tests drive this module against an HTTP fake of the API server that serves the client's
own models, which catches the attribute typos that typing would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from eksctl_ml.adapters.kubernetes import diagnose
from eksctl_ml.adapters.kubernetes.protocol import (
    GPU_POOL_LABEL,
    GPU_POOL_VALUE,
    GPU_RESOURCE,
    INSTANCE_TYPE_LABEL,
    ROLLOUT_KINDS,
    KubernetesApiError,
    KubernetesNotFoundError,
    NodeInfo,
    Progress,
)
from eksctl_ml.adapters.kubernetes.proxy import ProxyResponse, proxy_get
from eksctl_ml.engine.phase import CheckResult
from eksctl_ml.errors import KubernetesError
from eksctl_ml.readiness.polling import format_duration
from eksctl_ml.releases.endpoints import ServiceRef

DEFAULT_WATCH_CHUNK_S = 30
"""Longest single watch request. Also bounds how long a ``cancelled`` event can go unnoticed when nothing
changes (Ctrl-C itself raises KeyboardInterrupt in the main thread at once)."""
CONNECT_TIMEOUT_S = 10.0
LIST_READ_TIMEOUT_S = 60.0
READ_GRACE_S = 30.0
"""A watch's read timeout is its ``timeoutSeconds`` plus this: a half-open connection cannot hang a wait."""
MAX_RESTARTS = 5
"""Consecutive watch restarts (410 Gone, dropped connections) without seeing an event before giving up."""


# --- errors -------------------------------------------------------------------------------------

_HINTS = {
    401: (
        "the API server did not accept the credentials: the token may have expired (a new run fetches a "
        "fresh one), or the IAM identity has no EKS access entry for this cluster "
        "(aws eks list-access-entries --cluster-name <cluster>)"
    ),
    403: (
        "the identity is authenticated but not allowed to do this (RBAC): check its EKS access entry and the "
        "access policy associated with it (e.g. AmazonEKSClusterAdminPolicy), or the Kubernetes groups it maps to"
    ),
    429: "the API server is throttling requests (API priority and fairness): retry later",
}


def api_error(exc: BaseException, action: str, *, host: str = "") -> KubernetesApiError:
    """A :class:`KubernetesApiError` for a client exception: status, reason, the API's message, a hint."""
    if isinstance(exc, ApiException) and exc.status:
        status = int(exc.status)
        http_reason = str(exc.reason or "").strip()
        api_reason, message = _status_body(exc.body)
        hint = _HINTS.get(status)
        if hint is None and status >= 500:
            hint = "the API server failed to answer: retry; if it persists check the EKS control plane health"
        error_class = KubernetesNotFoundError if status == 404 else KubernetesApiError
        return error_class(
            f"Kubernetes API: {action} failed: {status} {http_reason}".rstrip(),
            status=status,
            reason=api_reason or http_reason,
            detail=message,
            hint=hint,
        )
    where = f" at {host}" if host else ""
    detail = str(exc.reason) if isinstance(exc, ApiException) else f"{type(exc).__name__}: {exc}"
    return KubernetesApiError(
        f"Kubernetes API: {action} failed: the API server{where} cannot be reached",
        detail=detail,
        hint="check that the cluster endpoint is reachable from here (a private endpoint needs a VPN or a "
        "bastion) and that the kubeconfig points at the right cluster",
    )


def _status_body(body: Any) -> tuple[str, str]:
    """``(reason, message)`` of a ``Status`` error body; the raw body as message when it is not one."""
    if not body:
        return "", ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        data = json.loads(text)
    except ValueError:
        return "", text.strip()[:500]
    if not isinstance(data, dict):
        return "", text.strip()[:500]
    return str(data.get("reason") or ""), str(data.get("message") or "")


# --- the wait engine ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a wait makes of the state it sees: ``done`` ends the wait, ``ok`` says how."""

    done: bool
    ok: bool
    summary: str

    @classmethod
    def waiting(cls, summary: str) -> Verdict:
        return cls(False, False, summary)

    @classmethod
    def ready(cls, summary: str) -> Verdict:
        return cls(True, True, summary)

    @classmethod
    def failed(cls, summary: str) -> Verdict:
        return cls(True, False, summary)


Evaluate = Callable[[dict[str, Any]], Verdict]
"""Judges the watched objects (keyed ``namespace/name``; empty when none exists)."""


@dataclass
class WaitOutcome:
    verdict: Verdict
    elapsed_s: float
    timed_out: bool
    objects: dict[str, Any] = field(default_factory=dict)

    @property
    def only(self) -> Any:
        """The watched object, for waits on one named object (None when it does not exist)."""
        return next(iter(self.objects.values()), None)


class _Reporter:
    def __init__(self, progress: Progress | None, start: float, clock: Callable[[], float]) -> None:
        self._progress = progress
        self._start = start
        self._clock = clock
        self._last: str | None = None

    def __call__(self, summary: str) -> None:
        if self._progress is not None and summary != self._last:
            self._progress(f"{summary} ({format_duration(self._clock() - self._start)})")
        self._last = summary


def _raise_if_cancelled(cancelled: threading.Event | None) -> None:
    if cancelled is not None and cancelled.is_set():
        raise KeyboardInterrupt("wait cancelled")


def _key(obj: Any) -> str:
    meta = obj.metadata
    return f"{meta.namespace or ''}/{meta.name}"


def _one(evaluate: Callable[[Any], Verdict]) -> Evaluate:
    return lambda objects: evaluate(next(iter(objects.values()), None))


# --- the client ---------------------------------------------------------------------------------


class KubeClient:
    """Reads and waits on the cluster behind ``api_client`` (a configured ``kubernetes.client.ApiClient``).

    ``cancelled`` is the default for waits that are not given one; ``watch_chunk_s`` bounds each watch
    request (the server ends it, the wait starts the next); ``clock`` measures deadlines.
    """

    def __init__(
        self,
        api_client: Any,
        *,
        cancelled: threading.Event | None = None,
        watch_chunk_s: int = DEFAULT_WATCH_CHUNK_S,
        log_lines: int = diagnose.DEFAULT_LOG_LINES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if watch_chunk_s < 1:
            raise ValueError("watch_chunk_s must be at least 1")
        self.api_client = api_client
        self.core: Any = client.CoreV1Api(api_client)
        self.apps: Any = client.AppsV1Api(api_client)
        self.batch: Any = client.BatchV1Api(api_client)
        self.extensions: Any = client.ApiextensionsV1Api(api_client)
        self.discovery: Any = client.DiscoveryV1Api(api_client)
        self._version: Any = client.VersionApi(api_client)
        self._cancelled = cancelled
        self._watch_chunk_s = watch_chunk_s
        self._log_lines = log_lines
        self._clock = clock

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        configuration = getattr(self.api_client, "configuration", None)
        return str(getattr(configuration, "host", "") or "")

    def _call(self, action: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ApiException, HTTPError) as exc:
            raise api_error(exc, action, host=self.host) from exc

    def _watch_named(
        self,
        what: str,
        list_fn: Callable[..., Any],
        args: tuple[Any, ...],
        name: str,
        judge: Callable[[Any], Verdict],
        *,
        timeout_s: float,
        progress: Progress | None,
        cancelled: threading.Event | None,
    ) -> WaitOutcome:
        """:meth:`_watch_until` on the one object called ``name`` (a field selector on the list and watch)."""
        return self._watch_until(
            what,
            list_fn,
            args,
            {"field_selector": f"metadata.name={name}"},
            _one(judge),
            timeout_s=timeout_s,
            progress=progress,
            cancelled=cancelled,
        )

    def _watch_until(
        self,
        what: str,
        list_fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        evaluate: Evaluate,
        *,
        timeout_s: float,
        progress: Progress | None,
        cancelled: threading.Event | None,
    ) -> WaitOutcome:
        """List, then watch from the list's resourceVersion until ``evaluate`` says done or time runs out."""
        if timeout_s < 0:
            raise ValueError("timeout_s must be >= 0")
        cancelled = cancelled if cancelled is not None else self._cancelled
        start = self._clock()
        deadline = start + timeout_s
        report = _Reporter(progress, start, self._clock)
        restarts = 0
        while True:  # one iteration per (re-)list
            _raise_if_cancelled(cancelled)
            listing = self._call(
                f"list {what}", list_fn, *args, **kwargs, _request_timeout=(CONNECT_TIMEOUT_S, LIST_READ_TIMEOUT_S)
            )
            objects = {_key(obj): obj for obj in listing.items or []}
            resource_version = listing.metadata.resource_version if listing.metadata else None
            verdict = evaluate(objects)
            if verdict.done:
                return WaitOutcome(verdict, self._clock() - start, False, objects)
            report(verdict.summary)
            relist = False
            while not relist:  # one iteration per watch request
                _raise_if_cancelled(cancelled)
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return WaitOutcome(verdict, self._clock() - start, True, objects)
                chunk = max(1, min(self._watch_chunk_s, math.ceil(remaining)))
                opened = self._clock()
                watcher: Any = watch.Watch()  # type: ignore[no-untyped-call]
                stream = watcher.stream(
                    list_fn,
                    *args,
                    **kwargs,
                    resource_version=resource_version,
                    timeout_seconds=chunk,
                    allow_watch_bookmarks=True,
                    _request_timeout=(CONNECT_TIMEOUT_S, chunk + READ_GRACE_S),
                )
                seen = 0
                try:
                    with contextlib.closing(stream):
                        for event in stream:
                            _raise_if_cancelled(cancelled)
                            kind = event.get("type")
                            if kind == "BOOKMARK":
                                resource_version = watcher.resource_version or resource_version
                                continue
                            obj = event["object"]
                            if kind == "DELETED":
                                objects.pop(_key(obj), None)
                            else:
                                objects[_key(obj)] = obj
                            resource_version = obj.metadata.resource_version or resource_version
                            seen += 1
                            restarts = 0
                            verdict = evaluate(objects)
                            if verdict.done:
                                watcher.stop()
                                return WaitOutcome(verdict, self._clock() - start, False, objects)
                            report(verdict.summary)
                            if self._clock() >= deadline:
                                watcher.stop()
                                break
                except ApiException as exc:
                    if exc.status != 410:
                        raise api_error(exc, f"watch {what}", host=self.host) from exc
                    restarts += 1  # 410 Gone: our resourceVersion was compacted away; list again
                    relist = True
                except HTTPError as exc:
                    restarts += 1  # the connection dropped mid-watch; list again and carry on
                    relist = True
                    if restarts > MAX_RESTARTS:
                        raise api_error(exc, f"watch {what}", host=self.host) from exc
                if restarts > MAX_RESTARTS:
                    raise KubernetesApiError(
                        f"Kubernetes API: watch {what} failed: restarted {restarts} times without progress",
                        detail="every watch ended at once (410 Gone, a dropped connection or an empty stream)",
                        hint="retry; if it persists, check the control plane's health and any proxy in between",
                    )
                if seen == 0 and not relist and self._clock() - opened < chunk / 2:
                    # The server ended the watch long before its timeout without sending anything: list
                    # again rather than spin on watch requests.
                    restarts += 1
                    relist = True

    # -- version -----------------------------------------------------------------------------------

    def server_version(self) -> str:
        info = self._call("get the server version", self._version.get_code)
        return str(info.git_version)

    # -- rollouts ----------------------------------------------------------------------------------

    def wait_for_rollout(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        canonical = {k.lower(): k for k in ROLLOUT_KINDS}.get(kind.lower())
        if canonical is None:
            raise KubernetesError(
                f"cannot wait for the rollout of a {kind}", hint=f"rollouts are tracked for {', '.join(ROLLOUT_KINDS)}"
            )
        label = f"{canonical} {namespace}/{name}"
        list_fn, judge = {
            "Deployment": (self.apps.list_namespaced_deployment, deployment_verdict),
            "DaemonSet": (self.apps.list_namespaced_daemon_set, daemonset_verdict),
            "StatefulSet": (self.apps.list_namespaced_stateful_set, statefulset_verdict),
        }[canonical]
        outcome = self._watch_named(
            label,
            list_fn,
            (namespace,),
            name,
            lambda obj: judge(label, obj),
            timeout_s=timeout_s,
            progress=progress,
            cancelled=cancelled,
        )
        if outcome.verdict.ok:
            return CheckResult.ready(f"{outcome.verdict.summary} ({format_duration(outcome.elapsed_s)})")
        return CheckResult.not_ready(
            _not_ready_summary(outcome, timeout_s), self._rollout_diagnosis(canonical, namespace, name, outcome.only)
        )

    def _rollout_diagnosis(self, kind: str, namespace: str, name: str, obj: Any) -> str:
        if obj is None:
            return f"{kind} {namespace}/{name} does not exist: was it installed, and in this namespace?"
        sections: list[str] = []
        events = diagnose.object_events(self.core, namespace, name, kind, warnings_only=True)
        if kind == "Deployment":
            events += self._replicaset_events(namespace, obj)
        if events:
            sections.append(f"warnings of {kind} {namespace}/{name}:")
            sections.extend(f"  {line}" for line in events)
        selector = obj.spec.selector if obj.spec else None
        sections.append(diagnose.explain_pods(self.core, namespace, selector, log_lines=self._log_lines))
        return "\n".join(sections)

    def _replicaset_events(self, namespace: str, deployment: Any) -> list[str]:
        """Warnings of the Deployment's newest ReplicaSet (FailedCreate: quota, admission webhooks...)."""
        selector = diagnose.label_selector_string(deployment.spec.selector)
        try:
            sets = self.apps.list_namespaced_replica_set(namespace, label_selector=selector or None).items or []
        except (ApiException, HTTPError) as exc:
            return [f"(could not list the ReplicaSets: {diagnose.describe_failure(exc)})"]
        uid = deployment.metadata.uid
        owned = [rs for rs in sets if any(ref.uid == uid for ref in rs.metadata.owner_references or []) or uid is None]
        if not owned:
            return []
        newest = max(owned, key=lambda rs: _revision(rs))
        return diagnose.object_events(self.core, namespace, newest.metadata.name, "ReplicaSet", warnings_only=True)

    # -- PVCs, CRDs, Jobs, Services --------------------------------------------------------------------

    def wait_pvc_bound(
        self,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        label = f"PersistentVolumeClaim {namespace}/{name}"
        outcome = self._watch_named(
            label,
            self.core.list_namespaced_persistent_volume_claim,
            (namespace,),
            name,
            lambda obj: pvc_verdict(label, obj),
            timeout_s=timeout_s,
            progress=progress,
            cancelled=cancelled,
        )
        if outcome.verdict.ok:
            return CheckResult.ready(f"{outcome.verdict.summary} ({format_duration(outcome.elapsed_s)})")
        return CheckResult.not_ready(_not_ready_summary(outcome, timeout_s), self._pvc_diagnosis(outcome.only))

    def _pvc_diagnosis(self, pvc: Any) -> str:
        if pvc is None:
            return "the claim does not exist: was it created, and in this namespace?"
        spec = pvc.spec
        storage_class = (spec.storage_class_name if spec else None) or "<none: the default class, if any>"
        modes = ", ".join((spec.access_modes if spec else None) or []) or "none"
        lines = [f"storage class {storage_class}; access modes {modes}"]
        events = diagnose.object_events(self.core, pvc.metadata.namespace, pvc.metadata.name, "PersistentVolumeClaim")
        lines.extend(f"event {line}" for line in events)
        joined = "\n".join(events)
        if "WaitForFirstConsumer" in joined or "waiting for first consumer" in joined:
            lines.append(
                "hint: the storage class binds volumes on first use: the claim binds once a pod that mounts it is "
                "scheduled"
            )
        if "ProvisioningFailed" in joined:
            lines.append(
                "hint: the CSI driver could not create the volume: check the message above, the driver's controller "
                "logs and its IAM role (e.g. the EFS CSI driver needs elasticfilesystem:CreateAccessPoint)"
            )
        elif "ExternalProvisioning" in joined:
            lines.append("hint: the claim waits for an external provisioner: is its CSI driver installed and running?")
        if not events:
            lines.append("no events: is there a storage class (or a default one) and a provisioner for it?")
        return "\n".join(lines)

    def wait_crd_established(
        self,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        label = f"CustomResourceDefinition {name}"
        outcome = self._watch_named(
            label,
            self.extensions.list_custom_resource_definition,
            (),
            name,
            lambda obj: crd_verdict(label, obj),
            timeout_s=timeout_s,
            progress=progress,
            cancelled=cancelled,
        )
        if outcome.verdict.ok:
            return CheckResult.ready(f"{outcome.verdict.summary} ({format_duration(outcome.elapsed_s)})")
        crd = outcome.only
        if crd is None:
            diagnosis = "the CRD does not exist: is the chart (or operator) that installs it deployed?"
        else:
            conditions = (crd.status.conditions if crd.status else None) or []
            diagnosis = "\n".join(
                f"condition {c.type}={c.status}: {c.reason or ''} {c.message or ''}".rstrip() for c in conditions
            )
            diagnosis = diagnosis or "the API server has not reported any condition for it yet"
        return CheckResult.not_ready(_not_ready_summary(outcome, timeout_s), diagnosis)

    def wait_job_complete(
        self,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        label = f"Job {namespace}/{name}"
        outcome = self._watch_named(
            label,
            self.batch.list_namespaced_job,
            (namespace,),
            name,
            lambda obj: job_verdict(label, obj),
            timeout_s=timeout_s,
            progress=progress,
            cancelled=cancelled,
        )
        if outcome.verdict.ok:
            return CheckResult.ready(outcome.verdict.summary)
        job = outcome.only
        if job is None:
            return CheckResult.not_ready(_not_ready_summary(outcome, timeout_s), "the Job does not exist")
        sections: list[str] = []
        events = diagnose.object_events(self.core, namespace, name, "Job", warnings_only=True)
        if events:
            sections.append(f"warnings of Job {namespace}/{name}:")
            sections.extend(f"  {line}" for line in events)
        selector = (job.spec.selector if job.spec else None) or {"job-name": name}
        sections.append(diagnose.explain_pods(self.core, namespace, selector, log_lines=self._log_lines))
        return CheckResult.not_ready(_not_ready_summary(outcome, timeout_s), "\n".join(sections))

    def wait_service_endpoints(
        self,
        namespace: str,
        name: str,
        *,
        timeout_s: float,
        progress: Progress | None = None,
        cancelled: threading.Event | None = None,
    ) -> CheckResult:
        label = f"Service {namespace}/{name}"
        try:
            outcome = self._watch_until(
                f"EndpointSlices of {label}",
                self.discovery.list_namespaced_endpoint_slice,
                (namespace,),
                {"label_selector": f"kubernetes.io/service-name={name}"},
                lambda slices: endpoint_slices_verdict(label, slices),
                timeout_s=timeout_s,
                progress=progress,
                cancelled=cancelled,
            )
        except KubernetesNotFoundError:  # no discovery.k8s.io/v1 (very old clusters): the core Endpoints
            outcome = self._watch_named(
                f"Endpoints of {label}",
                self.core.list_namespaced_endpoints,
                (namespace,),
                name,
                lambda obj: endpoints_verdict(label, obj),
                timeout_s=timeout_s,
                progress=progress,
                cancelled=cancelled,
            )
        if outcome.verdict.ok:
            return CheckResult.ready(f"{outcome.verdict.summary} ({format_duration(outcome.elapsed_s)})")
        return CheckResult.not_ready(_not_ready_summary(outcome, timeout_s), self._service_diagnosis(namespace, name))

    def _service_diagnosis(self, namespace: str, name: str) -> str:
        try:
            service = self.core.read_namespaced_service(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return f"Service {namespace}/{name} does not exist: is the chart that provides it installed?"
            return f"could not read Service {namespace}/{name}: {diagnose.describe_failure(exc)}"
        except HTTPError as exc:
            return f"could not read Service {namespace}/{name}: {diagnose.describe_failure(exc)}"
        selector = service.spec.selector if service.spec else None
        if not selector:
            return f"Service {namespace}/{name} has no selector: its endpoints are managed by something else"
        return diagnose.explain_pods(self.core, namespace, selector, log_lines=self._log_lines)

    # -- nodes -------------------------------------------------------------------------------------

    def nodes_summary(self) -> list[NodeInfo]:
        nodes = self._call("list nodes", self.core.list_node).items or []
        return sorted((_node_info(node) for node in nodes), key=lambda info: info.name)

    def gpu_allocatable_check(self, expected_per_type: Callable[[str], int | None]) -> CheckResult:
        nodes = self.nodes_summary()
        if not nodes:
            return CheckResult.not_ready(
                "no node has joined the cluster",
                "the node groups' instances have not registered: check the node role's EKS access entry "
                "(type EC2_LINUX) and the instances' bootstrap logs",
            )
        problems: list[str] = []
        gpu_nodes = [node for node in nodes if node.is_gpu_pool]
        for node in nodes:
            if not node.ready:
                reason = f" ({node.not_ready_reason})" if node.not_ready_reason else ""
                problems.append(f"{node.name}: NotReady{reason}")
        total_gpus = 0
        for node in gpu_nodes:
            total_gpus += node.gpus_allocatable
            if not node.ready:
                continue
            if not node.instance_type:
                problems.append(f"{node.name}: no {INSTANCE_TYPE_LABEL} label, cannot tell how many GPUs it has")
                continue
            expected = expected_per_type(node.instance_type)
            if expected is None:
                if node.gpus_allocatable == 0:
                    problems.append(
                        f"{node.name}: {node.instance_type} allocatable {GPU_RESOURCE} 0, expected at least 1 "
                        "(is the device plugin running on it?)"
                    )
                continue
            if node.gpus_allocatable != expected:
                why = (
                    "is the device plugin running on it?"
                    if node.gpus_allocatable == 0
                    else "unhealthy GPUs, or a device plugin sharing/MIG configuration?"
                )
                problems.append(
                    f"{node.name}: {node.instance_type} allocatable {GPU_RESOURCE} {node.gpus_allocatable}, "
                    f"expected {expected} ({why})"
                )
        ready = sum(node.ready for node in nodes)
        summary = (
            f"{ready}/{len(nodes)} nodes Ready; {len(gpu_nodes)} GPU node(s) "
            f"({GPU_POOL_LABEL}={GPU_POOL_VALUE}) expose {total_gpus} {GPU_RESOURCE}"
        )
        if problems:
            return CheckResult.not_ready(summary, "\n".join(problems))
        return CheckResult.ready(summary)

    # -- logs ----------------------------------------------------------------------------------------

    def pod_logs(
        self, namespace: str, pod: str, tail_lines: int, *, container: str | None = None, previous: bool = False
    ) -> str:
        text = self._call(
            f"read the logs of pod {namespace}/{pod}",
            self.core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            previous=previous or None,
            tail_lines=tail_lines,
        )
        return str(text or "")

    def job_logs(self, namespace: str, job: str, *, tail_lines: int) -> str:
        try:
            spec = self.batch.read_namespaced_job(job, namespace).spec
            selector = diagnose.label_selector_string(spec.selector if spec else None) or f"job-name={job}"
        except ApiException as exc:
            if exc.status != 404:
                raise api_error(exc, f"read Job {namespace}/{job}", host=self.host) from exc
            selector = f"job-name={job}"  # the Job is gone; its pods may not be (every Job pod has this label)
        except HTTPError as exc:
            raise api_error(exc, f"read Job {namespace}/{job}", host=self.host) from exc
        pods = self._call(
            f"list the pods of Job {namespace}/{job}", self.core.list_namespaced_pod, namespace, label_selector=selector
        ).items
        pods = sorted(pods or [], key=lambda pod: (_created(pod), pod.metadata.name))
        chunks: list[str] = []
        for pod in pods:
            try:
                text = self.core.read_namespaced_pod_log(pod.metadata.name, namespace, tail_lines=tail_lines)
            except ApiException as exc:
                if exc.status in (400, 404):  # not started yet ("container is waiting to start"), or gone
                    continue
                raise api_error(exc, f"read the logs of pod {namespace}/{pod.metadata.name}", host=self.host) from exc
            except HTTPError as exc:
                raise api_error(exc, f"read the logs of pod {namespace}/{pod.metadata.name}", host=self.host) from exc
            if text:
                chunks.append(str(text) if str(text).endswith("\n") else f"{text}\n")
        return "".join(chunks)

    # -- Secrets and the service proxy ------------------------------------------------------------------

    def apply_secret(
        self, namespace: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> None:
        # The values never appear in an error: only the object's name and the API's answer do.
        encoded: dict[str, bytes | str] = {
            key: base64.b64encode(value.encode("utf-8")).decode("ascii") for key, value in data.items()
        }
        body = client.V1Secret(
            api_version="v1",
            kind="Secret",
            type="Opaque",
            metadata=client.V1ObjectMeta(name=name, namespace=namespace, labels=dict(labels or {}) or None),
            data=encoded,
        )
        self._ensure_namespace(namespace)
        try:
            self.core.create_namespaced_secret(namespace, body)
            return
        except ApiException as exc:
            if exc.status != 409:
                raise api_error(exc, f"create Secret {namespace}/{name}", host=self.host) from exc
        except HTTPError as exc:
            raise api_error(exc, f"create Secret {namespace}/{name}", host=self.host) from exc
        # it exists: replace it whole (a PUT without resourceVersion is an unconditional update)
        self._call(f"replace Secret {namespace}/{name}", self.core.replace_namespaced_secret, name, namespace, body)

    def _ensure_namespace(self, namespace: str) -> None:
        body = client.V1Namespace(api_version="v1", kind="Namespace", metadata=client.V1ObjectMeta(name=namespace))
        try:
            self.core.create_namespace(body)
        except ApiException as exc:
            if exc.status != 409:  # 409 AlreadyExists: nothing to do
                raise api_error(exc, f"create Namespace {namespace}", host=self.host) from exc
        except HTTPError as exc:
            raise api_error(exc, f"create Namespace {namespace}", host=self.host) from exc

    def delete_secret(self, namespace: str, name: str) -> bool:
        try:
            self.core.delete_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise api_error(exc, f"delete Secret {namespace}/{name}", host=self.host) from exc
        except HTTPError as exc:
            raise api_error(exc, f"delete Secret {namespace}/{name}", host=self.host) from exc
        return True

    def service_get(
        self, ref: ServiceRef, path: str, params: Mapping[str, str] | None = None, *, timeout_s: float = 15.0
    ) -> ProxyResponse:
        return proxy_get(self.api_client, ref.namespace, ref.name, ref.port, path, params=params, timeout_s=timeout_s)


# --- verdicts: pure functions of the objects the API returns -------------------------------------------


def _generation_pending(obj: Any) -> int | None:
    """The generation the controller has not observed yet (None when it has)."""
    generation = obj.metadata.generation or 0
    observed = (obj.status.observed_generation if obj.status else None) or 0
    return generation if observed < generation else None


def deployment_verdict(label: str, deployment: Any) -> Verdict:
    if deployment is None:
        return Verdict.waiting(f"{label} does not exist yet")
    pending = _generation_pending(deployment)
    if pending is not None:
        return Verdict.waiting(f"{label}: waiting for the controller to observe generation {pending}")
    status = deployment.status
    for condition in (status.conditions if status else None) or []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            return Verdict.failed(f"{label} exceeded its progress deadline: {condition.message or ''}".rstrip(": "))
    wanted = deployment.spec.replicas if deployment.spec and deployment.spec.replicas is not None else 1
    updated = (status.updated_replicas if status else None) or 0
    total = (status.replicas if status else None) or 0
    available = (status.available_replicas if status else None) or 0
    if updated < wanted:
        return Verdict.waiting(f"{label}: {updated} of {wanted} replicas updated, {available} available")
    if total > updated:
        return Verdict.waiting(f"{label}: {total - updated} old replica(s) pending termination")
    if available < updated or available < wanted:
        return Verdict.waiting(f"{label}: {available} of {wanted} updated replicas available")
    return Verdict.ready(f"{label} rolled out: {available}/{wanted} replicas available")


def daemonset_verdict(label: str, daemonset: Any) -> Verdict:
    if daemonset is None:
        return Verdict.waiting(f"{label} does not exist yet")
    pending = _generation_pending(daemonset)
    if pending is not None:
        return Verdict.waiting(f"{label}: waiting for the controller to observe generation {pending}")
    status = daemonset.status
    desired = (status.desired_number_scheduled if status else None) or 0
    updated = (status.updated_number_scheduled if status else None) or 0
    available = (status.number_available if status else None) or 0
    if updated < desired:
        return Verdict.waiting(f"{label}: {updated} of {desired} pods updated, {available} available")
    if available < desired:
        return Verdict.waiting(f"{label}: {available} of {desired} updated pods available")
    if desired == 0:
        return Verdict.ready(f"{label} rolled out: no node matches it (0 pods scheduled)")
    return Verdict.ready(f"{label} rolled out: {available}/{desired} pods available")


def statefulset_verdict(label: str, statefulset: Any) -> Verdict:
    if statefulset is None:
        return Verdict.waiting(f"{label} does not exist yet")
    pending = _generation_pending(statefulset)
    if pending is not None:
        return Verdict.waiting(f"{label}: waiting for the controller to observe generation {pending}")
    spec = statefulset.spec
    status = statefulset.status
    wanted = spec.replicas if spec and spec.replicas is not None else 1
    ready = (status.ready_replicas if status else None) or 0
    updated = (status.updated_replicas if status else None) or 0
    if ready < wanted:
        return Verdict.waiting(f"{label}: {ready} of {wanted} pods ready")
    strategy = spec.update_strategy if spec else None
    if strategy is not None and strategy.type == "OnDelete":
        return Verdict.ready(f"{label} ready: {ready}/{wanted} pods (OnDelete: pods update when deleted)")
    partition = 0
    if strategy is not None and strategy.rolling_update is not None:
        partition = strategy.rolling_update.partition or 0
    if updated < wanted - partition:
        return Verdict.waiting(f"{label}: {updated} of {wanted - partition} pods updated")
    if partition:
        return Verdict.ready(f"{label} rolled out up to partition {partition}: {ready}/{wanted} pods ready")
    current = status.current_revision if status else None
    update = status.update_revision if status else None
    if update and current != update:
        return Verdict.waiting(f"{label}: rolling update to revision {update} in progress ({updated}/{wanted} updated)")
    return Verdict.ready(f"{label} rolled out: {ready}/{wanted} pods ready")


def pvc_verdict(label: str, pvc: Any) -> Verdict:
    if pvc is None:
        return Verdict.waiting(f"{label} does not exist yet")
    phase = (pvc.status.phase if pvc.status else None) or "Pending"
    if phase == "Bound":
        volume = pvc.spec.volume_name if pvc.spec else None
        return Verdict.ready(f"{label} is Bound" + (f" to {volume}" if volume else ""))
    if phase == "Lost":
        return Verdict.failed(f"{label} is Lost: its PersistentVolume no longer exists")
    return Verdict.waiting(f"{label} is {phase}")


def _condition(obj: Any, kind: str) -> Any:
    for condition in (obj.status.conditions if obj.status else None) or []:
        if condition.type == kind:
            return condition
    return None


def crd_verdict(label: str, crd: Any) -> Verdict:
    if crd is None:
        return Verdict.waiting(f"{label} does not exist yet")
    established = _condition(crd, "Established")
    if established is not None and established.status == "True":
        return Verdict.ready(f"{label} is Established")
    names = _condition(crd, "NamesAccepted")
    if names is not None and names.status == "False":
        return Verdict.failed(f"{label}: its names were not accepted: {names.message or names.reason or ''}")
    return Verdict.waiting(f"{label} is not Established yet")


def job_verdict(label: str, job: Any) -> Verdict:
    if job is None:
        return Verdict.waiting(f"{label} does not exist yet")
    status = job.status
    complete = _condition(job, "Complete")
    if complete is not None and complete.status == "True":
        started = status.start_time if status else None
        finished = (status.completion_time if status else None) or complete.last_transition_time
        took = ""
        if isinstance(started, datetime) and isinstance(finished, datetime):
            took = f" in {format_duration((finished - started).total_seconds())}"
        return Verdict.ready(f"{label} complete{took}")
    for kind in ("Failed", "FailureTarget"):
        failed = _condition(job, kind)
        if failed is not None and failed.status == "True":
            detail = ": ".join(part for part in (failed.reason, failed.message) if part)
            return Verdict.failed(f"{label} failed" + (f": {detail}" if detail else ""))
    suspended = _condition(job, "Suspended")
    if suspended is not None and suspended.status == "True":
        return Verdict.waiting(f"{label} is suspended")
    active = (status.active if status else None) or 0
    succeeded = (status.succeeded if status else None) or 0
    failures = (status.failed if status else None) or 0
    return Verdict.waiting(f"{label}: {active} active, {succeeded} succeeded, {failures} failed pod(s)")


def endpoint_slices_verdict(label: str, slices: dict[str, Any]) -> Verdict:
    ready = not_ready = 0
    for endpoint_slice in slices.values():
        for endpoint in endpoint_slice.endpoints or []:
            addresses = len(endpoint.addresses or []) or 1
            conditions = endpoint.conditions
            if conditions is None or conditions.ready is None or conditions.ready:  # nil means ready
                ready += addresses
            else:
                not_ready += addresses
    if ready:
        return Verdict.ready(f"{label} has {ready} ready endpoint(s)")
    if not_ready:
        return Verdict.waiting(f"{label}: {not_ready} endpoint(s), none ready")
    return Verdict.waiting(f"{label} has no endpoints")


def endpoints_verdict(label: str, endpoints: Any) -> Verdict:
    if endpoints is None:
        return Verdict.waiting(f"{label} has no endpoints")
    ready = sum(len(subset.addresses or []) for subset in endpoints.subsets or [])
    not_ready = sum(len(subset.not_ready_addresses or []) for subset in endpoints.subsets or [])
    if ready:
        return Verdict.ready(f"{label} has {ready} ready endpoint(s)")
    if not_ready:
        return Verdict.waiting(f"{label}: {not_ready} endpoint(s), none ready")
    return Verdict.waiting(f"{label} has no endpoints")


# --- helpers ------------------------------------------------------------------------------------


def _not_ready_summary(outcome: WaitOutcome, timeout_s: float) -> str:
    if outcome.timed_out:
        return f"not ready after {format_duration(timeout_s)}: {outcome.verdict.summary}"
    return outcome.verdict.summary


def _created(obj: Any) -> float:
    created = obj.metadata.creation_timestamp
    return created.timestamp() if isinstance(created, datetime) else 0.0


def _revision(replicaset: Any) -> tuple[int, float]:
    annotations = replicaset.metadata.annotations or {}
    try:
        revision = int(annotations.get("deployment.kubernetes.io/revision", "0"))
    except ValueError:
        revision = 0
    created = replicaset.metadata.creation_timestamp
    return revision, created.timestamp() if isinstance(created, datetime) else 0.0


def _node_info(node: Any) -> NodeInfo:
    labels = dict(node.metadata.labels or {})
    status = node.status
    ready = False
    reason = "no Ready condition reported"
    for condition in (status.conditions if status else None) or []:
        if condition.type == "Ready":
            ready = condition.status == "True"
            reason = ": ".join(part for part in (condition.reason, condition.message) if part)
            if condition.status == "Unknown":
                reason = f"status Unknown, {reason}" if reason else "status Unknown"
    taints = tuple(_format_taint(taint) for taint in (node.spec.taints if node.spec else None) or [])
    allocatable = (status.allocatable if status else None) or {}
    return NodeInfo(
        name=node.metadata.name,
        ready=ready,
        instance_type=labels.get(INSTANCE_TYPE_LABEL) or labels.get("beta.kubernetes.io/instance-type"),
        labels=labels,
        taints=taints,
        gpus_allocatable=_quantity_int(allocatable.get(GPU_RESOURCE)),
        not_ready_reason="" if ready else reason,
    )


def _format_taint(taint: Any) -> str:
    value = f"={taint.value}" if taint.value else ""
    return f"{taint.key}{value}:{taint.effect}"


def _quantity_int(quantity: Any) -> int:
    """An integer resource quantity (``"4"``, ``"0"``; absent: 0)."""
    if quantity in (None, ""):
        return 0
    try:
        return int(Decimal(str(quantity)))
    except (InvalidOperation, ValueError):
        return 0


__all__ = [
    "KubeClient",
    "Verdict",
    "WaitOutcome",
    "api_error",
    "crd_verdict",
    "daemonset_verdict",
    "deployment_verdict",
    "endpoint_slices_verdict",
    "endpoints_verdict",
    "job_verdict",
    "pvc_verdict",
    "statefulset_verdict",
]
