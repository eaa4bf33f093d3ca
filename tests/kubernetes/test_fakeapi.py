"""The fake API server behaves like the real one where the adapter depends on it (checked with the client)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi, serialize


@pytest.fixture
def core(api_client: client.ApiClient) -> Any:
    return client.CoreV1Api(api_client)


def test_objects_round_trip_through_the_client_models(api: FakeKubeApi, api_client: client.ApiClient) -> None:
    original = b.deployment("triton", updated=2, available=1)
    api.put(original)

    served = client.AppsV1Api(api_client).read_namespaced_deployment("triton", "ml")

    assert isinstance(served, client.V1Deployment)
    assert served.status == original.status
    assert served.spec == original.spec
    assert served.metadata.resource_version == "1001"
    assert serialize(served)["kind"] == "Deployment"


def test_list_carries_a_resource_version_and_filters_by_selectors(api: FakeKubeApi, core: Any) -> None:
    api.put(b.pod("a", labels={"app": "x"}), b.pod("b", labels={"app": "y"}), b.pod("c", labels={"app": "x"}))

    listing = core.list_namespaced_pod("ml", label_selector="app=x", field_selector="metadata.name!=c")

    assert [pod.metadata.name for pod in listing.items] == ["a"]
    assert listing.metadata.resource_version == "1003"


def test_unsupported_field_labels_are_rejected_like_the_real_server(core: Any) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("ml", field_selector="metadata.labels=x")

    assert caught.value.status == 400
    assert "field label not supported: metadata.labels" in caught.value.body


def test_watch_without_resource_version_starts_with_the_current_state(api: FakeKubeApi, core: Any) -> None:
    api.put(b.pod("a", labels={"app": "x"}))

    events = [
        (event["type"], event["object"].metadata.name)
        for event in watch.Watch().stream(core.list_namespaced_pod, "ml", timeout_seconds=1)
    ]

    assert events == [("ADDED", "a")]


def test_watch_streams_changes_after_its_resource_version(api: FakeKubeApi, core: Any) -> None:
    api.put(b.pod("a", labels={"app": "x"}))
    api.when_watched(
        "Pod", lambda: (api.put(b.pod("a", labels={"app": "x"}, ready=True)), api.delete("Pod", "ml", "a"))
    )
    watcher = watch.Watch()
    seen = []

    for event in watcher.stream(core.list_namespaced_pod, "ml", resource_version="1001", timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.resource_version))
        if event["type"] == "DELETED":
            watcher.stop()

    assert seen == [("MODIFIED", "1002"), ("DELETED", "1003")]


def test_compacted_history_answers_410_in_the_stream(api: FakeKubeApi, core: Any) -> None:
    api.put(b.pod("a", labels={"app": "x"}))
    api.compact()

    with pytest.raises(ApiException) as caught:
        list(watch.Watch().stream(core.list_namespaced_pod, "ml", resource_version="1000", timeout_seconds=1))

    assert caught.value.status == 410
    assert "too old resource version" in str(caught.value.reason)


def test_unknown_paths_are_404_status(api_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        client.CustomObjectsApi(api_client).list_namespaced_custom_object("monitoring.coreos.com", "v1", "ml", "x")

    assert caught.value.status == 404
    assert '"kind": "Status"' in caught.value.body
