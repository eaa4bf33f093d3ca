locals {
  tags = merge(var.tags, {
    "mlplat:env"     = var.env
    "mlplat:cluster" = var.cluster_name
  })
}

module "nodegroups" {
  source = "../../modules/nodegroups"

  cluster_name       = var.cluster_name
  kubernetes_version = var.kubernetes_version
  subnet_ids         = var.private_subnet_ids

  node_security_group_id = var.node_security_group_id
  cpu_node_role_arn      = var.cpu_node_role_arn
  gpu_node_role_arn      = var.gpu_node_role_arn
  data_kms_key_arn       = var.data_kms_key_arn

  node_groups = var.node_groups

  # coredns and the EFS and EBS CSI drivers: their pods need nodes, so they are installed here, after
  # the node groups, not in the cluster stack. The CSI drivers' IRSA roles come from the cluster stack.
  addon_versions   = var.addon_versions
  efs_csi_role_arn = var.efs_csi_role_arn
  ebs_csi_role_arn = var.ebs_csi_role_arn

  # default_tags do not reach launch-template tag specifications: pass the stack tags explicitly.
  tags = local.tags
}
