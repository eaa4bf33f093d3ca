"""Each emulator patch, exercised through boto3 against the running patched server."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from tests.emulator.conftest import ACCOUNT, REGION, ClientFactory, Network

pytestmark = pytest.mark.slow

VERSIONS = {
    "vpc-cni": "v1.19.2-eksbuild.1",
    "coredns": "v1.11.4-eksbuild.2",
    "kube-proxy": "v1.32.0-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.4-eksbuild.1",
    "aws-efs-csi-driver": "v2.1.4-eksbuild.1",
}
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def error_code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def create_cluster(
    clients: ClientFactory, network: Network, name: str = "", mode: str | None = "API", **extra: Any
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "name": name or network.name,
        "version": "1.31",
        "roleArn": network.cluster_role_arn,
        "resourcesVpcConfig": {
            "subnetIds": network.subnet_ids,
            "securityGroupIds": [network.cluster_sg_id],
            "endpointPublicAccess": True,
            "endpointPrivateAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
        },
        "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": network.kms_key_arn}}],
        **extra,
    }
    if mode is not None:
        kwargs["accessConfig"] = {"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": True}
    return dict(clients("eks").create_cluster(**kwargs)["cluster"])


def create_launch_template(clients: ClientFactory, network: Network) -> str:
    return str(
        clients("ec2").create_launch_template(
            LaunchTemplateName=f"{network.name}-lt",
            LaunchTemplateData={"SecurityGroupIds": [network.node_sg_id]},
        )["LaunchTemplate"]["LaunchTemplateId"]
    )


def create_nodegroup(clients: ClientFactory, network: Network, name: str = "ng1", **extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "clusterName": network.name,
        "nodegroupName": name,
        "nodeRole": network.node_role_arn,
        "subnets": network.subnet_ids,
        "scalingConfig": {"minSize": 0, "desiredSize": 1, "maxSize": 2},
        "amiType": "AL2023_x86_64_NVIDIA",
        "instanceTypes": ["g5.xlarge"],
        "labels": {"mlplat.io/pool": "gpu"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        "tags": {"team": "ml"},
        **extra,
    }
    return dict(clients("eks").create_nodegroup(**kwargs)["nodegroup"])


# --- eks-cluster --------------------------------------------------------------------------------


def test_cluster_access_config_is_returned(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network, mode="API_AND_CONFIG_MAP")
    cluster = clients("eks").describe_cluster(name=network.name)["cluster"]
    assert cluster["accessConfig"] == {
        "authenticationMode": "API_AND_CONFIG_MAP",
        "bootstrapClusterCreatorAdminPermissions": True,
    }


def test_cluster_without_access_config_defaults_to_config_map(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network, mode=None)
    eks = clients("eks")
    assert eks.describe_cluster(name=network.name)["cluster"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    with pytest.raises(ClientError) as info:
        eks.list_access_entries(clusterName=network.name)
    assert error_code(info) == "InvalidRequestException"


def test_cluster_vpc_facts_and_security_group_lifecycle(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks, ec2 = clients("eks"), clients("ec2")
    vpc = eks.describe_cluster(name=network.name)["cluster"]["resourcesVpcConfig"]
    assert vpc["vpcId"] == network.vpc_id
    assert set(vpc["subnetIds"]) == set(network.subnet_ids)
    group = ec2.describe_security_groups(GroupIds=[vpc["clusterSecurityGroupId"]])["SecurityGroups"][0]
    assert group["VpcId"] == network.vpc_id
    assert {"Key": "aws:eks:cluster-name", "Value": network.name} in group["Tags"]

    eks.delete_cluster(name=network.name)
    remaining = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}])
    assert vpc["clusterSecurityGroupId"] not in {g["GroupId"] for g in remaining["SecurityGroups"]}


def test_cluster_subnets_are_validated(clients: ClientFactory, network: Network) -> None:
    eks = clients("eks")
    for subnets in (["subnet-0123456789abcdef0", network.subnet_ids[0]], network.subnet_ids[:1]):
        with pytest.raises(ClientError) as info:
            eks.create_cluster(
                name=network.name, roleArn=network.cluster_role_arn, resourcesVpcConfig={"subnetIds": subnets}
            )
        assert error_code(info) == "InvalidParameterException"
    assert network.name not in eks.list_clusters()["clusters"]


def test_cluster_identity_is_per_cluster_and_ca_is_a_certificate(clients: ClientFactory, network: Network) -> None:
    first = create_cluster(clients, network)
    second = create_cluster(clients, network, name=f"{network.name}-2")
    assert first["identity"]["oidc"]["issuer"] != second["identity"]["oidc"]["issuer"]
    assert first["identity"]["oidc"]["issuer"].startswith(f"https://oidc.eks.{REGION}.amazonaws.com/id/")
    assert first["endpoint"] != second["endpoint"]
    pem = base64.b64decode(first["certificateAuthority"]["data"])
    certificate = x509.load_pem_x509_certificate(pem)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_cluster_creator_gets_bootstrap_admin_access(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    creator = f"arn:aws:iam::{ACCOUNT}:user/moto"
    assert eks.list_access_entries(clusterName=network.name)["accessEntries"] == [creator]
    policies = eks.list_associated_access_policies(clusterName=network.name, principalArn=creator)
    assert [p["policyArn"] for p in policies["associatedAccessPolicies"]] == [CLUSTER_ADMIN]
    with pytest.raises(ClientError) as info:
        eks.create_access_entry(clusterName=network.name, principalArn=creator)
    assert error_code(info) == "ResourceInUseException"


def test_cluster_config_update_merges_and_is_recorded(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    update = eks.update_cluster_config(
        name=network.name, resourcesVpcConfig={"endpointPublicAccess": False, "endpointPrivateAccess": True}
    )["update"]
    assert update["type"] == "EndpointAccessUpdate"
    described = eks.describe_update(name=network.name, updateId=update["id"])["update"]
    assert described["status"] == "Successful"
    vpc = eks.describe_cluster(name=network.name)["cluster"]["resourcesVpcConfig"]
    assert vpc["endpointPublicAccess"] is False
    assert set(vpc["subnetIds"]) == set(network.subnet_ids), "moto replaced the whole VPC config"
    assert update["id"] in eks.list_updates(name=network.name)["updateIds"]
    eks.get_waiter("cluster_active").wait(name=network.name, WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_cluster_authentication_mode_moves_only_towards_api(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network, mode="API_AND_CONFIG_MAP")
    eks = clients("eks")
    eks.update_cluster_config(name=network.name, accessConfig={"authenticationMode": "API"})
    assert eks.describe_cluster(name=network.name)["cluster"]["accessConfig"]["authenticationMode"] == "API"
    with pytest.raises(ClientError) as info:
        eks.update_cluster_config(name=network.name, accessConfig={"authenticationMode": "CONFIG_MAP"})
    assert error_code(info) == "InvalidParameterException"


def test_cluster_version_update_one_minor_at_a_time(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    with pytest.raises(ClientError) as info:
        eks.update_cluster_version(name=network.name, version="1.33")
    assert error_code(info) == "InvalidParameterException"
    update = eks.update_cluster_version(name=network.name, version="1.32")["update"]
    assert update["type"] == "VersionUpdate"
    assert eks.describe_cluster(name=network.name)["cluster"]["version"] == "1.32"


# --- eks-nodegroup ------------------------------------------------------------------------------


def test_nodegroup_has_no_invented_remote_access_and_keeps_update_config(
    clients: ClientFactory, network: Network
) -> None:
    create_cluster(clients, network)
    template_id = create_launch_template(clients, network)
    create_nodegroup(
        clients,
        network,
        launchTemplate={"id": template_id, "version": "1"},
        updateConfig={"maxUnavailablePercentage": 33},
    )
    group = clients("eks").describe_nodegroup(clusterName=network.name, nodegroupName="ng1")["nodegroup"]
    assert "remoteAccess" not in group
    assert "remoteAccessSecurityGroup" not in group["resources"]
    assert group["updateConfig"] == {"maxUnavailablePercentage": 33}
    assert group["nodeRepairConfig"] == {"enabled": False}
    assert group["version"] == "1.31"
    assert group["releaseVersion"].startswith("1.31.")
    assert "diskSize" not in group
    assert group["launchTemplate"] == {"id": template_id, "name": f"{network.name}-lt", "version": "1"}
    assert group["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["tags"] == {"team": "ml"}


def test_nodegroup_defaults_and_requested_remote_access(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    create_nodegroup(clients, network, remoteAccess={"ec2SshKey": "ops"})
    group = clients("eks").describe_nodegroup(clusterName=network.name, nodegroupName="ng1")["nodegroup"]
    assert group["remoteAccess"]["ec2SshKey"] == "ops"
    assert group["updateConfig"] == {"maxUnavailable": 1}


def test_nodegroup_rejects_missing_launch_template_and_bad_sizes(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    for extra in (
        {"launchTemplate": {"id": "lt-0123456789abcdef0", "version": "1"}},
        {"scalingConfig": {"minSize": 2, "desiredSize": 1, "maxSize": 3}},
        {"updateConfig": {"maxUnavailable": 1, "maxUnavailablePercentage": 10}},
    ):
        with pytest.raises(ClientError) as info:
            create_nodegroup(clients, network, **extra)
        assert error_code(info) == "InvalidParameterException"


def test_nodegroup_updates_are_recorded(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    template_id = create_launch_template(clients, network)
    create_nodegroup(clients, network, launchTemplate={"id": template_id, "version": "1"})
    eks, ec2 = clients("eks"), clients("ec2")

    config = eks.update_nodegroup_config(
        clusterName=network.name, nodegroupName="ng1", scalingConfig={"minSize": 0, "desiredSize": 2, "maxSize": 3}
    )["update"]
    found = eks.describe_update(name=network.name, updateId=config["id"], nodegroupName="ng1")["update"]
    assert found["status"] == "Successful"

    ec2.create_launch_template_version(LaunchTemplateId=template_id, LaunchTemplateData={"ImageId": "ami-1"})
    version = eks.update_nodegroup_version(
        clusterName=network.name, nodegroupName="ng1", launchTemplate={"id": template_id, "version": "2"}
    )["update"]
    assert eks.describe_update(name=network.name, updateId=version["id"], nodegroupName="ng1")["update"]["type"] == (
        "VersionUpdate"
    )
    group = eks.describe_nodegroup(clusterName=network.name, nodegroupName="ng1")["nodegroup"]
    assert group["launchTemplate"]["version"] == "2"
    assert group["scalingConfig"]["maxSize"] == 3
    eks.get_waiter("nodegroup_active").wait(
        clusterName=network.name, nodegroupName="ng1", WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )


# --- eks-addons ---------------------------------------------------------------------------------


def test_addon_lifecycle(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    created = eks.create_addon(
        clusterName=network.name,
        addonName="vpc-cni",
        addonVersion=VERSIONS["vpc-cni"],
        serviceAccountRoleArn=network.admin_role_arn,
        configurationValues='{"enableNetworkPolicy":"true"}',
        resolveConflicts="OVERWRITE",
        tags={"team": "ml"},
    )["addon"]
    assert created["status"] == "ACTIVE"
    assert created["addonArn"].startswith(f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/{network.name}/vpc-cni/")
    eks.get_waiter("addon_active").wait(clusterName=network.name, addonName="vpc-cni", WaiterConfig={"Delay": 1})

    addon = eks.describe_addon(clusterName=network.name, addonName="vpc-cni")["addon"]
    assert addon["addonVersion"] == VERSIONS["vpc-cni"]
    assert addon["serviceAccountRoleArn"] == network.admin_role_arn
    assert addon["configurationValues"] == '{"enableNetworkPolicy":"true"}'
    assert addon["tags"] == {"team": "ml"}
    assert eks.list_addons(clusterName=network.name)["addons"] == ["vpc-cni"]

    update = eks.update_addon(clusterName=network.name, addonName="vpc-cni", addonVersion="v1.19.5-eksbuild.3")[
        "update"
    ]
    assert eks.describe_update(name=network.name, updateId=update["id"], addonName="vpc-cni")["update"]["type"] == (
        "AddonUpdate"
    )
    assert (
        eks.describe_addon(clusterName=network.name, addonName="vpc-cni")["addon"]["addonVersion"]
        == "v1.19.5-eksbuild.3"
    )

    eks.delete_addon(clusterName=network.name, addonName="vpc-cni", preserve=False)
    with pytest.raises(ClientError) as info:
        eks.describe_addon(clusterName=network.name, addonName="vpc-cni")
    assert error_code(info) == "ResourceNotFoundException"
    eks.get_waiter("addon_deleted").wait(clusterName=network.name, addonName="vpc-cni", WaiterConfig={"Delay": 1})


def test_all_platform_addons_and_default_version(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    for name, version in VERSIONS.items():
        eks.create_addon(clusterName=network.name, addonName=name, addonVersion=version)
    assert eks.list_addons(clusterName=network.name)["addons"] == sorted(VERSIONS)
    eks.create_addon(clusterName=network.name, addonName="aws-ebs-csi-driver")
    assert eks.describe_addon(clusterName=network.name, addonName="aws-ebs-csi-driver")["addon"]["addonVersion"]


def test_addon_errors(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    eks.create_addon(clusterName=network.name, addonName="coredns", addonVersion=VERSIONS["coredns"])
    cases = [
        ({"addonName": "coredns", "addonVersion": VERSIONS["coredns"]}, "ResourceInUseException"),
        ({"addonName": "not-an-addon"}, "InvalidParameterException"),
        ({"addonName": "kube-proxy", "addonVersion": "latest"}, "InvalidParameterException"),
        ({"addonName": "vpc-cni", "serviceAccountRoleArn": "arn:aws:iam::1:user/x"}, "InvalidParameterException"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as info:
            eks.create_addon(clusterName=network.name, **kwargs)
        assert error_code(info) == code, kwargs
    with pytest.raises(ClientError) as info:
        eks.create_addon(clusterName="missing", addonName="coredns")
    assert error_code(info) == "ResourceNotFoundException"


def test_describe_addon_versions(clients: ClientFactory) -> None:
    eks = clients("eks")
    addons = eks.describe_addon_versions(addonName="kube-proxy", kubernetesVersion="1.32")["addons"]
    assert [a["addonName"] for a in addons] == ["kube-proxy"]
    versions = addons[0]["addonVersions"]
    assert [v["addonVersion"] for v in versions] == ["v1.32.0-eksbuild.2"]
    assert versions[0]["compatibilities"][0] == {
        "clusterVersion": "1.32",
        "platformVersions": ["*"],
        "defaultVersion": True,
    }
    everything = eks.describe_addon_versions()["addons"]
    assert set(VERSIONS) <= {a["addonName"] for a in everything}


# --- eks-access-entries -------------------------------------------------------------------------


def test_access_entry_and_policy_association(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    role = network.admin_role_arn
    entry = eks.create_access_entry(clusterName=network.name, principalArn=role, tags={"team": "ml"})["accessEntry"]
    assert entry["type"] == "STANDARD"
    assert entry["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{network.name}-admin/{{{{SessionName}}}}"
    assert entry["accessEntryArn"].startswith(
        f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/{network.name}/role/{ACCOUNT}/"
    )
    assert eks.describe_access_entry(clusterName=network.name, principalArn=role)["accessEntry"]["tags"] == {
        "team": "ml"
    }

    associated = eks.associate_access_policy(
        clusterName=network.name, principalArn=role, policyArn=CLUSTER_ADMIN, accessScope={"type": "cluster"}
    )
    assert associated["associatedAccessPolicy"]["accessScope"] == {"type": "cluster", "namespaces": []}
    listed = eks.list_associated_access_policies(clusterName=network.name, principalArn=role)[
        "associatedAccessPolicies"
    ]
    assert [p["policyArn"] for p in listed] == [CLUSTER_ADMIN]
    assert role in eks.list_access_entries(clusterName=network.name, associatedPolicyArn=CLUSTER_ADMIN)["accessEntries"]

    eks.update_access_entry(clusterName=network.name, principalArn=role, kubernetesGroups=["viewers"])
    assert eks.describe_access_entry(clusterName=network.name, principalArn=role)["accessEntry"][
        "kubernetesGroups"
    ] == ["viewers"]
    eks.disassociate_access_policy(clusterName=network.name, principalArn=role, policyArn=CLUSTER_ADMIN)
    assert (
        eks.list_associated_access_policies(clusterName=network.name, principalArn=role)["associatedAccessPolicies"]
        == []
    )
    eks.delete_access_entry(clusterName=network.name, principalArn=role)
    with pytest.raises(ClientError) as info:
        eks.describe_access_entry(clusterName=network.name, principalArn=role)
    assert error_code(info) == "ResourceNotFoundException"


def test_access_policy_validation(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    role = network.admin_role_arn
    eks.create_access_entry(clusterName=network.name, principalArn=role)
    for policy, scope in (
        ("arn:aws:eks::aws:cluster-access-policy/AmazonEKSRootPolicy", {"type": "cluster"}),
        (CLUSTER_ADMIN, {"type": "namespace"}),
    ):
        with pytest.raises(ClientError) as info:
            eks.associate_access_policy(
                clusterName=network.name, principalArn=role, policyArn=policy, accessScope=scope
            )
        assert error_code(info) == "InvalidParameterException"
    eks.associate_access_policy(
        clusterName=network.name,
        principalArn=role,
        policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        accessScope={"type": "namespace", "namespaces": ["triton"]},
    )
    names = {p["name"] for p in eks.list_access_policies()["accessPolicies"]}
    assert {"AmazonEKSClusterAdminPolicy", "AmazonEKSViewPolicy"} <= names


# --- eks-tagging --------------------------------------------------------------------------------


def test_tagging_nodegroups_addons_and_access_entries(clients: ClientFactory, network: Network) -> None:
    create_cluster(clients, network)
    eks = clients("eks")
    arns = [
        create_nodegroup(clients, network)["nodegroupArn"],
        eks.create_addon(clusterName=network.name, addonName="coredns", addonVersion=VERSIONS["coredns"])["addon"][
            "addonArn"
        ],
        eks.create_access_entry(clusterName=network.name, principalArn=network.admin_role_arn)["accessEntry"][
            "accessEntryArn"
        ],
    ]
    for arn in arns:
        eks.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2", "c": "3"})
        eks.untag_resource(resourceArn=arn, tagKeys=["a", "b"])
        assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {
            "c": "3",
            **({"team": "ml"} if "nodegroup" in arn else {}),
        }
    group = eks.describe_nodegroup(clusterName=network.name, nodegroupName="ng1")["nodegroup"]
    assert group["tags"] == {"team": "ml", "c": "3"}
    with pytest.raises(ClientError) as info:
        eks.tag_resource(resourceArn=f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{network.name}/nope/x", tags={"a": "1"})
    assert error_code(info) == "ResourceNotFoundException"


# --- ec2-launch-template-tags -------------------------------------------------------------------


def test_launch_template_tags_stay_on_the_template(clients: ClientFactory, unique_name: str) -> None:
    ec2 = clients("ec2")
    template_id = ec2.create_launch_template(
        LaunchTemplateName=f"{unique_name}-lt",
        LaunchTemplateData={
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "node"}]}]
        },
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": "ml"}]}],
    )["LaunchTemplate"]["LaunchTemplateId"]
    data = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"][0][
        "LaunchTemplateData"
    ]
    assert [spec["ResourceType"] for spec in data["TagSpecifications"]] == ["instance"]

    ec2.create_tags(Resources=[template_id], Tags=[{"Key": "team", "Value": "platform"}, {"Key": "x", "Value": "y"}])
    ec2.delete_tags(Resources=[template_id], Tags=[{"Key": "x"}])
    template = ec2.describe_launch_templates(LaunchTemplateIds=[template_id])["LaunchTemplates"][0]
    assert template["Tags"] == [{"Key": "team", "Value": "platform"}]


# --- ec2-sg-rule-descriptions -------------------------------------------------------------------


def test_group_pair_rules_keep_their_description(clients: ClientFactory, network: Network) -> None:
    ec2 = clients("ec2")
    ec2.authorize_security_group_ingress(
        GroupId=network.node_sg_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": network.cluster_sg_id, "Description": "Cluster API to node"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh from the VPN"}],
            },
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [network.node_sg_id]}])
    described = {
        rule.get("ReferencedGroupInfo", {}).get("GroupId") or rule.get("CidrIpv4"): rule.get("Description")
        for rule in rules["SecurityGroupRules"]
        if not rule["IsEgress"]
    }
    assert described == {network.cluster_sg_id: "Cluster API to node", "10.0.0.0/8": "ssh from the VPN"}


# --- efs-delete-file-system-policy --------------------------------------------------------------


def test_efs_file_system_policy_can_be_deleted(clients: ClientFactory, unique_name: str) -> None:
    efs = clients("efs")
    file_system = efs.create_file_system(CreationToken=unique_name, Encrypted=True)["FileSystemId"]
    efs.put_file_system_policy(
        FileSystemId=file_system,
        Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},'
        '"Action":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}',
    )
    efs.delete_file_system_policy(FileSystemId=file_system)
    with pytest.raises(ClientError) as info:
        efs.describe_file_system_policy(FileSystemId=file_system)
    assert error_code(info) == "PolicyNotFound"
    with pytest.raises(ClientError) as info:
        efs.delete_file_system_policy(FileSystemId="fs-00000000")
    assert error_code(info) == "FileSystemNotFound"
