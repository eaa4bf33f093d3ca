# Unit tests of modules/eks with a mocked AWS provider (no credentials, no network):
#   terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:sts::123456789012:assumed-role/terraform-ci/session"
    }
  }

  mock_data "aws_iam_session_context" {
    defaults = {
      issuer_arn = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/terraform-ci"
    }
  }

  mock_resource "aws_eks_cluster" {
    defaults = {
      arn      = "arn:aws:eks:us-east-1:123456789012:cluster/mlplat-test"
      endpoint = "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com"
      identity = [{
        oidc = [{
          issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
        }]
      }]
      certificate_authority = [{
        data = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"
      }]
    }
  }

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mlplat-test-irsa"
    }
  }

  mock_resource "aws_eks_access_entry" {
    defaults = {
      access_entry_arn = "arn:aws:eks:us-east-1:123456789012:access-entry/mlplat-test/role/123456789012/admin/0123456789abcdef"
    }
  }

  mock_resource "aws_eks_addon" {
    defaults = {
      arn = "arn:aws:eks:us-east-1:123456789012:addon/mlplat-test/vpc-cni/0123456789abcdef"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/mlplat-test/cluster"
    }
  }
}

variables {
  cluster_name            = "mlplat-test"
  kubernetes_version      = "1.32"
  cluster_role_arn        = "arn:aws:iam::123456789012:role/mlplat-test-cluster"
  subnet_ids              = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
  security_group_ids      = ["sg-0a1b2c3d4e5f60001"]
  endpoint_public_access  = true
  endpoint_private_access = true
  public_access_cidrs     = ["203.0.113.0/24"]
  enabled_log_types       = ["api", "audit", "authenticator"]
  authentication_mode     = "API"
  admin_role_arns         = []
  secrets_kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
  addon_versions = {
    "vpc-cni"                = "v1.19.2-eksbuild.1"
    "coredns"                = "v1.11.4-eksbuild.2"
    "kube-proxy"             = "v1.32.0-eksbuild.2"
    "eks-pod-identity-agent" = "v1.3.4-eksbuild.1"
    "aws-efs-csi-driver"     = "v2.1.4-eksbuild.1"
    "aws-ebs-csi-driver"     = "v1.44.0-eksbuild.1"
  }
  ebs_csi_kms_key_arns = ["arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4444-5555-6666-444455556666"]
  tags = {
    "mlplat:env" = "test"
    team         = "ml-platform"
  }
}

# Plan-time checks of the cluster: secrets encryption, logging, endpoint access, access config.
run "cluster_is_encrypted_logged_and_access_managed" {
  command = plan

  assert {
    condition     = one(aws_eks_cluster.this.encryption_config).resources == toset(["secrets"])
    error_message = "Kubernetes secrets must be envelope-encrypted."
  }

  assert {
    condition     = one(one(aws_eks_cluster.this.encryption_config).provider).key_arn == var.secrets_kms_key_arn
    error_message = "Secrets encryption must use secrets_kms_key_arn."
  }

  assert {
    condition     = aws_eks_cluster.this.enabled_cluster_log_types == toset(["api", "audit", "authenticator"])
    error_message = "enabled_cluster_log_types must follow enabled_log_types."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/eks/mlplat-test/cluster" && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The control-plane log group must be /aws/eks/<cluster>/cluster with a retention."
  }

  assert {
    condition     = one(aws_eks_cluster.this.vpc_config).endpoint_private_access && one(aws_eks_cluster.this.vpc_config).public_access_cidrs == toset(["203.0.113.0/24"])
    error_message = "vpc_config must follow the endpoint variables."
  }

  assert {
    condition     = one(aws_eks_cluster.this.vpc_config).subnet_ids == toset(var.subnet_ids) && one(aws_eks_cluster.this.vpc_config).security_group_ids == toset(var.security_group_ids)
    error_message = "vpc_config must use the given subnets and security groups."
  }

  assert {
    condition     = one(aws_eks_cluster.this.access_config).authentication_mode == "API"
    error_message = "authentication_mode must come from the variable."
  }

  assert {
    condition     = one(aws_eks_cluster.this.access_config).bootstrap_cluster_creator_admin_permissions == true
    error_message = "The creator must get bootstrap admin permissions."
  }
}

# Apply-time checks (mocked computed values): access entries, add-ons, IRSA, tags.
# The IRSA role module has its own tests; here its roles get distinct ARNs to check the wiring.
run "admins_addons_irsa_and_tags" {
  command = apply

  override_module {
    target  = module.vpc_cni_irsa
    outputs = { arn = "arn:aws:iam::123456789012:role/mlplat-test-vpc-cni" }
  }

  override_module {
    target  = module.efs_csi_irsa
    outputs = { arn = "arn:aws:iam::123456789012:role/mlplat-test-efs-csi" }
  }

  override_module {
    target  = module.ebs_csi_irsa
    outputs = { arn = "arn:aws:iam::123456789012:role/mlplat-test-ebs-csi" }
  }

  variables {
    admin_role_arns = [
      "arn:aws:iam::123456789012:role/terraform-ci",
      "arn:aws:iam::123456789012:role/platform-admin",
    ]
  }

  assert {
    condition     = keys(aws_eks_access_entry.this) == ["arn:aws:iam::123456789012:role/platform-admin"]
    error_message = "Only non-creator admin roles get an access entry (EKS already bootstraps the creator)."
  }

  assert {
    condition     = aws_eks_access_policy_association.this["arn:aws:iam::123456789012:role/platform-admin"].policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    error_message = "Admin roles must be associated with AmazonEKSClusterAdminPolicy."
  }

  assert {
    condition     = one(aws_eks_access_policy_association.this["arn:aws:iam::123456789012:role/platform-admin"].access_scope).type == "cluster"
    error_message = "The admin association must be cluster-scoped."
  }

  assert {
    condition     = toset(keys(aws_eks_addon.before_nodes)) == toset(["vpc-cni", "kube-proxy", "eks-pod-identity-agent"])
    error_message = "The cluster installs exactly the add-ons that come before nodes: vpc-cni, kube-proxy, eks-pod-identity-agent."
  }

  assert {
    condition     = length(setintersection(keys(aws_eks_addon.before_nodes), ["coredns", "aws-efs-csi-driver", "aws-ebs-csi-driver"])) == 0
    error_message = "coredns and the EFS and EBS CSI drivers need nodes: modules/nodegroups installs them, not the cluster."
  }

  assert {
    condition     = output.addon_versions == { "vpc-cni" = "v1.19.2-eksbuild.1", "kube-proxy" = "v1.32.0-eksbuild.2", "eks-pod-identity-agent" = "v1.3.4-eksbuild.1" }
    error_message = "The addon_versions output must list the cluster's add-ons only."
  }

  assert {
    condition     = alltrue([for name, addon in aws_eks_addon.before_nodes : addon.addon_version == var.addon_versions[name]])
    error_message = "Add-on versions must come from addon_versions."
  }

  assert {
    condition     = alltrue([for addon in values(aws_eks_addon.before_nodes) : addon.resolve_conflicts_on_create == "OVERWRITE" && addon.resolve_conflicts_on_update == "OVERWRITE"])
    error_message = "Add-ons must overwrite conflicting self-managed configuration."
  }

  assert {
    condition     = aws_eks_addon.before_nodes["vpc-cni"].service_account_role_arn == "arn:aws:iam::123456789012:role/mlplat-test-vpc-cni" && aws_eks_addon.before_nodes["kube-proxy"].service_account_role_arn == null
    error_message = "vpc-cni must run with its IRSA role (the EFS and EBS CSI roles are output for the nodegroups stack)."
  }

  assert {
    condition     = jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).enableNetworkPolicy == "true"
    error_message = "The VPC CNI must enforce network policies by default."
  }

  assert {
    condition     = jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).env.ENABLE_PREFIX_DELEGATION == "false"
    error_message = "Prefix delegation must be off by default."
  }

  assert {
    condition     = one(aws_iam_openid_connect_provider.this.client_id_list) == "sts.amazonaws.com" && aws_iam_openid_connect_provider.this.url == "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    error_message = "The OIDC provider must federate the cluster issuer for sts.amazonaws.com."
  }

  assert {
    condition     = output.oidc_issuer_url == "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" && output.vpc_cni_role_arn == "arn:aws:iam::123456789012:role/mlplat-test-vpc-cni" && output.efs_csi_role_arn == "arn:aws:iam::123456789012:role/mlplat-test-efs-csi" && output.ebs_csi_role_arn == "arn:aws:iam::123456789012:role/mlplat-test-ebs-csi"
    error_message = "The outputs must expose the issuer and the IRSA roles."
  }

  assert {
    condition = alltrue([
      for tags in concat(
        [aws_eks_cluster.this.tags, aws_cloudwatch_log_group.this.tags, aws_iam_openid_connect_provider.this.tags],
        [for addon in values(aws_eks_addon.before_nodes) : addon.tags],
        [for entry in values(aws_eks_access_entry.this) : entry.tags],
      ) : tags["mlplat:env"] == "test" && tags["team"] == "ml-platform"
    ])
    error_message = "Every taggable resource must carry the module tags."
  }
}

run "vpc_cni_prefix_delegation_and_no_network_policy" {
  command = plan

  variables {
    vpc_cni_enable_network_policy    = false
    vpc_cni_enable_prefix_delegation = true
    log_kms_key_arn                  = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-7777-8888-9999-444455556666"
    log_retention_in_days            = 90
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days == 90
    error_message = "The log group must use log_kms_key_arn and log_retention_in_days."
  }

  assert {
    condition     = jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).enableNetworkPolicy == "false"
    error_message = "enableNetworkPolicy must follow vpc_cni_enable_network_policy."
  }

  assert {
    condition     = jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).env == { ENABLE_PREFIX_DELEGATION = "true", WARM_PREFIX_TARGET = "1" }
    error_message = "Prefix delegation must set ENABLE_PREFIX_DELEGATION and WARM_PREFIX_TARGET."
  }
}

run "rejects_invalid_inputs" {
  command = plan

  variables {
    enabled_log_types   = ["api", "kubelet"]
    authentication_mode = "CONFIG_MAP"
    addon_versions = {
      "vpc-cni" = "v1.19.2-eksbuild.1"
      "coredns" = "latest"
    }
  }

  expect_failures = [
    var.enabled_log_types,
    var.authentication_mode,
    var.addon_versions,
  ]
}

# The cluster needs only the keys of its own add-ons; the environment's full map is accepted too.
run "accepts_addon_versions_without_the_after_node_addons" {
  command = plan

  variables {
    addon_versions = {
      "vpc-cni"                = "v1.19.2-eksbuild.1"
      "kube-proxy"             = "v1.32.0-eksbuild.2"
      "eks-pod-identity-agent" = "v1.3.4-eksbuild.1"
    }
  }

  assert {
    condition     = toset(keys(aws_eks_addon.before_nodes)) == toset(["vpc-cni", "kube-proxy", "eks-pod-identity-agent"])
    error_message = "The cluster's add-ons must not need coredns or aws-efs-csi-driver pins."
  }
}

run "rejects_unknown_addon_names" {
  command = plan

  variables {
    addon_versions = {
      "vpc-cni"                = "v1.19.2-eksbuild.1"
      "kube-proxy"             = "v1.32.0-eksbuild.2"
      "eks-pod-identity-agent" = "v1.3.4-eksbuild.1"
      "snapshot-controller"    = "v8.2.0-eksbuild.1"
    }
  }

  expect_failures = [var.addon_versions]
}

# The EBS CSI controller's role (the add-on itself comes with modules/nodegroups): trusted by its
# service account only, AmazonEBSCSIDriverPolicy, and use of the customer-managed keys of encrypted
# volumes. The role module's resources are checked through its outputs and the policy it is given.
run "ebs_csi_role_trusts_its_controller_and_may_use_the_volume_key" {
  command = apply

  assert {
    condition     = module.ebs_csi_irsa.subjects == ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    error_message = "Only kube-system:ebs-csi-controller-sa may assume the EBS CSI role (the node DaemonSet calls no AWS API)."
  }

  assert {
    condition     = module.ebs_csi_irsa.name == "mlplat-test-ebs-csi"
    error_message = "The EBS CSI role is named <cluster>-ebs-csi."
  }

  assert {
    condition     = tolist(keys(local.ebs_csi_inline_policies)) == tolist(["ebs-csi-kms"]) && jsondecode(local.ebs_csi_inline_policies["ebs-csi-kms"]).Version == "2012-10-17"
    error_message = "With a customer-managed key, the EBS CSI role gets exactly one inline policy, ebs-csi-kms."
  }

  assert {
    condition     = jsondecode(local.ebs_csi_inline_policies["ebs-csi-kms"]).Statement[0].Action == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"] && jsondecode(local.ebs_csi_inline_policies["ebs-csi-kms"]).Statement[0].Condition == { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    error_message = "KMS grants must be limited to grants for AWS resources (EC2 attaching the volume)."
  }

  assert {
    condition     = toset(jsondecode(local.ebs_csi_inline_policies["ebs-csi-kms"]).Statement[1].Action) == toset(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]) && !can(jsondecode(local.ebs_csi_inline_policies["ebs-csi-kms"]).Statement[1].Condition)
    error_message = "The EBS CSI role must be able to encrypt, decrypt, re-encrypt, generate data keys and describe the key."
  }

  assert {
    condition     = alltrue([for statement in jsondecode(local.ebs_csi_inline_policies["ebs-csi-kms"]).Statement : statement.Effect == "Allow" && tolist(statement.Resource) == var.ebs_csi_kms_key_arns])
    error_message = "The KMS statements must be scoped to ebs_csi_kms_key_arns, never to every key."
  }
}

run "ebs_csi_role_without_customer_keys_gets_no_kms_policy" {
  command = plan

  variables {
    ebs_csi_kms_key_arns = []
  }

  assert {
    condition     = module.ebs_csi_irsa.subjects == ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    error_message = "The EBS CSI role exists whether or not a customer-managed key is given."
  }

  assert {
    condition     = length(local.ebs_csi_inline_policies) == 0
    error_message = "No customer-managed key given: the EBS CSI role gets no inline KMS policy."
  }
}

run "rejects_a_kms_alias_for_the_ebs_csi_role" {
  command = plan

  variables {
    ebs_csi_kms_key_arns = ["alias/mlplat-test-data"]
  }

  expect_failures = [var.ebs_csi_kms_key_arns]
}

run "rejects_a_cluster_without_any_endpoint" {
  command = plan

  variables {
    endpoint_public_access  = false
    endpoint_private_access = false
  }

  expect_failures = [aws_eks_cluster.this]
}
