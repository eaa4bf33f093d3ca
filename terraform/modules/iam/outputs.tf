output "cluster_role_arn" {
  description = "ARN of the EKS cluster (control plane) role."
  value       = try(aws_iam_role.cluster.arn, null)
}

output "cluster_role_name" {
  description = "Name of the EKS cluster (control plane) role."
  value       = try(aws_iam_role.cluster.name, null)
}

output "node_role_arns" {
  description = "ARNs of the worker node roles, keyed by node role key (for example `cpu`, `gpu`)."
  value       = { for k, r in aws_iam_role.node : k => try(r.arn, null) }
}

output "node_role_names" {
  description = "Names of the worker node roles, keyed by node role key (for example `cpu`, `gpu`)."
  value       = { for k, r in aws_iam_role.node : k => try(r.name, null) }
}

output "attached_policy_arns" {
  description = "Managed policy ARNs attached to each role, keyed by `cluster` or node role key."
  value = merge(
    { cluster = values(local.cluster_policies) },
    { for r in var.node_roles : r => values(local.node_policies) },
  )
}
