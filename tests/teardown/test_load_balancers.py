"""delete_load_balancers: real kubernetes client on the fake API server, ELB APIs on the real moto server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eksctl_ml.adapters.aws.protocol import CallerIdentity
from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes import teardown
from eksctl_ml.adapters.kubernetes.teardown import delete_load_balancers, find_cluster_load_balancers
from eksctl_ml.errors import AwsError
from tests.support.moto import free_port
from tests.teardown import objects as o
from tests.teardown.conftest import FakeClock
from tests.teardown.fake_kube import FakeKubeApi


@dataclass
class World:
    """A cluster's load balancers in moto (five of its own, four decoys) and its Services/Ingress."""

    uid: str
    cluster: str
    owned: dict[str, str]  # name -> "elbv2" | "elb"
    decoys: set[str]
    aws: Boto3Aws

    def controllers_delete_load_balancers(self) -> None:
        """What the AWS Load Balancer Controller and the cloud provider do after the objects' delete."""
        for name, kind in self.owned.items():
            if kind == "elb":
                self.aws.client("elb").delete_load_balancer(LoadBalancerName=name)
            else:
                arn = self.aws.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"][0][
                    "LoadBalancerArn"
                ]
                self.aws.client("elbv2").delete_load_balancer(LoadBalancerArn=arn)

    def present(self) -> set[str]:
        return o.elbv2_names(self.aws) | o.classic_names(self.aws)


@pytest.fixture
def world(elb_aws: Boto3Aws, subnets: list[str], uid: str, kube: FakeKubeApi) -> World:
    cluster = f"{uid}-cluster"
    owned_tag = {f"kubernetes.io/cluster/{cluster}": "owned"}
    nlb = o.elbv2(
        elb_aws,
        f"{uid}-nlb",
        subnets,
        {"elbv2.k8s.aws/cluster": cluster, "service.k8s.aws/stack": "web/api", "service.k8s.aws/resource": "LB"},
    )
    alb = o.elbv2(elb_aws, f"{uid}-alb", subnets, owned_tag, lb_type="application")
    bare = o.elbv2(elb_aws, f"{uid}-bare", subnets, {})  # untagged: found by the Service's hostname only
    clb_dns = o.classic_elb(elb_aws, f"{uid}-clb", subnets, owned_tag)
    # Decoys: untagged and unreferenced; another cluster's (same stack name); a shared (not owned) tag.
    o.elbv2(elb_aws, f"{uid}-decoy", subnets, {})
    o.elbv2(elb_aws, f"{uid}-other", subnets, {"elbv2.k8s.aws/cluster": "other", "service.k8s.aws/stack": "web/api"})
    o.classic_elb(elb_aws, f"{uid}-shared", subnets, {f"kubernetes.io/cluster/{cluster}": "shared"})
    o.elbv2(
        elb_aws, f"{uid}-legacy", subnets, {"kubernetes.io/cluster/other": "owned", "service.k8s.aws/stack": "web/api"}
    )
    o.elbv2(elb_aws, f"{uid}-stack", subnets, {"ingress.k8s.aws/stack": f"{uid}-group"})  # no cluster named

    kube.add(
        o.lb_service("web", "api", nlb["DNSName"]),
        o.lb_service("web", "frontend", bare["DNSName"].upper() + "."),  # DNS names compare case-insensitively
        o.lb_service("web", "legacy", clb_dns),
        o.lb_service("web", "raced", None),
        o.cluster_ip_service("web", "internal"),
        o.cluster_ip_service("kube-system", "kube-dns"),
        o.ingress("web", "site", alb["DNSName"], group=f"{uid}-group"),
    )
    kube.vanish_on_delete.add(("services", "web", "raced"))  # deleted by someone else after our list
    return World(
        uid=uid,
        cluster=cluster,
        owned={
            f"{uid}-nlb": "elbv2",
            f"{uid}-alb": "elbv2",
            f"{uid}-bare": "elbv2",
            f"{uid}-clb": "elb",
            f"{uid}-stack": "elbv2",
        },
        decoys={f"{uid}-decoy", f"{uid}-other", f"{uid}-shared", f"{uid}-legacy"},
        aws=elb_aws,
    )


def test_deletes_the_objects_then_waits_until_their_load_balancers_are_gone(
    world: World, kube: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    present_at_sleep: list[set[str]] = []

    def controllers(n: int) -> None:
        present_at_sleep.append(world.present())
        if n == 2:  # after the second poll
            world.controllers_delete_load_balancers()
            kube.finish_deletions("services")
            kube.finish_deletions("ingresses")

    clock.on_sleep = controllers
    messages: list[str] = []
    result = delete_load_balancers(
        api_client, world.aws, world.cluster, timeout_s=600, progress=messages.append, clock=clock, sleep=clock.sleep
    )

    assert result.ok
    assert result.remaining == []
    assert result.deleted_services == ["web/api", "web/frontend", "web/legacy"]  # not raced: a 404 is "gone"
    assert result.deleted_ingresses == ["web/site"]
    assert kube.names("services") == ["kube-system/kube-dns", "web/internal"]  # ClusterIP ones untouched
    assert kube.names("ingresses") == []
    assert not any("internal" in r or "kube-dns" in r for r in kube.requests if r.startswith("DELETE"))
    # It really waited: two unsettled polls with every owned LB there, settled on the third.
    assert len(clock.sleeps) == 2
    assert all(set(world.owned) <= seen for seen in present_at_sleep)
    assert sorted(label.split(" ")[0] for label in result.waited_for) == sorted(world.owned)
    assert any(
        label.startswith(f"{next(iter(world.owned))} (arn:aws:elasticloadbalancing:") for label in result.waited_for
    )
    # The decoys never blocked and are untouched.
    assert world.decoys <= world.present()
    assert any("waiting for 5 load balancer(s)" in m for m in messages)


def test_timeout_names_the_load_balancers_still_there_and_does_not_raise(
    world: World, api_client: Any, clock: FakeClock
) -> None:
    start = clock.now
    result = delete_load_balancers(
        api_client, world.aws, world.cluster, timeout_s=60, interval_s=5, clock=clock, sleep=clock.sleep
    )

    assert not result.ok
    assert sorted(r.split(" ")[0] for r in result.remaining) == sorted(world.owned)
    assert not any(decoy in r for r in result.remaining for decoy in world.decoys)
    clb = next(r for r in result.remaining if r.startswith(f"{world.uid}-clb"))
    assert "(classic)" in clb
    assert "matched by tag kubernetes.io/cluster/" in clb
    frontend = next(r for r in result.remaining if "-bare " in r)
    assert "matched by DNS name of Service web/frontend" in frontend
    assert clock.now - start == pytest.approx(60)
    # The objects are held by their finalizers: the diagnosis says so.
    assert "Service web/api (finalizers: service.kubernetes.io/load-balancer-cleanup)" in result.still_terminating
    assert "Ingress web/site (finalizers: ingress.k8s.aws/resources)" in result.still_terminating


def test_leftover_load_balancer_with_no_object_to_delete_is_reported_without_waiting(
    elb_aws: Boto3Aws, subnets: list[str], uid: str, kube: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    cluster = f"{uid}-cluster"
    o.elbv2(elb_aws, f"{uid}-orphan", subnets, {f"kubernetes.io/cluster/{cluster}": "owned"})
    kube.add(o.cluster_ip_service("web", "internal"))

    result = delete_load_balancers(api_client, elb_aws, cluster, timeout_s=600, clock=clock, sleep=clock.sleep)

    assert not result.ok
    assert [r.split(" ")[0] for r in result.remaining] == [f"{uid}-orphan"]
    assert clock.sleeps == []  # nothing will delete it: no point in waiting
    assert result.deleted_services == []


def test_nothing_to_do_is_ok_at_once(
    elb_aws: Boto3Aws, uid: str, kube: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    result = delete_load_balancers(api_client, elb_aws, f"{uid}-cluster", timeout_s=600, clock=clock, sleep=clock.sleep)
    assert result.ok
    assert (result.deleted_services, result.deleted_ingresses, result.waited_for) == ([], [], [])
    assert clock.sleeps == []


def test_lists_every_page(
    elb_aws: Boto3Aws, uid: str, kube: FakeKubeApi, api_client: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teardown, "PAGE_LIMIT", 2)
    kube.add(*(o.lb_service(f"ns{i}", "svc", None) for i in range(5)), o.cluster_ip_service("ns9", "c"))
    result = delete_load_balancers(api_client, elb_aws, f"{uid}-cluster", timeout_s=10, clock=clock, sleep=clock.sleep)
    assert result.deleted_services == [f"ns{i}/svc" for i in range(5)]
    list_calls = [r for r in kube.requests if r == "GET /api/v1/services"]
    assert len(list_calls) == 3  # 6 services, 2 per page


def test_find_cluster_load_balancers_matches_tags_stacks_and_hostnames_only(world: World) -> None:
    by_suffix = {name.rsplit("-", 1)[1]: name for name in world.owned}
    found = find_cluster_load_balancers(world.aws, world.cluster)
    assert {lb.name for lb in found} == set(world.owned) - {by_suffix["bare"], by_suffix["stack"]}

    dns = world.aws.client("elbv2").describe_load_balancers(Names=[by_suffix["bare"]])["LoadBalancers"][0]["DNSName"]
    found = find_cluster_load_balancers(
        world.aws, world.cluster, hostnames={f"dualstack.{dns}": "Service web/x"}, stacks={f"{world.uid}-group"}
    )
    assert {lb.name for lb in found} == set(world.owned)
    assert {lb.name: lb.matched_by for lb in found}[
        by_suffix["stack"]
    ] == f"tag ingress.k8s.aws/stack={world.uid}-group"
    assert {lb.name: lb.matched_by for lb in found}[by_suffix["bare"]] == "DNS name of Service web/x"

    # "web/api" is also the stack of other clusters' load balancers, which name their cluster: no match.
    assert find_cluster_load_balancers(world.aws, "nobody", stacks={"web/api"}) == []


class _UnreachableAws:
    """AwsClients whose endpoint refuses connections, with no retries (keeps the test fast)."""

    region = "us-east-1"

    def __init__(self) -> None:
        self.endpoint_url: str | None = f"http://127.0.0.1:{free_port()}"
        self._session: Any = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.region
        )

    def client(self, service: str) -> Any:
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=1)
        return self._session.client(service, endpoint_url=self.endpoint_url, config=config)

    def caller_identity(self) -> CallerIdentity:
        raise AssertionError("not used")


def test_an_elb_api_failure_is_an_aws_error(kube: FakeKubeApi, api_client: Any, clock: FakeClock) -> None:
    kube.add(o.lb_service("web", "api", None))
    with pytest.raises(AwsError, match="AWS elbv2 DescribeLoadBalancers failed") as caught:
        delete_load_balancers(api_client, _UnreachableAws(), "c", timeout_s=10, clock=clock, sleep=clock.sleep)
    assert "Could not connect" in caught.value.detail


def test_a_service_deleted_by_someone_else_meanwhile_is_still_waited_for(
    elb_aws: Boto3Aws, subnets: list[str], uid: str, kube: FakeKubeApi, api_client: Any, clock: FakeClock
) -> None:
    lb = o.elbv2(elb_aws, f"{uid}-raced", subnets, {})  # untagged: only the Service's hostname ties it
    kube.add(o.lb_service("web", "raced", lb["DNSName"]))
    kube.vanish_on_delete.add(("services", "web", "raced"))
    clock.on_sleep = lambda _n: elb_aws.client("elbv2").delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])

    result = delete_load_balancers(api_client, elb_aws, f"{uid}-cluster", timeout_s=600, clock=clock, sleep=clock.sleep)

    assert result.ok
    assert result.deleted_services == []  # the delete answered 404: already gone, not an error
    assert [label.split(" ")[0] for label in result.waited_for] == [f"{uid}-raced"]
    assert len(clock.sleeps) == 1
