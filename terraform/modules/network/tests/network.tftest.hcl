# Plan/apply the network module against a mocked AWS provider: no
# credentials, no network access, only Terraform's own evaluation.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/terraform-test"
      user_id    = "AIDAEXAMPLEUSERID0001"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mlplat-test-vpc-flow-log"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/0b1e4a8c-1111-2222-3333-444455556666"
      key_id = "0b1e4a8c-1111-2222-3333-444455556666"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-log/mlplat-test"
    }
  }
}

variables {
  name                 = "mlplat-test"
  cluster_name         = "mlplat-test"
  vpc_cidr             = "10.10.0.0/16"
  azs                  = ["us-east-1a", "us-east-1b", "us-east-1c"]
  private_subnet_cidrs = ["10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"]
  public_subnet_cidrs  = ["10.10.96.0/22", "10.10.100.0/22", "10.10.104.0/22"]
  single_nat_gateway   = false
  tags = {
    "mlplat:env"     = "test"
    "mlplat:cluster" = "mlplat-test"
  }
}

run "nat_gateway_per_az_and_security_groups" {
  command   = apply
  state_key = "per_az"

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_eip.nat) == 3
    error_message = "One NAT gateway and one EIP per availability zone are expected."
  }

  assert {
    condition     = length(distinct(aws_route.private_nat[*].nat_gateway_id)) == 3
    error_message = "Each private route table must route through the NAT gateway of its own AZ."
  }

  assert {
    condition     = tolist(aws_nat_gateway.this[*].subnet_id) == tolist(aws_subnet.public[*].id)
    error_message = "NAT gateways must sit in the public subnets, one per AZ."
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && length(aws_subnet.public) == 3 && tolist(aws_subnet.private[*].availability_zone) == var.azs && tolist(aws_subnet.public[*].availability_zone) == var.azs
    error_message = "One private and one public subnet per AZ, in AZ order, are expected."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.tags["kubernetes.io/role/elb"] == "1" && !contains(keys(s.tags), "kubernetes.io/role/internal-elb")])
    error_message = "Public subnets must carry kubernetes.io/role/elb=1 (and not the internal-elb tag)."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : s.tags["kubernetes.io/role/internal-elb"] == "1" && !contains(keys(s.tags), "kubernetes.io/role/elb")])
    error_message = "Private subnets must carry kubernetes.io/role/internal-elb=1 (and not the elb tag)."
  }

  assert {
    condition     = alltrue([for s in concat(aws_subnet.public, aws_subnet.private) : s.tags["kubernetes.io/cluster/mlplat-test"] == "shared"])
    error_message = "Every subnet must carry kubernetes.io/cluster/<cluster>=shared."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "Public subnets must not hand out public IPs automatically."
  }

  assert {
    condition     = aws_vpc.this.enable_dns_hostnames && aws_vpc.this.enable_dns_support
    error_message = "DNS hostnames and DNS support must be enabled on the VPC (EKS requires both)."
  }

  assert {
    condition     = aws_route.public_internet.gateway_id == aws_internet_gateway.this.id && aws_route.public_internet.destination_cidr_block == "0.0.0.0/0"
    error_message = "The public route table must send 0.0.0.0/0 to the internet gateway."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && toset(aws_vpc_endpoint.s3.route_table_ids) == toset(aws_route_table.private[*].id)
    error_message = "The S3 gateway endpoint must be attached to every private route table."
  }

  assert {
    condition = alltrue([
      for st in jsondecode(aws_vpc_endpoint.s3.policy).Statement :
      !contains(flatten([st.Action]), "*") && !contains(flatten([st.Action]), "s3:*")
    ])
    error_message = "The S3 endpoint policy must list actions, not * or s3:*."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.service_name == "com.amazonaws.us-east-1.s3"
    error_message = "The S3 endpoint must target the S3 service of the current region."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no rules."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_log.kms_key_id == aws_kms_key.flow_log[0].arn && aws_kms_key.flow_log[0].enable_key_rotation
    error_message = "The flow log group must be encrypted with a rotating customer managed key."
  }

  assert {
    condition = anytrue([
      for st in jsondecode(aws_kms_key.flow_log[0].policy).Statement :
      try(st.Principal.Service, "") == "logs.us-east-1.amazonaws.com"
      && try(st.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"], "") == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vpc-flow-log/mlplat-test"
    ])
    error_message = "The flow log key must let CloudWatch Logs use it for the flow log group only."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination == aws_cloudwatch_log_group.flow_log.arn
    error_message = "VPC flow logs must capture all traffic into the module's log group."
  }
  # EFS: exactly one ingress rule, NFS from the node security group only.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.efs_from_node_nfs.security_group_id == aws_security_group.efs.id
      && aws_vpc_security_group_ingress_rule.efs_from_node_nfs.ip_protocol == "tcp"
      && aws_vpc_security_group_ingress_rule.efs_from_node_nfs.from_port == 2049
      && aws_vpc_security_group_ingress_rule.efs_from_node_nfs.to_port == 2049
      && aws_vpc_security_group_ingress_rule.efs_from_node_nfs.referenced_security_group_id == aws_security_group.node.id
      && aws_vpc_security_group_ingress_rule.efs_from_node_nfs.cidr_ipv4 == null
    )
    error_message = "The EFS security group must allow NFS (tcp/2049) from the node security group only."
  }

  assert {
    condition = (
      alltrue([for r in values(aws_vpc_security_group_ingress_rule.node) : r.security_group_id != aws_security_group.efs.id])
      && aws_vpc_security_group_ingress_rule.cluster_from_node_443.security_group_id != aws_security_group.efs.id
      && alltrue([for r in concat(values(aws_vpc_security_group_egress_rule.node), values(aws_vpc_security_group_egress_rule.cluster)) : r.security_group_id != aws_security_group.efs.id])
    )
    error_message = "No other rule may be attached to the EFS security group."
  }

  assert {
    condition     = length(aws_security_group.efs.ingress) == 0 && length(aws_security_group.efs.egress) == 0
    error_message = "The EFS security group must not carry inline rules."
  }

  # Control plane <-> nodes.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.cluster_from_node_443.security_group_id == aws_security_group.cluster.id
      && aws_vpc_security_group_ingress_rule.cluster_from_node_443.from_port == 443
      && aws_vpc_security_group_ingress_rule.cluster_from_node_443.referenced_security_group_id == aws_security_group.node.id
    )
    error_message = "Nodes must reach the cluster API on 443."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.node["cluster_kubelet"].from_port == 10250
      && aws_vpc_security_group_ingress_rule.node["cluster_kubelet"].referenced_security_group_id == aws_security_group.cluster.id
      && aws_vpc_security_group_ingress_rule.node["cluster_443"].from_port == 443
      && aws_vpc_security_group_ingress_rule.node["cluster_ephemeral"].from_port == 1025
      && aws_vpc_security_group_ingress_rule.node["cluster_ephemeral"].to_port == 65535
      && aws_vpc_security_group_ingress_rule.node["self_all"].referenced_security_group_id == aws_security_group.node.id
    )
    error_message = "Nodes must accept 443, 10250 and ephemeral ports from the cluster and all traffic from each other."
  }

  # No ingress from the internet anywhere.
  assert {
    condition = alltrue([
      for r in concat(values(aws_vpc_security_group_ingress_rule.node), [aws_vpc_security_group_ingress_rule.cluster_from_node_443, aws_vpc_security_group_ingress_rule.efs_from_node_nfs]) :
      r.cidr_ipv4 == null && r.cidr_ipv6 == null
    ])
    error_message = "No ingress rule may be open to a CIDR range."
  }

  # Only HTTPS leaves the VPC.
  assert {
    condition = alltrue([
      for r in values(aws_vpc_security_group_egress_rule.node) :
      r.cidr_ipv4 != "0.0.0.0/0" || (r.ip_protocol == "tcp" && r.from_port == 443 && r.to_port == 443)
    ])
    error_message = "Node egress to 0.0.0.0/0 must be limited to tcp/443."
  }
  assert {
    condition = alltrue([
      for t in concat(
        [
          aws_vpc.this.tags, aws_default_security_group.this.tags, aws_internet_gateway.this.tags,
          aws_route_table.public.tags, aws_vpc_endpoint.s3.tags, aws_cloudwatch_log_group.flow_log.tags,
          aws_iam_role.flow_log.tags, aws_flow_log.this.tags, aws_security_group.cluster.tags, aws_kms_key.flow_log[0].tags,
          aws_security_group.node.tags, aws_security_group.efs.tags,
          aws_vpc_security_group_ingress_rule.cluster_from_node_443.tags,
          aws_vpc_security_group_ingress_rule.efs_from_node_nfs.tags,
        ],
        aws_subnet.public[*].tags, aws_subnet.private[*].tags, aws_eip.nat[*].tags,
        aws_nat_gateway.this[*].tags, aws_route_table.private[*].tags,
        [for r in values(aws_vpc_security_group_ingress_rule.node) : r.tags],
        [for r in values(aws_vpc_security_group_egress_rule.node) : r.tags],
        [for r in values(aws_vpc_security_group_egress_rule.cluster) : r.tags],
      ) : t["mlplat:env"] == "test" && t["mlplat:cluster"] == "mlplat-test"
    ])
    error_message = "Every taggable resource must carry mlplat:env and mlplat:cluster."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.flow_log.policy).Statement :
      !(contains(flatten([s.Action]), "*") && contains(flatten([s.Resource]), "*"))
    ])
    error_message = "The flow log policy must not allow * on *."
  }
}

run "single_nat_gateway" {
  command   = apply
  state_key = "single"

  variables {
    single_nat_gateway = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1
    error_message = "single_nat_gateway must create exactly one NAT gateway and one EIP."
  }

  assert {
    condition     = length(aws_route.private_nat) == 3 && length(distinct(aws_route.private_nat[*].nat_gateway_id)) == 1
    error_message = "Every private route table must use the single NAT gateway."
  }

  assert {
    condition     = length(aws_route_table.private) == 3
    error_message = "Private route tables stay one per AZ with a single NAT gateway."
  }
}

run "rejects_subnet_lists_not_one_per_az" {
  command = plan

  variables {
    public_subnet_cidrs  = ["10.10.96.0/22", "10.10.100.0/22"]
    private_subnet_cidrs = ["10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19", "10.10.128.0/19"]
  }

  expect_failures = [var.public_subnet_cidrs, var.private_subnet_cidrs]
}

run "rejects_single_az" {
  command = plan

  variables {
    azs                  = ["us-east-1a"]
    private_subnet_cidrs = ["10.10.0.0/19"]
    public_subnet_cidrs  = ["10.10.96.0/22"]
  }

  expect_failures = [var.azs]
}

run "rejects_invalid_cidrs" {
  command = plan

  variables {
    vpc_cidr             = "10.10.0.0/33"
    private_subnet_cidrs = ["10.10.0.0/19", "not-a-cidr", "10.10.64.0/19"]
  }

  expect_failures = [var.vpc_cidr, var.private_subnet_cidrs]
}
