output "cluster_role_arn" {
  description = "ARN of the EKS cluster role."
  value       = module.iam.cluster_role_arn
}

output "cpu_node_role_arn" {
  description = "ARN of the CPU node group role."
  value       = module.iam.node_role_arns["cpu"]
}

output "gpu_node_role_arn" {
  description = "ARN of the GPU node group role."
  value       = module.iam.node_role_arns["gpu"]
}

output "cpu_node_role_name" {
  description = "Name of the CPU node group role."
  value       = module.iam.node_role_names["cpu"]
}

output "gpu_node_role_name" {
  description = "Name of the GPU node group role."
  value       = module.iam.node_role_names["gpu"]
}

output "eks_kms_key_arn" {
  description = "ARN of the KMS key for EKS secrets envelope encryption."
  value       = module.security.eks_kms_key_arn
}

output "data_kms_key_arn" {
  description = "ARN of the KMS key for platform data at rest (EBS, EFS, S3, ECR, Secrets Manager)."
  value       = module.security.data_kms_key_arn
}

output "grafana_admin_secret_arn" {
  description = "ARN of the Secrets Manager secret with the generated Grafana admin credentials."
  value       = module.grafana_admin_secret.arn
}

output "alertmanager_secret_arn" {
  description = "ARN of the Secrets Manager secret with the Alertmanager receiver credentials."
  value       = module.security.alertmanager_secret_arn
}
