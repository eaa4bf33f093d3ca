output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = module.network.vpc_cidr
}

output "azs" {
  description = "Availability zones used, in subnet order."
  value       = module.network.azs
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (nodes, internal load balancers, EFS mount targets)."
  value       = module.network.private_subnet_ids
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (NAT gateways, internet-facing load balancers)."
  value       = module.network.public_subnet_ids
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways."
  value       = module.network.nat_gateway_ids
}

output "cluster_security_group_id" {
  description = "ID of the additional security group for the EKS control plane."
  value       = module.network.cluster_security_group_id
}

output "node_security_group_id" {
  description = "ID of the security group shared by the EKS worker nodes."
  value       = module.network.node_security_group_id
}

output "efs_security_group_id" {
  description = "ID of the security group of the EFS mount targets."
  value       = module.network.efs_security_group_id
}
