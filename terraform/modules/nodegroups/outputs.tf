output "node_group_names" {
  description = "EKS node group name, keyed by pool name."
  value       = { for key, group in aws_eks_node_group.this : key => try(group.node_group_name, null) }
}

output "node_group_arns" {
  description = "EKS node group ARN, keyed by pool name."
  value       = { for key, group in aws_eks_node_group.this : key => try(group.arn, null) }
}

output "launch_template_ids" {
  description = "Launch template ID, keyed by pool name."
  value       = { for key, lt in aws_launch_template.this : key => try(lt.id, null) }
}

output "launch_template_versions" {
  description = "Launch template version the node group runs, keyed by pool name."
  value       = { for key, lt in aws_launch_template.this : key => try(lt.latest_version, null) }
}

output "autoscaling_group_names" {
  description = "Auto Scaling groups EKS created for each node group, keyed by pool name."
  value       = { for key, group in aws_eks_node_group.this : key => try(group.resources[0].autoscaling_groups[*].name, []) }
}

output "addon_versions" {
  description = "Installed version of each managed add-on of this module (coredns, aws-efs-csi-driver, aws-ebs-csi-driver), keyed by add-on name."
  value       = { for name, addon in aws_eks_addon.after_nodes : name => addon.addon_version }
}
