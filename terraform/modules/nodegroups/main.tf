locals {
  # Kubernetes taint effects -> EKS API enum.
  taint_effects = {
    NoSchedule       = "NO_SCHEDULE"
    PreferNoSchedule = "PREFER_NO_SCHEDULE"
    NoExecute        = "NO_EXECUTE"
  }

  # Node group and launch template names (node group names are limited to 63 characters).
  names = { for key, _ in var.node_groups : key => "${substr(var.cluster_name, 0, 50)}-${key}" }

  # Managed add-ons whose pods need nodes: coredns and the EFS and EBS CSI controllers are Deployments
  # that stay DEGRADED (and make the provider wait, then time out) until nodes run them, so they are
  # installed here, after the node groups. The DaemonSet add-ons (vpc-cni, kube-proxy,
  # eks-pod-identity-agent) come with the cluster (modules/eks): nodes need vpc-cni to become Ready.
  addons = {
    "coredns" = {
      service_account_role_arn = null
    }
    "aws-efs-csi-driver" = {
      service_account_role_arn = var.efs_csi_role_arn
    }
    "aws-ebs-csi-driver" = {
      service_account_role_arn = var.ebs_csi_role_arn
    }
  }
}

resource "aws_launch_template" "this" {
  for_each = var.node_groups

  name                   = local.names[each.key]
  description            = "Nodes of the ${each.key} node group of EKS cluster ${var.cluster_name}."
  update_default_version = true

  # EKS adds the bootstrap user data and picks the AMI from the node group's ami_type:
  # this template sets neither image_id nor instance_type.
  vpc_security_group_ids = [var.node_security_group_id]

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = each.value.disk_size_gib
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.data_kms_key_arn
      delete_on_termination = true
    }
  }

  # IMDSv2 only. Hop limit 2 so that pods (one network hop further) still reach IMDS.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
    instance_metadata_tags      = "disabled"
  }

  dynamic "tag_specifications" {
    for_each = toset(["instance", "volume", "network-interface"])

    content {
      resource_type = tag_specifications.value
      tags          = merge(var.tags, { Name = local.names[each.key], "mlplat:node-group" = each.key })
    }
  }

  tags = merge(var.tags, { "mlplat:node-group" = each.key })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_eks_node_group" "this" {
  for_each = var.node_groups

  cluster_name    = var.cluster_name
  node_group_name = local.names[each.key]
  node_role_arn   = each.value.gpu ? var.gpu_node_role_arn : var.cpu_node_role_arn
  subnet_ids      = var.subnet_ids
  version         = var.kubernetes_version

  ami_type       = each.value.gpu ? "AL2023_x86_64_NVIDIA" : "AL2023_x86_64_STANDARD"
  capacity_type  = each.value.capacity_type
  instance_types = each.value.instance_types

  labels = each.value.labels

  dynamic "taint" {
    for_each = each.value.taints

    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = local.taint_effects[taint.value.effect]
    }
  }

  scaling_config {
    min_size     = each.value.min_size
    desired_size = each.value.desired_size
    max_size     = each.value.max_size
  }

  update_config {
    max_unavailable_percentage = var.max_unavailable_percentage
  }

  launch_template {
    id      = aws_launch_template.this[each.key].id
    version = aws_launch_template.this[each.key].latest_version
  }

  tags = merge(var.tags, { "mlplat:node-group" = each.key })

  lifecycle {
    # The cluster autoscaler (or an operator) owns the current size once the group exists.
    ignore_changes = [scaling_config[0].desired_size]
  }
}

################################################################################
# Managed add-ons that need nodes (after the node groups)
################################################################################

resource "aws_eks_addon" "after_nodes" {
  for_each = local.addons

  cluster_name                = var.cluster_name
  addon_name                  = each.key
  addon_version               = var.addon_versions[each.key]
  service_account_role_arn    = each.value.service_account_role_arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  # Created once the node groups are ACTIVE (their nodes have joined), so the add-on pods can be
  # scheduled and the add-on reaches ACTIVE; destroyed before the node groups.
  depends_on = [aws_eks_node_group.this]
}
