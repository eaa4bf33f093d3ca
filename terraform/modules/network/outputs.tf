output "vpc_id" {
  description = "ID of the VPC."
  value       = try(aws_vpc.this.id, null)
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = try(aws_vpc.this.cidr_block, null)
}

output "azs" {
  description = "Availability zones used, in subnet order."
  value       = var.azs
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in the order of `azs`."
  value       = try(aws_subnet.private[*].id, [])
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, in the order of `azs`."
  value       = try(aws_subnet.public[*].id, [])
}

output "private_route_table_ids" {
  description = "IDs of the private route tables, one per availability zone."
  value       = try(aws_route_table.private[*].id, [])
}

output "public_route_table_id" {
  description = "ID of the public route table."
  value       = try(aws_route_table.public.id, null)
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways (one, or one per availability zone)."
  value       = try(aws_nat_gateway.this[*].id, [])
}

output "nat_public_ips" {
  description = "Public IPv4 addresses of the NAT gateways (the cluster's egress addresses)."
  value       = try(aws_eip.nat[*].public_ip, [])
}

output "s3_vpc_endpoint_id" {
  description = "ID of the S3 gateway VPC endpoint."
  value       = try(aws_vpc_endpoint.s3.id, null)
}

output "cluster_security_group_id" {
  description = "ID of the additional security group for the EKS control plane ENIs."
  value       = try(aws_security_group.cluster.id, null)
}

output "node_security_group_id" {
  description = "ID of the security group shared by all EKS worker nodes."
  value       = try(aws_security_group.node.id, null)
}

output "efs_security_group_id" {
  description = "ID of the security group for EFS mount targets (NFS from the node security group only)."
  value       = try(aws_security_group.efs.id, null)
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch log group receiving the VPC flow logs."
  value       = try(aws_cloudwatch_log_group.flow_log.name, null)
}

output "flow_log_kms_key_arn" {
  description = "ARN of the KMS key encrypting the VPC flow log group."
  value       = try(aws_cloudwatch_log_group.flow_log.kms_key_id, null)
}
