output "arn" {
  description = "ARN of the secret."
  value       = try(aws_secretsmanager_secret.this.arn, null)
}

output "name" {
  description = "Name of the secret."
  value       = try(aws_secretsmanager_secret.this.name, null)
}

output "value_version" {
  description = "Version of the generated value currently written (the value itself is never exposed)."
  value       = try(aws_secretsmanager_secret_version.this.secret_string_wo_version, null)
}
