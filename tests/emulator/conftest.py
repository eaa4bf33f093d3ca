"""Fixtures of the embedded-emulator tests: one patched emulator per session, boto3 clients on it, and
the folder where the stacks test saves its plans for checkov (``stack_plans``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from eksctl_ml.emulator import EmbeddedEmulator, EmulatorInfo
from tests.terraform.checkov_scan import Scan, find_checkov, run_checkov

REGION = "us-east-1"
ACCOUNT = "123456789012"

ClientFactory = Callable[[str], Any]


@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    """The patched emulator, started once for the session through :class:`EmbeddedEmulator`."""
    embedded = EmbeddedEmulator(tmp_path_factory.mktemp("emulator-state"))
    embedded.start(timeout=60)
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def emulator(launcher: EmbeddedEmulator) -> EmulatorInfo:
    """The session emulator's :class:`EmulatorInfo`."""
    info = launcher.status()
    assert info is not None
    return info


@pytest.fixture(scope="session")
def client_cache(emulator: EmulatorInfo) -> ClientFactory:
    """boto3 clients on the session emulator, one per service (creating clients is slow)."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in made:
            made[service] = session.client(service, endpoint_url=emulator.endpoint)  # type: ignore[call-overload]
        return made[service]

    return make


@pytest.fixture
def clients(client_cache: ClientFactory) -> ClientFactory:
    """A factory of boto3 clients on the session emulator.

    The emulator is not reset between tests (a reset costs seconds: moto rebuilds the EC2 and IAM
    backends, AWS-managed policies included); tests isolate themselves by unique names instead.
    """
    return client_cache


_counter = itertools.count(1)


@pytest.fixture
def unique_name() -> str:
    """A name no other test of the session uses (cluster, role and security group names)."""
    return f"t{next(_counter):03d}"


@dataclass(frozen=True)
class Network:
    """What a cluster needs from the network and iam stacks, created with boto3."""

    name: str
    vpc_id: str
    subnet_ids: list[str]
    cluster_sg_id: str
    node_sg_id: str
    cluster_role_arn: str
    node_role_arn: str
    admin_role_arn: str
    kms_key_arn: str


def make_network(client: ClientFactory, name: str) -> Network:
    """VPC with two private subnets in two AZs, cluster/node security groups, roles and a KMS key."""
    ec2 = client("ec2")
    iam = client("iam")
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.42.{i * 32}.0/19", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    cluster_sg = ec2.create_security_group(GroupName=f"{name}-cluster", Description="cluster", VpcId=vpc_id)
    node_sg = ec2.create_security_group(GroupName=f"{name}-node", Description="nodes", VpcId=vpc_id)

    def role(role_name: str, service: str) -> str:
        document = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
            f'"Principal":{{"Service":"{service}"}}}}]}}'
        )
        return str(iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=document)["Role"]["Arn"])

    kms_key = client("kms").create_key(Description=f"{name} secrets")["KeyMetadata"]["Arn"]
    return Network(
        name=name,
        vpc_id=vpc_id,
        subnet_ids=subnet_ids,
        cluster_sg_id=cluster_sg["GroupId"],
        node_sg_id=node_sg["GroupId"],
        cluster_role_arn=role(f"{name}-cluster", "eks.amazonaws.com"),
        node_role_arn=role(f"{name}-node", "ec2.amazonaws.com"),
        admin_role_arn=role(f"{name}-admin", "ec2.amazonaws.com"),
        kms_key_arn=kms_key,
    )


@pytest.fixture
def network(clients: ClientFactory, unique_name: str) -> Network:
    """A fresh VPC, subnets, security groups, roles and KMS key named after ``unique_name``."""
    return make_network(clients, unique_name)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".mlplat" / "local"


@dataclass
class StackPlans:
    """``terraform show -json`` of the post-apply plan of each stack the emulator test applies (cluster,
    nodegroups), and checkov's scan of them, started in the background as soon as the last plan is saved
    (it then overlaps the destroy). Filled by the stacks test, read by the checkov test after it."""

    folder: Path
    scan_wanted: bool
    pool: ThreadPoolExecutor
    plans: dict[str, Path] = field(default_factory=dict)
    scan: Future[Scan] | None = None

    def save(self, name: str, plan_json: str) -> Path:
        path = self.folder / f"{name}.json"
        path.write_text(plan_json, encoding="utf-8")
        self.plans[name] = path
        return path

    def start_scan(self) -> None:
        """checkov over every saved plan, in a worker thread (only when a test of this session wants it)."""
        binary = find_checkov()
        if self.scan_wanted and binary is not None and self.scan is None:
            self.scan = self.pool.submit(run_checkov, binary, [self.plans[name] for name in sorted(self.plans)])


@pytest.fixture(scope="session")
def stack_plans(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackPlans]:
    # The scan starts early only when a checkov test of this folder is selected (else it would only cost CPU).
    wanted = any(
        "checkov" in item.name and "stack_plans" in getattr(item, "fixturenames", ()) for item in request.session.items
    )
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkov")
    try:
        yield StackPlans(tmp_path_factory.mktemp("stack-plans"), wanted, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
