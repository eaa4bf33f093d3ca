"""Integration: the production cluster and nodegroups stacks, unchanged, against the patched emulator.

Upstream resources (what the network and iam stacks output) are created with boto3. Terraform runs
as an assumed *deployer* role, which is also listed in ``admin_role_arns``: EKS bootstraps the
creator's access entry, so the module must skip it (a duplicate entry fails with 409, in EKS and in
the emulator alike). State lives in the emulator's S3 with ``use_lockfile``.

Checked: apply, a second ``plan -detailed-exitcode`` returning 0, an in-place update that also
converges, the outputs against what the emulator holds, and a clean destroy. The managed add-ons are
split around the nodes: the cluster stack installs only the DaemonSet add-ons (vpc-cni, kube-proxy,
eks-pod-identity-agent); coredns and the EFS and EBS CSI drivers, whose pods need nodes, come with the
nodegroups stack, after its node groups. The EBS CSI role may use the data key (the gp3 StorageClass's
kmsKeyId) through an inline policy.

checkov: the ``show -json`` of each stack's post-apply second plan (every value known, as in
tests/terraform's scan of the network, iam and storage stacks) is saved (``stack_plans``); checkov scans
them in the background during the destroy, and the test after the lifecycle one asserts that nothing
fails outside terraform/.checkov-skips.yaml. The cluster plan is the first one (the dev-like settings:
public endpoint open to 0.0.0.0/0, three log types), fed like the runner feeds it, including
``cloudwatch_log_kms_key_arn`` (the iam stack's data key).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.emulator import EmbeddedEmulator, EmulatorInfo
from tests.emulator.conftest import ACCOUNT, REGION, ClientFactory, Network, StackPlans, make_network
from tests.emulator.tfsupport import TIMINGS, copy_terraform_tree, needs_terraform, run_terraform, terraform_env
from tests.terraform.checkov_scan import SCANNED_ON_EMULATOR, find_checkov, load_skips, run_checkov, unexpected_findings

pytestmark = [pytest.mark.slow, needs_terraform]

CLUSTER = "mlplat-it"
BUCKET = "mlplat-it-tfstate"
ADDONS = {
    "vpc-cni": "v1.19.2-eksbuild.1",
    "coredns": "v1.11.4-eksbuild.2",
    "kube-proxy": "v1.32.0-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.4-eksbuild.1",
    "aws-efs-csi-driver": "v2.1.4-eksbuild.1",
    "aws-ebs-csi-driver": "v1.44.0-eksbuild.1",
}
AFTER_NODES = ("coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver")  # Deployments: the nodegroups stack
BEFORE_NODES = tuple(name for name in ADDONS if name not in AFTER_NODES)  # DaemonSets: the cluster stack


def cluster_vars(network: Network, deployer_arn: str) -> dict[str, Any]:
    return {
        "env": "it",
        "cluster_name": CLUSTER,
        "region": REGION,
        "tags": {"team": "ml-platform"},
        "kubernetes_version": "1.32",
        "endpoint_public_access": True,
        "endpoint_private_access": True,
        "public_access_cidrs": ["0.0.0.0/0"],
        "enabled_log_types": ["api", "audit", "authenticator"],
        "authentication_mode": "API",
        "admin_role_arns": [deployer_arn, network.admin_role_arn],
        "addon_versions": ADDONS,
        "private_subnet_ids": network.subnet_ids,
        "cluster_security_group_id": network.cluster_sg_id,
        "cluster_role_arn": network.cluster_role_arn,
        "eks_kms_key_arn": network.kms_key_arn,
        "cloudwatch_log_kms_key_arn": network.kms_key_arn,
    }


def nodegroup_vars(network: Network, addon_versions: dict[str, str], cluster_out: dict[str, Any]) -> dict[str, Any]:
    """The nodegroups stack's variables: ``addon_versions`` is the cluster stack's map (config), the CSI
    drivers' roles the cluster stack's outputs."""
    return {
        "env": "it",
        "cluster_name": CLUSTER,
        "region": REGION,
        "tags": {"team": "ml-platform"},
        "kubernetes_version": "1.32",
        "node_groups": {
            "cpu": {
                "instance_types": ["m5.large"],
                "capacity_type": "ON_DEMAND",
                "min_size": 1,
                "desired_size": 1,
                "max_size": 2,
                "disk_size_gib": 50,
                "labels": {"mlplat.io/pool": "cpu"},
                "taints": [],
                "gpu": False,
            },
            "gpu": {
                "instance_types": ["g4dn.xlarge"],
                "capacity_type": "ON_DEMAND",
                "min_size": 0,
                "desired_size": 1,
                "max_size": 1,
                "disk_size_gib": 100,
                "labels": {"mlplat.io/pool": "gpu"},
                "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
                "gpu": True,
            },
        },
        "private_subnet_ids": network.subnet_ids,
        "node_security_group_id": network.node_sg_id,
        "cpu_node_role_arn": network.node_role_arn,
        "gpu_node_role_arn": network.node_role_arn,
        "data_kms_key_arn": network.kms_key_arn,
        "addon_versions": addon_versions,
        "efs_csi_role_arn": cluster_out["efs_csi_role_arn"],
        "ebs_csi_role_arn": cluster_out["ebs_csi_role_arn"],
    }


class Stack:
    """One stack of a private copy of terraform/, with its own data dir and S3 state key."""

    def __init__(self, tree: Path, work: Path, name: str, env: dict[str, str]) -> None:
        self.dir = tree / "stacks" / name
        self.name = name
        self.env = terraform_env(work / name, env)
        self.vars = work / f"{name}.tfvars.json"

    def init(self) -> None:
        run_terraform(
            [
                "init",
                "-input=false",
                f"-backend-config=bucket={BUCKET}",
                f"-backend-config=key=it/{self.name}.tfstate",
                f"-backend-config=region={REGION}",
                "-backend-config=use_lockfile=true",
                "-backend-config=use_path_style=true",
            ],
            cwd=self.dir,
            env=self.env,
            timeout=120,
        )

    def apply(self, variables: dict[str, Any]) -> None:
        self.vars.write_text(json.dumps(variables))
        run_terraform(["apply", "-auto-approve", "-input=false", f"-var-file={self.vars}"], cwd=self.dir, env=self.env)

    def plan_exit_code(self, saved: StackPlans | None = None) -> int:
        """A second plan, which must be empty; with ``saved``, its ``show -json`` is kept for checkov."""
        plan_file = self.vars.with_suffix(".tfplan")
        result = run_terraform(
            ["plan", "-detailed-exitcode", "-input=false", f"-var-file={self.vars}", f"-out={plan_file}"],
            cwd=self.dir,
            env=self.env,
            ok_codes=(0, 2),
        )
        assert result.returncode == 0, f"second plan of {self.name} is not empty:\n{result.stdout[-8000:]}"
        if saved is not None:
            shown = run_terraform(["show", "-json", str(plan_file)], cwd=self.dir, env=self.env, timeout=60)
            saved.save(self.name, shown.stdout)
        return result.returncode

    def outputs(self) -> dict[str, Any]:
        result = run_terraform(["output", "-json"], cwd=self.dir, env=self.env, timeout=60)
        return {name: value["value"] for name, value in json.loads(result.stdout).items()}

    def destroy(self) -> None:
        run_terraform(
            ["destroy", "-auto-approve", "-input=false", f"-var-file={self.vars}"], cwd=self.dir, env=self.env
        )


def test_cluster_and_nodegroups_stacks_converge_and_destroy_clean(
    launcher: EmbeddedEmulator,
    emulator: EmulatorInfo,
    client_cache: ClientFactory,
    stack_plans: StackPlans,
    tmp_path: Path,
) -> None:
    launcher.reset()
    clients = client_cache
    network = make_network(clients, "mlplat-it")
    clients("s3").create_bucket(Bucket=BUCKET)
    iam, eks, ec2 = clients("iam"), clients("eks"), clients("ec2")

    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
    deployer_arn = iam.create_role(
        RoleName="mlplat-it-deployer",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]["Arn"]
    credentials = clients("sts").assume_role(RoleArn=deployer_arn, RoleSessionName="ci")["Credentials"]
    aws_env = {
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_REGION": REGION,
    }

    tree = copy_terraform_tree(tmp_path)
    cluster = Stack(tree, tmp_path / "work", "cluster", aws_env)
    nodegroups = Stack(tree, tmp_path / "work", "nodegroups", aws_env)

    # -- cluster ------------------------------------------------------------------------------------
    with ThreadPoolExecutor(max_workers=2) as pool:  # independent: init both stacks side by side
        for future in [pool.submit(cluster.init), pool.submit(nodegroups.init)]:
            future.result()
    variables = cluster_vars(network, deployer_arn)
    cluster.apply(variables)
    cluster.plan_exit_code(stack_plans)

    out = cluster.outputs()
    described = eks.describe_cluster(name=CLUSTER)["cluster"]
    assert out["cluster_name"] == CLUSTER
    assert out["cluster_arn"] == described["arn"]
    assert out["cluster_endpoint"] == described["endpoint"]
    assert out["cluster_version"] == "1.32"
    assert out["cluster_certificate_authority_data"] == described["certificateAuthority"]["data"]
    assert out["oidc_issuer_url"] == described["identity"]["oidc"]["issuer"]
    assert out["oidc_provider_arn"].endswith(out["oidc_issuer_url"].removeprefix("https://"))
    assert out["cluster_primary_security_group_id"] == described["resourcesVpcConfig"]["clusterSecurityGroupId"]
    assert out["vpc_cni_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-vpc-cni"
    assert out["efs_csi_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-efs-csi"
    assert out["ebs_csi_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-ebs-csi"

    assert described["accessConfig"]["authenticationMode"] == "API"
    assert described["encryptionConfig"][0]["provider"]["keyArn"] == network.kms_key_arn
    assert described["tags"]["mlplat:env"] == "it"
    (log_group,) = clients("logs").describe_log_groups(logGroupNamePrefix=f"/aws/eks/{CLUSTER}/")["logGroups"]
    assert (log_group["logGroupName"], log_group["kmsKeyId"]) == (f"/aws/eks/{CLUSTER}/cluster", network.kms_key_arn)
    assert set(eks.list_access_entries(clusterName=CLUSTER)["accessEntries"]) == {deployer_arn, network.admin_role_arn}
    # Only the add-ons that do not need nodes: coredns and the EFS CSI driver would stay DEGRADED on EKS.
    assert sorted(eks.list_addons(clusterName=CLUSTER)["addons"]) == sorted(BEFORE_NODES)
    addons = {name: eks.describe_addon(clusterName=CLUSTER, addonName=name)["addon"] for name in BEFORE_NODES}
    assert {name: addon["addonVersion"] for name, addon in addons.items()} == {n: ADDONS[n] for n in BEFORE_NODES}
    assert addons["vpc-cni"]["serviceAccountRoleArn"] == out["vpc_cni_role_arn"]
    assert json.loads(addons["vpc-cni"]["configurationValues"])["enableNetworkPolicy"] == "true"
    assert addons["kube-proxy"]["tags"]["mlplat:cluster"] == CLUSTER

    # The IRSA roles trust the cluster's OIDC provider for their service accounts only.
    issuer = out["oidc_issuer_url"].removeprefix("https://")
    for role, subjects, policy in (
        ("vpc-cni", ["system:serviceaccount:kube-system:aws-node"], "AmazonEKS_CNI_Policy"),
        (
            "efs-csi",
            [
                "system:serviceaccount:kube-system:efs-csi-controller-sa",
                "system:serviceaccount:kube-system:efs-csi-node-sa",
            ],
            "AmazonEFSCSIDriverPolicy",
        ),
        ("ebs-csi", ["system:serviceaccount:kube-system:ebs-csi-controller-sa"], "AmazonEBSCSIDriverPolicy"),
    ):
        trust = iam.get_role(RoleName=f"{CLUSTER}-{role}")["Role"]["AssumeRolePolicyDocument"]
        statement = trust["Statement"][0]
        assert statement["Principal"]["Federated"] == out["oidc_provider_arn"]
        assert statement["Condition"]["StringEquals"][f"{issuer}:sub"] in (subjects, subjects[0])
        assert statement["Condition"]["StringEquals"][f"{issuer}:aud"] == "sts.amazonaws.com"
        attached = iam.list_attached_role_policies(RoleName=f"{CLUSTER}-{role}")["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == [policy]
        inline = iam.list_role_policies(RoleName=f"{CLUSTER}-{role}")["PolicyNames"]
        assert inline == (["ebs-csi-kms"] if role == "ebs-csi" else [])
    # The EBS CSI role may use the data key (cloudwatch_log_kms_key_arn, as the runner feeds it) and
    # nothing else: grants only for AWS resources (EC2 attaching the volume), plus key use.
    kms = iam.get_role_policy(RoleName=f"{CLUSTER}-ebs-csi", PolicyName="ebs-csi-kms")["PolicyDocument"]
    grants, use = kms["Statement"]
    assert sorted(grants["Action"]) == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert sorted(use["Action"]) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert all(s["Resource"] in ([network.kms_key_arn], network.kms_key_arn) for s in (grants, use))

    # An in-place update (endpoint CIDRs, logging, add-on version, tags) converges too.
    variables.update(
        public_access_cidrs=["203.0.113.0/24"],
        enabled_log_types=["api", "audit"],
        addon_versions={**ADDONS, "vpc-cni": "v1.19.5-eksbuild.3"},
        vpc_cni_enable_prefix_delegation=True,
        tags={"team": "ml-platform", "owner": "it"},
    )
    cluster.apply(variables)
    cluster.plan_exit_code()
    assert eks.describe_addon(clusterName=CLUSTER, addonName="vpc-cni")["addon"]["addonVersion"] == "v1.19.5-eksbuild.3"
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["resourcesVpcConfig"]["publicAccessCidrs"] == [
        "203.0.113.0/24"
    ]

    # -- node groups --------------------------------------------------------------------------------
    # Fed as the runner feeds it: the cluster stack's add-on map and its efs/ebs_csi_role_arn outputs.
    node_variables = nodegroup_vars(network, variables["addon_versions"], out)
    nodegroups.apply(node_variables)
    nodegroups.plan_exit_code(stack_plans)
    stack_plans.start_scan()  # overlaps the assertions and the destroy below

    ng_out = nodegroups.outputs()
    assert ng_out["node_group_names"] == {"cpu": f"{CLUSTER}-cpu", "gpu": f"{CLUSTER}-gpu"}
    assert ng_out["addon_versions_installed"] == {name: ADDONS[name] for name in AFTER_NODES}
    assert sorted(eks.list_addons(clusterName=CLUSTER)["addons"]) == sorted(ADDONS)
    late = {name: eks.describe_addon(clusterName=CLUSTER, addonName=name)["addon"] for name in AFTER_NODES}
    assert late["aws-efs-csi-driver"]["serviceAccountRoleArn"] == out["efs_csi_role_arn"]
    assert late["aws-ebs-csi-driver"]["serviceAccountRoleArn"] == out["ebs_csi_role_arn"]
    assert late["aws-ebs-csi-driver"]["addonVersion"] == ADDONS["aws-ebs-csi-driver"]
    assert "serviceAccountRoleArn" not in late["coredns"]
    assert late["coredns"]["tags"]["mlplat:cluster"] == CLUSTER
    groups = [
        eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=n)["nodegroup"]
        for n in ng_out["node_group_names"].values()
    ]
    assert min(addon["createdAt"] for addon in late.values()) >= max(group["createdAt"] for group in groups)
    gpu = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=f"{CLUSTER}-gpu")["nodegroup"]
    assert ng_out["node_group_arns"]["gpu"] == gpu["nodegroupArn"]
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["labels"] == {"mlplat.io/pool": "gpu"}
    assert gpu["updateConfig"] == {"maxUnavailablePercentage": 33}
    assert gpu["launchTemplate"]["id"] == ng_out["launch_template_ids"]["gpu"]
    template = ec2.describe_launch_template_versions(LaunchTemplateId=ng_out["launch_template_ids"]["gpu"])[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    assert template["MetadataOptions"]["HttpTokens"] == "required"
    assert template["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    ebs = template["BlockDeviceMappings"][0]["Ebs"]
    assert (ebs["Encrypted"], ebs["VolumeType"], ebs["VolumeSize"], ebs["KmsKeyId"]) == (
        True,
        "gp3",
        100,
        network.kms_key_arn,
    )

    # -- teardown in reverse order ---------------------------------------------------------------
    nodegroups.destroy()
    assert eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"] == []
    assert sorted(eks.list_addons(clusterName=CLUSTER)["addons"]) == sorted(BEFORE_NODES)
    cluster_sg = described["resourcesVpcConfig"]["clusterSecurityGroupId"]
    cluster.destroy()

    assert CLUSTER not in eks.list_clusters()["clusters"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    roles = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    assert not {f"{CLUSTER}-vpc-cni", f"{CLUSTER}-efs-csi", f"{CLUSTER}-ebs-csi"} & roles
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}])
    assert cluster_sg not in {g["GroupId"] for g in groups["SecurityGroups"]}
    log_groups = clients("logs").describe_log_groups(logGroupNamePrefix=f"/aws/eks/{CLUSTER}")["logGroups"]
    assert log_groups == []
    keys = [obj["Key"] for obj in clients("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert not [key for key in keys if key.endswith(".tflock")], keys
    print("\n".join(f"{seconds:6.1f}s  {command}" for command, seconds in TIMINGS))  # shown with -s


def test_checkov_finds_nothing_outside_the_skip_file_in_cluster_and_nodegroups_plans(stack_plans: StackPlans) -> None:
    """Runs after the lifecycle test above (same module), on the plans it saved."""
    binary = find_checkov()
    if binary is None:
        pytest.skip("checkov not found: set MLPLAT_CHECKOV to its executable or put checkov on PATH")
    if set(stack_plans.plans) != set(SCANNED_ON_EMULATOR):
        pytest.skip(
            f"plans saved: {sorted(stack_plans.plans)}: test_cluster_and_nodegroups_stacks_converge_and_destroy_clean "
            "saves them; it did not run in this session or failed before its second plans"
        )
    if stack_plans.scan is not None:
        scan = stack_plans.scan.result(timeout=600)
    else:
        scan = run_checkov(binary, [stack_plans.plans[name] for name in sorted(stack_plans.plans)])
    assert scan.error is None, scan.error
    assert scan.passed > 20, f"checkov passed only {scan.passed} checks: did it scan the plans?"
    unexpected = unexpected_findings(scan, load_skips())
    assert not unexpected, "checkov findings (fix them, or justify a skip in the skip file):\n" + "\n".join(unexpected)
