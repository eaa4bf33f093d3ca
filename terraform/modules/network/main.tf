data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  az_count  = length(var.azs)
  nat_count = var.single_nat_gateway ? 1 : local.az_count

  cluster_tag = { "kubernetes.io/cluster/${var.cluster_name}" = "shared" }

  # Security group rules between the EKS control plane, the worker nodes and
  # EFS. Every rule references another security group (or the VPC CIDR for
  # DNS); the only internet-bound rule is HTTPS egress from the nodes.
  node_ingress_rules = {
    self_all = {
      description                  = "Node to node: all traffic (pod networking, CoreDNS, kube-proxy)"
      ip_protocol                  = "-1"
      from_port                    = null
      to_port                      = null
      referenced_security_group_id = aws_security_group.node.id
    }
    cluster_443 = {
      description                  = "Cluster API to node: HTTPS (admission webhooks, metrics-server)"
      ip_protocol                  = "tcp"
      from_port                    = 443
      to_port                      = 443
      referenced_security_group_id = aws_security_group.cluster.id
    }
    cluster_kubelet = {
      description                  = "Cluster API to node: kubelet"
      ip_protocol                  = "tcp"
      from_port                    = 10250
      to_port                      = 10250
      referenced_security_group_id = aws_security_group.cluster.id
    }
    cluster_ephemeral = {
      description                  = "Cluster API to node: ephemeral ports (webhooks and extension API servers)"
      ip_protocol                  = "tcp"
      from_port                    = 1025
      to_port                      = 65535
      referenced_security_group_id = aws_security_group.cluster.id
    }
  }

  node_egress_rules = {
    self_all = {
      description                  = "Node to node: all traffic"
      ip_protocol                  = "-1"
      from_port                    = null
      to_port                      = null
      referenced_security_group_id = aws_security_group.node.id
      cidr_ipv4                    = null
    }
    cluster_443 = {
      description                  = "Node to cluster API: HTTPS"
      ip_protocol                  = "tcp"
      from_port                    = 443
      to_port                      = 443
      referenced_security_group_id = aws_security_group.cluster.id
      cidr_ipv4                    = null
    }
    efs_nfs = {
      description                  = "Node to EFS mount targets: NFS"
      ip_protocol                  = "tcp"
      from_port                    = 2049
      to_port                      = 2049
      referenced_security_group_id = aws_security_group.efs.id
      cidr_ipv4                    = null
    }
    dns_udp = {
      description                  = "Node to the VPC resolver: DNS over UDP"
      ip_protocol                  = "udp"
      from_port                    = 53
      to_port                      = 53
      referenced_security_group_id = null
      cidr_ipv4                    = var.vpc_cidr
    }
    dns_tcp = {
      description                  = "Node to the VPC resolver: DNS over TCP"
      ip_protocol                  = "tcp"
      from_port                    = 53
      to_port                      = 53
      referenced_security_group_id = null
      cidr_ipv4                    = var.vpc_cidr
    }
    https_internet = {
      description                  = "Node to AWS APIs, ECR, S3 and container registries: HTTPS through the NAT gateways and VPC endpoints"
      ip_protocol                  = "tcp"
      from_port                    = 443
      to_port                      = 443
      referenced_security_group_id = null
      cidr_ipv4                    = "0.0.0.0/0"
    }
  }

  cluster_egress_rules = {
    node_443 = {
      description = "Cluster API to node: HTTPS"
      from_port   = 443
      to_port     = 443
    }
    node_kubelet = {
      description = "Cluster API to node: kubelet"
      from_port   = 10250
      to_port     = 10250
    }
    node_ephemeral = {
      description = "Cluster API to node: ephemeral ports (webhooks and extension API servers)"
      from_port   = 1025
      to_port     = 65535
    }
  }
}

################################################################################
# VPC
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_hostnames = true
  enable_dns_support   = true

  tags = merge(var.tags, { Name = var.name })
}

# Take over the default security group and strip every rule from it so that
# nothing can be attached to an open group by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

################################################################################
# Subnets
################################################################################

resource "aws_subnet" "public" {
  count = local.az_count

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.public_subnet_cidrs[count.index]
  availability_zone       = var.azs[count.index]
  map_public_ip_on_launch = false

  tags = merge(var.tags, local.cluster_tag, {
    Name                     = "${var.name}-public-${var.azs[count.index]}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_subnet" "private" {
  count = local.az_count

  vpc_id            = aws_vpc.this.id
  cidr_block        = var.private_subnet_cidrs[count.index]
  availability_zone = var.azs[count.index]

  tags = merge(var.tags, local.cluster_tag, {
    Name                              = "${var.name}-private-${var.azs[count.index]}"
    "kubernetes.io/role/internal-elb" = "1"
  })
}

################################################################################
# NAT gateways
################################################################################

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat-${var.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = merge(var.tags, { Name = "${var.name}-nat-${var.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

################################################################################
# Routing
################################################################################

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = local.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  count = local.az_count

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-private-${var.azs[count.index]}" })
}

resource "aws_route" "private_nat" {
  count = local.az_count

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private" {
  count = local.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# S3 traffic (model downloads, Loki chunks, ECR layers) stays on the AWS
# network and skips the NAT gateway data processing charge. The endpoint
# policy only lets object-level calls through: bucket administration is done
# by Terraform from outside the VPC. Which buckets a pod may reach is still
# decided by IAM and bucket policies (ECR layers and OS repositories live in
# AWS-owned buckets, so the resource cannot be narrowed to this account).
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ObjectAccessFromTheVpc"
      Effect    = "Allow"
      Principal = "*"
      Action    = var.s3_endpoint_allowed_actions
      Resource  = "*"
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

################################################################################
# VPC flow logs (CloudWatch Logs, encrypted with a customer managed key)
################################################################################

locals {
  flow_log_group_name = "/aws/vpc-flow-log/${var.name}"
  flow_log_group_arn  = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.flow_log_group_name}"
  create_flow_log_key = var.flow_log_kms_key_arn == null
}

# The network phase runs before the platform's KMS keys exist (iam phase), so
# the flow log group gets a small key of its own unless one is passed in.
resource "aws_kms_key" "flow_log" {
  count = local.create_flow_log_key ? 1 : 0

  description             = "${var.name}: VPC flow log encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnableAccountRootAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsForTheFlowLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.flow_log_group_arn }
        }
      },
    ]
  })

  tags = merge(var.tags, { Name = "${var.name}-vpc-flow-log" })
}

resource "aws_kms_alias" "flow_log" {
  count = local.create_flow_log_key ? 1 : 0

  name          = "alias/${var.name}-vpc-flow-log"
  target_key_id = aws_kms_key.flow_log[0].key_id
}

resource "aws_cloudwatch_log_group" "flow_log" {
  name              = local.flow_log_group_name
  retention_in_days = var.flow_log_retention_in_days
  kms_key_id        = local.create_flow_log_key ? aws_kms_key.flow_log[0].arn : var.flow_log_kms_key_arn

  tags = merge(var.tags, { Name = "${var.name}-flow-log" })
}

resource "aws_iam_role" "flow_log" {
  name = "${var.name}-vpc-flow-log"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "VpcFlowLogsAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-vpc-flow-log" })
}

resource "aws_iam_role_policy" "flow_log" {
  name = "vpc-flow-log-delivery"
  role = aws_iam_role.flow_log.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "DeliverToOwnLogGroup"
      Effect = "Allow"
      Action = [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
      ]
      Resource = [
        aws_cloudwatch_log_group.flow_log.arn,
        "${aws_cloudwatch_log_group.flow_log.arn}:log-stream:*",
      ]
    }]
  })
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_log.arn
  iam_role_arn             = aws_iam_role.flow_log.arn
  max_aggregation_interval = 600

  tags = merge(var.tags, { Name = var.name })
}

################################################################################
# Security groups
################################################################################

resource "aws_security_group" "cluster" {
  name        = "${var.name}-cluster"
  description = "EKS control plane ENIs of ${var.cluster_name}: API access from the worker nodes"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-cluster" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "node" {
  name        = "${var.name}-node"
  description = "EKS worker nodes of ${var.cluster_name}"
  vpc_id      = aws_vpc.this.id

  # The AWS Load Balancer Controller looks for exactly one security group
  # carrying the cluster tag on each node ENI.
  tags = merge(var.tags, local.cluster_tag, { Name = "${var.name}-node" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-efs"
  description = "EFS mount targets of ${var.cluster_name}: NFS from the worker nodes only"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-efs" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "cluster_from_node_443" {
  security_group_id            = aws_security_group.cluster.id
  description                  = "Worker nodes to cluster API: HTTPS"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.node.id

  tags = merge(var.tags, { Name = "${var.name}-cluster-from-node-443" })
}

resource "aws_vpc_security_group_egress_rule" "cluster" {
  for_each = local.cluster_egress_rules

  security_group_id            = aws_security_group.cluster.id
  description                  = each.value.description
  ip_protocol                  = "tcp"
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
  referenced_security_group_id = aws_security_group.node.id

  tags = merge(var.tags, { Name = "${var.name}-cluster-${replace(each.key, "_", "-")}" })
}

resource "aws_vpc_security_group_ingress_rule" "node" {
  for_each = local.node_ingress_rules

  security_group_id            = aws_security_group.node.id
  description                  = each.value.description
  ip_protocol                  = each.value.ip_protocol
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
  referenced_security_group_id = each.value.referenced_security_group_id

  tags = merge(var.tags, { Name = "${var.name}-node-in-${replace(each.key, "_", "-")}" })
}

resource "aws_vpc_security_group_egress_rule" "node" {
  for_each = local.node_egress_rules

  security_group_id            = aws_security_group.node.id
  description                  = each.value.description
  ip_protocol                  = each.value.ip_protocol
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
  referenced_security_group_id = each.value.referenced_security_group_id
  cidr_ipv4                    = each.value.cidr_ipv4

  tags = merge(var.tags, { Name = "${var.name}-node-out-${replace(each.key, "_", "-")}" })
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_node_nfs" {
  security_group_id            = aws_security_group.efs.id
  description                  = "Worker nodes to EFS: NFS"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.node.id

  tags = merge(var.tags, { Name = "${var.name}-efs-from-node-nfs" })
}
