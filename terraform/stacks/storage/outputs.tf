output "efs_file_system_id" {
  description = "ID of the EFS file system for the model cache."
  value       = module.storage.efs_file_system_id
}

output "efs_access_point_id" {
  description = "ID of the EFS access point of the model cache (/model-cache, uid/gid 1000)."
  value       = module.storage.efs_access_point_id
}

output "efs_mount_target_ids" {
  description = "IDs of the EFS mount targets, one per private subnet."
  value       = module.storage.efs_mount_target_ids
}

output "model_bucket_name" {
  description = "Name of the S3 model bucket."
  value       = module.storage.model_bucket_name
}

output "model_bucket_arn" {
  description = "ARN of the S3 model bucket."
  value       = module.storage.model_bucket_arn
}

output "ecr_repository_urls" {
  description = "ECR repository URLs keyed by short repository name."
  value       = module.storage.ecr_repository_urls
}

output "triton_role_arn" {
  description = "ARN of the IRSA role for service account triton/triton."
  value       = module.triton_irsa.arn
}

output "log_shipping_role_arn" {
  description = "ARN of the IRSA role for service account observability/loki."
  value       = module.log_shipping_irsa.arn
}
