"""API failures become KubernetesApiError; watches survive 410 Gone and dropped connections; Ctrl-C stops waits."""

from __future__ import annotations

import socket
import threading

import pytest
from kubernetes import client

from eksctl_ml.adapters.kubernetes.client import MAX_RESTARTS, KubeClient
from eksctl_ml.adapters.kubernetes.protocol import KubernetesApiError, KubernetesNotFoundError
from eksctl_ml.errors import KubernetesError
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi

FORBIDDEN = (
    'deployments.apps "triton" is forbidden: User "arn:aws:sts::123456789012:assumed-role/ci/mlplat" cannot list '
    'resource "deployments" in API group "apps" in the namespace "ml"'
)


# --- error answers ------------------------------------------------------------------------------


def test_403_carries_the_api_message_and_an_access_entry_hint(api: FakeKubeApi, kube: KubeClient) -> None:
    api.fail(r"/deployments$", 403, message=FORBIDDEN)

    with pytest.raises(KubernetesApiError) as caught:
        kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    error = caught.value
    assert isinstance(error, KubernetesError)
    assert error.status == 403
    assert error.reason == "Forbidden"
    assert error.message == "Kubernetes API: list Deployment ml/triton failed: 403 Forbidden"
    assert error.detail == FORBIDDEN
    assert error.hint is not None and "access entry" in error.hint and "RBAC" in error.hint
    assert FORBIDDEN in str(error)


def test_401_hint_points_at_the_token_and_the_access_entry(api: FakeKubeApi, kube: KubeClient) -> None:
    api.fail(r"^/api/v1/nodes$", 401, message="Unauthorized")

    with pytest.raises(KubernetesApiError) as caught:
        kube.nodes_summary()

    assert caught.value.status == 401
    assert caught.value.hint is not None and "list-access-entries" in caught.value.hint


def test_403_on_the_watch_itself_is_raised(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=0))
    api.fail(r"/deployments$", 403, message='cannot watch resource "deployments"', watch=True)

    with pytest.raises(KubernetesApiError) as caught:
        kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    assert caught.value.status == 403
    assert caught.value.message.startswith("Kubernetes API: watch Deployment ml/triton failed: 403")
    assert "cannot watch" in caught.value.detail


def test_500_is_raised_with_the_api_message(api: FakeKubeApi, kube: KubeClient) -> None:
    api.fail(r"/jobs$", 500, message="etcdserver: request timed out")

    with pytest.raises(KubernetesApiError) as caught:
        kube.wait_job_complete("ml", "warmup", timeout_s=30)

    assert caught.value.status == 500
    assert caught.value.detail == "etcdserver: request timed out"
    assert caught.value.hint is not None and "control plane" in caught.value.hint


def test_404_of_a_direct_read_is_not_found(api: FakeKubeApi, kube: KubeClient) -> None:
    with pytest.raises(KubernetesNotFoundError) as caught:
        kube.pod_logs("ml", "triton-a", 10)

    assert caught.value.status == 404
    assert caught.value.detail == 'pods "triton-a" not found'


def test_404_of_the_watched_object_is_a_state_not_an_error(api: FakeKubeApi, kube: KubeClient) -> None:
    # the waits list by name, so "absent" is an empty list: the wait reports it and keeps waiting
    result = kube.wait_pvc_bound("ml", "models", timeout_s=1)

    assert not result.ok
    assert result.summary == "not ready after 1s: PersistentVolumeClaim ml/models does not exist yet"


def test_unreachable_api_server(kube: KubeClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    configuration = client.Configuration(host=f"http://127.0.0.1:{port}")
    configuration.retries = 0
    unreachable = KubeClient(client.ApiClient(configuration))

    with pytest.raises(KubernetesApiError) as caught:
        unreachable.server_version()

    assert caught.value.status == 0
    assert f"the API server at http://127.0.0.1:{port} cannot be reached" in caught.value.message
    assert caught.value.hint is not None and "endpoint is reachable" in caught.value.hint


def test_pod_logs_tail_and_previous(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.pod("triton-a", labels={"app": "triton"}))
    api.set_log("ml", "triton-a", "a\nb\nc\n", previous="old 1\nold 2\n")

    assert kube.pod_logs("ml", "triton-a", 2) == "b\nc\n"
    assert kube.pod_logs("ml", "triton-a", 1, container="main", previous=True) == "old 2\n"


def test_server_version(kube: KubeClient) -> None:
    assert kube.server_version() == "v1.32.3-eks-4096722"


# --- watch restarts -----------------------------------------------------------------------------


def test_410_gone_in_the_watch_stream_relists_and_continues(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=1, available=1))
    api.when_watched(
        "Deployment",
        # first watch: more writes happen and etcd compacts past its resourceVersion -> ERROR 410 event
        lambda: (api.put(b.pod("noise", labels={})), api.compact()),
        lambda: api.put(b.deployment("triton", updated=3, available=3)),  # second watch: the change
    )

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    assert result.ok
    assert len(api.list_requests("deployments")) == 2  # listed again after the 410
    first, second = api.watch_requests("deployments")
    assert int(second.query["resourceVersion"]) >= int(first.query["resourceVersion"])


def test_410_gone_as_an_http_answer_relists_and_continues(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=1, available=1))
    api.fail(r"/deployments$", 410, message="too old resource version: 1 (1001)", watch=True)
    api.when_watched("Deployment", lambda: api.put(b.deployment("triton", updated=3, available=3)))

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    assert result.ok
    assert len(api.list_requests("deployments")) == 2


def test_endless_410_gives_up(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=1, available=1))
    api.fail(r"/deployments$", 410, message="too old resource version", watch=True, times=100)

    with pytest.raises(KubernetesApiError, match="restarted"):
        kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    assert len(api.watch_requests("deployments")) == MAX_RESTARTS + 1


def test_a_dropped_watch_connection_is_resumed(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.daemonset("nvidia-device-plugin", desired=2, updated=0, available=0))
    api.drop_next_watch("DaemonSet")
    api.when_watched(
        "DaemonSet",
        lambda: api.put(b.daemonset("nvidia-device-plugin", desired=2, updated=1, available=1)),
        lambda: api.put(b.daemonset("nvidia-device-plugin", desired=2, updated=2, available=2)),
    )
    seen: list[str] = []

    result = kube.wait_for_rollout(
        "DaemonSet", "kube-system", "nvidia-device-plugin", timeout_s=30, progress=seen.append
    )

    assert result.ok
    assert len(seen) == 2  # 0 of 2, then 1 of 2 (seen before the connection dropped)
    assert len(api.watch_requests("daemonsets")) == 2


def test_bookmarks_move_the_resource_version_on(api: FakeKubeApi, api_client: client.ApiClient) -> None:
    kube = KubeClient(api_client, watch_chunk_s=1)
    api.put(b.deployment("triton", updated=1, available=1))
    api.when_watched(
        "Deployment",
        # first watch: only an unrelated write (skipped by this watch); the server ends it with a BOOKMARK
        lambda: api.put(b.pod("unrelated", labels={"app": "x"})),
        lambda: api.put(b.deployment("triton", updated=3, available=3)),
    )

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=10)

    assert result.ok
    first, second = api.watch_requests("deployments")
    assert first.query["allowWatchBookmarks"] == "true"
    assert int(second.query["resourceVersion"]) > int(first.query["resourceVersion"])
    assert len(api.list_requests("deployments")) == 1  # a watch that ended normally is resumed, not re-listed


# --- cancellation -----------------------------------------------------------------------------------


def test_cancelled_before_the_wait_starts(api: FakeKubeApi, kube: KubeClient) -> None:
    cancelled = threading.Event()
    cancelled.set()

    with pytest.raises(KeyboardInterrupt):
        kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30, cancelled=cancelled)

    assert api.requests == []


def test_cancellation_is_honoured_at_the_next_event(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.daemonset("nvidia-device-plugin", desired=3, updated=0))
    cancelled = threading.Event()
    outcome: list[BaseException | object] = []

    def wait() -> None:
        try:
            outcome.append(
                kube.wait_for_rollout(
                    "DaemonSet", "kube-system", "nvidia-device-plugin", timeout_s=30, cancelled=cancelled
                )
            )
        except BaseException as exc:  # the KeyboardInterrupt we expect
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    api.wait_for_watch()
    cancelled.set()  # Ctrl-C while the wait is blocked on the watch
    api.put(b.daemonset("nvidia-device-plugin", desired=3, updated=1))  # the next event wakes it
    waiter.join(timeout=10)

    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], KeyboardInterrupt)


def test_the_clients_default_cancel_event_applies(api: FakeKubeApi, api_client: client.ApiClient) -> None:
    cancelled = threading.Event()
    kube = KubeClient(api_client, cancelled=cancelled)
    api.put(b.pvc("models"))
    api.when_watched("PersistentVolumeClaim", lambda: (cancelled.set(), api.put(b.pvc("models", phase="Pending"))))

    with pytest.raises(KeyboardInterrupt):
        kube.wait_pvc_bound("ml", "models", timeout_s=30)


def test_a_non_status_error_body_is_kept_as_the_detail() -> None:
    from kubernetes.client.exceptions import ApiException

    from eksctl_ml.adapters.kubernetes.client import api_error

    error = api_error(ApiException(status=502, reason="Bad Gateway", body="<html>upstream down</html>"), "list nodes")

    assert error.message == "Kubernetes API: list nodes failed: 502 Bad Gateway"
    assert error.detail == "<html>upstream down</html>"
    assert error.status == 502


def test_zero_timeout_is_a_single_look(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=1, available=1))

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=0)

    assert not result.ok
    assert result.summary == "not ready after 0s: Deployment ml/triton: 1 of 3 replicas updated, 1 available"
    assert api.watch_requests("deployments") == []
