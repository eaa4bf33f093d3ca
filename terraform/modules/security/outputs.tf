output "eks_kms_key_arn" {
  description = "ARN of the KMS key for EKS secrets envelope encryption."
  value       = try(aws_kms_key.eks.arn, null)
}

output "eks_kms_key_id" {
  description = "ID of the KMS key for EKS secrets envelope encryption."
  value       = try(aws_kms_key.eks.key_id, null)
}

output "eks_kms_alias_name" {
  description = "Alias of the EKS secrets encryption key."
  value       = try(aws_kms_alias.eks.name, null)
}

output "data_kms_key_arn" {
  description = "ARN of the KMS key for platform data at rest (EBS, EFS, S3, ECR, Secrets Manager, CloudWatch Logs)."
  value       = try(aws_kms_key.data.arn, null)
}

output "data_kms_key_id" {
  description = "ID of the KMS key for platform data at rest."
  value       = try(aws_kms_key.data.key_id, null)
}

output "data_kms_alias_name" {
  description = "Alias of the data key."
  value       = try(aws_kms_alias.data.name, null)
}

output "alertmanager_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the Alertmanager receiver credentials (JSON)."
  value       = try(aws_secretsmanager_secret.alertmanager.arn, null)
}

output "alertmanager_secret_name" {
  description = "Name of the Secrets Manager secret holding the Alertmanager receiver credentials."
  value       = try(aws_secretsmanager_secret.alertmanager.name, null)
}
