"""delete_dynamic_claims: the real kubernetes client on the fake API server, with a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from eksctl_ml.adapters.kubernetes.teardown import delete_dynamic_claims
from tests.teardown import objects as o
from tests.teardown.conftest import FakeClock
from tests.teardown.fake_kube import FakeKubeApi


@pytest.fixture
def volumes(kube: FakeKubeApi) -> FakeKubeApi:
    kube.add(
        # dynamically provisioned, reclaim Delete: the claim goes, the volume is waited for
        o.volume("pv-db", ("data", "db-0"), policy="Delete"),
        o.claim("data", "db-0", volume_name="pv-db"),
        # dynamically provisioned, reclaim Retain: the claim goes, the volume is reported, not waited for
        o.volume("pv-keep", ("data", "keep"), policy="Retain"),
        o.claim("data", "keep", volume_name="pv-keep"),
        # statically provisioned (no provisioned-by annotation, class not in the set): left alone
        o.volume("pv-static", ("data", "static"), policy="Retain", provisioned_by=None, storage_class="manual"),
        o.claim("data", "static", volume_name="pv-static", storage_class="manual"),
        # no provisioned-by annotation, but its storage class is one the platform provisions
        o.volume("pv-efs", ("ml", "models"), policy="Delete", provisioned_by=None, storage_class="efs-sc"),
        o.claim("ml", "models", volume_name="pv-efs", storage_class="efs-sc"),
    )
    return kube


def test_deletes_dynamic_claims_and_waits_for_their_delete_volumes(
    volumes: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    def controllers(n: int) -> None:
        if n == 2:
            volumes.reconcile_volumes()

    clock.on_sleep = controllers
    messages: list[str] = []
    result = delete_dynamic_claims(
        api_client,
        storage_classes={"efs-sc"},
        timeout_s=600,
        progress=messages.append,
        clock=clock,
        sleep=clock.sleep,
    )

    assert result.ok
    assert result.deleted_claims == ["data/db-0", "data/keep", "ml/models"]
    assert [v.split(" ")[0] for v in result.deleted_volumes] == ["pv-db", "pv-efs"]
    assert result.retained == ["pv-keep (claim data/keep, reclaim policy Retain, volume vol-pv-keep)"]
    assert result.remaining == []
    assert len(clock.sleeps) == 2
    assert volumes.names("persistentvolumeclaims") == ["data/static"]
    assert volumes.names("persistentvolumes") == ["pv-keep", "pv-static"]
    kept = volumes.get("persistentvolumes", "", "pv-keep")
    assert kept is not None
    assert kept["status"]["phase"] == "Released"
    assert any("waiting for 2 volume(s) to be deleted: pv-db, pv-efs" in m for m in messages)


def test_without_storage_classes_only_provisioned_by_counts(
    volumes: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    clock.on_sleep = lambda _n: volumes.reconcile_volumes()
    result = delete_dynamic_claims(api_client, storage_classes=None, timeout_s=600, clock=clock, sleep=clock.sleep)
    assert result.deleted_claims == ["data/db-0", "data/keep"]
    assert "ml/models" in volumes.names("persistentvolumeclaims")


def test_timeout_reports_the_volumes_still_there(volumes: FakeKubeApi, api_client: Any, clock: FakeClock) -> None:
    start = clock.now
    result = delete_dynamic_claims(
        api_client, storage_classes={"efs-sc"}, timeout_s=120, clock=clock, sleep=clock.sleep
    )

    assert not result.ok
    assert result.deleted_volumes == []
    # The claims are held by kubernetes.io/pvc-protection (the fake's "pods" never let go): still Bound.
    assert result.remaining == [
        "pv-db (claim data/db-0, reclaim policy Delete, volume vol-pv-db), phase Bound"
        " (its claim is still terminating: a pod still uses it?)",
        "pv-efs (claim ml/models, reclaim policy Delete, volume vol-pv-efs), phase Bound"
        " (its claim is still terminating: a pod still uses it?)",
    ]
    assert [r.split(" ")[0] for r in result.retained] == ["pv-keep"]
    assert clock.now - start == pytest.approx(120)


def test_a_claim_already_being_deleted_is_not_deleted_again(
    kube: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    kube.add(o.volume("pv-a", ("data", "a"), policy="Delete"), o.claim("data", "a", volume_name="pv-a"))
    kube.objects[("persistentvolumeclaims", "data", "a")]["metadata"]["deletionTimestamp"] = "2026-01-01T10:00:00Z"
    kube.vanish_on_delete.add(("persistentvolumeclaims", "data", "gone"))
    kube.add(o.volume("pv-g", ("data", "gone"), policy="Retain"), o.claim("data", "gone", volume_name="pv-g"))
    clock.on_sleep = lambda _n: kube.reconcile_volumes()

    result = delete_dynamic_claims(api_client, timeout_s=600, clock=clock, sleep=clock.sleep)

    assert not any(r.startswith("DELETE") and r.endswith("/a") for r in kube.requests)
    assert result.deleted_claims == []  # one was already terminating, the other vanished (404)
    assert [v.split(" ")[0] for v in result.deleted_volumes] == ["pv-a"]
    assert [v.split(" ")[0] for v in result.retained] == ["pv-g"]
    assert result.ok


def test_no_dynamic_claims_means_no_wait(kube: FakeKubeApi, api_client: Any, clock: FakeClock) -> None:
    kube.add(o.volume("pv-s", ("d", "s"), policy="Retain", provisioned_by=None), o.claim("d", "s", volume_name="pv-s"))
    result = delete_dynamic_claims(api_client, timeout_s=600, clock=clock, sleep=clock.sleep)
    assert (result.deleted_claims, result.retained, result.remaining, clock.sleeps) == ([], [], [], [])
