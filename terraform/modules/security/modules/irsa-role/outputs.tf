output "arn" {
  description = "ARN of the IAM role (annotate the service account with `eks.amazonaws.com/role-arn`)."
  value       = try(aws_iam_role.this.arn, null)
}

output "name" {
  description = "Name of the IAM role."
  value       = try(aws_iam_role.this.name, null)
}

output "unique_id" {
  description = "Stable unique ID of the IAM role."
  value       = try(aws_iam_role.this.unique_id, null)
}

output "subjects" {
  description = "OIDC `sub` values the trust policy allows."
  value       = [for s in var.service_accounts : "system:serviceaccount:${s}"]
}
