"""explain_pods: what a user reads when pods are not ready (the real CoreV1Api against the fake server)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client

from eksctl_ml.adapters.kubernetes.diagnose import explain_pods, hints_for, label_selector_string, object_events
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi

APP = {"app": "triton"}


@pytest.fixture
def core(api_client: client.ApiClient) -> Any:
    return client.CoreV1Api(api_client)


def test_image_pull_backoff_names_the_image(api: FakeKubeApi, core: Any) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/triton:missing"
    api.put(
        b.pod(
            "triton-a",
            labels=APP,
            phase="Pending",
            statuses=[b.container_status(image=image, waiting=("ErrImagePull", "rpc error: code = NotFound"))],
        )
    )

    text = explain_pods(core, "ml", APP)

    assert f"container main: waiting: ErrImagePull: rpc error: code = NotFound (image {image})" in text
    assert "AmazonEC2ContainerRegistryReadOnly" in text


def test_pending_pod_without_events_still_says_why_from_its_condition(api: FakeKubeApi, core: Any) -> None:
    message = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    api.put(b.pod("triton-a", labels=APP, phase="Pending", node=None, unschedulable=message))

    text = explain_pods(core, "ml", "app=triton")

    assert "pod triton-a: Pending, not ready" in text
    assert f"not scheduled: Unschedulable: {message}" in text
    assert "no schedulable node has a free nvidia.com/gpu" in text


def test_untolerated_taint_hint_quotes_the_taint(api: FakeKubeApi, core: Any) -> None:
    message = "0/2 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: true}."
    api.put(
        b.pod("triton-a", labels=APP, phase="Pending", node=None),
        b.event("Pod", "triton-a", "FailedScheduling", message),
    )

    text = explain_pods(core, "ml", APP)

    assert "event Warning FailedScheduling: " + message in text
    assert "does not tolerate the node taint {nvidia.com/gpu: true}" in text


def test_oom_killed_container_shows_its_memory_limit(api: FakeKubeApi, core: Any) -> None:
    api.put(
        b.pod(
            "triton-a",
            labels=APP,
            statuses=[b.container_status(running=True, ready=False, last_terminated=("OOMKilled", 137), restarts=2)],
            memory_limit="2Gi",
        )
    )
    api.set_log("ml", "triton-a", "now\n", previous="allocating 4 GiB\n")

    text = explain_pods(core, "ml", APP)

    assert "last terminated: OOMKilled (exit code 137); memory limit 2Gi; 2 restart(s)" in text
    assert "raise resources.limits.memory" in text
    assert "| allocating 4 GiB" in text


def test_crash_loop_falls_back_to_current_logs_when_the_previous_are_gone(api: FakeKubeApi, core: Any) -> None:
    api.put(
        b.pod(
            "triton-a",
            labels=APP,
            statuses=[b.container_status(waiting=("CrashLoopBackOff", "back-off 10s"), restarts=1)],
        )
    )
    api.set_log("ml", "triton-a", "error: missing model repository\n")  # no previous log: the API answers 400

    text = explain_pods(core, "ml", APP, log_lines=5)

    assert "container main (current run):" in text
    assert "| error: missing model repository" in text


def test_events_are_newest_last_and_limited(api: FakeKubeApi, core: Any) -> None:
    api.put(b.pod("triton-a", labels=APP, phase="Pending", node=None))
    for minute in (5, 1, 3, 2, 4, 6, 0):
        api.put(
            b.event("Pod", "triton-a", "FailedScheduling", f"attempt {minute}", at=b.T0 + timedelta(minutes=minute))
        )
    api.put(b.event("Pod", "someone-else", "FailedScheduling", "not ours"))

    lines = object_events(core, "ml", "triton-a", "Pod")

    assert lines == [f"Warning FailedScheduling: attempt {m}" for m in (2, 3, 4, 5, 6)]


def test_ready_and_succeeded_pods_are_not_explained(api: FakeKubeApi, core: Any) -> None:
    api.put(
        b.pod("triton-a", labels=APP, ready=True, statuses=[b.container_status(running=True, ready=True)]),
        b.pod("warmup", labels=APP, phase="Succeeded", statuses=[b.container_status(terminated=("Completed", 0))]),
    )

    assert explain_pods(core, "ml", APP) == "all 2 pod(s) matching app=triton in namespace ml are ready"


def test_no_matching_pods_is_said_plainly(api: FakeKubeApi, core: Any) -> None:
    assert explain_pods(core, "ml", APP).startswith("no pods match app=triton in namespace ml")


def test_only_the_newest_pods_are_explained(api: FakeKubeApi, core: Any) -> None:
    for i in range(7):
        api.put(b.pod(f"triton-{i}", labels=APP, phase="Pending", node=None, created=b.T0 + timedelta(minutes=i)))

    text = explain_pods(core, "ml", APP, max_pods=2)

    assert text.splitlines()[0] == "7 of 7 pod(s) matching app=triton in namespace ml are not ready:"
    assert "pod triton-6:" in text and "pod triton-5:" in text and "pod triton-4:" not in text
    assert text.endswith("... and 5 more pod(s) not ready")


def test_api_failures_become_text_not_exceptions(api: FakeKubeApi, core: Any) -> None:
    api.put(b.pod("triton-a", labels=APP, phase="Pending", node=None))
    api.fail(r"/events$", 403, message='events is forbidden: User "mlplat" cannot list resource "events"')

    text = explain_pods(core, "ml", APP)

    assert "pod triton-a: Pending" in text
    assert "(could not list the events of Pod triton-a: 403 Forbidden)" in text

    api.fail(r"/pods$", 500, message="etcdserver: request timed out")
    assert explain_pods(core, "ml", APP).startswith("could not list the pods (app=triton) in ml: 500")


def test_label_selector_string_covers_expressions() -> None:
    selector = client.V1LabelSelector(
        match_labels={"app": "triton", "tier": "serving"},
        match_expressions=[
            client.V1LabelSelectorRequirement(key="pool", operator="In", values=["gpu", "gpu-spot"]),
            client.V1LabelSelectorRequirement(key="canary", operator="DoesNotExist"),
            client.V1LabelSelectorRequirement(key="zone", operator="NotIn", values=["us-east-1e"]),
            client.V1LabelSelectorRequirement(key="owner", operator="Exists"),
        ],
    )

    text = label_selector_string(selector)

    assert text == "app=triton,tier=serving,pool in (gpu,gpu-spot),!canary,zone notin (us-east-1e),owner"


def test_expression_selectors_select_on_the_fake_as_on_the_server(api: FakeKubeApi, core: Any) -> None:
    api.put(
        b.pod("a", labels={"app": "triton", "pool": "gpu"}, phase="Pending", node=None),
        b.pod("b", labels={"app": "triton", "pool": "system"}, phase="Pending", node=None),
        b.pod("c", labels={"app": "triton", "pool": "gpu", "canary": "1"}, phase="Pending", node=None),
    )
    selector = client.V1LabelSelector(
        match_labels={"app": "triton"},
        match_expressions=[
            client.V1LabelSelectorRequirement(key="pool", operator="In", values=["gpu"]),
            client.V1LabelSelectorRequirement(key="canary", operator="DoesNotExist"),
        ],
    )

    text = explain_pods(core, "ml", selector)

    assert "pod a:" in text and "pod b:" not in text and "pod c:" not in text


def test_hints_are_not_invented() -> None:
    assert hints_for(["container main: running but not ready"]) == []
