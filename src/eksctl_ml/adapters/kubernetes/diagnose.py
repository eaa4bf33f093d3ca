"""Explain why pods (and the objects that own them) are not ready, in words a user can act on.

Readiness waits call these when they fail or time out. Everything here reads the cluster through the
official client's ``CoreV1Api`` and never raises for an API failure: a diagnosis that cannot be
gathered says so in its text, so the original verdict (the reason the wait failed) is never lost.

What is reported for a pod that is not ready: its phase and node, each container's state (waiting
reason and message, terminated exit code and reason, restart count, the previous termination), the
pod's recent events (``FailedScheduling``, ``Failed``, ``BackOff``, ``Unhealthy``...), the last log
lines of a crashing or failed container, and a hint for the common causes (missing GPU capacity, an
untolerated taint, an image that cannot be pulled, an out-of-memory kill).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

DEFAULT_LOG_LINES = 20
MAX_PODS = 5
MAX_EVENTS = 5
MAX_LINE = 400

IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})

_TAINT_RE = re.compile(r"untolerated taints?(?:\(s\))?\s*(\{[^}]*\})")


def label_selector_string(selector: Any) -> str:
    """``app=x,tier in (a,b)`` from a ``V1LabelSelector`` (or a plain mapping of labels, or a string)."""
    if selector is None:
        return ""
    if isinstance(selector, str):
        return selector
    if isinstance(selector, Mapping):
        return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
    parts = [f"{key}={value}" for key, value in sorted((selector.match_labels or {}).items())]
    for expr in selector.match_expressions or []:
        values = ",".join(expr.values or [])
        if expr.operator == "In":
            parts.append(f"{expr.key} in ({values})")
        elif expr.operator == "NotIn":
            parts.append(f"{expr.key} notin ({values})")
        elif expr.operator == "Exists":
            parts.append(expr.key)
        elif expr.operator == "DoesNotExist":
            parts.append(f"!{expr.key}")
    return ",".join(parts)


def describe_failure(exc: BaseException) -> str:
    """One line for an API failure met while gathering a diagnosis."""
    if isinstance(exc, ApiException):
        return f"{exc.status} {exc.reason or ''}".strip()
    return f"{type(exc).__name__}: {exc}"


def explain_pods(
    core_api: Any,
    namespace: str,
    selector: str | Mapping[str, str] | Any,
    *,
    log_lines: int = DEFAULT_LOG_LINES,
    max_pods: int = MAX_PODS,
) -> str:
    """What is wrong with the pods that match ``selector`` and are not ready (multi-line text).

    Pods that succeeded (finished Job pods) and ready pods are not explained. The newest pods come
    first: during a rollout they are the ones that matter.
    """
    label_selector = label_selector_string(selector)
    try:
        pods = core_api.list_namespaced_pod(namespace, label_selector=label_selector or None).items or []
    except (ApiException, HTTPError) as exc:
        return f"could not list the pods ({label_selector or 'all'}) in {namespace}: {describe_failure(exc)}"
    where = f"{label_selector} in namespace {namespace}" if label_selector else f"namespace {namespace}"
    if not pods:
        return f"no pods match {where} (were they ever created? see the events above)"
    troubled = [pod for pod in pods if not _pod_ready(pod) and (pod.status and pod.status.phase) != "Succeeded"]
    if not troubled:
        return f"all {len(pods)} pod(s) matching {where} are ready"
    troubled.sort(key=lambda pod: _timestamp(pod.metadata.creation_timestamp), reverse=True)
    sections = [f"{len(troubled)} of {len(pods)} pod(s) matching {where} are not ready:"]
    for pod in troubled[:max_pods]:
        sections.append("\n".join(_explain_pod(core_api, namespace, pod, log_lines)))
    if len(troubled) > max_pods:
        sections.append(f"... and {len(troubled) - max_pods} more pod(s) not ready")
    return "\n".join(sections)


def object_events(
    core_api: Any,
    namespace: str,
    name: str,
    kind: str | None = None,
    *,
    limit: int = MAX_EVENTS,
    warnings_only: bool = False,
) -> list[str]:
    """The most recent events of one object, newest last, one line each (``Warning Reason: message``)."""
    selector = f"involvedObject.name={name}"
    if kind:
        selector += f",involvedObject.kind={kind}"
    try:
        events = core_api.list_namespaced_event(namespace, field_selector=selector).items or []
    except (ApiException, HTTPError) as exc:
        return [f"(could not list the events of {kind or 'object'} {name}: {describe_failure(exc)})"]
    if warnings_only:
        events = [event for event in events if event.type == "Warning"]
    events.sort(key=_event_time)
    return [_format_event(event) for event in events[-limit:]]


def hints_for(texts: Iterable[str]) -> list[str]:
    """Advice for the failure patterns recognisable in container states and event messages."""
    joined = "\n".join(texts)
    hints: list[str] = []
    if "Insufficient nvidia.com/gpu" in joined:
        hints.append(
            "no schedulable node has a free nvidia.com/gpu: is the GPU node group scaled up, and is the NVIDIA "
            "device plugin running on its nodes (their allocatable nvidia.com/gpu must not be 0)?"
        )
    match = _TAINT_RE.search(joined)
    if match:
        hints.append(
            f"the pod does not tolerate the node taint {match.group(1)}: add a matching toleration "
            "(or target another node pool)"
        )
    elif "untolerated taint" in joined:
        hints.append("the pod does not tolerate the taints of the available nodes: add a matching toleration")
    if re.search(r"Insufficient (cpu|memory)", joined):
        hints.append("the nodes lack free CPU/memory for the pod's requests: scale the node group or lower requests")
    if any(reason in joined for reason in IMAGE_PULL_REASONS):
        hints.append(
            "the image cannot be pulled: check its name and tag, and that the nodes may pull from the registry "
            "(ECR: the node role's AmazonEC2ContainerRegistryReadOnly; private registries: imagePullSecrets)"
        )
    if "OOMKilled" in joined:
        hints.append("a container was killed for exceeding its memory limit: raise resources.limits.memory")
    if "didn't match Pod's node affinity/selector" in joined:
        hints.append("no node carries the labels the pod's nodeSelector/affinity asks for")
    if "unbound immediate PersistentVolumeClaims" in joined:
        hints.append("the pod waits for a PersistentVolumeClaim to bind: see the claim's events")
    return hints


# --- one pod ------------------------------------------------------------------------------------


def _explain_pod(core_api: Any, namespace: str, pod: Any, log_lines: int) -> list[str]:
    status = pod.status
    spec = pod.spec
    phase = (status.phase if status else None) or "Unknown"
    node = f" on node {spec.node_name}" if spec and spec.node_name else ""
    lines = [f"pod {pod.metadata.name}: {phase}{node}, not ready"]
    facts: list[str] = []
    for condition in (status.conditions if status else None) or []:
        if condition.type == "PodScheduled" and condition.status == "False":
            unscheduled = f"  not scheduled: {condition.reason or ''}: {condition.message or ''}".rstrip(": ")
            lines.append(_clip(unscheduled))
            facts.append(unscheduled)
    limits = _memory_limits(spec)
    logs_wanted: list[tuple[str, bool]] = []
    for label, statuses in (
        ("init container", (status.init_container_statuses if status else None) or []),
        ("container", (status.container_statuses if status else None) or []),
    ):
        for cs in statuses:
            explained, wants_logs = _explain_container(label, cs, limits.get(cs.name))
            if explained is None:
                continue
            lines.append(explained)
            facts.append(explained)
            if wants_logs is not None:
                logs_wanted.append((cs.name, wants_logs))
    events = object_events(core_api, namespace, pod.metadata.name, "Pod")
    lines.extend(f"  event {event}" for event in events)
    facts.extend(events)
    for container, previous in logs_wanted:
        lines.extend(_log_section(core_api, namespace, pod.metadata.name, container, previous, log_lines))
    lines.extend(f"  hint: {hint}" for hint in hints_for(facts))
    return lines


def _explain_container(label: str, cs: Any, memory_limit: str | None) -> tuple[str | None, bool | None]:
    """A line for a container that is not ready, and which logs to fetch (None: none, True: previous)."""
    state = cs.state
    restarts = cs.restart_count or 0
    if state is not None and state.running is not None and cs.ready:
        return None, None
    if state is not None and state.terminated is not None and state.terminated.exit_code == 0:
        return None, None  # a finished init container, or a completed Job container
    wants_logs: bool | None = None
    if state is not None and state.waiting is not None:
        waiting = state.waiting
        text = f"waiting: {waiting.reason or 'unknown reason'}"
        if waiting.message:
            text += f": {waiting.message}"
        if waiting.reason in IMAGE_PULL_REASONS:
            text += f" (image {cs.image})"
        if waiting.reason == "CrashLoopBackOff":
            wants_logs = True
    elif state is not None and state.terminated is not None:
        term = state.terminated
        text = f"terminated: {term.reason or 'Error'} (exit code {term.exit_code})"
        if term.message:
            text += f": {term.message}"
        wants_logs = False
    elif state is not None and state.running is not None:
        text = "running but not ready (its readiness probe fails: see the Unhealthy events)"
    else:
        text = "not started"
    last = cs.last_state.terminated if cs.last_state is not None else None
    if last is not None:
        text += f"; last terminated: {last.reason or 'Error'} (exit code {last.exit_code})"
        if wants_logs is None and last.exit_code not in (0, None):
            wants_logs = True
    if "OOMKilled" in text and memory_limit:
        text += f"; memory limit {memory_limit}"
    if restarts:
        text += f"; {restarts} restart(s)"
    return _clip(f"  {label} {cs.name}: {text}"), wants_logs


def _log_section(core_api: Any, namespace: str, pod: str, container: str, previous: bool, tail: int) -> list[str]:
    which = "previous run" if previous else "current run"
    try:
        text = core_api.read_namespaced_pod_log(
            pod, namespace, container=container, previous=previous or None, tail_lines=tail
        )
    except (ApiException, HTTPError) as exc:
        if previous:  # the previous container's logs may be gone already: fall back to the current ones
            return _log_section(core_api, namespace, pod, container, False, tail)
        return [f"  (no logs of container {container}: {describe_failure(exc)})"]
    lines = [line for line in str(text or "").splitlines() if line.strip()][-tail:]
    if not lines:
        return [f"  container {container} logged nothing ({which})"]
    return [f"  last {len(lines)} log line(s) of container {container} ({which}):"] + [
        _clip(f"    | {line}") for line in lines
    ]


# --- helpers ------------------------------------------------------------------------------------


def _pod_ready(pod: Any) -> bool:
    conditions = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _memory_limits(spec: Any) -> dict[str, str]:
    limits: dict[str, str] = {}
    if spec is None:
        return limits
    for container in list(spec.init_containers or []) + list(spec.containers or []):
        resources = container.resources
        if resources is not None and resources.limits and "memory" in resources.limits:
            limits[container.name] = str(resources.limits["memory"])
    return limits


def _format_event(event: Any) -> str:
    count = event.count or (event.series.count if getattr(event, "series", None) else None) or 1
    repeated = f" (x{count})" if count > 1 else ""
    message = " ".join((event.message or "").split())
    return _clip(f"{event.type or 'Normal'} {event.reason or ''}: {message}{repeated}")


def _event_time(event: Any) -> float:
    series = getattr(event, "series", None)
    candidates = (
        event.last_timestamp,
        series.last_observed_time if series is not None else None,
        event.event_time,
        event.first_timestamp,
        event.metadata.creation_timestamp if event.metadata else None,
    )
    for value in candidates:
        if value is not None:
            return _timestamp(value)
    return 0.0


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."
