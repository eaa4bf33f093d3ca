"""Kubernetes objects for the fake API server, built from the official client's own V1* models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client

NS = "ml"
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def meta(name: str, namespace: str | None = NS, *, labels: dict[str, str] | None = None, **kwargs: Any) -> Any:
    return client.V1ObjectMeta(name=name, namespace=namespace, labels=labels, **kwargs)


def _template(labels: dict[str, str], image: str = "nvcr.io/nvidia/tritonserver:25.01-py3") -> Any:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image=image)]),
    )


def deployment(
    name: str,
    *,
    replicas: int = 3,
    updated: int = 0,
    available: int = 0,
    total: int | None = None,
    generation: int = 2,
    observed: int = 2,
    conditions: list[Any] | None = None,
    labels: dict[str, str] | None = None,
) -> Any:
    labels = labels or {"app": name}
    return client.V1Deployment(
        metadata=meta(name, generation=generation, uid=f"uid-{name}"),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels), template=_template(labels)
        ),
        status=client.V1DeploymentStatus(
            observed_generation=observed,
            replicas=updated if total is None else total,
            updated_replicas=updated,
            available_replicas=available,
            ready_replicas=available,
            unavailable_replicas=max(replicas - available, 0),
            conditions=conditions,
        ),
    )


def replicaset(name: str, owner: str, *, revision: int = 1, labels: dict[str, str] | None = None) -> Any:
    return client.V1ReplicaSet(
        metadata=meta(
            name,
            labels=labels or {"app": owner},
            annotations={"deployment.kubernetes.io/revision": str(revision)},
            owner_references=[
                client.V1OwnerReference(api_version="apps/v1", kind="Deployment", name=owner, uid=f"uid-{owner}")
            ],
        ),
        spec=client.V1ReplicaSetSpec(selector=client.V1LabelSelector(match_labels=labels or {"app": owner})),
    )


def daemonset(
    name: str,
    *,
    desired: int = 3,
    updated: int = 0,
    available: int = 0,
    generation: int = 1,
    observed: int = 1,
    namespace: str = "kube-system",
) -> Any:
    labels = {"app": name}
    return client.V1DaemonSet(
        metadata=meta(name, namespace, generation=generation),
        spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels=labels), template=_template(labels)),
        status=client.V1DaemonSetStatus(
            observed_generation=observed,
            desired_number_scheduled=desired,
            current_number_scheduled=desired,
            updated_number_scheduled=updated,
            number_available=available,
            number_ready=available,
            number_misscheduled=0,
        ),
    )


def statefulset(
    name: str,
    *,
    replicas: int = 3,
    ready: int = 0,
    updated: int = 0,
    current_revision: str = "db-1",
    update_revision: str = "db-1",
    partition: int | None = None,
) -> Any:
    labels = {"app": name}
    strategy = client.V1StatefulSetUpdateStrategy(
        type="RollingUpdate",
        rolling_update=client.V1RollingUpdateStatefulSetStrategy(partition=partition) if partition else None,
    )
    return client.V1StatefulSet(
        metadata=meta(name, generation=1),
        spec=client.V1StatefulSetSpec(
            replicas=replicas,
            service_name=name,
            selector=client.V1LabelSelector(match_labels=labels),
            template=_template(labels),
            update_strategy=strategy,
        ),
        status=client.V1StatefulSetStatus(
            observed_generation=1,
            replicas=replicas,
            ready_replicas=ready,
            available_replicas=ready,
            updated_replicas=updated,
            current_replicas=replicas - updated,
            current_revision=current_revision,
            update_revision=update_revision,
        ),
    )


def container_status(
    name: str = "main",
    *,
    image: str = "nvcr.io/nvidia/tritonserver:25.01-py3",
    ready: bool = False,
    restarts: int = 0,
    waiting: tuple[str, str] | None = None,
    terminated: tuple[str, int] | None = None,
    last_terminated: tuple[str, int] | None = None,
    running: bool = False,
) -> Any:
    state = client.V1ContainerState(
        waiting=client.V1ContainerStateWaiting(reason=waiting[0], message=waiting[1]) if waiting else None,
        terminated=(
            client.V1ContainerStateTerminated(reason=terminated[0], exit_code=terminated[1]) if terminated else None
        ),
        running=client.V1ContainerStateRunning(started_at=T0) if running else None,
    )
    last = (
        client.V1ContainerState(
            terminated=client.V1ContainerStateTerminated(reason=last_terminated[0], exit_code=last_terminated[1])
        )
        if last_terminated
        else None
    )
    return client.V1ContainerStatus(
        name=name,
        image=image,
        image_id="",
        ready=ready,
        restart_count=restarts,
        state=state,
        last_state=last,
    )


def pod(
    name: str,
    *,
    labels: dict[str, str],
    phase: str = "Running",
    ready: bool = False,
    statuses: list[Any] | None = None,
    node: str | None = "ip-10-0-1-2.ec2.internal",
    unschedulable: str | None = None,
    memory_limit: str | None = None,
    created: datetime = T0,
    namespace: str = NS,
    restart_policy: str = "Always",
) -> Any:
    conditions = [client.V1PodCondition(type="Ready", status="True" if ready else "False")]
    if unschedulable:
        conditions.append(
            client.V1PodCondition(type="PodScheduled", status="False", reason="Unschedulable", message=unschedulable)
        )
    resources = client.V1ResourceRequirements(limits={"memory": memory_limit}) if memory_limit else None
    return client.V1Pod(
        metadata=meta(name, namespace, labels=labels, creation_timestamp=created),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="main", image="img", resources=resources)],
            node_name=node,
            restart_policy=restart_policy,
        ),
        status=client.V1PodStatus(phase=phase, conditions=conditions, container_statuses=statuses),
    )


_event_counter = [0]


def event(
    involved_kind: str,
    involved_name: str,
    reason: str,
    message: str,
    *,
    type: str = "Warning",
    count: int = 1,
    at: datetime = T0,
    namespace: str = NS,
) -> Any:
    _event_counter[0] += 1
    return client.CoreV1Event(
        metadata=meta(f"{involved_name}.{_event_counter[0]:08x}", namespace),
        involved_object=client.V1ObjectReference(kind=involved_kind, name=involved_name, namespace=namespace),
        reason=reason,
        message=message,
        type=type,
        count=count,
        first_timestamp=at,
        last_timestamp=at,
        source=client.V1EventSource(component="kubelet"),
    )


def pvc(name: str, *, phase: str = "Pending", volume: str | None = None, storage_class: str = "efs-sc") -> Any:
    return client.V1PersistentVolumeClaim(
        metadata=meta(name),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteMany"],
            storage_class_name=storage_class,
            volume_name=volume,
            resources=client.V1VolumeResourceRequirements(requests={"storage": "100Gi"}),
        ),
        status=client.V1PersistentVolumeClaimStatus(phase=phase),
    )


def crd(name: str, *, established: bool | None = None, names_accepted: bool | None = True) -> Any:
    plural, _, group = name.partition(".")
    conditions = []
    if names_accepted is not None:
        conditions.append(
            client.V1CustomResourceDefinitionCondition(
                type="NamesAccepted",
                status="True" if names_accepted else "False",
                reason="NoConflicts" if names_accepted else "ListKindConflict",
                message="no conflicts found" if names_accepted else '"ServiceMonitorList" is already in use',
            )
        )
    if established is not None:
        conditions.append(
            client.V1CustomResourceDefinitionCondition(
                type="Established",
                status="True" if established else "False",
                reason="InitialNamesAccepted" if established else "Installing",
                message="the initial names have been accepted" if established else "the CRD is being installed",
            )
        )
    return client.V1CustomResourceDefinition(
        metadata=meta(name, None),
        spec=client.V1CustomResourceDefinitionSpec(
            group=group,
            names=client.V1CustomResourceDefinitionNames(plural=plural, kind="ServiceMonitor"),
            scope="Namespaced",
            versions=[client.V1CustomResourceDefinitionVersion(name="v1", served=True, storage=True)],
        ),
        status=client.V1CustomResourceDefinitionStatus(
            conditions=conditions,
            accepted_names=client.V1CustomResourceDefinitionNames(plural=plural, kind="ServiceMonitor"),
            stored_versions=["v1"],
        ),
    )


def job(
    name: str,
    *,
    complete: bool = False,
    failed: tuple[str, str] | None = None,
    active: int = 1,
    succeeded: int = 0,
    failures: int = 0,
    took: timedelta = timedelta(seconds=42),
) -> Any:
    conditions = []
    if complete:
        conditions.append(client.V1JobCondition(type="Complete", status="True", last_transition_time=T0 + took))
    if failed:
        conditions.append(
            client.V1JobCondition(
                type="Failed", status="True", reason=failed[0], message=failed[1], last_transition_time=T0 + took
            )
        )
    labels = {"batch.kubernetes.io/controller-uid": f"uid-{name}", "job-name": name}
    return client.V1Job(
        metadata=meta(name, generation=1),
        spec=client.V1JobSpec(
            backoff_limit=0,
            selector=client.V1LabelSelector(match_labels={"batch.kubernetes.io/controller-uid": f"uid-{name}"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="main", image="img")], restart_policy="Never"
                ),
            ),
        ),
        status=client.V1JobStatus(
            active=active or None,
            succeeded=succeeded or None,
            failed=failures or None,
            start_time=T0,
            completion_time=T0 + took if complete else None,
            conditions=conditions or None,
        ),
    )


def job_pod_labels(name: str) -> dict[str, str]:
    return {"batch.kubernetes.io/controller-uid": f"uid-{name}", "job-name": name}


def service(name: str, *, selector: dict[str, str] | None) -> Any:
    return client.V1Service(
        metadata=meta(name),
        spec=client.V1ServiceSpec(
            selector=selector, ports=[client.V1ServicePort(port=443, target_port=9443, protocol="TCP")]
        ),
    )


def endpoint_slice(service_name: str, *, ready: list[bool | None], suffix: str = "abcde") -> Any:
    return client.V1EndpointSlice(
        metadata=meta(f"{service_name}-{suffix}", labels={"kubernetes.io/service-name": service_name}),
        address_type="IPv4",
        endpoints=[
            client.V1Endpoint(addresses=[f"10.0.1.{i + 10}"], conditions=client.V1EndpointConditions(ready=state))
            for i, state in enumerate(ready)
        ],
        ports=[client.DiscoveryV1EndpointPort(name="https", port=9443, protocol="TCP")],
    )


def node(
    name: str,
    *,
    instance_type: str = "m6i.xlarge",
    gpu_pool: bool = False,
    gpus: int | None = None,
    ready: bool = True,
    not_ready: tuple[str, str] = ("KubeletNotReady", "container runtime network not ready: cni plugin not initialized"),
    taints: list[tuple[str, str | None, str]] | None = None,
) -> Any:
    labels = {"node.kubernetes.io/instance-type": instance_type, "kubernetes.io/os": "linux"}
    labels["mlplat.io/pool"] = "gpu" if gpu_pool else "system"
    allocatable = {"cpu": "3920m", "memory": "15155Mi", "pods": "58"}
    if gpus is not None:
        allocatable["nvidia.com/gpu"] = str(gpus)
    condition = (
        client.V1NodeCondition(type="Ready", status="True", reason="KubeletReady", message="kubelet is posting ready")
        if ready
        else client.V1NodeCondition(type="Ready", status="False", reason=not_ready[0], message=not_ready[1])
    )
    return client.V1Node(
        metadata=meta(name, None, labels=labels),
        spec=client.V1NodeSpec(taints=[client.V1Taint(key=k, value=v, effect=e) for k, v, e in (taints or [])] or None),
        status=client.V1NodeStatus(
            allocatable=allocatable,
            capacity=allocatable,
            conditions=[
                client.V1NodeCondition(type="MemoryPressure", status="False", reason="KubeletHasSufficientMemory"),
                condition,
            ],
        ),
    )
