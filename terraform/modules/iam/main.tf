data "aws_partition" "current" {}

locals {
  policy_prefix = "arn:${data.aws_partition.current.partition}:iam::aws:policy"

  cluster_policies = {
    AmazonEKSClusterPolicy         = "${local.policy_prefix}/AmazonEKSClusterPolicy"
    AmazonEKSVPCResourceController = "${local.policy_prefix}/AmazonEKSVPCResourceController"
  }

  # No AmazonEKS_CNI_Policy here: the VPC CNI gets its own IRSA role in the
  # cluster phase, so pods cannot borrow the node role to manage ENIs.
  node_policies = {
    AmazonEKSWorkerNodePolicy          = "${local.policy_prefix}/AmazonEKSWorkerNodePolicy"
    AmazonEC2ContainerRegistryReadOnly = "${local.policy_prefix}/AmazonEC2ContainerRegistryReadOnly"
    AmazonSSMManagedInstanceCore       = "${local.policy_prefix}/AmazonSSMManagedInstanceCore"
  }

  node_policy_attachments = {
    for pair in setproduct(var.node_roles, keys(local.node_policies)) :
    "${pair[0]}/${pair[1]}" => {
      role       = pair[0]
      policy_arn = local.node_policies[pair[1]]
    }
  }
}

################################################################################
# EKS cluster role
################################################################################

resource "aws_iam_role" "cluster" {
  name                 = "${var.name}-eks-cluster"
  path                 = var.path
  description          = "EKS control plane role of ${var.name}"
  permissions_boundary = var.permissions_boundary_arn

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EKSClusterAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-eks-cluster" })
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = local.cluster_policies

  role       = aws_iam_role.cluster.name
  policy_arn = each.value
}

################################################################################
# Worker node roles
################################################################################

resource "aws_iam_role" "node" {
  for_each = var.node_roles

  name                 = "${var.name}-${each.key}-node"
  path                 = var.path
  description          = "EKS ${each.key} worker node role of ${var.name}"
  permissions_boundary = var.permissions_boundary_arn

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EC2AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-${each.key}-node" })
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = local.node_policy_attachments

  role       = aws_iam_role.node[each.value.role].name
  policy_arn = each.value.policy_arn
}
