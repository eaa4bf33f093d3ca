locals {
  tags = merge(var.tags, {
    "mlplat:env"     = var.env
    "mlplat:cluster" = var.cluster_name
  })
}

module "eks" {
  source = "../../modules/eks"

  cluster_name       = var.cluster_name
  kubernetes_version = var.kubernetes_version
  cluster_role_arn   = var.cluster_role_arn
  subnet_ids         = var.private_subnet_ids
  security_group_ids = [var.cluster_security_group_id]

  endpoint_public_access  = var.endpoint_public_access
  endpoint_private_access = var.endpoint_private_access
  public_access_cidrs     = var.public_access_cidrs
  enabled_log_types       = var.enabled_log_types
  log_kms_key_arn         = var.cloudwatch_log_kms_key_arn

  authentication_mode = var.authentication_mode
  admin_role_arns     = var.admin_role_arns
  secrets_kms_key_arn = var.eks_kms_key_arn

  # The runner passes the iam stack's data key as cloudwatch_log_kms_key_arn; the gp3 StorageClass
  # (charts/mlplat-storage) encrypts EBS volumes with that same key, so the EBS CSI role may use it.
  ebs_csi_kms_key_arns = var.cloudwatch_log_kms_key_arn == null ? [] : [var.cloudwatch_log_kms_key_arn]

  addon_versions                   = var.addon_versions
  vpc_cni_enable_network_policy    = var.vpc_cni_enable_network_policy
  vpc_cni_enable_prefix_delegation = var.vpc_cni_enable_prefix_delegation

  tags = local.tags
}
