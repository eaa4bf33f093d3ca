"""The leftover inventory against a real moto server: what it finds, what it must not, and `0 remain`."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from eksctl_ml.errors import LeftoverResourcesError
from eksctl_ml.inventory import (
    TAGGING_ONLY_NOTE,
    InventoryResult,
    find_leftovers,
    raise_if_leftovers,
    render_leftovers,
)
from tests.inventory.conftest import MotoAws

pytestmark = pytest.mark.slow

ENV, CLUSTER = "dev", "mlplat-dev"
OTHER_ENV, OTHER_CLUSTER = "prod", "mlplat-prod"
K8S_OWNED = f"kubernetes.io/cluster/{CLUSTER}"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
AMI = "ami-12c6146b"  # one of moto's built-in images

Key = tuple[str, str, str]  # (service, kind, id)


def _tags(env: str = ENV, cluster: str = CLUSTER, **extra: str) -> list[dict[str, str]]:
    tags = {"mlplat:env": env, "mlplat:cluster": cluster, **extra}
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _spec(resource_type: str, tags: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tags}]


@dataclass
class World:
    """What a scenario created: the env's resources by (service, kind, id), and how to delete them."""

    expected: set[Key] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)


def build_env(aws: MotoAws, env: str = ENV, cluster: str = CLUSTER, cidr: str = "10.0") -> World:
    """One resource of each kind the inventory lists, owned by ``env``/``cluster`` the way mlplat or
    Kubernetes would tag it."""
    world = World()
    ids = world.ids
    ec2 = aws.client("ec2")
    tags = _tags(env, cluster)

    def expect(service: str, kind: str, rid: str, name: str | None = None) -> None:
        world.expected.add((service, kind, rid))
        if name:
            ids[name] = rid

    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16", TagSpecifications=_spec("vpc", tags))["Vpc"]["VpcId"]
    expect("ec2", "vpc", vpc, "vpc")
    subnets = []
    for index, zone in enumerate(("a", "b")):
        subnet = ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=f"{cidr}.{index}.0/24",
            AvailabilityZone=f"us-east-1{zone}",
            TagSpecifications=_spec("subnet", _tags(env, cluster, **{f"kubernetes.io/cluster/{cluster}": "shared"})),
        )["Subnet"]["SubnetId"]
        expect("ec2", "subnet", subnet, f"subnet{index}")
        subnets.append(subnet)
    sg = ec2.create_security_group(
        GroupName=f"{cluster}-nodes", Description="nodes", VpcId=vpc, TagSpecifications=_spec("security-group", tags)
    )["GroupId"]
    expect("ec2", "security-group", sg, "sg")
    igw = ec2.create_internet_gateway(TagSpecifications=_spec("internet-gateway", tags))["InternetGateway"][
        "InternetGatewayId"
    ]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    expect("ec2", "internet-gateway", igw, "igw")
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=_spec("elastic-ip", tags))["AllocationId"]
    expect("ec2", "elastic-ip", eip, "eip")
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip, TagSpecifications=_spec("natgateway", tags))[
        "NatGateway"
    ]["NatGatewayId"]
    expect("ec2", "natgateway", nat, "nat")
    rtb = ec2.create_route_table(VpcId=vpc, TagSpecifications=_spec("route-table", tags))["RouteTable"]["RouteTableId"]
    expect("ec2", "route-table", rtb, "rtb")
    vpce = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.s3",
        VpcEndpointType="Gateway",  # moto 5.2.5 cannot delete an endpoint created without a type
        TagSpecifications=_spec("vpc-endpoint", tags),
    )["VpcEndpoint"]["VpcEndpointId"]
    expect("ec2", "vpc-endpoint", vpce, "vpce")
    lt = ec2.create_launch_template(
        LaunchTemplateName=f"{cluster}-gpu", LaunchTemplateData={}, TagSpecifications=_spec("launch-template", tags)
    )["LaunchTemplate"]["LaunchTemplateId"]
    expect("ec2", "launch-template", lt, "lt")
    eni = ec2.create_network_interface(
        SubnetId=subnets[1],
        TagSpecifications=_spec("network-interface", [{"Key": "cluster.k8s.amazonaws.com/name", "Value": cluster}]),
    )["NetworkInterface"]["NetworkInterfaceId"]
    expect("ec2", "network-interface", eni, "eni")
    # An EBS CSI / in-tree volume: Kubernetes tags, no mlplat:env.
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=1,
        TagSpecifications=_spec(
            "volume",
            [
                {"Key": "KubernetesCluster", "Value": cluster},
                {"Key": "kubernetes.io/created-for/pvc/name", "Value": "model-cache"},
                {"Key": "kubernetes.io/created-for/pvc/namespace", "Value": "triton"},
            ],
        ),
    )["VolumeId"]
    expect("ec2", "volume", volume, "volume")
    # A managed-node-group instance: EKS tags it as the cluster's, not with mlplat:env.
    instance = ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        SubnetId=subnets[0],
        TagSpecifications=_spec("instance", [{"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"}]),
    )["Instances"][0]["InstanceId"]
    expect("ec2", "instance", instance, "instance")

    # Load balancers made by Kubernetes (AWS Load Balancer Controller / in-tree service controller).
    elbv2 = aws.client("elbv2")
    k8s_tags = [
        {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"},
        {"Key": "elbv2.k8s.aws/cluster", "Value": cluster},
    ]
    lb_name = f"k8s-triton-{env}"
    lb_arn = elbv2.create_load_balancer(Name=lb_name, Subnets=subnets, Tags=k8s_tags)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    expect("elbv2", "loadbalancer", lb_name)
    ids["lb_arn"] = lb_arn
    tg_name = f"k8s-triton-{env}-tg"
    tg_arn = elbv2.create_target_group(
        Name=tg_name, Protocol="TCP", Port=8000, VpcId=vpc, Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": cluster}]
    )["TargetGroups"][0]["TargetGroupArn"]
    expect("elbv2", "targetgroup", tg_name)
    ids["tg_arn"] = tg_arn
    clb_name = f"a1b2c3{env}"
    aws.client("elb").create_load_balancer(
        LoadBalancerName=clb_name,
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
        Subnets=[subnets[0]],
        Tags=[{"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"}],
    )
    expect("elb", "loadbalancer", clb_name, "clb")

    fs = aws.client("efs").create_file_system(CreationToken=f"{cluster}-models", Tags=tags)["FileSystemId"]
    expect("efs", "file-system", fs, "efs")

    iam = aws.client("iam")
    role_name = f"{cluster}-cluster"
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST, Tags=tags)["Role"]["Arn"]
    expect("iam", "role", role_name, "role")
    policy_name = f"{cluster}-lb-controller"
    ids["policy_arn"] = iam.create_policy(PolicyName=policy_name, PolicyDocument=POLICY, Tags=tags)["Policy"]["Arn"]
    expect("iam", "policy", policy_name)
    oidc_url = f"oidc.eks.us-east-1.amazonaws.com/id/{env.upper()}0123456789"
    ids["oidc_arn"] = iam.create_open_id_connect_provider(
        Url=f"https://{oidc_url}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40], Tags=tags
    )["OpenIDConnectProviderArn"]
    expect("iam", "oidc-provider", oidc_url)

    eks = aws.client("eks")
    eks_tags = {"mlplat:env": env, "mlplat:cluster": cluster}
    eks.create_cluster(name=cluster, roleArn=role_arn, resourcesVpcConfig={"subnetIds": subnets}, tags=eks_tags)
    expect("eks", "cluster", cluster)
    eks.create_nodegroup(clusterName=cluster, nodegroupName="gpu", subnets=subnets, nodeRole=role_arn, tags=eks_tags)
    expect("eks", "nodegroup", f"{cluster}/gpu")

    bucket = f"{cluster}-artifacts"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    expect("s3", "bucket", bucket)

    repo = f"{cluster}/triton"
    aws.client("ecr").create_repository(repositoryName=repo, tags=tags)
    expect("ecr", "repository", repo)

    key = aws.client("kms").create_key(Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags])
    expect("kms", "key", key["KeyMetadata"]["KeyId"], "key")

    secret = f"{cluster}/grafana-admin"
    aws.client("secretsmanager").create_secret(Name=secret, SecretString="s3cr3t", Tags=tags)
    expect("secretsmanager", "secret", secret)

    log_group = f"/aws/eks/{cluster}/cluster"
    aws.client("logs").create_log_group(logGroupName=log_group)  # EKS makes it, untagged
    expect("logs", "log-group", log_group)
    return world


def build_decoys(aws: MotoAws) -> World:
    """Things in the same account and region that are NOT the env's; returns the prod env among them."""
    ec2 = aws.client("ec2")
    other = _tags(OTHER_ENV, OTHER_CLUSTER)
    # The prod env, complete (and in the same account).
    prod = build_env(aws, OTHER_ENV, OTHER_CLUSTER, cidr="10.9")
    # Untagged things.
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName="untagged", Description="x", VpcId=vpc)
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
    # A subnet the dev cluster merely *uses* (shared, not owned) and that mlplat did not create.
    ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.50.1.0/24",
        TagSpecifications=_spec("subnet", [{"Key": K8S_OWNED, "Value": "shared"}]),
    )
    # A PVC volume that says nothing about which cluster made it.
    ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=1,
        TagSpecifications=_spec("volume", [{"Key": "kubernetes.io/created-for/pvc/name", "Value": "data"}]),
    )
    # Another env's resource that also carries the dev cluster's tag: mlplat:env decides.
    ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=1,
        TagSpecifications=_spec("volume", [*other, {"Key": K8S_OWNED, "Value": "owned"}]),
    )
    # Another region's bucket tagged with the env is not in this env's region.
    aws.client_at("s3", "eu-west-1").create_bucket(
        Bucket=f"{CLUSTER}-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    aws.client_at("s3", "eu-west-1").put_bucket_tagging(Bucket=f"{CLUSTER}-eu", Tagging={"TagSet": _tags()})
    aws.client("s3").create_bucket(Bucket="untagged-bucket")
    aws.client("iam").create_role(RoleName="untagged-role", AssumeRolePolicyDocument=TRUST)
    aws.client("logs").create_log_group(logGroupName=f"/aws/eks/{CLUSTER}/cluster-old")
    return prod


def build_gone(aws: MotoAws) -> None:
    """Env-tagged things that no longer count: terminated, pending deletion, scheduled for deletion."""
    ec2 = aws.client("ec2")
    tags = _tags()
    instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, TagSpecifications=_spec("instance", tags))[
        "Instances"
    ][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[instance])
    kms = aws.client("kms")
    key = kms.create_key(Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags])["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    sm = aws.client("secretsmanager")
    sm.create_secret(Name=f"{CLUSTER}/old", SecretString="x", Tags=tags)
    sm.delete_secret(SecretId=f"{CLUSTER}/old", RecoveryWindowInDays=7)
    # The env's VPC's default security group, tagged by aws_default_security_group: not counted.
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:mlplat:env", "Values": [ENV]}])["Vpcs"][0]["VpcId"]
    default_sg = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    ec2.create_tags(Resources=[default_sg], Tags=tags)


def destroy_env(aws: MotoAws, world: World) -> None:
    """What `down` does, in dependency order."""
    ids = world.ids
    ec2, elbv2, eks, iam = aws.client("ec2"), aws.client("elbv2"), aws.client("eks"), aws.client("iam")
    elbv2.delete_load_balancer(LoadBalancerArn=ids["lb_arn"])
    elbv2.delete_target_group(TargetGroupArn=ids["tg_arn"])
    aws.client("elb").delete_load_balancer(LoadBalancerName=ids["clb"])
    eks.delete_nodegroup(clusterName=CLUSTER, nodegroupName="gpu")
    eks.delete_cluster(name=CLUSTER)
    ec2.terminate_instances(InstanceIds=[ids["instance"]])
    ec2.delete_nat_gateway(NatGatewayId=ids["nat"])
    ec2.release_address(AllocationId=ids["eip"])
    ec2.delete_network_interface(NetworkInterfaceId=ids["eni"])
    ec2.delete_vpc_endpoints(VpcEndpointIds=[ids["vpce"]])
    ec2.detach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=ids["igw"])
    ec2.delete_route_table(RouteTableId=ids["rtb"])
    ec2.delete_launch_template(LaunchTemplateId=ids["lt"])
    ec2.delete_volume(VolumeId=ids["volume"])
    ec2.delete_security_group(GroupId=ids["sg"])
    for name in ("subnet0", "subnet1"):
        ec2.delete_subnet(SubnetId=ids[name])
    ec2.delete_vpc(VpcId=ids["vpc"])
    aws.client("efs").delete_file_system(FileSystemId=ids["efs"])
    aws.client("s3").delete_bucket(Bucket=f"{CLUSTER}-artifacts")
    aws.client("ecr").delete_repository(repositoryName=f"{CLUSTER}/triton")
    aws.client("kms").schedule_key_deletion(KeyId=ids["key"], PendingWindowInDays=7)
    aws.client("secretsmanager").delete_secret(SecretId=f"{CLUSTER}/grafana-admin", RecoveryWindowInDays=7)
    iam.delete_role(RoleName=ids["role"])
    iam.delete_policy(PolicyArn=ids["policy_arn"])
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=ids["oidc_arn"])
    aws.client("logs").delete_log_group(logGroupName=f"/aws/eks/{CLUSTER}/cluster")


def _keys(result: InventoryResult) -> Counter[Key]:
    return Counter((item.service, item.kind, item.id) for item in result.leftovers)


# --- tests -------------------------------------------------------------------------------------------


def test_finds_each_env_resource_exactly_once_and_no_decoy(aws: MotoAws) -> None:
    world = build_env(aws)
    build_decoys(aws)
    build_gone(aws)
    messages: list[str] = []

    result = find_leftovers(aws, ENV, CLUSTER, progress=messages.append)

    assert result.unchecked == []
    found = _keys(result)
    assert [key for key, count in found.items() if count > 1] == []
    assert set(found) - world.expected == set(), "decoys, deleted or other-env resources were listed"
    assert world.expected - set(found) == set(), "env resources were missed"
    assert len(world.expected) >= 25
    # Every kind is found by its direct listing (the tagging API alone is not trusted for these types).
    assert [item for item in result.leftovers if item.note == TAGGING_ONLY_NOTE] == []
    assert all(item.arn and item.arn.startswith("arn:aws:") for item in result.leftovers)
    # The tagging API still reports the pending-deletion key, the scheduled secret, the terminated instance...
    assert any("ignored" in message and "tagging-API" in message for message in messages)
    assert any(message.endswith("ec2 VPCs") for message in messages)

    text = render_leftovers(result)
    assert text.splitlines()[0] == f"{len(world.expected)} resources remain:"
    assert f"  ec2/vpc {world.ids['vpc']}  arn:aws:ec2:us-east-1:123456789012:vpc/{world.ids['vpc']}" in text
    assert f"ec2/volume {world.ids['volume']}" in text
    assert "PVC triton/model-cache)" in text
    with pytest.raises(LeftoverResourcesError, match="resources remain"):
        raise_if_leftovers(result, ENV)


def test_zero_remain_after_everything_is_deleted(aws: MotoAws) -> None:
    world = build_env(aws)
    prod = build_decoys(aws)
    assert len(find_leftovers(aws, ENV, CLUSTER).leftovers) == len(world.expected)

    destroy_env(aws, world)
    messages: list[str] = []
    result = find_leftovers(aws, ENV, CLUSTER, progress=messages.append)

    assert result.leftovers == [], render_leftovers(result)
    assert result.unchecked == []
    assert render_leftovers(result) == "0 resources remain"
    raise_if_leftovers(result, ENV)  # nothing to raise
    # `down` scheduled the KMS key and the secret for deletion: they still exist (and the tagging API still
    # reports them, with the deleted NAT gateway...), but they do not count.
    kms_state = aws.client("kms").describe_key(KeyId=world.ids["key"])["KeyMetadata"]["KeyState"]
    assert kms_state == "PendingDeletion"
    secrets = aws.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert [s["Name"] for s in secrets if s.get("DeletedDate")] == [f"{CLUSTER}/grafana-admin"]
    assert any("ignored" in message and "tagging-API" in message for message in messages)
    # The other env is untouched and still complete.
    assert prod.expected <= set(_keys(find_leftovers(aws, OTHER_ENV, OTHER_CLUSTER)))

    # Zero with listings that could not run says so.
    aws.broken = {"resourcegroupstaggingapi", "iam"}
    result = find_leftovers(aws, ENV, CLUSTER)
    assert result.leftovers == []
    assert [entry.split(":", 1)[0] for entry in result.unchecked] == [
        "tagging API",
        "iam roles",
        "iam policies",
        "iam OIDC providers",
    ]
    lines = render_leftovers(result).splitlines()
    assert lines[0] == "0 resources remain (4 listings unavailable)"
    assert lines[1].startswith("  unavailable: tagging API: resourcegroupstaggingapi GetResources not available")


def test_types_without_a_direct_listing_come_from_the_tagging_api(aws: MotoAws) -> None:
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/mlplat/dev/gateway", tags={"mlplat:env": ENV})
    logs.create_log_group(logGroupName="/mlplat/prod/gateway", tags={"mlplat:env": OTHER_ENV})

    result = find_leftovers(aws, ENV, CLUSTER)

    assert [(item.service, item.kind, item.id, item.note) for item in result.leftovers] == [
        ("logs", "log-group", "/mlplat/dev/gateway", TAGGING_ONLY_NOTE)
    ]
    assert result.leftovers[0].arn == "arn:aws:logs:us-east-1:123456789012:log-group:/mlplat/dev/gateway"

    logs.delete_log_group(logGroupName="/mlplat/dev/gateway")
    assert find_leftovers(aws, ENV, CLUSTER).leftovers == []


def test_unavailable_listings_are_reported_not_fatal(aws: MotoAws) -> None:
    world = build_env(aws)
    # EC2 (a query/XML API: moto's 404 page does not even parse) and EFS (REST/JSON: a bare 404) answer 404.
    aws.broken = {"ec2", "efs"}

    result = find_leftovers(aws, ENV, CLUSTER)

    unchecked = {entry.split(":", 1)[0] for entry in result.unchecked}
    assert unchecked == {
        "ec2 VPCs",
        "ec2 subnets",
        "ec2 security groups",
        "ec2 internet gateways",
        "ec2 NAT gateways",
        "ec2 elastic IPs",
        "ec2 route tables",
        "ec2 VPC endpoints",
        "ec2 launch templates",
        "ec2 network interfaces",
        "ec2 volumes",
        "ec2 instances",
        "efs file systems",
    }
    assert any("efs DescribeFileSystems not available (HTTP 404" in entry for entry in result.unchecked)
    assert any("ec2 DescribeVpcs not available" in entry for entry in result.unchecked)
    found = _keys(result)
    # Everything else is still checked directly...
    assert {key for key in world.expected if key[0] not in {"ec2", "efs"}} <= set(found)
    # ...and for the unchecked types, the tagging API's word is kept (and says so).
    by_key = {(item.service, item.kind, item.id): item for item in result.leftovers}
    assert by_key[("efs", "file-system", world.ids["efs"])].note == TAGGING_ONLY_NOTE
    assert by_key[("ec2", "vpc", world.ids["vpc"])].note == TAGGING_ONLY_NOTE
    assert ("ec2", "launch-template", world.ids["lt"]) not in found  # moto's tagging API does not know these

    text = render_leftovers(result)
    assert "resources remain (13 listings unavailable):" in text.splitlines()[0]
    assert "  unavailable: efs file systems: efs DescribeFileSystems not available (HTTP 404" in text
