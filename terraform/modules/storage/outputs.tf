output "efs_file_system_id" {
  description = "ID of the EFS file system (the EFS CSI driver's `fileSystemId`)."
  value       = try(aws_efs_file_system.this.id, null)
}

output "efs_file_system_arn" {
  description = "ARN of the EFS file system."
  value       = try(aws_efs_file_system.this.arn, null)
}

output "efs_access_point_id" {
  description = "ID of the model cache access point (volume handle `<fs id>::<access point id>`)."
  value       = try(aws_efs_access_point.model_cache.id, null)
}

output "efs_mount_target_ids" {
  description = "IDs of the EFS mount targets, in the order of private_subnet_ids."
  value       = try(aws_efs_mount_target.this[*].id, [])
}

output "model_bucket_name" {
  description = "Name of the S3 model bucket."
  value       = try(aws_s3_bucket.this.id, null)
}

output "model_bucket_arn" {
  description = "ARN of the S3 model bucket."
  value       = try(aws_s3_bucket.this.arn, null)
}

output "model_prefix" {
  description = "Key prefix of the model repository in the bucket."
  value       = var.model_prefix
}

output "log_prefix" {
  description = "Key prefix of the Loki data in the bucket."
  value       = var.log_prefix
}

output "ecr_repository_urls" {
  description = "ECR repository URLs keyed by the short repository name given in ecr_repositories."
  value       = { for k, r in aws_ecr_repository.this : k => try(r.repository_url, null) }
}

output "ecr_repository_arns" {
  description = "ECR repository ARNs keyed by the short repository name given in ecr_repositories."
  value       = { for k, r in aws_ecr_repository.this : k => try(r.arn, null) }
}

output "triton_policy_json" {
  description = "IAM policy (JSON) for Triton: list and read the model prefix, decrypt through S3."
  value       = jsonencode(local.triton_policy)
}

output "log_shipping_policy_json" {
  description = "IAM policy (JSON) for Loki: list, read, write and delete under the log prefix, encrypt and decrypt through S3."
  value       = jsonencode(local.log_shipping_policy)
}
