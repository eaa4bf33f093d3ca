output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = module.eks.cluster_arn
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate authority data of the cluster."
  value       = module.eks.cluster_certificate_authority_data
}

output "cluster_version" {
  description = "Kubernetes version of the control plane."
  value       = module.eks.cluster_version
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (IRSA)."
  value       = module.eks.oidc_provider_arn
}

output "oidc_issuer_url" {
  description = "OIDC issuer URL of the cluster."
  value       = module.eks.oidc_issuer_url
}

output "cluster_primary_security_group_id" {
  description = "Security group EKS created for the cluster."
  value       = module.eks.cluster_primary_security_group_id
}

output "efs_csi_role_arn" {
  description = "IRSA role ARN of the EFS CSI driver add-on."
  value       = module.eks.efs_csi_role_arn
}

output "ebs_csi_role_arn" {
  description = "IRSA role ARN of the EBS CSI driver add-on (AmazonEBSCSIDriverPolicy, use of the data key)."
  value       = module.eks.ebs_csi_role_arn
}

output "vpc_cni_role_arn" {
  description = "IRSA role ARN of the VPC CNI add-on."
  value       = module.eks.vpc_cni_role_arn
}
