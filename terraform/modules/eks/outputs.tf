output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = try(aws_eks_cluster.this.name, null)
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = try(aws_eks_cluster.this.arn, null)
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API server."
  value       = try(aws_eks_cluster.this.endpoint, null)
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate authority data of the cluster (for kubeconfig)."
  value       = try(aws_eks_cluster.this.certificate_authority[0].data, null)
}

output "cluster_version" {
  description = "Kubernetes version of the control plane."
  value       = try(aws_eks_cluster.this.version, null)
}

output "cluster_primary_security_group_id" {
  description = "ID of the security group EKS creates for the cluster (attached to control-plane ENIs and managed nodes without a custom security group)."
  value       = try(aws_eks_cluster.this.vpc_config[0].cluster_security_group_id, null)
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider of the cluster (IRSA trust policies reference it)."
  value       = try(aws_iam_openid_connect_provider.this.arn, null)
}

output "oidc_issuer_url" {
  description = "OIDC issuer URL of the cluster (https://oidc.eks.<region>.amazonaws.com/id/<id>)."
  value       = local.oidc_issuer_url
}

output "vpc_cni_role_arn" {
  description = "ARN of the IRSA role of the VPC CNI add-on (AmazonEKS_CNI_Policy)."
  value       = module.vpc_cni_irsa.arn
}

output "efs_csi_role_arn" {
  description = "ARN of the IRSA role of the EFS CSI driver add-on (AmazonEFSCSIDriverPolicy)."
  value       = module.efs_csi_irsa.arn
}

output "ebs_csi_role_arn" {
  description = "ARN of the IRSA role of the EBS CSI driver add-on (AmazonEBSCSIDriverPolicy, plus use of ebs_csi_kms_key_arns)."
  value       = module.ebs_csi_irsa.arn
}

output "cloudwatch_log_group_name" {
  description = "Name of the control-plane log group."
  value       = try(aws_cloudwatch_log_group.this.name, null)
}

output "addon_versions" {
  description = "Installed version of each managed add-on of this module (vpc-cni, kube-proxy, eks-pod-identity-agent), keyed by add-on name."
  value       = { for name, addon in aws_eks_addon.before_nodes : name => addon.addon_version }
}

output "admin_access_entry_principals" {
  description = "Principal ARNs that received a cluster-admin access entry (the creator excluded)."
  value       = sort([for entry in aws_eks_access_entry.this : entry.principal_arn])
}
