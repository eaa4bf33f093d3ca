"""The fake Kubernetes API server and the real client pointed at it, as fixtures any test folder can use.

A folder opts in from its conftest: ``from tests.kubernetes.fixtures import api, api_client, kube``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from eksctl_ml.adapters.kubernetes.client import KubeClient
from tests.kubernetes.fakeapi import FakeKubeApi


@pytest.fixture
def api() -> Iterator[FakeKubeApi]:
    fake = FakeKubeApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def api_client(api: FakeKubeApi) -> Iterator[client.ApiClient]:
    configuration = client.Configuration(host=api.url)
    with client.ApiClient(configuration) as real:
        yield real


@pytest.fixture
def kube(api_client: client.ApiClient) -> KubeClient:
    return KubeClient(api_client, watch_chunk_s=5)
