data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

# The IAM principal running Terraform. EKS gives it cluster-admin on creation
# (bootstrap_cluster_creator_admin_permissions), so an explicit access entry for it would
# fail with ResourceInUseException: it is skipped in local.admin_role_arns.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  partition = data.aws_partition.current.partition

  # Role names are unique within an account whatever their path: compare "<account>/<type>/<name>",
  # so a creator role with a path (SSO roles live under /aws-reserved/...) matches its ARN without one.
  creator_key = join("/", [
    split(":", data.aws_iam_session_context.current.issuer_arn)[4],
    split("/", split(":", data.aws_iam_session_context.current.issuer_arn)[5])[0],
    reverse(split("/", data.aws_iam_session_context.current.issuer_arn))[0],
  ])
  admin_role_arns = toset([
    for arn in var.admin_role_arns : arn
    if join("/", [split(":", arn)[4], "role", reverse(split("/", arn))[0]]) != local.creator_key
  ])

  oidc_issuer_url = try(aws_eks_cluster.this.identity[0].oidc[0].issuer, "")

  # IAM role names are limited to 64 characters.
  role_name_base = substr(var.cluster_name, 0, 52)

  # Customer-managed keys of encrypted volumes (the StorageClass's kmsKeyId): EC2 creates and attaches
  # them through grants the driver's role asks for, so the role needs the grant actions (for AWS
  # resources only) and key use. AmazonEBSCSIDriverPolicy has no KMS permission at all. No key given:
  # no inline policy.
  ebs_csi_inline_policies = length(var.ebs_csi_kms_key_arns) == 0 ? {} : { "ebs-csi-kms" = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "GrantsForEncryptedVolumes"
        Effect    = "Allow"
        Action    = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
        Resource  = var.ebs_csi_kms_key_arns
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
      },
      {
        Sid      = "UseKeyForEncryptedVolumes"
        Effect   = "Allow"
        Action   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource = var.ebs_csi_kms_key_arns
      },
    ]
  }) }

  # VPC CNI add-on configuration (schema of `aws eks describe-addon-configuration`).
  vpc_cni_configuration = jsonencode({
    enableNetworkPolicy = tostring(var.vpc_cni_enable_network_policy)
    env = merge(
      { ENABLE_PREFIX_DELEGATION = tostring(var.vpc_cni_enable_prefix_delegation) },
      var.vpc_cni_enable_prefix_delegation ? { WARM_PREFIX_TARGET = "1" } : {},
    )
  })

  # Add-ons installed with the control plane, before any node exists: DaemonSets that nodes need
  # (vpc-cni, or nodes never become Ready) or that merely wait for nodes. coredns,
  # aws-efs-csi-driver and aws-ebs-csi-driver run Deployments that stay DEGRADED until nodes run their
  # pods: the nodegroups module installs them after the node groups. The version comes from
  # var.addon_versions.
  addons = {
    "vpc-cni" = {
      service_account_role_arn = module.vpc_cni_irsa.arn
      configuration_values     = local.vpc_cni_configuration
    }
    "kube-proxy" = {
      service_account_role_arn = null
      configuration_values     = null
    }
    "eks-pod-identity-agent" = {
      service_account_role_arn = null
      configuration_values     = null
    }
  }
}

################################################################################
# Control plane
################################################################################

# Created before the cluster so EKS writes into a log group with retention (and
# optional KMS) instead of creating one that never expires.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/eks/${var.cluster_name}/cluster"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_eks_cluster" "this" {
  name                      = var.cluster_name
  role_arn                  = var.cluster_role_arn
  version                   = var.kubernetes_version
  enabled_cluster_log_types = var.enabled_log_types

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = var.security_group_ids
    endpoint_private_access = var.endpoint_private_access
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.public_access_cidrs
  }

  access_config {
    authentication_mode                         = var.authentication_mode
    bootstrap_cluster_creator_admin_permissions = true
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = var.secrets_kms_key_arn
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.endpoint_public_access || var.endpoint_private_access
      error_message = "At least one of endpoint_public_access and endpoint_private_access must be true."
    }
  }

  depends_on = [aws_cloudwatch_log_group.this]
}

################################################################################
# Cluster access (access entries)
################################################################################

resource "aws_eks_access_entry" "this" {
  for_each = local.admin_role_arns

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  type          = "STANDARD"

  tags = var.tags
}

resource "aws_eks_access_policy_association" "this" {
  for_each = local.admin_role_arns

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.this[each.key].principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

################################################################################
# IRSA: OIDC provider and the add-on service-account roles
################################################################################

# thumbprint_list is omitted (optional since provider 5.81 and in the IAM API): IAM then fetches
# the issuer certificate's thumbprint itself. No tls provider is available to compute one.
resource "aws_iam_openid_connect_provider" "this" {
  url            = local.oidc_issuer_url
  client_id_list = ["sts.amazonaws.com"]

  tags = merge(var.tags, { Name = "${var.cluster_name}-eks-irsa" })
}

# Add-on service-account roles, from the shared IRSA role module. The EFS and EBS CSI roles are created
# here, with the OIDC provider, but the add-ons that use them are installed by the nodegroups stack
# (efs_csi_role_arn / ebs_csi_role_arn outputs -> its variables of the same names).
module "vpc_cni_irsa" {
  source = "../security/modules/irsa-role"

  name              = "${local.role_name_base}-vpc-cni"
  description       = "IRSA role of the VPC CNI (kube-system/aws-node) in EKS cluster ${var.cluster_name}."
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = ["kube-system:aws-node"]
  policy_arns       = { cni = "arn:${local.partition}:iam::aws:policy/AmazonEKS_CNI_Policy" }

  tags = var.tags
}

module "efs_csi_irsa" {
  source = "../security/modules/irsa-role"

  name              = "${local.role_name_base}-efs-csi"
  description       = "IRSA role of the EFS CSI driver (kube-system/efs-csi-*-sa) in EKS cluster ${var.cluster_name}."
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = ["kube-system:efs-csi-controller-sa", "kube-system:efs-csi-node-sa"]
  policy_arns       = { efs = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy" }

  tags = var.tags
}

# Only the controller calls AWS (CreateVolume, AttachVolume, ...): the node DaemonSet needs no role.
module "ebs_csi_irsa" {
  source = "../security/modules/irsa-role"

  name              = "${local.role_name_base}-ebs-csi"
  description       = "IRSA role of the EBS CSI driver (kube-system/ebs-csi-controller-sa) in EKS cluster ${var.cluster_name}."
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer_url   = local.oidc_issuer_url
  service_accounts  = ["kube-system:ebs-csi-controller-sa"]
  policy_arns       = { ebs = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" }
  inline_policies   = local.ebs_csi_inline_policies

  tags = var.tags
}

################################################################################
# Managed add-ons (those that come before nodes; see local.addons)
################################################################################

resource "aws_eks_addon" "before_nodes" {
  for_each = local.addons

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = var.addon_versions[each.key]
  service_account_role_arn    = each.value.service_account_role_arn
  configuration_values        = each.value.configuration_values
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  # The add-on role must carry its policy before the add-on pods start using it.
  depends_on = [module.vpc_cni_irsa]
}

# Until the add-ons were split around the node groups, all five lived in aws_eks_addon.this. Keep the
# three that stay here, and forget (do not delete) coredns and aws-efs-csi-driver: deleting them would
# take cluster DNS and EFS mounts down until the nodegroups stack recreates them. That stack must then
# import them once (see README, "Upgrading an existing cluster").
moved {
  from = aws_eks_addon.this["vpc-cni"]
  to   = aws_eks_addon.before_nodes["vpc-cni"]
}

moved {
  from = aws_eks_addon.this["kube-proxy"]
  to   = aws_eks_addon.before_nodes["kube-proxy"]
}

moved {
  from = aws_eks_addon.this["eks-pod-identity-agent"]
  to   = aws_eks_addon.before_nodes["eks-pod-identity-agent"]
}

removed {
  from = aws_eks_addon.this

  lifecycle {
    destroy = false
  }
}
